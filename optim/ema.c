/* EMA of the weights over the flat store. */
#include "optim/ema.h"

#include <math.h>
#include <string.h>

#include "core/arena.h"

int ecg_ema_init(struct ecg_ema *e, const struct ecg_params *p, double decay, bool warmup,
                 struct ecg_error *err)
{
    memset(e, 0, sizeof *e);
    ECG_ASSERT(p->values);
    if (!(decay >= 0 && decay <= 1))
        return ecg_error_set(err, ECG_ERR_RANGE, "optim.ema_decay = %g: expected a value in [0, 1]", decay);
    e->shadow = ecg_aligned_calloc(p->total > 0 ? p->total : 1, sizeof(float));
    if (!e->shadow)
        return ecg_error_set(err, ECG_ERR_NOMEM, "ema: cannot allocate %lld floats",
                             (long long)p->total);
    memcpy(e->shadow, p->values, (size_t)p->total * sizeof(float));
    e->total = p->total;
    e->nparams = p->count;
    e->decay = decay;
    e->warmup = warmup;
    return ECG_OK;
}

void ecg_ema_free(struct ecg_ema *e)
{
    ecg_aligned_free(e->shadow);
    memset(e, 0, sizeof *e);
}

double ecg_ema_current_decay(const struct ecg_ema *e)
{
    if (!e->warmup)
        return e->decay;
    double t = (double)e->updates;
    return fmin(e->decay, (1.0 + t) / (10.0 + t));
}

void ecg_ema_update(struct ecg_ema *e, const struct ecg_params *p)
{
    ECG_ASSERT(!e->swapped && p->total == e->total && p->count == e->nparams);
    const float w = (float)(1.0 - ecg_ema_current_decay(e));
    for (int k = 0; k < p->count; k++) {
        const struct ecg_param *it = &p->items[k];
        float *s = e->shadow + it->offset;
        const float *v = p->values + it->offset;
        if (it->flags & ECG_PARAM_FROZEN) {
            memcpy(s, v, (size_t)it->numel * sizeof(float));
            continue;
        }
        for (int64_t i = 0; i < it->numel; i++)
            s[i] = s[i] + w * (v[i] - s[i]);
    }
    e->updates++;
}

void ecg_ema_swap(struct ecg_ema *e, struct ecg_params *p)
{
    ECG_ASSERT(p->total == e->total);
    float *a = e->shadow, *b = p->values;
    for (int64_t i = 0; i < e->total; i++) {
        float t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
    e->swapped = !e->swapped;
}
