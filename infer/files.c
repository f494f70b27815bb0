/* Records of one file for the inference path: a CinC record, a CACHET-CADB short file, or CSV/text samples. */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/readers.h"
#include "infer/infer_internal.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The format a file name implies, NULL when it implies none. */
static const char *format_of(const char *path)
{
    if (ends_with(path, ".mat"))
        return "cinc2017";
    if (ends_with(path, ".h5") || ends_with(path, ".hdf5"))
        return "cachet_short";
    if (ends_with(path, ".csv") || ends_with(path, ".txt"))
        return "csv";
    return NULL;
}

/* The CinC label of record `name` from REFERENCE.csv in `dir` or one folder up; -1 when unlisted. */
static int cinc_label(const char *dir, const char *name)
{
    static const char codes[] = {[ECG_RHYTHM_AF] = 'A', [ECG_RHYTHM_NSR] = 'N', [ECG_RHYTHM_NOISE] = '~',
                                 [ECG_RHYTHM_OTHER] = 'O'};
    const char *cands[2] = {"%s/REFERENCE.csv", "%s/../REFERENCE.csv"};
    int label = -1;
    for (int c = 0; c < 2 && label < 0; c++) {
        char path[4096], line[256];
        snprintf(path, sizeof path, cands[c], dir);
        FILE *f = fopen(path, "r");
        size_t n = strlen(name);
        while (f && label < 0 && fgets(line, sizeof line, f))
            if (!strncmp(line, name, n) && line[n] == ',' && strchr("\r\n", line[n + 2]))
                for (int k = 0; k < ECG_RHYTHM_COUNT; k++)
                    label = codes[k] == line[n + 1] ? k : label;
        if (f)
            fclose(f);
    }
    return label;
}

static int read_cinc(const char *path, struct ecg_dataset *ds, struct ecg_error *err)
{
    struct ecg_record rec;
    int rc = ecg_cinc2017_read_record(path, &rec, err);
    if (rc) {
        free(rec.signal);
        return rc;
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    rec.label = cinc_label(dir, rec.id);
    return ecg_dataset_push(ds, &rec, err);
}

static int read_cachet(const char *path, struct ecg_dataset *ds, struct ecg_error *err)
{
    struct ecg_read_options opt;
    ecg_read_options_default(&opt);
    return ecg_cachet_read_short(path, &opt, ds, err);
}

/* Parses one line into up to two numbers; returns how many (0: not numeric). */
static int parse_line(char *line, double v[2])
{
    int n = 0;
    char *p = line;
    while (n < 3) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == ';')
            p++;
        if (*p == '\0' || *p == '\n' || *p == '\r')
            break;
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || errno || !(*end == '\0' || strchr(" \t,;\r\n", *end)))
            return 0;
        if (n < 2)
            v[n] = x;
        n++;
        p = end;
    }
    return n > 2 ? 0 : n;
}

/* Reads samples (one column, or time,value) from f; a first line that is not numbers is a header. */
static int read_csv_stream(FILE *f, const char *name, double fs, struct ecg_record *rec, struct ecg_error *err)
{
    char line[1024];
    int64_t cap = 4096, lineno = 0, columns = 0;
    double t0 = 0, t1 = 0;
    rec->signal = malloc((size_t)cap * sizeof *rec->signal);
    if (!rec->signal)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", name);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        double v[2];
        int n = parse_line(line, v);
        if (n == 0 && (lineno == 1 || line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0'))
            continue; /* header, comment or blank */
        if (n == 0 || (columns && n != columns))
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s:%lld: expected %s, found '%.40s'", name, (long long)lineno,
                                 columns == 2 ? "time,value" : columns == 1 ? "one number" : "one or two numbers",
                                 line);
        columns = n;
        if (rec->length == cap) {
            float *grown = realloc(rec->signal, (size_t)(cap *= 2) * sizeof *grown);
            if (!grown)
                return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory at line %lld", name, (long long)lineno);
            rec->signal = grown;
        }
        if (n == 2 && rec->length == 0)
            t0 = v[0];
        t1 = n == 2 ? v[0] : t1;
        rec->signal[rec->length++] = (float)v[n - 1];
    }
    if (ferror(f))
        return ecg_error_set(err, ECG_ERR_IO, "%s: read error: %s", name, strerror(errno));
    if (rec->length < 2)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected samples, one per line, found %lld", name,
                             (long long)rec->length);
    if (!(fs > 0) && columns == 2 && t1 > t0) {
        /* Times written with few decimals put the rate a hair off a whole number of Hz. */
        fs = (double)(rec->length - 1) / (t1 - t0);
        if (fabs(fs - round(fs)) < 1e-3 * fs)
            fs = round(fs);
    }
    if (!(fs > 0) || !isfinite(fs))
        return ecg_error_set(err, ECG_ERR_USAGE, "%s: the sampling rate is unknown: give fs (Hz) or a time column",
                             name);
    rec->fs = fs;
    return ECG_OK;
}

static int read_csv(const char *path, double fs, struct ecg_dataset *ds, struct ecg_error *err)
{
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "r");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct ecg_record rec = {.label = -1};
    const char *base = strrchr(path, '/');
    snprintf(rec.id, sizeof rec.id, "%s", is_stdin ? "stdin" : base ? base + 1 : path);
    char *dot = strrchr(rec.id, '.');
    if (dot && dot != rec.id)
        *dot = '\0';
    int rc = read_csv_stream(f, is_stdin ? "standard input" : path, fs, &rec, err);
    if (!is_stdin)
        fclose(f);
    if (rc) {
        free(rec.signal);
        return rc;
    }
    return ecg_dataset_push(ds, &rec, err);
}

/* The raw records of a file into ds (zeroed; the caller frees it). */
static int read_records(const char *path, const char *format, double fs, struct ecg_dataset *ds,
                        struct ecg_error *err)
{
    memset(ds, 0, sizeof *ds);
    ds->task = ECG_TASK_RHYTHM;
    bool is_stdin = strcmp(path, "-") == 0;
    const char *fmt = format ? format : is_stdin ? NULL : format_of(path);
    if (!fmt)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             is_stdin ? "standard input: give its format (csv) and sampling rate"
                                      : "%s: expected a CinC 2017 record (.mat), a CACHET-CADB file (.h5) or samples "
                                        "(.csv, .txt)",
                             path);
    if (!strcmp(fmt, "csv"))
        return read_csv(path, fs, ds, err);
    if (is_stdin)
        return ecg_error_set(err, ECG_ERR_USAGE, "standard input: only the csv format is read from it, not %s", fmt);
    if (!strcmp(fmt, "cinc2017"))
        return read_cinc(path, ds, err);
    if (!strcmp(fmt, "cachet_short"))
        return read_cachet(path, ds, err);
    return ecg_error_set(err, ECG_ERR_USAGE, "%s: format '%s': expected cinc2017, cachet_short or csv", path, fmt);
}

int ecg_infer_parse_csv(const char *text, size_t len, double fs, const char *name, float **samples, int64_t *n,
                        double *fs_out, struct ecg_error *err)
{
    *samples = NULL;
    *n = 0;
    *fs_out = 0;
    struct ecg_record rec = {.label = -1};
    FILE *f = len ? fmemopen((void *)text, len, "r") : NULL;
    int rc = f ? read_csv_stream(f, name, fs, &rec, err)
               : ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected samples, one per line, found 0", name);
    if (f)
        fclose(f);
    if (rc) {
        free(rec.signal);
        return rc;
    }
    *samples = rec.signal;
    *n = rec.length;
    *fs_out = rec.fs;
    return ECG_OK;
}

void ecg_infer_results_free(struct ecg_infer_result *r, int64_t count)
{
    for (int64_t i = 0; r && i < count; i++)
        ecg_infer_result_free(&r[i]);
    free(r);
}

/* Reads and prepares every record of the file; with a context, classifies them in batches; hands each to fn. */
static int run_file(const struct ecg_infer_model *m, struct ecg_infer_context *ctx, const char *path,
                    const char *format, double fs, ecg_infer_result_fn fn, void *user, struct ecg_error *err)
{
    struct ecg_dataset ds;
    struct ecg_infer_batch b = {0};
    int rc = read_records(path, format, fs, &ds, err); /* its messages name the file */
    if (rc) {
        ecg_dataset_free(&ds);
        return rc;
    }
    if (ctx)
        rc = ecg_infer_batch_init(&b, ctx, fn, user, err);
    for (int64_t i = 0; !rc && i < ds.count; i++) {
        struct ecg_record *rec = &ds.records[i];
        struct ecg_infer_result r;
        if ((rc = ecg_prepare_record(&m->config, rec, err))) {
            ecg_error_prefix(err, rc, "record '%s'", rec->id);
            break;
        }
        if ((rc = ecg_infer_windows(m, rec, &r, err)))
            break;
        rc = ctx ? ecg_infer_batch_add(&b, &r, err) : fn(user, &r, err);
        ecg_infer_result_free(&r);
    }
    if (!rc && ctx)
        rc = ecg_infer_batch_finish(&b, err);
    ecg_infer_batch_free(&b);
    ecg_dataset_free(&ds);
    if (rc)
        ecg_error_prefix(err, rc, "%s", strcmp(path, "-") ? path : "standard input");
    return rc;
}

struct collected {
    struct ecg_infer_result *r;
    int64_t n, cap;
};

static int collect(void *user, struct ecg_infer_result *r, struct ecg_error *err)
{
    struct collected *c = user;
    if (c->n == c->cap) {
        int64_t cap = c->cap ? 2 * c->cap : 16;
        struct ecg_infer_result *grown = realloc(c->r, (size_t)cap * sizeof *grown);
        if (!grown)
            return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for %lld results", (long long)cap);
        c->r = grown;
        c->cap = cap;
    }
    c->r[c->n++] = *r;
    memset(r, 0, sizeof *r);
    return ECG_OK;
}

static int collect_file(const struct ecg_infer_model *m, struct ecg_infer_context *ctx, const char *path,
                        const char *format, double fs, struct ecg_infer_result **out, int64_t *count,
                        struct ecg_error *err)
{
    struct collected c = {0};
    int rc = run_file(m, ctx, path, format, fs, collect, &c, err);
    if (rc) {
        ecg_infer_results_free(c.r, c.n);
        c.r = NULL;
        c.n = 0;
    }
    *out = c.r;
    *count = c.n;
    return rc;
}

int ecg_infer_prepare_file(const struct ecg_infer_model *m, const char *path, const char *format, double fs,
                           struct ecg_infer_result **out, int64_t *count, struct ecg_error *err)
{
    return collect_file(m, NULL, path, format, fs, out, count, err);
}

int ecg_infer_classify_file(struct ecg_infer_context *ctx, const char *path, const char *format, double fs,
                            struct ecg_infer_result **out, int64_t *count, struct ecg_error *err)
{
    return collect_file(ctx->model, ctx, path, format, fs, out, count, err);
}

int ecg_infer_classify_file_each(struct ecg_infer_context *ctx, const char *path, const char *format, double fs,
                                 ecg_infer_result_fn fn, void *user, struct ecg_error *err)
{
    return run_file(ctx->model, ctx, path, format, fs, fn, user, err);
}
