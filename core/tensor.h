/* A float32 tensor view: data pointer plus int64 extents, in NHWC layout. */
#ifndef ECG_CORE_TENSOR_H
#define ECG_CORE_TENSOR_H

#include <stdint.h>

#include "core/arena.h"

/*
 * Layout: activations are NHWC ("channels last"), row-major, contiguous.
 * dims[0] = N (batch), dims[1] = H, dims[2] = W, dims[3] = C.  Channels are
 * the fastest-moving index, so a 1x1 convolution is one GEMM of
 * (N*H*W x Cin) by (Cin x Cout), and per-channel loops (batch norm,
 * depthwise convolution) vectorise across contiguous memory.
 *
 * Weights keep the Keras layouts, which suit NHWC compute directly:
 * convolution kernels HWIO (kh, kw, Cin, Cout), depthwise kernels
 * (kh, kw, C, 1), dense kernels (in, out).
 *
 * A tensor never owns its data: memory comes from an arena or a parameter
 * store.  Tensors of lower rank use the leading dims (a (N, C) matrix has
 * ndim 2).
 */

#define ECG_MAX_DIMS 4

struct ecg_tensor {
    float *data;
    int ndim;
    int64_t dims[ECG_MAX_DIMS];
};

/* Shape constructors (data left NULL). */
struct ecg_tensor ecg_tensor_shape4(int64_t n, int64_t h, int64_t w, int64_t c);
struct ecg_tensor ecg_tensor_shape2(int64_t rows, int64_t cols);

/* Number of elements (product of the dims); asserts on overflow. */
int64_t ecg_tensor_numel(const struct ecg_tensor *t);

/* Allocates the tensor's data from an arena (NULL while planning). */
void ecg_tensor_alloc(struct ecg_tensor *t, struct ecg_arena *a);

/* True when both tensors have the same rank and extents. */
int ecg_tensor_same_shape(const struct ecg_tensor *a, const struct ecg_tensor *b);

/* Writes "(2, 56, 56, 24)" into buf; returns buf. */
char *ecg_shape_str(char *buf, int bufsize, int ndim, const int64_t *dims);

#endif
