/* Naive double-precision reference loops for the layer kernels (tests only). */
#ifndef ECG_TESTS_LAYERS_NAIVE_H
#define ECG_TESTS_LAYERS_NAIVE_H

#include <stdint.h>

#include "layers/kernels.h"

/*
 * Straight loops over the definitions, in double, written for clarity, not
 * speed.  Outputs are OVERWRITTEN (not accumulated); a NULL gradient output
 * is skipped.  Shapes and layouts as in layers/kernels.h; the convolution
 * geometry (output size and padding) is taken from g as given.
 */

/* Dense convolution, groups = 1. */
void naive_conv2d_forward(double *out, const float *in, const float *kernel, const struct ecg_conv_geom *g);
void naive_conv2d_backward(double *din, double *dkernel, const float *dout, const float *in,
                           const float *kernel, const struct ecg_conv_geom *g);

/* Depthwise convolution, kernel (kh, kw, C). */
void naive_dwconv_forward(double *out, const float *in, const float *kernel, const struct ecg_conv_geom *g);
void naive_dwconv_backward(double *din, double *dkernel, const float *dout, const float *in,
                           const float *kernel, const struct ecg_conv_geom *g);

/* Batch norm with batch statistics (biased variance): out, mean, var (not invstd). */
void naive_bn_forward_train(double *out, double *mean, double *var, const float *in, const float *gamma,
                            const float *beta, int64_t rows, int64_t c, double eps);
/* Training backward, from the textbook formula with the batch mean and variance. */
void naive_bn_backward_train(double *din, double *dgamma, double *dbeta, const double *dout,
                             const float *in, const float *gamma, int64_t rows, int64_t c, double eps);
void naive_bn_forward_fixed(double *out, const float *in, const float *gamma, const float *beta,
                            const float *mean, const float *var, int64_t rows, int64_t c, double eps);

double naive_sigmoid(double x);
double naive_silu(double x);
double naive_silu_grad(double x);

/* out (n, c) = mean over hw of in (n, hw, c). */
void naive_gap_forward(double *out, const float *in, int64_t n, int64_t hw, int64_t c);

/* out (rows, cout) = in * kernel + bias (bias may be NULL). */
void naive_dense_forward(double *out, const float *in, const float *kernel, const float *bias, int64_t rows,
                         int64_t cin, int64_t cout);

/* CrossEntropyLoss(weight, label_smoothing) with mean reduction; dlogits (n, k) overwritten if not NULL,
 * computed by central differences of this same formula in double (step 1e-6). */
double naive_xent(double *dlogits, const float *logits, const int32_t *labels, const float *class_weight,
                  int64_t n, int64_t k, double smoothing);

#endif
