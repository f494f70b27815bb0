/* Query-string and form-field parameters: fs, include, record. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "serve/input.h"

static int set_include(struct ecg_serve_params *p, const char *value, struct ecg_error *err)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"signal", ECG_INCLUDE_SIGNAL},
                 {"spectrogram", ECG_INCLUDE_SPECTROGRAM},
                 {"gradcam", ECG_INCLUDE_GRADCAM},
                 {"all", ECG_INCLUDE_SIGNAL | ECG_INCLUDE_SPECTROGRAM | ECG_INCLUDE_GRADCAM}};
    const char *s = value;
    while (*s) {
        size_t n = strcspn(s, ",");
        int found = 0;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strlen(names[i].name) == n && strncmp(s, names[i].name, n) == 0) {
                p->include |= names[i].bit;
                found = 1;
            }
        if (!found)
            return ecg_error_set(
                err, ECG_ERR_VALUE,
                "parameter include: '%.*s', expected a comma list of signal, spectrogram, gradcam "
                "or all",
                (int)(n > 40 ? 40 : n), s);
        s += n + (s[n] == ',');
    }
    return ECG_OK;
}

int ecg_serve_param_set(struct ecg_serve_params *p, const char *key, const char *value, struct ecg_error *err)
{
    if (strcmp(key, "fs") == 0) {
        char *end;
        double v = strtod(value, &end);
        if (end == value || *end || !(v >= ECG_SERVE_FS_MIN && v <= ECG_SERVE_FS_MAX))
            return ecg_error_set(err, ECG_ERR_VALUE,
                                 "parameter fs: '%.40s', expected a sampling rate in Hz from %g to %g", value,
                                 ECG_SERVE_FS_MIN, ECG_SERVE_FS_MAX);
        p->fs = v;
        return ECG_OK;
    }
    if (strcmp(key, "include") == 0)
        return set_include(p, value, err);
    if (strcmp(key, "record") == 0) {
        size_t n = strlen(value);
        int printable = n > 0 && n < sizeof p->record;
        for (size_t i = 0; i < n && printable; i++)
            printable = isprint((unsigned char)value[i]) != 0;
        if (!printable)
            return ecg_error_set(err, ECG_ERR_VALUE, "parameter record: expected 1..%zu printable characters",
                                 sizeof p->record - 1);
        memcpy(p->record, value, n + 1);
        return ECG_OK;
    }
    return ecg_error_set(err, ECG_ERR_VALUE, "unknown parameter '%.40s', expected fs, include or record",
                         key);
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Percent-decodes [s, s+n) into out (cap bytes); 0 on a bad escape, a NUL byte or overflow. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+')
            c = ' ';
        else if (c == '%') {
            if (i + 2 >= n)
                return 0;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return 0;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= cap)
            return 0;
        out[o++] = c;
    }
    out[o] = '\0';
    return 1;
}

int ecg_serve_query_parse(const char *query, struct ecg_serve_params *p, struct ecg_error *err)
{
    const char *s = query ? query : "";
    while (*s) {
        size_t n = strcspn(s, "&");
        if (n > 0) {
            const char *eq = memchr(s, '=', n);
            char key[64], value[256];
            size_t klen = eq ? (size_t)(eq - s) : n;
            if (!eq || !decode(s, klen, key, sizeof key) ||
                !decode(eq + 1, n - klen - 1, value, sizeof value))
                return ecg_error_set(err, ECG_ERR_VALUE,
                                     "query string: '%.*s', expected key=value with valid %%-escapes",
                                     (int)(n > 60 ? 60 : n), s);
            ECG_TRY(ecg_serve_param_set(p, key, value, err));
        }
        s += n + (s[n] == '&');
    }
    return ECG_OK;
}
