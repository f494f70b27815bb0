/* Gradient checks before a step: non-finite detection and clipping by global L2 norm. */
#ifndef ECG_OPTIM_GRAD_H
#define ECG_OPTIM_GRAD_H

#include <stdint.h>

#include "core/error.h"
#include "core/params.h"

/*
 * Both functions look only at trainable parameters (neither ECG_PARAM_FROZEN
 * nor ECG_PARAM_BUFFER), the ones an optimizer step would update.
 */

/* Fails with ECG_ERR_VALUE when a trainable gradient holds NaN or infinity;
 * the message names the parameter where it appeared (the first in backward
 * order: the last in store order), the element index and the value, so
 * training can stop with a clear reason.  One fast pass when all is finite. */
int ecg_grad_check_finite(const struct ecg_params *p, struct ecg_error *err);

/*
 * Global L2 norm of the trainable gradients (accumulated in double) into
 * *norm.  When max_norm > 0 and the norm exceeds it, scales every trainable
 * gradient by max_norm / (norm + 1e-6), as torch.nn.utils.clip_grad_norm_
 * does; max_norm <= 0 only measures.  A non-finite norm leaves the
 * gradients untouched and fails like ecg_grad_check_finite.
 */
int ecg_grad_clip_norm(struct ecg_params *p, double max_norm, double *norm, struct ecg_error *err);

#endif
