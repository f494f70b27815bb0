/* A network: plans a layer sequence, allocates its parameters and arenas once, runs forward and backward. */
#include <stdlib.h>
#include <string.h>

#include "layers/layer.h"

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* One setup pass over all layers (plan or bind). */
static int net_setup_pass(struct ecg_net *net, struct ecg_setup *s, struct ecg_error *err)
{
    return ecg_layers_setup(net->layers, net->count, net->in_dims, s, err);
}

/* Reserves the work buffers; the same code plans and binds. */
static void net_work(struct ecg_net *net, struct ecg_arena *a, int64_t grad_floats, int64_t inner_floats,
                     int64_t scratch_floats, bool want_din)
{
    if (net->inference_only) {
        grad_floats = inner_floats = 0;
        want_din = false;
    }
    net->grad[0] = ecg_arena_floats(a, grad_floats);
    net->grad[1] = ecg_arena_floats(a, grad_floats);
    net->inner[0] = ecg_arena_floats(a, inner_floats);
    net->inner[1] = ecg_arena_floats(a, inner_floats);
    net->scratch = ecg_arena_floats(a, scratch_floats);
    int64_t in = net->batch * net->in_dims[0] * net->in_dims[1] * net->in_dims[2];
    net->din = want_din ? ecg_arena_floats(a, in) : NULL;
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
                          .inference_only = o->inference_only};
    rc = net_setup_pass(net, &s, err);
    if (rc)
        goto fail;
    int64_t act_bytes = plan.high;
    int64_t grad_floats = batch * (in_dims[0] * in_dims[1] * in_dims[2]);
    for (int i = 0; i < count; i++)
        grad_floats = max64(grad_floats, batch * ecg_layer_out_numel(layers[i]));
    int64_t inner_floats = s.inner_floats, scratch_floats = s.scratch_floats;
    struct ecg_arena wplan;
    ecg_arena_init_plan(&wplan);
    net_work(net, &wplan, grad_floats, inner_floats, scratch_floats, o->want_din);

    /* allocation, then pass 2: bind (the transient buffer and the inference rings come first
     * in the activation arena) */
    int64_t transient_bytes = ecg_arena_round(s.transient_floats * (int64_t)sizeof(float));
    for (int lv = 0; lv < 2; lv++)
        transient_bytes += 2 * ecg_arena_round(s.ring_floats[lv] * (int64_t)sizeof(float));
    rc = ecg_params_bind(&net->params, err);
    if (rc)
        goto fail;
    rc = ecg_arena_init(&net->act, act_bytes + transient_bytes, err);
    if (rc) {
        ecg_error_prefix(err, "activations for batch %lld of (%lld, %lld, %lld)", (long long)batch,
                         (long long)in_dims[0], (long long)in_dims[1], (long long)in_dims[2]);
        goto fail;
    }
    s.transient = s.transient_floats > 0 ? ecg_arena_floats(&net->act, s.transient_floats) : NULL;
    for (int lv = 0; lv < 2; lv++) {
        for (int k = 0; k < 2; k++)
            s.ring[lv][k] = s.ring_floats[lv] > 0 ? ecg_arena_floats(&net->act, s.ring_floats[lv]) : NULL;
        s.ring_next[lv] = 0;
    }
    rc = ecg_arena_init(&net->work, wplan.high, err);
    if (rc)
        goto fail;
    s.act = &net->act;
    s.binding = true;
    rc = net_setup_pass(net, &s, err);
    ECG_ASSERT(rc == ECG_OK);
    net_work(net, &net->work, grad_floats, inner_floats, scratch_floats, o->want_din);
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
                        .params = &net->params,
                        .scratch = net->scratch,
                        .inner = {net->inner[0], net->inner[1]},
                        .t_fwd = net->t_fwd,
                        .t_bwd = net->t_bwd};
    return r;
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
