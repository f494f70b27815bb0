/* Depthwise convolution (one kh x kw filter per channel), NHWC, forward and backward. */
#include <string.h>

#include "core/error.h"
#include "core/openmp.h"
#include "layers/kernel_util.h"
#include "layers/kernels.h"

/*
 * Every loop runs over contiguous channels innermost, in blocks of 32 or 16
 * floats (then a scalar tail) whose partial sums stay in vector registers
 * (ecg_v16) across the taps.  The row functions are inlined with the kernel size and
 * stride as constants for the 3x3/5x5, stride 1/2 cases.
 *
 * OpenMP:
 *   - forward: split over (image, output row); each output is computed by one
 *     thread in a fixed tap order.
 *   - backward: one pass in which every thread owns a range of channels
 *     (multiples of 16, so no two threads write one cache line when C is a
 *     multiple of 16) and walks all images and rows, producing the input
 *     gradient (gathered per input pixel) and the kernel gradient (summed per
 *     output row, then added to dkernel in row order) for its channels.
 *     Every value is summed in an order that does not depend on the thread
 *     count, so results are bit-identical for any number of threads; the
 *     parallelism is at most C/16 threads.
 */

ECG_INLINE int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }
ECG_INLINE int64_t imax(int64_t a, int64_t b) { return a > b ? a : b; }

/* ---- forward ------------------------------------------------------------------------- */

/* o[q0..q0+cb) = sum over taps i in [i0,i1), j in [j0,j1) of in[base + i*rs + j*c] * k[(i*K+j)*c];
 * cb is 32 or 16 (vector registers) or less than 16 (scalar tail). */
ECG_INLINE void fwd_block(float *restrict o, const float *restrict in, const float *restrict k, int64_t base,
                          int64_t rs, int64_t c, int64_t K, int64_t i0, int64_t i1, int64_t j0, int64_t j1,
                          int64_t q0, const int64_t cb)
{
    if (cb >= 16) {
        ecg_v16 a0 = ecg_v16_zero(), a1 = ecg_v16_zero();
        for (int64_t i = i0; i < i1; i++)
            for (int64_t j = j0; j < j1; j++) {
                const float *s = in + (base + i * rs + j * c + q0);
                const float *kk = k + ((i * K + j) * c + q0);
                a0 += ecg_v16_load(s) * ecg_v16_load(kk);
                if (cb == 32)
                    a1 += ecg_v16_load(s + 16) * ecg_v16_load(kk + 16);
            }
        ecg_v16_store(o + q0, a0);
        if (cb == 32)
            ecg_v16_store(o + q0 + 16, a1);
        return;
    }
    float acc[16];
    for (int64_t q = 0; q < cb; q++)
        acc[q] = 0.0f;
    for (int64_t i = i0; i < i1; i++)
        for (int64_t j = j0; j < j1; j++) {
            const float *s = in + (base + i * rs + j * c + q0);
            const float *kk = k + ((i * K + j) * c + q0);
            for (int64_t q = 0; q < cb; q++)
                acc[q] += s[q] * kk[q];
        }
    for (int64_t q = 0; q < cb; q++)
        o[q0 + q] = acc[q];
}

ECG_INLINE void fwd_pixel(float *restrict o, const float *restrict in, const float *restrict k, int64_t base,
                          int64_t rs, int64_t c, int64_t K, int64_t i0, int64_t i1, int64_t j0, int64_t j1)
{
    int64_t q = 0;
    for (; q + 32 <= c; q += 32)
        fwd_block(o, in, k, base, rs, c, K, i0, i1, j0, j1, q, 32);
    if (q + 16 <= c) {
        fwd_block(o, in, k, base, rs, c, K, i0, i1, j0, j1, q, 16);
        q += 16;
    }
    if (q < c)
        fwd_block(o, in, k, base, rs, c, K, i0, i1, j0, j1, q, c - q);
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
    const int64_t xa = imin((pl + S - 1) / S, g->ow);
    const int64_t xb = imax(xa, W - K + pl >= 0 ? imin((W - K + pl) / S + 1, g->ow) : 0);
    const int64_t base = b * g->h * rs + y0 * rs;
    float *orow = out + (b * g->oh + oy) * g->ow * c;
    for (int64_t ox = 0; ox < xa; ox++) {
        const int64_t x0 = ox * S - pl;
        fwd_pixel(orow + ox * c, in, k, base + x0 * c, rs, c, K, i0, i1, imax(0, -x0), imin(K, W - x0));
    }
    if (i0 == 0 && i1 == K) {
        for (int64_t ox = xa; ox < xb; ox++)
            fwd_pixel(orow + ox * c, in, k, base + (ox * S - pl) * c, rs, c, K, 0, K, 0, K);
    } else {
        for (int64_t ox = xa; ox < xb; ox++)
            fwd_pixel(orow + ox * c, in, k, base + (ox * S - pl) * c, rs, c, K, i0, i1, 0, K);
    }
    for (int64_t ox = xb; ox < g->ow; ox++) {
        const int64_t x0 = ox * S - pl;
        fwd_pixel(orow + ox * c, in, k, base + x0 * c, rs, c, K, i0, i1, imax(0, -x0), imin(K, W - x0));
    }
}

#define DW_DISPATCH(fn, ...)                       \
    do {                                           \
        if (g->kh == 3 && g->stride == 1)          \
            fn(__VA_ARGS__, 3, 1);                 \
        else if (g->kh == 3 && g->stride == 2)     \
            fn(__VA_ARGS__, 3, 2);                 \
        else if (g->kh == 5 && g->stride == 1)     \
            fn(__VA_ARGS__, 5, 1);                 \
        else if (g->kh == 5 && g->stride == 2)     \
            fn(__VA_ARGS__, 5, 2);                 \
        else                                       \
            fn(__VA_ARGS__, g->kh, g->stride);     \
    } while (0)

void ecg_dwconv_forward_ep(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g,
                           const struct ecg_epilogue *ep)
{
    ECG_ASSERT(g->kh == g->kw && g->cin == g->cout);
    const int64_t rows = g->n * g->oh, c = g->cout;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        DW_DISPATCH(fwd_row, out, in, kernel, g, r / g->oh, r % g->oh);
        if (ep) /* the row just written is still in L1 */
            for (int64_t ox = 0; ox < g->ow; ox++)
                ecg_epilogue_row(out + (r * g->ow + ox) * c, ep, 0, c);
    }
}

void ecg_dwconv_forward(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g)
{
    ecg_dwconv_forward_ep(out, in, kernel, g, NULL);
}

/* ---- backward: input gradient, gathered per input pixel ------------------------------- */

/* d[q0..q0+cb) += (or = when set) sum over taps i = i0, i0+S.. <= i1, j likewise, of
 * dout[obase + (ty-i)/S * ors + (tx-j)/S * c] * k[(i*K+j)*c]. */
ECG_INLINE void din_block(float *restrict d, const float *restrict dout, const float *restrict k, int64_t obase,
                          int64_t ors, int64_t c, int64_t K, int64_t S, int64_t ty, int64_t tx, int64_t i0,
                          int64_t i1, int64_t j0, int64_t j1, int64_t q0, const int64_t cb, bool set)
{
    if (cb >= 16) {
        ecg_v16 a0 = ecg_v16_zero(), a1 = ecg_v16_zero();
        for (int64_t i = i0; i <= i1; i += S)
            for (int64_t j = j0; j <= j1; j += S) {
                const float *s = dout + (obase + (ty - i) / S * ors + (tx - j) / S * c + q0);
                const float *kk = k + ((i * K + j) * c + q0);
                a0 += ecg_v16_load(s) * ecg_v16_load(kk);
                if (cb == 32)
                    a1 += ecg_v16_load(s + 16) * ecg_v16_load(kk + 16);
            }
        if (set) {
            ecg_v16_store(d + q0, a0);
            if (cb == 32)
                ecg_v16_store(d + q0 + 16, a1);
        } else {
            ecg_v16_store(d + q0, ecg_v16_load(d + q0) + a0);
            if (cb == 32)
                ecg_v16_store(d + q0 + 16, ecg_v16_load(d + q0 + 16) + a1);
        }
        return;
    }
    float acc[16];
    for (int64_t q = 0; q < cb; q++)
        acc[q] = 0.0f;
    for (int64_t i = i0; i <= i1; i += S)
        for (int64_t j = j0; j <= j1; j += S) {
            const float *s = dout + (obase + (ty - i) / S * ors + (tx - j) / S * c + q0);
            const float *kk = k + ((i * K + j) * c + q0);
            for (int64_t q = 0; q < cb; q++)
                acc[q] += s[q] * kk[q];
        }
    for (int64_t q = 0; q < cb; q++)
        d[q0 + q] = set ? acc[q] : d[q0 + q] + acc[q];
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

/* din row (image b, input row iy), channels [lo, hi).  With `set`, pixels that no
 * output depends on (possible only when K < S) get zeros. */
ECG_INLINE void din_row(float *din, const float *dout, const float *k, const struct ecg_conv_geom *g, int64_t b,
                        int64_t iy, int64_t lo, int64_t hi, bool set, const int64_t K, const int64_t S)
{
    const int64_t c = g->cin, ors = g->ow * c;
    const int64_t ty = iy + g->pad_top;
    float *drow = din + (b * g->h + iy) * g->w * c;
    int64_t i0, i1;
    if (!tap_range(ty, g->oh, K, S, &i0, &i1)) {
        for (int64_t ix = 0; set && ix < g->w; ix++)
            memset(drow + ix * c + lo, 0, (size_t)(hi - lo) * sizeof(float));
        return;
    }
    const int64_t obase = b * g->oh * ors;
    for (int64_t ix = 0; ix < g->w; ix++) {
        const int64_t tx = ix + g->pad_left;
        float *d = drow + ix * c;
        int64_t j0, j1;
        if (!tap_range(tx, g->ow, K, S, &j0, &j1)) {
            if (set)
                memset(d + lo, 0, (size_t)(hi - lo) * sizeof(float));
            continue;
        }
        int64_t q = lo;
        for (; q + 32 <= hi; q += 32)
            din_block(d, dout, k, obase, ors, c, K, S, ty, tx, i0, i1, j0, j1, q, 32, set);
        if (q + 16 <= hi) {
            din_block(d, dout, k, obase, ors, c, K, S, ty, tx, i0, i1, j0, j1, q, 16, set);
            q += 16;
        }
        if (q < hi)
            din_block(d, dout, k, obase, ors, c, K, S, ty, tx, i0, i1, j0, j1, q, hi - q, set);
    }
}

/* ---- backward: kernel gradient ----------------------------------------------------------- */

/* dkt[q0..q0+cb) += sum over ox in [xa, xb) of orow[ox*c] * irow[(ox*S + x0)*c]. */
ECG_INLINE void dk_block(float *restrict dkt, const float *restrict orow, const float *restrict irow, int64_t c,
                         int64_t S, int64_t x0, int64_t xa, int64_t xb, int64_t q0, const int64_t cb)
{
    if (cb >= 16) {
        ecg_v16 a0 = ecg_v16_zero(), a1 = ecg_v16_zero();
        for (int64_t ox = xa; ox < xb; ox++) {
            const float *go = orow + ox * c + q0;
            const float *x = irow + (ox * S + x0) * c + q0;
            a0 += ecg_v16_load(go) * ecg_v16_load(x);
            if (cb == 32)
                a1 += ecg_v16_load(go + 16) * ecg_v16_load(x + 16);
        }
        ecg_v16_store(dkt + q0, ecg_v16_load(dkt + q0) + a0);
        if (cb == 32)
            ecg_v16_store(dkt + q0 + 16, ecg_v16_load(dkt + q0 + 16) + a1);
        return;
    }
    float acc[16];
    for (int64_t q = 0; q < cb; q++)
        acc[q] = 0.0f;
    for (int64_t ox = xa; ox < xb; ox++) {
        const float *go = orow + ox * c + q0;
        const float *x = irow + (ox * S + x0) * c + q0;
        for (int64_t q = 0; q < cb; q++)
            acc[q] += go[q] * x[q];
    }
    for (int64_t q = 0; q < cb; q++)
        dkt[q0 + q] += acc[q];
}

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
            /* columns with 0 <= ox*S - pl + j < W */
            const int64_t xa = pl - j > 0 ? (pl - j + S - 1) / S : 0;
            const int64_t xb = imin(g->ow, W - 1 + pl - j >= 0 ? (W - 1 + pl - j) / S + 1 : 0);
            float *dkt = dk + (i * K + j) * c;
            int64_t q = lo;
            for (; q + 32 <= hi; q += 32)
                dk_block(dkt, orow, irow, c, S, j - pl, xa, xb, q, 32);
            if (q + 16 <= hi) {
                dk_block(dkt, orow, irow, c, S, j - pl, xa, xb, q, 16);
                q += 16;
            }
            if (q < hi)
                dk_block(dkt, orow, irow, c, S, j - pl, xa, xb, q, hi - q);
        }
    }
}

/* Both gradients for image b, channels [lo, hi): input rows in order, each
 * kernel-gradient row as soon as its last input row has been visited, so the
 * rows both passes touch are still in cache. */
ECG_INLINE void bwd_image(float *din, float *dk, const float *dout, const float *in, const float *k,
                          const struct ecg_conv_geom *g, int64_t b, int64_t lo, int64_t hi, bool set,
                          const int64_t K, const int64_t S)
{
    int64_t oy = 0;
    for (int64_t iy = 0; iy < g->h; iy++) {
        if (din)
            din_row(din, dout, k, g, b, iy, lo, hi, set, K, S);
        for (; dk && oy < g->oh && oy * S - g->pad_top + K - 1 <= iy; oy++)
            dk_row(dk, dout, in, g, b, oy, lo, hi, K, S);
    }
    for (; dk && oy < g->oh; oy++)
        dk_row(dk, dout, in, g, b, oy, lo, hi, K, S);
}

static void dwconv_backward(float *din, float *dkernel, const float *dout, const float *in, const float *kernel,
                            const struct ecg_conv_geom *g, bool set)
{
    ECG_ASSERT(g->kh == g->kw && g->cin == g->cout);
    if (!din && !dkernel)
        return;
#pragma omp parallel
    {
        int64_t lo, hi;
        ecg_k_split(g->cin, 16, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        for (int64_t b = 0; lo < hi && b < g->n; b++)
            DW_DISPATCH(bwd_image, din, dkernel, dout, in, kernel, g, b, lo, hi, set);
    }
}

void ecg_dwconv_backward(float *din, float *dkernel, const float *dout, const float *in,
                         const float *kernel, const struct ecg_conv_geom *g)
{
    dwconv_backward(din, dkernel, dout, in, kernel, g, false);
}

void ecg_dwconv_backward_set(float *din, float *dkernel, const float *dout, const float *in,
                             const float *kernel, const struct ecg_conv_geom *g)
{
    dwconv_backward(din, dkernel, dout, in, kernel, g, true);
}
