/* Data-parallel training steps: each rank's shard of every batch, gradient sums, synchronised BN, replica state. */
#ifndef ECG_TRAIN_DATA_PARALLEL_H
#define ECG_TRAIN_DATA_PARALLEL_H

#include <stdbool.h>
#include <stdint.h>

#include "train/config.h"
#include "core/error.h"
#include "data/loader.h"
#include "layers/effnet.h"
#include "optim/ema.h"
#include "optim/optim.h"

/*
 * N ranks (core/dist.h) compute what one process computes with the same
 * global batch: batch b of epoch e is the single-process batch, each rank
 * prepares a contiguous shard of it (the loader's shard option), masks are
 * keyed by the sample's index in the whole batch (net.sample0), the loss is
 * normalised by the class-weight total of the whole batch, batch norm counts
 * every rank's rows (model.sync_bn), and the parameter gradients are summed
 * over ranks before the (replicated) optimizer step.  With one rank every
 * function here is the single-process code path, bit for bit.
 */
struct ecg_dp {
    int rank, size;
    int k;                      /* classes */
    struct ecg_bn_sync bn_sync; /* handed to the network when model.sync_bn */
    bool sync_bn;
    double *buf;                /* the step's sums: weight, weighted loss, samples, stop, k*k confusion */
    /* seconds this rank spent, over the run: in gradient sums, in batch-norm sums, and waiting for
     * the others at the step's agreement (the loss sums before backward: imbalance shows there) */
    double t_grad, t_bn, t_wait;
    double t_train; /* training seconds (the trainer adds each step's) */
};

/* Shards a training loader's batches over the ranks. */
void ecg_dp_shard_loader(struct ecg_loader_opts *lo);

/*
 * Prepares data parallelism for model m with k classes trained from loader L:
 * checks that every batch gives each rank at least one sample (train.batch_size
 * against the rank count), hands the network the BN synchronisation when
 * model.sync_bn, and sets the collectives' timeout (run.dist_timeout).
 */
int ecg_dp_init(struct ecg_dp *dp, const struct ecg_config *c, struct ecg_effnet *m, const struct ecg_loader *L,
                int k, struct ecg_error *err);
void ecg_dp_free(struct ecg_dp *dp);

/*
 * The loss of the step over the whole batch, from `shard_loss`, this rank's
 * loss of its shard b (plain or mixed, after forward and the loss kernel): scales m->dlogits so that the gradients summed over ranks are
 * those of the whole batch, adds the whole batch's samples, loss times
 * samples and confusion counts (k x k, truth-major) to *seen, *loss_sum and
 * cm, and tells in *stop whether any rank asked to stop (stop_here is this
 * rank's request).  Returns the whole batch's loss.
 */
double ecg_dp_loss(struct ecg_dp *dp, struct ecg_effnet *m, const struct ecg_batch *b, const float *class_weight,
                   double shard_loss, bool stop_here, bool *stop, double *loss_sum, int64_t *seen, int64_t *cm);

/* Sums the gradients over ranks (the trainable part of the flat buffer). */
void ecg_dp_sum_grads(struct ecg_dp *dp, struct ecg_params *p);

/*
 * Makes every rank hold rank 0's weights, optimizer state and EMA: at the
 * start (after a resume) and after each epoch, since MPI does not promise
 * bit-identical sums on every rank.  With per-rank batch norm (sync_bn
 * false) the running statistics are first averaged over the ranks.
 */
void ecg_dp_sync_replicas(struct ecg_dp *dp, struct ecg_params *p, struct ecg_optim *opt, struct ecg_ema *ema);

/* Whether this process shows the progress line on stderr: a terminal's, or under mpirun (which
 * hands ranks a terminal on stdout and a pipe on stderr, forwarded as it comes) rank 0's. */
bool ecg_dp_show_progress(void);

/* Logs (rank 0) where the training time went: compute, gradient sums, batch-norm sums, waiting. */
void ecg_dp_log_times(const struct ecg_dp *dp);

/* Sums evaluation results that each rank computed for its shards of the
 * batches: probs (n x k) and windows (n) per record, in place. */
void ecg_dp_sum_eval(float *probs, int64_t *windows, int64_t n, int k);

#endif
