/* Non-finite gradient detection and global-norm clipping over the trainable parameters. */
#include "optim/grad.h"

#include <math.h>

#include "core/finite.h"

#define SKIP_FLAGS (ECG_PARAM_FROZEN | ECG_PARAM_BUFFER)

int ecg_grad_check_finite(const struct ecg_params *p, struct ecg_error *err)
{
    if (ecg_floats_finite(p->grads, p->total))
        return ECG_OK; /* the common case, in one fast pass */
    /* Backward runs from the head down and a non-finite gradient spreads to every layer below it,
     * so the last parameter in store order is where it appeared. */
    for (int k = p->count - 1; k >= 0; k--) {
        const struct ecg_param *it = &p->items[k];
        if (it->flags & SKIP_FLAGS)
            continue;
        int64_t i = ecg_floats_first_nonfinite(p->grads + it->offset, it->numel);
        if (i >= 0)
            return ecg_error_set(err, ECG_ERR_VALUE,
                                 "parameter '%s': gradient element %lld is %s; expected finite "
                                 "gradients (lower the learning rate or check the inputs)",
                                 it->name, (long long)i, isnan(p->grads[it->offset + i]) ? "NaN" : "infinite");
    }
    return ECG_OK;
}

int ecg_grad_clip_norm(struct ecg_params *p, double max_norm, double *norm, struct ecg_error *err)
{
    double sum = 0;
    for (int k = 0; k < p->count; k++) {
        const struct ecg_param *it = &p->items[k];
        if (it->flags & SKIP_FLAGS)
            continue;
        const float *g = p->grads + it->offset;
        for (int64_t i = 0; i < it->numel; i++)
            sum += (double)g[i] * (double)g[i];
    }
    double total = sqrt(sum);
    if (norm)
        *norm = total;
    if (!isfinite(total)) {
        ECG_TRY(ecg_grad_check_finite(p, err));
        /* Every element is finite but the sum of squares overflowed double: impossible for floats. */
        ECG_ASSERT(0);
    }
    if (max_norm <= 0)
        return ECG_OK;
    float coef = (float)(max_norm / (total + 1e-6));
    if (coef >= 1.0f)
        return ECG_OK;
    for (int k = 0; k < p->count; k++) {
        const struct ecg_param *it = &p->items[k];
        if (it->flags & SKIP_FLAGS)
            continue;
        float *g = p->grads + it->offset;
        for (int64_t i = 0; i < it->numel; i++)
            g[i] *= coef;
    }
    return ECG_OK;
}
