/* Classification metrics: confusion matrix, per-class precision/recall/F1, macro scores, the CinC 2017 score, ROC-AUC. */
#ifndef ECG_EVAL_METRICS_H
#define ECG_EVAL_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/*
 * Conventions (docs/metrics.md has the formulas):
 *   - The confusion matrix has rows = true class, columns = predicted class.
 *   - precision_c = M[c][c] / column sum; recall_c = M[c][c] / row sum
 *     (support); f1_c = 2 M[c][c] / (row sum + column sum).  A zero
 *     denominator gives 0 (sklearn's zero_division=0): a class never
 *     predicted has precision 0, a class without support has recall 0, and
 *     a class neither present nor predicted has F1 0.
 *   - Macro averages run over all k classes (sklearn with labels=range(k));
 *     weighted averages weight by support.
 *   - CinC 2017 score: mean of f1 over the normal, AF and other classes,
 *     whose indices are found by name (normal: N, Normal, NSR, SR; AF: A, AF,
 *     AFib; other: O, Other; case-insensitive) or set with ecg_metrics_set_cinc(); NaN when the
 *     classes do not include all three.
 *   - ROC-AUC one-vs-rest per class from probabilities, exact (the area
 *     under the full ROC curve, tied scores counted half, as
 *     sklearn.metrics.roc_auc_score); NaN when the class has no positive or
 *     no negative example, or when no probabilities were given.  The macro
 *     AUC is the mean over the classes whose AUC is defined (auc_classes of
 *     them), NaN when there are none.
 *   - The normalised confusion matrix divides each row by its support
 *     (sklearn's normalize="true"); a row without support is all 0.
 */

#define ECG_CLASS_NAME_MAX 64

struct ecg_class_metrics {
    double precision, recall, f1, auc;
    int64_t support;   /* true examples of the class (row sum)   */
    int64_t predicted; /* examples predicted as it (column sum)  */
};

/* AAMI EC57 figures of one beat class (ecg_metrics_set_aami). */
struct ecg_aami_class {
    int index;             /* the class's index in the matrix, -1 when the model has no such class */
    int64_t tp, fn, fp;    /* fn: beats of the class given any other label (Q included); fp: beats of
                              N, S, V or F given this label (true Q beats never count as false positives) */
    double se, ppv, f1;    /* TP/(TP+FN), TP/(TP+FP), 2TP/(2TP+FN+FP); 0 for a zero denominator */
};

/* The AAMI summary of a beat classifier: N, S, V, F scored, Q apart. */
struct ecg_aami {
    struct ecg_aami_class cls[4]; /* N, S, V, F */
    int64_t n;                    /* beats whose true class is N, S, V or F */
    double accuracy;              /* of those beats */
    double macro_f1;              /* mean F1 of N, S, V, F */
    int q;                        /* index of Q, -1 none */
    int64_t q_support;            /* true Q beats */
    int64_t q_predicted;          /* beats of N, S, V, F labelled Q */
};

/* Predictions counted by a finer true label than the classes (ecg_metrics_add_breakdown): for MIT-BIH beats the
 * annotation symbol (L, R, A, ...), which shows which kinds of beat a class's errors come from, and the record
 * (patient), which shows whose.  A label is at most a record id (data/record.h's ECG_ID_MAX). */
#define ECG_BREAKDOWN_NAME_MAX 64
#define ECG_BREAKDOWN_KEY_MAX 32
#define ECG_BREAKDOWNS_MAX 2
struct ecg_breakdown_row {
    char label[ECG_BREAKDOWN_NAME_MAX]; /* the fine label, e.g. "L" */
    int truth;                          /* the class it belongs to */
    int64_t n;                          /* examples with this label */
};

struct ecg_breakdown {
    char key[ECG_BREAKDOWN_KEY_MAX]; /* its key in metrics.json, e.g. "breakdown" */
    char title[ECG_CLASS_NAME_MAX]; /* what the labels are, e.g. "MIT-BIH annotation symbol" */
    int rows;                       /* 0: no breakdown */
    struct ecg_breakdown_row *row;  /* [rows], ordered by class, then label */
    int64_t *predicted;             /* [rows x k] counts by predicted class */
};

struct ecg_metrics {
    int k;
    char (*names)[ECG_CLASS_NAME_MAX];
    int64_t n;        /* examples */
    int64_t *cm;      /* [k*k] counts, row = true, column = predicted */
    double *cm_norm;  /* [k*k] rows divided by support               */
    struct ecg_class_metrics *per_class; /* [k] */
    double accuracy;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
    int cinc[3];      /* indices of N, A, O, or -1 */
    double cinc_f1;   /* NaN when cinc[] is incomplete */
    double roc_auc_macro;
    int auc_classes;  /* classes with a defined AUC */
    bool has_aami;    /* beat classes: `aami` holds the AAMI EC57 figures */
    struct ecg_aami aami;
    struct ecg_breakdown breakdown[ECG_BREAKDOWNS_MAX]; /* [breakdowns], from ecg_metrics_add_breakdown */
    int breakdowns;
};

/* The predicted class of a row of k probabilities (or scores): its first maximum. */
int ecg_argmax(const float *p, int k);

/*
 * Metrics from labels.  truth[i] and pred[i] are class indices in [0, k);
 * probs (may be NULL) is [n x k] row-major class probabilities (scores of
 * any monotone kind work for AUC); pred may be NULL when probs is given,
 * then the prediction is the argmax (first maximum).  names has k entries.
 * Fails with ECG_ERR_RANGE naming the example for a label out of range,
 * ECG_ERR_VALUE for a NaN probability or n == 0, ECG_ERR_NOMEM.
 */
int ecg_metrics_compute(struct ecg_metrics *m, int k, const char *const *names, const int *truth,
                        const int *pred, const float *probs, int64_t n, struct ecg_error *err);

/* Metrics from a [k x k] confusion matrix of counts (AUC is then NaN).
 * Fails with ECG_ERR_VALUE for a negative count or an empty matrix. */
int ecg_metrics_from_confusion(struct ecg_metrics *m, int k, const char *const *names,
                               const int64_t *counts, struct ecg_error *err);

void ecg_metrics_free(struct ecg_metrics *m);

/* Overrides which classes the CinC score uses (indices in [0, k), distinct)
 * and recomputes cinc_f1. */
int ecg_metrics_set_cinc(struct ecg_metrics *m, int normal, int af, int other,
                         struct ecg_error *err);

/*
 * The AAMI EC57 figures of a beat classifier (sets has_aami and aami), in the
 * convention of de Chazal et al. (2004): sensitivity Se, positive
 * predictivity +P and F1 of N, S, V and F; a beat of these four labelled Q
 * counts as a miss (FN) of its class and in q_predicted; true Q beats
 * (unclassifiable, too few to learn) are reported apart (q_support) and are
 * never false positives of another class.  Indices are the classes' columns
 * (distinct, in [0, k)); q may be -1.
 */
int ecg_metrics_set_aami(struct ecg_metrics *m, int n, int s, int v, int f, int q, struct ecg_error *err);

/* The same with the classes found by name (N, S, V, F, Q); ECG_ERR_VALUE when N, S, V or F is missing. */
int ecg_metrics_find_aami(struct ecg_metrics *m, struct ecg_error *err);

/*
 * Counts the predictions (argmax of probs, [n x k]) of every example by its fine label label[i] (NULL: the
 * example has none and is left out) and its class truth[i]; a label seen with two classes gives two rows,
 * ordered by class, then label.  `key` names the breakdown in metrics.json (one with the same key is
 * replaced, else it is added) and `title` says what the labels are.  Fails with ECG_ERR_RANGE for a class
 * out of range or a new key when ECG_BREAKDOWNS_MAX are held, ECG_ERR_VALUE for a key longer than
 * ECG_BREAKDOWN_KEY_MAX - 1 bytes or a label longer than ECG_BREAKDOWN_NAME_MAX - 1, ECG_ERR_NOMEM; the
 * metrics keep their breakdowns then.  No example with a label: no breakdown under `key`.
 */
int ecg_metrics_add_breakdown(struct ecg_metrics *m, const char *key, const char *title, const char *const *label,
                              const int *truth, const float *probs, int64_t n, struct ecg_error *err);

/* One-vs-rest ROC-AUC of class `cls`: scores probs[i*k + cls], positives
 * truth[i] == cls.  NaN when either group is empty.  Only fails on memory. */
int ecg_roc_auc_ovr(const float *probs, int k, const int *truth, int64_t n, int cls, double *auc,
                    struct ecg_error *err);

#endif
