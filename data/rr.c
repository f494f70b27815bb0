/* RR-interval features: ratios of the intervals around a beat to the local and the record's median. */
#include "data/rr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (n >= 1), sorting v; the mean of the middle two when n is even. */
static double median(int64_t *v, int64_t n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return n % 2 ? (double)v[n / 2] : 0.5 * ((double)v[n / 2 - 1] + (double)v[n / 2]);
}

static float feature(double ratio)
{
    float f = (float)(ECG_RR_SCALE * log(ratio));
    return f < -ECG_RR_CLAMP ? -ECG_RR_CLAMP : f > ECG_RR_CLAMP ? ECG_RR_CLAMP : f;
}

int ecg_rr_features(const int64_t *at, int64_t n, float *out, struct ecg_error *err)
{
    for (int64_t i = 1; i < n; i++)
        if (at[i] <= at[i - 1])
            return ecg_error_set(err, ECG_ERR_RANGE,
                                 "RR features: beat %lld at sample %lld follows one at %lld, expected increasing "
                                 "positions",
                                 (long long)i, (long long)at[i], (long long)at[i - 1]);
    if (n < 2) {
        memset(out, 0, (size_t)(n > 0 ? n : 0) * ECG_RR_FEATURES * sizeof *out);
        return ECG_OK;
    }
    /* rr[j] = at[j+1] - at[j]: the interval after beat j and before beat j + 1 */
    const int64_t m = n - 1;
    int64_t *rr = malloc((size_t)m * sizeof *rr), *work = malloc((size_t)m * sizeof *work);
    if (!rr || !work) {
        free(rr);
        free(work);
        return ecg_error_set(err, ECG_ERR_NOMEM, "RR features: no memory for %lld intervals", (long long)m);
    }
    for (int64_t j = 0; j < m; j++)
        rr[j] = at[j + 1] - at[j];
    memcpy(work, rr, (size_t)m * sizeof *rr);
    const double record = median(work, m);
    for (int64_t i = 0; i < n; i++) {
        double pre = (double)(i > 0 ? rr[i - 1] : rr[i]), post = (double)(i < m ? rr[i] : rr[i - 1]);
        /* the intervals i - L .. i + L - 1: L before the beat and L after it */
        int64_t lo = i - ECG_RR_LOCAL_BEATS < 0 ? 0 : i - ECG_RR_LOCAL_BEATS;
        int64_t hi = i + ECG_RR_LOCAL_BEATS > m ? m : i + ECG_RR_LOCAL_BEATS;
        memcpy(work, rr + lo, (size_t)(hi - lo) * sizeof *rr);
        const double local = median(work, hi - lo);
        float *f = out + i * ECG_RR_FEATURES;
        f[0] = feature(pre / local);
        f[1] = feature(post / local);
        f[2] = feature(local / record);
    }
    free(rr);
    free(work);
    return ECG_OK;
}
