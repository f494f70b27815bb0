/* RR-interval features of a rhythm record, from the beats the QRS detector finds. */
#include "data/rhythm_features.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/qrs.h"

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of sorted[0..n), interpolated linearly between order statistics (n >= 1). */
static double quantile(const double *sorted, int64_t n, double q)
{
    double at = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(at);
    int64_t hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (at - (double)lo) * (sorted[hi] - sorted[lo]);
}

int ecg_rhythm_features_from_beats(const double *t, int64_t count, float f[ECG_RHYTHM_FEATURES],
                                   struct ecg_error *err)
{
    memset(f, 0, ECG_RHYTHM_FEATURES * sizeof *f);
    if (count < 4)
        return ECG_OK;
    const int64_t nrr = count - 1, nstep = count - 2;
    double *rr = malloc((size_t)nrr * sizeof *rr), *step = malloc((size_t)nstep * sizeof *step);
    if (!rr || !step) {
        free(rr);
        free(step);
        return ecg_error_set(err, ECG_ERR_NOMEM, "RR features: out of memory for %lld beats", (long long)count);
    }
    double log_sum = 0, log_sq = 0;
    for (int64_t i = 0; i < nrr; i++) {
        rr[i] = t[i + 1] - t[i];
        log_sum += log(rr[i]);
    }
    const double log_mean = log_sum / (double)nrr;
    int64_t jumps = 0, big_steps = 0;
    double step_sum = 0;
    for (int64_t i = 0; i < nrr; i++)
        log_sq += (log(rr[i]) - log_mean) * (log(rr[i]) - log_mean);
    for (int64_t i = 0; i < nstep; i++) {
        step[i] = fabs(log(rr[i + 1] / rr[i]));
        step_sum += step[i];
        jumps += fabs(rr[i + 1] - rr[i]) > 0.05;
        big_steps += step[i] > 0.1;
    }
    qsort(step, (size_t)nstep, sizeof *step, compare_doubles);
    qsort(rr, (size_t)nrr, sizeof *rr, compare_doubles);
    f[0] = (float)quantile(step, nstep, 0.5);
    f[1] = (float)(step_sum / (double)nstep);
    f[2] = (float)sqrt(log_sq / (double)nrr);
    f[3] = (float)((double)jumps / (double)nstep);
    f[4] = (float)log(quantile(rr, nrr, 0.5));
    f[5] = (float)((double)count / (t[count - 1] - t[0]));
    f[6] = (float)quantile(step, nstep, 0.75);
    f[7] = (float)((double)big_steps / (double)nstep);
    free(rr);
    free(step);
    return ECG_OK;
}

int ecg_rhythm_features(const float *x, int64_t n, double fs, float f[ECG_RHYTHM_FEATURES], struct ecg_error *err)
{
    memset(f, 0, ECG_RHYTHM_FEATURES * sizeof *f);
    struct ecg_qrs_opts o;
    ecg_qrs_opts_default(&o);
    if ((double)n < o.learn_s * fs)
        return ECG_OK; /* shorter than the detector's learning period: no rhythm to measure */
    int64_t *peaks = NULL, count = 0;
    int rc = ecg_qrs_detect(x, n, fs, &o, &peaks, &count, err);
    if (rc)
        return ecg_error_prefix(err, rc, "RR features");
    if (count < 4) { /* too few beats: no rhythm to measure */
        free(peaks);
        return ECG_OK;
    }
    double *seconds = malloc((size_t)count * sizeof *seconds);
    if (!seconds) {
        free(peaks);
        return ecg_error_set(err, ECG_ERR_NOMEM, "RR features: out of memory for %lld beats", (long long)count);
    }
    for (int64_t i = 0; i < count; i++)
        seconds[i] = (double)peaks[i] / fs;
    rc = ecg_rhythm_features_from_beats(seconds, count, f, err);
    free(seconds);
    free(peaks);
    return rc;
}

/* The mean and standard deviation of each feature over the 6000 CinC 2017 development records
 * (../shared/data/cinc2017, preprocessed as configs/cinc2017.yaml says), fixed as ImageNet's are for images. */
static const float rhythm_mean[ECG_RHYTHM_FEATURES] = {0.073f, 0.117f, 0.147f, 0.294f, -0.205f, 1.299f, 0.152f, 0.227f};
static const float rhythm_sd[ECG_RHYTHM_FEATURES] = {0.130f, 0.136f, 0.125f, 0.284f, 0.235f, 0.300f, 0.213f, 0.267f};

void ecg_rhythm_features_standardize(float f[ECG_RHYTHM_FEATURES])
{
    for (int j = 0; j < ECG_RHYTHM_FEATURES; j++)
        f[j] = (f[j] - rhythm_mean[j]) / rhythm_sd[j];
}
