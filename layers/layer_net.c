/* A network: plans a layer sequence, allocates its parameters and arenas once, runs forward and backward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/finite.h"
#include "layers/layer.h"

/* One setup pass over all layers (plan or bind). */
static int net_setup_pass(struct ecg_net *net, struct ecg_setup *s, struct ecg_error *err)
{
    return ecg_layers_setup(net->layers, net->count, net->in_dims, s, err);
}

/* Reserves the work buffers; the same code plans and binds. */
static void net_work(struct ecg_net *net, struct ecg_arena *a, const int64_t grad_floats[2],
                     const int64_t inner_floats[2], int64_t scratch_floats, bool want_din)
{
    bool train = !net->inference_only;
    for (int k = 0; k < 2; k++)
        net->grad[k] = ecg_arena_floats(a, train ? grad_floats[k] : 0);
    for (int k = 0; k < 2; k++)
        net->inner[k] = ecg_arena_floats(a, train ? inner_floats[k] : 0);
    want_din = want_din && train;
    net->scratch = ecg_arena_floats(a, scratch_floats);
    int64_t in = net->batch * net->in_dims[0] * net->in_dims[1] * net->in_dims[2];
    net->din = want_din ? ecg_arena_floats(a, in) : NULL;
}

/* The sizes of the planned pass's transient buffers (two) and inference rings (two per level) into s; returns
 * their bytes in the activation arena. */
static int64_t plan_transients(struct ecg_setup *s)
{
    int64_t bytes = 0;
    for (int k = 0; k < 2; k++) {
        s->transient_floats[k] = ecg_setup_slotted_floats(s, s->transient_per[k]);
        bytes += ecg_arena_round(s->transient_floats[k] * (int64_t)sizeof(float));
    }
    for (int lv = 0; lv < 2; lv++) {
        s->ring_floats[lv] = s->ring_per[lv] > 0 ? ecg_setup_slotted_floats(s, s->ring_per[lv]) : 0;
        bytes += 2 * ecg_arena_round(s->ring_floats[lv] * (int64_t)sizeof(float));
    }
    return bytes;
}

/* The transient buffers and rings planned by plan_transients, first in the activation arena act. */
static void bind_transients(struct ecg_setup *s, struct ecg_arena *act)
{
    for (int k = 0; k < 2; k++)
        s->transient[k] = s->transient_floats[k] > 0 ? ecg_arena_floats(act, s->transient_floats[k]) : NULL;
    for (int lv = 0; lv < 2; lv++) {
        for (int k = 0; k < 2; k++)
            s->ring[lv][k] = s->ring_floats[lv] > 0 ? ecg_arena_floats(act, s->ring_floats[lv]) : NULL;
        s->ring_next[lv] = 0;
    }
}

int ecg_net_init(struct ecg_net *net, struct ecg_layer **layers, int count, int64_t batch,
                 const int64_t in_dims[3], const struct ecg_net_options *o, struct ecg_error *err)
{
    memset(net, 0, sizeof *net);
    net->layers = layers;
    net->count = count;
    net->batch = batch;
    int rc = ECG_OK;
    if (count < 1 || batch < 1 || in_dims[0] < 1 || in_dims[1] < 1 || in_dims[2] < 1) {
        rc = ecg_error_set(err, ECG_ERR_RANGE,
                           "network: batch %lld and input (%lld, %lld, %lld) must be positive, "
                           "with at least one layer (%d)",
                           (long long)batch, (long long)in_dims[0], (long long)in_dims[1],
                           (long long)in_dims[2], count);
        goto fail;
    }
    memcpy(net->in_dims, in_dims, sizeof net->in_dims);
    net->inference_only = o->inference_only;

    /* pass 1: plan */
    struct ecg_arena plan;
    ecg_arena_init_plan(&plan);
    struct ecg_setup s = {.params = &net->params,
                          .act = &plan,
                          .batch = batch,
                          .binding = false,
                          .bn_eps = o->bn_eps,
                          .bn_momentum = o->bn_momentum,
                          .inference_only = o->inference_only,
                          .last_ring_level = -1};
    rc = net_setup_pass(net, &s, err);
    if (rc)
        goto fail;
    int64_t act_bytes = plan.high;
    int64_t grad_floats[2] = {0, 0}; /* what the top-level backward puts in each buffer */
    ecg_layers_backward_plan(layers, count, -1, batch, grad_floats);
    int64_t scratch_floats = s.scratch_floats;
    net->forward_scratch = s.forward_scratch;
    struct ecg_arena wplan;
    ecg_arena_init_plan(&wplan);
    net_work(net, &wplan, grad_floats, s.inner_floats, scratch_floats, o->want_din);

    /* allocation, then pass 2: bind (the transient buffer and the inference rings come first
     * in the activation arena) */
    int64_t transient_bytes = plan_transients(&s);
    rc = ecg_params_bind_shared(&net->params, o->shared_values, err);
    if (rc)
        goto fail;
    rc = ecg_arena_init(&net->act, act_bytes + transient_bytes, err);
    if (rc) {
        ecg_error_prefix(err, rc, "activations for batch %lld of (%lld, %lld, %lld)", (long long)batch,
                         (long long)in_dims[0], (long long)in_dims[1], (long long)in_dims[2]);
        goto fail;
    }
    bind_transients(&s, &net->act);
    rc = ecg_arena_init(&net->work, wplan.high, err);
    if (rc)
        goto fail;
    s.act = &net->act;
    s.binding = true;
    s.last_ring = NULL;
    s.last_ring_level = -1;
    rc = net_setup_pass(net, &s, err);
    ECG_ASSERT(rc == ECG_OK);
    net_work(net, &net->work, grad_floats, s.inner_floats, scratch_floats, o->want_din);
    memcpy(net->out_dims, layers[count - 1]->out_dims, sizeof net->out_dims);
    return ECG_OK;
fail:
    ecg_net_free(net);
    return rc;
}

static struct ecg_run net_run(struct ecg_net *net)
{
    struct ecg_run r = {.n = net->n,
                        .training = net->training,
                        .bn_mode = net->bn_mode,
                        .rng = net->has_rng ? &net->rng : NULL,
                        .sample0 = net->sample0,
                        .bn_sync = net->bn_sync,
                        .shared_params = net->params.shared_values,
                        .params = &net->params,
                        .scratch = net->scratch,
                        .inner = {net->inner[0], net->inner[1]},
                        .t_fwd = net->t_fwd,
                        .t_bwd = net->t_bwd,
                        .fuse = net->inference_only};
    return r;
}

/*
 * Batch-parallel inference: the batch is cut into tasks of ECG_TASK_SAMPLES samples (layer.h), and
 * each thread runs whole tasks through every layer, with OpenBLAS single-threaded and the
 * kernels' own parallel regions nested (inactive), so a forward pays a handful of thread
 * hand-overs instead of several per layer, which at the small images of ECG spectrograms
 * cost more than the work they split.  A task computes the same bits whichever thread runs
 * it, so results do not depend on the thread count.  Tasks run one after the other when a
 * convolution needs the shared scratch (every B0 convolution is 1x1 or a direct stem: none).
 */
static void net_forward_by_samples(struct ecg_net *net, const struct ecg_run *r, const float *x)
{
    const int64_t per = net->in_dims[0] * net->in_dims[1] * net->in_dims[2];
    const int64_t tasks = (r->n + ECG_TASK_SAMPLES - 1) / ECG_TASK_SAMPLES;
    const int threads = ecg_threads_get();
    ecg_threads_set(1);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (tasks > 1 && !net->forward_scratch)
    for (int64_t t = 0; t < tasks; t++) {
        double times[ECG_KIND_COUNT] = {0};
        struct ecg_run rt = *r;
        rt.b0 = t * ECG_TASK_SAMPLES;
        rt.n = r->n - rt.b0 < ECG_TASK_SAMPLES ? r->n - rt.b0 : ECG_TASK_SAMPLES;
        rt.t_fwd = r->t_fwd ? times : NULL;
        ecg_layers_forward(net->layers, net->count, &rt, x + rt.b0 * per);
        if (r->t_fwd) {
#pragma omp critical(ecg_net_times)
            for (int k = 0; k < ECG_KIND_COUNT; k++)
                r->t_fwd[k] += times[k];
        }
    }
    ecg_threads_set(threads);
}

void ecg_net_forward(struct ecg_net *net, const float *x, int64_t n, bool training, enum ecg_bn_mode bn_mode,
                     const struct ecg_rng *rng)
{
    ECG_ASSERT(n >= 1 && n <= net->batch);
    net->n = n;
    net->training = training;
    net->bn_mode = bn_mode;
    net->has_rng = rng != NULL;
    if (rng)
        net->rng = *rng;
    struct ecg_run r = net_run(net);
    if (!training) {
        net_forward_by_samples(net, &r, x);
        return;
    }
    ecg_layers_forward(net->layers, net->count, &r, x);
}

void ecg_net_backward(struct ecg_net *net, const float *dout)
{
    ECG_ASSERT(!net->inference_only);
    struct ecg_run r = net_run(net);
    if (net->din)
        memset(net->din, 0,
               (size_t)(net->n * net->in_dims[0] * net->in_dims[1] * net->in_dims[2]) * sizeof(float));
    float *const bufs[2] = {net->grad[0], net->grad[1]};
    ecg_layers_backward(net->layers, net->count, &r, dout, net->din, bufs);
}

const float *ecg_net_output(const struct ecg_net *net)
{
    return net->layers[net->count - 1]->out;
}

/* ---- where a non-finite value first appears --------------------------------------------------- */

/* A training forward is one task: its outputs start at `out`, also in buffers shared by tasks. */
static bool output_finite(const struct ecg_layer *l, int64_t n)
{
    return ecg_floats_finite(l->out, n * ecg_layer_out_numel(l));
}

static void name_site(const struct ecg_layer *l, const struct ecg_params *p, struct ecg_nonfinite_site *site)
{
    snprintf(site->layer, sizeof site->layer, "%s", l->name);
    site->param = -1;
    for (int i = 0; i < l->nparams && site->param < 0; i++) {
        const struct ecg_param *it = &p->items[l->param[i]];
        if (!ecg_floats_finite(p->values + it->offset, it->numel))
            site->param = l->param[i];
    }
}

/* The first of ls[0..count) with a non-finite output; `rerun`: run each again from `in` first. */
static bool search_layers(struct ecg_layer *const *ls, int count, const struct ecg_run *r, const float *in,
                          bool rerun, struct ecg_nonfinite_site *site)
{
    for (int i = 0; i < count; i++) {
        struct ecg_layer *l = ls[i];
        if (rerun)
            ecg_layer_forward(l, r, in);
        if (!output_finite(l, r->n)) {
            int nchild = 0;
            struct ecg_layer *const *kids = l->ops->children ? l->ops->children(l, &nchild) : NULL;
            if (!kids || !search_layers(kids, nchild, r, l->in, true, site))
                name_site(l, r->params, site);
            return true;
        }
        in = l->out;
    }
    return false;
}

bool ecg_net_find_nonfinite(struct ecg_net *net, const float *x, struct ecg_nonfinite_site *site)
{
    ECG_ASSERT(!net->inference_only && net->training && net->n >= 1);
    memset(site, 0, sizeof *site);
    site->param = -1;
    if (!ecg_floats_finite(x, net->n * net->in_dims[0] * net->in_dims[1] * net->in_dims[2])) {
        site->input = true;
        return true;
    }
    struct ecg_run r = net_run(net);
    r.bn_sync = NULL;
    r.t_fwd = r.t_bwd = NULL;
    return search_layers(net->layers, net->count, &r, x, false, site);
}

void ecg_net_free(struct ecg_net *net)
{
    if (net->layers) {
        for (int i = 0; i < net->count; i++)
            ecg_layer_destroy(net->layers[i]);
        free(net->layers);
    }
    ecg_params_free(&net->params);
    ecg_arena_free(&net->act);
    ecg_arena_free(&net->work);
    memset(net, 0, sizeof *net);
}
