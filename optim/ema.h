/* Exponential moving average of the weights: a flat shadow copy of the store, swapped in for evaluation. */
#ifndef ECG_OPTIM_EMA_H
#define ECG_OPTIM_EMA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/params.h"

/*
 * After each optimizer step, ecg_ema_update() moves the shadow toward the
 * live values:  shadow = d * shadow + (1 - d) * value, computed as
 * shadow += (1 - d) * (value - shadow), the form timm's ModelEmaV2 uses
 * (lerp).  Like ModelEmaV2, every parameter is averaged, buffers (batch-norm
 * running statistics) included; frozen parameters are copied rather than
 * averaged, so they stay bit-identical to the live ones.
 *
 * Decay: with warm-up off, d = decay at every update.  With warm-up on, d =
 * min(decay, (1 + t) / (10 + t)) where t is the number of earlier updates
 * (0 at the first), the rule of TensorFlow's ExponentialMovingAverage with
 * num_updates; early averages then follow the weights closely instead of
 * being dominated by the initial (pretrained) values.
 *
 * ecg_ema_swap() exchanges shadow and live values element by element (layers
 * keep pointers into the store, so the arrays stay where they are); calling
 * it twice restores the original state exactly.
 */

struct ecg_ema {
    float *shadow;   /* [total], aligned like the store's values */
    int64_t total;
    int nparams;
    double decay;
    bool warmup;
    int64_t updates; /* updates applied so far (save it with the shadow) */
    bool swapped;    /* true while the shadow is in the store          */
};

/* Copies the current values as the starting shadow.  decay in [0, 1]. */
int ecg_ema_init(struct ecg_ema *e, const struct ecg_params *p, double decay, bool warmup,
                 struct ecg_error *err);
void ecg_ema_free(struct ecg_ema *e);

/* The decay the next update will use. */
double ecg_ema_current_decay(const struct ecg_ema *e);

/* One averaging step (asserts the shadow is not swapped in). */
void ecg_ema_update(struct ecg_ema *e, const struct ecg_params *p);

/* Exchanges shadow and live values; toggles e->swapped. */
void ecg_ema_swap(struct ecg_ema *e, struct ecg_params *p);

#endif
