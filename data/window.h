/* Fixed-length windows of variable-length records: random crops in training, evenly spaced windows at evaluation. */
#ifndef ECG_DATA_WINDOW_H
#define ECG_DATA_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"

/*
 * A record of n samples at fs Hz is cut into windows of L = round(length_s * fs)
 * samples.
 *
 * - n >= L, training: one window per epoch at a uniformly random start in
 *   [0, n - L], drawn from the caller's RNG stream (the loader derives it from
 *   (seed, epoch, record), so it does not depend on threads or timing).
 * - n >= L, evaluation: eval_windows windows with evenly spaced starts
 *   round(k * (n - L) / (K - 1)), k = 0..K-1 (K = 1: the centred window); the
 *   caller averages their predictions per record.  When n == L all coincide,
 *   so the count is capped at 1 + (n - L) (distinct starts).  With a hop
 *   H = round(eval_hop_s * fs) > 0 the count is instead what tiles the whole
 *   record with starts at most H apart: K = 1 + ceil((n - L) / H) (capped at
 *   ECG_WINDOW_MAX_EVAL), placed evenly as above, so the first window starts
 *   at 0, the last ends at n and every sample is seen when H <= L.
 * - n < L: policy ECG_SHORT_SKIP drops the record (counted by the caller);
 *   ECG_SHORT_PAD centres the record in the window and fills the rest with
 *   zeros (ECG_PAD_ZERO) or with the record mirrored about its end samples
 *   (ECG_PAD_REFLECT, numpy's 'reflect': ... x2 x1 | x0 x1 ... x(n-1) | x(n-2) ...,
 *   repeated as often as needed) or with copies of the record (ECG_PAD_TILE,
 *   numpy's 'wrap': ... x(n-1) | x0 ... x(n-1) | x0 ..., so a short rhythm strip
 *   repeats instead of ending in silence).  Such a record yields one window.
 */

enum ecg_pad_mode { ECG_PAD_ZERO, ECG_PAD_REFLECT, ECG_PAD_TILE };
/* Names of the padding modes, in enum order, NULL-terminated (key data.pad). */
extern const char *const ecg_pad_mode_names[];

/* Most evaluation windows one record gives. */
#define ECG_WINDOW_MAX_EVAL 1000
enum ecg_short_policy { ECG_SHORT_PAD, ECG_SHORT_SKIP };

struct ecg_window_opts {
    double length_s;       /* window length in seconds (> 0); key data.window_seconds */
    int64_t eval_windows;  /* windows per record at evaluation (>= 1); key eval.windows */
    double eval_hop_s;     /* > 0: tile the record with windows at most this far apart (eval.hop_seconds);
                              0: eval_windows windows */
    enum ecg_pad_mode pad;
    enum ecg_short_policy short_policy;
};

/* Defaults: 10 s, 3 evaluation windows, no hop, zero padding, pad short records. */
void ecg_window_opts_default(struct ecg_window_opts *o);

/* Checks the options (ECG_ERR_RANGE naming the config key: data.window_seconds, eval.windows,
 * eval.hop_seconds). */
int ecg_window_opts_check(const struct ecg_window_opts *o, double fs, struct ecg_error *err);

/* Window length in samples at fs. */
int64_t ecg_window_samples(const struct ecg_window_opts *o, double fs);

/* Number of windows a record of n samples gives (0: skipped by policy). */
int64_t ecg_window_count(const struct ecg_window_opts *o, int64_t n, double fs, bool train);

/* Start of evaluation window k of ecg_window_count(..., false) (may be negative
 * for a padded short record: -(left padding)). */
int64_t ecg_window_eval_start(const struct ecg_window_opts *o, int64_t n, double fs, int64_t k);

/* Random training start in [0, n - L] (or the padded start when n < L); one draw from rng. */
int64_t ecg_window_train_start(const struct ecg_window_opts *o, int64_t n, double fs, struct ecg_rng *rng);

/* Copies samples [start, start + L) of x into out (L floats), padding outside
 * [0, n) according to the options.  n >= 1. */
void ecg_window_extract(const struct ecg_window_opts *o, const float *x, int64_t n, int64_t start, int64_t len,
                        float *out);

const char *ecg_pad_mode_name(enum ecg_pad_mode m);

#endif
