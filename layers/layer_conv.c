/* Convolution and depthwise convolution layers (no bias), on the kernels of kernels.h. */
#include <stdlib.h>

#include "layers/layer.h"

struct conv_layer {
    struct ecg_layer base;
    int64_t cout, k, stride;
    enum ecg_padding pad;
    bool depthwise;
    struct ecg_conv_geom g; /* for the planned batch; n is replaced per call */
    float *kernel, *dkernel;
};

static int conv_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    struct conv_layer *c = (struct conv_layer *)l;
    int64_t cin = l->in_dims[2];
    int64_t cout = c->depthwise ? cin : c->cout;
    ecg_conv_geom_init(&c->g, s->batch, l->in_dims[0], l->in_dims[1], cin, cout, c->k, c->stride, c->pad);
    if (c->g.oh < 1 || c->g.ow < 1)
        return ecg_error_set(err, ECG_ERR_SHAPE,
                             "layer '%s': input %lldx%lld too small for a %lldx%lld kernel with stride %lld",
                             l->name, (long long)l->in_dims[0], (long long)l->in_dims[1], (long long)c->k,
                             (long long)c->k, (long long)c->stride);
    l->out_dims[0] = c->g.oh;
    l->out_dims[1] = c->g.ow;
    l->out_dims[2] = cout;
    if (c->depthwise) {
        int64_t shape[4] = {c->k, c->k, cin, 1};
        ECG_TRY(ecg_layer_param(l, s, "depthwise_kernel", 4, shape, ECG_PARAM_INIT(ECG_INIT_CONV_FAN_OUT), &c->kernel, &c->dkernel, err));
    } else {
        int64_t shape[4] = {c->k, c->k, cin, cout};
        ECG_TRY(ecg_layer_param(l, s, "kernel", 4, shape, ECG_PARAM_INIT(ECG_INIT_CONV_FAN_OUT), &c->kernel, &c->dkernel, err));
        /* no backward in an inference-only network */
        int64_t fsc = ecg_conv2d_forward_scratch_floats(&c->g);
        int64_t sc = s->inference_only ? fsc : ecg_conv2d_scratch_floats(&c->g);
        s->forward_scratch = s->forward_scratch || fsc > 0;
        if (sc > s->scratch_floats)
            s->scratch_floats = sc;
    }
    l->out = ecg_layer_alloc_out(s, l);
    return ECG_OK;
}

static void conv_forward_ep(struct ecg_layer *l, const struct ecg_run *r, const float *in, float *out,
                            const struct ecg_epilogue *ep)
{
    struct conv_layer *c = (struct conv_layer *)l;
    struct ecg_conv_geom g = c->g;
    g.n = r->n;
    if (c->depthwise)
        ecg_dwconv_forward_ep(out, in, c->kernel, &g, ep);
    else
        ecg_conv2d_forward_ep(out, in, c->kernel, &g, r->scratch, ep);
}

static void conv_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    conv_forward_ep(l, r, in, ecg_layer_out_at(l, r), NULL);
}

static void conv_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct conv_layer *c = (struct conv_layer *)l;
    struct ecg_conv_geom g = c->g;
    g.n = r->n;
    float *dk = ecg_layer_param_live(l, r->params, 0) ? c->dkernel : NULL;
    if (!dk && !din)
        return;
    if (c->depthwise)
        ecg_dwconv_backward(din, dk, dout, l->in, c->kernel, &g);
    else
        ecg_conv2d_backward(din, dk, dout, l->in, c->kernel, &g, r->scratch);
}

static void conv_backward_set(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct conv_layer *c = (struct conv_layer *)l;
    struct ecg_conv_geom g = c->g;
    g.n = r->n;
    float *dk = ecg_layer_param_live(l, r->params, 0) ? c->dkernel : NULL;
    if (c->depthwise)
        ecg_dwconv_backward_set(din, dk, dout, l->in, c->kernel, &g);
    else
        ecg_conv2d_backward_set(din, dk, dout, l->in, c->kernel, &g, r->scratch);
}

static const struct ecg_layer_ops conv_ops = {
    .type = "conv",
    .kind = ECG_KIND_CONV,
    .setup = conv_setup,
    .forward = conv_forward,
    .forward_ep = conv_forward_ep,
    .backward = conv_backward,
    .backward_set = conv_backward_set,
};
static const struct ecg_layer_ops dwconv_ops = {
    .type = "dwconv",
    .kind = ECG_KIND_DWCONV,
    .setup = conv_setup,
    .forward = conv_forward,
    .forward_ep = conv_forward_ep,
    .backward = conv_backward,
};

static struct ecg_layer *conv_new(const char *name, int64_t cout, int64_t k, int64_t stride,
                                  enum ecg_padding pad, bool depthwise)
{
    ECG_ASSERT(k >= 1 && stride >= 1 && (depthwise || cout >= 1));
    struct conv_layer *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    ecg_layer_init_base(&c->base, depthwise ? &dwconv_ops : &conv_ops, name);
    c->cout = cout;
    c->k = k;
    c->stride = stride;
    c->pad = pad;
    c->depthwise = depthwise;
    return &c->base;
}

struct ecg_layer *ecg_layer_conv_new(const char *name, int64_t cout, int64_t k, int64_t stride,
                                     enum ecg_padding pad)
{
    return conv_new(name, cout, k, stride, pad, false);
}

struct ecg_layer *ecg_layer_dwconv_new(const char *name, int64_t k, int64_t stride, enum ecg_padding pad)
{
    return conv_new(name, 0, k, stride, pad, true);
}
