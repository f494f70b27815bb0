/* Data-parallel training inside one process: a batch split over replicas of one EfficientNet, side by side.
 */
#ifndef ECG_LAYERS_EFFNET_REPLICAS_H
#define ECG_LAYERS_EFFNET_REPLICAS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "layers/effnet.h"

/*
 * At the small images of ECG spectrograms a training step cut into per-layer parallel loops keeps
 * two cores less than half busy (thread hand-overs cost as much as the work they split), while two
 * halves of the batch, each through every layer on its own core, keep both busy.  So a step can run
 * as R replicas: replica 0 is the caller's model, replicas 1..R-1 (ecg_effnet_init_replica) share
 * its parameter values and own their activations and gradients.  Replica r takes the contiguous
 * samples [n r / R, n (r + 1) / R) of a batch of n, on its own thread, with single-threaded kernels.
 *
 * The step is the step of the whole batch, as ranks under MPI compute it (train/data_parallel.h):
 * batch norm uses the statistics of every replica's rows (the sums meet at a barrier once per
 * batch norm forward and backward), masks are keyed by the sample's place in the whole batch, the
 * loss and its gradient are normalised by the whole batch's class-weight total, and the gradients
 * are summed into replica 0's.  Sums run in replica order, so the result depends on R and never on
 * the thread count or on timing; it equals the one-network step up to rounding (the batch-norm sums
 * are shifted and added in another order).  R = 1 is the one-network step itself, bit for bit.
 * A batch smaller than R runs on as many replicas as it has samples.
 *
 *     ecg_params_zero_grad(m.params);
 *     loss = ecg_replicas_forward_loss(&rp, x, NULL, 0, labels, n, sample0, &rng, class_weight, smoothing);
 *     ecg_replicas_backward(&rp);        m.params->grads now holds the whole batch's gradients
 *
 * Needs OpenMP (a build without it refuses R > 1): the replicas run as one OpenMP team of R threads,
 * whatever run.threads says.
 */

#define ECG_REPLICAS_MAX 16

struct ecg_replicas_sync; /* the barrier and the sum buffers (effnet_replicas.c) */

struct ecg_replicas {
    int count;                              /* R */
    struct ecg_effnet *m[ECG_REPLICAS_MAX]; /* m[0] is the caller's model; the others are owned */
    int active;                             /* replicas the last step ran on: min(R, n) */
    int64_t lo[ECG_REPLICAS_MAX + 1];       /* the last step's shards: replica r had [lo[r], lo[r + 1]) */
    float *probs;                           /* (batch, classes): the last step's probabilities */
    struct ecg_replicas_sync *sync;
};

/*
 * Replicas of training model m (not inference-only, with a head) for batches of up to `batch`
 * samples; m must be planned for ceil(batch / count) samples at least (count 1: for batch), and
 * replicas 1..count-1 are planned for that many.
 * count 1 builds nothing.  Errors: ECG_ERR_RANGE for a count outside [1, ECG_REPLICAS_MAX] or above
 * batch, ECG_ERR_USAGE when the build has no OpenMP or OpenMP cannot give count threads,
 * ECG_ERR_NOMEM.  On failure the struct is left zeroed.
 */
int ecg_replicas_init(struct ecg_replicas *rp, struct ecg_effnet *m, int count, int64_t batch,
                      struct ecg_error *err);
void ecg_replicas_free(struct ecg_replicas *rp);

/*
 * Training forward and loss of n samples (x: n x h x w x c NHWC, labels: n), 1 <= n <= batch, sample
 * 0 being sample `sample0` of the step's whole batch (masks are keyed by it); rng, class_weight and
 * smoothing as for ecg_effnet_forward and ecg_effnet_loss.  A model with context features reads
 * sample i's from row i of `context` (rows of `stride` floats; NULL without context).  Returns the
 * whole batch's loss; rp->probs holds all n rows of probabilities, and every replica's dlogits the
 * gradient of the whole batch's loss.
 */
double ecg_replicas_forward_loss(struct ecg_replicas *rp, const float *x, const float *context,
                                 int64_t stride, const int32_t *labels, int64_t n, int64_t sample0,
                                 const struct ecg_rng *rng, const float *class_weight, float smoothing);

/* Backward of the last step on every replica; m[0]'s gradients receive the sum (zero them before
 * the forward, as for ecg_effnet_backward). */
void ecg_replicas_backward(struct ecg_replicas *rp);

/* Activation and work bytes of replicas 1..R-1 (ecg_effnet_memory gives replica 0's). */
int64_t ecg_replicas_extra_bytes(const struct ecg_replicas *rp);

#endif
