/* Global average pooling and the per-(image, channel) scale of squeeze-and-excitation. */
#include <stdbool.h>

#include "layers/kernels.h"

/* Channels summed together in double registers/stack per (image, block) task. */
#define ECG_POOL_CBLOCK 256

/* OpenMP: parallel over (image, channel block); every sum runs over HW in a
 * fixed order inside one task, so results do not depend on the thread count. */

void ecg_gap_forward(float *out, const float *in, int64_t n, int64_t hw, int64_t c)
{
    const int64_t nblk = (c + ECG_POOL_CBLOCK - 1) / ECG_POOL_CBLOCK;
#pragma omp parallel for schedule(static) if (n * hw * c >= 65536)
    for (int64_t t = 0; t < n * nblk; t++) {
        int64_t b = t / nblk, c0 = (t % nblk) * ECG_POOL_CBLOCK;
        int64_t cb = c - c0 < ECG_POOL_CBLOCK ? c - c0 : ECG_POOL_CBLOCK;
        double acc[ECG_POOL_CBLOCK];
        for (int64_t j = 0; j < cb; j++)
            acc[j] = 0.0;
        const float *src = in + b * hw * c + c0;
        for (int64_t p = 0; p < hw; p++)
            for (int64_t j = 0; j < cb; j++)
                acc[j] += src[p * c + j];
        for (int64_t j = 0; j < cb; j++)
            out[b * c + c0 + j] = (float)(acc[j] / (double)hw);
    }
}

static void gap_backward(float *din, const float *dout, int64_t n, int64_t hw, int64_t c, bool set)
{
    if (!din)
        return;
    const float inv = 1.0f / (float)hw;
#pragma omp parallel for schedule(static) if (n * hw * c >= 65536)
    for (int64_t r = 0; r < n * hw; r++) {
        const float *g = dout + (r / hw) * c;
        float *d = din + r * c;
        if (set) {
            for (int64_t j = 0; j < c; j++)
                d[j] = g[j] * inv;
        } else {
            for (int64_t j = 0; j < c; j++)
                d[j] += g[j] * inv;
        }
    }
}

void ecg_gap_backward(float *din, const float *dout, int64_t n, int64_t hw, int64_t c)
{
    gap_backward(din, dout, n, hw, c, false);
}

void ecg_gap_backward_set(float *din, const float *dout, int64_t n, int64_t hw, int64_t c)
{
    gap_backward(din, dout, n, hw, c, true);
}

void ecg_channel_scale_forward(float *out, const float *in, const float *scale, int64_t n, int64_t hw,
                               int64_t c)
{
#pragma omp parallel for schedule(static) if (n * hw * c >= 65536)
    for (int64_t r = 0; r < n * hw; r++) {
        const float *s = scale + (r / hw) * c;
        const float *x = in + r * c;
        float *o = out + r * c;
        for (int64_t j = 0; j < c; j++)
            o[j] = x[j] * s[j];
    }
}

static void channel_scale_backward(float *din, float *dscale, const float *dout, const float *in,
                                   const float *scale, int64_t n, int64_t hw, int64_t c, bool set)
{
    if (!din && !dscale)
        return;
    const int64_t nblk = (c + ECG_POOL_CBLOCK - 1) / ECG_POOL_CBLOCK;
#pragma omp parallel for schedule(static) if (n * hw * c >= 65536)
    for (int64_t t = 0; t < n * nblk; t++) {
        int64_t b = t / nblk, c0 = (t % nblk) * ECG_POOL_CBLOCK;
        int64_t cb = c - c0 < ECG_POOL_CBLOCK ? c - c0 : ECG_POOL_CBLOCK;
        const int64_t off = b * hw * c + c0;
        const float *s = scale + b * c + c0;
        if (din) {
            for (int64_t p = 0; p < hw; p++) {
                const float *g = dout + off + p * c;
                float *d = din + off + p * c;
                if (set) {
                    for (int64_t j = 0; j < cb; j++)
                        d[j] = g[j] * s[j];
                } else {
                    for (int64_t j = 0; j < cb; j++)
                        d[j] += g[j] * s[j];
                }
            }
        }
        if (dscale) {
            double acc[ECG_POOL_CBLOCK];
            for (int64_t j = 0; j < cb; j++)
                acc[j] = 0.0;
            for (int64_t p = 0; p < hw; p++) {
                const float *g = dout + off + p * c;
                const float *x = in + off + p * c;
                for (int64_t j = 0; j < cb; j++)
                    acc[j] += (double)g[j] * (double)x[j];
            }
            for (int64_t j = 0; j < cb; j++)
                dscale[b * c + c0 + j] += (float)acc[j];
        }
    }
}

void ecg_channel_scale_backward(float *din, float *dscale, const float *dout, const float *in,
                                const float *scale, int64_t n, int64_t hw, int64_t c)
{
    channel_scale_backward(din, dscale, dout, in, scale, n, hw, c, false);
}

void ecg_channel_scale_backward_set(float *din, float *dscale, const float *dout, const float *in,
                                    const float *scale, int64_t n, int64_t hw, int64_t c)
{
    channel_scale_backward(din, dscale, dout, in, scale, n, hw, c, true);
}
