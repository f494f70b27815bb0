/* HDF5 inputs of the fuzz harnesses: bytes opened as a file image in memory, open handles counted. */
#ifndef ECG_TESTS_FUZZ_H5_H
#define ECG_TESTS_FUZZ_H5_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "core/params.h"

/* Opens the bytes read-only as an HDF5 file through the core driver (H5Pset_fapl_core with
 * H5Pset_file_image: nothing is read from or written to disk).  Returns H5I_INVALID_HID, with HDF5's error
 * stack cleared, when HDF5 refuses them. */
hid_t fuzz_h5_open_image(const uint8_t *data, size_t size);

/* Closes the file after the code under test is done with it; aborts when that code left a handle of it
 * open (a leak the next request would pay for). */
void fuzz_h5_close_checked(hid_t file);

/* The model the Keras and checkpoint seeds are for (tests/fuzz/gen_seeds.py): stem_conv/kernel (3, 3,
 * stem_in, 4), the four stem_bn vectors of 4, predictions/kernel (4, 2) and predictions/bias (2), bound.
 * Aborts on failure (the harness's own). */
void fuzz_h5_store(struct ecg_params *p, int64_t stem_in);

#endif
