/* Samples from CSV or plain text: one column, or time,value; an optional header line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/input.h"

/* Parses up to two numbers separated by ',', ';', tab or spaces from line [s, s+n);
 * returns how many (0 when the line holds anything else). */
static int parse_line(const char *s, size_t n, double v[2])
{
    char buf[128];
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *p = buf;
    int k = 0;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return k;
        if (k == 2)
            return 0;
        char *end;
        v[k] = strtod(p, &end);
        if (end == p)
            return 0;
        /* strtod takes nan, inf and hex: keep them out of "numbers" unless finite decimals. */
        for (char *q = p; q < end; q++)
            if (!strchr("0123456789+-.eE", *q))
                return -1;
        k++;
        p = end;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == ',' || *p == ';')
            p++;
    }
}

/* The rate from a time column: uniform steps within 1%. */
static int rate_from_times(const char *name, const double *t, int64_t n, double *fs, struct ecg_error *err)
{
    if (n < 2)
        return ecg_error_set(err, ECG_ERR_VALUE,
                             "%s: one sample, cannot derive a sampling rate from its time", name);
    double dt = (t[n - 1] - t[0]) / (double)(n - 1);
    for (int64_t i = 1; i < n && dt > 0; i++)
        if (fabs((t[i] - t[i - 1]) - dt) > 0.01 * dt)
            return ecg_error_set(
                err, ECG_ERR_VALUE,
                "%s: time column steps by %g s at row %lld but %g s on average; expected uniform "
                "sampling (or give fs)",
                name, t[i] - t[i - 1], (long long)i + 1, dt);
    if (!(dt > 0) || !(1.0 / dt >= ECG_SERVE_FS_MIN && 1.0 / dt <= ECG_SERVE_FS_MAX))
        return ecg_error_set(
            err, ECG_ERR_VALUE,
            "%s: time column gives %g s per sample, expected seconds at %g..%g Hz (or give fs)", name, dt,
            ECG_SERVE_FS_MIN, ECG_SERVE_FS_MAX);
    *fs = 1.0 / dt;
    return ECG_OK;
}

/* The samples read so far: values and, for a time column, their times. */
struct samples {
    float *x;
    double *t;
    int64_t n, cap;
    int columns; /* 1 (values) or 2 (time,value); 0 before the first row */
};

/* Appends a row's value (and time) after checking it; line [line, line+len) is the row's text. */
static int add_row(struct samples *S, const double *v, int k, const char *name, int64_t lineno, const char *line,
                   size_t len, int64_t max_samples, struct ecg_error *err)
{
    if (k <= 0 || (S->columns && k != S->columns))
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s:%lld: '%.*s', expected %s", name, (long long)lineno,
                             (int)(len > 60 ? 60 : len), line,
                             S->columns == 2   ? "time,value"
                             : S->columns == 1 ? "one number"
                                               : "one number or time,value");
    S->columns = k;
    double value = v[k - 1];
    if (fabs(value) > ECG_SERVE_SAMPLE_ABS_MAX)
        return ecg_error_set(err, ECG_ERR_VALUE, "%s:%lld: sample %g is out of range (|x| <= %g)", name,
                             (long long)lineno, value, ECG_SERVE_SAMPLE_ABS_MAX);
    if (S->n >= max_samples)
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: more than %lld samples", name, (long long)max_samples);
    if (S->n == S->cap) {
        int64_t cap = S->cap ? 2 * S->cap : 4096;
        float *gx = realloc(S->x, (size_t)cap * sizeof *gx);
        if (gx)
            S->x = gx;
        double *gt = gx ? realloc(S->t, (size_t)cap * sizeof *gt) : NULL;
        if (gt)
            S->t = gt;
        if (!gx || !gt)
            return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory for %lld samples", name, (long long)cap);
        S->cap = cap;
    }
    S->x[S->n] = (float)value;
    S->t[S->n] = v[0];
    S->n++;
    return ECG_OK;
}

int ecg_serve_csv_signal(const char *name, const char *text, size_t size, int64_t max_samples, double *fs,
                         float **signal, int64_t *length, struct ecg_error *err)
{
    *signal = NULL;
    *length = 0;
    struct samples S = {0};
    int64_t lineno = 0;
    int rc = ECG_OK;
    size_t at = 0;
    while (at < size && !rc) {
        const char *eol = memchr(text + at, '\n', size - at);
        size_t len = eol ? (size_t)(eol - (text + at)) : size - at;
        const char *line = text + at;
        at += len + 1;
        lineno++;
        while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
            len--;
        if (len == 0)
            continue;
        double v[2];
        int k = parse_line(line, len, v);
        if (k == 0 && lineno == 1 && !strchr("0123456789+-.", line[strspn(line, " \t")]))
            continue; /* a header line: words, not numbers */
        rc = add_row(&S, v, k, name, lineno, line, len, max_samples, err);
    }
    if (!rc && S.n == 0)
        rc = ecg_error_set(err, ECG_ERR_VALUE, "%s: no samples", name);
    if (!rc && !(*fs > 0)) {
        if (S.columns == 2)
            rc = rate_from_times(name, S.t, S.n, fs, err);
        else
            rc = ecg_error_set(err, ECG_ERR_VALUE,
                               "%s: no sampling rate: give fs (Hz) or a time,value column pair", name);
    }
    free(S.t);
    if (rc) {
        free(S.x);
        return rc;
    }
    *signal = S.x;
    *length = S.n;
    return ECG_OK;
}
