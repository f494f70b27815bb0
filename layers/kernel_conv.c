/* Convolution geometry and the dense (groups = 1) convolution: im2col + GEMM, 1x1 stride 1 as one GEMM. */
#include <string.h>

#include "core/blas.h"
#include "core/error.h"
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

void ecg_conv2d_forward(float *out, const float *in, const float *kernel, const struct ecg_conv_geom *g,
                        float *scratch)
{
    const int64_t total = g->n * g->oh * g->ow, patch = g->kh * g->kw * g->cin;
    if (conv_is_pointwise(g)) {
        ecg_sgemm(false, false, total, g->cout, g->cin, 1.0f, in, g->cin, kernel, g->cout, 0.0f, out,
                  g->cout);
        return;
    }
    ECG_ASSERT(scratch != NULL);
    const int64_t chunk = conv_chunk_pixels(g);
    for (int64_t p0 = 0; p0 < total; p0 += chunk) {
        int64_t count = total - p0 < chunk ? total - p0 : chunk;
        im2col(scratch, in, g, p0, count);
        ecg_sgemm(false, false, count, g->cout, patch, 1.0f, scratch, patch, kernel, g->cout, 0.0f,
                  out + p0 * g->cout, g->cout);
    }
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
