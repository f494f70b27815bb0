/* Window placement (random crops, evenly spaced evaluation windows) and padding. */
#include "data/window.h"

#include <math.h>
#include <string.h>

const char *const ecg_pad_mode_names[] = {[ECG_PAD_ZERO] = "zero", [ECG_PAD_REFLECT] = "reflect",
                                           [ECG_PAD_TILE] = "tile", NULL};

void ecg_window_opts_default(struct ecg_window_opts *o)
{
    o->length_s = 10.0;
    o->eval_windows = 3;
    o->eval_hop_s = 0.0;
    o->pad = ECG_PAD_ZERO;
    o->short_policy = ECG_SHORT_PAD;
}

int ecg_window_opts_check(const struct ecg_window_opts *o, double fs, struct ecg_error *err)
{
    if (!(o->length_s > 0) || !isfinite(o->length_s) || !(fs > 0) || llround(o->length_s * fs) < 1)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "data.window_seconds: expected a positive length of at least one sample at %g Hz, found %g s",
                             fs, o->length_s);
    if (o->eval_windows < 1 || o->eval_windows > 1000)
        return ecg_error_set(err, ECG_ERR_RANGE, "eval.windows: expected 1..1000, found %lld",
                             (long long)o->eval_windows);
    if (!(o->eval_hop_s >= 0) || !isfinite(o->eval_hop_s) || (o->eval_hop_s > 0 && llround(o->eval_hop_s * fs) < 1))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "eval.hop_seconds: expected 0 or a hop of at least one sample at %g Hz, found %g s", fs,
                             o->eval_hop_s);
    if (o->pad != ECG_PAD_ZERO && o->pad != ECG_PAD_REFLECT && o->pad != ECG_PAD_TILE)
        return ecg_error_set(err, ECG_ERR_RANGE, "window padding: unknown mode %d", (int)o->pad);
    if (o->short_policy != ECG_SHORT_PAD && o->short_policy != ECG_SHORT_SKIP)
        return ecg_error_set(err, ECG_ERR_RANGE, "window short-record policy: unknown value %d", (int)o->short_policy);
    return ECG_OK;
}

int64_t ecg_window_samples(const struct ecg_window_opts *o, double fs) { return llround(o->length_s * fs); }

int64_t ecg_window_count(const struct ecg_window_opts *o, int64_t n, double fs, bool train)
{
    int64_t len = ecg_window_samples(o, fs);
    if (n < 1)
        return 0;
    if (n < len)
        return o->short_policy == ECG_SHORT_SKIP ? 0 : 1;
    if (train)
        return 1;
    int64_t distinct = n - len + 1, wanted = o->eval_windows;
    int64_t hop = o->eval_hop_s > 0 ? llround(o->eval_hop_s * fs) : 0;
    if (hop > 0) {
        wanted = 1 + (n - len + hop - 1) / hop;
        wanted = wanted < ECG_WINDOW_MAX_EVAL ? wanted : ECG_WINDOW_MAX_EVAL;
    }
    return wanted < distinct ? wanted : distinct;
}

int64_t ecg_window_eval_start(const struct ecg_window_opts *o, int64_t n, double fs, int64_t k)
{
    int64_t len = ecg_window_samples(o, fs);
    if (n < len)
        return -((len - n) / 2);
    int64_t count = ecg_window_count(o, n, fs, false);
    ECG_ASSERT(k >= 0 && k < count);
    if (count == 1)
        return (n - len) / 2;
    return (int64_t)llround((double)k * (double)(n - len) / (double)(count - 1));
}

int64_t ecg_window_train_start(const struct ecg_window_opts *o, int64_t n, double fs, struct ecg_rng *rng)
{
    int64_t len = ecg_window_samples(o, fs);
    uint64_t r = ecg_rng_u64(rng); /* always one draw, so later draws do not depend on n */
    if (n < len)
        return -((len - n) / 2);
    return (int64_t)(r % (uint64_t)(n - len + 1));
}

/* numpy 'reflect' index for any integer i and n >= 2: period 2(n - 1). */
static int64_t reflect_index(int64_t i, int64_t n)
{
    int64_t period = 2 * (n - 1);
    int64_t m = i % period;
    if (m < 0)
        m += period;
    return m < n ? m : period - m;
}

void ecg_window_extract(const struct ecg_window_opts *o, const float *x, int64_t n, int64_t start, int64_t len,
                        float *out)
{
    ECG_ASSERT(n >= 1);
    for (int64_t i = 0; i < len; i++) {
        int64_t j = start + i;
        if (j >= 0 && j < n)
            out[i] = x[j];
        else if (o->pad == ECG_PAD_ZERO)
            out[i] = 0.0f;
        else if (o->pad == ECG_PAD_TILE)
            out[i] = x[((j % n) + n) % n];
        else
            out[i] = n == 1 ? x[0] : x[reflect_index(j, n)];
    }
}

const char *ecg_pad_mode_name(enum ecg_pad_mode m)
{
    return m >= ECG_PAD_ZERO && m <= ECG_PAD_TILE ? ecg_pad_mode_names[m] : "?";
}
