/* Elementwise activations: SiLU (swish) and sigmoid, forward and backward. */
#include "layers/kernel_util.h"
#include "layers/kernels.h"

/* Elements below which a loop is not worth waking threads for. */
#define ECG_ACT_PAR_MIN 32768

void ecg_silu_forward(float *out, const float *in, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float x = in[i];
        out[i] = x * ecg_k_sigmoidf(x);
    }
}

/* din (+)= dout * silu'(in); `set` overwrites instead of accumulating. */
static void silu_backward(float *din, const float *dout, const float *in, int64_t n, bool set)
{
    if (!din)
        return;
    if (set) {
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            din[i] = dout[i] * ecg_k_silu_grad(in[i]);
    } else {
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            din[i] += dout[i] * ecg_k_silu_grad(in[i]);
    }
}

void ecg_silu_backward(float *din, const float *dout, const float *in, int64_t n)
{
    silu_backward(din, dout, in, n, false);
}

void ecg_silu_backward_set(float *din, const float *dout, const float *in, int64_t n)
{
    silu_backward(din, dout, in, n, true);
}

void ecg_sigmoid_forward(float *out, const float *in, int64_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        out[i] = ecg_k_sigmoidf(in[i]);
}

static void sigmoid_backward(float *din, const float *dout, const float *out, int64_t n, bool set)
{
    if (!din)
        return;
    if (set) {
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            din[i] = dout[i] * out[i] * (1.0f - out[i]);
    } else {
#pragma omp parallel for simd schedule(static) if (n >= ECG_ACT_PAR_MIN)
        for (int64_t i = 0; i < n; i++)
            din[i] += dout[i] * out[i] * (1.0f - out[i]);
    }
}

void ecg_sigmoid_backward(float *din, const float *dout, const float *out, int64_t n)
{
    sigmoid_backward(din, dout, out, n, false);
}

void ecg_sigmoid_backward_set(float *din, const float *dout, const float *out, int64_t n)
{
    sigmoid_backward(din, dout, out, n, true);
}
