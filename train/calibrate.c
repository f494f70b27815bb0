/* Temperature scaling of an evaluation result: fitting on its window logits and recomputing its probabilities. */
#include <stdlib.h>

#include "train/train.h"

int ecg_eval_fit_temperature(const struct ecg_eval_result *r, double *t, struct ecg_error *err)
{
    return ecg_calibration_fit_temperature(r->window_logits, r->window_row, r->nwindows, r->truth, r->n, r->k, t, err);
}

int ecg_eval_apply_temperature(struct ecg_eval_result *r, double t, struct ecg_calibration *cal, struct ecg_error *err)
{
    ecg_reliability_compute(&cal->before, r->probs, r->truth, r->n, r->k);
    if (t != 1.0)
        ECG_TRY(ecg_calibration_record_probs(r->probs, r->window_logits, r->window_row, r->nwindows, r->n, r->k, t,
                                             err));
    ecg_reliability_compute(&cal->after, r->probs, r->truth, r->n, r->k);
    cal->temperature = t;
    cal->has_before = cal->fitted_on != NULL; /* without a fit, before and after are the same */
    return ECG_OK;
}
