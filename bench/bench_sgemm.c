/* Times OpenBLAS sgemm at the GEMM shapes of an EfficientNet-B0 training step, and a square peak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/log.h"

/*
 * Usage: bench_sgemm [--height H] [--width W] [--batch B] [--threads N] [--reps R]
 *
 * The 1x1 convolutions of B0 (expand, project, top) are one GEMM each:
 * forward (M x K)(K x N), kernel gradient (K x M)(M x N) and input gradient
 * (M x N)(N x K)^T with M = batch * H * W of the block.  They take most of a
 * training step's arithmetic, so their summed time at a given input shape is
 * what decides which OpenBLAS kernel set (OPENBLAS_CORETYPE, read when the
 * library loads) is fastest for ecgtrain.  Prints the core OpenBLAS runs,
 * the best of R timings of all shapes together in GFLOP/s, and a 1024^3
 * square sgemm as the peak.
 */

char *openblas_get_corename(void);

struct gemm {
    int64_t m, n, k;
};

/* B0 stages: expansion, stride, output channels, repeats (the stem has stride 2 and 32 channels). */
static const int64_t b0_stages[7][4] = {{1, 1, 16, 1},  {6, 2, 24, 2},  {6, 2, 40, 2}, {6, 2, 80, 3},
                                        {6, 1, 112, 3}, {6, 2, 192, 4}, {6, 1, 320, 1}};

/* Appends the forward GEMMs of B0's 1x1 convolutions at input h x w; returns the count. */
static int b0_gemms(struct gemm *g, int64_t batch, int64_t h, int64_t w)
{
    int count = 0;
    int64_t c = 32;
    h = (h + 1) / 2;
    w = (w + 1) / 2;
    for (int s = 0; s < 7; s++)
        for (int64_t r = 0; r < b0_stages[s][3]; r++) {
            int64_t e = b0_stages[s][0], stride = r == 0 ? b0_stages[s][1] : 1, cout = b0_stages[s][2];
            if (e != 1)
                g[count++] = (struct gemm){batch * h * w, c * e, c};
            h = (h + stride - 1) / stride;
            w = (w + stride - 1) / stride;
            g[count++] = (struct gemm){batch * h * w, cout, c * e};
            c = cout;
        }
    g[count++] = (struct gemm){batch * h * w, 1280, c};
    return count;
}

static double time_gemms(const struct gemm *g, int count, float *a, float *b, float *c, int reps,
                         double *flops)
{
    double best = 1e30;
    for (int rep = 0; rep < reps + 1; rep++) {
        double t0 = ecg_now(), f = 0.0;
        for (int i = 0; i < count; i++) {
            int64_t m = g[i].m, n = g[i].n, k = g[i].k;
            ecg_sgemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n); /* forward */
            ecg_sgemm(true, false, k, n, m, 1.0f, a, k, c, n, 1.0f, b, n);  /* kernel gradient */
            ecg_sgemm(false, true, m, k, n, 1.0f, c, n, b, n, 0.0f, a, k);  /* input gradient */
            f += 6.0 * (double)m * (double)n * (double)k;
        }
        double dt = ecg_now() - t0;
        if (rep > 0 && dt < best) /* the first run warms up */
            best = dt;
        *flops = f;
    }
    return best;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    int64_t h = 224, w = 224, batch = 16;
    int threads = 2, reps = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        long long v = atoll(argv[i + 1]);
        if (v < 1) {
            fprintf(stderr, "bench_sgemm: %s: expected a positive integer, found '%s'\n", argv[i],
                    argv[i + 1]);
            return 2;
        }
        if (!strcmp(argv[i], "--height"))
            h = v;
        else if (!strcmp(argv[i], "--width"))
            w = v;
        else if (!strcmp(argv[i], "--batch"))
            batch = v;
        else if (!strcmp(argv[i], "--threads"))
            threads = (int)v;
        else if (!strcmp(argv[i], "--reps"))
            reps = (int)v;
        else {
            fprintf(stderr, "bench_sgemm: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    ecg_threads_set(threads);
    struct gemm g[64];
    int count = b0_gemms(g, batch, h, w);
    int64_t big = 1024 * 1024;
    for (int i = 0; i < count; i++) {
        int64_t mk = g[i].m * g[i].k, mn = g[i].m * g[i].n;
        big = mk > big ? mk : big;
        big = mn > big ? mn : big;
    }
    float *a = malloc((size_t)big * sizeof(float)), *b = malloc((size_t)big * sizeof(float));
    float *c = malloc((size_t)big * sizeof(float));
    if (!a || !b || !c) {
        fprintf(stderr, "bench_sgemm: out of memory\n");
        return 1;
    }
    for (int64_t i = 0; i < big; i++) {
        a[i] = (float)(i % 7) * 0.01f;
        b[i] = (float)(i % 5) * 0.01f;
        c[i] = 0.0f;
    }
    double flops;
    double t = time_gemms(g, count, a, b, c, reps, &flops);
    struct gemm sq = {1024, 1024, 1024};
    double sqflops;
    double tsq = time_gemms(&sq, 1, a, b, c, reps, &sqflops);
    printf("core=%s threads=%d b0 %lldx%lld batch %lld: %d gemm shapes x 3, %.3f s, %.1f GFLOP/s; "
           "1024^3: %.1f GFLOP/s\n",
           openblas_get_corename(), threads, (long long)h, (long long)w, (long long)batch, count, t,
           flops / t * 1e-9, sqflops / tsq * 1e-9);
    free(a);
    free(b);
    free(c);
    return 0;
}
