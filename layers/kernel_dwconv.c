/* Depthwise convolution (one kh x kw filter per channel), NHWC, forward and backward. */
#include <omp.h>

#include "core/error.h"
#include "layers/kernel_util.h"
#include "layers/kernels.h"

/*
 * Every loop runs over contiguous channels innermost, in blocks of ECG_DW_CB
 * floats whose partial sums stay in vector registers across the taps.  The
 * row-level functions are inlined with the kernel size and stride as
 * constants for the common 3x3/5x5, stride 1/2 cases.
 *
 * OpenMP: forward and the input gradient are split over (image, row); each
 * output element is computed by one thread in a fixed order.  The kernel
 * gradient is split over channels (each thread owns a channel range and
 * sums over every image and row in order), so it is bit-identical for any
 * thread count.
 */
#define ECG_DW_CB 32

ECG_INLINE int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
ECG_INLINE int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

/* o[0..c) = sum over taps i in [i0,i1), j in [j0,j1) of in[base + i*rs + j*c] * k[(i*K+j)*c]. */
ECG_INLINE void fwd_pixel(float *restrict o, const float *restrict in, const float *restrict k, int64_t base,
                          int64_t rs, int64_t c, int64_t K, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    int64_t q0 = 0;
    for (; q0 + ECG_DW_CB <= c; q0 += ECG_DW_CB) {
        float acc[ECG_DW_CB];
        for (int q = 0; q < ECG_DW_CB; q++)
            acc[q] = 0.0f;
        for (int64_t i = i0; i < i1; i++)
            for (int64_t j = j0; j < j1; j++) {
                const float *s = in + (base + i * rs + j * c + q0);
                const float *kk = k + ((i * K + j) * c + q0);
                for (int q = 0; q < ECG_DW_CB; q++)
                    acc[q] += s[q] * kk[q];
            }
        for (int q = 0; q < ECG_DW_CB; q++)
            o[q0 + q] = acc[q];
    }
    if (q0 < c) {
        const int64_t cr = c - q0;
        float acc[ECG_DW_CB];
        for (int64_t q = 0; q < cr; q++)
            acc[q] = 0.0f;
        for (int64_t i = i0; i < i1; i++)
            for (int64_t j = j0; j < j1; j++) {
                const float *s = in + (base + i * rs + j * c + q0);
                const float *kk = k + ((i * K + j) * c + q0);
                for (int64_t q = 0; q < cr; q++)
                    acc[q] += s[q] * kk[q];
            }
        for (int64_t q = 0; q < cr; q++)
            o[q0 + q] = acc[q];
    }
}

/* One output row (image b, row oy).  Border columns take per-pixel tap
 * bounds; interior columns use the full kernel width. */
ECG_INLINE void fwd_row(float *out, const float *in, const float *k, const struct ecg_conv_geom *g, int64_t b,
                        int64_t oy, const int64_t K, const int64_t S)
{
    const int64_t c = g->cin, W = g->w, rs = W * c;
    const int64_t y0 = oy * S - g->pad_top;
    const int64_t i0 = imax(0, -y0), i1 = imin(K, g->h - y0);
    const int64_t pl = g->pad_left;
    /* interior: x0 = ox*S - pl >= 0 and x0 + K <= W */
    int64_t xa = imin((pl + S - 1) / S, g->ow);
    int64_t xb = W - K + pl >= 0 ? imin((W - K + pl) / S + 1, g->ow) : 0;
    if (xb < xa)
        xb = xa;
    const int64_t img = b * g->h * rs;
    float *orow = out + (b * g->oh + oy) * g->ow * c;
    const bool full_rows = i0 == 0 && i1 == K;
    for (int64_t ox = 0; ox < g->ow; ox++) {
        if (ox == xa) {
            /* interior columns */
            if (full_rows) {
                for (; ox < xb; ox++)
                    fwd_pixel(orow + ox * c, in, k, img + y0 * rs + (ox * S - pl) * c, rs, c, K, 0, K, 0,
                              K);
            } else {
                for (; ox < xb; ox++)
                    fwd_pixel(orow + ox * c, in, k, img + y0 * rs + (ox * S - pl) * c, rs, c, K, i0, i1,
                              0, K);
            }
            if (ox >= g->ow)
                break;
        }
        const int64_t x0 = ox * S - pl;
        fwd_pixel(orow + ox * c, in, k, img + y0 * rs + x0 * c, rs, c, K, i0, i1, imax(0, -x0),
                  imin(K, W - x0));
    }
}

#define DW_DISPATCH(fn, ...)                                  \
    do {                                                      \
        if (g->kh == 3 && g->stride == 1)                     \
            fn(__VA_ARGS__, 3, 1);                            \
        else if (g->kh == 3 && g->stride == 2)                \
            fn(__VA_ARGS__, 3, 2);                            \
        else if (g->kh == 5 && g->stride == 1)                \
            fn(__VA_ARGS__, 5, 1);                            \
        else if (g->kh == 5 && g->stride == 2)                \
            fn(__VA_ARGS__, 5, 2);                            \
        else                                                  \
            fn(__VA_ARGS__, g->kh, g->stride);                \
    } while (0)

void ecg_dwconv_forward(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g)
{
    ECG_ASSERT(g->kh == g->kw && g->cin == g->cout);
    const int64_t rows = g->n * g->oh;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++)
        DW_DISPATCH(fwd_row, out, in, kernel, g, r / g->oh, r % g->oh);
}

/* ---- backward: input gradient, gathered per input pixel ------------------------ */

/* d[0..c) += sum over valid taps of dout[obase + oy*ors + ox*c] * k[(i*K+j)*c], oy = (ty-i)/S, ox = (tx-j)/S. */
ECG_INLINE void din_pixel(float *restrict d, const float *restrict dout, const float *restrict k,
                          int64_t obase, int64_t ors, int64_t c, int64_t K, int64_t S, int64_t ty, int64_t tx,
                          int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    int64_t q0 = 0;
    for (; q0 < c; q0 += ECG_DW_CB) {
        const int64_t cr = imin(ECG_DW_CB, c - q0);
        float acc[ECG_DW_CB];
        if (cr == ECG_DW_CB) {
            for (int q = 0; q < ECG_DW_CB; q++)
                acc[q] = 0.0f;
            for (int64_t i = i0; i <= i1; i += S)
                for (int64_t j = j0; j <= j1; j += S) {
                    const float *s = dout + (obase + (ty - i) / S * ors + (tx - j) / S * c + q0);
                    const float *kk = k + ((i * K + j) * c + q0);
                    for (int q = 0; q < ECG_DW_CB; q++)
                        acc[q] += s[q] * kk[q];
                }
            for (int q = 0; q < ECG_DW_CB; q++)
                d[q0 + q] += acc[q];
        } else {
            for (int64_t q = 0; q < cr; q++)
                acc[q] = 0.0f;
            for (int64_t i = i0; i <= i1; i += S)
                for (int64_t j = j0; j <= j1; j += S) {
                    const float *s = dout + (obase + (ty - i) / S * ors + (tx - j) / S * c + q0);
                    const float *kk = k + ((i * K + j) * c + q0);
                    for (int64_t q = 0; q < cr; q++)
                        acc[q] += s[q] * kk[q];
                }
            for (int64_t q = 0; q < cr; q++)
                d[q0 + q] += acc[q];
        }
    }
}

/* First and last tap index t in [0, K) with (pos - t) % S == 0 and 0 <= (pos - t)/S < n_out;
 * returns false when there is none. */
ECG_INLINE bool tap_range(int64_t pos, int64_t n_out, int64_t K, int64_t S, int64_t *t0, int64_t *t1)
{
    int64_t lo = imax(0, pos - (n_out - 1) * S), hi = imin(K - 1, pos);
    if (lo > hi)
        return false;
    lo += (pos - lo) % S;
    *t0 = lo;
    *t1 = hi;
    return lo <= hi;
}

ECG_INLINE void din_row(float *din, const float *dout, const float *k, const struct ecg_conv_geom *g, int64_t b,
                        int64_t iy, const int64_t K, const int64_t S)
{
    const int64_t c = g->cin, ors = g->ow * c;
    const int64_t ty = iy + g->pad_top;
    int64_t i0, i1;
    if (!tap_range(ty, g->oh, K, S, &i0, &i1))
        return;
    const int64_t obase = b * g->oh * ors;
    float *drow = din + (b * g->h + iy) * g->w * c;
    for (int64_t ix = 0; ix < g->w; ix++) {
        const int64_t tx = ix + g->pad_left;
        int64_t j0, j1;
        if (!tap_range(tx, g->ow, K, S, &j0, &j1))
            continue;
        din_pixel(drow + ix * c, dout, k, obase, ors, c, K, S, ty, tx, i0, i1, j0, j1);
    }
}

/* ---- backward: kernel gradient over a channel range ------------------------------ */

/* dk[t*c + q] += sum over the output row (b, oy) of dout * in at tap t, channels [lo, hi). */
ECG_INLINE void dk_row(float *dk, const float *dout, const float *in, const struct ecg_conv_geom *g, int64_t b,
                       int64_t oy, int64_t lo, int64_t hi, const int64_t K, const int64_t S)
{
    const int64_t c = g->cin, W = g->w, rs = W * c;
    const int64_t y0 = oy * S - g->pad_top, pl = g->pad_left;
    const int64_t i0 = imax(0, -y0), i1 = imin(K, g->h - y0);
    const float *orow = dout + (b * g->oh + oy) * g->ow * c;
    const float *img = in + b * g->h * rs;
    for (int64_t i = i0; i < i1; i++) {
        const float *irow = img + (y0 + i) * rs;
        for (int64_t j = 0; j < K; j++) {
            /* columns: 0 <= ox*S - pl + j < W */
            int64_t xa = pl - j > 0 ? (pl - j + S - 1) / S : 0;
            int64_t xb = imin(g->ow, W - 1 + pl - j >= 0 ? (W - 1 + pl - j) / S + 1 : 0);
            float *dkt = dk + (i * K + j) * c;
            for (int64_t q0 = lo; q0 < hi; q0 += ECG_DW_CB) {
                const int64_t cr = imin(ECG_DW_CB, hi - q0);
                float acc[ECG_DW_CB];
                if (cr == ECG_DW_CB) {
                    for (int q = 0; q < ECG_DW_CB; q++)
                        acc[q] = 0.0f;
                    for (int64_t ox = xa; ox < xb; ox++) {
                        const float *go = orow + ox * c + q0;
                        const float *x = irow + (ox * S - pl + j) * c + q0;
                        for (int q = 0; q < ECG_DW_CB; q++)
                            acc[q] += go[q] * x[q];
                    }
                    for (int q = 0; q < ECG_DW_CB; q++)
                        dkt[q0 + q] += acc[q];
                } else {
                    for (int64_t q = 0; q < cr; q++)
                        acc[q] = 0.0f;
                    for (int64_t ox = xa; ox < xb; ox++) {
                        const float *go = orow + ox * c + q0;
                        const float *x = irow + (ox * S - pl + j) * c + q0;
                        for (int64_t q = 0; q < cr; q++)
                            acc[q] += go[q] * x[q];
                    }
                    for (int64_t q = 0; q < cr; q++)
                        dkt[q0 + q] += acc[q];
                }
            }
        }
    }
}

void ecg_dwconv_backward(float *din, float *dkernel, const float *dout, const float *in,
                         const float *kernel, const struct ecg_conv_geom *g)
{
    ECG_ASSERT(g->kh == g->kw && g->cin == g->cout);
    if (din) {
        const int64_t rows = g->n * g->h;
#pragma omp parallel for schedule(static)
        for (int64_t r = 0; r < rows; r++)
            DW_DISPATCH(din_row, din, dout, kernel, g, r / g->h, r % g->h);
    }
    if (dkernel) {
#pragma omp parallel
        {
            int64_t lo, hi;
            ecg_k_split(g->cin, 16, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
            if (lo < hi) {
                for (int64_t r = 0; r < g->n * g->oh; r++)
                    DW_DISPATCH(dk_row, dkernel, dout, in, g, r / g->oh, r % g->oh, lo, hi);
            }
        }
    }
}
