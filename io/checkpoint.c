/* Checkpoint files: atomic save, strict all-or-nothing load. */
#include "io/checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/finite.h"
#include "io/h5_atomic.h"
#include "io/h5util.h"

#define CKPT_GROUP "ecg_checkpoint"
#define CKPT_VERSION 1

static bool valid_name(const char *name)
{
    if (!name || !name[0] || name[0] == '/' || strlen(name) > 200)
        return false;
    for (const char *c = name; *c; c++) {
        if (*c == '.' && (c == name || c[-1] == '/'))
            return false; /* no "." or ".." path segments, no hidden names */
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                  *c == '_' || *c == '.' || *c == '-' || (*c == '/' && c[1] && c[1] != '/');
        if (!ok)
            return false;
    }
    return true;
}

static int write_extras(hid_t file, const char *path, const struct ecg_checkpoint *ck,
                        struct ecg_error *err)
{
    hid_t g = H5I_INVALID_HID, sub = H5I_INVALID_HID;
    const char **names = NULL;
    int rc = ecg_h5_create_group(file, CKPT_GROUP, &g, err);
    if (rc)
        goto done;
    rc = ecg_h5_write_attr_int64(g, "format_version", CKPT_VERSION, err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_int64(g, "epoch", ck->epoch, err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_int64(g, "step", ck->step, err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_int64(g, "sched_step", ck->sched_step, err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_double(g, "lr", ck->lr, err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_string(g, "config_yaml", ck->config_yaml ? ck->config_yaml : "", err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_string(g, "metrics_json", ck->metrics_json ? ck->metrics_json : "{}", err);
    if (rc)
        goto done;

    int most = ck->n_blobs > ck->n_rngs ? ck->n_blobs : ck->n_rngs;
    names = calloc((size_t)most + 1, sizeof *names);
    if (!names) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    rc = ecg_h5_create_group(g, "blobs", &sub, err);
    for (int i = 0; i < ck->n_blobs && rc == ECG_OK; i++) {
        const struct ecg_ckpt_blob *b = &ck->blobs[i];
        if (!valid_name(b->name)) {
            rc = ecg_error_set(err, ECG_ERR_USAGE, "%s: checkpoint blob name '%s' is not valid", path,
                               b->name ? b->name : "(null)");
            break;
        }
        ECG_ASSERT(b->count >= 0 && (b->data || b->count == 0));
        names[i] = b->name;
        rc = ecg_h5_write_floats(sub, b->name, 1, &b->count, b->data, err);
    }
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_strings(sub, "blob_names", names, ck->n_blobs, err);
    ecg_h5_close(sub);
    sub = H5I_INVALID_HID;
    if (rc)
        goto done;
    rc = ecg_h5_create_group(g, "rng", &sub, err);
    for (int i = 0; i < ck->n_rngs && rc == ECG_OK; i++) {
        const struct ecg_ckpt_rng *r = &ck->rngs[i];
        if (!valid_name(r->name)) {
            rc = ecg_error_set(err, ECG_ERR_USAGE, "%s: checkpoint RNG name '%s' is not valid", path,
                               r->name ? r->name : "(null)");
            break;
        }
        names[i] = r->name;
        const uint64_t state[3] = {r->rng->seed, r->rng->stream, r->rng->counter};
        const int64_t three = 3;
        rc = ecg_h5_write_uint64(sub, r->name, 1, &three, state, err);
    }
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_strings(sub, "rng_names", names, ck->n_rngs, err);
done:
    free(names);
    ecg_h5_close(sub);
    ecg_h5_close(g);
    return rc;
}

int ecg_checkpoint_check_finite(const struct ecg_params *params, const struct ecg_checkpoint *ck,
                                struct ecg_error *err)
{
    if (!ecg_floats_finite(params->values, params->total))
        for (int k = 0; k < params->count; k++) {
            const struct ecg_param *it = &params->items[k];
            int64_t i = ecg_floats_first_nonfinite(params->values + it->offset, it->numel);
            if (i >= 0)
                return ecg_error_set(err, ECG_ERR_VALUE, "parameter '%s' element %lld is %s", it->name,
                                     (long long)i, ecg_nonfinite_name(params->values[it->offset + i]));
        }
    for (int b = 0; b < ck->n_blobs; b++) {
        const struct ecg_ckpt_blob *blob = &ck->blobs[b];
        if (ecg_floats_finite(blob->data, blob->count))
            continue;
        int64_t i = ecg_floats_first_nonfinite(blob->data, blob->count);
        /* Optimizer moments and EMA weights are laid out like the values: name the parameter too. */
        int k = blob->count == params->total ? ecg_params_at_offset(params, i) : -1;
        char owner[ECG_PARAM_NAME_MAX + 16] = "";
        if (k >= 0)
            snprintf(owner, sizeof owner, " (parameter '%s')", params->items[k].name);
        return ecg_error_set(err, ECG_ERR_VALUE, "'%s' element %lld%s is %s", blob->name, (long long)i, owner,
                             ecg_nonfinite_name(blob->data[i]));
    }
    return ECG_OK;
}

int ecg_checkpoint_save(const char *path, const struct ecg_params *params,
                        const struct ecg_keras_info *attrs, const struct ecg_checkpoint *ck,
                        struct ecg_error *err)
{
    int finite = ecg_checkpoint_check_finite(params, ck, err);
    if (finite)
        return ecg_error_prefix(err, finite, "%s: refusing to write a checkpoint with non-finite values (the "
                                "file on disk is left as it was)", path);
    size_t bytes = (size_t)params->total * sizeof(float);
    for (int b = 0; b < ck->n_blobs; b++)
        bytes += (size_t)ck->blobs[b].count * sizeof(float);
    struct ecg_h5_atomic a;
    ECG_TRY(ecg_h5_atomic_begin(&a, path, bytes, err));
    int rc = ecg_keras_write_open(a.file, params, attrs, err);
    if (rc == ECG_OK)
        rc = write_extras(a.file, path, ck, err);
    if (rc == ECG_OK)
        return ecg_h5_atomic_commit(&a, err);
    ecg_h5_atomic_abort(&a);
    return rc;
}

/* Checks that the names listed in attribute `attr` of `g` are exactly the
 * requested ones (same set, any order). */
static int check_names(hid_t g, const char *attr, const char *what, const char *path,
                       const char *const *want, int n_want, struct ecg_error *err)
{
    struct ecg_strlist have = {0};
    int rc = ecg_h5_attr_strings(g, attr, &have, err);
    if (rc)
        goto done;
    for (int i = 0; i < n_want; i++) {
        if (ecg_strlist_find(&have, want[i]) < 0) {
            char list[512] = "";
            for (int k = 0; k < have.count; k++) {
                size_t len = strlen(list);
                snprintf(list + len, sizeof list - len, "%s'%s'", k ? ", " : "", have.items[k]);
            }
            rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: checkpoint has no %s '%s' (it has %s)", path,
                               what, want[i], have.count ? list : "none");
            goto done;
        }
    }
    for (int k = 0; k < have.count; k++) {
        bool wanted = false;
        for (int i = 0; i < n_want && !wanted; i++)
            wanted = strcmp(have.items[k], want[i]) == 0;
        if (!wanted) {
            rc = ecg_error_set(err, ECG_ERR_FORMAT,
                               "%s: checkpoint has %s '%s' that this run does not use (another optimizer or setup?)",
                               path, what, have.items[k]);
            goto done;
        }
    }
done:
    ecg_strlist_free(&have);
    return rc;
}

/* What a checkpoint load reads before it changes anything. */
struct staged {
    int64_t epoch, step, sched;
    double lr;
    char *yaml, *json;
    float **blobs;      /* one per requested blob */
    struct ecg_rng *rngs; /* one per requested generator */
    const char **names; /* scratch for the name checks */
};

/* The format version, counters and (when asked) the two text datasets of group g. */
static int read_counters(hid_t g, const char *path, bool want_yaml, bool want_json, struct staged *s,
                         struct ecg_error *err)
{
    int64_t version = 0;
    ECG_TRY(ecg_h5_attr_int64(g, "format_version", &version, err));
    if (version != CKPT_VERSION)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: checkpoint format version %lld, expected %d", path,
                             (long long)version, CKPT_VERSION);
    ECG_TRY(ecg_h5_attr_int64(g, "epoch", &s->epoch, err));
    ECG_TRY(ecg_h5_attr_int64(g, "step", &s->step, err));
    ECG_TRY(ecg_h5_attr_int64(g, "sched_step", &s->sched, err));
    ECG_TRY(ecg_h5_attr_double(g, "lr", &s->lr, err));
    if (s->epoch < 0 || s->step < 0 || s->sched < 0 || !isfinite(s->lr))
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s: checkpoint counters out of range (epoch %lld, step %lld, sched_step %lld, lr %g)",
                             path, (long long)s->epoch, (long long)s->step, (long long)s->sched, s->lr);
    if (want_yaml)
        ECG_TRY(ecg_h5_read_string(g, "config_yaml", &s->yaml, err));
    if (want_json)
        ECG_TRY(ecg_h5_read_string(g, "metrics_json", &s->json, err));
    return ECG_OK;
}

/* One optimizer-state blob of group `sub` into a new staging buffer: its count and finiteness checked. */
static int read_blob(hid_t sub, const char *path, const struct ecg_ckpt_blob *b, float **out,
                     struct ecg_error *err)
{
    int nd = 0;
    int64_t shape[ECG_H5_MAX_DIMS] = {0};
    ECG_TRY(ecg_h5_dataset_shape(sub, b->name, &nd, shape, NULL, err));
    int64_t n = nd == 1 ? shape[0] : -1;
    if (n != b->count)
        return ecg_error_set(err, ECG_ERR_SHAPE, "%s: optimizer state '%s': expected %lld values, found %lld", path,
                             b->name, (long long)b->count, (long long)n);
    float *v = *out = malloc((size_t)(b->count > 0 ? b->count : 1) * sizeof(float));
    if (!v)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
    ECG_TRY(ecg_h5_read_floats(sub, b->name, v, b->count, err));
    for (int64_t e = 0; e < b->count; e++)
        if (!isfinite(v[e]))
            return ecg_error_set(err, ECG_ERR_VALUE, "%s: optimizer state '%s': non-finite value %g at index %lld",
                                 path, b->name, (double)v[e], (long long)e);
    return ECG_OK;
}

/* The blobs and generators the run asks for, exactly those of the file, into s. */
static int read_state(hid_t g, const char *path, const struct ecg_checkpoint *ck, struct staged *s,
                      struct ecg_error *err)
{
    hid_t sub = H5I_INVALID_HID;
    for (int i = 0; i < ck->n_blobs; i++)
        s->names[i] = ck->blobs[i].name;
    int rc = ecg_h5_open_group(g, "blobs", &sub, err);
    if (rc == ECG_OK)
        rc = check_names(sub, "blob_names", "optimizer state", path, s->names, ck->n_blobs, err);
    for (int i = 0; i < ck->n_blobs && rc == ECG_OK; i++)
        rc = read_blob(sub, path, &ck->blobs[i], &s->blobs[i], err);
    ecg_h5_close(sub);
    sub = H5I_INVALID_HID;
    if (rc)
        return rc;
    for (int i = 0; i < ck->n_rngs; i++)
        s->names[i] = ck->rngs[i].name;
    rc = ecg_h5_open_group(g, "rng", &sub, err);
    if (rc == ECG_OK)
        rc = check_names(sub, "rng_names", "RNG state", path, s->names, ck->n_rngs, err);
    for (int i = 0; i < ck->n_rngs && rc == ECG_OK; i++) {
        uint64_t v[3];
        rc = ecg_h5_read_uint64(sub, ck->rngs[i].name, v, 3, err);
        s->rngs[i] = (struct ecg_rng){.seed = v[0], .stream = v[1], .counter = v[2]};
    }
    ecg_h5_close(sub);
    return rc;
}

/* Hands everything staged to the caller; cannot fail. */
static void commit(struct ecg_checkpoint *ck, struct staged *s, char **config_yaml, char **metrics_json)
{
    for (int i = 0; i < ck->n_blobs; i++)
        if (ck->blobs[i].count > 0)
            memcpy(ck->blobs[i].data, s->blobs[i], (size_t)ck->blobs[i].count * sizeof(float));
    for (int i = 0; i < ck->n_rngs; i++)
        *ck->rngs[i].rng = s->rngs[i];
    ck->epoch = s->epoch;
    ck->step = s->step;
    ck->sched_step = s->sched;
    ck->lr = s->lr;
    if (config_yaml) {
        *config_yaml = s->yaml;
        s->yaml = NULL;
    }
    if (metrics_json) {
        *metrics_json = s->json;
        s->json = NULL;
    }
}

int ecg_checkpoint_load_open(hid_t file, const char *path, struct ecg_params *params,
                             struct ecg_checkpoint *ck, char **config_yaml, char **metrics_json,
                             struct ecg_keras_info *info, struct ecg_error *err)
{
    hid_t g = H5I_INVALID_HID;
    int most = ck->n_blobs > ck->n_rngs ? ck->n_blobs : ck->n_rngs;
    struct staged s = {
        .names = calloc((size_t)most + 1, sizeof *s.names),
        .blobs = calloc((size_t)ck->n_blobs + 1, sizeof *s.blobs),
        .rngs = calloc((size_t)ck->n_rngs + 1, sizeof *s.rngs),
    };
    int rc = !s.names || !s.blobs || !s.rngs ? ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path)
                                             : ECG_OK;
    if (rc == ECG_OK && !ecg_h5_has_link(file, CKPT_GROUP))
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           "%s: not an ecgtrain checkpoint (no '%s' group; a weight file is loaded with "
                           "model.pretrained)", path, CKPT_GROUP);
    if (rc == ECG_OK)
        rc = ecg_h5_open_group(file, CKPT_GROUP, &g, err);
    if (rc == ECG_OK)
        rc = read_counters(g, path, config_yaml != NULL, metrics_json != NULL, &s, err);
    if (rc == ECG_OK)
        rc = read_state(g, path, ck, &s, err);
    /* The weights (committed by the loader only when all of them are good), then everything
     * staged above, which cannot fail any more. */
    const struct ecg_keras_load_opts strict = {.strict = true, .quiet = true};
    if (rc == ECG_OK)
        rc = ecg_keras_load_open(file, path, params, &strict, info, err);
    if (rc == ECG_OK)
        commit(ck, &s, config_yaml, metrics_json);
    if (s.blobs)
        for (int i = 0; i < ck->n_blobs; i++)
            free(s.blobs[i]);
    free(s.blobs);
    free(s.rngs);
    free(s.names);
    free(s.yaml);
    free(s.json);
    ecg_h5_close(g);
    return rc;
}

int ecg_checkpoint_load(const char *path, struct ecg_params *params, struct ecg_checkpoint *ck,
                        char **config_yaml, char **metrics_json, struct ecg_keras_info *info,
                        struct ecg_error *err)
{
    hid_t file;
    ECG_TRY(ecg_h5_open_read(path, &file, err));
    int rc = ecg_checkpoint_load_open(file, path, params, ck, config_yaml, metrics_json, info, err);
    ecg_h5_close(file);
    return rc;
}

int ecg_checkpoint_read_text(const char *path, char **config_yaml, char **metrics_json, struct ecg_error *err)
{
    hid_t file = H5I_INVALID_HID, g = H5I_INVALID_HID;
    char *yaml = NULL, *json = NULL;
    int rc = ecg_h5_open_read(path, &file, err);
    if (rc == ECG_OK && !ecg_h5_has_link(file, CKPT_GROUP))
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: not an ecgtrain checkpoint (no '%s' group)", path, CKPT_GROUP);
    if (rc == ECG_OK)
        rc = ecg_h5_open_group(file, CKPT_GROUP, &g, err);
    if (rc == ECG_OK && config_yaml)
        rc = ecg_h5_read_string(g, "config_yaml", &yaml, err);
    if (rc == ECG_OK && metrics_json)
        rc = ecg_h5_read_string(g, "metrics_json", &json, err);
    ecg_h5_close(g);
    ecg_h5_close(file);
    if (rc) {
        free(yaml);
        free(json);
        return rc;
    }
    if (config_yaml)
        *config_yaml = yaml;
    if (metrics_json)
        *metrics_json = json;
    return ECG_OK;
}
