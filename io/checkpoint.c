/* Checkpoint files: atomic save, strict all-or-nothing load. */
#include "io/checkpoint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int ecg_checkpoint_save(const char *path, const struct ecg_params *params,
                        const struct ecg_keras_info *attrs, const struct ecg_checkpoint *ck,
                        struct ecg_error *err)
{
    struct ecg_h5_atomic a;
    ECG_TRY(ecg_h5_atomic_begin(&a, path, err));
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

int ecg_checkpoint_load(const char *path, struct ecg_params *params, struct ecg_checkpoint *ck,
                        char **config_yaml, char **metrics_json, struct ecg_keras_info *info,
                        struct ecg_error *err)
{
    hid_t file = H5I_INVALID_HID, g = H5I_INVALID_HID, sub = H5I_INVALID_HID;
    float **stage = NULL;
    struct ecg_rng *rngs = NULL;
    const char **names = NULL;
    char *yaml = NULL, *json = NULL;
    int64_t version = 0, epoch = 0, step = 0, sched = 0;
    double lr = 0;
    int rc = ecg_h5_open_read(path, &file, err);
    if (rc)
        goto done;
    if (!ecg_h5_has_link(file, CKPT_GROUP)) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           "%s: not an ecgtrain checkpoint (no '%s' group; a weight file is loaded with "
                           "model.pretrained)", path, CKPT_GROUP);
        goto done;
    }
    rc = ecg_h5_open_group(file, CKPT_GROUP, &g, err);
    if (rc == ECG_OK)
        rc = ecg_h5_attr_int64(g, "format_version", &version, err);
    if (rc == ECG_OK && version != CKPT_VERSION)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: checkpoint format version %lld, expected %d", path,
                           (long long)version, CKPT_VERSION);
    if (rc == ECG_OK)
        rc = ecg_h5_attr_int64(g, "epoch", &epoch, err);
    if (rc == ECG_OK)
        rc = ecg_h5_attr_int64(g, "step", &step, err);
    if (rc == ECG_OK)
        rc = ecg_h5_attr_int64(g, "sched_step", &sched, err);
    if (rc == ECG_OK)
        rc = ecg_h5_attr_double(g, "lr", &lr, err);
    if (rc == ECG_OK && (epoch < 0 || step < 0 || sched < 0 || !isfinite(lr)))
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           "%s: checkpoint counters out of range (epoch %lld, step %lld, sched_step %lld, lr %g)",
                           path, (long long)epoch, (long long)step, (long long)sched, lr);
    if (rc == ECG_OK && config_yaml)
        rc = ecg_h5_read_string(g, "config_yaml", &yaml, err);
    if (rc == ECG_OK && metrics_json)
        rc = ecg_h5_read_string(g, "metrics_json", &json, err);
    if (rc)
        goto done;

    /* Blobs: names, counts and values into staging buffers. */
    int most = ck->n_blobs > ck->n_rngs ? ck->n_blobs : ck->n_rngs;
    names = calloc((size_t)most + 1, sizeof *names);
    stage = calloc((size_t)ck->n_blobs + 1, sizeof *stage);
    rngs = calloc((size_t)ck->n_rngs + 1, sizeof *rngs);
    if (!names || !stage || !rngs) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < ck->n_blobs; i++)
        names[i] = ck->blobs[i].name;
    rc = ecg_h5_open_group(g, "blobs", &sub, err);
    if (rc == ECG_OK)
        rc = check_names(sub, "blob_names", "optimizer state", path, names, ck->n_blobs, err);
    for (int i = 0; i < ck->n_blobs && rc == ECG_OK; i++) {
        const struct ecg_ckpt_blob *b = &ck->blobs[i];
        int nd = 0;
        int64_t shape[ECG_H5_MAX_DIMS] = {0};
        rc = ecg_h5_dataset_shape(sub, b->name, &nd, shape, NULL, err);
        if (rc)
            break;
        int64_t n = nd == 1 ? shape[0] : -1;
        if (n != b->count) {
            rc = ecg_error_set(err, ECG_ERR_SHAPE, "%s: optimizer state '%s': expected %lld values, found %lld",
                               path, b->name, (long long)b->count, (long long)n);
            break;
        }
        stage[i] = malloc((size_t)(b->count > 0 ? b->count : 1) * sizeof(float));
        if (!stage[i]) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
            break;
        }
        rc = ecg_h5_read_floats(sub, b->name, stage[i], b->count, err);
        for (int64_t e = 0; e < b->count && rc == ECG_OK; e++)
            if (!isfinite(stage[i][e]))
                rc = ecg_error_set(err, ECG_ERR_VALUE,
                                   "%s: optimizer state '%s': non-finite value %g at index %lld", path,
                                   b->name, (double)stage[i][e], (long long)e);
    }
    ecg_h5_close(sub);
    sub = H5I_INVALID_HID;
    if (rc)
        goto done;

    for (int i = 0; i < ck->n_rngs; i++)
        names[i] = ck->rngs[i].name;
    rc = ecg_h5_open_group(g, "rng", &sub, err);
    if (rc == ECG_OK)
        rc = check_names(sub, "rng_names", "RNG state", path, names, ck->n_rngs, err);
    for (int i = 0; i < ck->n_rngs && rc == ECG_OK; i++) {
        uint64_t s[3];
        rc = ecg_h5_read_uint64(sub, ck->rngs[i].name, s, 3, err);
        rngs[i] = (struct ecg_rng){.seed = s[0], .stream = s[1], .counter = s[2]};
    }
    if (rc)
        goto done;

    /* The weights (committed by the loader only when all of them are good),
     * then everything staged above, which cannot fail any more. */
    struct ecg_keras_load_opts strict = {.strict = true, .quiet = true};
    rc = ecg_keras_load_open(file, path, params, &strict, info, err);
    if (rc)
        goto done;
    for (int i = 0; i < ck->n_blobs; i++)
        if (ck->blobs[i].count > 0)
            memcpy(ck->blobs[i].data, stage[i], (size_t)ck->blobs[i].count * sizeof(float));
    for (int i = 0; i < ck->n_rngs; i++)
        *ck->rngs[i].rng = rngs[i];
    ck->epoch = epoch;
    ck->step = step;
    ck->sched_step = sched;
    ck->lr = lr;
    if (config_yaml) {
        *config_yaml = yaml;
        yaml = NULL;
    }
    if (metrics_json) {
        *metrics_json = json;
        json = NULL;
    }
done:
    if (stage)
        for (int i = 0; i < ck->n_blobs; i++)
            free(stage[i]);
    free(stage);
    free(rngs);
    free(names);
    free(yaml);
    free(json);
    ecg_h5_close(sub);
    ecg_h5_close(g);
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
