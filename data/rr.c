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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* How irregular the intervals rr[0..n) are around `local`: the median of |ln(rr / local)| (n >= 1). */
static double irregularity(const int64_t *rr, int64_t n, double local, double *dev)
{
    for (int64_t k = 0; k < n; k++)
        dev[k] = fabs(log((double)rr[k] / local));
    qsort(dev, (size_t)n, sizeof *dev, cmp_double);
    return n % 2 ? dev[n / 2] : 0.5 * (dev[n / 2 - 1] + dev[n / 2]);
}

static float clamp(double f) { return f < -ECG_RR_CLAMP ? -ECG_RR_CLAMP : f > ECG_RR_CLAMP ? ECG_RR_CLAMP : (float)f; }

static float feature(double ratio)
{
    return clamp(ECG_RR_SCALE * log(ratio));
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
    double *dev = malloc((size_t)m * sizeof *dev);
    if (!rr || !work || !dev) {
        free(rr);
        free(work);
        free(dev);
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
        f[3] = clamp(ECG_RR_SCALE * irregularity(rr + lo, hi - lo, local, dev));
    }
    free(rr);
    free(work);
    free(dev);
    return ECG_OK;
}
