/* Uploaded files to records: grouping by record name, private temporary copies for the file readers. */
#include "serve/upload.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "data/readers.h"

enum kind { K_HEA, K_MAT, K_DAT, K_H5, K_CSV, K_COUNT };
static const char *const private_name[K_COUNT] = {"r.hea", "r.mat", "r.dat", "r.h5", "r.csv"};

/* The parts of one record, by kind (-1 = absent), in order of first appearance. */
struct group {
    char stem[ECG_SERVE_RECORD_MAX];
    int32_t part[K_COUNT];
};

void ecg_serve_upload_limits_default(struct ecg_serve_upload_limits *lim)
{
    lim->max_records = 64;
    lim->max_samples = 10000000;
    lim->hdf5.wall_s = 10.0;
    lim->hdf5.cpu_s = 10;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    lim->hdf5.memory_bytes = 0;
#else
    lim->hdf5.memory_bytes = (int64_t)1 << 30;
#endif
    lim->hdf5.max_output = (size_t)512 << 20;
}

int ecg_serve_records_push(struct ecg_serve_records *r, struct ecg_serve_record *rec, int32_t max_records,
                           struct ecg_error *err)
{
    if (r->count >= max_records) {
        free(rec->signal);
        rec->signal = NULL;
        return ecg_error_set(err, ECG_ERR_RANGE, "more than %d records in one request", max_records);
    }
    struct ecg_serve_record *g = realloc(r->items, (size_t)(r->count + 1) * sizeof *g);
    if (!g) {
        free(rec->signal);
        rec->signal = NULL;
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for %d records", r->count + 1);
    }
    r->items = g;
    r->items[r->count++] = *rec;
    rec->signal = NULL;
    return ECG_OK;
}

void ecg_serve_records_free(struct ecg_serve_records *r)
{
    for (int32_t i = 0; i < r->count; i++)
        free(r->items[i].signal);
    free(r->items);
    r->items = NULL;
    r->count = 0;
}

/* Kind of an uploaded file by its extension, -1 when unsupported; *stem_len the length before the dot. */
static int kind_of(const char *name, size_t *stem_len)
{
    static const struct {
        const char *ext;
        enum kind k;
    } exts[] = {{".hea", K_HEA}, {".mat", K_MAT}, {".dat", K_DAT}, {".h5", K_H5},
                {".hdf5", K_H5}, {".csv", K_CSV}, {".txt", K_CSV}};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name)
        return -1;
    *stem_len = (size_t)(dot - name);
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i].ext) == 0)
            return (int)exts[i].k;
    return -1;
}

/* The file name without any directory part a client sent (clients may send "C:\x\A.mat"). */
static const char *base_name(const char *name)
{
    const char *s = strrchr(name, '/'), *b = strrchr(name, '\\');
    if (b && (!s || b > s))
        s = b;
    return s ? s + 1 : name;
}

/* Replaces every occurrence of `from` in msg by `to` (messages name our private paths; users know their
 * files). */
static void replace_all(char *msg, size_t cap, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to);
    char *p = msg;
    while (fl && (p = strstr(p, from))) {
        size_t rest = strlen(p + fl);
        if ((size_t)(p - msg) + tl + rest + 1 > cap)
            break;
        memmove(p + tl, p + fl, rest + 1);
        memcpy(p, to, tl);
        p += tl;
    }
}

struct scratch {
    char dir[512];
    const struct ecg_multipart_part *parts;
    const struct group *g;
};

static void private_path(const struct scratch *s, enum kind k, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", s->dir, private_name[k]);
}

/* Writes the group's parts under their private names. */
static int write_group(const struct scratch *s, struct ecg_error *err)
{
    for (int k = 0; k < K_COUNT; k++) {
        if (s->g->part[k] < 0)
            continue;
        const struct ecg_multipart_part *p = &s->parts[s->g->part[k]];
        char path[600];
        private_path(s, (enum kind)k, path, sizeof path);
        FILE *f = fopen(path, "wb");
        int bad = !f || fwrite(p->data, 1, p->size, f) != p->size;
        if (f && fclose(f) != 0)
            bad = 1;
        if (bad)
            return ecg_error_set(err, ECG_ERR_IO, "%s: cannot store a private copy: %s",
                                 base_name(p->filename), strerror(errno));
    }
    return ECG_OK;
}

static void remove_group(const struct scratch *s)
{
    for (int k = 0; k < K_COUNT; k++) {
        char path[600];
        private_path(s, (enum kind)k, path, sizeof path);
        unlink(path);
    }
}

/* Rewrites private paths in a reader's message to the uploaded names. */
static void name_files(const struct scratch *s, struct ecg_error *err)
{
    if (!err)
        return;
    for (int k = 0; k < K_COUNT; k++)
        if (s->g->part[k] >= 0) {
            char path[600];
            private_path(s, (enum kind)k, path, sizeof path);
            replace_all(err->msg, sizeof err->msg, path, base_name(s->parts[s->g->part[k]].filename));
        }
    replace_all(err->msg, sizeof err->msg, s->dir, "(upload)");
}

static int read_mat(const struct scratch *s, struct ecg_serve_record *rec, struct ecg_error *err)
{
    char path[600];
    private_path(s, K_MAT, path, sizeof path);
    struct ecg_record r;
    int rc = ecg_cinc2017_read_record(path, &r, err);
    if (rc) {
        free(r.signal);
        return rc;
    }
    rec->fs = r.fs;
    rec->length = r.length;
    rec->signal = r.signal;
    return ECG_OK;
}

static int read_dat(const struct scratch *s, struct ecg_serve_record *rec, struct ecg_error *err)
{
    char hea[600];
    private_path(s, K_HEA, hea, sizeof hea);
    struct ecg_wfdb_header h;
    ECG_TRY(ecg_wfdb_read_header(hea, &h, err));
    const char *dat = base_name(s->parts[s->g->part[K_DAT]].filename);
    for (int i = 0; i < h.nsig; i++) {
        if (strcmp(h.sig[i].file, dat) != 0)
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s: signal %d is stored in '%s', but the uploaded file is '%s'", hea, i,
                                 h.sig[i].file, dat);
        snprintf(h.sig[i].file, sizeof h.sig[i].file, "%s", private_name[K_DAT]);
    }
    float *x;
    int64_t n;
    ECG_TRY(ecg_wfdb_read_lead(hea, &h, -1, &x, &n, err)); /* the lead ecgpredict reads: MLII, else the first */
    rec->fs = h.fs;
    rec->length = n;
    rec->signal = x;
    return ECG_OK;
}

/* The HDF5 child: reads the CACHET file and sends {id[64], fs, length, samples} per segment. */
static int h5_child(void *arg, struct ecg_sandbox_out *out, struct ecg_error *err)
{
    struct ecg_dataset ds = {0};
    int rc = ecg_cachet_read_short((const char *)arg, NULL, &ds, err);
    for (int64_t i = 0; i < ds.count && !rc; i++) {
        const struct ecg_record *r = &ds.records[i];
        if ((rc = ecg_sandbox_write(out, r->id, sizeof r->id, err)) ||
            (rc = ecg_sandbox_write(out, &r->fs, sizeof r->fs, err)) ||
            (rc = ecg_sandbox_write(out, &r->length, sizeof r->length, err)))
            break;
        rc = ecg_sandbox_write(out, r->signal, (size_t)r->length * sizeof *r->signal, err);
    }
    ecg_dataset_free(&ds);
    return rc;
}

static int read_h5(const struct scratch *s, const struct ecg_serve_upload_limits *lim,
                   struct ecg_serve_records *out, struct ecg_error *err)
{
    char path[600];
    private_path(s, K_H5, path, sizeof path);
    const char *file = base_name(s->parts[s->g->part[K_H5]].filename);
    unsigned char *buf;
    size_t size;
    ECG_TRY(ecg_sandbox_run(h5_child, path, &lim->hdf5, file, &buf, &size, err));
    int rc = ECG_OK;
    const size_t head = ECG_ID_MAX + sizeof(double) + sizeof(int64_t);
    for (size_t at = 0; at < size && !rc;) {
        struct ecg_serve_record rec = {0};
        char id[ECG_ID_MAX];
        ECG_ASSERT(at + head <= size);
        memcpy(id, buf + at, ECG_ID_MAX);
        id[ECG_ID_MAX - 1] = '\0';
        memcpy(&rec.fs, buf + at + ECG_ID_MAX, sizeof rec.fs);
        memcpy(&rec.length, buf + at + ECG_ID_MAX + sizeof(double), sizeof rec.length);
        at += head;
        ECG_ASSERT(rec.length > 0 && at + (size_t)rec.length * sizeof(float) <= size);
        snprintf(rec.name, sizeof rec.name, "%.40s:%.20s", s->g->stem, id);
        snprintf(rec.file, sizeof rec.file, "%s", file);
        if (!(rec.signal = malloc((size_t)rec.length * sizeof(float)))) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory for %lld samples", file,
                               (long long)rec.length);
            break;
        }
        memcpy(rec.signal, buf + at, (size_t)rec.length * sizeof(float));
        at += (size_t)rec.length * sizeof(float);
        rc = ecg_serve_records_push(out, &rec, lim->max_records, err);
    }
    free(buf);
    return rc;
}

static int read_csv(const struct scratch *s, const struct ecg_serve_upload_limits *lim, double fs,
                    struct ecg_serve_record *rec, struct ecg_error *err)
{
    const struct ecg_multipart_part *p = &s->parts[s->g->part[K_CSV]];
    rec->fs = fs;
    return ecg_serve_csv_signal(base_name(p->filename), (const char *)p->data, p->size, lim->max_samples,
                                &rec->fs, &rec->signal, &rec->length, err);
}

/* The file at fault when a group is incomplete or a reader fails: the data file if any, else the first. */
static const char *group_file(const struct scratch *s)
{
    static const enum kind order[] = {K_MAT, K_DAT, K_H5, K_CSV, K_HEA};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (s->g->part[order[i]] >= 0)
            return base_name(s->parts[s->g->part[order[i]]].filename);
    return "";
}

static int read_group(struct scratch *s, const struct ecg_serve_upload_limits *lim, double fs,
                      struct ecg_serve_records *out, struct ecg_error *err)
{
    const int32_t *p = s->g->part;
    if (p[K_HEA] >= 0 && p[K_MAT] < 0 && p[K_DAT] < 0)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: a header without its signal file (%s.mat or %s.dat)",
                             base_name(s->parts[p[K_HEA]].filename), s->g->stem, s->g->stem);
    if (p[K_DAT] >= 0 && p[K_HEA] < 0)
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s: a WFDB signal file needs its header %s.hea in the same upload",
                             base_name(s->parts[p[K_DAT]].filename), s->g->stem);
    int kinds = (p[K_MAT] >= 0) + (p[K_DAT] >= 0) + (p[K_H5] >= 0) + (p[K_CSV] >= 0);
    if (kinds > 1)
        return ecg_error_set(err, ECG_ERR_FORMAT, "record %s: several signal files share this name",
                             s->g->stem);
    if (p[K_CSV] >= 0) {
        struct ecg_serve_record rec = {0};
        snprintf(rec.name, sizeof rec.name, "%s", s->g->stem);
        snprintf(rec.file, sizeof rec.file, "%s", group_file(s));
        ECG_TRY(read_csv(s, lim, fs, &rec, err));
        return ecg_serve_records_push(out, &rec, lim->max_records, err);
    }
    ECG_TRY(write_group(s, err));
    int rc;
    if (p[K_H5] >= 0)
        rc = read_h5(s, lim, out, err);
    else {
        struct ecg_serve_record rec = {0};
        snprintf(rec.name, sizeof rec.name, "%s", s->g->stem);
        snprintf(rec.file, sizeof rec.file, "%s", group_file(s));
        rc = p[K_MAT] >= 0 ? read_mat(s, &rec, err) : read_dat(s, &rec, err);
        if (!rc && rec.length > lim->max_samples) {
            free(rec.signal);
            rc = ecg_error_set(err, ECG_ERR_RANGE, "%s: %lld samples, the limit is %lld", rec.file,
                               (long long)rec.length, (long long)lim->max_samples);
        } else if (!rc)
            rc = ecg_serve_records_push(out, &rec, lim->max_records, err);
        else
            free(rec.signal);
    }
    if (rc)
        name_files(s, err);
    remove_group(s);
    return rc;
}

/* Sorts the file parts into groups; ECG_ERR_FORMAT naming the part for bad names and duplicates. */
static int make_groups(const struct ecg_multipart_part *parts, int32_t nparts, struct group *g, int32_t *ng,
                       struct ecg_serve_params *params, char *file, size_t file_cap, struct ecg_error *err)
{
    *ng = 0;
    for (int32_t i = 0; i < nparts; i++) {
        const struct ecg_multipart_part *p = &parts[i];
        if (!p->filename[0]) {
            char value[256];
            size_t n = p->size < sizeof value - 1 ? p->size : sizeof value - 1;
            memcpy(value, p->data, n);
            value[n] = '\0';
            ECG_TRY(ecg_serve_param_set(params, p->name, value, err));
            continue;
        }
        const char *name = base_name(p->filename);
        snprintf(file, file_cap, "%s", name);
        if (strcmp(p->name, "file") != 0)
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: sent as form field '%s', expected 'file'", name,
                                 p->name);
        size_t stem_len = 0;
        int k = kind_of(name, &stem_len);
        if (k < 0)
            return ecg_error_set(
                err, ECG_ERR_FORMAT,
                "%s: unsupported file type, expected .hea with .mat or .dat (WFDB / CinC 2017), "
                ".h5 (CACHET-CADB) or .csv/.txt (samples)",
                name);
        if (stem_len >= ECG_SERVE_RECORD_MAX)
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: record name longer than %d characters", name,
                                 ECG_SERVE_RECORD_MAX - 1);
        for (size_t c = 0; c < stem_len; c++)
            if (!isprint((unsigned char)name[c]))
                return ecg_error_set(err, ECG_ERR_FORMAT, "%s: a control character in the file name", name);
        int32_t j = 0;
        while (j < *ng && !(strlen(g[j].stem) == stem_len && strncmp(g[j].stem, name, stem_len) == 0))
            j++;
        if (j == *ng) {
            memset(&g[j], 0, sizeof g[j]);
            memcpy(g[j].stem, name, stem_len);
            for (int q = 0; q < K_COUNT; q++)
                g[j].part[q] = -1;
            (*ng)++;
        }
        if (g[j].part[k] >= 0)
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: uploaded twice", name);
        g[j].part[k] = i;
    }
    file[0] = '\0';
    if (*ng == 0)
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "no file parts: send each file as a form field named 'file'");
    return ECG_OK;
}

int ecg_serve_records_from_parts(const struct ecg_multipart_part *parts, int32_t nparts,
                                 const struct ecg_serve_upload_limits *lim, struct ecg_serve_params *params,
                                 struct ecg_serve_records *out, char *file, size_t file_cap,
                                 struct ecg_error *err)
{
    file[0] = '\0';
    struct group *g = malloc((size_t)(nparts > 0 ? nparts : 1) * sizeof *g);
    if (!g)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for %d parts", nparts);
    int32_t ng;
    struct scratch s = {.parts = parts};
    int rc = make_groups(parts, nparts, g, &ng, params, file, file_cap, err);
    if (rc)
        goto done;
    const char *tmp = getenv("TMPDIR");
    snprintf(s.dir, sizeof s.dir, "%s/ecgserve-XXXXXX", tmp && tmp[0] && strlen(tmp) < 400 ? tmp : "/tmp");
    if (!mkdtemp(s.dir)) {
        rc = ecg_error_set(err, ECG_ERR_IO, "cannot create a private temporary directory: %s",
                           strerror(errno));
        goto done;
    }
    for (int32_t i = 0; i < ng && !rc; i++) {
        s.g = &g[i];
        if ((rc = read_group(&s, lim, params->fs, out, err)))
            snprintf(file, file_cap, "%s", group_file(&s));
    }
    rmdir(s.dir);
done:
    free(g);
    return rc;
}
