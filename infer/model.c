/* Loading a model once (configuration, spectrogram engine, weights) and the per-thread contexts that run it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/paths.h"
#include "data/readers.h"
#include "io/h5util.h"
#include "io/model_file.h"
#include "infer/infer_internal.h"

/* The configuration: the checkpoint's own, or config_path's (defaults when NULL), then the overrides. */
static int load_config(const char *weights, const char *config_path, int noverrides, char *const *overrides,
                       struct ecg_config *c, struct ecg_error *err)
{
    if (weights && !config_path) {
        int rc = ecg_config_from_checkpoint(weights, noverrides, overrides, c, err);
        /* Keras-layout weights alone say nothing of the run that trained them; every caller takes --config. */
        if (rc == ECG_ERR_FORMAT && ecg_h5_is_file(weights) && !ecg_model_file_probe(weights))
            ecg_error_set(err, rc,
                          "%s: weights alone, not an ecgtrain checkpoint or model file: name the run "
                          "configuration that describes them with --config FILE",
                          weights);
        return rc;
    }
    ECG_TRY(ecg_config_resolve(c, config_path, noverrides, overrides, err));
    free(c->model.pretrained);
    free(c->model.freeze);
    /* The weights are the model's whole state, head included; nothing is frozen or re-initialised. */
    c->model.pretrained = weights ? strdup(weights) : NULL;
    c->model.freeze = strdup("none");
    if ((weights && !c->model.pretrained) || !c->model.freeze) {
        ecg_config_free(c);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    }
    return ECG_OK;
}

/* data.sample_rate through the schema (ecg_prepare_record resamples to it), stored once in the model. */
static double sample_rate(const struct ecg_config *c)
{
    char text[64] = "";
    const struct ecg_config_key *k = ecg_config_find("data.sample_rate");
    ECG_ASSERT(k);
    ecg_config_format_value(c, k, text, sizeof text);
    return strtod(text, NULL);
}

/* Checks the windows and spectrogram against the model's sampling rate once, so no record can fail on them. */
static int check_geometry(struct ecg_infer_model *m, struct ecg_error *err)
{
    double fs = m->fs = sample_rate(&m->config);
    struct ecg_spec_geom g;
    int64_t len = ecg_window_samples(&m->lo.window, fs);
    if (m->lo.window.eval_windows < 1 || m->lo.window.eval_windows > 1000)
        return ecg_error_set(err, ECG_ERR_CONFIG, "eval.windows: expected 1..1000, found %lld",
                             (long long)m->lo.window.eval_windows);
    int rc = ecg_window_opts_check(&m->lo.window, fs, err);
    if (!rc)
        rc = ecg_spec_geometry(&m->lo.spec, fs, len, &g, err);
    if (rc)
        return ecg_error_prefix(err, rc, "data.spectrogram / data.window_seconds at data.sample_rate %g Hz", fs);
    return ECG_OK;
}

static int load_network(struct ecg_infer_model *m, struct ecg_error *err)
{
    const struct ecg_config *c = &m->config;
    int task = ecg_format_task(ecg_config_format_name(c));
    ecg_class_names(task < 0 ? ECG_TASK_RHYTHM : (enum ecg_task)task, m->names, &m->classes);
    if (m->classes != c->model.num_classes)
        return ecg_error_set(err, ECG_ERR_CONFIG, "%s: model.num_classes is %lld but %s data have %d classes",
                             c->model.pretrained, (long long)c->model.num_classes, ecg_config_format_name(c),
                             m->classes);
    ECG_TRY(ecg_model_build(c, 1, true, &m->net, &m->norm, err));
    m->has_network = true;
    return ECG_OK;
}

int ecg_infer_model_load(const char *weights, const char *config_path, int noverrides, char *const *overrides,
                         struct ecg_infer_model **out, struct ecg_error *err)
{
    *out = NULL;
    /* A relative model path missing from the working directory is looked up in the installed data
     * directory, so the installed programs find the shipped model from anywhere. */
    char *found = NULL;
    int rc = weights ? ecg_path_find_data(weights, &found, err) : ECG_OK;
    if (rc)
        return rc;
    weights = found;
    struct ecg_infer_model *m = calloc(1, sizeof *m);
    if (!m) {
        free(found);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    }
    if ((rc = load_config(weights, config_path, noverrides, overrides, &m->config, err))) {
        free(m);
        free(found);
        return rc;
    }
    /* The temperature the file records (1 without one: a plain weight file given with its configuration). */
    m->temperature = 1.0;
    if (weights && (rc = ecg_model_file_temperature(weights, &m->temperature, err)) == ECG_ERR_FORMAT && config_path)
        rc = ECG_OK, m->temperature = 1.0;
    if (!rc) {
        ecg_loader_opts_from_config(&m->config, 0, &m->lo);
        ecg_config_context_features(&m->config, &m->first_feature);
        if (!(rc = check_geometry(m, err)) && !(rc = ecg_spec_init(&m->spec, &m->lo.spec, err)) && weights)
            rc = load_network(m, err);
    }
    if (!rc && weights && ecg_model_file_probe(weights))
        rc = ecg_model_file_rr_fusion(weights, m->classes, &m->fusion, err);
    if (!rc && m->fusion.classes &&
        ecg_format_task(ecg_config_format_name(&m->config)) == ECG_TASK_BEAT)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: an RR fusion measures a whole record's rhythm, and this is a "
                           "beat model (data.format %s)", weights, ecg_config_format_name(&m->config));
    free(found);
    if (rc) {
        ecg_infer_model_free(m);
        return rc;
    }
    *out = m;
    return ECG_OK;
}

void ecg_infer_model_free(struct ecg_infer_model *m)
{
    if (!m)
        return;
    ecg_effnet_free(&m->net);
    ecg_spec_free(&m->spec);
    ecg_config_free(&m->config);
    free(m);
}

const char *ecg_infer_default_model(void) { return ECG_INFER_DEFAULT_MODEL; }

const char *ecg_infer_default_beat_model(void) { return ECG_INFER_DEFAULT_BEAT_MODEL; }

const struct ecg_config *ecg_infer_model_config(const struct ecg_infer_model *m) { return &m->config; }

int ecg_infer_model_classes(const struct ecg_infer_model *m, const char *const **names)
{
    if (names)
        *names = m->names;
    return m->classes;
}

double ecg_infer_model_sample_rate(const struct ecg_infer_model *m) { return m->fs; }

double ecg_infer_model_temperature(const struct ecg_infer_model *m) { return m->temperature; }

int ecg_infer_model_has_rr_fusion(const struct ecg_infer_model *m) { return m->fusion.classes > 0; }

int ecg_infer_record_probs(const struct ecg_infer_model *m, const float *window_probs, int64_t windows,
                           const float *signal, int64_t length, double fs, float *probs, struct ecg_error *err)
{
    const int k = m->classes;
    if (windows < 1 || !window_probs)
        return ecg_error_set(err, ECG_ERR_USAGE, "record probabilities: expected at least one window, found %lld",
                             (long long)windows);
    for (int j = 0; j < k; j++)
        probs[j] = 0;
    for (int64_t w = 0; w < windows; w++)
        for (int j = 0; j < k; j++)
            probs[j] += window_probs[w * k + j];
    for (int j = 0; j < k; j++)
        if (!isfinite(probs[j] /= (float)windows))
            return ecg_error_set(err, ECG_ERR_VALUE, "record probabilities: class %d is %g, expected a finite number",
                                 j, (double)probs[j]);
    if (m->fusion.classes) {
        float features[ECG_RHYTHM_FEATURES];
        ECG_TRY(ecg_rhythm_features(signal, length, fs, features, err));
        ecg_rr_fusion_apply(&m->fusion, probs, features);
    }
    return ECG_OK;
}

int ecg_infer_model_has_network(const struct ecg_infer_model *m) { return m->has_network; }

int ecg_infer_context_init(const struct ecg_infer_model *m, struct ecg_infer_context **out, struct ecg_error *err)
{
    *out = NULL;
    if (!m->has_network)
        return ecg_error_set(err, ECG_ERR_USAGE, "the model was loaded without weights: it can prepare, not classify");
    struct ecg_infer_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    ctx->model = m;
    const struct ecg_spec_opts *s = &m->lo.spec;
    int64_t batch = m->config.eval.batch_size;
    int rc = ecg_effnet_init(&ctx->net, &m->net.opt, batch, s->height, s->width, err);
    if (rc) {
        free(ctx);
        return ecg_error_prefix(err, rc, "eval.batch_size %lld", (long long)batch);
    }
    /* Same options, same registration order: the parameter stores have one layout. */
    ECG_ASSERT(ctx->net.params->total == m->net.params->total);
    memcpy(ctx->net.params->values, m->net.params->values, (size_t)m->net.params->total * sizeof(float));
    ctx->input = ecg_aligned_calloc(batch * s->height * s->width * s->channels, sizeof(float));
    if (!ctx->input) {
        ecg_infer_context_free(ctx);
        return ecg_error_set(err, ECG_ERR_NOMEM, "cannot allocate the input of %lld windows", (long long)batch);
    }
    *out = ctx;
    return ECG_OK;
}

void ecg_infer_context_free(struct ecg_infer_context *ctx)
{
    if (!ctx)
        return;
    ecg_effnet_free(&ctx->net);
    ecg_aligned_free(ctx->input);
    ecg_infer_context_explain(ctx, 0, NULL);
    free(ctx);
}
