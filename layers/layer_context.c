/* Joins per-sample context values (a beat's RR features) to the pooled image features before the classifier. */
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"

struct context_layer {
    struct ecg_layer base;
    int64_t k;            /* context values per sample */
    const float *context; /* (planned batch, k), owned by the model, filled by the caller before forward */
};

static int context_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    struct context_layer *c = (struct context_layer *)l;
    if (l->in_dims[0] != 1 || l->in_dims[1] != 1)
        return ecg_error_set(err, ECG_ERR_SHAPE,
                             "layer '%s': context joins (1, 1, C) features, got (%lld, %lld, %lld)", l->name,
                             (long long)l->in_dims[0], (long long)l->in_dims[1], (long long)l->in_dims[2]);
    l->out_dims[0] = 1;
    l->out_dims[1] = 1;
    l->out_dims[2] = l->in_dims[2] + c->k;
    l->out = ecg_layer_alloc_out(s, l);
    return ECG_OK;
}

/* out (n, C + k) = [in (n, C), context (n, k)] */
static void context_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    struct context_layer *c = (struct context_layer *)l;
    const int64_t cin = l->in_dims[2], k = c->k;
    float *out = ecg_layer_out_at(l, r);
    const float *ctx = c->context + r->b0 * k;
    for (int64_t i = 0; i < r->n; i++) {
        memcpy(out + i * (cin + k), in + i * cin, (size_t)cin * sizeof(float));
        memcpy(out + i * (cin + k) + cin, ctx + i * k, (size_t)k * sizeof(float));
    }
}

/* din (n, C) += dout (n, :C); the context is an input of the model: nothing flows to it */
static void context_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct context_layer *c = (struct context_layer *)l;
    const int64_t cin = l->in_dims[2];
    if (!din)
        return;
    for (int64_t i = 0; i < r->n; i++)
        for (int64_t j = 0; j < cin; j++)
            din[i * cin + j] += dout[i * (cin + c->k) + j];
}

static const struct ecg_layer_ops context_ops = {
    .type = "context",
    .kind = ECG_KIND_DENSE, /* part of the classifier */
    .setup = context_setup,
    .forward = context_forward,
    .backward = context_backward,
};

struct ecg_layer *ecg_layer_context_new(const char *name, const float *context, int64_t k)
{
    ECG_ASSERT(k >= 1 && context);
    struct context_layer *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    ecg_layer_init_base(&c->base, &context_ops, name);
    c->k = k;
    c->context = context;
    return &c->base;
}
