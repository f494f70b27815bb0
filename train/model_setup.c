/* Building the EfficientNet a config describes, loading its pretrained weights, and freezing parts of it. */
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "core/log.h"
#include "io/keras_h5.h"
#include "layers/effnet_keras.h"
#include "train/train.h"

/* Model options from the config; padding and epsilon "auto" follow the weight file (info may be NULL). */
static void options_from_config(const struct ecg_config *c, const struct ecg_keras_info *info,
                                struct ecg_effnet_options *o)
{
    ecg_effnet_options_default(o, c->model.arch);
    o->in_channels = c->model.in_channels;
    o->num_classes = c->model.num_classes;
    o->context_features = ecg_config_context_features(c, NULL);
    /* A padding the config names is the kernel's own value; auto asks the weight file. */
    if (c->model.padding != ECG_MODEL_PAD_AUTO)
        o->padding = (enum ecg_padding)c->model.padding;
    else
        o->padding = info && info->has_padding && strcmp(info->padding, "symmetric") == 0 ? ECG_PAD_SYMMETRIC
                                                                                          : ECG_PAD_SAME;
    double eps = c->model.bn_eps;
    if (eps == 0)
        eps = info && info->has_bn_eps ? info->bn_eps : 1e-3;
    o->bn_eps = (float)eps;
    /* The config speaks Keras (running = m*running + (1-m)*batch); the model PyTorch. */
    o->bn_momentum = (float)(1.0 - c->model.bn_momentum);
    o->dropout = (float)c->model.dropout;
    o->drop_connect = (float)c->model.drop_connect;
    o->bn_mode = c->model.freeze_bn ? ECG_BN_FROZEN : ECG_BN_TRAIN;
}

/* Says where the weight file's own conventions differ from what the config forces. */
static void warn_conventions(const struct ecg_config *c, const struct ecg_effnet_options *o,
                             const struct ecg_keras_info *info)
{
    const char *padding = o->padding == ECG_PAD_SAME ? "same" : "symmetric";
    if (info->has_padding && strcmp(info->padding, padding) != 0)
        ecg_warn("%s was made with padding '%s' but model.padding is '%s'", c->model.pretrained,
                 info->padding, padding);
    if (info->has_bn_eps && (float)info->bn_eps != o->bn_eps)
        ecg_warn("%s was made with batch-norm epsilon %g but model.bn_eps is %g", c->model.pretrained,
                 info->bn_eps, (double)o->bn_eps);
}

void ecg_model_keras_info(const struct ecg_effnet *m, struct ecg_keras_info *attrs)
{
    memset(attrs, 0, sizeof *attrs);
    attrs->has_bn_eps = attrs->has_padding = attrs->has_arch = true;
    attrs->bn_eps = m->opt.bn_eps;
    snprintf(attrs->padding, sizeof attrs->padding, "%s", m->opt.padding == ECG_PAD_SAME ? "same" : "symmetric");
    snprintf(attrs->arch, sizeof attrs->arch, "b%d", m->opt.arch);
}

void ecg_model_init_head(struct ecg_effnet *m, enum ecg_head_init mode, uint64_t seed)
{
    if (mode == ECG_HEAD_INIT_KERAS)
        return; /* ecg_effnet_init_weights already did it */
    struct ecg_params *p = m->params;
    struct ecg_rng root = ecg_rng_init(seed, 0x68656164u);
    for (int i = 0; i < p->count; i++) {
        const struct ecg_param *it = &p->items[i];
        if (strncmp(it->name, "predictions/", 12) != 0)
            continue;
        float *v = ecg_params_value(p, i);
        /* The kernel is (features, classes); the bias (classes) stays 0 in every mode. */
        bool kernel = it->ndim == 2;
        float limit = kernel && mode == ECG_HEAD_INIT_FAN_IN ? (float)(1.0 / sqrt((double)it->shape[0])) : 0.0f;
        struct ecg_rng r = ecg_rng_stream(&root, (uint64_t)i);
        for (int64_t j = 0; j < it->numel; j++)
            v[j] = limit * (2.0f * ecg_rng_uniform(&r) - 1.0f);
    }
}

/* The head is kept only when the file's has the model's classes and inputs (features, RR features);
 * otherwise it starts fresh. */
static bool keeps_head(const struct ecg_effnet *m, const struct ecg_keras_info *info)
{
    return info->num_classes == m->opt.num_classes && info->head_inputs == m->num_features + m->opt.context_features;
}

static int load_pretrained(const struct ecg_config *c, const struct ecg_keras_info *info, struct ecg_effnet *m,
                           struct ecg_error *err)
{
    static const char *const head[] = {"predictions/"};
    struct ecg_keras_load_opts lo = {.model = &ecg_effnet_keras};
    bool keep_head = keeps_head(m, info);
    if (!keep_head) {
        lo.skip = head;
        lo.n_skip = 1;
    }
    lo.allow_missing = head;
    lo.n_allow_missing = 1;
    int rc = ecg_keras_load(c->model.pretrained, m->params, &lo, NULL, err);
    if (rc)
        return ecg_error_prefix(err, rc, "model.pretrained");
    ecg_info("loaded %s (%d layers)%s", c->model.pretrained, info->layers,
             keep_head ? "" : "; the classification head starts fresh");
    return ECG_OK;
}

/* ImageNet statistics (torchvision's; Keras' normalization layer stores the same). */
static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f}, imagenet_std[3] = {0.229f, 0.224f, 0.225f};

static void input_norm_setup(const struct ecg_config *c, const struct ecg_keras_info *info, struct ecg_input_scaling *n)
{
    memset(n, 0, sizeof *n);
    n->on = c->model.input_norm == ECG_INPUT_NORM_IMAGENET;
    n->channels = (int)c->model.in_channels;
    float mean[3], std[3];
    bool from_file = info && info->has_normalization && info->norm_channels == 3;
    for (int i = 0; i < 3; i++) {
        mean[i] = from_file ? info->norm_mean[i] : imagenet_mean[i];
        std[i] = from_file ? info->norm_std[i] : imagenet_std[i];
    }
    for (int i = 0; i < n->channels && i < 4; i++) {
        /* One channel feeds a stem whose RGB kernels were summed: it sees the RGB average. */
        n->mean[i] = n->channels == 3 ? mean[i] : (mean[0] + mean[1] + mean[2]) / 3.0f;
        n->std[i] = n->channels == 3 ? std[i] : (std[0] + std[1] + std[2]) / 3.0f;
    }
}

void ecg_input_scaling_apply(const struct ecg_input_scaling *norm, float *images, int64_t n, int64_t h, int64_t w)
{
    if (!norm || !norm->on)
        return;
    int64_t c = norm->channels, size = h * w * c;
    for (int64_t i = 0; i < n; i++) {
        float *x = images + i * size;
        float lo = x[0], hi = x[0];
        for (int64_t j = 1; j < size; j++) {
            lo = x[j] < lo ? x[j] : lo;
            hi = x[j] > hi ? x[j] : hi;
        }
        float scale = hi > lo ? 1.0f / (hi - lo) : 0.0f;
        for (int64_t j = 0; j < size; j++)
            x[j] = ((x[j] - lo) * scale - norm->mean[j % c]) / norm->std[j % c];
    }
}

int ecg_model_build(const struct ecg_config *c, int64_t batch, bool inference_only, struct ecg_effnet *m,
                    struct ecg_input_scaling *norm, struct ecg_error *err)
{
    struct ecg_keras_info info;
    int rc;
    if (c->model.pretrained && (rc = ecg_keras_probe(c->model.pretrained, &ecg_effnet_keras, &info, err)))
        return ecg_error_prefix(err, rc, "model.pretrained");
    struct ecg_effnet_options o;
    options_from_config(c, c->model.pretrained ? &info : NULL, &o);
    if (c->model.pretrained)
        warn_conventions(c, &o, &info);
    o.inference_only = inference_only;
    rc = ecg_effnet_init(m, &o, batch, c->data.spectrogram.height, c->data.spectrogram.width, err);
    if (rc)
        return ecg_error_prefix(err, rc, "model");
    ecg_effnet_init_weights(m, (uint64_t)c->run.seed);
    if (norm)
        input_norm_setup(c, c->model.pretrained ? &info : NULL, norm);
    /* A network built for inference answers with the file's own head: one that does not fit (other classes, or
     * record features the configuration reads that the head was not trained with) would answer with fresh random
     * weights. */
    if (c->model.pretrained && inference_only && !keeps_head(m, &info)) {
        const long long feats = m->num_features, ctx = o.context_features, k = o.num_classes;
        char found[64] = "missing";
        if (info.head_inputs > 0)
            snprintf(found, sizeof found, "(%lld, %lld)", (long long)info.head_inputs, (long long)info.num_classes);
        ecg_effnet_free(m);
        return ecg_error_set(err, ECG_ERR_SHAPE,
                             "%s: predictions/kernel is %s, the configuration expects (%lld, %lld) (%lld image "
                             "features + %lld record features, %lld classes): a model for inference needs the head it "
                             "was trained with",
                             c->model.pretrained, found, feats + ctx, k, feats, ctx, k);
    }
    if (c->model.pretrained && (rc = load_pretrained(c, &info, m, err))) {
        ecg_effnet_free(m);
        return rc;
    }
    if (!c->model.pretrained || !keeps_head(m, &info))
        ecg_model_init_head(m, c->model.head_init, (uint64_t)c->run.seed);
    if (strcmp(c->model.freeze, "none") != 0) {
        const char *upto = strcmp(c->model.freeze, "backbone") == 0 ? "head" : c->model.freeze;
        int end = ecg_model_block_start(m, upto);
        if (end < 0) {
            ecg_effnet_free(m);
            return ecg_error_set(err, ECG_ERR_CONFIG, "model.freeze: the model has no block '%s'", upto);
        }
        /* "freeze: block3b" freezes everything up to and including block3b. */
        if (strcmp(upto, "head") != 0) {
            size_t len = strlen(upto);
            while (end < m->params->count && strncmp(m->params->items[end].name, upto, len) == 0)
                end++;
        }
        ecg_model_freeze_below(m, end);
    }
    return ECG_OK;
}

int ecg_model_block_start(const struct ecg_effnet *m, const char *block)
{
    char prefix[64];
    if (strcmp(block, "head") == 0)
        snprintf(prefix, sizeof prefix, "predictions/");
    else
        snprintf(prefix, sizeof prefix, "%s_", block);
    size_t len = strlen(prefix);
    for (int i = 0; i < m->params->count; i++)
        if (strncmp(m->params->items[i].name, prefix, len) == 0)
            return i;
    return -1;
}

void ecg_model_freeze_below(struct ecg_effnet *m, int end)
{
    struct ecg_params *p = m->params;
    for (int i = 0; i < p->count; i++) {
        if (p->items[i].flags & ECG_PARAM_BUFFER)
            continue;
        if (i < end)
            p->items[i].flags |= ECG_PARAM_FROZEN;
        else
            p->items[i].flags &= ~(unsigned)ECG_PARAM_FROZEN;
    }
}
