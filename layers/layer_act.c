/* SiLU (swish) activation layer; backward uses the saved input. */
#include <stdlib.h>

#include "layers/layer.h"

static int silu_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    (void)err;
    for (int i = 0; i < 3; i++)
        l->out_dims[i] = l->in_dims[i];
    l->out = ecg_layer_alloc_out(s, l);
    return ECG_OK;
}

static void silu_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    ecg_silu_forward(ecg_layer_out_at(l, r), in, r->n * ecg_layer_out_numel(l));
}

static void silu_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    if (din)
        ecg_silu_backward(din, dout, l->in, r->n * ecg_layer_out_numel(l));
}

static const struct ecg_layer_ops silu_ops = {
    .type = "silu",
    .kind = ECG_KIND_ACT,
    .setup = silu_setup,
    .forward = silu_forward,
    .backward = silu_backward,
};

struct ecg_layer *ecg_layer_silu_new(const char *name)
{
    struct ecg_layer *l = calloc(1, sizeof *l);
    if (l)
        ecg_layer_init_base(l, &silu_ops, name);
    return l;
}
