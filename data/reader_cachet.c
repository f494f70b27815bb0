/* CACHET-CADB readers: the short HDF5 format (signal/labels) and the full Unisens format (ecg.bin,
 * unisens.xml, annotation.csv). */
#include <dirent.h>
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/cachet_h5.h"
#include "data/reader_common.h"
#include "data/readers.h"
#include "data/unisens.h"

#define CACHET_FS 1024.0
#define CACHET_SEG 10240

int ecg_cachet_code_of(int rhythm_label)
{
    static const int code[ECG_RHYTHM_COUNT] = {1, 2, 3, 4}; /* AF, NSR, Noise, Other */
    return rhythm_label >= 0 && rhythm_label < ECG_RHYTHM_COUNT ? code[rhythm_label] : -1;
}

int ecg_cachet_label_of(int code)
{
    switch (code) {
    case 1:
        return ECG_RHYTHM_AF;
    case 2:
        return ECG_RHYTHM_NSR;
    case 3:
        return ECG_RHYTHM_NOISE;
    case 4:
        return ECG_RHYTHM_OTHER;
    default:
        return -1;
    }
}

/* Whether the `dim` values a dataset declares are stored in the file: a corrupt header declares billions
 * of values in a few bytes, and reading them would allocate for all of them only to fail (or to give
 * fill values).  Contiguous data must occupy its bytes, chunked data all its chunks. */
static int check_stored(hid_t ds, hid_t sp, hid_t ty, const char *path, const char *name, hsize_t dim,
                        struct ecg_error *err)
{
    hid_t dcpl = H5Dget_create_plist(ds);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    hsize_t chunk = 0, have = 0, need = 0;
    if (layout == H5D_CHUNKED && H5Pget_chunk(dcpl, 1, &chunk) == 1 && chunk > 0 &&
        H5Dget_num_chunks(ds, sp, &have) >= 0)
        need = dim / chunk + (dim % chunk != 0);
    else if (layout == H5D_CONTIGUOUS) {
        size_t size = H5Tget_size(ty);
        have = size ? H5Dget_storage_size(ds) / size : 0;
        need = dim;
    } else if (layout != H5D_COMPACT) /* compact data lives in the dataset's header: at most 64 KiB */
        need = 1;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    H5Eclear2(H5E_DEFAULT);
    if (have >= need)
        return ECG_OK;
    return ecg_error_set(err, ECG_ERR_FORMAT,
                         "%s: dataset '%s' declares %llu values, the file stores %llu of %llu %s "
                         "(corrupt or truncated file)",
                         path, name, (unsigned long long)dim, (unsigned long long)have,
                         (unsigned long long)need, layout == H5D_CHUNKED ? "chunks" : "values");
}

/* Reads a 1-D floating-point dataset as double; *n its length. */
static int read_vector(hid_t file, const char *path, const char *name, double **out, int64_t *n,
                       struct ecg_error *err)
{
    *out = NULL;
    *n = 0;
    if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s: no dataset '%s' at the root, expected 'signal' and 'labels'", path, name);
    /* Only the file's own data: a soft or external link could name any HDF5 file the reader may open (an
     * upload to ecgserve would get the server's files classified and sent back). */
    H5L_info_t link;
    if (H5Lget_info(file, name, &link, H5P_DEFAULT) < 0 || link.type != H5L_TYPE_HARD)
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s: '%s' is a soft or external link, expected a dataset stored in the file",
                             path, name);
    int rc = ECG_OK;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT), sp = -1, ty = -1;
    if (ds < 0)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: '%s' is not a dataset", path, name);
    sp = H5Dget_space(ds);
    ty = H5Dget_type(ds);
    int rank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
    if (rank != 1) {
        rc =
            ecg_error_set(err, ECG_ERR_SHAPE, "%s: dataset '%s' has rank %d, expected 1-D", path, name, rank);
        goto done;
    }
    if (H5Tget_class(ty) != H5T_FLOAT && H5Tget_class(ty) != H5T_INTEGER) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: dataset '%s' is not numeric, expected float64", path,
                           name);
        goto done;
    }
    hsize_t dim;
    H5Sget_simple_extent_dims(sp, &dim, NULL);
    if ((rc = check_stored(ds, sp, ty, path, name, dim, err)))
        goto done;
    double *v = dim <= SIZE_MAX / sizeof *v ? malloc((size_t)(dim ? dim : 1) * sizeof *v) : NULL;
    if (!v) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory for '%s' (%llu values)", path, name,
                           (unsigned long long)dim);
        goto done;
    }
    if (dim && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
        free(v);
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: cannot read dataset '%s' (corrupt or truncated file)",
                           path, name);
        goto done;
    }
    *out = v;
    *n = (int64_t)dim;
done:
    if (ty >= 0)
        H5Tclose(ty);
    if (sp >= 0)
        H5Sclose(sp);
    H5Dclose(ds);
    return rc;
}

int ecg_cachet_read_short_open(hid_t file, const char *path, const struct ecg_read_options *opt,
                               struct ecg_dataset *ds, struct ecg_error *err)
{
    struct ecg_read_options defaults;
    opt = ecg_read_options_or_default(opt, &defaults);
    ds->task = ECG_TASK_RHYTHM;
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    double *sig = NULL, *lab = NULL;
    int64_t ns = 0, nl = 0;
    int rc;
    if ((rc = read_vector(file, path, "signal", &sig, &ns, err)) ||
        (rc = read_vector(file, path, "labels", &lab, &nl, err)))
        goto done;
    if (ns != nl) {
        rc = ecg_error_set(err, ECG_ERR_SHAPE,
                           "%s: 'signal' has %lld samples and 'labels' %lld, expected equal lengths", path,
                           (long long)ns, (long long)nl);
        goto done;
    }
    if (ns == 0 || ns % CACHET_SEG) {
        rc = ecg_error_set(err, ECG_ERR_SHAPE,
                           "%s: %lld samples, expected a positive multiple of %d (10 s segments at 1024 Hz)",
                           path, (long long)ns, CACHET_SEG);
        goto done;
    }
    for (int64_t s = 0; s < ns / CACHET_SEG; s++) {
        const double *l = lab + s * CACHET_SEG, *x = sig + s * CACHET_SEG;
        struct ecg_record rec = {0};
        snprintf(rec.id, sizeof rec.id, "seg%04lld", (long long)s);
        rec.fs = CACHET_FS;
        rec.length = CACHET_SEG;
        int bad = ECG_OK;
        for (int64_t i = 1; i < CACHET_SEG && !bad; i++)
            if (!(l[i] == l[0]))
                bad = ecg_error_set(
                    err, ECG_ERR_VALUE,
                    "%s: segment %lld (samples %lld..%lld): mixed labels %g and %g at sample %lld, "
                    "expected one code per segment",
                    path, (long long)s, (long long)(s * CACHET_SEG), (long long)((s + 1) * CACHET_SEG - 1),
                    l[0], l[i], (long long)(s * CACHET_SEG + i));
        if (!bad) {
            rec.label = (l[0] == floor(l[0]) && fabs(l[0]) < 100) ? ecg_cachet_label_of((int)l[0]) : -1;
            if (rec.label < 0)
                bad = ecg_error_set(
                    err, ECG_ERR_VALUE,
                    "%s: segment %lld: label code %g, expected 1 (AF), 2 (NSR), 3 (Noise) or 4 (Other)", path,
                    (long long)s, l[0]);
        }
        if (!bad) {
            rec.signal = malloc(CACHET_SEG * sizeof(float));
            if (!rec.signal) {
                rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory", path);
                goto done;
            }
            for (int64_t i = 0; i < CACHET_SEG; i++)
                rec.signal[i] = (float)x[i];
            if ((bad = ecg_reader_check(opt, &rec, err)))
                ecg_error_prefix(err, bad, "%s: segment %lld", path, (long long)s);
        }
        if ((rc = ecg_reader_keep(opt, ds, &rec, bad, err)))
            goto done;
    }
done:
    free(sig);
    free(lab);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    return rc;
}

int ecg_cachet_read_short(const char *path, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                          struct ecg_error *err)
{
    ds->task = ECG_TASK_RHYTHM;
    if (!ecg_path_is_file(path))
        return ecg_error_set(err, ECG_ERR_IO,
                             ecg_path_is_dir(path) ? "%s: is a directory, expected an HDF5 file"
                                                   : "%s: no such file",
                             path);
    H5E_auto2_t old_fn;
    void *old_data;
    H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    int rc = file >= 0 ? ecg_cachet_read_short_open(file, path, opt, ds, err)
                       : ecg_error_set(err, ECG_ERR_FORMAT,
                                       "%s: not a readable HDF5 file (corrupt or truncated?)", path);
    if (file >= 0)
        H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
    return rc;
}

/* ---- full (Unisens) format ---- */

/* Splits a CSV line in place into at most `max` fields. */
static int split_csv(char *line, char **f, int max)
{
    int n = 0;
    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') {
            *p = '\0';
            f[n++] = p + 1;
        }
    return n;
}

/* One segment folder being read: its annotation file and the int16 frames of its ecg.bin. */
struct segment_source {
    const char *ann_path, *bin, *subject, *rel;
    struct ecg_unisens_ecg u;
    const unsigned char *bytes; /* frames x u.channels little-endian int16 */
    int64_t frames;
};

/* The header line of annotation.csv: where its Start, End and Class columns are. */
struct ann_columns {
    int start, end, klass;
};

static int header_columns(char **f, int nf, struct ann_columns *col, const char *ann_path, int lineno,
                          struct ecg_error *err)
{
    *col = (struct ann_columns){-1, -1, -1};
    for (int i = 0; i < nf; i++) {
        if (strcmp(f[i], "Start") == 0)
            col->start = i;
        else if (strcmp(f[i], "End") == 0)
            col->end = i;
        else if (strcmp(f[i], "Class") == 0)
            col->klass = i;
    }
    if (col->start < 0 || col->end < 0 || col->klass < 0)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s:%d: expected a header with columns Start, End, Class",
                             ann_path, lineno);
    return ECG_OK;
}

/* A row's Start (a sample index) and Class (a number, checked by the caller). */
static int row_values(char **f, int nf, const struct ann_columns *col, double *start, double *klass,
                      const char *ann_path, int lineno, struct ecg_error *err)
{
    int need = col->start > col->end ? col->start : col->end;
    need = need > col->klass ? need : col->klass;
    char *e1 = NULL, *e2 = NULL, *e3 = NULL;
    double st = nf > need ? strtod(f[col->start], &e1) : NAN, en = nf > need ? strtod(f[col->end], &e2) : NAN,
           cl = nf > need ? strtod(f[col->klass], &e3) : NAN;
    /* Start beyond 2^53 is no sample index (and would not convert to an integer exactly, or at all). */
    if (nf <= need || *e1 || *e2 || *e3 || st != floor(st) || st < 0 || st > 9007199254740992.0 ||
        !(en >= st))
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s:%d: expected Start,End,Class as sample indices (Start <= End) and a code",
                             ann_path, lineno);
    *start = st;
    *klass = cl;
    return ECG_OK;
}

/* The record of the segment at sample `start` of class code `klass`, its signal decoded from the first
 * channel.  A fatal error (no memory) is returned; a bad segment (unknown class, past the end of the
 * recording, rejected by opt) goes to *bad for the skip policy. */
static int segment_record(const struct segment_source *src, double start, double klass, int lineno,
                          const struct ecg_read_options *opt, struct ecg_record *rec, int *bad,
                          struct ecg_error *err)
{
    const int64_t s0 = (int64_t)start;
    snprintf(rec->id, sizeof rec->id, "%.40s:%lld", src->rel, (long long)s0);
    ecg_strlcpy(rec->subject, src->subject, sizeof rec->subject);
    rec->fs = CACHET_FS;
    rec->length = CACHET_SEG;
    rec->label = klass == floor(klass) && fabs(klass) < 100 ? ecg_cachet_label_of((int)klass) : -1;
    *bad = ECG_OK;
    if (rec->label < 0) {
        *bad = ecg_error_set(err, ECG_ERR_VALUE,
                             "%s:%d: class %g, expected 1 (AF), 2 (NSR), 3 (Noise) or 4 (Other)",
                             src->ann_path, lineno, klass);
        return ECG_OK;
    }
    if (s0 + CACHET_SEG > src->frames) {
        *bad =
            ecg_error_set(err, ECG_ERR_VALUE, "%s:%d: segment at sample %lld needs %d samples, %s has %lld",
                          src->ann_path, lineno, (long long)s0, CACHET_SEG, src->bin, (long long)src->frames);
        return ECG_OK;
    }
    rec->signal = malloc(CACHET_SEG * sizeof(float));
    if (!rec->signal)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory", src->bin);
    for (int64_t i = 0; i < CACHET_SEG; i++) {
        const unsigned char *q = src->bytes + ((s0 + i) * src->u.channels) * 2;
        int16_t v = (int16_t)(uint16_t)(q[0] | (q[1] << 8));
        rec->signal[i] = (float)(((double)v - src->u.baseline) * src->u.lsb);
    }
    if ((*bad = ecg_reader_check(opt, rec, err)))
        ecg_error_prefix(err, *bad, "%s:%d: segment at sample %lld", src->ann_path, lineno, (long long)s0);
    return ECG_OK;
}

/* Reads the segments annotated in csv (annotation.csv's text, modified in place) into ds. */
static int read_annotations(const struct segment_source *src, char *csv, const struct ecg_read_options *opt,
                            struct ecg_dataset *ds, struct ecg_error *err)
{
    struct ann_columns col;
    bool have_header = false;
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0)
            continue;
        char *f[16];
        int nf = split_csv(line, f, 16);
        if (!have_header) {
            ECG_TRY(header_columns(f, nf, &col, src->ann_path, lineno, err));
            have_header = true;
            continue;
        }
        double start = 0, klass = 0;
        ECG_TRY(row_values(f, nf, &col, &start, &klass, src->ann_path, lineno, err));
        struct ecg_record rec = {0};
        int bad;
        int rc = segment_record(src, start, klass, lineno, opt, &rec, &bad, err);
        if (rc)
            return rc;
        ECG_TRY(ecg_reader_keep(opt, ds, &rec, bad, err));
    }
    if (!have_header)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: empty, expected a header Start,End,Class",
                             src->ann_path);
    return ECG_OK;
}

/* Reads one Unisens segment folder into ds. */
static int read_segment(const char *dir, const char *ann_path, const char *subject, const char *rel,
                        const struct ecg_read_options *opt, struct ecg_dataset *ds, struct ecg_error *err)
{
    char xml[2048], bin[2048];
    ECG_TRY(ecg_pathf(xml, sizeof xml, err, "%s/unisens.xml", dir));
    ECG_TRY(ecg_pathf(bin, sizeof bin, err, "%s/ecg.bin", dir));
    struct segment_source src = {.ann_path = ann_path, .bin = bin, .subject = subject, .rel = rel};
    ECG_TRY(ecg_unisens_read_ecg(xml, &src.u, err));
    if (src.u.fs != CACHET_FS)
        return ecg_error_set(err, ECG_ERR_VALUE, "%s: ecg.bin sampleRate %g Hz, expected %g Hz", xml,
                             src.u.fs, CACHET_FS);
    char *raw = NULL, *csv = NULL;
    int64_t rsize = 0, csize = 0;
    int rc = ecg_read_file(bin, &raw, &rsize, err);
    if (!rc)
        rc = ecg_read_file(ann_path, &csv, &csize, err);
    if (!rc && rsize % (2 * src.u.channels))
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           "%s: %lld bytes is not a whole number of %d-channel int16 frames", bin,
                           (long long)rsize, src.u.channels);
    if (!rc) {
        src.bytes = (const unsigned char *)raw;
        src.frames = rsize / (2 * src.u.channels);
        rc = read_annotations(&src, csv, opt, ds, err);
    }
    free(raw);
    free(csv);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Depth-first walk below root/rel in sorted order; reads every folder with unisens.xml. */
static int walk(const char *root, const char *rel, int depth, const struct ecg_read_options *opt,
                struct ecg_dataset *ds, int *found, struct ecg_error *err)
{
    char dir[2048];
    ECG_TRY(ecg_pathf(dir, sizeof dir, err, "%s%s%s", root, rel[0] ? "/" : "", rel));
    char xml[2100];
    ECG_TRY(ecg_pathf(xml, sizeof xml, err, "%s/unisens.xml", dir));
    if (rel[0] && ecg_path_is_file(xml)) {
        /* The subject is the first component, below "signal/" in the parallel layout. */
        const char *r = rel;
        int parallel = strncmp(rel, "signal/", 7) == 0;
        if (parallel)
            r = rel + 7;
        char subject[ECG_ID_MAX];
        size_t n = strcspn(r, "/");
        if (n >= sizeof subject)
            n = sizeof subject - 1;
        memcpy(subject, r, n);
        subject[n] = '\0';
        char ann[2300];
        ECG_TRY(ecg_pathf(ann, sizeof ann, err, "%s/annotation.csv", dir));
        if (!ecg_path_is_file(ann) && parallel)
            ECG_TRY(ecg_pathf(ann, sizeof ann, err, "%s/annotations/%s/annotation.csv", root, r));
        (*found)++;
        int rc = read_segment(dir, ann, subject, r, opt, ds, err);
        if (rc && rc != ECG_ERR_NOMEM)
            rc = ecg_reader_bad(opt, ds, rc, err);
        return rc;
    }
    if (depth > 6)
        return ECG_OK;
    DIR *d = opendir(dir);
    if (!d)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open directory", dir);
    char **names = NULL;
    int64_t n = 0, cap = 0;
    int rc = ECG_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || (!rel[0] && strcmp(e->d_name, "annotations") == 0))
            continue;
        char sub[2300];
        if (ecg_pathf(sub, sizeof sub, NULL, "%s/%s", dir, e->d_name))
            continue;
        if (!ecg_path_is_dir(sub))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) {
                rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory", dir);
                break;
            }
            names = nn;
        }
        names[n] = strdup(e->d_name);
        if (!names[n]) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: no memory", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (!rc && n > 1)
        qsort(names, (size_t)n, sizeof *names, cmp_name);
    for (int64_t i = 0; i < n && !rc; i++) {
        char sub[1024];
        if (ecg_pathf(sub, sizeof sub, NULL, "%s%s%s", rel, rel[0] ? "/" : "", names[i]))
            continue;
        rc = walk(root, sub, depth + 1, opt, ds, found, err);
    }
    for (int64_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

int ecg_cachet_read_full(const char *root, const struct ecg_read_options *opt, struct ecg_dataset *ds,
                         struct ecg_error *err)
{
    struct ecg_read_options defaults;
    opt = ecg_read_options_or_default(opt, &defaults);
    ds->task = ECG_TASK_RHYTHM;
    if (!ecg_path_is_dir(root))
        return ecg_error_set(err, ECG_ERR_IO, "%s: not a directory of CACHET-CADB Unisens folders", root);
    int found = 0;
    ECG_TRY(walk(root, "", 0, opt, ds, &found, err));
    if (!found)
        return ecg_error_set(
            err, ECG_ERR_VALUE,
            "%s: no folder with unisens.xml found (expected <subject>/<measurement>/<segment>/)", root);
    return ECG_OK;
}
