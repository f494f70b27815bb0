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

#endif
