/* Atomic replacement of an HDF5 file: built in memory, written whole with ecg_file_replace(). */
#ifndef ECG_IO_H5_ATOMIC_H
#define ECG_IO_H5_ATOMIC_H

#include <hdf5.h>
#include <stddef.h>

#include "core/error.h"

/*
 * Atomic replacement of a file: the file is built in memory (HDF5's core
 * driver, no backing store) and commit writes its image with
 * ecg_file_replace() (core/file.h): "<path>.tmp", fsync, rename over
 * `path`, fsync of the directory.  A crash or a kill at any moment leaves
 * either the old or the new file at `path`, never a part; a full or failing
 * disk is one ECG_ERR_IO message naming `path` and the system's reason, and
 * `path` is untouched.  HDF5 itself never sees a disk error.
 *
 * begin starts an empty file of about `expected_bytes` (its datasets' bytes: the
 * memory file grows by that much at a time, so a large file is not copied at
 * every step; 0 for a small file); edit starts from a copy of the existing file
 * at `path` (for changing an attribute, say).  Messages of the ecg_h5
 * helpers name `path` ("<path> (in memory)" after edit).  commit and abort
 * close the memory file; after a failed begin or edit, abort is a no-op.
 * The memory file and the image taken from it are two copies of the file
 * in memory while commit runs.
 */
struct ecg_h5_atomic {
    hid_t file;
    char path[4096];
};
int ecg_h5_atomic_begin(struct ecg_h5_atomic *a, const char *path, size_t expected_bytes, struct ecg_error *err);
int ecg_h5_atomic_edit(struct ecg_h5_atomic *a, const char *path, struct ecg_error *err);
int ecg_h5_atomic_commit(struct ecg_h5_atomic *a, struct ecg_error *err);
void ecg_h5_atomic_abort(struct ecg_h5_atomic *a);

#endif
