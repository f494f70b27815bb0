/* Calibration of class probabilities: expected calibration error, reliability diagrams and temperature scaling. */
#ifndef ECG_EVAL_CALIBRATION_H
#define ECG_EVAL_CALIBRATION_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "eval/json.h"

/*
 * A record's probabilities come from the logits z_w of its windows:
 * p = mean_w softmax(z_w / T), T the temperature (1: the raw softmax).
 * Temperature scaling (Guo et al. 2017) picks the T that minimises the
 * negative log-likelihood of held-out records; it rescales confidence
 * without changing any single window's argmax.
 *
 * Reliability: the records are put into ECG_CAL_BINS equal-width bins by
 * their confidence (the largest probability; bin b holds (b/B, (b+1)/B],
 * a confidence of 0 goes to bin 0).  ECE = sum_b n_b / n |acc_b - conf_b|,
 * with acc_b the fraction of bin b's records whose argmax is their label and
 * conf_b their mean confidence.
 */

#define ECG_CAL_BINS 15
#define ECG_CAL_T_MIN 0.05
#define ECG_CAL_T_MAX 20.0

struct ecg_reliability {
    int64_t n;                          /* records with a label */
    int64_t count[ECG_CAL_BINS];
    double confidence[ECG_CAL_BINS];    /* mean confidence of the bin (NaN when empty) */
    double accuracy[ECG_CAL_BINS];      /* fraction correct in the bin (NaN when empty) */
    double ece;
    double nll;                         /* mean -log p(label) (probabilities floored at 1e-12) */
};

struct ecg_calibration {
    double temperature;                 /* applied to the logits (1: none) */
    const char *fitted_on;              /* split the temperature was fitted on ("val"); NULL: not fitted here */
    int64_t fit_records;                /* records of that split */
    bool has_before;                    /* `before` holds the same records at T = 1 */
    bool rr_fusion;                     /* `after` is of the RR fusion's probabilities (eval/rr_fusion.h), fitted
                                           on the same split as the temperature */
    struct ecg_reliability before, after;
};

/* softmax(logits / t) of one row of k logits into out, in double for the sum (t = 1: the plain softmax). */
void ecg_calibration_softmax(float *out, const float *logits, int k, double t);

/*
 * Record probabilities from window logits: window w (nwin of them, logits
 * (nwin, k)) belongs to record row[w] in [0, nrec); probs (nrec, k) becomes
 * the float mean of its windows' softmax(z / t), summed in window order (the
 * order ecgtrain's evaluation and infer/ sum in, so the bits agree).  A
 * record without windows gets zeros.  These and the fit below fail only for
 * lack of memory (ECG_ERR_NOMEM), except as said.
 */
int ecg_calibration_record_probs(float *probs, const float *logits, const int64_t *row, int64_t nwin, int64_t nrec,
                                 int k, double t, struct ecg_error *err);

/* Mean -log p(truth) of the records (truth -1: left out) at temperature t into *nll; NaN when none has a
 * label. */
int ecg_calibration_nll(const float *logits, const int64_t *row, int64_t nwin, const int *truth, int64_t nrec, int k,
                        double t, double *nll, struct ecg_error *err);

/*
 * The temperature in [ECG_CAL_T_MIN, ECG_CAL_T_MAX] minimising
 * ecg_calibration_nll: a grid in log T, then a golden-section search around
 * its best point.  ECG_ERR_VALUE when no record has a label.
 */
int ecg_calibration_fit_temperature(const float *logits, const int64_t *row, int64_t nwin, const int *truth,
                                    int64_t nrec, int k, double *t, struct ecg_error *err);

/* Bins, ECE and NLL of record probabilities (n, k); records with truth -1 are left out. */
void ecg_reliability_compute(struct ecg_reliability *r, const float *probs, const int *truth, int64_t n, int k);

/* The "calibration" member of metrics.json (the caller has written nothing else for the key). */
void ecg_calibration_write_json(struct ecg_json *j, const struct ecg_calibration *c);
/* Lines for report.txt. */
void ecg_calibration_write_text(FILE *f, const struct ecg_calibration *c);
/* The reliability diagram: accuracy against confidence per bin, the diagonal, before and after. */
void ecg_calibration_svg(FILE *f, const struct ecg_calibration *c);
/* The report.html section (a table and the inline diagram). */
void ecg_calibration_write_html(FILE *f, const struct ecg_calibration *c);

#endif
