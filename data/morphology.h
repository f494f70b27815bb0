/* Morphology features of heartbeats: how each beat's shape differs from its record's typical beat. */
#ifndef ECG_DATA_MORPHOLOGY_H
#define ECG_DATA_MORPHOLOGY_H

#include <stdint.h>

#include "core/error.h"

/*
 * Between patients, a beat's shape alone misleads: a bundle branch block
 * widens every QRS complex of a patient, and a model that has not met the
 * patient takes those beats for ventricular ones.  What marks a ventricular
 * beat is that it differs from the patient's own usual beat.  So each beat
 * is compared with its record's template: the sample-wise median of all the
 * record's beats, each cut from ECG_MORPHOLOGY_BEFORE_S before to
 * ECG_MORPHOLOGY_AFTER_S after its fiducial point (the QRS complex and the
 * start of the ST segment) with its mean removed.  For beat segment b and
 * template t:
 *
 *   f[0] = s (1 - r)                 r: the correlation of b and t; 0 for the same shape, 2 s inverted
 *   f[1] = s ln(rms(b) / rms(t))     larger or smaller than the usual beat
 *   f[2] = s ln(rms(b - t) / rms(t)) how far from the usual beat, relative to its size
 *
 * with s = ECG_MORPHOLOGY_SCALE, each clamped to [-ECG_MORPHOLOGY_CLAMP,
 * ECG_MORPHOLOGY_CLAMP] (the ratios inside the logarithms are floored at
 * 1e-6, so a beat equal to the template gets the lower clamp for f[2]).
 * Like the RR features (data/rr.h) they are ratios to the record's own
 * values, and scaled so that Adam can give them a say beside the 1280 image
 * features.  A beat whose segment runs past the record's ends, and every beat
 * of a record whose template is flat, gets zeros: no comparison.  The median
 * makes the template the majority's shape, which a third of ectopic beats
 * (record 208) does not move.
 */
#define ECG_MORPHOLOGY_FEATURES 3
#define ECG_MORPHOLOGY_BEFORE_S 0.10
#define ECG_MORPHOLOGY_AFTER_S 0.15
#define ECG_MORPHOLOGY_SCALE 10.0
#define ECG_MORPHOLOGY_CLAMP 20.0f

/* The features of the n beats at samples at[0..n) of signal x (len samples at fs Hz) into out
 * (n x ECG_MORPHOLOGY_FEATURES).  Errors: ECG_ERR_VALUE (fs <= 0), ECG_ERR_NOMEM. */
int ecg_morphology_features(const float *x, int64_t len, double fs, const int64_t *at, int64_t n, float *out,
                            struct ecg_error *err);

#endif
