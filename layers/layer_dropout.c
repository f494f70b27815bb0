/* Dropout layer: inverted dropout with a per-sample counter-based mask; identity when not training. */
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"

struct dropout_layer {
    struct ecg_layer base;
    float rate;
    float *mask; /* batch x numel: 0 or 1/(1-rate) */
    bool active; /* whether the last forward applied a mask */
};

static int dropout_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    (void)err;
    struct dropout_layer *d = (struct dropout_layer *)l;
    for (int i = 0; i < 3; i++)
        l->out_dims[i] = l->in_dims[i];
    d->mask = d->rate > 0.0f ? ecg_layer_alloc(s, ecg_layer_out_numel(l)) : NULL;
    l->out = ecg_layer_alloc_out(s, l);
    return ECG_OK;
}

static void dropout_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    struct dropout_layer *d = (struct dropout_layer *)l;
    int64_t per = ecg_layer_out_numel(l);
    const bool active = r->training && r->rng && d->rate > 0.0f;
    if (r->b0 == 0) /* one writer when tasks of an inference run in parallel */
        d->active = active;
    if (!active) {
        memcpy(ecg_layer_out_at(l, r), in, (size_t)(r->n * per) * sizeof(float));
        return;
    }
    ECG_ASSERT(r->b0 == 0); /* masks only in training, which runs the whole batch */
    float keep = 1.0f - d->rate, scale = 1.0f / keep;
    struct ecg_rng layer_rng = ecg_rng_stream(r->rng, l->stream);
    for (int64_t i = 0; i < r->n; i++) {
        struct ecg_rng g = ecg_rng_stream(&layer_rng, (uint64_t)(r->sample0 + i));
        float *m = d->mask + i * per;
        for (int64_t j = 0; j < per; j++)
            m[j] = ecg_rng_uniform(&g) < keep ? scale : 0.0f;
    }
    ecg_mask_forward(l->out, in, d->mask, r->n * per);
}

static void dropout_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct dropout_layer *d = (struct dropout_layer *)l;
    if (!din)
        return;
    int64_t count = r->n * ecg_layer_out_numel(l);
    if (d->active) {
        ecg_mask_backward(din, dout, d->mask, count);
    } else {
        for (int64_t i = 0; i < count; i++)
            din[i] += dout[i];
    }
}

static const struct ecg_layer_ops dropout_ops = {
    .type = "dropout",
    .kind = ECG_KIND_DROP,
    .setup = dropout_setup,
    .forward = dropout_forward,
    .backward = dropout_backward,
};

struct ecg_layer *ecg_layer_dropout_new(const char *name, float rate)
{
    ECG_ASSERT(rate >= 0.0f && rate < 1.0f);
    struct dropout_layer *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    ecg_layer_init_base(&d->base, &dropout_ops, name);
    d->rate = rate;
    return &d->base;
}
