/* Layer dispatch with per-kind timing, parameter registration helpers, and layer sequences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "layers/layer.h"

static const char *const kind_names[ECG_KIND_COUNT] = {
    [ECG_KIND_CONV] = "conv",   [ECG_KIND_DWCONV] = "dwconv", [ECG_KIND_BN] = "bn",
    [ECG_KIND_ACT] = "act",     [ECG_KIND_SE] = "se",         [ECG_KIND_POOL] = "pool",
    [ECG_KIND_DROP] = "drop",   [ECG_KIND_DENSE] = "dense",   [ECG_KIND_LOSS] = "loss",
    [ECG_KIND_BLOCK] = "block",
};

const char *ecg_layer_kind_name(enum ecg_layer_kind k)
{
    return (k >= 0 && k < ECG_KIND_COUNT) ? kind_names[k] : "?";
}

void ecg_layer_init_base(struct ecg_layer *l, const struct ecg_layer_ops *ops, const char *name)
{
    l->ops = ops;
    snprintf(l->name, sizeof l->name, "%s", name);
}

int ecg_layer_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    for (int i = 0; i < 3; i++)
        if (l->in_dims[i] <= 0)
            return ecg_error_set(err, ECG_ERR_SHAPE, "layer '%s': empty input shape (%lld, %lld, %lld)",
                                 l->name, (long long)l->in_dims[0], (long long)l->in_dims[1],
                                 (long long)l->in_dims[2]);
    if (!s->binding)
        l->nparams = 0;
    int rc = l->ops->setup(l, s, err);
    if (rc)
        return rc;
    ECG_ASSERT(l->out_dims[0] > 0 && l->out_dims[1] > 0 && l->out_dims[2] > 0);
    return ECG_OK;
}

void ecg_layer_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    bool timed = r->t_fwd && l->ops->kind != ECG_KIND_BLOCK;
    double t0 = timed ? ecg_now() : 0.0;
    if (r->b0 == 0) /* one writer in batch-parallel inference (which needs no saved input) */
        l->in = in;
    l->ops->forward(l, r, in);
    if (timed)
        r->t_fwd[l->ops->kind] += ecg_now() - t0;
}

void ecg_layer_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    bool timed = r->t_bwd && l->ops->kind != ECG_KIND_BLOCK;
    double t0 = timed ? ecg_now() : 0.0;
    l->ops->backward(l, r, dout, din);
    if (timed)
        r->t_bwd[l->ops->kind] += ecg_now() - t0;
}

void ecg_layer_backward_fresh(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    if (!l->ops->backward_set) {
        memset(din, 0, (size_t)(r->n * ecg_layer_in_numel(l)) * sizeof(float));
        ecg_layer_backward(l, r, dout, din);
        return;
    }
    bool timed = r->t_bwd && l->ops->kind != ECG_KIND_BLOCK;
    double t0 = timed ? ecg_now() : 0.0;
    l->ops->backward_set(l, r, dout, din);
    if (timed)
        r->t_bwd[l->ops->kind] += ecg_now() - t0;
}

bool ecg_layer_trainable(const struct ecg_layer *l, const struct ecg_params *p)
{
    return l->ops->trainable ? l->ops->trainable(l, p) : ecg_layer_default_trainable(l, p);
}

void ecg_layer_destroy(struct ecg_layer *l)
{
    if (!l)
        return;
    if (l->ops && l->ops->destroy)
        l->ops->destroy(l);
    else
        free(l);
}

int ecg_layer_param(struct ecg_layer *l, struct ecg_setup *s, const char *weight, int ndim,
                    const int64_t *shape, unsigned flags, float **value, float **grad, struct ecg_error *err)
{
    char name[ECG_PARAM_NAME_MAX + 32];
    snprintf(name, sizeof name, "%s/%s", l->name, weight);
    return ecg_layer_param_full(l, s, name, ndim, shape, flags, value, grad, err);
}

int ecg_layer_param_full(struct ecg_layer *l, struct ecg_setup *s, const char *name, int ndim,
                         const int64_t *shape, unsigned flags, float **value, float **grad,
                         struct ecg_error *err)
{
    if (!s->binding) {
        ECG_ASSERT(l->nparams < ECG_LAYER_MAX_PARAMS);
        /* every parameter says how it starts: none silently starts at zero */
        ECG_ASSERT((flags >> ECG_PARAM_INIT_SHIFT) != ECG_INIT_UNSET);
        int idx = -1;
        int rc = ecg_params_add(s->params, name, ndim, shape, flags, &idx, err);
        if (rc)
            return ecg_error_prefix(err, rc, "layer '%s'", l->name);
        l->param[l->nparams++] = idx;
        return ECG_OK;
    }
    int idx = ecg_params_find(s->params, name);
    ECG_ASSERT(idx >= 0);
    if (value)
        *value = ecg_params_value(s->params, idx);
    if (grad)
        *grad = ecg_params_grad(s->params, idx);
    return ECG_OK;
}

float *ecg_layer_alloc(struct ecg_setup *s, int64_t per_sample)
{
    int64_t count;
    bool fits = ecg_size_mul(per_sample, s->batch, &count);
    ECG_ASSERT(fits); /* sizes come from a plan we made: overflow is our bug */
    return ecg_arena_floats(s->act, count);
}

int64_t ecg_setup_task_samples(const struct ecg_setup *s)
{
    return s->batch < ECG_TASK_SAMPLES ? s->batch : ECG_TASK_SAMPLES;
}

int64_t ecg_setup_slotted_floats(const struct ecg_setup *s, int64_t per)
{
    int64_t tasks = (s->batch + ECG_TASK_SAMPLES - 1) / ECG_TASK_SAMPLES, count;
    ECG_ASSERT(ecg_size_mul(per, tasks * ecg_setup_task_samples(s), &count));
    return count;
}

float *ecg_layer_alloc_out(struct ecg_setup *s, struct ecg_layer *l)
{
    int64_t per = ecg_layer_out_numel(l);
    s->last_ring_level = -1;
    l->slot_floats = 0;
    if (!s->inference_only || l->out_dims[0] * l->out_dims[1] == 1)
        return ecg_layer_alloc(s, per);
    int lv = s->level;
    ECG_ASSERT(lv == 0 || lv == 1);
    if (!s->binding && per > s->ring_per[lv])
        s->ring_per[lv] = per;
    l->slot_floats = ecg_setup_task_samples(s) * s->ring_per[lv]; /* final in the bind pass */
    float *p = s->binding ? s->ring[lv][s->ring_next[lv]] : NULL;
    s->ring_next[lv] ^= 1;
    s->last_ring = p;
    s->last_ring_level = lv;
    return p;
}

float *ecg_layer_alloc_transient(struct ecg_setup *s, struct ecg_layer *l, int which)
{
    ECG_ASSERT(which == 0 || which == 1);
    int64_t per = ecg_layer_out_numel(l);
    if (!s->binding && per > s->transient_per[which])
        s->transient_per[which] = per;
    l->slot_floats = ecg_setup_task_samples(s) * s->transient_per[which]; /* final in the bind pass */
    s->last_ring_level = -1; /* no layer may compute its output in place of this one */
    return s->transient[which];
}

float *ecg_layer_alloc_out_inplace(struct ecg_setup *s, struct ecg_layer *l)
{
    if (s->inference_only && s->last_ring_level == s->level && l->out_dims[0] * l->out_dims[1] > 1) {
        l->slot_floats = ecg_setup_task_samples(s) * s->ring_per[s->level];
        return s->last_ring; /* the same decision in both passes: ring_next stays as it is */
    }
    return ecg_layer_alloc_out(s, l);
}

bool ecg_layer_param_live(const struct ecg_layer *l, const struct ecg_params *p, int i)
{
    ECG_ASSERT(i < l->nparams);
    unsigned f = p->items[l->param[i]].flags;
    return !(f & (ECG_PARAM_FROZEN | ECG_PARAM_BUFFER));
}

bool ecg_layer_default_trainable(const struct ecg_layer *l, const struct ecg_params *p)
{
    for (int i = 0; i < l->nparams; i++)
        if (ecg_layer_param_live(l, p, i))
            return true;
    return false;
}

int ecg_layers_setup(struct ecg_layer **ls, int count, const int64_t in_dims[3], struct ecg_setup *s,
                     struct ecg_error *err)
{
    const int64_t *dims = in_dims;
    for (int i = 0; i < count; i++) {
        memcpy(ls[i]->in_dims, dims, sizeof ls[i]->in_dims);
        ECG_TRY(ecg_layer_setup(ls[i], s, err));
        dims = ls[i]->out_dims;
    }
    return ECG_OK;
}

/* Whether [a, a + na) and [b, b + nb) share a float. */
static bool overlap(const float *a, int64_t na, const float *b, int64_t nb)
{
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y + (uintptr_t)nb * sizeof(float) && y < x + (uintptr_t)na * sizeof(float);
}

/* In an inference-only network, runs convolution ls[0] with the batch norm ls[1] as its epilogue, writing the
 * batch norm's output directly; false (nothing run) when the pair cannot be fused. */
static bool forward_fused(struct ecg_layer **ls, const struct ecg_run *r, const float *in)
{
    struct ecg_layer *c = ls[0], *b = ls[1];
    struct ecg_epilogue ep;
    if (!r->fuse || r->training || !c->ops->forward_ep ||
        overlap(in, r->n * ecg_layer_in_numel(c), ecg_layer_out_at(b, r), r->n * ecg_layer_out_numel(b)))
        return false;
    double t0 = r->t_fwd ? ecg_now() : 0.0;
    float scale[b->in_dims[2]];
    if (!ecg_layer_bn_epilogue(b, r, scale, &ep))
        return false;
    if (r->b0 == 0) {
        c->in = in;
        b->in = NULL; /* the convolution's own output was never written */
    }
    c->ops->forward_ep(c, r, in, ecg_layer_out_at(b, r), &ep);
    if (r->t_fwd)
        r->t_fwd[c->ops->kind] += ecg_now() - t0;
    return true;
}

void ecg_layers_forward(struct ecg_layer **ls, int count, const struct ecg_run *r, const float *in)
{
    for (int i = 0; i < count; i++) {
        if (i + 1 < count && forward_fused(ls + i, r, in)) {
            in = ecg_layer_out_at(ls[++i], r);
            continue;
        }
        ecg_layer_forward(ls[i], r, in);
        in = ecg_layer_out_at(ls[i], r);
    }
}

bool ecg_layers_trainable(struct ecg_layer *const *ls, int count, const struct ecg_params *p)
{
    for (int i = 0; i < count; i++)
        if (ecg_layer_trainable(ls[i], p))
            return true;
    return false;
}

/*
 * The buffer that layer l writes its input gradient into when its output gradient is in buffer
 * `at` (-1: outside both): the same one when l computes in place, else the other (buffer 0 after
 * an outside gradient).  ecg_layers_backward and its plan both follow this rule.
 */
static int backward_buffer(const struct ecg_layer *l, int at)
{
    if (l->ops->backward_in_place && l->ops->backward_set)
        return at < 0 ? 0 : at;
    return at == 0 ? 1 : 0;
}

void ecg_layers_backward_plan(struct ecg_layer *const *ls, int count, int at, int64_t batch,
                              int64_t floats[2])
{
    for (int i = count - 1; i >= 1; i--) {
        at = backward_buffer(ls[i], at);
        int64_t f = batch * ecg_layer_in_numel(ls[i]);
        if (f > floats[at])
            floats[at] = f;
    }
}

void ecg_layers_backward(struct ecg_layer **ls, int count, const struct ecg_run *r, const float *dout,
                         float *din, float *const buf[2])
{
    /* lowest layer that must run: 0 when the caller wants din, else the lowest trainable one */
    int lo = 0;
    if (!din) {
        lo = -1;
        for (int i = 0; i < count; i++)
            if (ecg_layer_trainable(ls[i], r->params)) {
                lo = i;
                break;
            }
        if (lo < 0)
            return;
    }
    int at = dout == buf[0] ? 0 : dout == buf[1] ? 1 : -1;
    for (int i = count - 1; i >= lo; i--) {
        float *d = NULL;
        if (i == 0) {
            d = din;
        } else if (i > lo) {
            at = backward_buffer(ls[i], at);
            d = buf[at];
        }
        if (i > 0 && ls[i - 1]->ops->recompute) /* an input kept in the transient buffer */
            ls[i - 1]->ops->recompute(ls[i - 1], r);
        if (d && d != din)
            ecg_layer_backward_fresh(ls[i], r, dout, d);
        else
            ecg_layer_backward(ls[i], r, dout, d);
        dout = d;
    }
}
