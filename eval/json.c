/* Streaming JSON writer. */
#include "eval/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "eval/utf8.h"

const char *ecg_format_double(char *buf, size_t size, double v)
{
    ECG_ASSERT(buf && size >= 32);
    if (isnan(v))
        return snprintf(buf, size, "nan"), buf;
    if (isinf(v))
        return snprintf(buf, size, v > 0 ? "inf" : "-inf"), buf;
    if (v == floor(v) && fabs(v) < 1e15) /* integers print plainly: 100, not 1e+02 */
        return snprintf(buf, size, "%.0f", v), buf;
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

void ecg_json_init(struct ecg_json *j, FILE *f, int indent)
{
    j->f = f;
    j->indent = indent;
    j->depth = 0;
    j->is_object[0] = false;
    j->count[0] = 0;
    j->inline_array[0] = false;
    j->key_pending = false;
}

static void newline(struct ecg_json *j)
{
    if (j->indent <= 0)
        return;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth * j->indent; i++)
        fputc(' ', j->f);
}

/* Separator and layout before a value (or a key in an object). */
static void before_item(struct ecg_json *j, bool is_key)
{
    if (j->depth == 0) {
        ECG_ASSERT(j->count[0] == 0); /* one top-level value */
        j->count[0]++;
        return;
    }
    if (j->is_object[j->depth] && !is_key) {
        ECG_ASSERT(j->key_pending);
        j->key_pending = false;
        return;
    }
    ECG_ASSERT(!j->key_pending);
    if (j->count[j->depth]++ > 0)
        fputc(',', j->f);
    if (j->inline_array[j->depth]) {
        if (j->count[j->depth] > 1)
            fputc(' ', j->f);
    } else {
        newline(j);
    }
}

static void open_level(struct ecg_json *j, bool object, bool inline_members, char c)
{
    before_item(j, false);
    ECG_ASSERT(j->depth + 1 < ECG_JSON_MAX_DEPTH);
    fputc(c, j->f);
    j->depth++;
    j->is_object[j->depth] = object;
    j->count[j->depth] = 0;
    j->inline_array[j->depth] = inline_members || j->inline_array[j->depth - 1];
}

static void close_level(struct ecg_json *j, bool object, char c)
{
    ECG_ASSERT(j->depth > 0 && j->is_object[j->depth] == object && !j->key_pending);
    bool had = j->count[j->depth] > 0, inl = j->inline_array[j->depth];
    j->depth--;
    if (had && !inl)
        newline(j);
    fputc(c, j->f);
    if (j->depth == 0 && j->indent > 0)
        fputc('\n', j->f);
}

void ecg_json_begin_object(struct ecg_json *j) { open_level(j, true, false, '{'); }
void ecg_json_end_object(struct ecg_json *j) { close_level(j, true, '}'); }
void ecg_json_begin_array(struct ecg_json *j, bool inline_members)
{
    open_level(j, false, inline_members, '[');
}
void ecg_json_end_array(struct ecg_json *j) { close_level(j, false, ']'); }

void ecg_json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp;
        int len = ecg_utf8_decode(p, &cp);
        if (len == 0) { /* not UTF-8: one replacement character per bad byte */
            fprintf(f, "\\u%04x", (unsigned)ECG_UTF8_REPLACEMENT);
            p++;
            continue;
        }
        switch (cp) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (cp < 0x20 || cp == 0x7F)
                fprintf(f, "\\u%04x", (unsigned)cp);
            else
                fwrite(p, 1, (size_t)len, f);
        }
        p += len;
    }
    fputc('"', f);
}

void ecg_json_key(struct ecg_json *j, const char *key)
{
    ECG_ASSERT(j->depth > 0 && j->is_object[j->depth] && !j->key_pending);
    before_item(j, true);
    ecg_json_write_string(j->f, key);
    fputs(j->indent > 0 ? ": " : ":", j->f);
    j->key_pending = true;
}

void ecg_json_string(struct ecg_json *j, const char *s)
{
    before_item(j, false);
    ecg_json_write_string(j->f, s);
}

void ecg_json_number(struct ecg_json *j, double v)
{
    before_item(j, false);
    if (!isfinite(v)) {
        fputs("null", j->f);
        return;
    }
    char buf[32];
    fputs(ecg_format_double(buf, sizeof buf, v), j->f);
}

void ecg_json_int(struct ecg_json *j, int64_t v)
{
    before_item(j, false);
    fprintf(j->f, "%" PRId64, v);
}

void ecg_json_bool(struct ecg_json *j, bool v)
{
    before_item(j, false);
    fputs(v ? "true" : "false", j->f);
}

void ecg_json_null(struct ecg_json *j)
{
    before_item(j, false);
    fputs("null", j->f);
}
