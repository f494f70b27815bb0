/* Batch normalisation layer (optionally fused with SiLU): batch statistics with running update, or fixed
 * running statistics. */
#include <stdlib.h>

#include "core/log.h"
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
    int transient;        /* 1 + which shared transient buffer holds the output (training networks) */
    bool recomputed;      /* the output has been recomputed since the last forward */
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
    ECG_TRY(ecg_layer_param(l, s, "gamma", 1, shape, ECG_PARAM_NO_DECAY | ECG_PARAM_INIT(ECG_INIT_ONES), &b->gamma, &b->dgamma, err));
    ECG_TRY(ecg_layer_param(l, s, "beta", 1, shape, ECG_PARAM_NO_DECAY | ECG_PARAM_INIT(ECG_INIT_ZEROS), &b->beta, &b->dbeta, err));
    ECG_TRY(ecg_layer_param(l, s, "moving_mean", 1, shape, ECG_PARAM_BUFFER | ECG_PARAM_INIT(ECG_INIT_ZEROS), &b->run_mean, NULL, err));
    ECG_TRY(ecg_layer_param(l, s, "moving_variance", 1, shape, ECG_PARAM_BUFFER | ECG_PARAM_INIT(ECG_INIT_ONES), &b->run_var, NULL, err));
    b->mean = ecg_arena_floats(s->act, c);
    b->invstd = ecg_arena_floats(s->act, c);
    if (b->transient && !s->inference_only)
        l->out = ecg_layer_alloc_transient(s, l, b->transient - 1);
    else
        l->out = ecg_layer_alloc_out_inplace(s, l); /* the kernels may run in place */
    return ECG_OK;
}

void ecg_layer_bn_set_transient(struct ecg_layer *l, int which)
{
    ECG_ASSERT(which == 0 || which == 1);
    ((struct bn_layer *)l)->transient = 1 + which;
}

static void bn_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    struct bn_layer *b = (struct bn_layer *)l;
    int64_t c = l->in_dims[2];
    int64_t rows = r->n * l->in_dims[0] * l->in_dims[1];
    float *out = ecg_layer_out_at(l, r);
    /* a BN whose gamma and beta are both frozen is in inference mode (Keras convention) */
    bool frozen = !ecg_layer_param_live(l, r->params, 0) && !ecg_layer_param_live(l, r->params, 1);
    const bool batch_stats = r->training && r->bn_mode == ECG_BN_TRAIN && !frozen;
    if (r->b0 == 0) { /* one writer when tasks of an inference run in parallel */
        b->batch_stats = batch_stats;
        b->sync = batch_stats ? r->bn_sync : NULL;
        b->recomputed = false;
    }
    if (batch_stats && r->bn_sync) {
        ecg_bn_forward_train_sync(out, b->mean, b->invstd, &b->total_rows, in, b->gamma, b->beta, rows, c,
                                  b->eps, b->silu, r->bn_sync);
        if (!r->shared_params) /* a replica sharing another network's values leaves them to it */
            ecg_bn_update_running(b->run_mean, b->run_var, b->mean, b->invstd, (int64_t)b->total_rows, c,
                                  b->eps, b->momentum);
    } else if (batch_stats) {
        if (b->silu)
            ecg_bn_silu_forward_train(out, b->mean, b->invstd, in, b->gamma, b->beta, rows, c, b->eps);
        else
            ecg_bn_forward_train(out, b->mean, b->invstd, in, b->gamma, b->beta, rows, c, b->eps);
        if (!r->shared_params)
            ecg_bn_update_running(b->run_mean, b->run_var, b->mean, b->invstd, rows, c, b->eps, b->momentum);
    } else if (b->silu) {
        ecg_bn_silu_forward_fixed(out, in, b->gamma, b->beta, b->run_mean, b->run_var, rows, c, b->eps);
    } else {
        ecg_bn_forward_fixed(out, in, b->gamma, b->beta, b->run_mean, b->run_var, rows, c, b->eps);
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

static const struct ecg_layer_ops bn_ops;

static void bn_recompute(struct ecg_layer *l, const struct ecg_run *r)
{
    struct bn_layer *b = (struct bn_layer *)l;
    if (!b->transient || b->recomputed)
        return;
    b->recomputed = true;
    double t0 = r->t_bwd ? ecg_now() : 0.0;
    int64_t c = l->in_dims[2], rows = r->n * l->in_dims[0] * l->in_dims[1];
    if (b->batch_stats) /* the saved statistics: synchronised ones under data parallelism */
        ecg_bn_forward_saved(l->out, l->in, b->mean, b->invstd, b->gamma, b->beta, rows, c, b->silu);
    else if (b->silu)
        ecg_bn_silu_forward_fixed(l->out, l->in, b->gamma, b->beta, b->run_mean, b->run_var, rows, c, b->eps);
    else
        ecg_bn_forward_fixed(l->out, l->in, b->gamma, b->beta, b->run_mean, b->run_var, rows, c, b->eps);
    if (r->t_bwd)
        r->t_bwd[ECG_KIND_BN] += ecg_now() - t0;
}

bool ecg_layer_bn_epilogue(const struct ecg_layer *l, const struct ecg_run *r, float *scale,
                           struct ecg_epilogue *ep)
{
    const struct bn_layer *b = (const struct bn_layer *)l;
    if (l->ops != &bn_ops || r->training)
        return false;
    ecg_bn_fold_scale(scale, b->gamma, b->run_var, l->in_dims[2], b->eps);
    *ep = (struct ecg_epilogue){.mean = b->run_mean, .scale = scale, .shift = b->beta, .silu = b->silu};
    return true;
}

static const struct ecg_layer_ops bn_ops = {
    .type = "bn",
    .kind = ECG_KIND_BN,
    .setup = bn_setup,
    .forward = bn_forward,
    .backward = bn_backward,
    .backward_set = bn_backward_set,
    .backward_in_place = true, /* bn_backward reads each element's gradient before writing it */
    .recompute = bn_recompute,
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
