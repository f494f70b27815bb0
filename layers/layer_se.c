/* Squeeze-and-excitation layer: pool, reduce 1x1 conv + bias, SiLU, expand 1x1 conv + bias, sigmoid, channel
 * scale. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "layers/layer.h"

struct se_layer {
    struct ecg_layer base;
    int64_t cse;
    float *w1, *b1, *w2, *b2, *dw1, *db1, *dw2, *db2;
    float *pooled, *r, *ra, *gate;     /* saved: (n, C), (n, Cse), (n, Cse), (n, C) */
    float *dgate, *dt, *dra, *dr, *ds; /* backward temporaries */
    bool transient;                    /* output lives in the shared transient buffer */
};

static int se_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    struct se_layer *e = (struct se_layer *)l;
    int64_t c = l->in_dims[2], cse = e->cse;
    for (int i = 0; i < 3; i++)
        l->out_dims[i] = l->in_dims[i];
    char name[ECG_PARAM_NAME_MAX];
    int64_t k1[4] = {1, 1, c, cse}, k2[4] = {1, 1, cse, c}, b1[1] = {cse}, b2[1] = {c};
    snprintf(name, sizeof name, "%s_reduce/kernel", l->name);
    ECG_TRY(ecg_layer_param_full(l, s, name, 4, k1, ECG_PARAM_INIT(ECG_INIT_CONV_FAN_OUT), &e->w1, &e->dw1, err));
    snprintf(name, sizeof name, "%s_reduce/bias", l->name);
    ECG_TRY(ecg_layer_param_full(l, s, name, 1, b1, ECG_PARAM_NO_DECAY | ECG_PARAM_INIT(ECG_INIT_ZEROS), &e->b1, &e->db1, err));
    snprintf(name, sizeof name, "%s_expand/kernel", l->name);
    ECG_TRY(ecg_layer_param_full(l, s, name, 4, k2, ECG_PARAM_INIT(ECG_INIT_CONV_FAN_OUT), &e->w2, &e->dw2, err));
    snprintf(name, sizeof name, "%s_expand/bias", l->name);
    ECG_TRY(ecg_layer_param_full(l, s, name, 1, b2, ECG_PARAM_NO_DECAY | ECG_PARAM_INIT(ECG_INIT_ZEROS), &e->b2, &e->db2, err));
    e->pooled = ecg_layer_alloc(s, c);
    e->r = ecg_layer_alloc(s, cse);
    e->ra = ecg_layer_alloc(s, cse);
    e->gate = ecg_layer_alloc(s, c);
    e->dgate = ecg_layer_alloc(s, c);
    e->dt = ecg_layer_alloc(s, c);
    e->dra = ecg_layer_alloc(s, cse);
    e->dr = ecg_layer_alloc(s, cse);
    e->ds = ecg_layer_alloc(s, c);
    if (e->transient) {
        l->out = ecg_layer_alloc_transient(s, l, 0);
    } else {
        l->out = ecg_layer_alloc_out(s, l);
    }
    return ECG_OK;
}

void ecg_layer_se_set_transient(struct ecg_layer *l)
{
    ((struct se_layer *)l)->transient = true;
}

void ecg_layer_se_recompute(struct ecg_layer *l, const struct ecg_run *r)
{
    struct se_layer *e = (struct se_layer *)l;
    double t0 = r->t_bwd ? ecg_now() : 0.0;
    ecg_channel_scale_forward(l->out, l->in, e->gate, r->n, l->in_dims[0] * l->in_dims[1], l->in_dims[2]);
    if (r->t_bwd)
        r->t_bwd[ECG_KIND_SE] += ecg_now() - t0;
}

static void se_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    struct se_layer *e = (struct se_layer *)l;
    int64_t n = r->n, hw = l->in_dims[0] * l->in_dims[1], c = l->in_dims[2], cse = e->cse;
    /* per-sample buffers from sample r->b0 on */
    float *pooled = e->pooled + r->b0 * c, *t = e->dt + r->b0 * c, *gate = e->gate + r->b0 * c;
    float *rr = e->r + r->b0 * cse, *ra = e->ra + r->b0 * cse;
    ecg_gap_forward(pooled, in, n, hw, c);
    ecg_dense_forward(rr, pooled, e->w1, e->b1, n, c, cse);
    ecg_silu_forward(ra, rr, n * cse);
    ecg_dense_forward(t, ra, e->w2, e->b2, n, cse, c); /* dt holds the pre-sigmoid t here */
    ecg_sigmoid_forward(gate, t, n * c);
    ecg_channel_scale_forward(ecg_layer_out_at(l, r), in, gate, n, hw, c);
}

static void se_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct se_layer *e = (struct se_layer *)l;
    const struct ecg_params *p = r->params;
    int64_t n = r->n, hw = l->in_dims[0] * l->in_dims[1], c = l->in_dims[2], cse = e->cse;
    bool live1 = ecg_layer_param_live(l, p, 0) || ecg_layer_param_live(l, p, 1);
    bool live2 = ecg_layer_param_live(l, p, 2) || ecg_layer_param_live(l, p, 3);
    if (!din && !live1 && !live2)
        return;
    memset(e->dgate, 0, (size_t)(n * c) * sizeof(float));
    ecg_channel_scale_backward(din, e->dgate, dout, l->in, e->gate, n, hw, c);
    memset(e->dt, 0, (size_t)(n * c) * sizeof(float));
    ecg_sigmoid_backward(e->dt, e->dgate, e->gate, n * c);
    bool below = din || live1; /* anything below the expand conv needs its input gradient */
    if (below)
        memset(e->dra, 0, (size_t)(n * cse) * sizeof(float));
    ecg_dense_backward(below ? e->dra : NULL, ecg_layer_param_live(l, p, 2) ? e->dw2 : NULL,
                       ecg_layer_param_live(l, p, 3) ? e->db2 : NULL, e->dt, e->ra, e->w2, n, cse, c);
    if (!below)
        return;
    memset(e->dr, 0, (size_t)(n * cse) * sizeof(float));
    ecg_silu_backward(e->dr, e->dra, e->r, n * cse);
    if (din)
        memset(e->ds, 0, (size_t)(n * c) * sizeof(float));
    ecg_dense_backward(din ? e->ds : NULL, ecg_layer_param_live(l, p, 0) ? e->dw1 : NULL,
                       ecg_layer_param_live(l, p, 1) ? e->db1 : NULL, e->dr, e->pooled, e->w1, n, c, cse);
    if (din)
        ecg_gap_backward(din, e->ds, n, hw, c);
}

static const struct ecg_layer_ops se_ops = {
    .type = "se",
    .kind = ECG_KIND_SE,
    .setup = se_setup,
    .forward = se_forward,
    .backward = se_backward,
};

struct ecg_layer *ecg_layer_se_new(const char *name, int64_t cse)
{
    ECG_ASSERT(cse >= 1);
    struct se_layer *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    ecg_layer_init_base(&e->base, &se_ops, name);
    e->cse = cse;
    return &e->base;
}
