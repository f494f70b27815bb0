/* Elementwise activations: SiLU (swish) and sigmoid, forward and backward. */
#include "layers/kernel_util.h"
#include "layers/kernels.h"

/* Elements per OpenMP chunk: below this a loop is not worth waking threads for. */
#define ECG_ACT_PAR_MIN 32768

void ecg_silu_forward(float *out, const float *in, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float x = in[i];
        out[i] = x * ecg_k_sigmoidf(x);
    }
}

void ecg_silu_backward(float *din, const float *dout, const float *in, int64_t n)
{
    if (!din)
        return;
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float x = in[i];
        float s = ecg_k_sigmoidf(x);
        din[i] += dout[i] * (s + x * s * (1.0f - s));
    }
}

void ecg_sigmoid_forward(float *out, const float *in, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        out[i] = ecg_k_sigmoidf(in[i]);
}

void ecg_sigmoid_backward(float *din, const float *dout, const float *out, int64_t n)
{
    if (!din)
        return;
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float y = out[i];
        din[i] += dout[i] * y * (1.0f - y);
    }
}
