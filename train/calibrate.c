/* Calibration of an evaluation result: temperature scaling of its window logits, and the RR fusion of its records. */
#include <stdlib.h>

#include "data/rhythm_features.h"

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

/* The RR features (n, ECG_RHYTHM_FEATURES) of r's records, malloc'd into *out. */
static int record_features(const struct ecg_dataset *ds, const struct ecg_eval_result *r, float **out,
                           struct ecg_error *err)
{
    float *f = malloc((size_t)(r->n > 0 ? r->n : 1) * ECG_RHYTHM_FEATURES * sizeof *f);
    if (!f)
        return ecg_error_set(err, ECG_ERR_NOMEM, "RR fusion: out of memory for the features of %lld records",
                             (long long)r->n);
    int rc = ECG_OK;
    for (int64_t i = 0; i < r->n && !rc; i++) {
        const struct ecg_record *rec = &ds->records[r->records[i]];
        if ((rc = ecg_rhythm_features(rec->signal, rec->length, rec->fs, f + i * ECG_RHYTHM_FEATURES, err)))
            ecg_error_prefix(err, rc, "record '%s'", rec->id);
    }
    if (rc) {
        free(f);
        return rc;
    }
    *out = f;
    return ECG_OK;
}

int ecg_eval_fit_rr_fusion(const struct ecg_dataset *ds, const struct ecg_eval_result *r, struct ecg_rr_fusion *f,
                           struct ecg_error *err)
{
    float *features;
    ECG_TRY(record_features(ds, r, &features, err));
    int rc = ecg_rr_fusion_fit(f, r->probs, features, r->truth, r->n, r->k, err);
    free(features);
    return rc;
}

int ecg_eval_apply_rr_fusion(const struct ecg_dataset *ds, struct ecg_eval_result *r, const struct ecg_rr_fusion *f,
                             struct ecg_error *err)
{
    if (f->classes == 0)
        return ECG_OK;
    float *features;
    ECG_TRY(record_features(ds, r, &features, err));
    for (int64_t i = 0; i < r->n; i++)
        ecg_rr_fusion_apply(f, r->probs + i * r->k, features + i * ECG_RHYTHM_FEATURES);
    free(features);
    return ECG_OK;
}
