/* RR-interval features of a whole rhythm record: how regular its beat-to-beat timing is. */
#ifndef ECG_DATA_RHYTHM_FEATURES_H
#define ECG_DATA_RHYTHM_FEATURES_H

#include <stdint.h>

#include "core/error.h"

/*
 * Atrial fibrillation is irregular from beat to beat; a spectrogram shows the
 * timing only as finely as its columns.  From the R peaks the QRS detector
 * (data/qrs.h) finds in a record, with rr the successive intervals in seconds
 * and step = |ln(rr[i+1] / rr[i])|:
 *
 *   f[0] median step                                f[4] ln of the median interval
 *   f[1] mean step                                  f[5] beats found / seconds from the first to the last
 *   f[2] standard deviation of ln rr                f[6] 75th percentile of step
 *   f[3] fraction of |rr[i+1] - rr[i]| over 50 ms   f[7] fraction of steps over 0.1
 *
 * (medians and percentiles interpolate linearly between order statistics;
 * f[5] is n / (n - 1) times the mean rate, as the features were first
 * measured).  A record with fewer than 4 beats, or shorter than the
 * detector's learning period, has no rhythm to measure: every feature is 0.
 */
#define ECG_RHYTHM_FEATURES 8

/* The features of x[0..n) at fs Hz into f.  Errors: the detector's (a NaN sample, a rate too low for its band),
 * out of memory. */
int ecg_rhythm_features(const float *x, int64_t n, double fs, float f[ECG_RHYTHM_FEATURES], struct ecg_error *err);

/* The same from beat times in seconds, ascending (count of them).  Errors: out of memory. */
int ecg_rhythm_features_from_beats(const double *seconds, int64_t count, float f[ECG_RHYTHM_FEATURES],
                                   struct ecg_error *err);

/* Scales f in place to about zero mean and unit spread on ECG records: (f - mean) / sd with fixed constants,
 * each feature's over the CinC 2017 development records.  A network's head reads them so (model.rhythm_features):
 * an optimiser's steps are about the same size for every weight, so a feature spread over 0.1 would learn ten
 * times slower than one spread over 1. */
void ecg_rhythm_features_standardize(float f[ECG_RHYTHM_FEATURES]);

#endif
