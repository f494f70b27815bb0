/* Signal augmentations (shift, scale, wander, noise, flip) and SpecAugment masks. */
#include "data/augment.h"

#include <math.h>
#include <string.h>

#define TWO_PI 6.283185307179586

void ecg_aug_opts_default(struct ecg_aug_opts *o)
{
    memset(o, 0, sizeof *o);
    o->shift_seconds = 1.0;
    o->scale_amount = 0.2;
    o->wander_amount = 0.1;
    o->wander_fmin = 0.05;
    o->wander_fmax = 0.5;
    o->noise_std = 0.05;
    o->time_mask_max = 0.1;
    o->time_mask_count = 1;
    o->freq_mask_max = 0.1;
    o->freq_mask_count = 1;
}

static int check_p(const char *key, double p, struct ecg_error *err)
{
    if (!(p >= 0 && p <= 1))
        return ecg_error_set(err, ECG_ERR_RANGE, "data.augment.%s: expected a probability in [0, 1], found %g", key,
                             p);
    return ECG_OK;
}

static int check_amount(const char *key, double v, double max, struct ecg_error *err)
{
    if (!(v >= 0 && v <= max))
        return ecg_error_set(err, ECG_ERR_RANGE, "data.augment.%s: expected a value in [0, %g], found %g", key, max,
                             v);
    return ECG_OK;
}

int ecg_aug_opts_check(const struct ecg_aug_opts *o, struct ecg_error *err)
{
    ECG_TRY(check_p("shift_prob", o->shift_prob, err));
    ECG_TRY(check_p("scale_prob", o->scale_prob, err));
    ECG_TRY(check_p("wander_prob", o->wander_prob, err));
    ECG_TRY(check_p("noise_prob", o->noise_prob, err));
    ECG_TRY(check_p("flip_prob", o->flip_prob, err));
    ECG_TRY(check_p("time_mask_prob", o->time_mask_prob, err));
    ECG_TRY(check_p("freq_mask_prob", o->freq_mask_prob, err));
    ECG_TRY(check_amount("shift_seconds", o->shift_seconds, INFINITY, err));
    /* A factor range [1 - a, 1 + a] must stay positive. */
    if (!(o->scale_amount >= 0 && o->scale_amount < 1))
        return ecg_error_set(err, ECG_ERR_RANGE, "data.augment.scale_amount: expected a value in [0, 1), found %g",
                             o->scale_amount);
    ECG_TRY(check_amount("wander_amount", o->wander_amount, INFINITY, err));
    ECG_TRY(check_amount("noise_std", o->noise_std, INFINITY, err));
    ECG_TRY(check_amount("time_mask_max", o->time_mask_max, 1, err));
    ECG_TRY(check_amount("freq_mask_max", o->freq_mask_max, 1, err));
    if (!(o->wander_fmin >= 0 && o->wander_fmin <= o->wander_fmax))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "augment wander band: expected 0 <= wander_fmin <= wander_fmax, found %g, %g",
                             o->wander_fmin, o->wander_fmax);
    if (o->time_mask_count < 0 || o->time_mask_count > 100 || o->freq_mask_count < 0 || o->freq_mask_count > 100)
        return ecg_error_set(err, ECG_ERR_RANGE, "augment mask counts: expected 0..100, found %lld and %lld",
                             (long long)o->time_mask_count, (long long)o->freq_mask_count);
    return ECG_OK;
}

/* The augmentation's own stream, and whether it applies (one draw). */
static int applies(const struct ecg_rng *sample, int id, double p, struct ecg_rng *r)
{
    *r = ecg_rng_stream(sample, (uint64_t)id);
    if (p <= 0)
        return 0;
    return ecg_rng_uniform_double(r) < p;
}

static double uniform(struct ecg_rng *r, double lo, double hi) { return lo + (hi - lo) * ecg_rng_uniform_double(r); }

/* Uniform integer in [lo, hi]. */
static int64_t uniform_int(struct ecg_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)ecg_rng_below(r, (uint64_t)(hi - lo + 1));
}

static void reverse(float *x, int64_t a, int64_t b) /* [a, b) */
{
    for (b--; a < b; a++, b--) {
        float t = x[a];
        x[a] = x[b];
        x[b] = t;
    }
}

/* Circular shift right by k, in place (three reversals). */
static void roll(float *x, int64_t n, int64_t k)
{
    k %= n;
    if (k < 0)
        k += n;
    if (k == 0)
        return;
    reverse(x, 0, n);
    reverse(x, 0, k);
    reverse(x, k, n);
}

static double stddev(const float *x, int64_t n)
{
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (int64_t i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    return sqrt(var / (double)n);
}

void ecg_aug_signal(const struct ecg_aug_opts *o, const struct ecg_rng *sample, float *x, int64_t n, double fs)
{
    struct ecg_rng r;
    if (n < 1)
        return;
    /* The std of the window as given, for the relative amounts. */
    const double sd = o->wander_amount > 0 || o->noise_std > 0 ? stddev(x, n) : 0.0;
    if (applies(sample, ECG_AUG_STREAM_SHIFT, o->shift_prob, &r)) {
        int64_t m = (int64_t)llround(o->shift_seconds * fs);
        if (m > 0)
            roll(x, n, uniform_int(&r, -m, m));
    }
    if (applies(sample, ECG_AUG_STREAM_SCALE, o->scale_prob, &r)) {
        float s = (float)uniform(&r, 1.0 - o->scale_amount, 1.0 + o->scale_amount);
        for (int64_t i = 0; i < n; i++)
            x[i] *= s;
    }
    if (o->wander_amount > 0 && applies(sample, ECG_AUG_STREAM_WANDER, o->wander_prob, &r)) {
        double a = uniform(&r, 0, o->wander_amount * sd);
        double f = uniform(&r, o->wander_fmin, o->wander_fmax);
        double ph = uniform(&r, 0, TWO_PI);
        for (int64_t i = 0; i < n; i++)
            x[i] += (float)(a * sin(TWO_PI * f * (double)i / fs + ph));
    }
    if (o->noise_std > 0 && applies(sample, ECG_AUG_STREAM_NOISE, o->noise_prob, &r)) {
        double sigma = o->noise_std * sd;
        for (int64_t i = 0; i < n; i++)
            x[i] += (float)sigma * ecg_rng_normal(&r);
    }
    if (applies(sample, ECG_AUG_STREAM_FLIP, o->flip_prob, &r))
        for (int64_t i = 0; i < n; i++)
            x[i] = -x[i];
}

/* Sets rows (axis 0) or columns (axis 1) [a, b) of every channel to v. */
static void fill_band(float *img, int64_t h, int64_t w, int64_t c, int axis, int64_t a, int64_t b, float v)
{
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) {
            int64_t t = axis == 0 ? y : x;
            if (t >= a && t < b)
                for (int64_t k = 0; k < c; k++)
                    img[(y * w + x) * c + k] = v;
        }
}

static void masks(struct ecg_rng *r, float *img, int64_t h, int64_t w, int64_t c, int axis, int64_t count,
                  double frac, float fill)
{
    int64_t extent = axis == 0 ? h : w;
    int64_t maxw = (int64_t)floor(frac * (double)extent);
    for (int64_t m = 0; m < count; m++) {
        int64_t width = uniform_int(r, 0, maxw);
        int64_t start = uniform_int(r, 0, extent - width);
        fill_band(img, h, w, c, axis, start, start + width, fill);
    }
}

void ecg_aug_image(const struct ecg_aug_opts *o, const struct ecg_rng *sample, float *img, int64_t h, int64_t w,
                   int64_t c)
{
    struct ecg_rng rt, rf;
    int t = applies(sample, ECG_AUG_STREAM_TMASK, o->time_mask_prob, &rt);
    int f = applies(sample, ECG_AUG_STREAM_FMASK, o->freq_mask_prob, &rf);
    if (!t && !f)
        return;
    double sum = 0;
    for (int64_t i = 0; i < h * w * c; i++)
        sum += img[i];
    float mean = (float)(sum / (double)(h * w * c));
    if (t)
        masks(&rt, img, h, w, c, 1, o->time_mask_count, o->time_mask_max, mean);
    if (f)
        masks(&rf, img, h, w, c, 0, o->freq_mask_count, o->freq_mask_max, mean);
}
