/* The RR fusion: a record's class probabilities corrected by its RR-interval features. */
#ifndef ECG_EVAL_RR_FUSION_H
#define ECG_EVAL_RR_FUSION_H

#include <stdint.h>

#include "core/error.h"
#include "data/rhythm_features.h"

/*
 * The network sees a record's rhythm only through spectrogram columns; the
 * beat-to-beat intervals that tell atrial fibrillation from other irregular
 * rhythms are measured better from the R peaks.  The fusion corrects the
 * network's calibrated probabilities p (k classes) of a record with its
 * RR-interval features f (data/rhythm_features.h), each standardised by the
 * fitting records' mean and standard deviation:
 *
 *   p'_c = softmax_c(ln max(p_c, 1e-6) + sum_j W[j][c] (f_j - mean_j) / scale_j + W[8][c])
 *
 * W (ECG_RHYTHM_FEATURES + 1, k), the bias in its last row.  W = 0 leaves p
 * as it is, so the fit starts from the network's answer and moves away from
 * it only as far as the features earn on the fitting records: the validation
 * split (the records that chose the epoch and the temperature, never the test
 * split), a few hundred records.  A fusion that also re-weighted the
 * log-probabilities (13 x 4 weights from zero) fitted those few records too
 * closely and lost CinC F1 on one fold's test records (docs/results.md, R23).
 * The fit minimises the mean cross-entropy plus ECG_FUSION_L2 / 2 |W|^2 by
 * ECG_FUSION_STEPS full-batch gradient steps of ECG_FUSION_RATE from W = 0:
 * deterministic.
 */
#define ECG_FUSION_MAX_CLASSES 16
#define ECG_FUSION_STEPS 4000
#define ECG_FUSION_RATE 0.3
#define ECG_FUSION_L2 1e-3
#define ECG_FUSION_P_FLOOR 1e-6

struct ecg_rr_fusion {
    int classes;                                  /* k; 0: no fusion (the probabilities stay as they are) */
    double mean[ECG_RHYTHM_FEATURES];             /* the features' standardisation */
    double scale[ECG_RHYTHM_FEATURES];            /* > 0 */
    double weights[(ECG_RHYTHM_FEATURES + 1) * ECG_FUSION_MAX_CLASSES]; /* (features + 1, k) row-major */
};

/*
 * Fits the fusion on n records: probs (n, k), features (n, ECG_RHYTHM_FEATURES), truth (n; -1: no label, left
 * out).  Errors: k outside 2..ECG_FUSION_MAX_CLASSES (ECG_ERR_RANGE), no labelled record or a non-finite input
 * (ECG_ERR_VALUE), out of memory.
 */
int ecg_rr_fusion_fit(struct ecg_rr_fusion *f, const float *probs, const float *features, const int *truth, int64_t n,
                      int k, struct ecg_error *err);

/* A record's probabilities (k = f->classes) replaced by the fusion's, from its features; no-op without a fusion. */
void ecg_rr_fusion_apply(const struct ecg_rr_fusion *f, float *probs, const float features[ECG_RHYTHM_FEATURES]);

/* Checks a fusion read from a file: sizes, finite numbers, positive scales.  ECG_ERR_FORMAT naming `what`. */
int ecg_rr_fusion_check(const struct ecg_rr_fusion *f, int k, const char *what, struct ecg_error *err);

#endif
