/* EfficientNet-B0..B7: options, builder with Keras layer names, forward, loss, backward, weight init, timing
 * and memory figures. */
#ifndef ECG_LAYERS_EFFNET_H
#define ECG_LAYERS_EFFNET_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "core/params.h"
#include "core/rng.h"
#include "layers/layer.h"

/*
 * Architecture (Keras applications/efficientnet.py, identical block table in
 * torchvision): stem 3x3/2 conv -> BN -> SiLU, 16 MBConv blocks for B0 in 7
 * stages (filters scaled by the width multiplier, rounded to multiples of 8;
 * repeats scaled by the depth multiplier, rounded up), top 1x1 conv to
 * round_filters(1280) -> BN -> SiLU, global average pooling (the features),
 * dropout, dense classifier (logits; softmax lives in the loss).  With
 * context_features k > 0 the classifier reads the dropped-out features
 * followed by k context values per sample ("predictions/kernel" is then
 * (1280 + k, classes)), which the caller writes into m->context before each
 * forward.
 *
 * Parameter names are the Keras ones: "stem_conv/kernel" (3,3,Cin,32),
 * "stem_bn/{gamma,beta,moving_mean,moving_variance}",
 * "block1a_dwconv/depthwise_kernel" (3,3,32,1), "block1a_se_reduce/kernel"
 * (1,1,32,8) and "/bias", "block2a_expand_conv/kernel", "top_conv/kernel",
 * "predictions/kernel" (1280, classes) and "/bias".  Running statistics are
 * flagged ECG_PARAM_BUFFER; BN gamma/beta and biases ECG_PARAM_NO_DECAY.
 *
 * Drop-connect: block b of B (0-based, in model order) drops its residual
 * branch per sample with rate drop_connect * b / B (Keras and torchvision).
 *
 * Freezing: parameters flagged ECG_PARAM_FROZEN (ecg_params_set_flags on
 * m->params) get no gradient; layers below the lowest trainable one are
 * skipped in backward.  A BN layer whose gamma and beta are both frozen uses
 * its running statistics also in training (the Keras convention for
 * non-trainable BN), so a frozen backbone stays exactly as loaded.
 *
 * Batch: the model is planned for `batch` samples; forward may run any
 * 1 <= n <= batch samples (the last batch of an epoch) without re-planning.
 *
 * A training step:
 *     ecg_params_zero_grad(m.params);
 *     ecg_effnet_forward(&m, x, n, true, &step_rng);
 *     loss = ecg_effnet_loss(&m, labels, class_weight, smoothing);
 *     ecg_effnet_backward(&m);
 *     ... optimizer on m.params->values / m.params->grads ...
 * Inference: ecg_effnet_forward(&m, x, n, false, NULL), then m.logits or
 * m.features.  Nothing here allocates after init or can fail.
 */

#define ECG_EFFNET_ARCHS 8

struct ecg_effnet_options {
    int arch;                 /* 0..7 = B0..B7 */
    int64_t in_channels;      /* 1 for a spectrogram, 3 for RGB weights */
    int64_t num_classes;      /* 0: no head, features only */
    int64_t context_features; /* values per sample joined to the pooled features before the classifier
                                 (a beat's RR features); 0: the image alone.  Needs a head. */
    enum ecg_padding padding; /* ECG_PAD_SAME for Keras weights, ECG_PAD_SYMMETRIC for torchvision */
    float bn_eps;             /* 1e-3 Keras, 1e-5 torchvision */
    float bn_momentum;        /* PyTorch convention: running = (1 - m) running + m batch, so
                                 torchvision's 0.1 is Keras 0.9 and Keras' 0.99 is 0.01 */
    float dropout;            /* top dropout rate before the classifier */
    float drop_connect;       /* stochastic-depth base rate */
    enum ecg_bn_mode bn_mode; /* BN behaviour when training */
    bool inference_only;      /* forward only (evaluation, prediction): activations are reused,
                                 a fraction of the training memory; backward is then a bug */
};

/* Keras defaults for an arch: 3 channels, 1000 classes, SAME padding, eps 1e-3,
 * momentum 0.01 (Keras 0.99), the paper's dropout (0.2 for B0 ... 0.5 for B7),
 * drop-connect 0.2, BN train.  For torchvision weights use ECG_PAD_SYMMETRIC,
 * eps 1e-5 and momentum 0.1 (B5-B7: eps 1e-3, momentum 0.01). */
void ecg_effnet_options_default(struct ecg_effnet_options *o, int arch);

/* The paper's input resolution of an arch (224 for B0 ... 600 for B7); 0 for a bad arch. */
int64_t ecg_effnet_resolution(int arch);

struct ecg_effnet {
    struct ecg_effnet_options opt;
    struct ecg_net net;
    struct ecg_params *params; /* = &net.params: names, values, grads */
    int64_t batch, h, w;
    int64_t num_features;  /* channels of the pooled features (1280 for B0) */
    const float *features; /* (batch, num_features): pooled features of the last forward */
    const float *logits;   /* (batch, num_classes), NULL without a head */
    float *probs;          /* (batch, num_classes): softmax of the last loss */
    float *dlogits;        /* (batch, num_classes): set by ecg_effnet_loss */
    float *dfeatures;      /* (batch, num_features): backward's input when num_classes == 0 */
    float *context;        /* (batch, context_features): the caller's, read by every forward; NULL when 0 */
    int64_t n;             /* samples of the last forward */
    int blocks;            /* MBConv blocks */
};

/*
 * Builds the model for `batch` images of h x w x in_channels: plans every
 * layer, registers parameters (zero values; see ecg_effnet_init_weights),
 * allocates the arenas.  Any image size >= 1 works (the "same" and
 * symmetric paddings never shrink a side below 1).  Errors: ECG_ERR_RANGE
 * for a bad arch, channel or class count, eps, momentum, rate, batch or
 * size; ECG_ERR_NOMEM.  On failure the struct is left zeroed (freeing it
 * again is a no-op).
 */
int ecg_effnet_init(struct ecg_effnet *m, const struct ecg_effnet_options *o, int64_t batch, int64_t h,
                    int64_t w, struct ecg_error *err);

/*
 * A data-parallel replica of training model `of` for `batch` samples: the same layers, its own
 * activations and gradients, and of's parameter values, which it reads and never writes (its
 * batch norms leave the running statistics to `of`).  Valid while `of` lives; the caller keeps
 * its parameter flags (freezing) equal to of's.  layers/effnet_replicas.h runs such replicas.
 */
int ecg_effnet_init_replica(struct ecg_effnet *m, const struct ecg_effnet *of, int64_t batch, struct ecg_error *err);

/* Keras initialisers from a seed: conv and depthwise kernels
 * VarianceScaling(2, fan_out, truncated normal), dense VarianceScaling(1/3,
 * fan_out, uniform), biases 0, gamma 1, beta 0, moving mean 0, variance 1. */
void ecg_effnet_init_weights(struct ecg_effnet *m, uint64_t seed);

/*
 * Forward on x (n, h, w, in_channels) NHWC, 1 <= n <= batch.  training turns
 * on dropout, drop-connect (only when rng != NULL) and BN batch statistics
 * (per opt.bn_mode).  rng is the step's generator: masks are a pure function
 * of (rng, layer, sample), so a fixed seed gives bit-identical steps; give
 * each step its own, e.g. ecg_rng_stream(&run_rng, step_index).
 * Writes m->features and m->logits.
 */
void ecg_effnet_forward(struct ecg_effnet *m, const float *x, int64_t n, bool training,
                        const struct ecg_rng *rng);

/* Copies the context of n samples (rows of `stride` >= context_features floats, the first
 * context_features of each used) into rows first .. first + n - 1 of m->context; a no-op for a
 * model without context. */
void ecg_effnet_set_context(struct ecg_effnet *m, int64_t first, const float *values, int64_t n, int64_t stride);

/*
 * Softmax cross-entropy of the last forward's logits against labels (n) in
 * [0, classes), with label smoothing and optional class weights (classes
 * floats, NULL = 1); PyTorch's weighted-mean convention.  Writes m->probs,
 * sets m->dlogits to dL/dlogits and returns the loss.  Requires a head.
 */
double ecg_effnet_loss(struct ecg_effnet *m, const int32_t *labels, const float *class_weight,
                       float smoothing);

/* Backward of the last forward from m->dlogits (or m->dfeatures without a
 * head); accumulates into m->params->grads (zero them first). */
void ecg_effnet_backward(struct ecg_effnet *m);

/*
 * The head in evaluation mode, for Grad-CAM (infer/gradcam.c).  The top
 * activation is top_bn's output after its SiLU (Keras "top_activation"), the
 * input of the global average pooling: (n, th, tw, num_features) NHWC of the
 * last forward, valid until the next one (also in an inference-only model,
 * where no later layer reuses its buffer).
 *
 * ecg_effnet_head_backward writes dtop (n, th, tw, num_features), the
 * gradient of sum_i sum_k dlogits[i,k] * logits[i,k] with respect to the top
 * activation, through dense <- dropout (the identity in evaluation) <- global
 * average pooling; dfeatures (n, num_features) is scratch.  It touches no
 * parameter gradient and needs a head and a forward of at least n samples.
 */
const float *ecg_effnet_top_activation(const struct ecg_effnet *m, int64_t *th, int64_t *tw);
void ecg_effnet_head_backward(const struct ecg_effnet *m, const float *dlogits, int64_t n, float *dfeatures,
                              float *dtop);

/* Per-kind accumulated seconds (forward and backward), reset, and a printed table. */
void ecg_effnet_timing_reset(struct ecg_effnet *m);
void ecg_effnet_timing_print(const struct ecg_effnet *m, FILE *f);

/* Memory figures in bytes, all allocated once at init: activations and
 * saved tensors (the arena's high-water mark; what backward needs and
 * nothing more: BN+SiLU keeps only its input, SE outputs are recomputed),
 * work buffers (gradient ping-pong and convolution scratch), parameters
 * (values + grads). */
struct ecg_effnet_memory {
    int64_t activation_bytes, work_bytes, param_bytes;
};
struct ecg_effnet_memory ecg_effnet_memory(const struct ecg_effnet *m);

void ecg_effnet_free(struct ecg_effnet *m);

#endif
