/* Writes records as the CACHET-CADB short format: float64 `signal` and `labels` at the HDF5 root. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#include "data/readers.h"

#define CACHET_SEG 10240

/* Creates a 1-D float64 dataset of n values (chunked and gzip'd when level > 0). */
static int write_vector(hid_t file, const char *path, const char *name, const double *v, int64_t n, int level,
                        struct ecg_error *err)
{
    hsize_t dim = (hsize_t)n;
    hid_t sp = H5Screate_simple(1, &dim, NULL), pl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
    int rc = ECG_OK;
    if (sp < 0 || pl < 0) {
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot create the dataspace of '%s'", path, name);
        goto done;
    }
    /* No modification times in the file: the same input gives the same bytes. */
    if (H5Pset_obj_track_times(pl, 0) < 0) {
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot set dataset properties of '%s'", path, name);
        goto done;
    }
    if (level > 0) {
        hsize_t chunk = (hsize_t)(n < CACHET_SEG * 8 ? n : CACHET_SEG * 8);
        if (H5Pset_chunk(pl, 1, &chunk) < 0 || H5Pset_shuffle(pl) < 0 ||
            H5Pset_deflate(pl, (unsigned)level) < 0) {
            rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot set up gzip compression for '%s'", path, name);
            goto done;
        }
    }
    ds = H5Dcreate2(file, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0)
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot write dataset '%s'", path, name);
done:
    if (ds >= 0)
        H5Dclose(ds);
    if (pl >= 0)
        H5Pclose(pl);
    if (sp >= 0)
        H5Sclose(sp);
    return rc;
}

int ecg_cachet_write_short(const char *path, const struct ecg_record *recs, int64_t count, int compress,
                           struct ecg_error *err)
{
    if (count < 1)
        return ecg_error_set(err, ECG_ERR_VALUE, "%s: no segments to write", path);
    if (compress < 0 || compress > 9)
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: gzip level %d, expected 0..9", path, compress);
    for (int64_t i = 0; i < count; i++) {
        if (recs[i].fs != 1024.0 || recs[i].length != CACHET_SEG)
            return ecg_error_set(
                err, ECG_ERR_SHAPE, "%s: segment %lld (%s) is %lld samples at %g Hz, expected %d at 1024 Hz",
                path, (long long)i, recs[i].id, (long long)recs[i].length, recs[i].fs, CACHET_SEG);
        if (ecg_cachet_code_of(recs[i].label) < 0)
            return ecg_error_set(err, ECG_ERR_VALUE,
                                 "%s: segment %lld (%s) has rhythm label %d, expected 0..3", path,
                                 (long long)i, recs[i].id, recs[i].label);
    }
    int64_t n = count * CACHET_SEG;
    double *sig = malloc((size_t)n * sizeof *sig), *lab = malloc((size_t)n * sizeof *lab);
    int rc = ECG_OK;
    hid_t file = -1;
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!sig || !lab) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for %lld samples", path, (long long)n);
        goto done;
    }
    for (int64_t i = 0; i < count; i++) {
        double code = ecg_cachet_code_of(recs[i].label);
        for (int64_t k = 0; k < CACHET_SEG; k++) {
            sig[i * CACHET_SEG + k] = recs[i].signal[k];
            lab[i * CACHET_SEG + k] = code;
        }
    }
    file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) {
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot create the HDF5 file", path);
        goto done;
    }
    if ((rc = write_vector(file, path, "signal", sig, n, compress, err)) ||
        (rc = write_vector(file, path, "labels", lab, n, compress, err)))
        goto done;
done:
    if (file >= 0 && H5Fclose(file) < 0 && !rc)
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot close (disk full?)", path);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    free(sig);
    free(lab);
    return rc;
}
