/* Global average pooling layer: (H, W, C) -> (1, 1, C). */
#include <stdlib.h>

#include "layers/layer.h"

static int gap_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    (void)err;
    l->out_dims[0] = 1;
    l->out_dims[1] = 1;
    l->out_dims[2] = l->in_dims[2];
    l->out = ecg_layer_alloc_out(s, l);
    return ECG_OK;
}

static void gap_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    ecg_gap_forward(ecg_layer_out_at(l, r), in, r->n, l->in_dims[0] * l->in_dims[1], l->in_dims[2]);
}

static void gap_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    if (din)
        ecg_gap_backward(din, dout, r->n, l->in_dims[0] * l->in_dims[1], l->in_dims[2]);
}

static const struct ecg_layer_ops gap_ops = {
    .type = "gap",
    .kind = ECG_KIND_POOL,
    .setup = gap_setup,
    .forward = gap_forward,
    .backward = gap_backward,
};

struct ecg_layer *ecg_layer_gap_new(const char *name)
{
    struct ecg_layer *l = calloc(1, sizeof *l);
    if (l)
        ecg_layer_init_base(l, &gap_ops, name);
    return l;
}
