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

/* The beats whose segment (seg_len samples from at - before) lies inside the signal: their first samples into
 * start and their means into mean, packed; returns how many.  The segments themselves are not copied, so the
 * memory stays linear in the beats whatever the sampling rate: sample t of segment i is
 * (float)(x[start[i] + t] - mean[i]). */
static int64_t find_segments(const float *x, int64_t len, const int64_t *at, int64_t n, int64_t before,
                             int64_t seg_len, int64_t *start, double *mean, int64_t *row)
{
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        row[i] = -1;
        if (at[i] < before || at[i] - before > len - seg_len)
            continue;
        double sum = 0;
        for (int64_t t = 0; t < seg_len; t++)
            sum += x[at[i] - before + t];
        start[m] = at[i] - before;
        mean[m] = sum / (double)seg_len;
        row[i] = m++;
    }
    return m;
}

/* The template: for each of the seg_len samples, the median over the m segments (m >= 1); column is scratch. */
static void median_template(const float *x, const int64_t *start, const double *mean, int64_t m, int64_t seg_len,
                            float *column, float *tmpl)
{
    for (int64_t t = 0; t < seg_len; t++) {
        for (int64_t i = 0; i < m; i++)
            column[i] = (float)(x[start[i] + t] - mean[i]);
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
    /* A window longer than the signal fits no beat.  Checking it in double first keeps llround in range and the
     * integer window small whatever rate a header claims; the + 1 lets through the windows that rounding the two
     * halves separately makes one sample longer than the double one, and the exact test follows. */
    if (n < 1 || !((ECG_MORPHOLOGY_BEFORE_S + ECG_MORPHOLOGY_AFTER_S) * fs <= (double)len + 1))
        return ECG_OK;
    const int64_t before = (int64_t)llround(ECG_MORPHOLOGY_BEFORE_S * fs);
    const int64_t seg_len = before + (int64_t)llround(ECG_MORPHOLOGY_AFTER_S * fs);
    if (seg_len < 2 || seg_len > len)
        return ECG_OK;
    int64_t *start = malloc((size_t)n * sizeof *start), *row = malloc((size_t)n * sizeof *row);
    double *mean = malloc((size_t)n * sizeof *mean);
    float *column = malloc((size_t)n * sizeof *column), *tmpl = malloc((size_t)seg_len * sizeof *tmpl);
    int rc = ECG_OK;
    if (!start || !row || !mean || !column || !tmpl) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "morphology features: no memory for %lld beats", (long long)n);
        goto done;
    }
    const int64_t m = find_segments(x, len, at, n, before, seg_len, start, mean, row);
    if (m == 0)
        goto done;
    median_template(x, start, mean, m, seg_len, column, tmpl);
    double tt = 0;
    for (int64_t t = 0; t < seg_len; t++)
        tt += (double)tmpl[t] * tmpl[t];
    if (!(tt > 0))
        goto done;
    for (int64_t i = 0; i < n; i++) {
        if (row[i] < 0)
            continue;
        const float *b = x + start[row[i]];
        const double b_mean = mean[row[i]];
        double bb = 0, bt = 0, dd = 0;
        for (int64_t t = 0; t < seg_len; t++) {
            const float v = (float)(b[t] - b_mean);
            bb += (double)v * v;
            bt += (double)v * tmpl[t];
            dd += ((double)v - tmpl[t]) * ((double)v - tmpl[t]);
        }
        const double r = bb > 0 ? bt / sqrt(bb * tt) : 0;
        float *f = out + i * ECG_MORPHOLOGY_FEATURES;
        f[0] = clamp(ECG_MORPHOLOGY_SCALE * (1.0 - r));
        f[1] = clamp(ECG_MORPHOLOGY_SCALE * log(fmax(sqrt(bb / tt), 1e-6)));
        f[2] = clamp(ECG_MORPHOLOGY_SCALE * log(fmax(sqrt(dd / tt), 1e-6)));
    }
done:
    free(start);
    free(row);
    free(mean);
    free(column);
    free(tmpl);
    return rc;
}
