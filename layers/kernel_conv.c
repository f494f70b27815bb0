/* Convolution geometry and the dense (groups = 1) convolution: im2col + GEMM, 1x1 stride 1 as one GEMM, stems direct. */
#include <string.h>

#include "core/blas.h"
#include "core/error.h"
#include "core/openmp.h"
#include "layers/kernel_util.h"
#include "layers/kernels.h"

/*
 * Scratch: the im2col matrix of one chunk of output pixels, chunk x (kh*kw*Cin)
 * floats.  Chunks run over the flattened (n, oy, ox) output index, so a chunk
 * may span images; its size targets ECG_CONV_CHUNK_FLOATS floats (4 MB, about
 * L2) but never less than one output row, so the GEMM keeps a large M.
 * Backward reuses the same buffer: first the patches for dkernel, then
 * dcol = dout * kernel^T, which col2im adds into din.
 */
#define ECG_CONV_CHUNK_FLOATS ((int64_t)1 << 20)

void ecg_conv_geom_init(struct ecg_conv_geom *g, int64_t n, int64_t h, int64_t w, int64_t cin,
                        int64_t cout, int64_t k, int64_t stride, enum ecg_padding padding)
{
    ECG_ASSERT(n >= 0 && h >= 1 && w >= 1 && cin >= 1 && cout >= 1 && k >= 1 && stride >= 1);
    memset(g, 0, sizeof(*g));
    g->n = n;
    g->h = h;
    g->w = w;
    g->cin = cin;
    g->cout = cout;
    g->kh = k;
    g->kw = k;
    g->stride = stride;
    if (padding == ECG_PAD_SAME) {
        g->oh = (h + stride - 1) / stride;
        g->ow = (w + stride - 1) / stride;
        int64_t th = (g->oh - 1) * stride + k - h;
        int64_t tw = (g->ow - 1) * stride + k - w;
        g->pad_top = th > 0 ? th / 2 : 0;
        g->pad_left = tw > 0 ? tw / 2 : 0;
    } else {
        ECG_ASSERT(padding == ECG_PAD_SYMMETRIC);
        int64_t p = (k - 1) / 2;
        ECG_ASSERT(h + 2 * p >= k && w + 2 * p >= k);
        g->oh = (h + 2 * p - k) / stride + 1;
        g->ow = (w + 2 * p - k) / stride + 1;
        g->pad_top = p;
        g->pad_left = p;
    }
}

void ecg_epilogue_apply(float *x, int64_t rows, int64_t c, const struct ecg_epilogue *ep)
{
    if (!ep)
        return;
#pragma omp parallel for schedule(static) if (rows * c >= 16384)
    for (int64_t r = 0; r < rows; r++)
        ecg_epilogue_row(x + r * c, ep, 0, c);
}

/* True when the convolution is a plain GEMM on the activation (no patches). */
static bool conv_is_pointwise(const struct ecg_conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad_top == 0 && g->pad_left == 0 &&
           g->oh == g->h && g->ow == g->w;
}

/* Output pixels per im2col chunk. */
static int64_t conv_chunk_pixels(const struct ecg_conv_geom *g)
{
    int64_t patch = g->kh * g->kw * g->cin;
    int64_t total = g->n * g->oh * g->ow;
    int64_t chunk = ECG_CONV_CHUNK_FLOATS / patch;
    if (chunk < g->ow)
        chunk = g->ow;
    if (chunk > total)
        chunk = total;
    return chunk < 1 ? 1 : chunk;
}

int64_t ecg_conv2d_scratch_floats(const struct ecg_conv_geom *g)
{
    if (conv_is_pointwise(g))
        return 0;
    return conv_chunk_pixels(g) * g->kh * g->kw * g->cin;
}

/* col (count x kh*kw*cin) = patches of output pixels [p0, p0 + count), zeros in the padding. */
static void im2col(float *col, const float *in, const struct ecg_conv_geom *g, int64_t p0,
                   int64_t count)
{
    const int64_t cin = g->cin, kw = g->kw, patch = g->kh * g->kw * g->cin;
#pragma omp parallel for schedule(static)
    for (int64_t q = 0; q < count; q++) {
        int64_t p = p0 + q;
        int64_t ox = p % g->ow, oy = (p / g->ow) % g->oh, b = p / (g->ow * g->oh);
        int64_t y0 = oy * g->stride - g->pad_top, x0 = ox * g->stride - g->pad_left;
        float *dst = col + q * patch;
        for (int64_t i = 0; i < g->kh; i++) {
            int64_t y = y0 + i;
            float *row = dst + i * kw * cin;
            if (y < 0 || y >= g->h) {
                memset(row, 0, (size_t)(kw * cin) * sizeof(float));
                continue;
            }
            const float *src = in + ((b * g->h + y) * g->w) * cin;
            for (int64_t j = 0; j < kw; j++) {
                int64_t x = x0 + j;
                if (x < 0 || x >= g->w)
                    memset(row + j * cin, 0, (size_t)cin * sizeof(float));
                else
                    memcpy(row + j * cin, src + x * cin, (size_t)cin * sizeof(float));
            }
        }
    }
}

/* din += col2im(dcol) for output pixels [p0, p0 + count).  Serial: patches overlap. */
static void col2im_add(float *din, const float *dcol, const struct ecg_conv_geom *g, int64_t p0,
                       int64_t count)
{
    const int64_t cin = g->cin, kw = g->kw, patch = g->kh * g->kw * g->cin;
    for (int64_t q = 0; q < count; q++) {
        int64_t p = p0 + q;
        int64_t ox = p % g->ow, oy = (p / g->ow) % g->oh, b = p / (g->ow * g->oh);
        int64_t y0 = oy * g->stride - g->pad_top, x0 = ox * g->stride - g->pad_left;
        const float *src = dcol + q * patch;
        for (int64_t i = 0; i < g->kh; i++) {
            int64_t y = y0 + i;
            if (y < 0 || y >= g->h)
                continue;
            float *dst = din + ((b * g->h + y) * g->w) * cin;
            for (int64_t j = 0; j < kw; j++) {
                int64_t x = x0 + j;
                if (x < 0 || x >= g->w)
                    continue;
                const float *s = src + (i * kw + j) * cin;
                float *d = dst + x * cin;
                for (int64_t c = 0; c < cin; c++)
                    d[c] += s[c];
            }
        }
    }
}


/* ---- direct path for few input taps (the stem) -----------------------------------
 *
 * With kh*kw*Cin <= ECG_CONV_DIRECT_PATCH (27 for the RGB stem, 9 for a
 * one-channel spectrogram) the GEMM is too thin for BLAS to run well, so the
 * forward pass and the kernel gradient are computed directly: the patches of
 * up to ECG_CONV_DIRECT_PX pixels of one output row are gathered on the
 * stack, and Cout (a multiple of 16, at most 64) is covered by 16-float
 * vectors.  OpenMP: forward split over output rows; kernel gradient split
 * over 16-channel blocks of Cout, each summed over all pixels in order (so
 * bit-identical for any thread count).  The input gradient (not needed for
 * a stem) still goes through im2col.
 */
#define ECG_CONV_DIRECT_PATCH 80
#define ECG_CONV_DIRECT_PX 64
#define ECG_CONV_DIRECT_TAPS 9 /* kernel-gradient taps kept in registers at once */

static bool conv_is_direct(const struct ecg_conv_geom *g)
{
    return !conv_is_pointwise(g) && g->kh * g->kw * g->cin <= ECG_CONV_DIRECT_PATCH && g->cout % 16 == 0 &&
           g->cout <= 64;
}

int64_t ecg_conv2d_forward_scratch_floats(const struct ecg_conv_geom *g)
{
    return conv_is_direct(g) ? 0 : ecg_conv2d_scratch_floats(g);
}

/* xp[q * patch + t] = patch t of output pixel (b, oy, ox0 + q), q < count; zeros in the padding.
 * One kernel row of a patch is kw*Cin contiguous input floats, copied in one go inside the image. */
static void gather_patches(float *xp, const float *in, const struct ecg_conv_geom *g, int64_t b, int64_t oy,
                           int64_t ox0, int64_t count)
{
    const int64_t cin = g->cin, kw = g->kw, patch = g->kh * g->kw * g->cin, span = kw * cin;
    const int64_t y0 = oy * g->stride - g->pad_top;
    for (int64_t i = 0; i < g->kh; i++) {
        const int64_t y = y0 + i;
        if (y < 0 || y >= g->h) {
            for (int64_t q = 0; q < count; q++)
                memset(xp + q * patch + i * span, 0, (size_t)span * sizeof(float));
            continue;
        }
        const float *row = in + (b * g->h + y) * g->w * cin;
        for (int64_t q = 0; q < count; q++) {
            const int64_t x0 = (ox0 + q) * g->stride - g->pad_left;
            float *d = xp + q * patch + i * span;
            if (x0 >= 0 && x0 + kw <= g->w) {
                const float *src = row + x0 * cin;
                for (int64_t e = 0; e < span; e++)
                    d[e] = src[e];
                continue;
            }
            for (int64_t j = 0; j < kw; j++) {
                const int64_t x = x0 + j;
                for (int64_t ci = 0; ci < cin; ci++)
                    d[j * cin + ci] = (x < 0 || x >= g->w) ? 0.0f : row[x * cin + ci];
            }
        }
    }
}

static void conv_direct_forward(float *out, const float *in, const float *kernel,
                                const struct ecg_conv_geom *g, const struct ecg_epilogue *ep)
{
    const int64_t patch = g->kh * g->kw * g->cin, cout = g->cout, nblk = cout / 16;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < g->n * g->oh; r++) {
        float xp[ECG_CONV_DIRECT_PX * ECG_CONV_DIRECT_PATCH];
        float *orow = out + r * g->ow * cout;
        for (int64_t ox0 = 0; ox0 < g->ow; ox0 += ECG_CONV_DIRECT_PX) {
            const int64_t count = g->ow - ox0 < ECG_CONV_DIRECT_PX ? g->ow - ox0 : ECG_CONV_DIRECT_PX;
            gather_patches(xp, in, g, r / g->oh, r % g->oh, ox0, count);
            int64_t q = 0;
            /* four pixels at a time share each kernel load */
            for (; q + 4 <= count; q += 4) {
                const float *x0 = xp + q * patch, *x1 = x0 + patch, *x2 = x1 + patch, *x3 = x2 + patch;
                for (int64_t blk = 0; blk < nblk; blk++) {
                    ecg_v16 a0 = ecg_v16_zero(), a1 = a0, a2 = a0, a3 = a0;
                    for (int64_t t = 0; t < patch; t++) {
                        const ecg_v16 w = ecg_v16_load(kernel + t * cout + blk * 16);
                        a0 += x0[t] * w;
                        a1 += x1[t] * w;
                        a2 += x2[t] * w;
                        a3 += x3[t] * w;
                    }
                    float *o = orow + (ox0 + q) * cout + blk * 16;
                    ecg_v16_store(o, a0);
                    ecg_v16_store(o + cout, a1);
                    ecg_v16_store(o + 2 * cout, a2);
                    ecg_v16_store(o + 3 * cout, a3);
                }
            }
            for (; q < count; q++) {
                const float *x0 = xp + q * patch;
                for (int64_t blk = 0; blk < nblk; blk++) {
                    ecg_v16 a0 = ecg_v16_zero();
                    for (int64_t t = 0; t < patch; t++)
                        a0 += x0[t] * ecg_v16_load(kernel + t * cout + blk * 16);
                    ecg_v16_store(orow + (ox0 + q) * cout + blk * 16, a0);
                }
            }
        }
        for (int64_t ox = 0; ep && ox < g->ow; ox++)
            ecg_epilogue_row(orow + ox * cout, ep, 0, cout);
    }
}

/* dk[t*cout + 16*blk ..] += sum over pixels of patch[t] * dout[pixel][16*blk ..], taps [t0, t0 + nt). */
ECG_INLINE void direct_dk_taps(float *dkernel, const float *xp, const float *grow, int64_t patch, int64_t cout,
                               int64_t count, int64_t blk, int64_t t0, const int64_t nt)
{
    ecg_v16 acc[ECG_CONV_DIRECT_TAPS];
    for (int64_t t = 0; t < nt; t++)
        acc[t] = ecg_v16_zero();
    for (int64_t q = 0; q < count; q++) {
        const ecg_v16 gv = ecg_v16_load(grow + q * cout + blk * 16);
        const float *x = xp + q * patch + t0;
        for (int64_t t = 0; t < nt; t++)
            acc[t] += x[t] * gv;
    }
    for (int64_t t = 0; t < nt; t++) {
        float *d = dkernel + (t0 + t) * cout + blk * 16;
        ecg_v16_store(d, ecg_v16_load(d) + acc[t]);
    }
}

static void conv_direct_dkernel(float *dkernel, const float *dout, const float *in, const struct ecg_conv_geom *g)
{
    const int64_t patch = g->kh * g->kw * g->cin, cout = g->cout;
#pragma omp parallel
    {
        int64_t b0, b1;
        ecg_k_split(cout / 16, 1, omp_get_thread_num(), omp_get_num_threads(), &b0, &b1);
        float xp[ECG_CONV_DIRECT_PX * ECG_CONV_DIRECT_PATCH];
        for (int64_t r = 0; b0 < b1 && r < g->n * g->oh; r++) {
            const float *grow = dout + r * g->ow * cout;
            for (int64_t ox0 = 0; ox0 < g->ow; ox0 += ECG_CONV_DIRECT_PX) {
                const int64_t count = g->ow - ox0 < ECG_CONV_DIRECT_PX ? g->ow - ox0 : ECG_CONV_DIRECT_PX;
                gather_patches(xp, in, g, r / g->oh, r % g->oh, ox0, count);
                for (int64_t blk = b0; blk < b1; blk++) {
                    int64_t t0 = 0;
                    for (; t0 + ECG_CONV_DIRECT_TAPS <= patch; t0 += ECG_CONV_DIRECT_TAPS)
                        direct_dk_taps(dkernel, xp, grow + ox0 * cout, patch, cout, count, blk, t0,
                                       ECG_CONV_DIRECT_TAPS);
                    if (t0 < patch)
                        direct_dk_taps(dkernel, xp, grow + ox0 * cout, patch, cout, count, blk, t0, patch - t0);
                }
            }
        }
    }
}

void ecg_conv2d_forward_ep(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g,
                           float *scratch, const struct ecg_epilogue *ep)
{
    const int64_t total = g->n * g->oh * g->ow, patch = g->kh * g->kw * g->cin;
    if (conv_is_pointwise(g)) {
        ecg_sgemm(false, false, total, g->cout, g->cin, 1.0f, in, g->cin, kernel, g->cout, 0.0f, out,
                  g->cout);
        ecg_epilogue_apply(out, total, g->cout, ep);
        return;
    }
    if (conv_is_direct(g)) {
        conv_direct_forward(out, in, kernel, g, ep);
        return;
    }
    ECG_ASSERT(scratch != NULL);
    const int64_t chunk = conv_chunk_pixels(g);
    for (int64_t p0 = 0; p0 < total; p0 += chunk) {
        int64_t count = total - p0 < chunk ? total - p0 : chunk;
        im2col(scratch, in, g, p0, count);
        ecg_sgemm(false, false, count, g->cout, patch, 1.0f, scratch, patch, kernel, g->cout, 0.0f,
                  out + p0 * g->cout, g->cout);
        ecg_epilogue_apply(out + p0 * g->cout, count, g->cout, ep);
    }
}

void ecg_conv2d_forward(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g,
                        float *scratch)
{
    ecg_conv2d_forward_ep(out, in, kernel, g, scratch, NULL);
}

static void conv2d_backward(float *din, float *dkernel, const float *dout, const float *in, const float *kernel,
                            const struct ecg_conv_geom *g, float *scratch, bool set)
{
    const int64_t total = g->n * g->oh * g->ow, patch = g->kh * g->kw * g->cin;
    if (conv_is_pointwise(g)) {
        if (dkernel)
            ecg_sgemm(true, false, g->cin, g->cout, total, 1.0f, in, g->cin, dout, g->cout, 1.0f,
                      dkernel, g->cout);
        if (din)
            ecg_sgemm(false, true, total, g->cin, g->cout, 1.0f, dout, g->cout, kernel, g->cout,
                      set ? 0.0f : 1.0f, din, g->cin);
        return;
    }
    if (!din && !dkernel)
        return;
    if (dkernel && conv_is_direct(g)) {
        conv_direct_dkernel(dkernel, dout, in, g);
        dkernel = NULL;
        if (!din)
            return;
    }
    if (din && set) /* col2im accumulates; padding taps and strides can leave pixels untouched */
        memset(din, 0, (size_t)(g->n * g->h * g->w * g->cin) * sizeof(float));
    ECG_ASSERT(scratch != NULL);
    const int64_t chunk = conv_chunk_pixels(g);
    for (int64_t p0 = 0; p0 < total; p0 += chunk) {
        int64_t count = total - p0 < chunk ? total - p0 : chunk;
        const float *dchunk = dout + p0 * g->cout;
        if (dkernel) {
            im2col(scratch, in, g, p0, count);
            ecg_sgemm(true, false, patch, g->cout, count, 1.0f, scratch, patch, dchunk, g->cout, 1.0f,
                      dkernel, g->cout);
        }
        if (din) {
            ecg_sgemm(false, true, count, patch, g->cout, 1.0f, dchunk, g->cout, kernel, g->cout, 0.0f,
                      scratch, patch);
            col2im_add(din, scratch, g, p0, count);
        }
    }
}

void ecg_conv2d_backward(float *din, float *dkernel, const float *dout, const float *in,
                         const float *kernel, const struct ecg_conv_geom *g, float *scratch)
{
    conv2d_backward(din, dkernel, dout, in, kernel, g, scratch, false);
}

void ecg_conv2d_backward_set(float *din, float *dkernel, const float *dout, const float *in,
                             const float *kernel, const struct ecg_conv_geom *g, float *scratch)
{
    conv2d_backward(din, dkernel, dout, in, kernel, g, scratch, true);
}
