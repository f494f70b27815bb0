/* Morphology features: each beat's segment against the sample-wise median of its record's segments. */
#include "data/morphology.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float clamp(double v)
{
    return v < -ECG_MORPHOLOGY_CLAMP ? -ECG_MORPHOLOGY_CLAMP : v > ECG_MORPHOLOGY_CLAMP ? ECG_MORPHOLOGY_CLAMP : (float)v;
}

/* The segment of the beat at `at` (len samples from at - before) minus its mean into seg; 0 when it runs past
 * the signal. */
static int cut_segment(const float *x, int64_t n, int64_t at, int64_t before, int64_t len, float *seg)
{
    if (at - before < 0 || at - before + len > n)
        return 0;
    double mean = 0;
    for (int64_t t = 0; t < len; t++)
        mean += x[at - before + t];
    mean /= (double)len;
    for (int64_t t = 0; t < len; t++)
        seg[t] = (float)(x[at - before + t] - mean);
    return 1;
}

/* The template: for each of the len samples, the median over the m segments (m >= 1); column is scratch. */
static void median_template(const float *seg, int64_t m, int64_t len, float *column, float *tmpl)
{
    for (int64_t t = 0; t < len; t++) {
        for (int64_t i = 0; i < m; i++)
            column[i] = seg[i * len + t];
        qsort(column, (size_t)m, sizeof *column, cmp_float);
        tmpl[t] = m % 2 ? column[m / 2] : 0.5f * (column[m / 2 - 1] + column[m / 2]);
    }
}

int ecg_morphology_features(const float *x, int64_t len, double fs, const int64_t *at, int64_t n, float *out,
                            struct ecg_error *err)
{
    if (!(fs > 0))
        return ecg_error_set(err, ECG_ERR_VALUE, "morphology features: sampling rate %g Hz, expected > 0", fs);
    memset(out, 0, (size_t)(n > 0 ? n : 0) * ECG_MORPHOLOGY_FEATURES * sizeof *out);
    const int64_t before = (int64_t)llround(ECG_MORPHOLOGY_BEFORE_S * fs);
    const int64_t seg_len = before + (int64_t)llround(ECG_MORPHOLOGY_AFTER_S * fs);
    if (n < 1 || seg_len < 2)
        return ECG_OK;
    /* seg: the segments of the beats that have one, packed; row[i]: beat i's row in seg, -1 none */
    float *seg = malloc((size_t)n * (size_t)seg_len * sizeof *seg);
    float *column = malloc((size_t)n * sizeof *column), *tmpl = malloc((size_t)seg_len * sizeof *tmpl);
    int64_t *row = malloc((size_t)n * sizeof *row);
    int rc = ECG_OK;
    if (!seg || !column || !tmpl || !row) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "morphology features: no memory for %lld beats", (long long)n);
        goto done;
    }
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        row[i] = cut_segment(x, len, at[i], before, seg_len, seg + m * seg_len) ? m++ : -1;
    if (m == 0)
        goto done;
    median_template(seg, m, seg_len, column, tmpl);
    double tt = 0;
    for (int64_t t = 0; t < seg_len; t++)
        tt += (double)tmpl[t] * tmpl[t];
    if (!(tt > 0))
        goto done;
    for (int64_t i = 0; i < n; i++) {
        if (row[i] < 0)
            continue;
        const float *b = seg + row[i] * seg_len;
        double bb = 0, bt = 0, dd = 0;
        for (int64_t t = 0; t < seg_len; t++) {
            bb += (double)b[t] * b[t];
            bt += (double)b[t] * tmpl[t];
            dd += ((double)b[t] - tmpl[t]) * ((double)b[t] - tmpl[t]);
        }
        const double r = bb > 0 ? bt / sqrt(bb * tt) : 0;
        float *f = out + i * ECG_MORPHOLOGY_FEATURES;
        f[0] = clamp(ECG_MORPHOLOGY_SCALE * (1.0 - r));
        f[1] = clamp(ECG_MORPHOLOGY_SCALE * log(fmax(sqrt(bb / tt), 1e-6)));
        f[2] = clamp(ECG_MORPHOLOGY_SCALE * log(fmax(sqrt(dd / tt), 1e-6)));
    }
done:
    free(seg);
    free(column);
    free(tmpl);
    free(row);
    return rc;
}
