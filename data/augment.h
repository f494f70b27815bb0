/* Training-time augmentation of signal windows and spectrogram images, seeded per sample. */
#ifndef ECG_DATA_AUGMENT_H
#define ECG_DATA_AUGMENT_H

#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"

/*
 * Every augmentation has a probability (0 disables it) and an amount.  The
 * caller passes one RNG stream per sample (the loader derives it from seed,
 * epoch, record and window); each augmentation draws from its own child stream
 * ecg_rng_stream(sample, ECG_AUG_STREAM_*), first a uniform for "apply?", then
 * its amounts, so enabling one augmentation never changes the draws of another
 * and results do not depend on thread scheduling.
 *
 * Signal augmentations, applied in this order to a window x of n samples (mV):
 *  - shift: circular shift by a uniform integer number of samples in
 *    [-shift_seconds * fs, +shift_seconds * fs] (the window's content rolls round);
 *  - scale: x *= uniform(1 - scale_amount, 1 + scale_amount) (the factor range
 *    is derived here from the one amount the config sets);
 *  - wander: x += A sin(2 pi f t + phi), A uniform(0, wander_amount * std(x)),
 *    f uniform(wander_fmin, wander_fmax) Hz, phi uniform(0, 2 pi);
 *  - noise: x += N(0, sigma^2), sigma = noise_std * std(x);
 *  (std(x) is measured on the window before any augmentation; an amount of 0
 *  disables wander or noise whatever its probability.)
 *  - flip: x = -x (polarity inversion).
 * Image augmentations (SpecAugment), on a finished (h, w, c) image:
 *  - time masks: time_mask_count times, columns [t0, t0 + width) with width a
 *    uniform integer in [0, time_mask_max * w] set to the image mean;
 *  - frequency masks: the same on rows with freq_mask_count / freq_mask_max.
 *
 * The fields that ecgtrain's config sets are named as the keys
 * data.augment.<field> and filled straight from them (train/config_schema.c);
 * wander_fmin/fmax and the mask counts keep ecg_aug_opts_default's values.
 */
enum {
    ECG_AUG_STREAM_SHIFT = 1,
    ECG_AUG_STREAM_SCALE,
    ECG_AUG_STREAM_WANDER,
    ECG_AUG_STREAM_NOISE,
    ECG_AUG_STREAM_FLIP,
    ECG_AUG_STREAM_TMASK,
    ECG_AUG_STREAM_FMASK,
};

struct ecg_aug_opts {
    double shift_prob, shift_seconds;
    double scale_prob, scale_amount;
    double wander_prob, wander_amount, wander_fmin, wander_fmax;
    double noise_prob, noise_std;
    double flip_prob;
    double time_mask_prob, time_mask_max;
    int64_t time_mask_count;
    double freq_mask_prob, freq_mask_max;
    int64_t freq_mask_count;
};

/* Every probability 0 (nothing happens) with sensible amounts: shift 1 s,
 * scale 0.8..1.2, wander 0.1 std at 0.05..0.5 Hz, noise 0.05 std, one time
 * and one frequency mask of up to 10 %. */
void ecg_aug_opts_default(struct ecg_aug_opts *o);

/* Checks ranges (probabilities in [0, 1], amounts >= 0, ...): ECG_ERR_RANGE naming the key, "data.augment.<field>". */
int ecg_aug_opts_check(const struct ecg_aug_opts *o, struct ecg_error *err);

/* Applies the signal augmentations in place to x (n samples at fs Hz). */
void ecg_aug_signal(const struct ecg_aug_opts *o, const struct ecg_rng *sample, float *x, int64_t n, double fs);

/* Applies the masks in place to an (h, w, c) image. */
void ecg_aug_image(const struct ecg_aug_opts *o, const struct ecg_rng *sample, float *img, int64_t h, int64_t w,
                   int64_t c);

#endif
