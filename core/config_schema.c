/* Schema lookups: a key by name, sections, the closest name to a typo, type names, cross-key checks. */
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"

const struct ecg_config_key *ecg_schema_find(const struct ecg_schema *s, const char *name)
{
    for (int64_t i = 0; i < s->count; i++)
        if (strcmp(s->keys[i].name, name) == 0)
            return &s->keys[i];
    return NULL;
}

const char *ecg_config_type_name(enum ecg_config_type type)
{
    switch (type) {
    case ECG_CFG_BOOL: return "bool";
    case ECG_CFG_INT: return "int";
    case ECG_CFG_FLOAT: return "float";
    case ECG_CFG_STRING: return "string";
    case ECG_CFG_PATH: return "path";
    case ECG_CFG_ENUM: return "enum";
    case ECG_CFG_BLOCK: return "block";
    case ECG_CFG_FLOATS: return "floats";
    case ECG_CFG_VECTOR: return "floats";
    }
    return "?";
}

enum ecg_config_ctype ecg_config_ctype_of(enum ecg_config_type type)
{
    switch (type) {
    case ECG_CFG_BOOL: return ECG_CT_BOOL;
    case ECG_CFG_INT: return ECG_CT_I64;
    case ECG_CFG_FLOAT: return ECG_CT_DOUBLE;
    case ECG_CFG_ENUM: return ECG_CT_INT;
    case ECG_CFG_STRING:
    case ECG_CFG_PATH:
    case ECG_CFG_BLOCK: return ECG_CT_STR;
    case ECG_CFG_FLOATS: return ECG_CT_FLOATS;
    case ECG_CFG_VECTOR: return ECG_CT_VECTOR;
    }
    return ECG_CT_OTHER;
}

bool ecg_schema_is_section(const struct ecg_schema *s, const char *name)
{
    size_t len = strlen(name);
    for (int64_t i = 0; i < s->count; i++)
        if (strncmp(s->keys[i].name, name, len) == 0 && s->keys[i].name[len] == '.')
            return true;
    return false;
}

/* Levenshtein distance, capped so long strings stay cheap. */
static int edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 96 };
    size_t la = strlen(a), lb = strlen(b);
    if (la >= MAXLEN || lb >= MAXLEN)
        return MAXLEN;
    int prev[MAXLEN + 1], cur[MAXLEN + 1];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

const char *ecg_schema_suggest(const struct ecg_schema *s, const char *name, char *buf, size_t n)
{
    /* Candidates: every key and every section (each dotted prefix of a key). */
    int best = 1 << 20;
    size_t len = strlen(name);
    for (int64_t i = 0; i < s->count; i++) {
        const char *k = s->keys[i].name;
        for (const char *end = strchr(k, '.');; end = strchr(end + 1, '.')) {
            size_t plen = end ? (size_t)(end - k) : strlen(k);
            if (plen >= n)
                break;
            char cand[ECG_SCHEMA_NAME_MAX];
            if (plen >= sizeof cand)
                break;
            memcpy(cand, k, plen);
            cand[plen] = '\0';
            int d = edit_distance(name, cand);
            if (d < best) {
                best = d;
                memcpy(buf, cand, plen + 1);
            }
            if (!end)
                break;
        }
    }
    /* Close enough: up to a third of the name's length, at least 1, at most 3 edits. */
    int limit = (int)(len / 3);
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    return best <= limit ? buf : NULL;
}

int ecg_schema_check(const struct ecg_schema *s, const void *c, struct ecg_error *err)
{
    return s->check ? s->check(c, err) : ECG_OK;
}
