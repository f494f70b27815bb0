/* The CACHET-CADB short reader on an HDF5 file that is already open (a file image in memory, say). */
#ifndef ECG_DATA_CACHET_H5_H
#define ECG_DATA_CACHET_H5_H

#include <hdf5.h>

#include "core/error.h"
#include "data/readers.h"

/* ecg_cachet_read_short on an open file: the same checks and messages, with `path` naming the file in them.
 * The caller keeps `file` open until it returns and closes it. */
int ecg_cachet_read_short_open(hid_t file, const char *path, const struct ecg_read_options *opt,
                               struct ecg_dataset *ds, struct ecg_error *err);

#endif
