/* Signal augmentations (shift, scale, wander, noise, flip) and SpecAugment masks. */
#include "data/augment.h"

#include <math.h>
#include <string.h>

#define TWO_PI 6.283185307179586

void ecg_aug_opts_default(struct ecg_aug_opts *o)
{
    memset(o, 0, sizeof *o);
    o->shift_max_s = 1.0;
    o->scale_lo = 0.8;
    o->scale_hi = 1.2;
    o->wander_amp_mv = 0.1;
    o->wander_fmin = 0.05;
    o->wander_fmax = 0.5;
    o->noise_snr_db = 20.0;
    o->tmask_max_frac = 0.1;
    o->tmask_count = 2;
    o->fmask_max_frac = 0.1;
    o->fmask_count = 2;
}

static int check_p(const char *key, double p, struct ecg_error *err)
{
    if (!(p >= 0 && p <= 1))
        return ecg_error_set(err, ECG_ERR_RANGE, "augment.%s: expected a probability in [0, 1], found %g", key, p);
    return ECG_OK;
}

int ecg_aug_opts_check(const struct ecg_aug_opts *o, struct ecg_error *err)
{
    ECG_TRY(check_p("shift_p", o->shift_p, err));
    ECG_TRY(check_p("scale_p", o->scale_p, err));
    ECG_TRY(check_p("wander_p", o->wander_p, err));
    ECG_TRY(check_p("noise_p", o->noise_p, err));
    ECG_TRY(check_p("flip_p", o->flip_p, err));
    ECG_TRY(check_p("tmask_p", o->tmask_p, err));
    ECG_TRY(check_p("fmask_p", o->fmask_p, err));
    if (!(o->shift_max_s >= 0))
        return ecg_error_set(err, ECG_ERR_RANGE, "augment.shift_max_s: expected >= 0, found %g", o->shift_max_s);
    if (!(o->scale_lo > 0 && o->scale_lo <= o->scale_hi))
        return ecg_error_set(err, ECG_ERR_RANGE, "augment.scale_lo/scale_hi: expected 0 < lo <= hi, found %g, %g",
                             o->scale_lo, o->scale_hi);
    if (!(o->wander_amp_mv >= 0) || !(o->wander_fmin >= 0 && o->wander_fmin <= o->wander_fmax))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "augment.wander: expected amp >= 0 and 0 <= fmin <= fmax, found amp %g, fmin %g, fmax %g",
                             o->wander_amp_mv, o->wander_fmin, o->wander_fmax);
    if (!(o->noise_rel_std >= 0) || !(o->wander_rel_std >= 0))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "augment.noise_rel_std/wander_rel_std: expected >= 0, found %g, %g", o->noise_rel_std,
                             o->wander_rel_std);
    if (!(o->noise_sigma_mv >= 0) || !isfinite(o->noise_snr_db))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "augment.noise: expected sigma_mv >= 0 and a finite snr_db, found %g, %g",
                             o->noise_sigma_mv, o->noise_snr_db);
    if (!(o->tmask_max_frac >= 0 && o->tmask_max_frac <= 1) || o->tmask_count < 0 || o->tmask_count > 100)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "augment.tmask: expected max_frac in [0, 1] and count 0..100, found %g, %lld",
                             o->tmask_max_frac, (long long)o->tmask_count);
    if (!(o->fmask_max_frac >= 0 && o->fmask_max_frac <= 1) || o->fmask_count < 0 || o->fmask_count > 100)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "augment.fmask: expected max_frac in [0, 1] and count 0..100, found %g, %lld",
                             o->fmask_max_frac, (long long)o->fmask_count);
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
    const double sd = o->wander_rel_std > 0 || o->noise_rel_std > 0 ? stddev(x, n) : 0.0;
    if (applies(sample, ECG_AUG_STREAM_SHIFT, o->shift_p, &r)) {
        int64_t m = (int64_t)llround(o->shift_max_s * fs);
        if (m > 0)
            roll(x, n, uniform_int(&r, -m, m));
    }
    if (applies(sample, ECG_AUG_STREAM_SCALE, o->scale_p, &r)) {
        float s = (float)uniform(&r, o->scale_lo, o->scale_hi);
        for (int64_t i = 0; i < n; i++)
            x[i] *= s;
    }
    if (applies(sample, ECG_AUG_STREAM_WANDER, o->wander_p, &r)) {
        double amax = o->wander_amp_mv;
        if (o->wander_rel_std > 0)
            amax = o->wander_rel_std * sd;
        double a = uniform(&r, 0, amax);
        double f = uniform(&r, o->wander_fmin, o->wander_fmax);
        double ph = uniform(&r, 0, TWO_PI);
        for (int64_t i = 0; i < n; i++)
            x[i] += (float)(a * sin(TWO_PI * f * (double)i / fs + ph));
    }
    if (applies(sample, ECG_AUG_STREAM_NOISE, o->noise_p, &r)) {
        double sigma = o->noise_sigma_mv;
        if (o->noise_rel_std > 0)
            sigma = o->noise_rel_std * sd;
        else if (!(sigma > 0))
            sigma = stddev(x, n) / pow(10.0, o->noise_snr_db / 20.0);
        for (int64_t i = 0; i < n; i++)
            x[i] += (float)sigma * ecg_rng_normal(&r);
    }
    if (applies(sample, ECG_AUG_STREAM_FLIP, o->flip_p, &r))
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
    int t = applies(sample, ECG_AUG_STREAM_TMASK, o->tmask_p, &rt);
    int f = applies(sample, ECG_AUG_STREAM_FMASK, o->fmask_p, &rf);
    if (!t && !f)
        return;
    double sum = 0;
    for (int64_t i = 0; i < h * w * c; i++)
        sum += img[i];
    float mean = (float)(sum / (double)(h * w * c));
    if (t)
        masks(&rt, img, h, w, c, 1, o->tmask_count, o->tmask_max_frac, mean);
    if (f)
        masks(&rf, img, h, w, c, 0, o->fmask_count, o->fmask_max_frac, mean);
}
