/* Mixup for training batches: convex combinations of image pairs and the matching mixed cross-entropy. */
#ifndef ECG_TRAIN_MIXUP_H
#define ECG_TRAIN_MIXUP_H

#include <stdint.h>

#include "core/error.h"
#include "core/rng.h"
#include "layers/effnet.h"

/*
 * Mixup (Zhang et al. 2018) on spectrogram images, key train.mixup_alpha.
 * For a batch of n images, one lam ~ Beta(alpha, alpha) and one permutation
 * p of 0..n-1 are drawn from the caller's RNG (so a step's mix depends only
 * on run.seed and the step), and image i becomes lam x_i + (1 - lam) x_p(i).
 * The loss is lam L(y) + (1 - lam) L(y_p) with L the model's cross-entropy
 * (label smoothing and class weights included); without class weights this
 * is the cross-entropy against the mixed target lam onehot(y_i) +
 * (1 - lam) onehot(y_p(i)).
 */
struct ecg_mixup {
    int64_t batch, image_size, classes;
    float lam;           /* of the last ecg_mixup_apply */
    int64_t *perm;       /* (batch) partner of each image */
    int32_t *partner;    /* (batch) label of each image's partner */
    float *copy;         /* (batch, image_size) the unmixed images */
    float *dscratch;     /* (batch, classes) one term's gradient */
};

/* Buffers for batches of up to `batch` images of image_size floats and `classes` classes. */
int ecg_mixup_init(struct ecg_mixup *mx, int64_t batch, int64_t image_size, int64_t classes, struct ecg_error *err);
void ecg_mixup_free(struct ecg_mixup *mx);

/* A draw from Beta(alpha, alpha), alpha > 0. */
double ecg_mixup_beta(struct ecg_rng *rng, double alpha);

/* Draws lam and the partners, and mixes images (n <= batch) in place. */
void ecg_mixup_apply(struct ecg_mixup *mx, float *images, const int32_t *labels, int64_t n, double alpha,
                     struct ecg_rng *rng);

/* After the forward pass of the mixed batch: the mixed loss; sets m->probs and m->dlogits. */
double ecg_mixup_loss(struct ecg_mixup *mx, struct ecg_effnet *m, const int32_t *labels, const float *class_weight,
                      float smoothing);

#endif
