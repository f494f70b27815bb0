/* The trainer's resumable counters, stored as a small JSON text in checkpoints. */
#ifndef ECG_TRAIN_STATE_H
#define ECG_TRAIN_STATE_H

#include <stdint.h>

#include "core/error.h"

#define ECG_STATE_MAX_CLASSES 16

/*
 * Everything besides weights and optimizer blobs that a resumed run needs to
 * end bit-identical to an uninterrupted one: where in which epoch it stopped,
 * the partial sums of that epoch's training metrics, and early-stopping state.
 * Doubles are written with 17 significant digits, which round-trip exactly.
 */
struct ecg_train_state {
    int64_t epoch;          /* epochs completed */
    int64_t batch_in_epoch; /* batches of epoch `epoch` already trained */
    int64_t step;           /* optimizer steps taken */
    double loss_sum;        /* sum of batch losses times batch sizes, this epoch */
    int64_t seen;           /* training samples this epoch */
    double seconds;         /* training seconds this epoch */
    double best_f1;         /* best validation macro-F1 so far (-1: none) */
    int64_t best_epoch;     /* its epoch (1-based; 0: none) */
    int64_t bad_epochs;     /* epochs since the best */
    int64_t ema_updates;
    int k;
    int64_t cm[ECG_STATE_MAX_CLASSES * ECG_STATE_MAX_CLASSES]; /* training confusion, this epoch */
};

/* Writes the state as JSON into a malloc'd string; NULL when out of memory. */
char *ecg_train_state_to_json(const struct ecg_train_state *s);

/* Parses what ecg_train_state_to_json wrote; `what` names the source in messages. */
int ecg_train_state_from_json(struct ecg_train_state *s, const char *json, const char *what,
                              struct ecg_error *err);

#endif
