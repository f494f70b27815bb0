/* Pure compute kernels of EfficientNet: float pointers and sizes in, outputs first, never allocate, never fail. */
#ifndef ECG_LAYERS_KERNELS_H
#define ECG_LAYERS_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Conventions (see core/tensor.h):
 *   - activations NHWC, contiguous; `rows` = N*H*W for per-channel kernels;
 *   - convolution kernels HWIO (kh, kw, Cin, Cout); depthwise kernels
 *     (kh, kw, C) (Keras' (kh, kw, C, 1)); dense kernels (in, out);
 *   - backward kernels ACCUMULATE (+=) into every gradient they write
 *     (din, dkernel, dgamma, ...), so residual branches need no extra op;
 *     a NULL gradient pointer means "not needed" and is skipped;
 *   - scratch buffers are passed in; their sizes come from *_scratch_floats;
 *   - inputs and outputs must not overlap (no in-place), except where a
 *     function says so;
 *   - programming errors (inconsistent geometry, label out of range, C over
 *     a documented bound) trip ECG_ASSERT; nothing here returns a status.
 *
 * Threads and determinism.  Kernels use OpenMP inside and call ecg_sgemm
 * (core/blas.h, OpenBLAS threads) only outside their parallel regions; call
 * them from one thread, or from the tasks of an evaluation forward
 * (layers/layer_net.c), where OpenBLAS is single-threaded and their own
 * parallel regions are nested, hence run on the calling thread.
 *   - OpenMP: conv2d's im2col, depthwise forward/backward, batch norm (all),
 *     SiLU/sigmoid, GAP, channel scale, mask (small sizes run serially);
 *   - GEMM (OpenBLAS): conv2d, dense; the loss is serial.
 * Every result is bit-identical from run to run and for any OpenMP thread
 * count: elementwise work is split by rows, and every reduction (batch-norm
 * sums, depthwise kernel gradient, GAP, channel-scale gradient) is computed
 * per channel by one thread in a fixed order (per-channel reductions give
 * at most C/8 (batch norm) or C/16 (depthwise) threads work).  GEMM results
 * follow OpenBLAS, which is deterministic for a fixed thread count.
 * Per-channel sums (batch norm statistics and gradients, GAP, channel-scale
 * gradient) accumulate in double.
 */

enum ecg_padding {
    ECG_PAD_SAME,      /* TF/Keras "same": pad total max((ceil(x/s)-1)*s + k - x, 0),
                          the smaller half before (= Keras correct_pad for stride 2) */
    ECG_PAD_SYMMETRIC, /* PyTorch/torchvision: (k-1)/2 on every side */
};

/* Geometry of a 2-D convolution or depthwise convolution. */
struct ecg_conv_geom {
    int64_t n, h, w, cin;  /* input  (N, H, W, Cin)  */
    int64_t oh, ow, cout;  /* output (N, OH, OW, Cout); cout == cin for depthwise */
    int64_t kh, kw, stride;
    int64_t pad_top, pad_left; /* zeros before the first row/column; the rest after */
};

/* Fills g from the input shape, kernel size, stride and padding mode. */
void ecg_conv_geom_init(struct ecg_conv_geom *g, int64_t n, int64_t h, int64_t w, int64_t cin,
                        int64_t cout, int64_t k, int64_t stride, enum ecg_padding padding);

/* ---- epilogues and the small matrix product ------------------------------------ */

/*
 * Batch norm with fixed statistics (and SiLU) applied by the producing
 * convolution to its result while it is still in registers or cache, instead
 * of by a later pass over memory: y = (x - mean[j]) * scale[j] + shift[j],
 * then SiLU when silu.  It is exactly the float expression of
 * ecg_bn_forward_fixed and ecg_bn_silu_forward_fixed (scale from
 * ecg_bn_fold_scale, shift = beta), so a fused convolution and batch norm give
 * the same bits as the two kernels in turn.  A NULL epilogue means none.
 */
struct ecg_epilogue {
    const float *mean, *scale, *shift;
    bool silu;
};
/* scale[j] = gamma[j] / sqrt(run_var[j] + eps), as batch norm with fixed statistics computes it. */
void ecg_bn_fold_scale(float *scale, const float *gamma, const float *run_var, int64_t c, float eps);
/* x (rows, c) = ep(x) in place. */
void ecg_epilogue_apply(float *x, int64_t rows, int64_t c, const struct ecg_epilogue *ep);

/* ---- dense convolution (groups = 1) ---------------------------------------- */

/* Floats of scratch needed by conv2d forward and backward (the same buffer
 * serves both): 0 for a 1x1 stride-1 conv, which is one GEMM on the
 * activation; otherwise the im2col patches of one chunk of output pixels,
 * P x (kh*kw*Cin) floats with P = max(OW, 2^20 / (kh*kw*Cin)) capped at
 * N*OH*OW, i.e. about 4 MB (for the B0 stem: 38836 pixels x 27 floats). */
int64_t ecg_conv2d_scratch_floats(const struct ecg_conv_geom *g);
/* The part of it the forward pass needs: 0 also for the direct (stem) path. */
int64_t ecg_conv2d_forward_scratch_floats(const struct ecg_conv_geom *g);
/* out (N,OH,OW,Cout) = conv(in, kernel) ; no bias.  im2col patches are
 * ordered (kh, kw, Cin), matching the HWIO kernel read as a (kh*kw*Cin) x
 * Cout matrix.  Stems (kh*kw*Cin <= 80, Cout a multiple of 16 up to 64) run
 * forward and the kernel gradient directly, without GEMM or scratch; their
 * input gradient still uses the scratch. */
void ecg_conv2d_forward(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g,
                        float *scratch);
/* The same followed by the epilogue ep (may be NULL), fused where the output is still in cache. */
void ecg_conv2d_forward_ep(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g,
                           float *scratch, const struct ecg_epilogue *ep);
/* din += dL/din, dkernel += dL/dkernel, from dout (N,OH,OW,Cout). */
void ecg_conv2d_backward(float *din, float *dkernel, const float *dout, const float *in,
                         const float *kernel, const struct ecg_conv_geom *g, float *scratch);

/* ---- depthwise convolution --------------------------------------------------- */

/* Square kernels (kh == kw), cout == cin; 3x3 and 5x5 at stride 1 and 2 are
 * specialised, other sizes run the same code with runtime bounds. */
void ecg_dwconv_forward(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g);
/* The same with the epilogue ep (may be NULL) applied to each output row right after it is computed. */
void ecg_dwconv_forward_ep(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g,
                           const struct ecg_epilogue *ep);
void ecg_dwconv_backward(float *din, float *dkernel, const float *dout, const float *in,
                         const float *kernel, const struct ecg_conv_geom *g);

/* ---- batch normalisation over `rows` x `c` ------------------------------------ */

/* Training: batch statistics.  Writes out, and the batch mean and 1/sqrt(var+eps)
 * (biased variance) into mean[c], invstd[c] for backward. */
void ecg_bn_forward_train(float *out, float *mean, float *invstd, const float *in, const float *gamma,
                          const float *beta, int64_t rows, int64_t c, float eps);
/* The output of the last ecg_bn_forward_train (through SiLU when silu: ecg_bn_silu_forward_train)
 * again, from its input and the mean and invstd it wrote: the same bits. */
void ecg_bn_forward_saved(float *out, const float *in, const float *mean, const float *invstd,
                          const float *gamma, const float *beta, int64_t rows, int64_t c, bool silu);
/* running = (1 - momentum) * running + momentum * batch, PyTorch convention
 * (momentum 0.1 == Keras 0.99); the variance stored is the unbiased one. */
void ecg_bn_update_running(float *run_mean, float *run_var, const float *mean, const float *invstd,
                           int64_t rows, int64_t c, float eps, float momentum);
/*
 * Synchronised batch norm for data-parallel training: the statistics are those of the rows of
 * every replica together.  `sum` adds buf[0..n) over the replicas in place (every replica gets
 * the same result; core/dist.h) and is called twice per forward (the shift, then the sums) and once
 * per backward that computes din, in the same order on every replica.  Forward shifts the sums by
 * the first row of the `root` replica (exactly one replica is root), as one network shifts them by
 * its first row, and writes the rows counted over all replicas into *total_rows, which backward and
 * ecg_bn_update_running take; backward adds only this replica's share to dgamma and dbeta (the
 * parameter gradients are summed over replicas afterwards).  `set` overwrites din.
 */
struct ecg_bn_sync {
    void (*sum)(double *buf, int64_t n, void *ctx);
    void *ctx;
    bool root;
};
void ecg_bn_forward_train_sync(float *out, float *mean, float *invstd, double *total_rows, const float *in,
                               const float *gamma, const float *beta, int64_t rows, int64_t c, float eps,
                               bool with_silu, const struct ecg_bn_sync *sync);
void ecg_bn_backward_train_sync(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                                const float *mean, const float *invstd, const float *gamma, const float *beta,
                                int64_t rows, int64_t c, bool with_silu, bool set, const struct ecg_bn_sync *sync,
                                double total_rows);
/* Inference and frozen statistics: out = (in - mean) / sqrt(var + eps) * gamma + beta. */
void ecg_bn_forward_fixed(float *out, const float *in, const float *gamma, const float *beta,
                          const float *run_mean, const float *run_var, int64_t rows, int64_t c, float eps);
void ecg_bn_backward_train(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                           const float *mean, const float *invstd, const float *gamma, int64_t rows,
                           int64_t c);
void ecg_bn_backward_fixed(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                           const float *gamma, const float *run_mean, const float *run_var,
                           int64_t rows, int64_t c, float eps);

/*
 * Batch norm fused with SiLU: out = silu(bn(in)) in one pass, without
 * storing bn(in).  Backward takes dout = dL/d(silu output) and recomputes
 * bn(in) from `in` and the statistics, so the layer saves only `in` (and
 * mean/invstd in training).  Same arguments and accumulation as above, plus
 * beta, which the SiLU derivative needs.
 */
void ecg_bn_silu_forward_train(float *out, float *mean, float *invstd, const float *in, const float *gamma,
                               const float *beta, int64_t rows, int64_t c, float eps);
void ecg_bn_silu_forward_fixed(float *out, const float *in, const float *gamma, const float *beta,
                               const float *run_mean, const float *run_var, int64_t rows, int64_t c,
                               float eps);
void ecg_bn_silu_backward_train(float *din, float *dgamma, float *dbeta, const float *dout,
                                const float *in, const float *mean, const float *invstd, const float *gamma,
                                const float *beta, int64_t rows, int64_t c);
void ecg_bn_silu_backward_fixed(float *din, float *dgamma, float *dbeta, const float *dout,
                                const float *in, const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var, int64_t rows, int64_t c,
                                float eps);

/* ---- elementwise ------------------------------------------------------------------ */

void ecg_silu_forward(float *out, const float *in, int64_t n);
void ecg_silu_backward(float *din, const float *dout, const float *in, int64_t n);
void ecg_sigmoid_forward(float *out, const float *in, int64_t n);
/* Uses the forward output y: din += dout * y * (1 - y). */
void ecg_sigmoid_backward(float *din, const float *dout, const float *out, int64_t n);

/* ---- pooling, squeeze-excite pieces ------------------------------------------------- */

/* out (N, C) = mean over H*W of in (N, HW, C). */
void ecg_gap_forward(float *out, const float *in, int64_t n, int64_t hw, int64_t c);
void ecg_gap_backward(float *din, const float *dout, int64_t n, int64_t hw, int64_t c);
/* out (N,HW,C) = in (N,HW,C) * scale (N,C) broadcast over HW. */
void ecg_channel_scale_forward(float *out, const float *in, const float *scale, int64_t n, int64_t hw,
                               int64_t c);
void ecg_channel_scale_backward(float *din, float *dscale, const float *dout, const float *in,
                                const float *scale, int64_t n, int64_t hw, int64_t c);

/* ---- dense (fully connected) --------------------------------------------------------- */

/* out (rows, cout) = in (rows, cin) * kernel (cin, cout) + bias (may be NULL). */
void ecg_dense_forward(float *out, const float *in, const float *kernel, const float *bias, int64_t rows,
                       int64_t cin, int64_t cout);
void ecg_dense_backward(float *din, float *dkernel, float *dbias, const float *dout, const float *in,
                        const float *kernel, int64_t rows, int64_t cin, int64_t cout);

/* ---- regularisation ------------------------------------------------------------------ */

/* Dropout with a precomputed keep mask (1/keep_prob or 0 per element): out = in * mask. */
void ecg_mask_forward(float *out, const float *in, const float *mask, int64_t n);
void ecg_mask_backward(float *din, const float *dout, const float *mask, int64_t n);

/* ---- loss ------------------------------------------------------------------------------ */

/*
 * Softmax cross-entropy with label smoothing and optional per-class weights,
 * exactly torch.nn.CrossEntropyLoss(weight=w, label_smoothing=s) with mean
 * reduction.  logits (n, k); labels in [0, k); class_weight (k) or NULL
 * (all ones).  With log-probabilities lp = log_softmax(logits):
 *   loss = sum_i [(1-s) w[y_i] (-lp[i][y_i]) + (s/k) sum_j w[j] (-lp[i][j])]
 *          / sum_i w[y_i]
 * (without weights: the mean over i of the cross-entropy against the target
 * (1-s) onehot + s/k).  Writes probs (n, k); returns the loss;
 * dlogits += dL/dlogits (may be NULL).  When sum_i w[y_i] is not positive
 * the loss is undefined: returns NaN and leaves probs and dlogits untouched
 * (callers that accept user weights should reject non-positive ones).
 */
double ecg_softmax_xent(float *probs, float *dlogits, const float *logits, const int32_t *labels,
                        const float *class_weight, int64_t n, int64_t k, float smoothing);

/* ---- overwrite variants -----------------------------------------------------------------
 *
 * Each *_set function is its namesake above except that the INPUT gradient
 * is overwritten (din = dL/din) instead of accumulated: din need not be
 * initialised, which saves zeroing it and reading it back (two passes over
 * the tensor, for the memory-bound kernels a third or more of their time).
 * Parameter gradients (dkernel, dbias, dgamma, dbeta, dscale) still
 * accumulate.  A NULL din is still skipped.  Use them when this kernel is
 * the only writer of din (not for a branch of a residual sum).
 */
void ecg_conv2d_backward_set(float *din, float *dkernel, const float *dout, const float *in,
                             const float *kernel, const struct ecg_conv_geom *g, float *scratch);
void ecg_dwconv_backward_set(float *din, float *dkernel, const float *dout, const float *in,
                             const float *kernel, const struct ecg_conv_geom *g);
void ecg_bn_backward_train_set(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                               const float *mean, const float *invstd, const float *gamma, int64_t rows,
                               int64_t c);
void ecg_bn_backward_fixed_set(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                               const float *gamma, const float *run_mean, const float *run_var,
                               int64_t rows, int64_t c, float eps);
void ecg_bn_silu_backward_train_set(float *din, float *dgamma, float *dbeta, const float *dout,
                                    const float *in, const float *mean, const float *invstd,
                                    const float *gamma, const float *beta, int64_t rows, int64_t c);
void ecg_bn_silu_backward_fixed_set(float *din, float *dgamma, float *dbeta, const float *dout,
                                    const float *in, const float *gamma, const float *beta,
                                    const float *run_mean, const float *run_var, int64_t rows, int64_t c,
                                    float eps);
void ecg_silu_backward_set(float *din, const float *dout, const float *in, int64_t n);
void ecg_sigmoid_backward_set(float *din, const float *dout, const float *out, int64_t n);
void ecg_gap_backward_set(float *din, const float *dout, int64_t n, int64_t hw, int64_t c);
void ecg_channel_scale_backward_set(float *din, float *dscale, const float *dout, const float *in,
                                    const float *scale, int64_t n, int64_t hw, int64_t c);
void ecg_dense_backward_set(float *din, float *dkernel, float *dbias, const float *dout, const float *in,
                            const float *kernel, int64_t rows, int64_t cin, int64_t cout);
void ecg_mask_backward_set(float *din, const float *dout, const float *mask, int64_t n);

#endif
