/* Writing self-describing model files and reading the configuration and temperature of model files and checkpoints. */
#include "io/model_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/h5_atomic.h"
#include "io/h5util.h"

#define CKPT_GROUP "ecg_checkpoint"

#define FUSION_GROUP "rr_fusion"

/* Writes f into g/rr_fusion, replacing what is there (nothing for a fusion of 0 classes). */
static int write_fusion(hid_t g, const struct ecg_rr_fusion *f, struct ecg_error *err)
{
    if (ecg_h5_has_link(g, FUSION_GROUP) && H5Ldelete(g, FUSION_GROUP, H5P_DEFAULT) < 0)
        return ecg_h5_fail(err, ECG_ERR_IO, "cannot replace the RR fusion");
    if (!f || f->classes == 0)
        return ECG_OK;
    const int64_t features = ECG_RHYTHM_FEATURES, shape[2] = {ECG_RHYTHM_FEATURES + 1, f->classes};
    ECG_TRY(ecg_h5_write_doubles(g, FUSION_GROUP "/mean", 1, &features, f->mean, err));
    ECG_TRY(ecg_h5_write_doubles(g, FUSION_GROUP "/scale", 1, &features, f->scale, err));
    return ecg_h5_write_doubles(g, FUSION_GROUP "/weights", 2, shape, f->weights, err);
}

static int write_meta(hid_t file, const struct ecg_model_meta *meta, struct ecg_error *err)
{
    hid_t g = H5I_INVALID_HID;
    int rc = ecg_h5_create_group(file, ECG_MODEL_GROUP, &g, err);
    if (!rc)
        rc = ecg_h5_write_attr_int64(g, "format_version", 1, err);
    if (!rc)
        rc = ecg_h5_write_attr_double(g, "temperature", meta->temperature, err);
    if (!rc)
        rc = ecg_h5_write_attr_strings(g, "class_names", meta->class_names, meta->n_classes, err);
    if (!rc)
        rc = ecg_h5_write_attr_string(g, "arch", meta->arch ? meta->arch : "", err);
    if (!rc)
        rc = ecg_h5_write_string(g, "config_yaml", meta->config_yaml, err);
    if (!rc)
        rc = ecg_h5_write_string(g, "provenance_json", meta->provenance_json ? meta->provenance_json : "{}", err);
    if (!rc)
        rc = ecg_h5_write_string(g, "metrics_json", meta->metrics_json ? meta->metrics_json : "{}", err);
    if (!rc)
        rc = write_fusion(g, meta->rr_fusion, err);
    ecg_h5_close(g);
    return rc;
}

int ecg_model_file_save(const char *path, const struct ecg_params *params, const struct ecg_keras_info *attrs,
                        const struct ecg_model_meta *meta, struct ecg_error *err)
{
    if (!(meta->temperature > 0))
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: expected a positive temperature, found %g", path,
                             meta->temperature);
    struct ecg_h5_atomic a;
    ECG_TRY(ecg_h5_atomic_begin(&a, path, (size_t)params->total * sizeof(float), err));
    int rc = ecg_keras_write_open(a.file, params, attrs, err);
    if (!rc)
        rc = write_meta(a.file, meta, err);
    if (!rc)
        return ecg_h5_atomic_commit(&a, err);
    ecg_h5_atomic_abort(&a);
    return rc;
}

/* Opens the metadata group of a model file or a checkpoint. */
static int open_meta(const char *path, hid_t *file, hid_t *g, struct ecg_error *err)
{
    *file = *g = H5I_INVALID_HID;
    ECG_TRY(ecg_h5_open_read(path, file, err));
    const char *name = ecg_h5_has_link(*file, ECG_MODEL_GROUP) ? ECG_MODEL_GROUP
                       : ecg_h5_has_link(*file, CKPT_GROUP)   ? CKPT_GROUP
                                                              : NULL;
    int rc = name ? ecg_h5_open_group(*file, name, g, err)
                  : ecg_error_set(err, ECG_ERR_FORMAT,
                                  "%s: not an ecgtrain checkpoint or model file (no '%s' or '%s' group)",
                                  path, CKPT_GROUP, ECG_MODEL_GROUP);
    if (rc) {
        ecg_h5_close(*file);
        *file = H5I_INVALID_HID;
    }
    return rc;
}

bool ecg_model_file_probe(const char *path)
{
    hid_t file, g;
    struct ecg_error quiet = {0};
    if (!ecg_h5_is_file(path) || open_meta(path, &file, &g, &quiet))
        return false;
    ecg_h5_close(g);
    ecg_h5_close(file);
    return true;
}

int ecg_model_file_config(const char *path, char **config_yaml, struct ecg_error *err)
{
    hid_t file, g;
    *config_yaml = NULL;
    ECG_TRY(open_meta(path, &file, &g, err));
    int rc = ecg_h5_read_string(g, "config_yaml", config_yaml, err);
    ecg_h5_close(g);
    ecg_h5_close(file);
    return rc;
}

int ecg_model_file_metrics(const char *path, char **metrics_json, struct ecg_error *err)
{
    hid_t file, g = H5I_INVALID_HID;
    *metrics_json = NULL;
    ECG_TRY(ecg_h5_open_read(path, &file, err));
    int rc = ECG_OK;
    if (ecg_h5_has_link(file, ECG_MODEL_GROUP) && !(rc = ecg_h5_open_group(file, ECG_MODEL_GROUP, &g, err)) &&
        ecg_h5_has_link(g, "metrics_json"))
        rc = ecg_h5_read_string(g, "metrics_json", metrics_json, err);
    ecg_h5_close(g);
    ecg_h5_close(file);
    /* "{}" (and blanks): exported without metrics */
    if (!rc && *metrics_json && strspn(*metrics_json, " \t\r\n{}") == strlen(*metrics_json)) {
        free(*metrics_json);
        *metrics_json = NULL;
    }
    return rc;
}

int ecg_model_file_temperature(const char *path, double *t, struct ecg_error *err)
{
    hid_t file, g;
    *t = 1.0;
    ECG_TRY(open_meta(path, &file, &g, err));
    int rc = ECG_OK;
    if (ecg_h5_has_attr(g, "temperature"))
        rc = ecg_h5_attr_double(g, "temperature", t, err);
    if (!rc && !(*t > 0 && *t < 1e6))
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: temperature: expected a positive number, found %g", path, *t);
    ecg_h5_close(g);
    ecg_h5_close(file);
    return rc;
}

/* Changes the metadata group of a checkpoint or model file atomically: `change` runs on it in a copy that is
 * synced and renamed over `path` when it succeeds. */
static int edit_meta(const char *path, int (*change)(hid_t g, const void *arg, struct ecg_error *err), const void *arg,
                     struct ecg_error *err)
{
    hid_t probe, g;
    ECG_TRY(open_meta(path, &probe, &g, err)); /* the file must be one of ours */
    ecg_h5_close(g);
    ecg_h5_close(probe);
    struct ecg_h5_atomic a;
    ECG_TRY(ecg_h5_atomic_edit(&a, path, err));
    const char *name = ecg_h5_has_link(a.file, ECG_MODEL_GROUP) ? ECG_MODEL_GROUP : CKPT_GROUP;
    int rc = ecg_h5_open_group(a.file, name, &g, err);
    if (!rc)
        rc = change(g, arg, err);
    ecg_h5_close(g);
    if (!rc)
        return ecg_h5_atomic_commit(&a, err);
    ecg_h5_atomic_abort(&a);
    return rc;
}

static int write_temperature(hid_t g, const void *t, struct ecg_error *err)
{
    return ecg_h5_write_attr_double(g, "temperature", *(const double *)t, err);
}

int ecg_model_file_set_temperature(const char *path, double t, struct ecg_error *err)
{
    if (!(t > 0 && t < 1e6))
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: expected a positive temperature, found %g", path, t);
    return edit_meta(path, write_temperature, &t, err);
}

static int write_config(hid_t g, const void *yaml, struct ecg_error *err)
{
    if (ecg_h5_has_link(g, "config_yaml") && H5Ldelete(g, "config_yaml", H5P_DEFAULT) < 0)
        return ecg_h5_fail(err, ECG_ERR_IO, "cannot replace the configuration");
    return ecg_h5_write_string(g, "config_yaml", yaml, err);
}

int ecg_model_file_set_config(const char *path, const char *config_yaml, struct ecg_error *err)
{
    return edit_meta(path, write_config, config_yaml, err);
}

/* Reads g/rr_fusion: the weights' shape gives the sizes. */
static int read_fusion(hid_t g, const char *path, int classes, struct ecg_rr_fusion *f, struct ecg_error *err)
{
    if (classes < 2 || classes > ECG_FUSION_MAX_CLASSES)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: an RR fusion for a model of %d classes: expected 2 to %d",
                             path, classes, ECG_FUSION_MAX_CLASSES);
    hid_t fg;
    ECG_TRY(ecg_h5_open_group(g, FUSION_GROUP, &fg, err));
    int ndim = 0;
    int64_t shape[ECG_H5_MAX_DIMS] = {0};
    int rc = ecg_h5_dataset_shape(fg, "weights", &ndim, shape, NULL, err);
    if (!rc && (ndim != 2 || shape[1] != classes || shape[0] != ECG_RHYTHM_FEATURES + 1))
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: rr_fusion/weights: expected shape (%d, %d), found a %d-d array "
                           "(%lld, %lld)", path, ECG_RHYTHM_FEATURES + 1, classes, ndim, (long long)shape[0],
                           (long long)shape[1]);
    if (!rc) {
        f->classes = classes;
        rc = ecg_h5_read_doubles(fg, "mean", f->mean, ECG_RHYTHM_FEATURES, err);
    }
    if (!rc)
        rc = ecg_h5_read_doubles(fg, "scale", f->scale, ECG_RHYTHM_FEATURES, err);
    if (!rc)
        rc = ecg_h5_read_doubles(fg, "weights", f->weights, (int64_t)(ECG_RHYTHM_FEATURES + 1) * classes, err);
    if (rc && !strstr(err ? err->msg : "", path))
        ecg_error_prefix(err, rc, "%s: rr_fusion", path);
    if (rc && err)
        err->code = ECG_ERR_FORMAT; /* a malformed group, whatever the reader called it */
    ecg_h5_close(fg);
    return rc ? ECG_ERR_FORMAT : ecg_rr_fusion_check(f, classes, path, err);
}

int ecg_model_file_rr_fusion(const char *path, int classes, struct ecg_rr_fusion *f, struct ecg_error *err)
{
    memset(f, 0, sizeof *f);
    hid_t file, g;
    ECG_TRY(open_meta(path, &file, &g, err));
    int rc = ecg_h5_has_link(g, FUSION_GROUP) ? read_fusion(g, path, classes, f, err) : ECG_OK;
    ecg_h5_close(g);
    ecg_h5_close(file);
    if (rc)
        memset(f, 0, sizeof *f);
    return rc;
}

static int write_fusion_change(hid_t g, const void *f, struct ecg_error *err) { return write_fusion(g, f, err); }

int ecg_model_file_set_rr_fusion(const char *path, const struct ecg_rr_fusion *f, struct ecg_error *err)
{
    if (f->classes != 0)
        ECG_TRY(ecg_rr_fusion_check(f, f->classes, path, err));
    return edit_meta(path, write_fusion_change, f, err);
}
