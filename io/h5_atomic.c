/* Atomic replacement of an HDF5 file (io/h5_atomic.h). */
#include "io/h5_atomic.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "io/h5util.h"

/* Files built in memory (the core driver without a backing store): HDF5 never writes to disk, so
 * a full or failing disk reaches ecg_file_replace() alone, which reports it (HDF5 1.10 can crash
 * closing a file whose writes failed).  The driver grows its buffer by `expected_bytes` plus 1 MiB
 * for the metadata at a time: grown by 1 MiB steps, a 64 MiB checkpoint was reallocated, and so
 * copied, 64 times. */
static hid_t memory_fapl(size_t expected_bytes)
{
    const size_t mib = (size_t)1 << 20;
    size_t increment = expected_bytes < SIZE_MAX - mib ? expected_bytes + mib : mib;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_core(fapl, increment, 0) < 0) {
        H5Pclose(fapl);
        fapl = H5I_INVALID_HID;
    }
    return fapl;
}

static int atomic_init(struct ecg_h5_atomic *a, const char *path, struct ecg_error *err)
{
    memset(a, 0, sizeof *a);
    a->file = H5I_INVALID_HID;
    if (strlen(path) >= sizeof a->path)
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: path too long", path);
    snprintf(a->path, sizeof a->path, "%s", path);
    ecg_h5_init();
    return ECG_OK;
}

int ecg_h5_atomic_begin(struct ecg_h5_atomic *a, const char *path, size_t expected_bytes, struct ecg_error *err)
{
    ECG_TRY(atomic_init(a, path, err));
    hid_t fapl = memory_fapl(expected_bytes);
    if (fapl >= 0)
        a->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    ecg_h5_close(fapl);
    if (a->file < 0)
        return ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot create the file in memory", path);
    return ECG_OK;
}

/* The whole file at `path` into a malloc'd buffer. */
static int read_whole(const char *path, void **data, size_t *size, struct ecg_error *err)
{
    *data = NULL;
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        int rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return rc;
    }
    *size = (size_t)st.st_size;
    *data = malloc(*size ? *size : 1);
    int rc = ECG_OK;
    if (!*data)
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory for %zu bytes", path, *size);
    else if (fread(*data, 1, *size, f) != *size)
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot read: %s", path, ferror(f) ? strerror(errno) : "file shrank");
    fclose(f);
    if (rc) {
        free(*data);
        *data = NULL;
    }
    return rc;
}

int ecg_h5_atomic_edit(struct ecg_h5_atomic *a, const char *path, struct ecg_error *err)
{
    ECG_TRY(atomic_init(a, path, err));
    void *data;
    size_t size = 0;
    ECG_TRY(read_whole(path, &data, &size, err));
    /* HDF5 opens an image only under a name that no file on disk has. */
    char name[4200];
    snprintf(name, sizeof name, "%s (in memory)", path);
    if (access(name, F_OK) == 0) {
        free(data);
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot edit the file while '%s' exists", path, name);
    }
    hid_t fapl = memory_fapl(size);
    if (fapl >= 0 && H5Pset_file_image(fapl, data, size) >= 0)
        a->file = H5Fopen(name, H5F_ACC_RDWR, fapl);
    ecg_h5_close(fapl);
    free(data); /* HDF5 keeps its own copy */
    if (a->file < 0)
        return ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: not a readable HDF5 file", path);
    return ECG_OK;
}

int ecg_h5_atomic_commit(struct ecg_h5_atomic *a, struct ecg_error *err)
{
    /* The image is what the driver holds: metadata still cached must reach it first. */
    ssize_t size = H5Fflush(a->file, H5F_SCOPE_GLOBAL) < 0 ? -1 : H5Fget_file_image(a->file, NULL, 0);
    void *image = size > 0 ? malloc((size_t)size) : NULL;
    int rc = ECG_OK;
    if (size <= 0)
        rc = ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot take the file's image", a->path);
    else if (!image)
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory for %zd bytes", a->path, size);
    else if (H5Fget_file_image(a->file, image, (size_t)size) != size)
        rc = ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot take the file's image", a->path);
    ecg_h5_atomic_abort(a); /* the memory file is done with either way */
    if (!rc)
        rc = ecg_file_replace(a->path, image, (size_t)size, err);
    free(image);
    return rc;
}

void ecg_h5_atomic_abort(struct ecg_h5_atomic *a)
{
    if (a->file > 0)
        ecg_h5_close(a->file);
    a->file = H5I_INVALID_HID;
}
