/* Typed config values: converting YAML nodes to fields with their checks, formatting, defaults, copy, compare, free. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

#include "core/config_internal.h"

/* ---- small text helpers ---- */

/* Bounded appending to a buffer, or writing to a FILE when buf is NULL. */
struct sink {
    FILE *f;
    char *buf;
    size_t cap, len;
};

static void sink_printf(struct sink *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sink_printf(struct sink *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s->f) {
        vfprintf(s->f, fmt, ap);
    } else if (s->len + 1 < s->cap) {
        int w = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
        if (w > 0)
            s->len = s->len + (size_t)w < s->cap ? s->len + (size_t)w : s->cap - 1;
    }
    va_end(ap);
}

void ecg_config_format_double(double v, char *buf, size_t n)
{
    if (!buf || n == 0)
        return;
    /* Whole numbers of moderate size read best without an exponent: 100000, not 1e+05. */
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, n, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* A float as YAML 1.1 readers (PyYAML) read a float too: a dot before any exponent ("300.0", "1.0e-10"),
 * where "300" would be an integer and "1e-10" a string to them; YAML 1.2 reads the same number. */
static void format_yaml_float(double v, char *buf, size_t n)
{
    char num[40];
    ecg_config_format_double(v, num, sizeof num);
    const char *e = strpbrk(num, "eE");
    size_t mant = e ? (size_t)(e - num) : strlen(num);
    if (memchr(num, '.', mant))
        snprintf(buf, n, "%s", num);
    else
        snprintf(buf, n, "%.*s.0%s", (int)mant, num, e ? e : "");
}

void ecg_config_format_range(const struct ecg_config_key *k, char *buf, size_t n)
{
    char lo[32], hi[32];
    ecg_config_format_double(k->min, lo, sizeof lo);
    ecg_config_format_double(k->max, hi, sizeof hi);
    snprintf(buf, n, "%c%s, %s%c", (k->flags & ECG_CFG_MIN_OPEN) ? '(' : '[', lo, hi,
             (k->flags & ECG_CFG_MAX_OPEN) ? ')' : ']');
}

static bool in_range(const struct ecg_config_key *k, double v)
{
    bool lo = (k->flags & ECG_CFG_MIN_OPEN) ? v > k->min : v >= k->min;
    bool hi = (k->flags & ECG_CFG_MAX_OPEN) ? v < k->max : v <= k->max;
    return lo && hi;
}

/* "sgd, adamw, rmsprop" */
static void join_names(const char *const *names, char *buf, size_t n)
{
    struct sink s = {.buf = buf, .cap = n};
    buf[0] = '\0';
    for (int i = 0; names && names[i]; i++)
        sink_printf(&s, "%s%s", i ? ", " : "", names[i]);
}

static int name_index(const char *const *names, const char *s)
{
    for (int i = 0; names && names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* A plain scalar YAML reads as null. */
static bool is_null_scalar(const yaml_node_t *node)
{
    if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = (const char *)node->data.scalar.value;
    return !s[0] || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* What the user wrote, for "found ...": 'text', nothing, a list, a mapping. */
static void describe(const yaml_node_t *node, char *buf, size_t n)
{
    if (!node || (node->type == YAML_SCALAR_NODE && is_null_scalar(node))) {
        snprintf(buf, n, "nothing");
    } else if (node->type == YAML_SEQUENCE_NODE) {
        snprintf(buf, n, "a list");
    } else if (node->type == YAML_MAPPING_NODE) {
        snprintf(buf, n, "a mapping");
    } else {
        const char *s = (const char *)node->data.scalar.value;
        size_t len = strlen(s);
        if (len > 60)
            snprintf(buf, n, "'%.57s...'", s);
        else
            snprintf(buf, n, "'%s'", s);
    }
}

static bool is_block_name(const char *s)
{
    if (!strcmp(s, "stem") || !strcmp(s, "top"))
        return true;
    return strlen(s) == 7 && !strncmp(s, "block", 5) && s[5] >= '1' && s[5] <= '7' && s[6] >= 'a' &&
           s[6] <= 'z';
}

/* YAML's spellings of NaN and infinity (with or without the dot and sign). */
static bool looks_nonfinite(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (*s == '.')
        s++;
    return !strcasecmp(s, "nan") || !strcasecmp(s, "inf") || !strcasecmp(s, "infinity");
}

/* Parses a whole scalar as a double: 0 ok, 1 not a number, 2 not finite. */
static int parse_double(const char *s, double *out)
{
    if (looks_nonfinite(s))
        return 2;
    if (!s[0] || isspace((unsigned char)s[0]))
        return 1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end)
        return 1;
    if (!isfinite(v))
        return 2;
    *out = v;
    return 0;
}

/* Parses a whole scalar as a decimal integer: 0 ok, 1 not an integer, 2 too large. */
static int parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return 1;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return 1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE)
        return 2;
    *out = (int64_t)v;
    return 0;
}

/* ---- node -> value ---- */

union value {
    bool b;
    int64_t i;
    double d;
    int e;
    char *s;
    struct ecg_config_floats f;
};

static size_t ctype_size(enum ecg_config_ctype t)
{
    switch (t) {
    case ECG_CT_BOOL: return sizeof(bool);
    case ECG_CT_I64: return sizeof(int64_t);
    case ECG_CT_DOUBLE: return sizeof(double);
    case ECG_CT_INT: return sizeof(int);
    case ECG_CT_STR: return sizeof(char *);
    case ECG_CT_FLOATS: return sizeof(struct ecg_config_floats);
    case ECG_CT_VECTOR:
    case ECG_CT_OTHER: break;
    }
    ECG_ASSERT(0);
    return 0;
}

static void free_value(enum ecg_config_ctype t, union value *v)
{
    if (t == ECG_CT_STR) {
        free(v->s);
        v->s = NULL;
    } else if (t == ECG_CT_FLOATS) {
        free(v->f.values);
        v->f.values = NULL;
        v->f.n = 0;
    }
}

static int dup_string(const char *s, char **out)
{
    *out = strdup(s);
    return *out ? ECG_OK : ECG_ERR_NOMEM;
}

/* A number in range, as a float; `what` prefixes the message ("" or "element 2: "). */
static int convert_double(const struct ecg_config_key *k, const yaml_node_t *node, const char *what,
                          double *out, char *why, size_t n)
{
    char found[96];
    describe(node, found, sizeof found);
    if (!node || node->type != YAML_SCALAR_NODE || is_null_scalar(node)) {
        snprintf(why, n, "%sexpected a number, found %s", what, found);
        return ECG_ERR_CONFIG;
    }
    const char *s = (const char *)node->data.scalar.value;
    int rc = parse_double(s, out);
    if (rc == 1) {
        snprintf(why, n, "%sexpected a number, found %s", what, found);
        return ECG_ERR_CONFIG;
    }
    if (rc == 2) {
        snprintf(why, n, "%sexpected a finite number, found %s", what, found);
        return ECG_ERR_CONFIG;
    }
    if (!in_range(k, *out)) {
        char range[80];
        ecg_config_format_range(k, range, sizeof range);
        snprintf(why, n, "%sexpected a value in %s, found %s", what, range, s);
        return ECG_ERR_RANGE;
    }
    return ECG_OK;
}

/* A list of numbers (ECG_CFG_FLOATS, ECG_CFG_VECTOR), or one of the key's names for a computed list. */
static int convert_floats(const struct ecg_config_key *k, yaml_document_t *doc, yaml_node_t *node, const char *s,
                          const char *found, union value *v, char *why, size_t n)
{
    static const char *const no_names[] = {NULL};
    const char *const *choices = k->names ? k->names : no_names;
    char names[512];
    v->f = (struct ecg_config_floats){.choice = -1};
    if (s && (v->f.choice = name_index(choices, s)) >= 0)
        return ECG_OK;
    join_names(choices, names, sizeof names);
    char len[64];
    if (k->min_len == k->max_len)
        snprintf(len, sizeof len, "%lld", (long long)k->min_len);
    else
        snprintf(len, sizeof len, "%lld to %lld", (long long)k->min_len, (long long)k->max_len);
    if (!node || node->type != YAML_SEQUENCE_NODE) {
        v->f.choice = -1;
        snprintf(why, n, "expected a list of %s numbers%s%s, found %s", len, names[0] ? " or one of " : "", names,
                 found);
        return ECG_ERR_CONFIG;
    }
    int64_t count = node->data.sequence.items.top - node->data.sequence.items.start;
    if (count < k->min_len || count > k->max_len) {
        snprintf(why, n, "expected a list of %s numbers, found %lld", len, (long long)count);
        return ECG_ERR_RANGE;
    }
    v->f.values = malloc(sizeof(double) * (size_t)count);
    if (!v->f.values)
        return ECG_ERR_NOMEM;
    v->f.n = count;
    for (int64_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(doc, node->data.sequence.items.start[i]);
        char what[48];
        snprintf(what, sizeof what, "element %lld: ", (long long)i + 1);
        int rc = convert_double(k, item, what, &v->f.values[i], why, n);
        if (rc) {
            free_value(ECG_CT_FLOATS, v);
            return rc;
        }
    }
    return ECG_OK;
}

static int convert(const struct ecg_config_key *k, yaml_document_t *doc, yaml_node_t *node,
                   union value *v, char *why, size_t n)
{
    char found[96], names[512], range[80];
    describe(node, found, sizeof found);
    bool scalar = node && node->type == YAML_SCALAR_NODE && !is_null_scalar(node);
    const char *s = scalar ? (const char *)node->data.scalar.value : NULL;
    bool plain = scalar && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

    switch (k->type) {
    case ECG_CFG_BOOL:
        if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))) {
            v->b = true;
            return ECG_OK;
        }
        if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))) {
            v->b = false;
            return ECG_OK;
        }
        snprintf(why, n, "expected true or false, found %s", found);
        return ECG_ERR_CONFIG;

    case ECG_CFG_INT: {
        int rc = s ? parse_int(s, &v->i) : 1;
        ecg_config_format_range(k, range, sizeof range);
        if (rc == 1) {
            snprintf(why, n, "expected an integer, found %s", found);
            return ECG_ERR_CONFIG;
        }
        if (rc == 2 || !in_range(k, (double)v->i)) {
            snprintf(why, n, "expected a value in %s, found %s", range, s);
            return ECG_ERR_RANGE;
        }
        return ECG_OK;
    }

    case ECG_CFG_FLOAT:
        return convert_double(k, node, "", &v->d, why, n);

    case ECG_CFG_STRING:
        if (!s) {
            snprintf(why, n, "expected a string, found %s", found);
            return ECG_ERR_CONFIG;
        }
        return dup_string(s, &v->s);

    case ECG_CFG_PATH:
        if (plain && !strcmp(s, "none")) {
            v->s = NULL;
            return ECG_OK;
        }
        if (!s || !s[0]) {
            snprintf(why, n, "expected a path or none, found %s", s ? "''" : found);
            return ECG_ERR_CONFIG;
        }
        return dup_string(s, &v->s);

    case ECG_CFG_ENUM:
        v->e = s ? name_index(k->names, s) : -1;
        if (v->e >= 0)
            return ECG_OK;
        join_names(k->names, names, sizeof names);
        snprintf(why, n, "expected one of %s, found %s", names, found);
        return ECG_ERR_CONFIG;

    case ECG_CFG_BLOCK:
        if (s && (name_index(k->names, s) >= 0 || is_block_name(s)))
            return dup_string(s, &v->s);
        join_names(k->names, names, sizeof names);
        snprintf(why, n, "expected %s%sa block name (stem, block1a .. block7d, top), found %s", names,
                 names[0] ? " or " : "", found);
        return ECG_ERR_CONFIG;

    case ECG_CFG_FLOATS:
    case ECG_CFG_VECTOR:
        return convert_floats(k, doc, node, s, found, v, why, n);
    }
    ECG_ASSERT(0);
    return ECG_ERR_CONFIG;
}

int ecg_config_set_node(void *c, const struct ecg_config_key *k, yaml_document_t *doc,
                        yaml_node_t *node, char *why, size_t n)
{
    enum ecg_config_ctype ct = ecg_config_ctype_of(k->type);
    ECG_ASSERT(ct == (enum ecg_config_ctype)k->ctype);
    union value v;
    memset(&v, 0, sizeof v);
    int rc = convert(k, doc, node, &v, why, n);
    if (rc == ECG_ERR_NOMEM)
        snprintf(why, n, "out of memory");
    if (rc && node && node->type == YAML_SCALAR_NODE && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        strchr((const char *)node->data.scalar.value, '#')) {
        size_t len = strlen(why); /* a common YAML slip: "0.1# note" is one scalar, not a comment */
        snprintf(why + len, n - len, " (a comment needs a space before '#')");
    }
    if (rc)
        return rc;
    if (k->type == ECG_CFG_VECTOR) { /* the list's values go into the field's array */
        memcpy(ecg_config_field(c, k), v.f.values, sizeof(double) * (size_t)v.f.n);
        free_value(ECG_CT_FLOATS, &v);
        return ECG_OK;
    }
    if (k->check && (rc = k->check(&v, why, n))) {
        free_value(ct, &v);
        return rc;
    }
    ecg_config_free_field(c, k);
    memcpy(ecg_config_field(c, k), &v, ctype_size(ct));
    return ECG_OK;
}

int ecg_config_set_text(void *c, const struct ecg_config_key *k, const char *text,
                        char *why, size_t n)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(why, n, "out of memory");
        return ECG_ERR_NOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&parser, &doc)) {
        if (parser.context)
            snprintf(why, n, "YAML syntax error: %s (%s)", parser.problem ? parser.problem : "invalid YAML",
                     parser.context);
        else
            snprintf(why, n, "YAML syntax error: %s", parser.problem ? parser.problem : "invalid YAML");
        yaml_parser_delete(&parser);
        return ECG_ERR_CONFIG;
    }
    int rc = ecg_config_set_node(c, k, &doc, yaml_document_get_root_node(&doc), why, n);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

void ecg_config_free_field(void *c, const struct ecg_config_key *k)
{
    void *p = ecg_config_field(c, k);
    enum ecg_config_ctype ct = ecg_config_ctype_of(k->type);
    if (ct == ECG_CT_STR) {
        free(*(char **)p);
        *(char **)p = NULL;
    } else if (ct == ECG_CT_FLOATS) {
        struct ecg_config_floats *f = p;
        free(f->values);
        *f = (struct ecg_config_floats){0};
    }
}

/* ---- formatting ---- */

/* Words that a YAML 1.1 reader (PyYAML) or a YAML 1.2 reader resolves to null or a boolean when plain
 * (matched without case, a superset of both specs' spellings), and our own `none` of paths. */
static bool reserved_word(const char *s)
{
    static const char *const words[] = {"null", "none", "y", "n", "yes", "no", "true", "false", "on", "off"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (!strcasecmp(s, words[i]))
            return true;
    return false;
}

/* Strings that every YAML 1.1 and 1.2 reader gives back as the same string without quotes: letters, digits,
 * '_', '.', '/', '-' only, not a reserved word, and not starting like a number (a digit, sign or dot covers
 * 1e3, 0x10, 0o17, 1_000, .inf, .nan, -1). */
static bool plain_safe(const char *s)
{
    if (!s[0] || reserved_word(s))
        return false;
    if (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+' || s[0] == '.')
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '/' && *p != '-')
            return false;
    return true;
}

static void write_string(struct sink *out, const char *s)
{
    if (plain_safe(s)) {
        sink_printf(out, "%s", s);
        return;
    }
    sink_printf(out, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sink_printf(out, "\\%c", *p);
        else if (*p == '\n')
            sink_printf(out, "\\n");
        else if (*p == '\t')
            sink_printf(out, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            sink_printf(out, "\\x%02x", *p);
        else
            sink_printf(out, "%c", *p);
    }
    sink_printf(out, "\"");
}

static void write_value(struct sink *out, const void *c, const struct ecg_config_key *k)
{
    const void *p = ecg_config_cfield(c, k);
    char num[40];
    switch (k->type) {
    case ECG_CFG_BOOL: sink_printf(out, "%s", *(const bool *)p ? "true" : "false"); return;
    case ECG_CFG_INT: sink_printf(out, "%lld", (long long)*(const int64_t *)p); return;
    case ECG_CFG_FLOAT:
        format_yaml_float(*(const double *)p, num, sizeof num);
        sink_printf(out, "%s", num);
        return;
    case ECG_CFG_ENUM: sink_printf(out, "%s", k->names[*(const int *)p]); return;
    case ECG_CFG_STRING:
    case ECG_CFG_BLOCK: write_string(out, *(char *const *)p ? *(char *const *)p : ""); return;
    case ECG_CFG_PATH:
        if (*(char *const *)p)
            write_string(out, *(char *const *)p);
        else
            sink_printf(out, "none");
        return;
    case ECG_CFG_VECTOR:
        sink_printf(out, "[");
        for (int64_t i = 0; i < k->max_len; i++) {
            format_yaml_float(((const double *)p)[i], num, sizeof num);
            sink_printf(out, "%s%s", i ? ", " : "", num);
        }
        sink_printf(out, "]");
        return;
    case ECG_CFG_FLOATS: {
        const struct ecg_config_floats *f = p;
        if (f->n == 0 && f->choice >= 0) {
            sink_printf(out, "%s", k->names[f->choice]);
            return;
        }
        sink_printf(out, "[");
        for (int64_t i = 0; i < f->n; i++) {
            format_yaml_float(f->values[i], num, sizeof num);
            sink_printf(out, "%s%s", i ? ", " : "", num);
        }
        sink_printf(out, "]");
        return;
    }
    }
    ECG_ASSERT(0);
}

void ecg_schema_format_value(const void *c, const struct ecg_config_key *k, char *buf,
                             size_t n)
{
    struct sink s = {.buf = buf, .cap = n};
    if (n)
        buf[0] = '\0';
    write_value(&s, c, k);
}

void ecg_config_write_value(const void *c, const struct ecg_config_key *k, FILE *f)
{
    struct sink s = {.f = f};
    write_value(&s, c, k);
}

/* ---- whole-config operations ---- */

int ecg_schema_defaults(const struct ecg_schema *s, void *c, struct ecg_error *err)
{
    memset(c, 0, s->size);
    if (s->init)
        s->init(c);
    for (int64_t i = 0; i < s->count; i++) {
        const struct ecg_config_key *k = &s->keys[i];
        char why[512];
        int rc = ecg_config_set_text(c, k, k->def, why, sizeof why);
        if (rc == ECG_ERR_NOMEM) {
            ecg_schema_free(s, c);
            return ecg_error_set(err, rc, "config defaults: out of memory");
        }
        if (rc) /* a default that fails its own row is a bug in the schema table */
            fprintf(stderr, "config schema: default of '%s': %s\n", k->name, why);
        ECG_ASSERT(rc == ECG_OK);
    }
    return ECG_OK;
}

void ecg_schema_free(const struct ecg_schema *s, void *c)
{
    for (int64_t i = 0; i < s->count; i++)
        ecg_config_free_field(c, &s->keys[i]);
}

/* Gives dst its own copy of key k's heap memory (dst holds src's pointers); false when out of memory. */
static bool copy_heap_field(void *dst, const void *src, const struct ecg_config_key *k)
{
    const void *from = ecg_config_cfield(src, k);
    void *to = ecg_config_field(dst, k);
    enum ecg_config_ctype ct = ecg_config_ctype_of(k->type);
    if (ct == ECG_CT_STR && *(char *const *)from)
        return (*(char **)to = strdup(*(char *const *)from)) != NULL;
    if (ct != ECG_CT_FLOATS || !((const struct ecg_config_floats *)from)->n)
        return true;
    const struct ecg_config_floats *ff = from;
    struct ecg_config_floats *tf = to;
    tf->values = malloc(sizeof(double) * (size_t)ff->n);
    if (!tf->values) {
        tf->n = 0;
        return false;
    }
    memcpy(tf->values, ff->values, sizeof(double) * (size_t)ff->n);
    return true;
}

int ecg_schema_copy(const struct ecg_schema *s, void *dst, const void *src, struct ecg_error *err)
{
    /* The whole struct first: fields no key sets (module defaults) are copied as they are. */
    memcpy(dst, src, s->size);
    /* Then detach every heap field so a failure frees only what was copied. */
    for (int64_t i = 0; i < s->count; i++) {
        void *p = ecg_config_field(dst, &s->keys[i]);
        enum ecg_config_ctype ct = ecg_config_ctype_of(s->keys[i].type);
        if (ct == ECG_CT_STR)
            *(char **)p = NULL;
        else if (ct == ECG_CT_FLOATS)
            ((struct ecg_config_floats *)p)->values = NULL;
    }
    for (int64_t i = 0; i < s->count; i++)
        if (!copy_heap_field(dst, src, &s->keys[i])) {
            ecg_schema_free(s, dst);
            return ecg_error_set(err, ECG_ERR_NOMEM, "config copy: out of memory");
        }
    return ECG_OK;
}

bool ecg_schema_equal(const struct ecg_schema *s, const void *a, const void *b, const char **first)
{
    for (int64_t i = 0; i < s->count; i++) {
        const struct ecg_config_key *k = &s->keys[i];
        const void *pa = ecg_config_cfield(a, k), *pb = ecg_config_cfield(b, k);
        enum ecg_config_ctype ct = ecg_config_ctype_of(k->type);
        bool same;
        if (ct == ECG_CT_STR) {
            const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;
            same = (!sa && !sb) || (sa && sb && !strcmp(sa, sb));
        } else if (ct == ECG_CT_FLOATS) {
            const struct ecg_config_floats *fa = pa, *fb = pb;
            same = fa->n == fb->n && fa->choice == fb->choice &&
                   (fa->n == 0 || !memcmp(fa->values, fb->values, sizeof(double) * (size_t)fa->n));
        } else if (ct == ECG_CT_VECTOR) {
            same = !memcmp(pa, pb, sizeof(double) * (size_t)k->max_len);
        } else {
            same = !memcmp(pa, pb, ctype_size(ct)); /* bitwise: floats must round-trip exactly */
        }
        if (!same) {
            if (first)
                *first = k->name;
            return false;
        }
    }
    return true;
}
