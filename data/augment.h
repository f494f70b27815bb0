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
 *    [-shift_max_s * fs, +shift_max_s * fs] (the window's content rolls round);
 *  - scale: x *= uniform(scale_lo, scale_hi);
 *  - wander: x += A sin(2 pi f t + phi), A uniform(0, Amax) with Amax =
 *    wander_rel_std * std(x) when wander_rel_std > 0, else wander_amp_mv;
 *    f uniform(wander_fmin, wander_fmax) Hz, phi uniform(0, 2 pi);
 *  - noise: x += N(0, sigma^2), sigma = noise_rel_std * std(x) when
 *    noise_rel_std > 0, else noise_sigma_mv when > 0, otherwise
 *    std(x) / 10^(noise_snr_db / 20) (the SNR relative to the window's power);
 *  (std(x) is measured on the window before any augmentation for the *_rel_std
 *  amounts, and on the window as it is when the noise is added for the SNR.)
 *  - flip: x = -x (polarity inversion).
 * Image augmentations (SpecAugment), on a finished (h, w, c) image:
 *  - time masks: tmask_count times, columns [t0, t0 + width) with width a
 *    uniform integer in [0, tmask_max_frac * w] set to the image mean;
 *  - frequency masks: the same on rows with fmask_count / fmask_max_frac.
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
    double shift_p, shift_max_s;
    double scale_p, scale_lo, scale_hi;
    double wander_p, wander_amp_mv, wander_fmin, wander_fmax, wander_rel_std;
    double noise_p, noise_snr_db, noise_sigma_mv, noise_rel_std;
    double flip_p;
    double tmask_p, tmask_max_frac;
    int64_t tmask_count;
    double fmask_p, fmask_max_frac;
    int64_t fmask_count;
};

/* Every probability 0 (nothing happens) with sensible amounts: shift 1 s,
 * scale 0.8..1.2, wander 0.1 mV at 0.05..0.5 Hz, noise SNR 20 dB, masks of up
 * to 10 % (2 time masks, 2 frequency masks). */
void ecg_aug_opts_default(struct ecg_aug_opts *o);

/* Checks ranges (probabilities in [0, 1], lo <= hi, ...): ECG_ERR_RANGE naming "augment.<key>". */
int ecg_aug_opts_check(const struct ecg_aug_opts *o, struct ecg_error *err);

/* Applies the signal augmentations in place to x (n samples at fs Hz). */
void ecg_aug_signal(const struct ecg_aug_opts *o, const struct ecg_rng *sample, float *x, int64_t n, double fs);

/* Applies the masks in place to an (h, w, c) image. */
void ecg_aug_image(const struct ecg_aug_opts *o, const struct ecg_rng *sample, float *img, int64_t h, int64_t w,
                   int64_t c);

#endif
