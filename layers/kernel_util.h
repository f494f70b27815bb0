/* Private helpers shared by the kernel_*.c files: a vectorisable exp/sigmoid and thread work splits. */
#ifndef ECG_LAYERS_KERNEL_UTIL_H
#define ECG_LAYERS_KERNEL_UTIL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "layers/kernels.h"

#define ECG_INLINE static inline __attribute__((always_inline))

/* a*b + c, fused where the target has FMA (one rounding, and the compiler
 * vectorises fmaf under -fno-math-errno); plain multiply-add elsewhere. */
#ifdef __FMA__
#define ECG_FMA(a, b, c) fmaf((a), (b), (c))
#else
#define ECG_FMA(a, b, c) ((a) * (b) + (c))
#endif

/*
 * exp(x) in float without libm, so loops calling it auto-vectorise (glibc's
 * vector expf needs -ffast-math, which the project forbids).  Range reduction
 * x = n*ln2 + r with |r| <= ln2/2, Taylor polynomial to r^7 (truncation
 * error below 1e-8 relative), scaling by 2^n through the exponent bits.
 * Accurate to about 2 ulp on [-87, 87]; inputs are clamped to that range
 * (exp(-87) ~ 1.6e-38, exp(87) ~ 6.1e37, so 1/(1 + exp(x)) stays a normal
 * float).  NaN stays NaN: the clamps are comparisons that are false for NaN.
 */
ECG_INLINE float ecg_k_expf(float x)
{
    x = x > 87.0f ? 87.0f : x;
    x = x < -87.0f ? -87.0f : x;
    /* t = 1.5 * 2^23 + n exactly, n = round(x / ln2): its low mantissa bits hold n */
    const float round_magic = 12582912.0f;
    float t = x * 1.44269504088896341f + round_magic;
    float nf = t - round_magic;
    float r = ECG_FMA(nf, -0.693145751953125f, x);  /* ln2 high part, exact in float times n */
    r = ECG_FMA(nf, -1.42860682030941723e-06f, r);  /* ln2 low part */
    float p = 1.0f / 5040.0f;
    p = ECG_FMA(p, r, 1.0f / 720.0f);
    p = ECG_FMA(p, r, 1.0f / 120.0f);
    p = ECG_FMA(p, r, 1.0f / 24.0f);
    p = ECG_FMA(p, r, 1.0f / 6.0f);
    p = ECG_FMA(p, r, 0.5f);
    p = ECG_FMA(p, r, 1.0f);
    p = ECG_FMA(p, r, 1.0f);
    /* 2^n from the bits of t, in unsigned arithmetic (no float-to-int conversion,
     * which would be undefined for NaN) */
    uint32_t tb;
    memcpy(&tb, &t, sizeof(tb));
    uint32_t bits = (tb - 0x4B400000u + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof(scale));
    return p * scale;
}

/*
 * 16-float vectors (GCC/Clang vector extension): one AVX-512 register, or
 * two AVX2 registers on machines without AVX-512.  Loads and stores go
 * through memcpy, so they need no alignment and respect aliasing rules;
 * the compiler turns them into single unaligned vector moves.
 */
typedef float ecg_v16 __attribute__((vector_size(64)));

ECG_INLINE ecg_v16 ecg_v16_load(const float *p)
{
    ecg_v16 v;
    memcpy(&v, p, sizeof(v));
    return v;
}

ECG_INLINE void ecg_v16_store(float *p, ecg_v16 v) { memcpy(p, &v, sizeof(v)); }

ECG_INLINE ecg_v16 ecg_v16_zero(void) { return (ecg_v16){0}; }

/*
 * 1/a for a in [1, 1e38] without a division instruction (a vector divide
 * costs more than the whole exp): a first guess from the exponent bits
 * (relative error under 13%), then three Newton steps r <- r (2 - a r),
 * each squaring the error: about 1 ulp.  NaN stays NaN.
 */
ECG_INLINE float ecg_k_recip(float a)
{
    uint32_t bits;
    memcpy(&bits, &a, sizeof(bits));
    bits = 0x7EF311C3u - bits;
    float r;
    memcpy(&r, &bits, sizeof(r));
    r = ECG_FMA(r, ECG_FMA(-a, r, 1.0f), r); /* r + r (1 - a r) */
    r = ECG_FMA(r, ECG_FMA(-a, r, 1.0f), r);
    r = ECG_FMA(r, ECG_FMA(-a, r, 1.0f), r);
    return r;
}

/* 1 / (1 + exp(-x)); exp's clamp keeps 1 + exp(-x) within [1, 6.1e37]. */
ECG_INLINE float ecg_k_sigmoidf(float x) { return ecg_k_recip(1.0f + ecg_k_expf(-x)); }

/* d/dx of silu(x) = x * sigmoid(x): s * (1 + x * (1 - s)). */
ECG_INLINE float ecg_k_silu_grad(float x)
{
    float s = ecg_k_sigmoidf(x);
    return s * ECG_FMA(x, 1.0f - s, 1.0f);
}

/* o[j] = (x[j] - mean[j]) * scale[j] + shift[j], through SiLU when silu, for j < c: the batch-norm
 * output expression, shared by the BN kernels and the epilogues fused into the producing
 * convolutions, so that both give the same bits.  o may equal x. */
ECG_INLINE void ecg_k_affine_row(float *o, const float *x, const float *mean, const float *scale,
                                 const float *shift, int64_t c, bool silu)
{
    if (silu) {
        for (int64_t j = 0; j < c; j++) {
            float y = ECG_FMA(x[j] - mean[j], scale[j], shift[j]);
            o[j] = y * ecg_k_sigmoidf(y);
        }
    } else {
        for (int64_t j = 0; j < c; j++)
            o[j] = ECG_FMA(x[j] - mean[j], scale[j], shift[j]);
    }
}

/* Applies ep (may be NULL) in place to columns [j0, j0 + nc) of one output row o (o points at j0). */
ECG_INLINE void ecg_epilogue_row(float *o, const struct ecg_epilogue *ep, int64_t j0, int64_t nc)
{
    if (ep)
        ecg_k_affine_row(o, o, ep->mean + j0, ep->scale + j0, ep->shift + j0, nc, ep->silu);
}

/*
 * Splits [0, count) into nth nearly equal parts in units of `align` (the
 * last part takes the remainder); part tid is [*lo, *hi).  Used to give
 * each thread its own channels, so per-channel reductions are summed in an
 * order that does not depend on the thread count.
 */
ECG_INLINE void ecg_k_split(int64_t count, int64_t align, int tid, int nth, int64_t *lo, int64_t *hi)
{
    int64_t units = (count + align - 1) / align;
    int64_t u0 = units * tid / nth, u1 = units * (tid + 1) / nth;
    *lo = u0 * align < count ? u0 * align : count;
    *hi = u1 * align < count ? u1 * align : count;
}

#endif
