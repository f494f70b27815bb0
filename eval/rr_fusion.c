/* Fitting and applying the RR fusion (the network's log-probabilities corrected by RR features). */
#include "eval/rr_fusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { NF = ECG_RHYTHM_FEATURES, ROWS = ECG_RHYTHM_FEATURES + 1 };

/* A record's standardised features and the bias input 1 into z (ROWS). */
static void standardised(const struct ecg_rr_fusion *f, const float *features, double *z)
{
    for (int j = 0; j < NF; j++)
        z[j] = ((double)features[j] - f->mean[j]) / f->scale[j];
    z[NF] = 1;
}

/* p (k) = softmax(ln p0 + z W), p0 the record's probabilities as logits (floored). */
static void predict(const struct ecg_rr_fusion *f, const double *log_p0, const double *z, double *p)
{
    const int k = f->classes;
    double top = -INFINITY, sum = 0;
    for (int c = 0; c < k; c++) {
        p[c] = log_p0[c];
        for (int j = 0; j < ROWS; j++)
            p[c] += z[j] * f->weights[j * k + c];
        top = fmax(top, p[c]);
    }
    for (int c = 0; c < k; c++)
        sum += p[c] = exp(p[c] - top);
    for (int c = 0; c < k; c++)
        p[c] /= sum;
}

static void log_probs(const float *probs, int k, double *out)
{
    for (int c = 0; c < k; c++)
        out[c] = log(fmax((double)probs[c], ECG_FUSION_P_FLOOR));
}

/* The features' mean and standard deviation over the m rows of x (m, NF). */
static void fit_standardisation(struct ecg_rr_fusion *f, const double *x, int64_t m)
{
    for (int j = 0; j < NF; j++) {
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < m; i++)
            sum += x[i * NF + j];
        f->mean[j] = sum / (double)m;
        for (int64_t i = 0; i < m; i++)
            sq += (x[i * NF + j] - f->mean[j]) * (x[i * NF + j] - f->mean[j]);
        double sd = sqrt(sq / (double)m);
        f->scale[j] = sd > 1e-9 ? sd : 1; /* a constant feature (every record without beats) stays as it is */
    }
}

int ecg_rr_fusion_fit(struct ecg_rr_fusion *f, const float *probs, const float *features, const int *truth, int64_t n,
                      int k, struct ecg_error *err)
{
    memset(f, 0, sizeof *f);
    if (k < 2 || k > ECG_FUSION_MAX_CLASSES)
        return ecg_error_set(err, ECG_ERR_RANGE, "RR fusion: expected 2 to %d classes, found %d", ECG_FUSION_MAX_CLASSES,
                             k);
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        m += truth[i] >= 0 && truth[i] < k;
    if (m == 0)
        return ecg_error_set(err, ECG_ERR_VALUE, "RR fusion: no record of the fitting split has a label");
    /* The labelled records: features (m, NF), then standardised with the bias (m, ROWS); log-probabilities (m, k). */
    double *x = malloc((size_t)(m * NF) * sizeof *x), *z = malloc((size_t)(m * ROWS) * sizeof *z);
    double *lp = malloc((size_t)(m * k) * sizeof *lp);
    int *y = malloc((size_t)m * sizeof *y);
    if (!x || !z || !lp || !y) {
        free(x), free(z), free(lp), free(y);
        return ecg_error_set(err, ECG_ERR_NOMEM, "RR fusion: out of memory for %lld records", (long long)m);
    }
    int rc = ECG_OK;
    for (int64_t i = 0, row = 0; i < n && !rc; i++) {
        if (!(truth[i] >= 0 && truth[i] < k))
            continue;
        for (int j = 0; j < NF && !rc; j++)
            if (!isfinite(x[row * NF + j] = features[i * NF + j]))
                rc = ecg_error_set(err, ECG_ERR_VALUE, "RR fusion: record %lld of the fitting split has a non-finite "
                                   "feature %d (%g)", (long long)i, j, x[row * NF + j]);
        for (int c = 0; c < k && !rc; c++)
            if (!isfinite(probs[i * k + c]))
                rc = ecg_error_set(err, ECG_ERR_VALUE, "RR fusion: record %lld of the fitting split has a non-finite "
                                   "probability of class %d", (long long)i, c);
        log_probs(probs + i * k, k, lp + row * k);
        y[row++] = truth[i];
    }
    f->classes = k;
    if (!rc) {
        fit_standardisation(f, x, m);
        for (int64_t i = 0; i < m; i++) {
            for (int j = 0; j < NF; j++)
                z[i * ROWS + j] = (x[i * NF + j] - f->mean[j]) / f->scale[j];
            z[i * ROWS + NF] = 1;
        }
    }
    double grad[ROWS * ECG_FUSION_MAX_CLASSES], p[ECG_FUSION_MAX_CLASSES];
    for (int step = 0; step < ECG_FUSION_STEPS && !rc; step++) {
        for (int j = 0; j < ROWS * k; j++)
            grad[j] = ECG_FUSION_L2 * f->weights[j];
        for (int64_t i = 0; i < m; i++) {
            const double *zi = z + i * ROWS;
            predict(f, lp + i * k, zi, p);
            p[y[i]] -= 1;
            for (int j = 0; j < ROWS; j++)
                for (int c = 0; c < k; c++)
                    grad[j * k + c] += zi[j] * p[c] / (double)m;
        }
        for (int j = 0; j < ROWS * k; j++)
            f->weights[j] -= ECG_FUSION_RATE * grad[j];
    }
    free(x), free(z), free(lp), free(y);
    if (rc)
        memset(f, 0, sizeof *f);
    return rc;
}

void ecg_rr_fusion_apply(const struct ecg_rr_fusion *f, float *probs, const float features[ECG_RHYTHM_FEATURES])
{
    if (f->classes == 0)
        return;
    double z[ROWS], lp[ECG_FUSION_MAX_CLASSES] = {0}, p[ECG_FUSION_MAX_CLASSES];
    standardised(f, features, z);
    log_probs(probs, f->classes, lp);
    predict(f, lp, z, p);
    for (int c = 0; c < f->classes; c++)
        probs[c] = (float)p[c];
}

int ecg_rr_fusion_check(const struct ecg_rr_fusion *f, int k, const char *what, struct ecg_error *err)
{
    if (k < 2 || k > ECG_FUSION_MAX_CLASSES || f->classes != k)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: RR fusion of %d classes, expected %d", what, f->classes, k);
    for (int j = 0; j < NF; j++)
        if (!isfinite(f->mean[j]) || !(f->scale[j] > 0 && isfinite(f->scale[j])))
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: RR fusion feature %d: mean %g, scale %g (expected finite, "
                                 "scale > 0)", what, j, f->mean[j], f->scale[j]);
    for (int j = 0; j < ROWS * k; j++)
        if (!isfinite(f->weights[j]))
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: RR fusion weight %d is %g", what, j, f->weights[j]);
    return ECG_OK;
}
