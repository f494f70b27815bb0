/* Finiteness of float arrays: one fast pass that says whether all are finite, and where the first is not. */
#ifndef ECG_CORE_FINITE_H
#define ECG_CORE_FINITE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Training checks its loss, gradients, weights and optimizer state every step
 * and refuses to write non-finite values to a checkpoint; the fast pass keeps
 * that cheap, and the index is looked for only once something is wrong.
 */

/* True when none of x[0..n) is NaN or infinite. */
bool ecg_floats_finite(const float *x, int64_t n);

/* Index of the first NaN or infinity in x[0..n), or -1 when there is none. */
int64_t ecg_floats_first_nonfinite(const float *x, int64_t n);

/* "NaN", "+inf" or "-inf" for a non-finite v (for messages). */
const char *ecg_nonfinite_name(double v);

#endif
