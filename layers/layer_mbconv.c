/* MBConv block: [expand 1x1 conv, BN+SiLU], depthwise conv, BN+SiLU, SE, project 1x1 conv, BN, [drop-connect
 * + residual]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "layers/layer.h"

#define MBCONV_MAX_CHILDREN 10

struct mbconv_layer {
    struct ecg_layer base;
    struct ecg_mbconv_spec spec;
    struct ecg_layer *child[MBCONV_MAX_CHILDREN];
    int nchild;
    int se; /* index of the SE child, -1 without SE */
    bool residual;
    float *keep;      /* per-sample drop-connect factor: 0 or 1/(1-rate) */
    bool drop_active; /* whether the last forward applied drop-connect */
};

static int mbconv_setup(struct ecg_layer *l, struct ecg_setup *s, struct ecg_error *err)
{
    struct mbconv_layer *b = (struct mbconv_layer *)l;
    if (l->in_dims[2] != b->spec.cin)
        return ecg_error_set(err, ECG_ERR_SHAPE, "layer '%s': expected %lld input channels, found %lld",
                             l->name, (long long)b->spec.cin, (long long)l->in_dims[2]);
    /* inner outputs use the composites' ring; the last child's output is the block's */
    int level = s->level;
    s->level = 1;
    int rc = ecg_layers_setup(b->child, b->nchild - 1, l->in_dims, s, err);
    s->level = level;
    if (rc)
        return rc;
    struct ecg_layer *last = b->child[b->nchild - 1];
    ECG_TRY(ecg_layers_setup(&last, 1, b->child[b->nchild - 2]->out_dims, s, err));
    memcpy(l->out_dims, last->out_dims, sizeof l->out_dims);
    /* the children's gradients as mbconv_backward places them in the two inner buffers */
    int64_t *inner = s->inner_floats;
    bool drop = b->residual && b->spec.drop_rate > 0.0f; /* drop-connect's gradient goes to inner[1] */
    if (drop && s->batch * ecg_layer_out_numel(last) > inner[1])
        inner[1] = s->batch * ecg_layer_out_numel(last);
    if (b->se < 0) {
        ecg_layers_backward_plan(b->child, b->nchild, -1, s->batch, inner);
        if (drop)
            ecg_layers_backward_plan(b->child, b->nchild, 1, s->batch, inner);
    } else {
        int head = b->se + 1; /* the project convolution and its batch norm */
        for (int k = 0; k < 2; k++)
            if (s->batch * ecg_layer_in_numel(b->child[head + 1 - k]) > inner[k])
                inner[k] = s->batch * ecg_layer_in_numel(b->child[head + 1 - k]);
        ecg_layers_backward_plan(b->child, head, 1, s->batch, inner);
    }
    b->keep = ecg_arena_floats(s->act, s->batch);
    l->out = last->out; /* the residual is added in place: BN backward needs its input, not its output */
    l->slot_floats = last->slot_floats;
    return ECG_OK;
}

static void mbconv_forward(struct ecg_layer *l, const struct ecg_run *r, const float *in)
{
    struct mbconv_layer *b = (struct mbconv_layer *)l;
    ecg_layers_forward(b->child, b->nchild, r, in);
    if (!b->residual)
        return;
    double t0 = r->t_fwd ? ecg_now() : 0.0;
    int64_t per = ecg_layer_out_numel(l);
    const bool drop = r->training && r->rng && b->spec.drop_rate > 0.0f;
    if (r->b0 == 0) /* one writer when tasks of an inference run in parallel */
        b->drop_active = drop;
    float *out = ecg_layer_out_at(l, r);
    if (drop) {
        ECG_ASSERT(r->b0 == 0); /* masks only in training, which runs the whole batch */
        float keep = 1.0f - b->spec.drop_rate;
        struct ecg_rng g = ecg_rng_stream(r->rng, l->stream);
        for (int64_t i = 0; i < r->n; i++) {
            struct ecg_rng gi = ecg_rng_stream(&g, (uint64_t)(r->sample0 + i));
            b->keep[i] = ecg_rng_uniform(&gi) < keep ? 1.0f / keep : 0.0f;
        }
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < r->n; i++) {
        float *o = out + i * per;
        const float *x = in + i * per;
        float k = drop ? b->keep[i] : 1.0f;
        if (k == 1.0f) {
            for (int64_t j = 0; j < per; j++)
                o[j] += x[j];
        } else {
            for (int64_t j = 0; j < per; j++)
                o[j] = o[j] * k + x[j];
        }
    }
    if (r->t_fwd)
        r->t_fwd[ECG_KIND_DROP] += ecg_now() - t0;
}

static void mbconv_backward(struct ecg_layer *l, const struct ecg_run *r, const float *dout, float *din)
{
    struct mbconv_layer *b = (struct mbconv_layer *)l;
    int64_t count = r->n * ecg_layer_out_numel(l);
    const float *d = dout;
    if (b->residual) {
        double t0 = r->t_bwd ? ecg_now() : 0.0;
        if (din) {
#pragma omp parallel for schedule(static)
            for (int64_t j = 0; j < count; j++)
                din[j] += dout[j];
        }
        if (b->drop_active) {
            int64_t per = ecg_layer_out_numel(l);
            float *dm = r->inner[1];
#pragma omp parallel for schedule(static)
            for (int64_t i = 0; i < r->n; i++)
                for (int64_t j = 0; j < per; j++)
                    dm[i * per + j] = dout[i * per + j] * b->keep[i];
            d = dm;
        }
        if (r->t_bwd)
            r->t_bwd[ECG_KIND_DROP] += ecg_now() - t0;
    }
    float *const bufs[2] = {r->inner[0], r->inner[1]};
    if (b->se < 0) {
        ecg_layers_backward(b->child, b->nchild, r, d, din, bufs);
        return;
    }
    /* the SE output was not kept: recompute it before the project conv's backward reads it */
    int head = b->se + 1;
    ECG_ASSERT(b->nchild == head + 2);
    struct ecg_layer *pc = b->child[head], *pb = b->child[head + 1];
    bool need_x = din || ecg_layers_trainable(b->child, head, r->params);
    bool need_pc = need_x || ecg_layer_trainable(pc, r->params);
    float *dpb = NULL;
    if (need_pc) {
        dpb = r->inner[0];
        ecg_layer_backward_fresh(pb, r, d, dpb);
    } else {
        ecg_layer_backward(pb, r, d, NULL);
    }
    if (!need_pc)
        return;
    float *x = need_x ? r->inner[1] : NULL;
    struct ecg_layer *se_in = b->child[b->se - 1];
    if (se_in->ops->recompute)
        se_in->ops->recompute(se_in, r);
    ecg_layer_se_recompute(b->child[b->se], r);
    if (x)
        ecg_layer_backward_fresh(pc, r, dpb, x);
    else
        ecg_layer_backward(pc, r, dpb, NULL);
    if (need_x)
        ecg_layers_backward(b->child, head, r, x, din, bufs);
}

static bool mbconv_trainable(const struct ecg_layer *l, const struct ecg_params *p)
{
    const struct mbconv_layer *b = (const struct mbconv_layer *)l;
    return ecg_layers_trainable(b->child, b->nchild, p);
}

static struct ecg_layer *const *mbconv_children(const struct ecg_layer *l, int *count)
{
    const struct mbconv_layer *b = (const struct mbconv_layer *)l;
    *count = b->nchild;
    return b->child;
}

static void mbconv_destroy(struct ecg_layer *l)
{
    struct mbconv_layer *b = (struct mbconv_layer *)l;
    for (int i = 0; i < b->nchild; i++)
        ecg_layer_destroy(b->child[i]);
    free(b);
}

static const struct ecg_layer_ops mbconv_ops = {
    .type = "mbconv",
    .kind = ECG_KIND_BLOCK,
    .setup = mbconv_setup,
    .forward = mbconv_forward,
    .backward = mbconv_backward,
    .trainable = mbconv_trainable,
    .children = mbconv_children,
    .destroy = mbconv_destroy,
};

static bool add_child(struct mbconv_layer *b, struct ecg_layer *c)
{
    if (!c)
        return false;
    ECG_ASSERT(b->nchild < MBCONV_MAX_CHILDREN);
    c->stream = ((uint64_t)b->nchild + 1) * 0x10000u; /* children draw no masks; distinct anyway */
    b->child[b->nchild++] = c;
    return true;
}

struct ecg_layer *ecg_layer_mbconv_new(const char *prefix, const struct ecg_mbconv_spec *spec)
{
    ECG_ASSERT(spec->cin >= 1 && spec->cout >= 1 && spec->expand >= 1 && spec->k >= 1 && spec->stride >= 1);
    struct mbconv_layer *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    ecg_layer_init_base(&b->base, &mbconv_ops, prefix);
    b->spec = *spec;
    b->residual = spec->stride == 1 && spec->cin == spec->cout;
    char name[ECG_LAYER_NAME_MAX + 32];
#define NAME(suffix) (snprintf(name, sizeof name, "%s_%s", prefix, suffix), name)
    bool ok = true;
    if (spec->expand != 1) {
        ok = ok &&
             add_child(b, ecg_layer_conv_new(NAME("expand_conv"), spec->cin * spec->expand, 1, 1, spec->pad));
        ok = ok && add_child(b, ecg_layer_bn_silu_new(NAME("expand_bn")));
        if (ok) /* the depthwise input: recomputed in backward, after the SE output is used */
            ecg_layer_bn_set_transient(b->child[b->nchild - 1], 0);
    }
    ok = ok && add_child(b, ecg_layer_dwconv_new(NAME("dwconv"), spec->k, spec->stride, spec->pad));
    ok = ok && add_child(b, ecg_layer_bn_silu_new(NAME("bn")));
    if (ok && spec->cse > 0) /* the SE input: recomputed before the SE output is */
        ecg_layer_bn_set_transient(b->child[b->nchild - 1], 1);
    b->se = -1;
    if (spec->cse > 0) {
        ok = ok && add_child(b, ecg_layer_se_new(NAME("se"), spec->cse));
        if (ok) {
            b->se = b->nchild - 1;
            ecg_layer_se_set_transient(b->child[b->se]);
        }
    }
    ok = ok && add_child(b, ecg_layer_conv_new(NAME("project_conv"), spec->cout, 1, 1, spec->pad));
    ok = ok && add_child(b, ecg_layer_bn_new(NAME("project_bn")));
#undef NAME
    if (!ok) {
        mbconv_destroy(&b->base);
        return NULL;
    }
    return &b->base;
}
