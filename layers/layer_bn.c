/* Batch normalisation layer (optionally fused with SiLU): batch statistics with running update, or fixed
 * running statistics. */
#include <stdlib.h>

#include "layers/layer.h"

struct bn_layer {
    struct ecg_layer base;
    float eps, momentum;
    float *gamma, *beta, *run_mean, *run_var;
    float *dgamma, *dbeta;
    float *mean, *invstd; /* batch statistics of the last training forward */
    bool batch_stats;     /* whether the last forward used batch statistics */
    const struct ecg_bn_sync *sync; /* the last training forward's synchronisation (NULL: none) */
    double total_rows;    /* rows its statistics counted, over every replica */
    bool silu;            /* out = silu(bn(in)); bn(in) is recomputed in backward, not stored */
};

static int bn_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    struct bn_layer *b = (struct bn_layer *)l;
    int64_t c = l->in_dims[2];
    for (int i = 0; i < 3; i++)
        l->out_dims[i] = l->in_dims[i];
    b->eps = s->bn_eps;
    b->momentum = s->bn_momentum;
    int64_t shape[1] = {c};
    ECG_TRY(ecg_layer_param(l, s, "gamma", 1, shape, ECG_PARAM_NO_DECAY, &b->gamma, &b->dgamma, err));
    ECG_TRY(ecg_layer_param(l, s, "beta", 1, shape, ECG_PARAM_NO_DECAY, &b->beta, &b->dbeta, err));
    ECG_TRY(ecg_layer_param(l, s, "moving_mean", 1, shape, ECG_PARAM_BUFFER, &b->run_mean, NULL, err));
    ECG_TRY(ecg_layer_param(l, s, "moving_variance", 1, shape, ECG_PARAM_BUFFER, &b->run_var, NULL, err));
    b->mean = ecg_arena_floats(s->act, c);
    b->invstd = ecg_arena_floats(s->act, c);
    l->out = ecg_layer_alloc_out(s, l);
    return ECG_OK;
}

static void bn_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    struct bn_layer *b = (struct bn_layer *)l;
    int64_t c = l->in_dims[2];
    int64_t rows = r->n * l->in_dims[0] * l->in_dims[1];
    /* a BN whose gamma and beta are both frozen is in inference mode (Keras convention) */
    bool frozen = !ecg_layer_param_live(l, r->params, 0) && !ecg_layer_param_live(l, r->params, 1);
    b->batch_stats = r->training && r->bn_mode == ECG_BN_TRAIN && !frozen;
    b->sync = b->batch_stats ? r->bn_sync : NULL;
    if (b->sync) {
        ecg_bn_forward_train_sync(l->out, b->mean, b->invstd, &b->total_rows, in, b->gamma, b->beta, b->run_mean,
                                  rows, c, b->eps, b->silu, b->sync);
        ecg_bn_update_running(b->run_mean, b->run_var, b->mean, b->invstd, (int64_t)b->total_rows, c, b->eps,
                              b->momentum);
    } else if (b->batch_stats) {
        if (b->silu)
            ecg_bn_silu_forward_train(l->out, b->mean, b->invstd, in, b->gamma, b->beta, rows, c, b->eps);
        else
            ecg_bn_forward_train(l->out, b->mean, b->invstd, in, b->gamma, b->beta, rows, c, b->eps);
        ecg_bn_update_running(b->run_mean, b->run_var, b->mean, b->invstd, rows, c, b->eps, b->momentum);
    } else if (b->silu) {
        ecg_bn_silu_forward_fixed(l->out, in, b->gamma, b->beta, b->run_mean, b->run_var, rows, c, b->eps);
    } else {
        ecg_bn_forward_fixed(l->out, in, b->gamma, b->beta, b->run_mean, b->run_var, rows, c, b->eps);
    }
}

static void bn_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct bn_layer *b = (struct bn_layer *)l;
    int64_t c = l->in_dims[2];
    int64_t rows = r->n * l->in_dims[0] * l->in_dims[1];
    float *dg = ecg_layer_param_live(l, r->params, 0) ? b->dgamma : NULL;
    float *db = ecg_layer_param_live(l, r->params, 1) ? b->dbeta : NULL;
    if (!dg && !db && !din)
        return;
    if (b->sync)
        ecg_bn_backward_train_sync(din, dg, db, dout, l->in, b->mean, b->invstd, b->gamma, b->beta, rows, c,
                                   b->silu, false, b->sync, b->total_rows);
    else if (b->batch_stats && b->silu)
        ecg_bn_silu_backward_train(din, dg, db, dout, l->in, b->mean, b->invstd, b->gamma, b->beta, rows, c);
    else if (b->batch_stats)
        ecg_bn_backward_train(din, dg, db, dout, l->in, b->mean, b->invstd, b->gamma, rows, c);
    else if (b->silu)
        ecg_bn_silu_backward_fixed(din, dg, db, dout, l->in, b->gamma, b->beta, b->run_mean, b->run_var, rows,
                                   c, b->eps);
    else
        ecg_bn_backward_fixed(din, dg, db, dout, l->in, b->gamma, b->run_mean, b->run_var, rows, c, b->eps);
}

static void bn_backward_set(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct bn_layer *b = (struct bn_layer *)l;
    int64_t c = l->in_dims[2];
    int64_t rows = r->n * l->in_dims[0] * l->in_dims[1];
    float *dg = ecg_layer_param_live(l, r->params, 0) ? b->dgamma : NULL;
    float *db = ecg_layer_param_live(l, r->params, 1) ? b->dbeta : NULL;
    if (b->sync)
        ecg_bn_backward_train_sync(din, dg, db, dout, l->in, b->mean, b->invstd, b->gamma, b->beta, rows, c,
                                   b->silu, true, b->sync, b->total_rows);
    else if (b->batch_stats && b->silu)
        ecg_bn_silu_backward_train_set(din, dg, db, dout, l->in, b->mean, b->invstd, b->gamma, b->beta, rows, c);
    else if (b->batch_stats)
        ecg_bn_backward_train_set(din, dg, db, dout, l->in, b->mean, b->invstd, b->gamma, rows, c);
    else if (b->silu)
        ecg_bn_silu_backward_fixed_set(din, dg, db, dout, l->in, b->gamma, b->beta, b->run_mean, b->run_var,
                                       rows, c, b->eps);
    else
        ecg_bn_backward_fixed_set(din, dg, db, dout, l->in, b->gamma, b->run_mean, b->run_var, rows, c, b->eps);
}

static const struct ecg_layer_ops bn_ops = {
    .type = "bn",
    .kind = ECG_KIND_BN,
    .setup = bn_setup,
    .forward = bn_forward,
    .backward = bn_backward,
    .backward_set = bn_backward_set,
};

static struct ecg_layer *bn_new(const char *name, bool silu)
{
    struct bn_layer *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    ecg_layer_init_base(&b->base, &bn_ops, name);
    b->silu = silu;
    return &b->base;
}

struct ecg_layer *ecg_layer_bn_new(const char *name)
{
    return bn_new(name, false);
}
struct ecg_layer *ecg_layer_bn_silu_new(const char *name)
{
    return bn_new(name, true);
}
