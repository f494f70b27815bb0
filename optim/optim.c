/* SGD, AdamW and RMSprop updates over the flat parameter store, with PyTorch's arithmetic. */
#include "optim/optim.h"

#include <math.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"

struct ecg_optim_config ecg_optim_defaults(enum ecg_optim_kind kind)
{
    struct ecg_optim_config c = {0};
    c.kind = kind;
    c.betas[0] = 0.9;
    c.betas[1] = 0.999;
    c.eps = 1e-8;
    c.rmsprop_decay = 0.99;
    if (kind == ECG_OPTIM_ADAMW)
        c.weight_decay = 0.01;
    return c;
}

const char *const ecg_optim_kind_names[] = {
    [ECG_OPTIM_SGD] = "sgd", [ECG_OPTIM_ADAMW] = "adamw", [ECG_OPTIM_RMSPROP] = "rmsprop", NULL,
};

const char *ecg_optim_kind_name(enum ecg_optim_kind kind)
{
    ECG_ASSERT(kind >= ECG_OPTIM_SGD && kind <= ECG_OPTIM_RMSPROP);
    return ecg_optim_kind_names[kind];
}

int ecg_optim_kind_parse(const char *text, enum ecg_optim_kind *kind, struct ecg_error *err)
{
    for (int i = 0; i < 3; i++)
        if (strcasecmp(text, ecg_optim_kind_names[i]) == 0) {
            *kind = (enum ecg_optim_kind)i;
            return ECG_OK;
        }
    return ecg_error_set(err, ECG_ERR_CONFIG,
                         "optim.name '%s': expected one of sgd, adamw, rmsprop", text);
}

static int check_range(const char *field, double v, double lo, double hi, bool hi_open,
                       struct ecg_error *err)
{
    if (!isfinite(v) || v < lo || v > hi || (hi_open && v == hi))
        return ecg_error_set(err, ECG_ERR_RANGE, "optim.%s = %g: expected a value in [%g, %g%s",
                             field, v, lo, hi, hi_open ? ")" : "]");
    return ECG_OK;
}

static int check_config(const struct ecg_optim_config *c, struct ecg_error *err)
{
    if (c->kind < ECG_OPTIM_SGD || c->kind > ECG_OPTIM_RMSPROP)
        return ecg_error_set(err, ECG_ERR_CONFIG, "optim.name %d: expected sgd, adamw or rmsprop",
                             (int)c->kind);
    ECG_TRY(check_range("weight_decay", c->weight_decay, 0, 1e6, false, err));
    if (c->kind == ECG_OPTIM_ADAMW) {
        ECG_TRY(check_range("betas[0]", c->betas[0], 0, 1, true, err));
        ECG_TRY(check_range("betas[1]", c->betas[1], 0, 1, true, err));
        ECG_TRY(check_range("eps", c->eps, 0, 1e6, false, err));
    } else {
        ECG_TRY(check_range("momentum", c->momentum, 0, 1e6, false, err));
    }
    if (c->kind == ECG_OPTIM_SGD && c->nesterov && c->momentum <= 0)
        return ecg_error_set(err, ECG_ERR_CONFIG,
                             "optim.nesterov = true: needs optim.momentum > 0, found %g",
                             c->momentum);
    if (c->kind == ECG_OPTIM_RMSPROP) {
        ECG_TRY(check_range("rmsprop_decay", c->rmsprop_decay, 0, 1, false, err));
        ECG_TRY(check_range("eps", c->eps, 0, 1e6, false, err));
    }
    return ECG_OK;
}

int ecg_optim_init(struct ecg_optim *o, const struct ecg_params *p,
                   const struct ecg_optim_config *cfg, struct ecg_error *err)
{
    memset(o, 0, sizeof *o);
    ECG_ASSERT(p->values && p->grads);
    ECG_TRY(check_config(cfg, err));
    o->cfg = *cfg;
    o->total = p->total;
    o->nparams = p->count;
    const char *names[3] = {NULL, NULL, NULL};
    int n = 0;
    switch (cfg->kind) {
    case ECG_OPTIM_SGD:
        if (cfg->momentum != 0)
            names[n++] = "momentum_buffer";
        break;
    case ECG_OPTIM_ADAMW:
        names[n++] = "exp_avg";
        names[n++] = "exp_avg_sq";
        break;
    case ECG_OPTIM_RMSPROP:
        names[n++] = "square_avg";
        if (cfg->momentum > 0)
            names[n++] = "momentum_buffer";
        if (cfg->centered)
            names[n++] = "grad_avg";
        break;
    }
    o->lr_mult = ecg_aligned_calloc(p->count > 0 ? p->count : 1, sizeof(double));
    o->param_step = ecg_aligned_calloc(p->count > 0 ? p->count : 1, sizeof(float));
    if (!o->lr_mult || !o->param_step)
        goto nomem;
    for (int i = 0; i < p->count; i++)
        o->lr_mult[i] = 1.0;
    for (int i = 0; i < n; i++) {
        o->blobs[i].name = names[i];
        o->blobs[i].count = o->total;
        o->blobs[i].data = ecg_aligned_calloc(o->total > 0 ? o->total : 1, sizeof(float));
        o->nblobs = i + 1;
        if (!o->blobs[i].data)
            goto nomem;
    }
    return ECG_OK;
nomem:
    ecg_optim_free(o);
    return ecg_error_set(err, ECG_ERR_NOMEM, "optimizer %s: cannot allocate state for %lld floats",
                         ecg_optim_kind_names[cfg->kind], (long long)p->total);
}

void ecg_optim_free(struct ecg_optim *o)
{
    ecg_aligned_free(o->lr_mult);
    ecg_aligned_free(o->param_step);
    for (int i = 0; i < o->nblobs; i++)
        ecg_aligned_free(o->blobs[i].data);
    memset(o, 0, sizeof *o);
}

int ecg_optim_set_lr_mult(struct ecg_optim *o, const struct ecg_params *p, const char *prefix,
                          double mult, int *matched, struct ecg_error *err)
{
    ECG_ASSERT(p->count == o->nparams);
    if (!isfinite(mult) || mult < 0)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "learning-rate multiplier for '%s': %g, expected a finite value >= 0",
                             prefix, mult);
    size_t len = strlen(prefix);
    int m = 0;
    for (int i = 0; i < p->count; i++)
        if (strncmp(p->items[i].name, prefix, len) == 0) {
            o->lr_mult[i] = mult;
            m++;
        }
    if (matched)
        *matched = m;
    return ECG_OK;
}

static float *blob(const struct ecg_optim *o, const char *name)
{
    for (int i = 0; i < o->nblobs; i++)
        if (strcmp(o->blobs[i].name, name) == 0)
            return o->blobs[i].data;
    return NULL;
}

/* torch.optim.SGD: d = g + wd*p; buf = mu*buf + d (buf = d on the first step,
 * which a zero buffer reproduces exactly); d = nesterov ? d + mu*buf : buf;
 * p -= lr*d. */
static void sgd_update(const struct ecg_optim_config *c, float *restrict w, const float *restrict g,
                       float *restrict buf, int64_t n, double lr, double wd)
{
    const float fwd = (float)wd, fmu = (float)c->momentum, neglr = (float)-lr;
    for (int64_t i = 0; i < n; i++) {
        float d = g[i];
        if (wd != 0)
            d = d + fwd * w[i];
        if (buf) {
            float b = buf[i] * fmu;
            b = b + d;
            buf[i] = b;
            d = c->nesterov ? d + fmu * b : b;
        }
        w[i] = w[i] + neglr * d;
    }
}

/* torch.optim.AdamW: p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps). */
static void adamw_update(const struct ecg_optim_config *c, float *restrict w, const float *restrict g,
                         float *restrict m, float *restrict v, int64_t n, double lr, double wd,
                         double t)
{
    const float decay = (float)(1.0 - lr * wd);
    const float b1 = (float)c->betas[0], b2 = (float)c->betas[1];
    const float omb1 = (float)(1.0 - c->betas[0]), omb2 = (float)(1.0 - c->betas[1]);
    const double bc1 = 1.0 - pow(c->betas[0], t), bc2 = 1.0 - pow(c->betas[1], t);
    const float neg_step = (float)-(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float eps = (float)c->eps;
    for (int64_t i = 0; i < n; i++) {
        float wi = w[i] * decay;
        float mi = m[i] * b1;
        mi = mi + omb1 * g[i];
        float vi = v[i] * b2;
        vi = vi + omb2 * g[i] * g[i];
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        w[i] = wi + neg_step * mi / denom;
        m[i] = mi;
        v[i] = vi;
    }
}

/* torch.optim.RMSprop: d = g + wd*p; s = a*s + (1-a)*d*d; centered: ga = a*ga + (1-a)*d,
 * avg = sqrt(s - ga*ga) + eps, else sqrt(s) + eps; momentum: buf = mu*buf + d/avg,
 * p -= lr*buf; else p -= lr*d/avg. */
static void rmsprop_update(const struct ecg_optim_config *c, float *restrict w,
                           const float *restrict g, float *restrict sq, float *restrict buf,
                           float *restrict ga, int64_t n, double lr, double wd)
{
    const float fwd = (float)wd, a = (float)c->rmsprop_decay, oma = (float)(1.0 - c->rmsprop_decay);
    const float eps = (float)c->eps, fmu = (float)c->momentum, neglr = (float)-lr;
    for (int64_t i = 0; i < n; i++) {
        float d = g[i];
        if (wd != 0)
            d = d + fwd * w[i];
        float s = sq[i] * a;
        s = s + oma * d * d;
        sq[i] = s;
        float avg;
        if (ga) {
            float gi = ga[i] * a;
            gi = gi + oma * d;
            ga[i] = gi;
            avg = sqrtf(s + -1.0f * gi * gi);
        } else {
            avg = sqrtf(s);
        }
        avg = avg + eps;
        if (buf) {
            float b = buf[i] * fmu;
            b = b + 1.0f * d / avg;
            buf[i] = b;
            w[i] = w[i] + neglr * b;
        } else {
            w[i] = w[i] + neglr * d / avg;
        }
    }
}

void ecg_optim_step(struct ecg_optim *o, struct ecg_params *p, double lr)
{
    ECG_ASSERT(p->count == o->nparams && p->total == o->total);
    const struct ecg_optim_config *c = &o->cfg;
    float *s0 = o->nblobs > 0 ? o->blobs[0].data : NULL;
    float *s1 = o->nblobs > 1 ? o->blobs[1].data : NULL;
    float *mom = blob(o, "momentum_buffer"), *ga = blob(o, "grad_avg");
    for (int k = 0; k < p->count; k++) {
        const struct ecg_param *it = &p->items[k];
        if (it->flags & (ECG_PARAM_FROZEN | ECG_PARAM_BUFFER))
            continue;
        int64_t off = it->offset, n = it->numel;
        float *w = p->values + off;
        const float *g = p->grads + off;
        double plr = lr * o->lr_mult[k];
        double wd = (it->flags & ECG_PARAM_NO_DECAY) ? 0.0 : c->weight_decay;
        o->param_step[k] += 1.0f;
        switch (c->kind) {
        case ECG_OPTIM_SGD:
            sgd_update(c, w, g, mom ? mom + off : NULL, n, plr, wd);
            break;
        case ECG_OPTIM_ADAMW:
            adamw_update(c, w, g, s0 + off, s1 + off, n, plr, wd, (double)o->param_step[k]);
            break;
        case ECG_OPTIM_RMSPROP:
            rmsprop_update(c, w, g, s0 + off, mom ? mom + off : NULL, ga ? ga + off : NULL, n, plr,
                           wd);
            break;
        }
    }
    o->step++;
}

int ecg_optim_state_count(const struct ecg_optim *o) { return o->nblobs + 1; }

struct ecg_optim_blob ecg_optim_state_blob(const struct ecg_optim *o, int i)
{
    ECG_ASSERT(i >= 0 && i <= o->nblobs);
    if (i < o->nblobs)
        return o->blobs[i];
    struct ecg_optim_blob b = {"step", o->param_step, o->nparams};
    return b;
}
