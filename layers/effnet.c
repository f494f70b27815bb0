/* EfficientNet builder (B0..B7, Keras names), forward, loss, backward, timing and memory figures. */
#include "layers/effnet.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"

/* width, depth, resolution, dropout of the paper / Keras applications */
static const struct {
    double width, depth;
    int64_t res;
    float dropout;
} archs[ECG_EFFNET_ARCHS] = {
    {1.0, 1.0, 224, 0.2f}, {1.0, 1.1, 240, 0.2f}, {1.1, 1.2, 260, 0.3f}, {1.2, 1.4, 300, 0.3f},
    {1.4, 1.8, 380, 0.4f}, {1.6, 2.2, 456, 0.4f}, {1.8, 2.6, 528, 0.5f}, {2.0, 3.1, 600, 0.5f},
};

/* Stage table of B0 (DEFAULT_BLOCKS_ARGS). */
static const struct {
    int64_t k, repeats, cin, cout, expand, stride;
} stages[7] = {
    {3, 1, 32, 16, 1, 1},  {3, 2, 16, 24, 6, 2},   {5, 2, 24, 40, 6, 2},   {3, 3, 40, 80, 6, 2},
    {5, 3, 80, 112, 6, 1}, {5, 4, 112, 192, 6, 2}, {3, 1, 192, 320, 6, 1},
};

#define SE_RATIO 0.25
#define EFFNET_MAX_BATCH 65536
#define EFFNET_MAX_SIDE 16384
#define EFFNET_MAX_CLASSES 1000000
#define EFFNET_MAX_CONTEXT 1024
#define DEPTH_DIVISOR 8

/* Keras round_filters: nearest multiple of 8, never below 90% of the scaled value. */
static int64_t round_filters(int64_t filters, double width)
{
    double f = (double)filters * width;
    int64_t d = DEPTH_DIVISOR;
    int64_t nf = (int64_t)(f + d / 2.0) / d * d;
    if (nf < d)
        nf = d;
    if ((double)nf < 0.9 * f)
        nf += d;
    return nf;
}

static int64_t round_repeats(int64_t repeats, double depth)
{
    return (int64_t)ceil(depth * (double)repeats);
}

void ecg_effnet_options_default(struct ecg_effnet_options *o, int arch)
{
    memset(o, 0, sizeof *o);
    o->arch = arch;
    o->in_channels = 3;
    o->num_classes = 1000;
    o->padding = ECG_PAD_SAME;
    o->bn_eps = 1e-3f;
    o->bn_momentum = 0.01f;
    o->dropout = (arch >= 0 && arch < ECG_EFFNET_ARCHS) ? archs[arch].dropout : 0.2f;
    o->drop_connect = 0.2f;
    o->bn_mode = ECG_BN_TRAIN;
}

int64_t ecg_effnet_resolution(int arch)
{
    return (arch >= 0 && arch < ECG_EFFNET_ARCHS) ? archs[arch].res : 0;
}

static int check_options(const struct ecg_effnet_options *o, int64_t batch, int64_t h, int64_t w,
                         struct ecg_error *err)
{
    if (o->arch < 0 || o->arch >= ECG_EFFNET_ARCHS)
        return ecg_error_set(err, ECG_ERR_RANGE, "model.arch: expected 0..7 (b0..b7), found %d", o->arch);
    if (o->in_channels < 1)
        return ecg_error_set(err, ECG_ERR_RANGE, "model.in_channels: expected >= 1, found %lld",
                             (long long)o->in_channels);
    if (o->context_features < 0 || o->context_features > EFFNET_MAX_CONTEXT ||
        (o->context_features > 0 && o->num_classes == 0))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "model: %lld context features with %lld classes: expected 0..%d, and a "
                             "classification head to read them",
                             (long long)o->context_features, (long long)o->num_classes, EFFNET_MAX_CONTEXT);
    if (o->num_classes < 0)
        return ecg_error_set(err, ECG_ERR_RANGE, "model.num_classes: expected >= 0, found %lld",
                             (long long)o->num_classes);
    if (!(o->bn_eps > 0.0f))
        return ecg_error_set(err, ECG_ERR_RANGE, "model.bn_eps: expected > 0, found %g", (double)o->bn_eps);
    if (!(o->bn_momentum >= 0.0f && o->bn_momentum <= 1.0f))
        return ecg_error_set(err, ECG_ERR_RANGE, "model.bn_momentum: expected 0..1, found %g",
                             (double)o->bn_momentum);
    if (!(o->dropout >= 0.0f && o->dropout < 1.0f))
        return ecg_error_set(err, ECG_ERR_RANGE, "model.dropout: expected 0 <= rate < 1, found %g",
                             (double)o->dropout);
    if (!(o->drop_connect >= 0.0f && o->drop_connect < 1.0f))
        return ecg_error_set(err, ECG_ERR_RANGE, "model.drop_connect: expected 0 <= rate < 1, found %g",
                             (double)o->drop_connect);
    if (o->padding != ECG_PAD_SAME && o->padding != ECG_PAD_SYMMETRIC)
        return ecg_error_set(err, ECG_ERR_RANGE, "model.padding: unknown mode %d", (int)o->padding);
    if (batch < 1 || h < 1 || w < 1)
        return ecg_error_set(err, ECG_ERR_RANGE, "model: batch %lld and image %lld x %lld must be positive",
                             (long long)batch, (long long)h, (long long)w);
    /* bounds that keep every byte count of the plan far from int64 overflow */
    if (batch > EFFNET_MAX_BATCH || h > EFFNET_MAX_SIDE || w > EFFNET_MAX_SIDE ||
        o->in_channels > EFFNET_MAX_SIDE || o->num_classes > EFFNET_MAX_CLASSES)
        return ecg_error_set(
            err, ECG_ERR_RANGE,
            "model: batch %lld, image %lld x %lld x %lld, %lld classes: limits are batch %d, "
            "sides and channels %d, classes %d",
            (long long)batch, (long long)h, (long long)w, (long long)o->in_channels,
            (long long)o->num_classes, EFFNET_MAX_BATCH, EFFNET_MAX_SIDE, EFFNET_MAX_CLASSES);
    return ECG_OK;
}

/* The layers of a network being built, in order. */
struct layer_list {
    struct ecg_layer **items;
    int count, cap;
};

/* Appends a layer; a NULL layer means out of memory. */
static int push(struct layer_list *ls, struct ecg_layer *l, struct ecg_error *err)
{
    if (!l)
        return ecg_error_set(err, ECG_ERR_NOMEM, "model: out of memory building layers");
    if (ls->count == ls->cap) {
        int nc = ls->cap ? ls->cap * 2 : 64;
        struct ecg_layer **nl = realloc(ls->items, (size_t)nc * sizeof *nl);
        if (!nl) {
            ecg_layer_destroy(l);
            return ecg_error_set(err, ECG_ERR_NOMEM, "model: out of memory building layers");
        }
        ls->items = nl;
        ls->cap = nc;
    }
    l->stream = (uint64_t)ls->count;
    ls->items[ls->count++] = l;
    return ECG_OK;
}

static void layer_list_free(struct layer_list *ls)
{
    for (int i = 0; i < ls->count; i++)
        ecg_layer_destroy(ls->items[i]);
    free(ls->items);
    *ls = (struct layer_list){0};
}

/* The stem and the MBConv blocks of the seven stages, scaled by the architecture's width and depth;
 * m->blocks is their count. */
static int push_backbone(struct ecg_effnet *m, struct layer_list *ls, struct ecg_error *err)
{
    const struct ecg_effnet_options *o = &m->opt;
    const double width = archs[o->arch].width, depth = archs[o->arch].depth;
    ECG_TRY(push(ls, ecg_layer_conv_new("stem_conv", round_filters(32, width), 3, 2, o->padding), err));
    ECG_TRY(push(ls, ecg_layer_bn_silu_new("stem_bn"), err));
    int64_t total = 0;
    for (int s = 0; s < 7; s++)
        total += round_repeats(stages[s].repeats, depth);
    int64_t b = 0;
    for (int s = 0; s < 7; s++) {
        int64_t reps = round_repeats(stages[s].repeats, depth);
        for (int64_t j = 0; j < reps; j++, b++) {
            struct ecg_mbconv_spec spec = {
                .cin = round_filters(j == 0 ? stages[s].cin : stages[s].cout, width),
                .cout = round_filters(stages[s].cout, width),
                .expand = stages[s].expand,
                .k = stages[s].k,
                .stride = j == 0 ? stages[s].stride : 1,
                .drop_rate = (float)((double)o->drop_connect * (double)b / (double)total),
                .pad = o->padding,
            };
            spec.cse = (int64_t)((double)spec.cin * SE_RATIO);
            if (spec.cse < 1)
                spec.cse = 1;
            char prefix[32];
            snprintf(prefix, sizeof prefix, "block%d%c", s + 1, (char)('a' + j));
            ECG_TRY(push(ls, ecg_layer_mbconv_new(prefix, &spec), err));
        }
    }
    m->blocks = (int)b;
    return ECG_OK;
}

/* The top convolution, the pooling (its index in *pool_index) and, with classes, the classifier head:
 * dropout, the context features of m->context when there are any, and the dense layer. */
static int push_top(struct ecg_effnet *m, struct layer_list *ls, int *pool_index, struct ecg_error *err)
{
    const struct ecg_effnet_options *o = &m->opt;
    m->num_features = round_filters(1280, archs[o->arch].width);
    ECG_TRY(push(ls, ecg_layer_conv_new("top_conv", m->num_features, 1, 1, o->padding), err));
    ECG_TRY(push(ls, ecg_layer_bn_silu_new("top_bn"), err));
    ECG_TRY(push(ls, ecg_layer_gap_new("avg_pool"), err));
    *pool_index = ls->count - 1;
    if (o->num_classes == 0)
        return ECG_OK;
    ECG_TRY(push(ls, ecg_layer_dropout_new("top_dropout", o->dropout), err));
    if (o->context_features > 0) {
        if (!(m->context = ecg_aligned_calloc(m->batch * o->context_features, sizeof(float))))
            return ecg_error_set(err, ECG_ERR_NOMEM, "model: cannot allocate the context buffer");
        ECG_TRY(push(ls, ecg_layer_context_new("context", m->context, o->context_features), err));
    }
    return push(ls, ecg_layer_dense_new("predictions", o->num_classes), err);
}

/* The buffers around the built net: the probabilities and logit gradients of a classifier, or the feature
 * gradients of a backbone. */
static int alloc_outputs(struct ecg_effnet *m, int pool_index, struct ecg_error *err)
{
    m->params = &m->net.params;
    m->features = m->net.layers[pool_index]->out;
    const int64_t k = m->opt.num_classes;
    if (k == 0) {
        m->dfeatures = ecg_aligned_calloc(m->batch * m->num_features, sizeof(float));
        return m->dfeatures ? ECG_OK
                            : ecg_error_set(err, ECG_ERR_NOMEM, "model: cannot allocate feature gradients");
    }
    m->logits = m->net.layers[m->net.count - 1]->out;
    m->probs = ecg_aligned_calloc(m->batch * k, sizeof(float));
    m->dlogits = ecg_aligned_calloc(m->batch * k, sizeof(float));
    return m->probs && m->dlogits
               ? ECG_OK
               : ecg_error_set(err, ECG_ERR_NOMEM, "model: cannot allocate logits buffers");
}

/* The builder; shared_values: the values of the network this one is a replica of (NULL: its own). */
static int effnet_init(struct ecg_effnet *m, const struct ecg_effnet_options *o, int64_t batch, int64_t h,
                       int64_t w, float *shared_values, struct ecg_error *err)
{
    memset(m, 0, sizeof *m);
    ECG_TRY(check_options(o, batch, h, w, err));
    m->opt = *o;
    m->batch = batch;
    m->h = h;
    m->w = w;
    struct layer_list ls = {0};
    int pool_index = 0;
    int rc = push_backbone(m, &ls, err);
    if (!rc)
        rc = push_top(m, &ls, &pool_index, err);
    if (rc) {
        layer_list_free(&ls);
        ecg_effnet_free(m);
        return rc;
    }
    struct ecg_net_options no = {.bn_eps = o->bn_eps,
                                 .bn_momentum = o->bn_momentum,
                                 .want_din = false,
                                 .inference_only = o->inference_only,
                                 .shared_values = shared_values};
    int64_t in_dims[3] = {h, w, o->in_channels};
    rc = ecg_net_init(&m->net, ls.items, ls.count, batch, in_dims, &no,
                      err); /* owns the layers, also on failure */
    if (!rc)
        rc = alloc_outputs(m, pool_index, err);
    if (rc)
        ecg_effnet_free(m);
    return rc;
}

int ecg_effnet_init(struct ecg_effnet *m, const struct ecg_effnet_options *o, int64_t batch, int64_t h,
                    int64_t w, struct ecg_error *err)
{
    return effnet_init(m, o, batch, h, w, NULL, err);
}

int ecg_effnet_init_replica(struct ecg_effnet *m, const struct ecg_effnet *of, int64_t batch, struct ecg_error *err)
{
    ECG_ASSERT(!of->opt.inference_only);
    int rc = effnet_init(m, &of->opt, batch, of->h, of->w, of->params->values, err);
    if (rc)
        return ecg_error_prefix(err, rc, "a replica of the model");
    ECG_ASSERT(m->params->total == of->params->total && m->params->count == of->params->count);
    return ECG_OK;
}

void ecg_effnet_forward(struct ecg_effnet *m, const float *x, int64_t n, bool training,
                        const struct ecg_rng *rng)
{
    ECG_ASSERT(n >= 1 && n <= m->batch);
    m->n = n;
    ecg_net_forward(&m->net, x, n, training, m->opt.bn_mode, rng);
}

void ecg_effnet_set_context(struct ecg_effnet *m, int64_t first, const float *values, int64_t n, int64_t stride)
{
    const int64_t k = m->opt.context_features;
    ECG_ASSERT(first >= 0 && n >= 0 && first + n <= m->batch && stride >= k);
    for (int64_t i = 0; i < n && k > 0; i++)
        memcpy(m->context + (first + i) * k, values + i * stride, (size_t)k * sizeof(float));
}

double ecg_effnet_loss(struct ecg_effnet *m, const int32_t *labels, const float *class_weight,
                       float smoothing)
{
    ECG_ASSERT(m->opt.num_classes > 0 && m->n > 0);
    double t0 = ecg_now();
    int64_t k = m->opt.num_classes;
    memset(m->dlogits, 0, (size_t)(m->n * k) * sizeof(float));
    double loss = ecg_softmax_xent(m->probs, m->dlogits, m->logits, labels, class_weight, m->n, k, smoothing);
    m->net.t_fwd[ECG_KIND_LOSS] += ecg_now() - t0;
    return loss;
}

void ecg_effnet_backward(struct ecg_effnet *m)
{
    ECG_ASSERT(m->n > 0);
    ecg_net_backward(&m->net, m->opt.num_classes > 0 ? m->dlogits : m->dfeatures);
}

/* Truncated standard normal (|z| <= 2), as Keras' TruncatedNormal. */
static float truncated_normal(struct ecg_rng *r)
{
    for (;;) {
        float z = ecg_rng_normal(r);
        if (fabsf(z) <= 2.0f)
            return z;
    }
}

/* Fills one parameter as its layer declared (Keras' initialisers); r is the parameter's own stream. */
static void init_param(const struct ecg_param *it, float *v, struct ecg_rng *r)
{
    switch (it->init) {
    case ECG_INIT_CONV_FAN_OUT: {
        /* VarianceScaling(2, fan_out, truncated normal); 0.8796... = std of the truncated normal */
        double fan_out = (double)(it->shape[0] * it->shape[1] * it->shape[3]);
        float std = (float)(sqrt(2.0 / fan_out) / 0.87962566103423978);
        for (int64_t j = 0; j < it->numel; j++)
            v[j] = std * truncated_normal(r);
        break;
    }
    case ECG_INIT_DENSE_FAN_OUT: {
        /* VarianceScaling(1/3, fan_out, uniform): limit sqrt(3 * scale / fan_out) */
        float limit = (float)sqrt(1.0 / (double)it->shape[1]);
        for (int64_t j = 0; j < it->numel; j++)
            v[j] = limit * (2.0f * ecg_rng_uniform(r) - 1.0f);
        break;
    }
    case ECG_INIT_ZEROS:
    case ECG_INIT_ONES:
        for (int64_t j = 0; j < it->numel; j++)
            v[j] = it->init == ECG_INIT_ONES ? 1.0f : 0.0f;
        break;
    case ECG_INIT_UNSET:
        ECG_ASSERT(!"every parameter declares its initialisation");
    }
}

void ecg_effnet_init_weights(struct ecg_effnet *m, uint64_t seed)
{
    struct ecg_params *p = m->params;
    struct ecg_rng root = ecg_rng_init(seed, 0x77656967u);
    for (int i = 0; i < p->count; i++) {
        struct ecg_rng r = ecg_rng_stream(&root, (uint64_t)i);
        init_param(&p->items[i], ecg_params_value(p, i), &r);
    }
}

void ecg_effnet_timing_reset(struct ecg_effnet *m)
{
    memset(m->net.t_fwd, 0, sizeof m->net.t_fwd);
    memset(m->net.t_bwd, 0, sizeof m->net.t_bwd);
}

void ecg_effnet_timing_print(const struct ecg_effnet *m, FILE *f)
{
    double tf = 0.0, tb = 0.0;
    for (int k = 0; k < ECG_KIND_COUNT; k++) {
        tf += m->net.t_fwd[k];
        tb += m->net.t_bwd[k];
    }
    fprintf(f, "%-8s %10s %10s %10s\n", "kind", "fwd_s", "bwd_s", "share");
    for (int k = 0; k < ECG_KIND_COUNT; k++) {
        double t = m->net.t_fwd[k] + m->net.t_bwd[k];
        if (t <= 0.0)
            continue;
        fprintf(f, "%-8s %10.4f %10.4f %9.1f%%\n", ecg_layer_kind_name((enum ecg_layer_kind)k),
                m->net.t_fwd[k], m->net.t_bwd[k], tf + tb > 0.0 ? 100.0 * t / (tf + tb) : 0.0);
    }
    fprintf(f, "%-8s %10.4f %10.4f\n", "total", tf, tb);
}

struct ecg_effnet_memory ecg_effnet_memory(const struct ecg_effnet *m)
{
    struct ecg_effnet_memory r = {
        .activation_bytes = m->net.act.high,
        .work_bytes = m->net.work.high,
        .param_bytes = m->net.params.total * 2 * (int64_t)sizeof(float),
    };
    return r;
}

void ecg_effnet_free(struct ecg_effnet *m)
{
    ecg_net_free(&m->net);
    ecg_aligned_free(m->probs);
    ecg_aligned_free(m->dlogits);
    ecg_aligned_free(m->dfeatures);
    ecg_aligned_free(m->context);
    memset(m, 0, sizeof *m);
}
