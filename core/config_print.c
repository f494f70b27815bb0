/* Printing configs: the resolved YAML (round-trip exact) and the --help key list, both from the schema. */
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"

/* Number of leading dotted components two names share (sections only, not the leaf). */
static int shared_sections(const char *a, const char *b)
{
    int n = 0;
    for (;;) {
        const char *da = strchr(a, '.'), *db = strchr(b, '.');
        if (!da || !db || da - a != db - b || strncmp(a, b, (size_t)(da - a)))
            return n;
        n++;
        a = da + 1;
        b = db + 1;
    }
}

int ecg_schema_write_yaml(const struct ecg_schema *s, const void *c, FILE *f, struct ecg_error *err)
{
    const struct ecg_config_key *keys = s->keys;
    int64_t nkeys = s->count;
    fprintf(f, "# %s configuration, fully resolved (every key; `%s --help` explains them)\n", s->program,
            s->program);
    const char *prev = "";
    for (int64_t i = 0; i < nkeys; i++) {
        const char *name = keys[i].name;
        int keep = shared_sections(prev, name);
        /* Open the sections this key needs beyond those still open. */
        const char *p = name;
        int depth = 0;
        for (const char *dot; (dot = strchr(p, '.')); p = dot + 1, depth++) {
            if (depth < keep)
                continue;
            if (depth == 0 && i > 0)
                fputc('\n', f);
            fprintf(f, "%*s%.*s:\n", 2 * depth, "", (int)(dot - p), p);
        }
        fprintf(f, "%*s%s: ", 2 * depth, "", p);
        ecg_config_write_value(c, &keys[i], f);
        fputc('\n', f);
        prev = name;
    }
    if (fflush(f) || ferror(f))
        return ecg_error_set(err, ECG_ERR_IO, "writing the resolved config: write error");
    return ECG_OK;
}

char *ecg_schema_to_string(const struct ecg_schema *s, const void *c, struct ecg_error *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        ecg_error_set(err, ECG_ERR_NOMEM, "printing the resolved config: out of memory");
        return NULL;
    }
    int rc = ecg_schema_write_yaml(s, c, f, err);
    if (fclose(f) && !rc)
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "printing the resolved config: out of memory");
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* "float in (0, 10]", "one of sgd | adamw | rmsprop", ... */
static void describe_type(const struct ecg_config_key *k, char *buf, size_t n)
{
    char range[96], names[512] = "";
    ecg_config_format_range(k, range, sizeof range);
    size_t len = 0;
    for (int i = 0; k->names && k->names[i] && len < sizeof names; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? " | " : "", k->names[i]);
    switch (k->type) {
    case ECG_CFG_INT:
    case ECG_CFG_FLOAT: snprintf(buf, n, "%s in %s", ecg_config_type_name(k->type), range); break;
    case ECG_CFG_ENUM: snprintf(buf, n, "one of %s", names); break;
    case ECG_CFG_PATH: snprintf(buf, n, "path or none"); break;
    case ECG_CFG_BLOCK:
        snprintf(buf, n, "%s%sblock name", names, names[0] ? " | " : "");
        break;
    case ECG_CFG_FLOATS:
    case ECG_CFG_VECTOR:
        if (k->min_len == k->max_len)
            snprintf(buf, n, "list of %lld floats in %s%s%s", (long long)k->min_len, range,
                     names[0] ? " | " : "", names);
        else
            snprintf(buf, n, "list of floats in %s%s%s", range, names[0] ? " | " : "", names);
        break;
    default: snprintf(buf, n, "%s", ecg_config_type_name(k->type)); break;
    }
}

void ecg_schema_print_help(const struct ecg_schema *s, FILE *f)
{
    const struct ecg_config_key *keys = s->keys;
    int64_t nkeys = s->count;
    fprintf(f, "Configuration keys (set them in the YAML file, or override with key=value):\n");
    const char *prev = "";
    for (int64_t i = 0; i < nkeys; i++) {
        if (shared_sections(prev, keys[i].name) == 0)
            fputc('\n', f);
        char type[640];
        describe_type(&keys[i], type, sizeof type);
        fprintf(f, "  %-34s %s; default %s\n      %s\n", keys[i].name, type, keys[i].def, keys[i].help);
        prev = keys[i].name;
    }
}
