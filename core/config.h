/* Config machinery: typed structs filled from YAML files and key=value overrides by walking a schema table passed in. */
#ifndef ECG_CORE_CONFIG_H
#define ECG_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"

/*
 * How it works
 *
 * core/ knows no key names and no module enums.  A program's schema (struct
 * ecg_schema: ecgtrain's is train/config_schema.c) is a table with one row
 * per key: its dotted name ("optim.lr"), type, default (as YAML text, parsed
 * by the same code as files), range, enum names, help text and the offset of
 * the field it fills inside the program's config struct -- a field of the
 * module that uses the value, so the value arrives there with no
 * translation.  Loading, overrides, validation, printing, --help, copying,
 * comparing and freeing all walk the table passed in.
 *
 * Field types by schema type:
 *   bool   -> bool             int    -> int64_t        float -> double
 *   enum   -> int or a module's enum type (the index in the row's names)
 *   string, path, block -> char * (heap-owned; a path may be NULL for "none")
 *   floats -> struct ecg_config_floats (a list, or one of the key's names)
 *   vector -> double[max_len] (a list of exactly that many floats)
 *
 * Relative paths are kept as written, except `base:`, which is relative to
 * the file that names it.  The loader never checks that data or weight files
 * exist: whoever opens them does.
 *
 * Error contract: every fallible function returns an enum ecg_status and
 * fills `err` with one message naming the file:line:column (or the override),
 * the key, what was expected and what was found.  Type and syntax errors are
 * ECG_ERR_CONFIG, out-of-range values ECG_ERR_RANGE, unreadable files
 * ECG_ERR_IO, allocation failures ECG_ERR_NOMEM.
 */

/* A list of floats, or one named alternative (such as "none" or "inverse_frequency"). */
struct ecg_config_floats {
    int choice;     /* index into the key's names when n == 0; -1 for a list */
    int64_t n;      /* number of values (0 when a named choice is set) */
    double *values; /* heap-owned, n values */
};

/* ---- the schema ---- */

enum ecg_config_type {
    ECG_CFG_BOOL,
    ECG_CFG_INT,
    ECG_CFG_FLOAT,
    ECG_CFG_STRING,
    ECG_CFG_PATH,   /* a string, or plain `none` (stored as NULL) */
    ECG_CFG_ENUM,
    ECG_CFG_BLOCK,  /* one of the names, or an EfficientNet block name: stem, block<1-7><a-z>, top */
    ECG_CFG_FLOATS, /* a list of floats (each in range), or one of the names */
    ECG_CFG_VECTOR, /* exactly max_len floats (each in range) into a double[max_len] field */
};

/* C types a schema row can point at (a module's enum type counts as int); checked against the row's type
 * once (CTYPE in a table, tested). */
enum ecg_config_ctype {
    ECG_CT_BOOL, ECG_CT_I64, ECG_CT_DOUBLE, ECG_CT_INT, ECG_CT_STR, ECG_CT_FLOATS, ECG_CT_VECTOR, ECG_CT_OTHER
};

/* The C type a schema type stores into. */
enum ecg_config_ctype ecg_config_ctype_of(enum ecg_config_type type);

/* Row flags. */
#define ECG_CFG_MIN_OPEN 1u /* range excludes min */
#define ECG_CFG_MAX_OPEN 2u /* range excludes max */

struct ecg_config_key {
    const char *name;             /* dotted: "optim.lr" */
    enum ecg_config_type type;
    size_t offset;                /* of the field in the program's config struct */
    int ctype;                    /* enum ecg_config_ctype of the field (internal check) */
    const char *def;              /* default, as YAML text */
    double min, max;              /* inclusive unless flagged; int, float, each list element */
    unsigned flags;
    const char *const *names;     /* NULL-terminated: enum names, named alternatives */
    int64_t min_len, max_len;     /* floats: allowed list length */
    /* Optional extra check of a value already stored: writes "expected ..., found ..." */
    int (*check)(const void *field, char *why, size_t n);
    const char *help;
};

/* A program's whole schema.  Keys of one section stay together (the printer relies on it). */
struct ecg_schema {
    const struct ecg_config_key *keys;
    int64_t count;
    size_t size;         /* sizeof the config struct the offsets point into */
    const char *program; /* named in messages and the YAML header: "see <program> --help" */
    /* Fills the fields no key sets (a module's own defaults) on a zeroed struct; may be NULL. */
    void (*init)(void *c);
    /* Constraints between keys, run once the file and the overrides are applied; may be NULL. */
    int (*check)(const void *c, struct ecg_error *err);
};

/* Longest key or section name a suggestion can hold. */
#define ECG_SCHEMA_NAME_MAX 128

/* The row of a dotted key, or NULL. */
const struct ecg_config_key *ecg_schema_find(const struct ecg_schema *s, const char *name);

/* True when `name` is a section (a proper prefix of some key, up to a dot). */
bool ecg_schema_is_section(const struct ecg_schema *s, const char *name);

/* The key or section name closest to `name` by edit distance, written into buf (n bytes) and returned,
 * or NULL if none is close. */
const char *ecg_schema_suggest(const struct ecg_schema *s, const char *name, char *buf, size_t n);

/* Formats a double so that strtod gives back the identical value. */
void ecg_config_format_double(double v, char *buf, size_t n);
/* The type's name as --help shows it: "int", "float", "enum", ... */
const char *ecg_config_type_name(enum ecg_config_type type);

/* ---- loading ---- */

/* Zeroes `c`, runs the schema's init, then sets every key to its default.  `c` must be uninitialised or
 * freed.  Fails only on allocation. */
int ecg_schema_defaults(const struct ecg_schema *s, void *c, struct ecg_error *err);

/* Applies the YAML file at `path` on top of `c` (which holds defaults or an
 * earlier state): first its `base:` chain, outermost base first, then its own
 * keys.  An empty file changes nothing.  Does not run the cross-key checks
 * (overrides may still fix them): see ecg_schema_check(). */
int ecg_schema_load(const struct ecg_schema *s, void *c, const char *path, struct ecg_error *err);

/* Same from YAML text; `name` labels messages and is the base for a relative `base:`. */
int ecg_schema_load_string(const struct ecg_schema *s, void *c, const char *text, const char *name,
                           struct ecg_error *err);

/* Applies one "dotted.key=value" assignment; the value is YAML ("[1, 2]" for lists). */
int ecg_schema_override(const struct ecg_schema *s, void *c, const char *assignment, struct ecg_error *err);

/* Runs the schema's cross-key checks. */
int ecg_schema_check(const struct ecg_schema *s, const void *c, struct ecg_error *err);

/* The whole sequence a program runs: defaults, the file (path may be NULL for
 * defaults only), the overrides in order, the cross-key checks.  On failure
 * `c` is freed. */
int ecg_schema_resolve(const struct ecg_schema *s, void *c, const char *path, int noverrides,
                       char *const *overrides, struct ecg_error *err);

/* Frees heap-owned strings and lists; freeing a zeroed config is a no-op. */
void ecg_schema_free(const struct ecg_schema *s, void *c);

/* Deep copy into `dst` (uninitialised or freed). */
int ecg_schema_copy(const struct ecg_schema *s, void *dst, const void *src, struct ecg_error *err);

/* True when every key has the same value; otherwise false and, if `first`
 * is not NULL, the name of the first differing key. */
bool ecg_schema_equal(const struct ecg_schema *s, const void *a, const void *b, const char **first);

/* ---- printing ---- */

/* Writes every key, grouped in sections, as YAML that loads back to the
 * identical values (floats round-trip exact; a string that a YAML 1.1 or 1.2
 * reader would take for another type or value is quoted). */
int ecg_schema_write_yaml(const struct ecg_schema *s, const void *c, FILE *f, struct ecg_error *err);

/* The same YAML as a heap-owned string (free() it); NULL on failure. */
char *ecg_schema_to_string(const struct ecg_schema *s, const void *c, struct ecg_error *err);

/* Writes one key's value as YAML text into buf (truncated to n). */
void ecg_schema_format_value(const void *c, const struct ecg_config_key *k, char *buf, size_t n);

/* Lists every key: name, type, default, range or names, help. */
void ecg_schema_print_help(const struct ecg_schema *s, FILE *f);

#endif
