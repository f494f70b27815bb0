/* PhysioNet/CinC Challenge 2017 reader: MATLAB v4 .mat signals, WFDB .hea scaling, labels from a
 * REFERENCE-style CSV. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader_common.h"
#include "data/readers.h"

#define CINC_FS 300.0

static int rhythm_of_cinc(const char *s)
{
    if (strcmp(s, "N") == 0)
        return ECG_RHYTHM_NSR;
    if (strcmp(s, "A") == 0)
        return ECG_RHYTHM_AF;
    if (strcmp(s, "O") == 0)
        return ECG_RHYTHM_OTHER;
    if (strcmp(s, "~") == 0)
        return ECG_RHYTHM_NOISE;
    return -1;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* A MATLAB v4 header: 20 bytes (type, mrows, ncols, imagf, namlen as little-endian int32), then the
 * variable's name. */
struct mat_v4_header {
    uint32_t type, mrows, ncols, imagf, namlen;
    int precision; /* the type's P digit: 0 double, 1 float, 2 int32, 3 int16, 4 uint16, 5 uint8 */
};

static const int mat_v4_element_size[6] = {8, 4, 4, 2, 2, 1};

/* Checks that b (size bytes) starts with the header of one real, full, little-endian vector. */
static int mat_v4_header(const char *path, const unsigned char *b, int64_t size, struct mat_v4_header *h,
                         struct ecg_error *err)
{
    if (size < 20)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: truncated: %lld bytes, a MATLAB v4 header needs 20", path,
                             (long long)size);
    *h = (struct mat_v4_header){le32(b), le32(b + 4), le32(b + 8), le32(b + 12), le32(b + 16), 0};
    uint32_t M = h->type / 1000, O = (h->type / 100) % 10, P = (h->type / 10) % 10, T = h->type % 10;
    if (h->type >= 5000 || M != 0 || O != 0 || T != 0 || P > 5)
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s: MATLAB v4 type %u, expected a little-endian full numeric matrix "
                             "(type 0..50, e.g. 30 for int16)",
                             path, h->type);
    h->precision = (int)P;
    if (h->imagf != 0)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: complex matrix, expected real values", path);
    if (!((h->mrows == 1 && h->ncols >= 1) || (h->ncols == 1 && h->mrows >= 1)))
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: matrix of %u x %u, expected a 1 x N or N x 1 vector",
                             path, h->mrows, h->ncols);
    if (h->namlen < 1 || h->namlen > 64 || 20 + (int64_t)h->namlen > size || b[20 + h->namlen - 1] != '\0')
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s: variable name length %u, expected 1..64 bytes ending in NUL within the file",
                             path, h->namlen);
    return ECG_OK;
}

/* One little-endian value of the given precision (the header's P digit) at q. */
static double mat_v4_value(const unsigned char *q, int precision)
{
    switch (precision) {
    case 0: {
        uint64_t u = (uint64_t)le32(q) | ((uint64_t)le32(q + 4) << 32);
        double x;
        memcpy(&x, &u, 8);
        return x;
    }
    case 1: {
        uint32_t u = le32(q);
        float x;
        memcpy(&x, &u, 4);
        return x;
    }
    case 2:
        return (int32_t)le32(q);
    case 3:
        return (int16_t)(uint16_t)(q[0] | (q[1] << 8));
    case 4:
        return (uint16_t)(q[0] | (q[1] << 8));
    default:
        return q[0];
    }
}

/*
 * Parses a MATLAB v4 file holding one real, full, little-endian vector: the header, the name, then the
 * data.  *raw gets the values as double (malloc'd).
 */
static int read_mat_v4(const char *path, double **raw, int64_t *n, struct ecg_error *err)
{
    *raw = NULL;
    *n = 0;
    char *buf = NULL;
    int64_t size = 0;
    ECG_TRY(ecg_read_file(path, &buf, &size, err));
    const unsigned char *b = (const unsigned char *)buf;
    struct mat_v4_header h = {0};
    int rc = mat_v4_header(path, b, size, &h, err);
    if (rc)
        goto done;
    const int esize = mat_v4_element_size[h.precision];
    int64_t count = (int64_t)h.mrows * h.ncols;
    int64_t start = 20 + h.namlen, need = start + count * esize;
    if (size < need) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           "%s: truncated: %lld values of %d bytes need %lld bytes, the file has %lld", path,
                           (long long)count, esize, (long long)need, (long long)size);
        goto done;
    }
    double *v = malloc((size_t)count * sizeof *v);
    if (!v) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for %lld values", path, (long long)count);
        goto done;
    }
    for (int64_t i = 0; i < count; i++)
        v[i] = mat_v4_value(b + start + i * esize, h.precision);
    *raw = v;
    *n = count;
done:
    free(buf);
    return rc;
}

/* Reads one record (name) from dir into rec (label already set). */
static int read_one(const char *dir, const char *name, struct ecg_record *rec, struct ecg_error *err)
{
    char mat[2048], hea[2048];
    ECG_TRY(ecg_pathf(mat, sizeof mat, err, "%s/%s.mat", dir, name));
    ECG_TRY(ecg_pathf(hea, sizeof hea, err, "%s/%s.hea", dir, name));
    if (!ecg_path_is_file(mat))
        return ecg_error_set(err, ECG_ERR_IO, "%s is missing", mat);
    double fs = CINC_FS, gain = 1000.0, baseline = 0.0;
    int64_t hea_n = -1;
    if (ecg_path_is_file(hea)) {
        struct ecg_wfdb_header h;
        ECG_TRY(ecg_wfdb_read_header(hea, &h, err));
        if (h.nsig != 1)
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: %d signals, expected 1", hea, h.nsig);
        fs = h.fs;
        gain = h.sig[0].gain;
        baseline = h.sig[0].baseline;
        hea_n = h.nsamples;
        if (strcmp(h.sig[0].units, "mV") != 0)
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: units '%s', expected mV", hea, h.sig[0].units);
    }
    if (fs != CINC_FS)
        return ecg_error_set(err, ECG_ERR_VALUE, "%s: sampling rate %g Hz, expected %g Hz", hea, fs, CINC_FS);
    double *raw = NULL;
    int64_t n = 0;
    ECG_TRY(read_mat_v4(mat, &raw, &n, err));
    if (hea_n >= 0 && hea_n != n) {
        free(raw);
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: %lld samples, but %s says %lld", mat, (long long)n,
                             hea, (long long)hea_n);
    }
    rec->signal = malloc((size_t)n * sizeof(float));
    if (!rec->signal) {
        free(raw);
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for %lld samples", mat, (long long)n);
    }
    for (int64_t i = 0; i < n; i++)
        rec->signal[i] = (float)((raw[i] - baseline) / gain);
    free(raw);
    rec->fs = fs;
    rec->length = n;
    return ECG_OK;
}

int ecg_cinc2017_read_record(const char *mat_path, struct ecg_record *rec, struct ecg_error *err)
{
    memset(rec, 0, sizeof *rec);
    rec->label = -1;
    const char *slash = strrchr(mat_path, '/');
    const char *base = slash ? slash + 1 : mat_path;
    size_t len = strlen(base);
    if (len < 5 || strcmp(base + len - 4, ".mat") != 0)
        return ecg_error_set(err, ECG_ERR_USAGE, "%s: expected a CinC 2017 record file ending in .mat", mat_path);
    char dir[2048], name[ECG_ID_MAX];
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - mat_path), mat_path);
    else
        snprintf(dir, sizeof dir, ".");
    snprintf(name, sizeof name, "%.*s", (int)(len - 4), base);
    snprintf(rec->id, sizeof rec->id, "%s", name);
    return read_one(dir, name, rec, err);
}

int ecg_cinc2017_read(const char *dir, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                      struct ecg_error *err)
{
    struct ecg_read_options defaults;
    opt = ecg_read_options_or_default(opt, &defaults);
    ds->task = ECG_TASK_RHYTHM;
    if (!ecg_path_is_dir(dir))
        return ecg_error_set(err, ECG_ERR_IO, "%s: not a directory of CinC 2017 records", dir);
    char recdir[2048], labels[2048];
    ECG_TRY(ecg_pathf(recdir, sizeof recdir, err, "%s/training2017", dir));
    if (!ecg_path_is_dir(recdir))
        ecg_strlcpy(recdir, dir, sizeof recdir);
    if (opt->label_file)
        ecg_strlcpy(labels, opt->label_file, sizeof labels);
    else {
        ECG_TRY(ecg_pathf(labels, sizeof labels, err, "%s/REFERENCE.csv", dir));
        if (!ecg_path_is_file(labels))
            ECG_TRY(ecg_pathf(labels, sizeof labels, err, "%s/REFERENCE.csv", recdir));
    }
    char *text = NULL;
    int64_t size = 0;
    ECG_TRY(ecg_read_file(labels, &text, &size, err));
    int rc = ECG_OK, lineno = 0, rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0)
            continue;
        char *comma = strchr(line, ',');
        if (!comma || comma == line || strchr(comma + 1, ',') || (size_t)(comma - line) >= ECG_ID_MAX ||
            strchr(line, '/')) {
            rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s:%d: expected 'record,label', found '%s'", labels,
                               lineno, line);
            goto done;
        }
        *comma = '\0';
        const char *name = line, *lab = comma + 1;
        rows++;
        struct ecg_record rec = {0};
        ecg_strlcpy(rec.id, name, sizeof rec.id);
        rec.label = rhythm_of_cinc(lab);
        int bad;
        if (rec.label < 0)
            bad = ecg_error_set(err, ECG_ERR_VALUE, "%s:%d: record %s: label '%s', expected N, A, O or ~",
                                labels, lineno, name, lab);
        else {
            bad = read_one(recdir, name, &rec, err);
            if (bad == ECG_ERR_NOMEM) {
                rc = bad;
                goto done;
            }
            if (!bad)
                bad = ecg_reader_check(opt, &rec, err);
            if (bad)
                ecg_error_prefix(err, bad, "record %s", name);
        }
        if ((rc = ecg_reader_keep(opt, ds, &rec, bad, err)))
            goto done;
    }
    if (rows == 0)
        rc = ecg_error_set(err, ECG_ERR_VALUE, "%s: no 'record,label' rows", labels);
done:
    free(text);
    return rc;
}
