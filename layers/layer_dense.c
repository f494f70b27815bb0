/* Dense (fully connected) layer with bias on (1, 1, Cin) inputs: the classifier. */
#include <stdlib.h>

#include "layers/layer.h"

struct dense_layer {
    struct ecg_layer base;
    int64_t cout;
    float *kernel, *bias, *dkernel, *dbias;
};

static int dense_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    struct dense_layer *d = (struct dense_layer *)l;
    int64_t cin = ecg_layer_in_numel(l);
    if (l->in_dims[0] != 1 || l->in_dims[1] != 1)
        return ecg_error_set(err, ECG_ERR_SHAPE,
                             "layer '%s': dense input must be (1, 1, C), got (%lld, %lld, %lld)", l->name,
                             (long long)l->in_dims[0], (long long)l->in_dims[1], (long long)l->in_dims[2]);
    l->out_dims[0] = 1;
    l->out_dims[1] = 1;
    l->out_dims[2] = d->cout;
    int64_t kshape[2] = {cin, d->cout}, bshape[1] = {d->cout};
    ECG_TRY(ecg_layer_param(l, s, "kernel", 2, kshape, ECG_PARAM_INIT(ECG_INIT_DENSE_FAN_OUT), &d->kernel, &d->dkernel, err));
    ECG_TRY(ecg_layer_param(l, s, "bias", 1, bshape, ECG_PARAM_NO_DECAY | ECG_PARAM_INIT(ECG_INIT_ZEROS), &d->bias, &d->dbias, err));
    l->out = ecg_layer_alloc_out(s, l);
    return ECG_OK;
}

static void dense_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    struct dense_layer *d = (struct dense_layer *)l;
    ecg_dense_forward(ecg_layer_out_at(l, r), in, d->kernel, d->bias, r->n, ecg_layer_in_numel(l), d->cout);
}

static void dense_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct dense_layer *d = (struct dense_layer *)l;
    float *dk = ecg_layer_param_live(l, r->params, 0) ? d->dkernel : NULL;
    float *db = ecg_layer_param_live(l, r->params, 1) ? d->dbias : NULL;
    if (dk || db || din)
        ecg_dense_backward(din, dk, db, dout, l->in, d->kernel, r->n, ecg_layer_in_numel(l), d->cout);
}

static const struct ecg_layer_ops dense_ops = {
    .type = "dense",
    .kind = ECG_KIND_DENSE,
    .setup = dense_setup,
    .forward = dense_forward,
    .backward = dense_backward,
};

struct ecg_layer *ecg_layer_dense_new(const char *name, int64_t cout)
{
    ECG_ASSERT(cout >= 1);
    struct dense_layer *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    ecg_layer_init_base(&d->base, &dense_ops, name);
    d->cout = cout;
    return &d->base;
}
