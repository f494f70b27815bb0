/* RR-interval features of heartbeats: the timing around each beat, relative to its neighbours and its record. */
#ifndef ECG_DATA_RR_H
#define ECG_DATA_RR_H

#include <stdint.h>

#include "core/error.h"

/*
 * A supraventricular ectopic beat looks like a normal one and differs by its
 * timing: it comes early (a short RR interval before it) and is often followed
 * by a pause.  Early means early for this patient at this moment, so every
 * interval is compared with the local and the record's typical interval: the
 * features are ratios, never durations, which would let a classifier tell the
 * training patients apart by their heart rate instead of learning the beats
 * (a first version with the rate itself did exactly that between patients).
 * For beat i of n at sample at[i]:
 *
 *   pre    = at[i] - at[i-1]           (post when i is the first beat)
 *   post   = at[i+1] - at[i]           (pre when i is the last beat)
 *   local  = median of the up to 2 x ECG_RR_LOCAL_BEATS intervals around beat i
 *   record = median of all the record's intervals
 *
 *   f[0] = s ln(pre / local)     0 for a regular beat, about -5.8 for a beat 25 % early
 *   f[1] = s ln(post / local)    the compensatory pause after an ectopic beat
 *   f[2] = s ln(local / record)  a faster stretch: a run of ectopic beats, a tachycardia
 *   f[3] = s median |ln(rr / local)| over the local intervals: how irregular the rhythm around the
 *          beat is, about 0.4 in sinus rhythm and 3-5 in atrial fibrillation, where an early beat
 *          is not ectopic (the median ignores one ectopic beat and its pause)
 *
 * with s = ECG_RR_SCALE, each clamped to [-ECG_RR_CLAMP, ECG_RR_CLAMP].  The
 * scale is there for the optimiser: Adam moves a weight by about the learning
 * rate a step whatever its input, so a logit moves by about lr x the feature,
 * and a fine-tune of some thousand steps at lr 1e-3 could not give
 * unscaled log ratios (-0.29 for a beat 25 % early) a say beside 1280 image
 * features (a first scale of 5 left S beats unfound).  A record with a single
 * beat has no interval: its features are 0.  The medians make one ectopic beat
 * among its neighbours move `local` little.
 */
#define ECG_RR_FEATURES 4
#define ECG_RR_LOCAL_BEATS 10
#define ECG_RR_SCALE 20.0
#define ECG_RR_CLAMP 20.0f

/* The features of n beats at strictly increasing sample positions `at` into out (n x ECG_RR_FEATURES).
 * Errors: ECG_ERR_RANGE (positions not increasing), ECG_ERR_NOMEM. */
int ecg_rr_features(const int64_t *at, int64_t n, float *out, struct ecg_error *err);

#endif
