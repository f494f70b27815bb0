/* multipart/form-data: boundary from the Content-Type, then parts with their headers, without copying. */
#define _GNU_SOURCE /* memmem */
#include "serve/multipart.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Copies the value of parameter `key` (quoted or token) from a header value; 1 when found. */
static int header_param(const char *v, size_t n, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i < n; i++) {
        if (v[i] != ';')
            continue;
        size_t p = i + 1;
        while (p < n && (v[p] == ' ' || v[p] == '\t'))
            p++;
        if (p + klen + 1 > n || strncasecmp(v + p, key, klen) != 0 || v[p + klen] != '=')
            continue;
        p += klen + 1;
        size_t o = 0;
        if (p < n && v[p] == '"') {
            for (p++; p < n && v[p] != '"'; p++) {
                if (v[p] == '\\' && p + 1 < n)
                    p++;
                if (o + 1 < cap)
                    out[o++] = v[p];
            }
        } else {
            for (; p < n && v[p] != ';' && v[p] != ' ' && v[p] != '\t'; p++)
                if (o + 1 < cap)
                    out[o++] = v[p];
        }
        out[o] = '\0';
        return 1;
    }
    return 0;
}

int ecg_multipart_boundary(const char *content_type, char *boundary, size_t cap, struct ecg_error *err)
{
    static const char type[] = "multipart/form-data";
    if (!content_type || strncasecmp(content_type, type, sizeof type - 1) != 0)
        return ecg_error_set(err, ECG_ERR_FORMAT, "Content-Type '%.100s': expected multipart/form-data",
                             content_type ? content_type : "");
    char b[128];
    if (!header_param(content_type, strlen(content_type), "boundary", b, sizeof b))
        return ecg_error_set(err, ECG_ERR_FORMAT, "Content-Type '%.100s': no boundary parameter",
                             content_type);
    size_t n = strlen(b);
    if (n < 1 || n > 70 || n + 1 > cap)
        return ecg_error_set(err, ECG_ERR_FORMAT, "multipart boundary of %zu characters, expected 1..70", n);
    memcpy(boundary, b, n + 1);
    return ECG_OK;
}

/* Parses one part's header block [h, h+n) into p; returns ECG_OK or a message about part `index`. */
static int part_headers(const char *h, size_t n, int32_t index, struct ecg_multipart_part *p,
                        struct ecg_error *err)
{
    int disposition = 0;
    while (n > 0) {
        const char *eol = memmem(h, n, "\r\n", 2);
        size_t len = eol ? (size_t)(eol - h) : n;
        const char *colon = memchr(h, ':', len);
        if (!colon)
            return ecg_error_set(err, ECG_ERR_FORMAT, "multipart part %d: header line without ':'", index);
        size_t klen = (size_t)(colon - h);
        const char *v = colon + 1;
        size_t vlen = len - klen - 1;
        while (vlen > 0 && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        if (klen == 19 && strncasecmp(h, "Content-Disposition", 19) == 0) {
            if (vlen < 9 || strncasecmp(v, "form-data", 9) != 0)
                return ecg_error_set(err, ECG_ERR_FORMAT,
                                     "multipart part %d: Content-Disposition '%.*s', expected form-data",
                                     index, (int)(vlen > 60 ? 60 : vlen), v);
            if (!header_param(v, vlen, "name", p->name, sizeof p->name) || !p->name[0])
                return ecg_error_set(err, ECG_ERR_FORMAT,
                                     "multipart part %d: Content-Disposition has no name", index);
            header_param(v, vlen, "filename", p->filename, sizeof p->filename);
            disposition = 1;
        } else if (klen == 12 && strncasecmp(h, "Content-Type", 12) == 0) {
            size_t c = vlen < sizeof p->content_type - 1 ? vlen : sizeof p->content_type - 1;
            memcpy(p->content_type, v, c);
            p->content_type[c] = '\0';
        }
        if (!eol)
            break;
        n -= len + 2;
        h = eol + 2;
    }
    if (!disposition)
        return ecg_error_set(err, ECG_ERR_FORMAT, "multipart part %d: no Content-Disposition header", index);
    return ECG_OK;
}

int ecg_multipart_parse(const unsigned char *body, size_t size, const char *boundary,
                        const struct ecg_multipart_limits *lim, struct ecg_multipart_part **parts,
                        int32_t *count, struct ecg_error *err)
{
    *parts = NULL;
    *count = 0;
    char delim[80];
    size_t dlen = (size_t)snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    /* The first delimiter may start the body without the leading CRLF. */
    const char *b = (const char *)body, *end = b + size, *after;
    if (size >= dlen - 2 && memcmp(b, delim + 2, dlen - 2) == 0)
        after = b + dlen - 2;
    else if ((after = memmem(b, size, delim, dlen)))
        after += dlen;
    else
        return ecg_error_set(err, ECG_ERR_FORMAT, "multipart body: boundary '%s' not found", boundary);
    struct ecg_multipart_part *arr = NULL;
    int32_t n = 0;
    int rc = ECG_OK;
    for (;;) {
        if (after + 2 <= end && after[0] == '-' && after[1] == '-')
            break; /* the closing delimiter */
        if (after + 2 > end || after[0] != '\r' || after[1] != '\n') {
            rc = ecg_error_set(err, ECG_ERR_FORMAT,
                               after + 2 > end
                                   ? "multipart body: truncated after part %d (no closing boundary)"
                                   : "multipart body: boundary line %d not followed by CRLF",
                               n);
            goto fail;
        }
        if (n >= lim->max_parts) {
            rc = ecg_error_set(err, ECG_ERR_RANGE, "multipart body: more than %d parts", lim->max_parts);
            goto fail;
        }
        const char *h = after + 2;
        const char *hend = memmem(h, (size_t)(end - h), "\r\n\r\n", 4);
        const char *next = hend ? memmem(hend + 4, (size_t)(end - hend - 4), delim, dlen) : NULL;
        if (!hend || !next) {
            rc = ecg_error_set(err, ECG_ERR_FORMAT, "multipart part %d: truncated (%s)", n + 1,
                               hend ? "no boundary after its data" : "no blank line after its headers");
            goto fail;
        }
        struct ecg_multipart_part *grown = realloc(arr, (size_t)(n + 1) * sizeof *arr);
        if (!grown) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "multipart body: out of memory");
            goto fail;
        }
        arr = grown;
        struct ecg_multipart_part *p = &arr[n];
        memset(p, 0, sizeof *p);
        if ((rc = part_headers(h, (size_t)(hend - h), n + 1, p, err)))
            goto fail;
        p->data = (const unsigned char *)hend + 4;
        p->size = (size_t)(next - (hend + 4));
        if (p->size > lim->max_part_bytes) {
            rc = ecg_error_set(err, ECG_ERR_RANGE, "multipart part %d ('%s'): %zu bytes, the limit is %zu",
                               n + 1, p->filename[0] ? p->filename : p->name, p->size, lim->max_part_bytes);
            goto fail;
        }
        n++;
        after = next + dlen;
    }
    if (n == 0) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "multipart body: no parts");
        goto fail;
    }
    *parts = arr;
    *count = n;
    return ECG_OK;
fail:
    free(arr);
    return rc;
}
