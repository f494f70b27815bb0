/* A strict JSON reader for one record: {"fs": number, "signal": [numbers], "record": "name"}. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/input.h"

struct reader {
    const char *s;
    size_t n, at;
    struct ecg_error *err;
};

static void skip_ws(struct reader *r)
{
    while (r->at < r->n &&
           (r->s[r->at] == ' ' || r->s[r->at] == '\t' || r->s[r->at] == '\n' || r->s[r->at] == '\r'))
        r->at++;
}

/* What is at the cursor, for messages. */
static const char *found(const struct reader *r, char *buf, size_t cap)
{
    if (r->at >= r->n)
        return "the end of the body";
    char c = r->s[r->at];
    snprintf(buf, cap, c >= 32 && c < 127 ? "'%c'" : "byte 0x%02x",
             c >= 32 && c < 127 ? c : (unsigned char)c);
    return buf;
}

static int expected(struct reader *r, const char *what, const char *where)
{
    char b[16];
    return ecg_error_set(r->err, ECG_ERR_FORMAT, "JSON body, byte %zu%s%s: expected %s, found %s", r->at,
                         where[0] ? ", " : "", where, what, found(r, b, sizeof b));
}

static int expect(struct reader *r, char c, const char *what, const char *where)
{
    skip_ws(r);
    if (r->at >= r->n || r->s[r->at] != c)
        return expected(r, what, where);
    r->at++;
    return ECG_OK;
}

/* A strict JSON number (no NaN, Infinity, leading '+', hex or leading zeros), finite and within range. */
static int number(struct reader *r, const char *where, double *v)
{
    skip_ws(r);
    size_t i = r->at;
    const char *s = r->s;
#define DIGIT(k) ((k) < r->n && s[k] >= '0' && s[k] <= '9')
    if (i < r->n && s[i] == '-')
        i++;
    if (!DIGIT(i))
        return expected(r, "a number", where);
    if (s[i] == '0')
        i++;
    else
        while (DIGIT(i))
            i++;
    if (i < r->n && s[i] == '.') {
        if (!DIGIT(i + 1))
            return expected(r, "a number", where);
        for (i++; DIGIT(i); i++) {
        }
    }
    if (i < r->n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < r->n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!DIGIT(i))
            return expected(r, "a number", where);
        while (DIGIT(i))
            i++;
    }
#undef DIGIT
    char buf[64];
    if (i - r->at >= sizeof buf)
        return ecg_error_set(r->err, ECG_ERR_FORMAT,
                             "JSON body, byte %zu, %s: number of more than %zu characters", r->at, where,
                             sizeof buf - 1);
    memcpy(buf, s + r->at, i - r->at);
    buf[i - r->at] = '\0';
    *v = strtod(buf, NULL);
    if (!isfinite(*v) || fabs(*v) > ECG_SERVE_SAMPLE_ABS_MAX)
        return ecg_error_set(r->err, ECG_ERR_VALUE, "JSON body, byte %zu, %s: %s is out of range (|x| <= %g)",
                             r->at, where, buf, ECG_SERVE_SAMPLE_ABS_MAX);
    r->at = i;
    return ECG_OK;
}

/* A JSON string without escapes other than \" \\ \/ (keys and record names are plain). */
static int string(struct reader *r, char *out, size_t cap, const char *where)
{
    ECG_TRY(expect(r, '"', "a string", where));
    size_t o = 0;
    while (r->at < r->n && r->s[r->at] != '"') {
        char c = r->s[r->at];
        if (c == '\\') {
            char e = r->at + 1 < r->n ? r->s[r->at + 1] : 0;
            if (e != '"' && e != '\\' && e != '/')
                return ecg_error_set(r->err, ECG_ERR_FORMAT,
                                     "JSON body, byte %zu, %s: unsupported escape in a string", r->at, where);
            c = e;
            r->at++;
        } else if ((unsigned char)c < 32) {
            return ecg_error_set(r->err, ECG_ERR_FORMAT,
                                 "JSON body, byte %zu, %s: control character in a string", r->at, where);
        }
        if (o + 1 >= cap)
            return ecg_error_set(r->err, ECG_ERR_RANGE,
                                 "JSON body, byte %zu, %s: string longer than %zu bytes", r->at, where,
                                 cap - 1);
        out[o++] = c;
        r->at++;
    }
    out[o] = '\0';
    return expect(r, '"', "'\"' closing the string", where);
}

static int samples(struct reader *r, int64_t max, float **signal, int64_t *length)
{
    ECG_TRY(expect(r, '[', "'[' starting the signal array", "key 'signal'"));
    int64_t n = 0, cap = 0;
    float *x = NULL;
    skip_ws(r);
    if (r->at < r->n && r->s[r->at] == ']') {
        r->at++;
        return ecg_error_set(r->err, ECG_ERR_VALUE,
                             "JSON body, key 'signal': empty array, expected samples in mV");
    }
    for (;;) {
        char where[48];
        snprintf(where, sizeof where, "signal[%lld]", (long long)n);
        double v;
        int rc = n >= max ? ecg_error_set(r->err, ECG_ERR_RANGE,
                                          "JSON body, key 'signal': more than %lld samples", (long long)max)
                          : number(r, where, &v);
        if (!rc && n == cap) {
            cap = cap ? 2 * cap : 4096;
            float *g = realloc(x, (size_t)cap * sizeof *g);
            if (!g)
                rc = ecg_error_set(r->err, ECG_ERR_NOMEM, "JSON body: out of memory for %lld samples",
                                   (long long)cap);
            else
                x = g;
        }
        if (rc) {
            free(x);
            return rc;
        }
        x[n++] = (float)v;
        skip_ws(r);
        if (r->at < r->n && r->s[r->at] == ',') {
            r->at++;
            continue;
        }
        if ((rc = expect(r, ']', "',' or ']' in the signal array", where))) {
            free(x);
            return rc;
        }
        break;
    }
    *signal = x;
    *length = n;
    return ECG_OK;
}

static int members(struct reader *r, int64_t max, struct ecg_serve_params *p, float **signal, int64_t *length)
{
    int have_fs = 0, have_record = 0;
    ECG_TRY(expect(r, '{', "'{' (a JSON object with fs and signal)", ""));
    skip_ws(r);
    if (r->at < r->n && r->s[r->at] == '}')
        return ecg_error_set(r->err, ECG_ERR_VALUE, "JSON body: empty object, expected keys fs and signal");
    for (;;) {
        char key[32];
        ECG_TRY(string(r, key, sizeof key, "a key"));
        ECG_TRY(expect(r, ':', "':' after the key", key));
        int dup = 0;
        if (strcmp(key, "fs") == 0) {
            dup = have_fs++;
            double v;
            if (!dup) {
                ECG_TRY(number(r, "key 'fs'", &v));
                if (!(v >= ECG_SERVE_FS_MIN && v <= ECG_SERVE_FS_MAX))
                    return ecg_error_set(r->err, ECG_ERR_VALUE,
                                         "JSON body, key 'fs': %g Hz, expected %g to %g", v, ECG_SERVE_FS_MIN,
                                         ECG_SERVE_FS_MAX);
                p->fs = v;
            }
        } else if (strcmp(key, "signal") == 0) {
            dup = *signal != NULL;
            if (!dup)
                ECG_TRY(samples(r, max, signal, length));
        } else if (strcmp(key, "record") == 0) {
            dup = have_record++;
            if (!dup)
                ECG_TRY(string(r, p->record, sizeof p->record, "key 'record'"));
        } else {
            return ecg_error_set(r->err, ECG_ERR_VALUE,
                                 "JSON body: unknown key '%s', expected fs, signal or record", key);
        }
        if (dup)
            return ecg_error_set(r->err, ECG_ERR_VALUE, "JSON body: key '%s' appears twice", key);
        skip_ws(r);
        if (r->at < r->n && r->s[r->at] == ',') {
            r->at++;
            continue;
        }
        return expect(r, '}', "',' or '}' in the object", "");
    }
}

int ecg_serve_json_signal(const char *text, size_t size, int64_t max_samples, struct ecg_serve_params *p,
                          float **signal, int64_t *length, struct ecg_error *err)
{
    struct reader r = {text, size, 0, err};
    *signal = NULL;
    *length = 0;
    int rc = members(&r, max_samples, p, signal, length);
    if (!rc) {
        skip_ws(&r);
        if (r.at < r.n)
            rc = expected(&r, "the end of the body after the object", "");
    }
    if (!rc && !*signal)
        rc = ecg_error_set(err, ECG_ERR_VALUE, "JSON body: no key 'signal' (an array of samples in mV)");
    if (!rc && !(p->fs > 0))
        rc = ecg_error_set(err, ECG_ERR_VALUE, "JSON body: no sampling rate: give key 'fs' (Hz) or ?fs=");
    if (rc) {
        free(*signal);
        *signal = NULL;
        *length = 0;
    }
    return rc;
}
