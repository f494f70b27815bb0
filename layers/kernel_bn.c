/* Batch normalisation over (rows, C), plain and fused with SiLU: training, fixed statistics, backward. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/openmp.h"
#include "layers/kernel_util.h"
#include "layers/kernels.h"

/*
 * OpenMP layout: per-channel sums run in a region where each thread owns a
 * contiguous range of channels and sums over every row in row order, in
 * double; the results therefore do not depend on the thread count.
 * Elementwise passes are split over rows.  Per-channel coefficients live in
 * stack arrays (at most 5 floats and 2 doubles per channel; C <= ECG_BN_MAX_C).
 */
#define ECG_BN_MAX_C 8192
#define ECG_BN_CBLOCK 256   /* channels a thread sums at once (double accumulators on the stack) */
#define ECG_BN_PAR_MIN 16384 /* elements below which threads are not used */
/* Rows summed in float before each partial sum is added to the double
 * accumulators: float arithmetic runs twice as wide, and 32-term float sums
 * lose nothing that matters next to the double total. */
#define ECG_BN_ROWCHUNK 32

/* Per-channel sums over rows of d = x - shift[c] and d^2, in double; shift is any row-like array
 * (the first row by default: it avoids cancellation in E[x^2] - E[x]^2). */
static void bn_shifted_sums(double *s1, double *s2, const float *in, const float *shift, int64_t rows, int64_t c)
{
#pragma omp parallel if (rows * c >= ECG_BN_PAR_MIN)
    {
        int64_t lo, hi;
        ecg_k_split(c, 8, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        for (int64_t c0 = lo; c0 < hi; c0 += ECG_BN_CBLOCK) {
            int64_t cb = hi - c0 < ECG_BN_CBLOCK ? hi - c0 : ECG_BN_CBLOCK;
            const float *kf = shift + c0;
            for (int64_t j = 0; j < cb; j++)
                s1[c0 + j] = s2[c0 + j] = 0.0;
            for (int64_t r0 = 0; r0 < rows; r0 += ECG_BN_ROWCHUNK) {
                const int64_t r1 = rows - r0 < ECG_BN_ROWCHUNK ? rows : r0 + ECG_BN_ROWCHUNK;
                float f1[ECG_BN_CBLOCK], f2[ECG_BN_CBLOCK];
                for (int64_t j = 0; j < cb; j++)
                    f1[j] = f2[j] = 0.0f;
                for (int64_t r = r0; r < r1; r++) {
                    const float *x = in + r * c + c0;
                    for (int64_t j = 0; j < cb; j++) {
                        float d = x[j] - kf[j];
                        f1[j] += d;
                        f2[j] = ECG_FMA(d, d, f2[j]);
                    }
                }
                for (int64_t j = 0; j < cb; j++) {
                    s1[c0 + j] += f1[j];
                    s2[c0 + j] += f2[j];
                }
            }
        }
    }
}

/* mean[c] and invstd[c] = 1/sqrt(biased var + eps) from shifted sums over `rows` rows. */
static void bn_finish_stats(float *mean, float *invstd, const double *s1, const double *s2, const float *shift,
                            double rows, int64_t c, float eps)
{
    for (int64_t j = 0; j < c; j++) {
        double m = s1[j] / rows;
        double var = s2[j] / rows - m * m;
        if (var < 0.0)
            var = 0.0;
        mean[j] = (float)((double)shift[j] + m);
        invstd[j] = (float)(1.0 / sqrt(var + (double)eps));
    }
}

/* Batch statistics over rows, or over the rows of every replica when `sync` is set;
 * *total_rows receives the rows counted.  The sums are shifted by a row of the batch, so that
 * E[x^2] - E[x]^2 does not cancel: one network takes its first row, replicas take the first
 * row of the root replica (the same row when the batch is split in order), sent through the sum. */
static void bn_stats(float *mean, float *invstd, double *total_rows, const float *in, int64_t rows, int64_t c,
                     float eps, const struct ecg_bn_sync *sync)
{
    double buf[2 * c + 1];
    float root_row[c];
    const float *shift = in;
    if (sync) {
        for (int64_t j = 0; j < c; j++)
            buf[j] = sync->root ? (double)in[j] : 0.0;
        sync->sum(buf, c, sync->ctx); /* exact: one term is not zero */
        for (int64_t j = 0; j < c; j++)
            root_row[j] = (float)buf[j];
        shift = root_row;
    }
    bn_shifted_sums(buf, buf + c, in, shift, rows, c);
    buf[2 * c] = (double)rows;
    if (sync)
        sync->sum(buf, 2 * c + 1, sync->ctx);
    *total_rows = buf[2 * c];
    bn_finish_stats(mean, invstd, buf, buf + c, shift, buf[2 * c], c, eps);
}

/* out = (in - mean[c]) * scale[c] + beta[c], optionally through SiLU; split over rows.
 * Subtracting the mean first (not in * scale + shift) keeps precision when |mean| >> std. */
static void bn_apply(float *out, const float *in, const float *mean, const float *scale, const float *beta,
                     int64_t rows, int64_t c, bool with_silu)
{
#pragma omp parallel for schedule(static) if (rows * c >= ECG_BN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++)
        ecg_k_affine_row(out + r * c, in + r * c, mean, scale, beta, c, with_silu);
}

void ecg_bn_forward_saved(float *out, const float *in, const float *mean, const float *invstd,
                          const float *gamma, const float *beta, int64_t rows, int64_t c, bool silu)
{
    ECG_ASSERT(rows >= 1 && c >= 1 && c <= ECG_BN_MAX_C);
    float scale[c];
    for (int64_t j = 0; j < c; j++)
        scale[j] = gamma[j] * invstd[j];
    bn_apply(out, in, mean, scale, beta, rows, c, silu);
}

static void bn_forward_train(float *out, float *mean, float *invstd, double *total_rows, const float *in,
                             const float *gamma, const float *beta, int64_t rows, int64_t c, float eps,
                             bool with_silu, const struct ecg_bn_sync *sync)
{
    ECG_ASSERT(rows >= 1 && c >= 1 && c <= ECG_BN_MAX_C);
    bn_stats(mean, invstd, total_rows, in, rows, c, eps, sync);
    ecg_bn_forward_saved(out, in, mean, invstd, gamma, beta, rows, c, with_silu);
}

void ecg_bn_fold_scale(float *scale, const float *gamma, const float *run_var, int64_t c, float eps)
{
    for (int64_t j = 0; j < c; j++)
        scale[j] = gamma[j] * (float)(1.0 / sqrt((double)run_var[j] + (double)eps));
}

static void bn_forward_fixed(float *out, const float *in, const float *gamma, const float *beta,
                             const float *run_mean, const float *run_var, int64_t rows, int64_t c, float eps,
                             bool with_silu)
{
    ECG_ASSERT(c >= 1 && c <= ECG_BN_MAX_C);
    float scale[c];
    ecg_bn_fold_scale(scale, gamma, run_var, c, eps);
    bn_apply(out, in, run_mean, scale, beta, rows, c, with_silu);
}

void ecg_bn_forward_train(float *out, float *mean, float *invstd, const float *in, const float *gamma,
                          const float *beta, int64_t rows, int64_t c, float eps)
{
    double total;
    bn_forward_train(out, mean, invstd, &total, in, gamma, beta, rows, c, eps, false, NULL);
}

void ecg_bn_silu_forward_train(float *out, float *mean, float *invstd, const float *in, const float *gamma,
                               const float *beta, int64_t rows, int64_t c, float eps)
{
    double total;
    bn_forward_train(out, mean, invstd, &total, in, gamma, beta, rows, c, eps, true, NULL);
}

void ecg_bn_forward_train_sync(float *out, float *mean, float *invstd, double *total_rows, const float *in,
                               const float *gamma, const float *beta, int64_t rows, int64_t c, float eps,
                               bool with_silu, const struct ecg_bn_sync *sync)
{
    bn_forward_train(out, mean, invstd, total_rows, in, gamma, beta, rows, c, eps, with_silu, sync);
}

void ecg_bn_forward_fixed(float *out, const float *in, const float *gamma, const float *beta,
                          const float *run_mean, const float *run_var, int64_t rows, int64_t c, float eps)
{
    bn_forward_fixed(out, in, gamma, beta, run_mean, run_var, rows, c, eps, false);
}

void ecg_bn_silu_forward_fixed(float *out, const float *in, const float *gamma, const float *beta,
                               const float *run_mean, const float *run_var, int64_t rows, int64_t c,
                               float eps)
{
    bn_forward_fixed(out, in, gamma, beta, run_mean, run_var, rows, c, eps, true);
}

void ecg_bn_update_running(float *run_mean, float *run_var, const float *mean, const float *invstd,
                           int64_t rows, int64_t c, float eps, float momentum)
{
    double unbias = rows > 1 ? (double)rows / (double)(rows - 1) : 1.0;
    for (int64_t j = 0; j < c; j++) {
        double is = invstd[j];
        double var = 1.0 / (is * is) - (double)eps;
        if (var < 0.0)
            var = 0.0;
        run_mean[j] = (float)((1.0 - momentum) * run_mean[j] + (double)momentum * mean[j]);
        run_var[j] = (float)((1.0 - momentum) * run_var[j] + (double)momentum * var * unbias);
    }
}

/*
 * Per-channel sums for backward: sdy[c] = sum_r g, sdyx[c] = sum_r g * (x - mean[c]),
 * where g = dout, or dout * silu'(y) with y = (x - mean) * scale + beta when fused
 * (the forward's exact float expression).
 */
static void bn_grad_sums(double *sdy, double *sdyx, float *gy_out, const float *dout, const float *in,
                         const float *mean, const float *scale, const float *beta, int64_t rows, int64_t c,
                         bool with_silu)
{
#pragma omp parallel if (rows * c >= ECG_BN_PAR_MIN)
    {
        int64_t lo, hi;
        ecg_k_split(c, 8, omp_get_thread_num(), omp_get_num_threads(), &lo, &hi);
        for (int64_t c0 = lo; c0 < hi; c0 += ECG_BN_CBLOCK) {
            int64_t cb = hi - c0 < ECG_BN_CBLOCK ? hi - c0 : ECG_BN_CBLOCK;
            double a[ECG_BN_CBLOCK], b[ECG_BN_CBLOCK];
            const float *m = mean + c0, *sc = scale + c0, *be = with_silu ? beta + c0 : NULL;
            for (int64_t j = 0; j < cb; j++)
                a[j] = b[j] = 0.0;
            for (int64_t r0 = 0; r0 < rows; r0 += ECG_BN_ROWCHUNK) {
                const int64_t r1 = rows - r0 < ECG_BN_ROWCHUNK ? rows : r0 + ECG_BN_ROWCHUNK;
                float fa[ECG_BN_CBLOCK], fb[ECG_BN_CBLOCK];
                for (int64_t j = 0; j < cb; j++)
                    fa[j] = fb[j] = 0.0f;
                for (int64_t r = r0; r < r1; r++) {
                    const float *x = in + r * c + c0;
                    const float *g = dout + r * c + c0;
                    if (with_silu && gy_out) {
                        float *gs = gy_out + r * c + c0;
                        for (int64_t j = 0; j < cb; j++) {
                            float xc = x[j] - m[j];
                            float gy = g[j] * ecg_k_silu_grad(ECG_FMA(xc, sc[j], be[j]));
                            gs[j] = gy;
                            fa[j] += gy;
                            fb[j] = ECG_FMA(gy, xc, fb[j]);
                        }
                    } else if (with_silu) {
                        for (int64_t j = 0; j < cb; j++) {
                            float xc = x[j] - m[j];
                            float gy = g[j] * ecg_k_silu_grad(ECG_FMA(xc, sc[j], be[j]));
                            fa[j] += gy;
                            fb[j] = ECG_FMA(gy, xc, fb[j]);
                        }
                    } else {
                        for (int64_t j = 0; j < cb; j++) {
                            fa[j] += g[j];
                            fb[j] = ECG_FMA(g[j], x[j] - m[j], fb[j]);
                        }
                    }
                }
                for (int64_t j = 0; j < cb; j++) {
                    a[j] += fa[j];
                    b[j] += fb[j];
                }
            }
            for (int64_t j = 0; j < cb; j++) {
                sdy[c0 + j] = a[j];
                sdyx[c0 + j] = b[j];
            }
        }
    }
}

/* din (+)= k1[c] * g + k2[c] * (x - mean[c]) + k3[c], g as in bn_grad_sums; split over rows.
 * `set` overwrites din instead of accumulating; `stored`: din already holds g (fused, set). */
static void bn_grad_apply(float *din, const float *dout, const float *in, const float *mean, const float *k1,
                          const float *k2, const float *k3, const float *scale, const float *beta,
                          int64_t rows, int64_t c, bool with_silu, bool set, bool stored)
{
#pragma omp parallel for schedule(static) if (rows * c >= ECG_BN_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        const float *x = in + r * c, *g = dout + r * c;
        float *d = din + r * c;
        if (stored) {
            for (int64_t j = 0; j < c; j++)
                d[j] = ECG_FMA(k1[j], d[j], ECG_FMA(k2[j], x[j] - mean[j], k3[j]));
        } else if (with_silu && set) {
            for (int64_t j = 0; j < c; j++) {
                float xc = x[j] - mean[j];
                float gy = g[j] * ecg_k_silu_grad(ECG_FMA(xc, scale[j], beta[j]));
                d[j] = ECG_FMA(k1[j], gy, ECG_FMA(k2[j], xc, k3[j]));
            }
        } else if (with_silu) {
            for (int64_t j = 0; j < c; j++) {
                float xc = x[j] - mean[j];
                float gy = g[j] * ecg_k_silu_grad(ECG_FMA(xc, scale[j], beta[j]));
                d[j] += ECG_FMA(k1[j], gy, ECG_FMA(k2[j], xc, k3[j]));
            }
        } else if (set) {
            for (int64_t j = 0; j < c; j++)
                d[j] = ECG_FMA(k1[j], g[j], ECG_FMA(k2[j], x[j] - mean[j], k3[j]));
        } else {
            for (int64_t j = 0; j < c; j++)
                d[j] += ECG_FMA(k1[j], g[j], ECG_FMA(k2[j], x[j] - mean[j], k3[j]));
        }
    }
}

/* `sync` (training only): the batch terms of din use the sums over every replica's rows
 * (total_rows of them), while dgamma and dbeta receive this replica's share alone, since the
 * parameter gradients are summed over replicas afterwards. */
static void bn_backward(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                        const float *mean, const float *invstd, const float *gamma, const float *beta,
                        int64_t rows, int64_t c, bool train, bool with_silu, bool set,
                        const struct ecg_bn_sync *sync, double total_rows)
{
    ECG_ASSERT(rows >= 1 && c >= 1 && c <= ECG_BN_MAX_C);
    if (!din && !dgamma && !dbeta)
        return;
    float scale[c], k1[c], k2[c], k3[c];
    double sums[2 * c];
    double *sdy = sums, *sdyx = sums + c;
    for (int64_t j = 0; j < c; j++)
        scale[j] = gamma[j] * invstd[j];
    /* Fused with SiLU into a fresh din: the sums pass leaves g = dout * silu'(y) in din, so
     * the second pass reads it instead of evaluating the sigmoid again (the same float values). */
    float *gy = with_silu && set ? din : NULL;
    bn_grad_sums(sdy, sdyx, gy, dout, in, mean, scale, beta, rows, c, with_silu);
    for (int64_t j = 0; j < c; j++) {
        if (dbeta)
            dbeta[j] += (float)sdy[j];
        if (dgamma)
            dgamma[j] += (float)(sdyx[j] * (double)invstd[j]);
    }
    double n = (double)rows;
    if (sync && train && din) {
        sync->sum(sums, 2 * c, sync->ctx);
        n = total_rows;
    }
    for (int64_t j = 0; j < c; j++) {
        double is = invstd[j];
        /* Training: din = gamma*is*(g - mean(g) - xhat*mean(g*xhat)); fixed: din = gamma*is*g. */
        double a = (double)gamma[j] * is;
        double b = train ? -a * is * is * sdyx[j] / n : 0.0;
        double cst = train ? -a * sdy[j] / n : 0.0;
        k1[j] = (float)a;
        k2[j] = (float)b;
        k3[j] = (float)cst;
    }
    if (din)
        bn_grad_apply(din, dout, in, mean, k1, k2, k3, scale, beta, rows, c, with_silu, set, gy != NULL);
}

void ecg_bn_backward_train_sync(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                                const float *mean, const float *invstd, const float *gamma, const float *beta,
                                int64_t rows, int64_t c, bool with_silu, bool set, const struct ecg_bn_sync *sync,
                                double total_rows)
{
    bn_backward(din, dgamma, dbeta, dout, in, mean, invstd, gamma, beta, rows, c, true, with_silu, set, sync,
                total_rows);
}

void ecg_bn_backward_train(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                           const float *mean, const float *invstd, const float *gamma, int64_t rows,
                           int64_t c)
{
    bn_backward(din, dgamma, dbeta, dout, in, mean, invstd, gamma, NULL, rows, c, true, false, false, NULL, 0);
}

void ecg_bn_backward_train_set(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                               const float *mean, const float *invstd, const float *gamma, int64_t rows,
                               int64_t c)
{
    bn_backward(din, dgamma, dbeta, dout, in, mean, invstd, gamma, NULL, rows, c, true, false, true, NULL, 0);
}

void ecg_bn_silu_backward_train(float *din, float *dgamma, float *dbeta, const float *dout,
                                const float *in, const float *mean, const float *invstd, const float *gamma,
                                const float *beta, int64_t rows, int64_t c)
{
    bn_backward(din, dgamma, dbeta, dout, in, mean, invstd, gamma, beta, rows, c, true, true, false, NULL, 0);
}

void ecg_bn_silu_backward_train_set(float *din, float *dgamma, float *dbeta, const float *dout,
                                    const float *in, const float *mean, const float *invstd,
                                    const float *gamma, const float *beta, int64_t rows, int64_t c)
{
    bn_backward(din, dgamma, dbeta, dout, in, mean, invstd, gamma, beta, rows, c, true, true, true, NULL, 0);
}

/* Fixed statistics: the same algebra with mean = run_mean, invstd from run_var, no batch terms. */
static void bn_backward_fixed(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                              const float *gamma, const float *beta, const float *run_mean,
                              const float *run_var, int64_t rows, int64_t c, float eps, bool with_silu,
                              bool set)
{
    ECG_ASSERT(c >= 1 && c <= ECG_BN_MAX_C);
    float invstd[c];
    for (int64_t j = 0; j < c; j++)
        invstd[j] = (float)(1.0 / sqrt((double)run_var[j] + (double)eps));
    bn_backward(din, dgamma, dbeta, dout, in, run_mean, invstd, gamma, beta, rows, c, false, with_silu, set, NULL,
                0);
}

void ecg_bn_backward_fixed(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                           const float *gamma, const float *run_mean, const float *run_var,
                           int64_t rows, int64_t c, float eps)
{
    bn_backward_fixed(din, dgamma, dbeta, dout, in, gamma, NULL, run_mean, run_var, rows, c, eps, false, false);
}

void ecg_bn_backward_fixed_set(float *din, float *dgamma, float *dbeta, const float *dout, const float *in,
                               const float *gamma, const float *run_mean, const float *run_var,
                               int64_t rows, int64_t c, float eps)
{
    bn_backward_fixed(din, dgamma, dbeta, dout, in, gamma, NULL, run_mean, run_var, rows, c, eps, false, true);
}

void ecg_bn_silu_backward_fixed(float *din, float *dgamma, float *dbeta, const float *dout,
                                const float *in, const float *gamma, const float *beta,
                                const float *run_mean, const float *run_var, int64_t rows, int64_t c,
                                float eps)
{
    bn_backward_fixed(din, dgamma, dbeta, dout, in, gamma, beta, run_mean, run_var, rows, c, eps, true, false);
}

void ecg_bn_silu_backward_fixed_set(float *din, float *dgamma, float *dbeta, const float *dout,
                                    const float *in, const float *gamma, const float *beta,
                                    const float *run_mean, const float *run_var, int64_t rows, int64_t c,
                                    float eps)
{
    bn_backward_fixed(din, dgamma, dbeta, dout, in, gamma, beta, run_mean, run_var, rows, c, eps, true, true);
}
