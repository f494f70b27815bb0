/* Dropout and drop-connect as multiplication by a precomputed keep mask. */
#include "layers/kernels.h"

#define ECG_MASK_PAR_MIN 65536

void ecg_mask_forward(float *out, const float *in, const float *mask, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= ECG_MASK_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        out[i] = in[i] * mask[i];
}

void ecg_mask_backward(float *din, const float *dout, const float *mask, int64_t n)
{
    if (!din)
        return;
#pragma omp parallel for simd schedule(static) if (n >= ECG_MASK_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        din[i] += dout[i] * mask[i];
}

void ecg_mask_backward_set(float *din, const float *dout, const float *mask, int64_t n)
{
    if (din)
        ecg_mask_forward(din, dout, mask, n);
}
