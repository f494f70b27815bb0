/* Data-parallel training steps over the ranks of core/dist.h: shards, loss and gradient sums, replica state. */
#include "train/data_parallel.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/dist.h"
#include "core/log.h"
#include "train/run_log.h"

void ecg_dp_shard_loader(struct ecg_loader_opts *lo)
{
    lo->shard = ecg_dist_rank();
    lo->shards = ecg_dist_size();
}

/* The network's BN synchronisation: a sum over ranks, timed. */
static void bn_sum(double *buf, int64_t n, void *ctx)
{
    struct ecg_dp *dp = ctx;
    double t0 = ecg_now();
    ecg_dist_sum_doubles(buf, n);
    dp->t_bn += ecg_now() - t0;
}

int ecg_dp_init(struct ecg_dp *dp, const struct ecg_config *c, struct ecg_effnet *m, const struct ecg_loader *L,
                int k, struct ecg_error *err)
{
    memset(dp, 0, sizeof *dp);
    dp->rank = ecg_dist_rank();
    dp->size = ecg_dist_size();
    dp->k = k;
    dp->sync_bn = c->model.sync_bn && dp->size > 1;
    dp->bn_sync = (struct ecg_bn_sync){.sum = bn_sum, .ctx = dp, .root = dp->rank == 0};
    dp->buf = calloc(4 + (size_t)k * (size_t)k, sizeof *dp->buf);
    if (!dp->buf)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    if (dp->size == 1)
        return ECG_OK;
    /* The smallest batch: the last one when it is kept. */
    int64_t bs = L->opts.batch_size;
    int64_t smallest = L->opts.drop_last || L->epoch_samples % bs == 0 ? bs : L->epoch_samples % bs;
    if (smallest < dp->size)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "train.batch_size: %d ranks need at least %d samples in every batch, found a batch "
                             "of %lld; raise train.batch_size or start fewer ranks",
                             dp->size, dp->size, (long long)smallest);
    /* Mixup pairs images across the whole batch, and a rank holds only its part of it. */
    if (c->train.mixup_alpha > 0)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "train.mixup_alpha: data-parallel runs cannot mix images yet (each of the %d ranks "
                             "holds only its part of the batch), found %g; set it to 0 or run one process",
                             dp->size, c->train.mixup_alpha);
    m->net.bn_sync = dp->sync_bn ? &dp->bn_sync : NULL;
    ecg_dist_set_timeout(c->run.dist_timeout);
    ecg_info("data-parallel over %d ranks: %lld samples per batch in all, batch norm %s", dp->size, (long long)bs,
             c->model.freeze_bn ? "frozen (running statistics)"
             : dp->sync_bn      ? "synchronised"
                                : "per rank");
    return ECG_OK;
}

void ecg_dp_free(struct ecg_dp *dp)
{
    free(dp->buf);
    memset(dp, 0, sizeof *dp);
}

/* Adds the shard's predictions to the confusion counts (truth-major). */
static void count_confusion(const struct ecg_effnet *m, const struct ecg_batch *b, int k, double *cm)
{
    for (int64_t s = 0; s < b->count; s++) {
        const float *p = m->probs + s * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (p[j] > p[best])
                best = j;
        cm[b->labels[s] * k + best] += 1;
    }
}

double ecg_dp_loss(struct ecg_dp *dp, struct ecg_effnet *m, const struct ecg_batch *b, const float *class_weight,
                   double shard_loss, bool stop_here, bool *stop, double *loss_sum, int64_t *seen, int64_t *cm)
{
    const int k = dp->k;
    double loss = shard_loss;
    double *buf = dp->buf, *conf = buf + 4;
    memset(buf, 0, (4 + (size_t)k * (size_t)k) * sizeof *buf);
    count_confusion(m, b, k, conf);
    if (dp->size > 1) {
        /* The loss kernel normalises by this shard's class-weight total; the step's is the sum. */
        double w = 0;
        for (int64_t s = 0; s < b->count; s++)
            w += class_weight ? (double)class_weight[b->labels[s]] : 1.0;
        buf[0] = w;
        buf[1] = w > 0 ? loss * w : 0.0; /* a shard of zero-weight classes adds nothing */
        buf[2] = (double)b->count;
        buf[3] = stop_here ? 1 : 0;
        double t0 = ecg_now();
        ecg_dist_sum_doubles(buf, 4 + (int64_t)k * k);
        dp->t_wait += ecg_now() - t0;
        float scale = (float)(w / buf[0]);
        for (int64_t i = 0; i < b->count * k; i++)
            m->dlogits[i] *= scale;
        loss = buf[1] / buf[0];
    } else {
        buf[2] = (double)b->count;
        buf[3] = stop_here ? 1 : 0;
    }
    *stop = buf[3] > 0;
    *loss_sum += loss * buf[2];
    *seen += (int64_t)buf[2];
    for (int i = 0; i < k * k; i++)
        cm[i] += (int64_t)conf[i];
    return loss;
}

void ecg_dp_sum_grads(struct ecg_dp *dp, struct ecg_params *p)
{
    if (dp->size < 2)
        return;
    /* Frozen parameters come first (model order) and have zero gradients: sum from the first live one. */
    int first = 0;
    while (first < p->count && (p->items[first].flags & (ECG_PARAM_FROZEN | ECG_PARAM_BUFFER)))
        first++;
    if (first == p->count)
        return;
    int64_t off = p->items[first].offset;
    double t0 = ecg_now();
    ecg_dist_sum_floats(p->grads + off, p->total - off);
    dp->t_grad += ecg_now() - t0;
}

/* The mean of the batch-norm running statistics over the ranks. */
static void average_buffers(struct ecg_params *p, int size)
{
    for (int i = 0; i < p->count; i++) {
        const struct ecg_param *it = &p->items[i];
        if (!(it->flags & ECG_PARAM_BUFFER))
            continue;
        float *v = p->values + it->offset;
        ecg_dist_sum_floats(v, it->numel);
        for (int64_t j = 0; j < it->numel; j++)
            v[j] /= (float)size;
    }
}

void ecg_dp_sync_replicas(struct ecg_dp *dp, struct ecg_params *p, struct ecg_optim *opt, struct ecg_ema *ema)
{
    if (dp->size < 2)
        return;
    if (!dp->sync_bn)
        average_buffers(p, dp->size);
    ecg_dist_broadcast(p->values, p->total * (int64_t)sizeof(float));
    for (int i = 0; i < ecg_optim_state_count(opt); i++) {
        struct ecg_optim_blob b = ecg_optim_state_blob(opt, i);
        ecg_dist_broadcast(b.data, b.count * (int64_t)sizeof(float));
    }
    if (ema && ema->shadow)
        ecg_dist_broadcast(ema->shadow, ema->total * (int64_t)sizeof(float));
}

bool ecg_dp_show_progress(void)
{
    if (ecg_dist_size() > 1)
        return ecg_dist_is_root() && ecg_run_log_isatty(STDOUT_FILENO);
    return ecg_run_log_isatty(STDERR_FILENO); /* the terminal behind train.log's pipe */
}

void ecg_dp_log_times(const struct ecg_dp *dp)
{
    double train_seconds = dp->t_train;
    if (dp->size < 2)
        return;
    double comm = dp->t_grad + dp->t_bn + dp->t_wait;
    ecg_info("data-parallel time of rank 0: %.1f s training: %.1f s compute, %.1f s gradient sums, %.1f s "
             "batch-norm sums, %.1f s waiting for the other ranks",
             train_seconds, train_seconds - comm, dp->t_grad, dp->t_bn, dp->t_wait);
}

void ecg_dp_sum_eval(float *probs, int64_t *windows, int64_t n, int k)
{
    if (ecg_dist_size() < 2 || n == 0)
        return;
    double *buf = malloc((size_t)n * (size_t)(k + 1) * sizeof *buf);
    if (!buf)
        ecg_dist_abort("out of memory summing the evaluation", 1);
    for (int64_t i = 0; i < n * k; i++)
        buf[i] = probs[i];
    for (int64_t i = 0; i < n; i++)
        buf[n * k + i] = (double)windows[i];
    ecg_dist_sum_doubles(buf, n * (k + 1));
    for (int64_t i = 0; i < n * k; i++)
        probs[i] = (float)buf[i];
    for (int64_t i = 0; i < n; i++)
        windows[i] = (int64_t)buf[n * k + i];
    free(buf);
}
