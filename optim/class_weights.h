/* Class weights for the loss from class counts: inverse frequency ("balanced"). */
#ifndef ECG_OPTIM_CLASS_WEIGHTS_H
#define ECG_OPTIM_CLASS_WEIGHTS_H

#include <stdint.h>

#include "core/error.h"

/*
 * weights[c] = n / (k * counts[c]) with n = sum of counts, the "balanced"
 * rule of sklearn.utils.class_weight.compute_class_weight (a uniform dataset
 * gets all ones).  Fails with ECG_ERR_VALUE naming the class when a count is
 * zero (its weight would be infinite) or negative; `names` may be NULL, then
 * classes are named by index.
 */
int ecg_class_weights_balanced(const int64_t *counts, int k, const char *const *names,
                               float *weights, struct ecg_error *err);

/*
 * The balanced rule over the classes that have examples: weights[c] =
 * n / (p * counts[c]) with p the number of classes whose count is > 0, and 0
 * for the others (a weight only scales the loss of its own class's examples,
 * so an absent class's weight is never used); then every weight above `cap`
 * is lowered to `cap` (cap <= 0: no cap), which bounds the pull of a class of
 * a handful of examples.  Returns the number of absent classes; -1 when
 * every count is 0 or one is negative.
 */
int ecg_class_weights_capped(const int64_t *counts, int k, double cap, float *weights);

#endif
