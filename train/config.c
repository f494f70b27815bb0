/* ecgtrain's config operations: core/config.h's schema walks applied to struct ecg_config. */
#include "train/config.h"

#include "core/paths.h"
#include "data/record.h"

#define S ecg_config_schema()

const struct ecg_config_key *ecg_config_keys(int64_t *count)
{
    if (count)
        *count = S->count;
    return S->keys;
}

const struct ecg_config_key *ecg_config_find(const char *name) { return ecg_schema_find(S, name); }

int ecg_config_defaults(struct ecg_config *c, struct ecg_error *err) { return ecg_schema_defaults(S, c, err); }

int ecg_config_load(struct ecg_config *c, const char *path, struct ecg_error *err)
{
    return ecg_schema_load(S, c, path, err);
}

int ecg_config_load_string(struct ecg_config *c, const char *text, const char *name, struct ecg_error *err)
{
    return ecg_schema_load_string(S, c, text, name, err);
}

int ecg_config_override(struct ecg_config *c, const char *assignment, struct ecg_error *err)
{
    return ecg_schema_override(S, c, assignment, err);
}

int ecg_config_check(const struct ecg_config *c, struct ecg_error *err) { return ecg_schema_check(S, c, err); }

int ecg_config_resolve(struct ecg_config *c, const char *path, int noverrides, char *const *overrides,
                       struct ecg_error *err)
{
    int rc = ecg_schema_resolve(S, c, path, noverrides, overrides, err);
    /* Inputs that ship with ecgtrain are found in the installed data directory too; outputs
     * (run.dir, data.cache_dir) and run.resume never move. */
    if (!rc && !(rc = ecg_path_redirect("data.path", &c->data.path, err)) &&
        !(rc = ecg_path_redirect("data.exclude", &c->data.exclude, err)))
        rc = ecg_path_redirect("model.pretrained", &c->model.pretrained, err);
    if (rc)
        ecg_config_free(c);
    return rc;
}

void ecg_config_free(struct ecg_config *c) { ecg_schema_free(S, c); }

int ecg_config_copy(struct ecg_config *dst, const struct ecg_config *src, struct ecg_error *err)
{
    return ecg_schema_copy(S, dst, src, err);
}

bool ecg_config_equal(const struct ecg_config *a, const struct ecg_config *b, const char **first)
{
    return ecg_schema_equal(S, a, b, first);
}

int ecg_config_write_yaml(const struct ecg_config *c, FILE *f, struct ecg_error *err)
{
    return ecg_schema_write_yaml(S, c, f, err);
}

char *ecg_config_to_string(const struct ecg_config *c, struct ecg_error *err)
{
    return ecg_schema_to_string(S, c, err);
}

void ecg_config_format_value(const struct ecg_config *c, const struct ecg_config_key *k, char *buf, size_t n)
{
    ecg_schema_format_value(c, k, buf, n);
}

void ecg_config_print_help(FILE *f) { ecg_schema_print_help(S, f); }

const char *ecg_config_suggest(const char *name, char *buf, size_t n) { return ecg_schema_suggest(S, name, buf, n); }

const char *ecg_config_format_name(const struct ecg_config *c) { return ecg_data_format_names[c->data.format]; }

int ecg_config_context_features(const struct ecg_config *c, int *first)
{
    if (c->model.rhythm_features) { /* a rhythm record holds these alone (the check keeps beat ones apart) */
        if (first)
            *first = 0;
        return ECG_RHYTHM_FEATURES;
    }
    /* a beat stores RR then morphology, so any choice is one contiguous range */
    if (first)
        *first = c->model.rr_features ? 0 : ECG_RR_FEATURES;
    return (c->model.rr_features ? ECG_RR_FEATURES : 0) + (c->model.morphology_features ? ECG_MORPHOLOGY_FEATURES : 0);
}
