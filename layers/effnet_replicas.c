/* Data-parallel training replicas of one EfficientNet in one process: shards, synchronised BN, sums. */
#include "layers/effnet_replicas.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/blas.h"
#include "core/openmp.h"

/*
 * The replicas' meeting point.  The barrier spins (with a yield once it has waited a while, for
 * more replicas than cores): a step meets about a hundred times, and a sleeping wait costs tens of
 * microseconds each time, as much as a small layer's work.
 */
struct ecg_replicas_sync {
    int count; /* replicas taking part in the current step */
    atomic_int arrived, generation;
    double *slot[ECG_REPLICAS_MAX]; /* each replica's buffer while the sum reads it */
    double *sum[ECG_REPLICAS_MAX];  /* each replica's result, before it overwrites its buffer */
    int64_t cap;                    /* doubles in each sum buffer */
    struct ecg_bn_sync bn[ECG_REPLICAS_MAX];
    struct replica_ctx {
        struct ecg_replicas_sync *s;
        int id;
    } ctx[ECG_REPLICAS_MAX];
};

static void barrier_wait(struct ecg_replicas_sync *s)
{
    int gen = atomic_load_explicit(&s->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&s->arrived, 1, memory_order_acq_rel) == s->count - 1) {
        atomic_store_explicit(&s->arrived, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->generation, 1, memory_order_release);
        return;
    }
    for (int spins = 0; atomic_load_explicit(&s->generation, memory_order_acquire) == gen; spins++)
        if (spins > 2000)
            sched_yield();
}

/* The batch-norm sum over the replicas of the step: every replica adds the buffers in replica order. */
static void replicas_sum(double *buf, int64_t n, void *ctx)
{
    struct replica_ctx *c = ctx;
    struct ecg_replicas_sync *s = c->s;
    ECG_ASSERT(n <= s->cap);
    s->slot[c->id] = buf;
    barrier_wait(s);
    double *acc = s->sum[c->id];
    memcpy(acc, s->slot[0], (size_t)n * sizeof *acc);
    for (int r = 1; r < s->count; r++) {
        const double *b = s->slot[r];
        for (int64_t i = 0; i < n; i++)
            acc[i] += b[i];
    }
    barrier_wait(s); /* every replica has read every buffer */
    memcpy(buf, acc, (size_t)n * sizeof *acc);
}

/* The longest batch-norm sum of model m: 2 C + 1 doubles for its widest batch norm. */
static int64_t widest_bn_sum(const struct ecg_effnet *m)
{
    int64_t widest = 1;
    const struct ecg_params *p = m->params;
    for (int i = 0; i < p->count; i++) {
        const char *slash = strrchr(p->items[i].name, '/');
        if (slash && !strcmp(slash, "/moving_mean") && p->items[i].numel > widest)
            widest = p->items[i].numel;
    }
    return 2 * widest + 1;
}

int ecg_replicas_init(struct ecg_replicas *rp, struct ecg_effnet *m, int count, int64_t batch,
                      struct ecg_error *err)
{
    memset(rp, 0, sizeof *rp);
    if (count < 1 || count > ECG_REPLICAS_MAX || count > batch)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "expected 1 to %d replicas, and at most the batch of %lld samples, found %d",
                             ECG_REPLICAS_MAX, (long long)batch, count);
    const int64_t per = (batch + count - 1) / count;
    ECG_ASSERT(!m->opt.inference_only && m->opt.num_classes > 0 && (count == 1 ? batch : per) <= m->batch);
    rp->count = count;
    rp->m[0] = m;
    rp->active = 1;
    if (!(rp->probs = ecg_aligned_calloc(batch * m->opt.num_classes, sizeof(float)))) {
        memset(rp, 0, sizeof *rp);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the replicas");
    }
    if (count == 1)
        return ECG_OK;
    int rc = ECG_OK;
#ifndef _OPENMP
    rc = ecg_error_set(err, ECG_ERR_USAGE, "%d replicas need OpenMP, and this build has none",
                       count);
    goto fail;
#else
    if (omp_get_thread_limit() < count) {
        rc =
            ecg_error_set(err, ECG_ERR_USAGE,
                          "%d replicas need as many OpenMP threads, and OMP_THREAD_LIMIT allows %d",
                          count, omp_get_thread_limit());
        goto fail;
    }
#endif
    struct ecg_replicas_sync *s = rp->sync = calloc(1, sizeof *s);
    if (!s) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the replicas");
        goto fail;
    }
    s->cap = widest_bn_sum(m);
    for (int r = 0; r < count; r++) {
        s->ctx[r] = (struct replica_ctx){.s = s, .id = r};
        s->bn[r] = (struct ecg_bn_sync){.sum = replicas_sum, .ctx = &s->ctx[r], .root = r == 0};
        if (!(s->sum[r] = ecg_aligned_calloc(s->cap, sizeof(double)))) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the replicas");
            goto fail;
        }
        if (r == 0)
            continue;
        if (!(rp->m[r] = calloc(1, sizeof *rp->m[r]))) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the replicas");
            goto fail;
        }
        if ((rc = ecg_effnet_init_replica(rp->m[r], m, per, err))) {
            free(rp->m[r]);
            rp->m[r] = NULL;
            goto fail;
        }
    }
    return ECG_OK;
fail:
    ecg_replicas_free(rp);
    return rc;
}

void ecg_replicas_free(struct ecg_replicas *rp)
{
    for (int r = 1; r < ECG_REPLICAS_MAX; r++) {
        if (rp->m[r]) {
            ecg_effnet_free(rp->m[r]);
            free(rp->m[r]);
        }
    }
    if (rp->sync) {
        for (int r = 0; r < ECG_REPLICAS_MAX; r++)
            ecg_aligned_free(rp->sync->sum[r]);
        free(rp->sync);
    }
    ecg_aligned_free(rp->probs);
    memset(rp, 0, sizeof *rp);
}

/* Replicas take the caller's freezing and batch-norm mode as they are at this step. */
static void mirror_settings(struct ecg_replicas *rp)
{
    const struct ecg_effnet *m0 = rp->m[0];
    for (int r = 1; r < rp->count; r++) {
        struct ecg_effnet *m = rp->m[r];
        m->opt.bn_mode = m0->opt.bn_mode;
        for (int i = 0; i < m0->params->count; i++)
            m->params->items[i].flags = m0->params->items[i].flags;
    }
}

/* The weight of a shard in the loss: its class-weight total (its sample count without weights). */
static double shard_weight(const int32_t *labels, int64_t n, const float *class_weight)
{
    double w = 0.0;
    for (int64_t i = 0; i < n; i++)
        w += class_weight ? (double)class_weight[labels[i]] : 1.0;
    return w;
}

double ecg_replicas_forward_loss(struct ecg_replicas *rp, const float *x, const float *context,
                                 int64_t stride, const int32_t *labels, int64_t n, int64_t sample0,
                                 const struct ecg_rng *rng, const float *class_weight, float smoothing)
{
    struct ecg_effnet *m0 = rp->m[0];
    const int64_t k = m0->opt.num_classes, kc = m0->opt.context_features;
    ECG_ASSERT(rp->count >= 1 && n >= 1 && (kc == 0 || (context && stride >= kc)));
    const int active = n < rp->count ? (int)n : rp->count;
    rp->active = active;
    for (int r = 0; r <= active; r++)
        rp->lo[r] = n * r / active;
    if (active == 1) { /* the one-network step (with the ranks' synchronisation, if any, left as it is) */
        m0->net.sample0 = sample0;
        ecg_effnet_set_context(m0, 0, context, n, stride);
        ecg_effnet_forward(m0, x, n, true, rng);
        double loss = ecg_effnet_loss(m0, labels, class_weight, smoothing);
        memcpy(rp->probs, m0->probs, (size_t)(n * k) * sizeof(float));
        return loss;
    }
    mirror_settings(rp);
    rp->sync->count = active;
    const int64_t per = m0->h * m0->w * m0->opt.in_channels;
    double loss[ECG_REPLICAS_MAX];
    const struct ecg_bn_sync *own_sync = m0->net.bn_sync;
    const int threads = ecg_threads_get();
    ecg_threads_set(1); /* each replica's kernels and GEMMs on its own thread */
#ifdef _OPENMP
    omp_set_dynamic(0);
#endif
#pragma omp parallel num_threads(active)
    {
        const int r = omp_get_thread_num();
        ECG_ASSERT(omp_get_num_threads() == active); /* a replica missing would leave the others waiting */
        struct ecg_effnet *m = rp->m[r];
        const int64_t lo = rp->lo[r], nr = rp->lo[r + 1] - lo;
        m->net.sample0 = sample0 + lo;
        m->net.bn_sync = &rp->sync->bn[r];
        if (kc > 0)
            ecg_effnet_set_context(m, 0, context + lo * stride, nr, stride);
        ecg_effnet_forward(m, x + lo * per, nr, true, rng);
        loss[r] = ecg_effnet_loss(m, labels + lo, class_weight, smoothing);
    }
    ecg_threads_set(threads);
    m0->net.bn_sync = own_sync; /* backward takes each batch norm's from its forward */
    /* The whole batch's loss is the shards' losses weighted by their class-weight totals. */
    double w[ECG_REPLICAS_MAX], total = 0.0, sum = 0.0;
    for (int r = 0; r < active; r++) {
        w[r] = shard_weight(labels + rp->lo[r], rp->lo[r + 1] - rp->lo[r], class_weight);
        total += w[r];
        sum += w[r] > 0 ? loss[r] * w[r] : 0.0; /* a shard of zero-weight classes adds nothing */
    }
    for (int r = 0; r < active; r++) {
        struct ecg_effnet *m = rp->m[r];
        const int64_t lo = rp->lo[r], nr = rp->lo[r + 1] - lo;
        const float scale = (float)(w[r] / total);
        for (int64_t i = 0; i < nr * k; i++)
            m->dlogits[i] *= scale;
        memcpy(rp->probs + lo * k, m->probs, (size_t)(nr * k) * sizeof(float));
    }
    return total > 0 ? sum / total : (double)NAN;
}

void ecg_replicas_backward(struct ecg_replicas *rp)
{
    const int active = rp->active;
    struct ecg_params *p0 = rp->m[0]->params;
    if (active == 1) {
        ecg_effnet_backward(rp->m[0]);
        return;
    }
    const int threads = ecg_threads_get();
    ecg_threads_set(1);
#pragma omp parallel num_threads(active)
    {
        const int r = omp_get_thread_num();
        ECG_ASSERT(omp_get_num_threads() == active);
        if (r > 0)
            ecg_params_zero_grad(rp->m[r]->params);
        ecg_effnet_backward(rp->m[r]);
    }
    ecg_threads_set(threads);
    /* Replica order for every element, so the sum does not depend on the thread count. */
    const int64_t total = p0->total;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < total; i++) {
        float g = p0->grads[i];
        for (int r = 1; r < active; r++)
            g += rp->m[r]->params->grads[i];
        p0->grads[i] = g;
    }
}

int64_t ecg_replicas_extra_bytes(const struct ecg_replicas *rp)
{
    int64_t bytes = 0;
    for (int r = 1; r < rp->count; r++) {
        struct ecg_effnet_memory mem = ecg_effnet_memory(rp->m[r]);
        bytes += mem.activation_bytes + mem.work_bytes + rp->m[r]->params->total * (int64_t)sizeof(float);
    }
    return bytes;
}
