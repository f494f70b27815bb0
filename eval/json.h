/* A tiny streaming JSON writer (escaped strings, round-trip-exact numbers, NaN as null). */
#ifndef ECG_EVAL_JSON_H
#define ECG_EVAL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Writes to a FILE* the caller owns; write errors show up in ferror(f),
 * which the caller checks when closing.  Misuse (a key outside an object,
 * a value where a key is due, unbalanced ends) is a bug and asserts.
 * With indent > 0, objects and arrays put one member per line; arrays whose
 * members are all numbers stay on one line (matrices read as rows).
 */

#define ECG_JSON_MAX_DEPTH 32

struct ecg_json {
    FILE *f;
    int indent;
    int depth;
    bool is_object[ECG_JSON_MAX_DEPTH];
    int count[ECG_JSON_MAX_DEPTH]; /* members written at each level */
    bool inline_array[ECG_JSON_MAX_DEPTH];
    bool key_pending;
};

void ecg_json_init(struct ecg_json *j, FILE *f, int indent);
void ecg_json_begin_object(struct ecg_json *j);
void ecg_json_end_object(struct ecg_json *j);
/* inline_members: keep the array on one line (for rows of numbers). */
void ecg_json_begin_array(struct ecg_json *j, bool inline_members);
void ecg_json_end_array(struct ecg_json *j);
void ecg_json_key(struct ecg_json *j, const char *key);
void ecg_json_string(struct ecg_json *j, const char *s);
/* Shortest decimal that reads back to the same double; NaN and infinities become null. */
void ecg_json_number(struct ecg_json *j, double v);
void ecg_json_int(struct ecg_json *j, int64_t v);
void ecg_json_bool(struct ecg_json *j, bool v);
void ecg_json_null(struct ecg_json *j);

/* Writes the escaped, quoted form of s: always valid JSON.  Control
 * characters become escapes (\n, \u001b, ...); a byte that is not part of
 * well-formed UTF-8 becomes \ufffd (U+FFFD), one per byte, so a file name
 * in another encoding still gives a readable, valid document. */
void ecg_json_write_string(FILE *f, const char *s);

/* The shortest "%.{p}g" form of v (p = 1..17) that strtod reads back exactly;
 * "nan", "inf", "-inf" for the non-finite values.  buf needs 32 bytes. */
const char *ecg_format_double(char *buf, size_t size, double v);

#endif
