/* Times each layer kernel at EfficientNet-B0 224x224 batch-16 shapes; prints ms, GB/s and GFLOP/s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/blas.h"
#include "core/openmp.h"
#include "core/rng.h"
#include "layers/kernels.h"

/*
 * Usage: bench_kernels [--threads N] [--reps R] [--batch B] [--filter TEXT]
 *
 * Each case runs twice to warm up, then R times; the median and minimum
 * wall times are shown (on a shared machine the minimum is the steadier
 * figure), the median CPU time of all threads together (not inflated by
 * other processes; equals threads x wall time when the threads are busy),
 * and, from the minimum wall time, the bandwidth of the minimum memory traffic (every tensor read or
 * written once; accumulated gradients count twice) and the arithmetic rate
 * (2 flops per multiply-add).  The memory-bound kernels (depthwise, batch
 * norm, elementwise) should approach the machine's stream bandwidth; GEMM
 * kernels its sgemm peak.
 *
 * Two environment variables matter a lot and must be set before the
 * program starts (both libraries read them when they load):
 *   OPENBLAS_CORETYPE=SkylakeX   Debian's OpenBLAS 0.3.21 does not know
 *                                recent Xeons and falls back to SSE3
 *                                kernels (the header line shows the core);
 *   OMP_WAIT_POLICY=passive      otherwise OpenMP threads keep spinning
 *                                after each parallel region and starve
 *                                OpenBLAS's own threads when they share
 *                                the cores (conv2d: im2col then GEMM).
 */

struct bench_opts {
    int threads, reps;
    int64_t batch;
    const char *filter;
};

/* Buffers shared by all cases, sized for the largest one. */
struct bench_bufs {
    float *a, *b, *c, *d, *k, *dk, *scratch, *vec[6];
    int64_t big, kbig;
};

/* CPU seconds used by all threads of the process: unlike wall time, it does not
 * count time the scheduler gave to other processes on a shared machine. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* OpenBLAS's own report of the kernel set it picked for this CPU (not in every cblas.h). */
char *openblas_get_corename(void);

static double median(double *t, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && t[j] < t[j - 1]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

enum kcase {
    COPY, DW_FWD, DW_BWD, BN_TRAIN_FWD, BN_TRAIN_BWD, BN_SILU_TRAIN_FWD, BN_SILU_TRAIN_BWD, BN_SILU_FIXED_FWD,
    SILU_FWD, SILU_BWD, CONV_FWD, CONV_BWD, CONV_BWD_DK, GAP_FWD, SCALE_FWD, SCALE_BWD
};

struct kspec {
    const char *name;
    enum kcase kind;
    int64_t h, w, c, cout, k, stride; /* input spatial size and channels; per-image */
};

static void run_once(const struct kspec *s, const struct ecg_conv_geom *g, struct bench_bufs *m, int64_t n)
{
    const int64_t rows = n * s->h * s->w;
    float **v = m->vec;
    switch (s->kind) {
    case COPY: memcpy(m->b, m->a, (size_t)(rows * s->c) * sizeof(float)); break;
    case DW_FWD: ecg_dwconv_forward(m->b, m->a, m->k, g); break;
    case DW_BWD: ecg_dwconv_backward(m->c, m->dk, m->b, m->a, m->k, g); break;
    case BN_TRAIN_FWD: ecg_bn_forward_train(m->b, v[0], v[1], m->a, v[2], v[3], rows, s->c, 1e-3f); break;
    case BN_TRAIN_BWD: ecg_bn_backward_train(m->c, v[4], v[5], m->b, m->a, v[0], v[1], v[2], rows, s->c); break;
    case BN_SILU_TRAIN_FWD:
        ecg_bn_silu_forward_train(m->b, v[0], v[1], m->a, v[2], v[3], rows, s->c, 1e-3f);
        break;
    case BN_SILU_TRAIN_BWD:
        ecg_bn_silu_backward_train(m->c, v[4], v[5], m->b, m->a, v[0], v[1], v[2], v[3], rows, s->c);
        break;
    case BN_SILU_FIXED_FWD:
        ecg_bn_silu_forward_fixed(m->b, m->a, v[2], v[3], v[0], v[1], rows, s->c, 1e-3f);
        break;
    case SILU_FWD: ecg_silu_forward(m->b, m->a, rows * s->c); break;
    case SILU_BWD: ecg_silu_backward(m->c, m->b, m->a, rows * s->c); break;
    case CONV_FWD: ecg_conv2d_forward(m->b, m->a, m->k, g, m->scratch); break;
    case CONV_BWD: ecg_conv2d_backward(m->c, m->dk, m->b, m->a, m->k, g, m->scratch); break;
    case CONV_BWD_DK: ecg_conv2d_backward(NULL, m->dk, m->b, m->a, m->k, g, m->scratch); break;
    case GAP_FWD: ecg_gap_forward(v[0], m->a, n, s->h * s->w, s->c); break;
    case SCALE_FWD: ecg_channel_scale_forward(m->b, m->a, v[0], n, s->h * s->w, s->c); break;
    case SCALE_BWD: ecg_channel_scale_backward(m->c, v[4], m->b, m->a, v[0], n, s->h * s->w, s->c); break;
    }
}

/* Minimum bytes moved and flops of one run. */
static void cost(const struct kspec *s, const struct ecg_conv_geom *g, int64_t n, double *bytes, double *flops)
{
    const double in = (double)n * s->h * s->w * s->c * 4.0;
    const double out = (double)n * g->oh * g->ow * g->cout * 4.0;
    const double taps = (double)s->k * s->k;
    switch (s->kind) {
    case COPY: *bytes = 2.0 * in; *flops = 0.0; break;
    case DW_FWD: *bytes = in + out; *flops = 2.0 * taps * out / 4.0; break;
    case DW_BWD: *bytes = 3.0 * in + out; *flops = 4.0 * taps * out / 4.0; break;
    case BN_TRAIN_FWD: case BN_SILU_TRAIN_FWD: *bytes = 3.0 * in; *flops = 6.0 * in / 4.0; break;
    case BN_TRAIN_BWD: case BN_SILU_TRAIN_BWD: *bytes = 5.0 * in; *flops = 10.0 * in / 4.0; break;
    case BN_SILU_FIXED_FWD: *bytes = 2.0 * in; *flops = 4.0 * in / 4.0; break;
    case SILU_FWD: *bytes = 2.0 * in; *flops = 4.0 * in / 4.0; break;
    case SILU_BWD: *bytes = 4.0 * in; *flops = 8.0 * in / 4.0; break;
    case CONV_FWD:
        *bytes = in + out;
        *flops = 2.0 * (out / 4.0) * taps * s->c;
        break;
    case CONV_BWD:
        *bytes = 3.0 * in + out;
        *flops = 4.0 * (out / 4.0) * taps * s->c;
        break;
    case CONV_BWD_DK:
        *bytes = in + out;
        *flops = 2.0 * (out / 4.0) * taps * s->c;
        break;
    case GAP_FWD: *bytes = in; *flops = in / 4.0; break;
    case SCALE_FWD: *bytes = 2.0 * in; *flops = in / 4.0; break;
    case SCALE_BWD: *bytes = 4.0 * in; *flops = 4.0 * in / 4.0; break;
    }
}

static const struct kspec specs[] = {
    {"memcpy 112x112x96 (bandwidth reference)", COPY, 112, 112, 96, 96, 1, 1},
    {"dwconv 3x3 s1 112x112x32 fwd", DW_FWD, 112, 112, 32, 32, 3, 1},
    {"dwconv 3x3 s1 112x112x32 bwd", DW_BWD, 112, 112, 32, 32, 3, 1},
    {"dwconv 3x3 s2 112x112x96 fwd", DW_FWD, 112, 112, 96, 96, 3, 2},
    {"dwconv 3x3 s2 112x112x96 bwd", DW_BWD, 112, 112, 96, 96, 3, 2},
    {"dwconv 3x3 s1 56x56x144 fwd", DW_FWD, 56, 56, 144, 144, 3, 1},
    {"dwconv 3x3 s1 56x56x144 bwd", DW_BWD, 56, 56, 144, 144, 3, 1},
    {"dwconv 5x5 s2 56x56x144 fwd", DW_FWD, 56, 56, 144, 144, 5, 2},
    {"dwconv 5x5 s2 56x56x144 bwd", DW_BWD, 56, 56, 144, 144, 5, 2},
    {"dwconv 5x5 s1 28x28x240 fwd", DW_FWD, 28, 28, 240, 240, 5, 1},
    {"dwconv 5x5 s1 28x28x240 bwd", DW_BWD, 28, 28, 240, 240, 5, 1},
    {"dwconv 3x3 s1 14x14x480 fwd", DW_FWD, 14, 14, 480, 480, 3, 1},
    {"dwconv 3x3 s1 14x14x480 bwd", DW_BWD, 14, 14, 480, 480, 3, 1},
    {"dwconv 5x5 s1 7x7x1152 fwd", DW_FWD, 7, 7, 1152, 1152, 5, 1},
    {"dwconv 5x5 s1 7x7x1152 bwd", DW_BWD, 7, 7, 1152, 1152, 5, 1},
    {"bn train fwd 112x112x96", BN_TRAIN_FWD, 112, 112, 96, 96, 1, 1},
    {"bn train bwd 112x112x96", BN_TRAIN_BWD, 112, 112, 96, 96, 1, 1},
    {"bn+silu train fwd 112x112x96", BN_SILU_TRAIN_FWD, 112, 112, 96, 96, 1, 1},
    {"bn+silu train bwd 112x112x96", BN_SILU_TRAIN_BWD, 112, 112, 96, 96, 1, 1},
    {"bn+silu fixed fwd 112x112x96", BN_SILU_FIXED_FWD, 112, 112, 96, 96, 1, 1},
    {"bn+silu train fwd 7x7x1152", BN_SILU_TRAIN_FWD, 7, 7, 1152, 1152, 1, 1},
    {"bn+silu train bwd 7x7x1152", BN_SILU_TRAIN_BWD, 7, 7, 1152, 1152, 1, 1},
    {"silu fwd 112x112x96", SILU_FWD, 112, 112, 96, 96, 1, 1},
    {"silu bwd 112x112x96", SILU_BWD, 112, 112, 96, 96, 1, 1},
    {"conv 1x1 56x56 24->144 fwd", CONV_FWD, 56, 56, 24, 144, 1, 1},
    {"conv 1x1 56x56 24->144 bwd", CONV_BWD, 56, 56, 24, 144, 1, 1},
    {"conv 1x1 56x56 144->24 fwd", CONV_FWD, 56, 56, 144, 24, 1, 1},
    {"conv 1x1 56x56 144->24 bwd", CONV_BWD, 56, 56, 144, 24, 1, 1},
    {"conv 3x3 s2 224x224 3->32 fwd (stem)", CONV_FWD, 224, 224, 3, 32, 3, 2},
    {"conv 3x3 s2 224x224 3->32 bwd (stem)", CONV_BWD, 224, 224, 3, 32, 3, 2},
    {"conv 3x3 s2 224x224 3->32 bwd dkernel only", CONV_BWD_DK, 224, 224, 3, 32, 3, 2},
    {"conv 3x3 s2 224x224 1->32 fwd (1-ch stem)", CONV_FWD, 224, 224, 1, 32, 3, 2},
    {"conv 3x3 s2 224x224 1->32 bwd dkernel only", CONV_BWD_DK, 224, 224, 1, 32, 3, 2},
    {"gap 56x56x144", GAP_FWD, 56, 56, 144, 144, 1, 1},
    {"channel scale fwd 56x56x144", SCALE_FWD, 56, 56, 144, 144, 1, 1},
    {"channel scale bwd 56x56x144", SCALE_BWD, 56, 56, 144, 144, 1, 1},
};

static void fill(float *x, int64_t n, uint64_t seed, float lo, float hi)
{
    struct ecg_rng r = ecg_rng_init(seed, 7);
    for (int64_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * ecg_rng_uniform(&r);
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct bench_opts o = {.threads = 2, .reps = 10, .batch = 16, .filter = NULL};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            o.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            o.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            o.batch = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
            o.filter = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--threads N] [--reps R] [--batch B] [--filter TEXT]\n", argv[0]);
            return 2;
        }
    }
    if (o.threads < 1 || o.reps < 1 || o.batch < 1) {
        fprintf(stderr, "bench_kernels: --threads, --reps and --batch must be at least 1\n");
        return 2;
    }
    ecg_threads_set(o.threads);

    struct bench_bufs m = {0};
    const int64_t n = o.batch;
    m.big = n * 112 * 112 * 96; /* the largest activation of B0 (block2a expand) */
    m.kbig = 25 * 1152 + 144 * 144 * 9;
    float **all[] = {&m.a, &m.b, &m.c, &m.d};
    for (int i = 0; i < 4; i++) {
        *all[i] = ecg_aligned_calloc(m.big, sizeof(float));
        if (!*all[i]) {
            fprintf(stderr, "bench_kernels: out of memory\n");
            return 1;
        }
        fill(*all[i], m.big, (uint64_t)i + 1, -1.0f, 1.0f);
    }
    m.k = ecg_aligned_calloc(m.kbig, sizeof(float));
    m.dk = ecg_aligned_calloc(m.kbig, sizeof(float));
    fill(m.k, m.kbig, 9, -0.5f, 0.5f);
    int64_t scratch = 0;
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct ecg_conv_geom g;
        ecg_conv_geom_init(&g, n, specs[i].h, specs[i].w, specs[i].c, specs[i].cout, specs[i].k,
                           specs[i].stride, ECG_PAD_SAME);
        int64_t s = (specs[i].kind == CONV_FWD || specs[i].kind == CONV_BWD || specs[i].kind == CONV_BWD_DK) ? ecg_conv2d_scratch_floats(&g) : 0;
        if (s > scratch)
            scratch = s;
    }
    m.scratch = ecg_aligned_calloc(scratch > 0 ? scratch : 1, sizeof(float));
    for (int i = 0; i < 6; i++) {
        m.vec[i] = ecg_aligned_calloc(n * 2048, sizeof(float));
        fill(m.vec[i], n * 2048, 20 + (uint64_t)i, 0.5f, 1.5f);
    }

    printf("bench_kernels: batch %lld, %d threads, median of %d runs, OpenBLAS core %s\n", (long long)n,
           o.threads, o.reps, openblas_get_corename());
    if (!strcmp(openblas_get_corename(), "Prescott") || !strcmp(openblas_get_corename(), "Core2"))
        printf("note: OpenBLAS did not recognise this CPU and runs its SSE3 kernels; on an AVX-512 machine\n"
               "      start the program with OPENBLAS_CORETYPE=SkylakeX (or Haswell for AVX2) for 2-4x faster GEMM\n");
    printf("%-40s %9s %9s %9s %9s %9s\n", "kernel", "med ms", "min ms", "cpu ms", "GB/s", "GFLOP/s");
    double *t = malloc((size_t)o.reps * sizeof(double)), *ct = malloc((size_t)o.reps * sizeof(double));
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        const struct kspec *s = &specs[i];
        if (o.filter && !strstr(s->name, o.filter))
            continue;
        struct ecg_conv_geom g;
        ecg_conv_geom_init(&g, n, s->h, s->w, s->c, s->cout, s->k, s->stride, ECG_PAD_SAME);
        for (int r = 0; r < 2; r++)
            run_once(s, &g, &m, n);
        for (int r = 0; r < o.reps; r++) {
            double t0 = omp_get_wtime(), c0 = cpu_seconds();
            run_once(s, &g, &m, n);
            t[r] = omp_get_wtime() - t0;
            ct[r] = cpu_seconds() - c0;
        }
        double bytes = 0.0, flops = 0.0;
        cost(s, &g, n, &bytes, &flops);
        double sec = median(t, o.reps), best = t[0]; /* t is sorted by median() */
        double cpu = median(ct, o.reps);
        printf("%-40s %9.3f %9.3f %9.3f %9.2f %9.2f\n", s->name, sec * 1e3, best * 1e3, cpu * 1e3,
               bytes / best * 1e-9, flops / best * 1e-9);
        fflush(stdout);
    }
    free(t);
    free(ct);
    for (int i = 0; i < 4; i++)
        ecg_aligned_free(*all[i]);
    ecg_aligned_free(m.k);
    ecg_aligned_free(m.dk);
    ecg_aligned_free(m.scratch);
    for (int i = 0; i < 6; i++)
        ecg_aligned_free(m.vec[i]);
    return 0;
}
