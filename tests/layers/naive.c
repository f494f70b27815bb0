/* Naive double-precision reference loops for the layer kernels (tests only). */
#include "tests/layers/naive.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Input offset of tap (i, j) of output pixel (b, oy, ox), or -1 in the padding. */
static int64_t tap_offset(const struct ecg_conv_geom *g, int64_t b, int64_t oy, int64_t ox, int64_t i,
                          int64_t j)
{
    int64_t y = oy * g->stride - g->pad_top + i, x = ox * g->stride - g->pad_left + j;
    if (y < 0 || y >= g->h || x < 0 || x >= g->w)
        return -1;
    return ((b * g->h + y) * g->w + x) * g->cin;
}

void naive_conv2d_forward(double *out, const float *in, const float *kernel, const struct ecg_conv_geom *g)
{
    for (int64_t b = 0; b < g->n; b++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++)
                for (int64_t o = 0; o < g->cout; o++) {
                    double s = 0.0;
                    for (int64_t i = 0; i < g->kh; i++)
                        for (int64_t j = 0; j < g->kw; j++) {
                            int64_t off = tap_offset(g, b, oy, ox, i, j);
                            if (off < 0)
                                continue;
                            for (int64_t ci = 0; ci < g->cin; ci++)
                                s += (double)in[off + ci] *
                                     kernel[((i * g->kw + j) * g->cin + ci) * g->cout + o];
                        }
                    out[((b * g->oh + oy) * g->ow + ox) * g->cout + o] = s;
                }
}

void naive_conv2d_backward(double *din, double *dkernel, const float *dout, const float *in,
                           const float *kernel, const struct ecg_conv_geom *g)
{
    if (din)
        memset(din, 0, (size_t)(g->n * g->h * g->w * g->cin) * sizeof(double));
    if (dkernel)
        memset(dkernel, 0, (size_t)(g->kh * g->kw * g->cin * g->cout) * sizeof(double));
    for (int64_t b = 0; b < g->n; b++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++)
                for (int64_t o = 0; o < g->cout; o++) {
                    double go = dout[((b * g->oh + oy) * g->ow + ox) * g->cout + o];
                    for (int64_t i = 0; i < g->kh; i++)
                        for (int64_t j = 0; j < g->kw; j++) {
                            int64_t off = tap_offset(g, b, oy, ox, i, j);
                            if (off < 0)
                                continue;
                            for (int64_t ci = 0; ci < g->cin; ci++) {
                                int64_t kidx = ((i * g->kw + j) * g->cin + ci) * g->cout + o;
                                if (din)
                                    din[off + ci] += go * kernel[kidx];
                                if (dkernel)
                                    dkernel[kidx] += go * in[off + ci];
                            }
                        }
                }
}

void naive_dwconv_forward(double *out, const float *in, const float *kernel, const struct ecg_conv_geom *g)
{
    const int64_t c = g->cin;
    for (int64_t b = 0; b < g->n; b++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++)
                for (int64_t ch = 0; ch < c; ch++) {
                    double s = 0.0;
                    for (int64_t i = 0; i < g->kh; i++)
                        for (int64_t j = 0; j < g->kw; j++) {
                            int64_t off = tap_offset(g, b, oy, ox, i, j);
                            if (off >= 0)
                                s += (double)in[off + ch] * kernel[(i * g->kw + j) * c + ch];
                        }
                    out[((b * g->oh + oy) * g->ow + ox) * c + ch] = s;
                }
}

void naive_dwconv_backward(double *din, double *dkernel, const float *dout, const float *in,
                           const float *kernel, const struct ecg_conv_geom *g)
{
    const int64_t c = g->cin;
    if (din)
        memset(din, 0, (size_t)(g->n * g->h * g->w * c) * sizeof(double));
    if (dkernel)
        memset(dkernel, 0, (size_t)(g->kh * g->kw * c) * sizeof(double));
    for (int64_t b = 0; b < g->n; b++)
        for (int64_t oy = 0; oy < g->oh; oy++)
            for (int64_t ox = 0; ox < g->ow; ox++)
                for (int64_t ch = 0; ch < c; ch++) {
                    double go = dout[((b * g->oh + oy) * g->ow + ox) * c + ch];
                    for (int64_t i = 0; i < g->kh; i++)
                        for (int64_t j = 0; j < g->kw; j++) {
                            int64_t off = tap_offset(g, b, oy, ox, i, j);
                            if (off < 0)
                                continue;
                            if (din)
                                din[off + ch] += go * kernel[(i * g->kw + j) * c + ch];
                            if (dkernel)
                                dkernel[(i * g->kw + j) * c + ch] += go * in[off + ch];
                        }
                }
}

void naive_bn_forward_train(double *out, double *mean, double *var, const float *in, const float *gamma,
                            const float *beta, int64_t rows, int64_t c, double eps)
{
    for (int64_t ch = 0; ch < c; ch++) {
        double m = 0.0, v = 0.0;
        for (int64_t r = 0; r < rows; r++)
            m += in[r * c + ch];
        m /= (double)rows;
        for (int64_t r = 0; r < rows; r++)
            v += (in[r * c + ch] - m) * (in[r * c + ch] - m);
        v /= (double)rows;
        if (mean)
            mean[ch] = m;
        if (var)
            var[ch] = v;
        for (int64_t r = 0; r < rows; r++)
            out[r * c + ch] = (in[r * c + ch] - m) / sqrt(v + eps) * gamma[ch] + beta[ch];
    }
}

void naive_bn_backward_train(double *din, double *dgamma, double *dbeta, const double *dout,
                             const float *in, const float *gamma, int64_t rows, int64_t c, double eps)
{
    for (int64_t ch = 0; ch < c; ch++) {
        double m = 0.0, v = 0.0;
        for (int64_t r = 0; r < rows; r++)
            m += in[r * c + ch];
        m /= (double)rows;
        for (int64_t r = 0; r < rows; r++)
            v += (in[r * c + ch] - m) * (in[r * c + ch] - m);
        v /= (double)rows;
        double is = 1.0 / sqrt(v + eps), sg = 0.0, sgx = 0.0;
        for (int64_t r = 0; r < rows; r++) {
            double xh = (in[r * c + ch] - m) * is;
            sg += dout[r * c + ch];
            sgx += dout[r * c + ch] * xh;
        }
        if (dgamma)
            dgamma[ch] = sgx;
        if (dbeta)
            dbeta[ch] = sg;
        if (din)
            for (int64_t r = 0; r < rows; r++) {
                double xh = (in[r * c + ch] - m) * is;
                din[r * c + ch] =
                    gamma[ch] * is / (double)rows * ((double)rows * dout[r * c + ch] - sg - xh * sgx);
            }
    }
}

void naive_bn_forward_fixed(double *out, const float *in, const float *gamma, const float *beta,
                            const float *mean, const float *var, int64_t rows, int64_t c, double eps)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t ch = 0; ch < c; ch++)
            out[r * c + ch] =
                ((double)in[r * c + ch] - mean[ch]) / sqrt((double)var[ch] + eps) * gamma[ch] + beta[ch];
}

double naive_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
double naive_silu(double x) { return x * naive_sigmoid(x); }
double naive_silu_grad(double x)
{
    double s = naive_sigmoid(x);
    return s * (1.0 + x * (1.0 - s));
}

void naive_gap_forward(double *out, const float *in, int64_t n, int64_t hw, int64_t c)
{
    for (int64_t b = 0; b < n; b++)
        for (int64_t ch = 0; ch < c; ch++) {
            double s = 0.0;
            for (int64_t p = 0; p < hw; p++)
                s += in[(b * hw + p) * c + ch];
            out[b * c + ch] = s / (double)hw;
        }
}

void naive_dense_forward(double *out, const float *in, const float *kernel, const float *bias, int64_t rows,
                         int64_t cin, int64_t cout)
{
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < cout; o++) {
            double s = bias ? bias[o] : 0.0;
            for (int64_t i = 0; i < cin; i++)
                s += (double)in[r * cin + i] * kernel[i * cout + o];
            out[r * cout + o] = s;
        }
}

/* The loss of naive_xent on double logits. */
static double xent_d(const double *z, const int32_t *labels, const float *w, int64_t n, int64_t k, double s)
{
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double mx = z[i * k];
        for (int64_t j = 1; j < k; j++)
            mx = fmax(mx, z[i * k + j]);
        double se = 0.0;
        for (int64_t j = 0; j < k; j++)
            se += exp(z[i * k + j] - mx);
        double lse = mx + log(se);
        double wy = w ? w[labels[i]] : 1.0;
        double nll = wy * (lse - z[i * k + labels[i]]);
        double smooth = 0.0;
        for (int64_t j = 0; j < k; j++)
            smooth += (w ? w[j] : 1.0) * (lse - z[i * k + j]);
        num += (1.0 - s) * nll + s / (double)k * smooth;
        den += wy;
    }
    return num / den;
}

double naive_xent(double *dlogits, const float *logits, const int32_t *labels, const float *class_weight,
                  int64_t n, int64_t k, double smoothing)
{
    double *z = calloc((size_t)(n * k), sizeof(double));
    for (int64_t i = 0; i < n * k; i++)
        z[i] = logits[i];
    double loss = xent_d(z, labels, class_weight, n, k, smoothing);
    if (dlogits) {
        const double h = 1e-6;
        for (int64_t i = 0; i < n * k; i++) {
            double z0 = z[i];
            z[i] = z0 + h;
            double lp = xent_d(z, labels, class_weight, n, k, smoothing);
            z[i] = z0 - h;
            double lm = xent_d(z, labels, class_weight, n, k, smoothing);
            z[i] = z0;
            dlogits[i] = (lp - lm) / (2.0 * h);
        }
    }
    free(z);
    return loss;
}
