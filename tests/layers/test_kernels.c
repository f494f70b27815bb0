/* Tests of layers/kernels.h: every kernel against naive double loops, finite differences and PyTorch. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "layers/kernels.h"
#include "tests/layers/gradcheck.h"
#include "tests/layers/naive.h"
#include "tests/test_util.h"

/* ---- helpers ------------------------------------------------------------------------ */

static float *rnd(int64_t n, uint64_t seed, float lo, float hi)
{
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    ecg_gradcheck_fill(x, n, seed, lo, hi);
    return x;
}

static double *dalloc(int64_t n) { return calloc((size_t)(n > 0 ? n : 1), sizeof(double)); }

/* Compares float results with a double reference (optionally plus a float base, for += checks). */
static bool close_ref(const char *label, const float *got, const double *want, const float *base, int64_t n,
                      double rtol, double atol)
{
    float *w = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        w[i] = (float)(want[i] + (base ? (double)base[i] : 0.0));
    bool ok = ecg_test_close(label, got, w, n, rtol, atol);
    free(w);
    return ok;
}

static float *copyf(const float *x, int64_t n)
{
    float *y = malloc((size_t)n * sizeof(float));
    memcpy(y, x, (size_t)n * sizeof(float));
    return y;
}

/* Fills x with NaN, so a *_set kernel that reads din instead of overwriting it is caught. */
static void fill_nan(float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = NAN;
}

static const char *pad_name(enum ecg_padding p) { return p == ECG_PAD_SAME ? "same" : "symmetric"; }

/* ---- geometry ------------------------------------------------------------------------ */

static void geometry_follows_keras_correct_pad_and_torchvision(void)
{
    struct ecg_conv_geom g;
    /* Keras: stride 2 on an even input pads 0 before / 1 after for k=3, 1 / 2 for k=5. */
    ecg_conv_geom_init(&g, 16, 224, 224, 3, 32, 3, 2, ECG_PAD_SAME);
    CU_ASSERT_EQUAL(g.oh, 112);
    CU_ASSERT_EQUAL(g.ow, 112);
    CU_ASSERT_EQUAL(g.pad_top, 0);
    CU_ASSERT_EQUAL(g.pad_left, 0);
    ecg_conv_geom_init(&g, 1, 28, 28, 40, 40, 5, 2, ECG_PAD_SAME);
    CU_ASSERT_EQUAL(g.oh, 14);
    CU_ASSERT_EQUAL(g.pad_top, 1);
    /* odd input, stride 2: symmetric 1 / 1 for k=3 and 2 / 2 for k=5 */
    ecg_conv_geom_init(&g, 1, 7, 9, 4, 4, 3, 2, ECG_PAD_SAME);
    CU_ASSERT_EQUAL(g.oh, 4);
    CU_ASSERT_EQUAL(g.ow, 5);
    CU_ASSERT_EQUAL(g.pad_top, 1);
    CU_ASSERT_EQUAL(g.pad_left, 1);
    ecg_conv_geom_init(&g, 1, 7, 9, 4, 4, 5, 2, ECG_PAD_SAME);
    CU_ASSERT_EQUAL(g.pad_top, 2);
    CU_ASSERT_EQUAL(g.pad_left, 2);
    /* stride 1 "same" keeps the size */
    ecg_conv_geom_init(&g, 1, 7, 9, 4, 4, 5, 1, ECG_PAD_SAME);
    CU_ASSERT_EQUAL(g.oh, 7);
    CU_ASSERT_EQUAL(g.ow, 9);
    CU_ASSERT_EQUAL(g.pad_top, 2);
    /* torchvision: (k-1)/2 on both sides, floor((x + 2p - k)/s) + 1 */
    ecg_conv_geom_init(&g, 16, 224, 224, 3, 32, 3, 2, ECG_PAD_SYMMETRIC);
    CU_ASSERT_EQUAL(g.oh, 112);
    CU_ASSERT_EQUAL(g.pad_top, 1);
    ecg_conv_geom_init(&g, 1, 7, 9, 4, 4, 5, 2, ECG_PAD_SYMMETRIC);
    CU_ASSERT_EQUAL(g.oh, 4);
    CU_ASSERT_EQUAL(g.ow, 5);
    CU_ASSERT_EQUAL(g.pad_top, 2);
    ecg_conv_geom_init(&g, 1, 8, 8, 4, 4, 1, 2, ECG_PAD_SYMMETRIC);
    CU_ASSERT_EQUAL(g.oh, 4);
    CU_ASSERT_EQUAL(g.pad_top, 0);
    ecg_conv_geom_init(&g, 1, 8, 8, 4, 4, 1, 1, ECG_PAD_SAME);
    CU_ASSERT_EQUAL(ecg_conv2d_scratch_floats(&g), 0);
}

/* ---- dense and depthwise convolution against naive loops -------------------------- */

enum conv_kind { CONV_DENSE, CONV_DEPTHWISE };

static int64_t kernel_numel(enum conv_kind kind, const struct ecg_conv_geom *g)
{
    return kind == CONV_DENSE ? g->kh * g->kw * g->cin * g->cout : g->kh * g->kw * g->cin;
}

static void conv_fwd(enum conv_kind kind, float *out, const float *in, const float *k,
                     const struct ecg_conv_geom *g, float *scratch)
{
    if (kind == CONV_DENSE)
        ecg_conv2d_forward(out, in, k, g, scratch);
    else
        ecg_dwconv_forward(out, in, k, g);
}

static void conv_bwd(enum conv_kind kind, float *din, float *dk, const float *dout, const float *in,
                     const float *k, const struct ecg_conv_geom *g, float *scratch)
{
    if (kind == CONV_DENSE)
        ecg_conv2d_backward(din, dk, dout, in, k, g, scratch);
    else
        ecg_dwconv_backward(din, dk, dout, in, k, g);
}

static void conv_bwd_set(enum conv_kind kind, float *din, float *dk, const float *dout, const float *in,
                         const float *k, const struct ecg_conv_geom *g, float *scratch)
{
    if (kind == CONV_DENSE)
        ecg_conv2d_backward_set(din, dk, dout, in, k, g, scratch);
    else
        ecg_dwconv_backward_set(din, dk, dout, in, k, g);
}

/* Forward, backward (+= onto random values, and each gradient alone) against the naive loops. */
static bool check_conv_case(enum conv_kind kind, int64_t n, int64_t h, int64_t w, int64_t cin, int64_t cout,
                            int64_t k, int64_t s, enum ecg_padding pad)
{
    struct ecg_conv_geom g;
    ecg_conv_geom_init(&g, n, h, w, cin, kind == CONV_DENSE ? cout : cin, k, s, pad);
    const int64_t nin = n * h * w * cin, nout = n * g.oh * g.ow * g.cout, nk = kernel_numel(kind, &g);
    float *in = rnd(nin, 1, -1, 1), *ker = rnd(nk, 2, -1, 1), *dout = rnd(nout, 3, -1, 1);
    float *out = rnd(nout, 4, -1, 1);
    float *din = rnd(nin, 5, -1, 1), *dk = rnd(nk, 6, -1, 1);
    float *din0 = copyf(din, nin), *dk0 = copyf(dk, nk);
    int64_t ns = kind == CONV_DENSE ? ecg_conv2d_scratch_floats(&g) : 0;
    float *scratch = ns > 0 ? malloc((size_t)ns * sizeof(float)) : NULL;
    double *rout = dalloc(nout), *rdin = dalloc(nin), *rdk = dalloc(nk);
    char label[160];
    bool ok = true;
    /* float rounding grows with the length of each dot product */
    const double patch = (double)(kind == CONV_DENSE ? k * k * cin : k * k);
    const double atol = 1e-5 * fmax(1.0, sqrt(patch / 25.0));

    if (kind == CONV_DENSE) {
        naive_conv2d_forward(rout, in, ker, &g);
        naive_conv2d_backward(rdin, rdk, dout, in, ker, &g);
    } else {
        naive_dwconv_forward(rout, in, ker, &g);
        naive_dwconv_backward(rdin, rdk, dout, in, ker, &g);
    }
    const char *what = kind == CONV_DENSE ? "conv2d" : "dwconv";
    conv_fwd(kind, out, in, ker, &g, scratch);
    snprintf(label, sizeof label, "%s k%lld s%lld %s %lldx%lldx%lld out", what, (long long)k, (long long)s,
             pad_name(pad), (long long)h, (long long)w, (long long)cin);
    ok &= close_ref(label, out, rout, NULL, nout, 1e-5, atol);

    conv_bwd(kind, din, dk, dout, in, ker, &g, scratch);
    snprintf(label, sizeof label, "%s k%lld s%lld %s din (accumulated)", what, (long long)k, (long long)s,
             pad_name(pad));
    ok &= close_ref(label, din, rdin, din0, nin, 1e-5, atol);
    snprintf(label, sizeof label, "%s k%lld s%lld %s dkernel (accumulated)", what, (long long)k,
             (long long)s, pad_name(pad));
    ok &= close_ref(label, dk, rdk, dk0, nk, 1e-5, atol);

    /* each gradient alone, the other skipped */
    memcpy(din, din0, (size_t)nin * sizeof(float));
    conv_bwd(kind, din, NULL, dout, in, ker, &g, scratch);
    ok &= close_ref("din alone", din, rdin, din0, nin, 1e-5, atol);
    memcpy(dk, dk0, (size_t)nk * sizeof(float));
    conv_bwd(kind, NULL, dk, dout, in, ker, &g, scratch);
    ok &= close_ref("dkernel alone", dk, rdk, dk0, nk, 1e-5, atol);

    /* overwrite variant: din is written from scratch, dkernel still accumulates */
    fill_nan(din, nin);
    memcpy(dk, dk0, (size_t)nk * sizeof(float));
    conv_bwd_set(kind, din, dk, dout, in, ker, &g, scratch);
    ok &= close_ref("din overwritten (_set)", din, rdin, NULL, nin, 1e-5, atol);
    ok &= close_ref("dkernel accumulated (_set)", dk, rdk, dk0, nk, 1e-5, atol);

    free(in), free(ker), free(dout), free(out), free(din), free(dk), free(din0), free(dk0), free(scratch);
    free(rout), free(rdin), free(rdk);
    return ok;
}

static void sweep_conv(enum conv_kind kind, int64_t c)
{
    const int64_t ks[] = {1, 3, 5}, ss[] = {1, 2};
    const enum ecg_padding pads[] = {ECG_PAD_SAME, ECG_PAD_SYMMETRIC};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++)
            for (int p = 0; p < 2; p++)
                CU_ASSERT_TRUE(check_conv_case(kind, 2, 7, 9, c, 6, ks[a], ss[b], pads[p]));
}

static void conv2d_matches_naive_loops_for_all_kernel_sizes_strides_and_paddings(void)
{
    sweep_conv(CONV_DENSE, 5);
    /* even sizes (asymmetric "same" padding at stride 2) and a 1-channel input */
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 2, 8, 10, 3, 7, 3, 2, ECG_PAD_SAME));
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 2, 8, 10, 1, 4, 5, 2, ECG_PAD_SAME));
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 1, 10, 8, 3, 4, 3, 2, ECG_PAD_SYMMETRIC));
}

static void conv2d_with_few_input_taps_takes_the_direct_path_and_matches_naive_loops(void)
{
    /* Cout a multiple of 16 and kh*kw*Cin <= 80: the stem's direct path, including rows wider
     * than one gathered chunk (64 pixels) and pixel counts that are not multiples of 4 */
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 2, 9, 11, 3, 32, 3, 2, ECG_PAD_SAME));
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 2, 9, 11, 3, 32, 3, 2, ECG_PAD_SYMMETRIC));
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 1, 4, 141, 1, 16, 3, 1, ECG_PAD_SAME));
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 2, 7, 9, 3, 64, 5, 1, ECG_PAD_SYMMETRIC));
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 2, 6, 7, 2, 48, 5, 2, ECG_PAD_SAME));
}

static void conv2d_with_several_im2col_chunks_matches_naive_loops(void)
{
    struct ecg_conv_geom g;
    ecg_conv_geom_init(&g, 2, 28, 28, 64, 8, 5, 1, ECG_PAD_SAME);
    /* the scratch holds fewer pixels than the output has, so chunks cross image boundaries */
    CU_ASSERT_TRUE(ecg_conv2d_scratch_floats(&g) < g.n * g.oh * g.ow * 5 * 5 * 64);
    CU_ASSERT_TRUE(check_conv_case(CONV_DENSE, 2, 28, 28, 64, 8, 5, 1, ECG_PAD_SAME));
}

static void dwconv_matches_naive_loops_for_all_kernel_sizes_strides_and_paddings(void)
{
    sweep_conv(CONV_DEPTHWISE, 5);  /* narrower than one channel block */
    sweep_conv(CONV_DEPTHWISE, 37); /* a full channel block plus a tail */
    CU_ASSERT_TRUE(check_conv_case(CONV_DEPTHWISE, 2, 8, 10, 64, 0, 3, 2, ECG_PAD_SAME));
    CU_ASSERT_TRUE(check_conv_case(CONV_DEPTHWISE, 2, 8, 10, 48, 0, 5, 2, ECG_PAD_SAME));
    CU_ASSERT_TRUE(check_conv_case(CONV_DEPTHWISE, 1, 10, 12, 16, 0, 5, 2, ECG_PAD_SYMMETRIC));
    /* inputs smaller than the kernel: every pixel is a border pixel */
    CU_ASSERT_TRUE(check_conv_case(CONV_DEPTHWISE, 2, 2, 3, 40, 0, 5, 1, ECG_PAD_SAME));
    CU_ASSERT_TRUE(check_conv_case(CONV_DEPTHWISE, 2, 1, 1, 8, 0, 3, 2, ECG_PAD_SAME));
    CU_ASSERT_TRUE(check_conv_case(CONV_DEPTHWISE, 2, 3, 2, 8, 0, 5, 2, ECG_PAD_SYMMETRIC));
}

/* ---- finite differences through the convolution kernels ---------------------------- */

struct conv_fd {
    enum conv_kind kind;
    struct ecg_conv_geom g;
    float *in, *ker, *w, *out, *scratch;
};

static double conv_fd_loss(void *ctx)
{
    struct conv_fd *c = ctx;
    conv_fwd(c->kind, c->out, c->in, c->ker, &c->g, c->scratch);
    return ecg_gradcheck_dot(c->out, c->w, c->g.n * c->g.oh * c->g.ow * c->g.cout);
}

static bool conv_gradcheck(enum conv_kind kind, int64_t k, int64_t s, enum ecg_padding pad)
{
    struct conv_fd c = {.kind = kind};
    /* dense symmetric stride 2 uses Cout 16 (the direct path), the others Cout 4 (im2col) */
    const int64_t cout = kind == CONV_DEPTHWISE ? 3 : (pad == ECG_PAD_SYMMETRIC && s == 2) ? 16 : 4;
    ecg_conv_geom_init(&c.g, 2, 5, 6, 3, cout, k, s, pad);
    const int64_t nin = 2 * 5 * 6 * 3, nout = c.g.n * c.g.oh * c.g.ow * c.g.cout, nk = kernel_numel(kind, &c.g);
    c.in = rnd(nin, 11, -1, 1);
    c.ker = rnd(nk, 12, -1, 1);
    c.w = rnd(nout, 13, -1, 1);
    c.out = malloc((size_t)nout * sizeof(float));
    int64_t ns = kind == CONV_DENSE ? ecg_conv2d_scratch_floats(&c.g) : 0;
    c.scratch = ns > 0 ? malloc((size_t)ns * sizeof(float)) : NULL;
    float *din = calloc((size_t)nin, sizeof(float)), *dk = calloc((size_t)nk, sizeof(float));
    conv_bwd(kind, din, dk, c.w, c.in, c.ker, &c.g, c.scratch);
    struct ecg_gradcheck_tensor t[] = {{"din", c.in, din, nin}, {"dkernel", c.ker, dk, nk}};
    bool ok = ecg_gradcheck(conv_fd_loss, &c, t, 2, NULL);
    free(c.in), free(c.ker), free(c.w), free(c.out), free(c.scratch), free(din), free(dk);
    return ok;
}

static void conv_gradients_agree_with_finite_differences(void)
{
    CU_ASSERT_TRUE(conv_gradcheck(CONV_DENSE, 3, 2, ECG_PAD_SAME));
    CU_ASSERT_TRUE(conv_gradcheck(CONV_DENSE, 5, 1, ECG_PAD_SYMMETRIC));
    CU_ASSERT_TRUE(conv_gradcheck(CONV_DENSE, 1, 1, ECG_PAD_SAME));
    CU_ASSERT_TRUE(conv_gradcheck(CONV_DENSE, 3, 2, ECG_PAD_SYMMETRIC)); /* Cout 16: direct path */
    CU_ASSERT_TRUE(conv_gradcheck(CONV_DEPTHWISE, 3, 2, ECG_PAD_SAME));
    CU_ASSERT_TRUE(conv_gradcheck(CONV_DEPTHWISE, 5, 2, ECG_PAD_SYMMETRIC));
    CU_ASSERT_TRUE(conv_gradcheck(CONV_DEPTHWISE, 3, 1, ECG_PAD_SYMMETRIC));
}

static void gradcheck_samples_large_tensors_deterministically(void)
{
    /* 5x5 depthwise on 2x9x11x40: the sampled probes (first, last and random elements) must pass */
    struct conv_fd c = {.kind = CONV_DEPTHWISE};
    ecg_conv_geom_init(&c.g, 2, 9, 11, 40, 40, 5, 1, ECG_PAD_SAME);
    const int64_t nin = 2 * 9 * 11 * 40, nk = 25 * 40;
    c.in = rnd(nin, 171, -1, 1);
    c.ker = rnd(nk, 172, -1, 1);
    c.w = rnd(nin, 173, -1, 1);
    c.out = malloc((size_t)nin * sizeof(float));
    float *din = calloc((size_t)nin, sizeof(float)), *dk = calloc((size_t)nk, sizeof(float));
    ecg_dwconv_backward(din, dk, c.w, c.in, c.ker, &c.g);
    struct ecg_gradcheck_tensor t[] = {{"din", c.in, din, nin}, {"dkernel", c.ker, dk, nk}};
    struct ecg_gradcheck_opts o = {.max_probes = 40, .seed = 5};
    CU_ASSERT_TRUE(ecg_gradcheck(conv_fd_loss, &c, t, 2, &o));
    /* and a corrupted last element is always among the probes */
    din[nin - 1] += 0.1f;
    printf("\n  (a mismatch report is expected here)");
    CU_ASSERT_FALSE(ecg_gradcheck(conv_fd_loss, &c, t, 1, &o));
    free(c.in), free(c.ker), free(c.w), free(c.out), free(din), free(dk);
}

static void gradcheck_catches_a_wrong_gradient(void)
{
    struct conv_fd c = {.kind = CONV_DEPTHWISE};
    ecg_conv_geom_init(&c.g, 1, 4, 4, 2, 2, 3, 1, ECG_PAD_SAME);
    const int64_t nin = 32, nk = 18;
    c.in = rnd(nin, 21, -1, 1);
    c.ker = rnd(nk, 22, -1, 1);
    c.w = rnd(nin, 23, -1, 1);
    c.out = malloc((size_t)nin * sizeof(float));
    float *din = calloc((size_t)nin, sizeof(float));
    ecg_dwconv_backward(din, NULL, c.w, c.in, c.ker, &c.g);
    din[7] += 0.05f;
    struct ecg_gradcheck_tensor t[] = {{"din (deliberately wrong)", c.in, din, nin}};
    printf("\n  (a mismatch report is expected here)");
    CU_ASSERT_FALSE(ecg_gradcheck(conv_fd_loss, &c, t, 1, NULL));
    free(c.in), free(c.ker), free(c.w), free(c.out), free(din);
}

/* ---- determinism --------------------------------------------------------------------- */

static void dwconv_and_batch_norm_are_bit_identical_across_runs_and_thread_counts(void)
{
    struct ecg_conv_geom g;
    ecg_conv_geom_init(&g, 3, 17, 19, 48, 48, 5, 1, ECG_PAD_SAME);
    const int64_t nin = 3 * 17 * 19 * 48, nk = 25 * 48;
    float *in = rnd(nin, 31, -1, 1), *ker = rnd(nk, 32, -1, 1), *dout = rnd(nin, 33, -1, 1);
    float *gam = rnd(48, 34, 0.5f, 1.5f), *bet = rnd(48, 35, -1, 1);
    float *res[3][5];
    const int threads[3] = {2, 2, 1};
    int saved = ecg_threads_get();
    for (int t = 0; t < 3; t++) {
        ecg_threads_set(threads[t]);
        float *out = calloc((size_t)nin, sizeof(float)), *din = calloc((size_t)nin, sizeof(float));
        float *dk = calloc((size_t)nk, sizeof(float)), *bn = calloc((size_t)nin, sizeof(float));
        float *st = calloc(96 + 96, sizeof(float));
        ecg_dwconv_forward(out, in, ker, &g);
        ecg_dwconv_backward(din, dk, dout, in, ker, &g);
        ecg_bn_silu_forward_train(bn, st, st + 48, in, gam, bet, nin / 48, 48, 1e-3f);
        ecg_bn_silu_backward_train(out, st + 96, st + 144, dout, in, st, st + 48, gam, bet, nin / 48, 48);
        res[t][0] = out, res[t][1] = din, res[t][2] = dk, res[t][3] = bn, res[t][4] = st;
    }
    ecg_threads_set(saved);
    const int64_t sizes[5] = {nin, nin, nk, nin, 192};
    for (int t = 1; t < 3; t++)
        for (int k = 0; k < 5; k++)
            CU_ASSERT_EQUAL(memcmp(res[0][k], res[t][k], (size_t)sizes[k] * sizeof(float)), 0);
    for (int t = 0; t < 3; t++)
        for (int k = 0; k < 5; k++)
            free(res[t][k]);
    free(in), free(ker), free(dout), free(gam), free(bet);
}

/* ---- batch normalisation ------------------------------------------------------------ */

static void bn_train_forward_and_backward_match_naive_loops(void)
{
    const int64_t sizes[][2] = {{126, 5}, {126, 37}, {3, 300}, {1000, 16}};
    for (int s = 0; s < 4; s++) {
        const int64_t rows = sizes[s][0], c = sizes[s][1], n = rows * c;
        const float eps = 1e-3f;
        float *in = rnd(n, 41 + s, -2, 3), *gam = rnd(c, 42, 0.5f, 1.5f), *bet = rnd(c, 43, -1, 1);
        float *dout = rnd(n, 44, -1, 1), *out = malloc((size_t)n * sizeof(float));
        float *mean = malloc((size_t)c * sizeof(float)), *invstd = malloc((size_t)c * sizeof(float));
        float *din = rnd(n, 45, -1, 1), *dg = rnd(c, 46, -1, 1), *db = rnd(c, 47, -1, 1);
        float *din0 = copyf(din, n), *dg0 = copyf(dg, c), *db0 = copyf(db, c);
        double *rout = dalloc(n), *rmean = dalloc(c), *rvar = dalloc(c), *rdout = dalloc(n);
        double *rdin = dalloc(n), *rdg = dalloc(c), *rdb = dalloc(c), *rinv = dalloc(c);
        naive_bn_forward_train(rout, rmean, rvar, in, gam, bet, rows, c, eps);
        for (int64_t j = 0; j < c; j++)
            rinv[j] = 1.0 / sqrt(rvar[j] + eps);
        ecg_bn_forward_train(out, mean, invstd, in, gam, bet, rows, c, eps);
        CU_ASSERT_TRUE(close_ref("bn train out", out, rout, NULL, n, 1e-5, 1e-5));
        CU_ASSERT_TRUE(close_ref("bn train mean", mean, rmean, NULL, c, 1e-6, 1e-6));
        CU_ASSERT_TRUE(close_ref("bn train invstd", invstd, rinv, NULL, c, 1e-6, 0));

        for (int64_t i = 0; i < n; i++)
            rdout[i] = dout[i];
        naive_bn_backward_train(rdin, rdg, rdb, rdout, in, gam, rows, c, eps);
        ecg_bn_backward_train(din, dg, db, dout, in, mean, invstd, gam, rows, c);
        CU_ASSERT_TRUE(close_ref("bn train din (accumulated)", din, rdin, din0, n, 1e-4, 1e-5));
        CU_ASSERT_TRUE(close_ref("bn train dgamma (accumulated)", dg, rdg, dg0, c, 1e-4, 1e-5));
        CU_ASSERT_TRUE(close_ref("bn train dbeta (accumulated)", db, rdb, db0, c, 1e-4, 1e-5));
        /* input gradient alone */
        memcpy(din, din0, (size_t)n * sizeof(float));
        ecg_bn_backward_train(din, NULL, NULL, dout, in, mean, invstd, gam, rows, c);
        CU_ASSERT_TRUE(close_ref("bn train din alone", din, rdin, din0, n, 1e-4, 1e-5));
        /* overwrite variant */
        fill_nan(din, n);
        memcpy(dg, dg0, (size_t)c * sizeof(float));
        ecg_bn_backward_train_set(din, dg, NULL, dout, in, mean, invstd, gam, rows, c);
        CU_ASSERT_TRUE(close_ref("bn train din overwritten (_set)", din, rdin, NULL, n, 1e-4, 1e-5));
        CU_ASSERT_TRUE(close_ref("bn train dgamma accumulated (_set)", dg, rdg, dg0, c, 1e-4, 1e-5));
        free(in), free(gam), free(bet), free(dout), free(out), free(mean), free(invstd), free(din), free(dg);
        free(db), free(din0), free(dg0), free(db0), free(rout), free(rmean), free(rvar), free(rdout);
        free(rdin), free(rdg), free(rdb), free(rinv);
    }
}

static void bn_statistics_stay_accurate_for_a_large_mean(void)
{
    const int64_t rows = 4096, c = 8, n = rows * c;
    float *in = rnd(n, 51, -0.01f, 0.01f), *gam = rnd(c, 52, 1, 1), *bet = rnd(c, 53, 0, 0);
    for (int64_t i = 0; i < n; i++)
        in[i] += 1000.0f;
    float mean[8], invstd[8], *out = malloc((size_t)n * sizeof(float));
    double rmean[8], rvar[8], rinv[8], *rout = dalloc(n);
    naive_bn_forward_train(rout, rmean, rvar, in, gam, bet, rows, c, 1e-5);
    for (int j = 0; j < 8; j++)
        rinv[j] = 1.0 / sqrt(rvar[j] + 1e-5);
    ecg_bn_forward_train(out, mean, invstd, in, gam, bet, rows, c, 1e-5f);
    CU_ASSERT_TRUE(close_ref("invstd with mean 1000, std 0.006", invstd, rinv, NULL, c, 1e-5, 0));
    /* x and the mean are float: near 1000 they are quantised to 6e-5, i.e. 1% of a standard
     * deviation, so the normalised values can only be that exact; a single-pass
     * E[x^2] - E[x]^2 in float would give garbage here instead */
    CU_ASSERT_TRUE(close_ref("normalised output with mean 1000", out, rout, NULL, n, 0, 2e-2));
    free(in), free(gam), free(bet), free(out), free(rout);
}

static void bn_running_update_uses_momentum_and_unbiased_variance(void)
{
    const int64_t rows = 10, c = 3;
    float in[30], gam[3] = {1, 1, 1}, bet[3] = {0, 0, 0}, out[30], mean[3], invstd[3];
    ecg_gradcheck_fill(in, 30, 61, -1, 1);
    double rmean[3], rvar[3], rout[30];
    naive_bn_forward_train(rout, rmean, rvar, in, gam, bet, rows, c, 1e-3);
    ecg_bn_forward_train(out, mean, invstd, in, gam, bet, rows, c, 1e-3f);
    float run_mean[3] = {0.5f, -1, 2}, run_var[3] = {1, 2, 0.5f};
    double want_mean[3], want_var[3];
    for (int j = 0; j < 3; j++) {
        want_mean[j] = 0.9 * run_mean[j] + 0.1 * rmean[j];
        want_var[j] = 0.9 * run_var[j] + 0.1 * rvar[j] * 10.0 / 9.0;
    }
    ecg_bn_update_running(run_mean, run_var, mean, invstd, rows, c, 1e-3f, 0.1f);
    CU_ASSERT_TRUE(close_ref("running mean", run_mean, want_mean, NULL, 3, 1e-6, 1e-7));
    CU_ASSERT_TRUE(close_ref("running variance (unbiased)", run_var, want_var, NULL, 3, 1e-5, 1e-7));
}

static void bn_fixed_forward_and_backward_match_naive_loops(void)
{
    const int64_t rows = 63, c = 37, n = rows * c;
    const float eps = 1e-5f;
    float *in = rnd(n, 71, -2, 2), *gam = rnd(c, 72, 0.5f, 1.5f), *bet = rnd(c, 73, -1, 1);
    float *rm = rnd(c, 74, -0.5f, 0.5f), *rv = rnd(c, 75, 0.2f, 2), *dout = rnd(n, 76, -1, 1);
    float *out = malloc((size_t)n * sizeof(float)), *din = rnd(n, 77, -1, 1), *dg = rnd(c, 78, -1, 1);
    float *db = rnd(c, 79, -1, 1), *din0 = copyf(din, n), *dg0 = copyf(dg, c), *db0 = copyf(db, c);
    double *rout = dalloc(n), *rdin = dalloc(n), *rdg = dalloc(c), *rdb = dalloc(c);
    naive_bn_forward_fixed(rout, in, gam, bet, rm, rv, rows, c, eps);
    ecg_bn_forward_fixed(out, in, gam, bet, rm, rv, rows, c, eps);
    CU_ASSERT_TRUE(close_ref("bn fixed out", out, rout, NULL, n, 1e-5, 1e-5));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < c; j++) {
            double is = 1.0 / sqrt((double)rv[j] + eps), g = dout[r * c + j];
            rdin[r * c + j] = g * gam[j] * is;
            rdg[j] += g * (in[r * c + j] - rm[j]) * is;
            rdb[j] += g;
        }
    ecg_bn_backward_fixed(din, dg, db, dout, in, gam, rm, rv, rows, c, eps);
    CU_ASSERT_TRUE(close_ref("bn fixed din (accumulated)", din, rdin, din0, n, 1e-5, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn fixed dgamma (accumulated)", dg, rdg, dg0, c, 1e-5, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn fixed dbeta (accumulated)", db, rdb, db0, c, 1e-5, 1e-5));
    fill_nan(din, n);
    memcpy(db, db0, (size_t)c * sizeof(float));
    ecg_bn_backward_fixed_set(din, NULL, db, dout, in, gam, rm, rv, rows, c, eps);
    CU_ASSERT_TRUE(close_ref("bn fixed din overwritten (_set)", din, rdin, NULL, n, 1e-5, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn fixed dbeta accumulated (_set)", db, rdb, db0, c, 1e-5, 1e-5));
    free(in), free(gam), free(bet), free(rm), free(rv), free(dout), free(out), free(din), free(dg), free(db);
    free(din0), free(dg0), free(db0), free(rout), free(rdin), free(rdg), free(rdb);
}

static void fused_bn_silu_matches_batch_norm_then_silu(void)
{
    const int64_t rows = 126, c = 37, n = rows * c;
    const float eps = 1e-3f;
    float *in = rnd(n, 81, -2, 3), *gam = rnd(c, 82, 0.5f, 1.5f), *bet = rnd(c, 83, -1, 1);
    float *rm = rnd(c, 84, -0.5f, 0.5f), *rv = rnd(c, 85, 0.2f, 2), *dout = rnd(n, 86, -1, 1);
    float *out = malloc((size_t)n * sizeof(float)), mean[37], invstd[37];
    float *din = rnd(n, 87, -1, 1), *dg = rnd(c, 88, -1, 1), *db = rnd(c, 89, -1, 1);
    float *din0 = copyf(din, n), *dg0 = copyf(dg, c), *db0 = copyf(db, c);
    double *y = dalloc(n), *ref = dalloc(n), *dy = dalloc(n), *rdin = dalloc(n), rdg[37], rdb[37];

    /* training */
    naive_bn_forward_train(y, NULL, NULL, in, gam, bet, rows, c, eps);
    for (int64_t i = 0; i < n; i++) {
        ref[i] = naive_silu(y[i]);
        dy[i] = dout[i] * naive_silu_grad(y[i]);
    }
    ecg_bn_silu_forward_train(out, mean, invstd, in, gam, bet, rows, c, eps);
    CU_ASSERT_TRUE(close_ref("bn+silu train out", out, ref, NULL, n, 1e-5, 1e-5));
    naive_bn_backward_train(rdin, rdg, rdb, dy, in, gam, rows, c, eps);
    ecg_bn_silu_backward_train(din, dg, db, dout, in, mean, invstd, gam, bet, rows, c);
    CU_ASSERT_TRUE(close_ref("bn+silu train din (accumulated)", din, rdin, din0, n, 1e-4, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn+silu train dgamma (accumulated)", dg, rdg, dg0, c, 1e-4, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn+silu train dbeta (accumulated)", db, rdb, db0, c, 1e-4, 1e-5));
    fill_nan(din, n);
    memcpy(dg, dg0, (size_t)c * sizeof(float));
    ecg_bn_silu_backward_train_set(din, dg, NULL, dout, in, mean, invstd, gam, bet, rows, c);
    CU_ASSERT_TRUE(close_ref("bn+silu train din overwritten (_set)", din, rdin, NULL, n, 1e-4, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn+silu train dgamma accumulated (_set)", dg, rdg, dg0, c, 1e-4, 1e-5));

    /* fixed statistics */
    naive_bn_forward_fixed(y, in, gam, bet, rm, rv, rows, c, eps);
    for (int64_t i = 0; i < n; i++)
        ref[i] = naive_silu(y[i]);
    ecg_bn_silu_forward_fixed(out, in, gam, bet, rm, rv, rows, c, eps);
    CU_ASSERT_TRUE(close_ref("bn+silu fixed out", out, ref, NULL, n, 1e-5, 1e-5));
    memset(rdg, 0, sizeof rdg);
    memset(rdb, 0, sizeof rdb);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < c; j++) {
            double is = 1.0 / sqrt((double)rv[j] + eps), g = dout[r * c + j] * naive_silu_grad(y[r * c + j]);
            rdin[r * c + j] = g * gam[j] * is;
            rdg[j] += g * (in[r * c + j] - rm[j]) * is;
            rdb[j] += g;
        }
    memcpy(din, din0, (size_t)n * sizeof(float));
    memcpy(dg, dg0, (size_t)c * sizeof(float));
    memcpy(db, db0, (size_t)c * sizeof(float));
    ecg_bn_silu_backward_fixed(din, dg, db, dout, in, gam, bet, rm, rv, rows, c, eps);
    CU_ASSERT_TRUE(close_ref("bn+silu fixed din (accumulated)", din, rdin, din0, n, 1e-5, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn+silu fixed dgamma (accumulated)", dg, rdg, dg0, c, 1e-5, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn+silu fixed dbeta (accumulated)", db, rdb, db0, c, 1e-5, 1e-5));
    fill_nan(din, n);
    memcpy(dg, dg0, (size_t)c * sizeof(float));
    ecg_bn_silu_backward_fixed_set(din, dg, NULL, dout, in, gam, bet, rm, rv, rows, c, eps);
    CU_ASSERT_TRUE(close_ref("bn+silu fixed din overwritten (_set)", din, rdin, NULL, n, 1e-5, 1e-5));
    CU_ASSERT_TRUE(close_ref("bn+silu fixed dgamma accumulated (_set)", dg, rdg, dg0, c, 1e-5, 1e-5));
    free(in), free(gam), free(bet), free(rm), free(rv), free(dout), free(out), free(din), free(dg), free(db);
    free(din0), free(dg0), free(db0), free(y), free(ref), free(dy), free(rdin);
}

/* The overwriting fused backward keeps dout * silu'(y) from its sums pass in din instead of evaluating the
 * sigmoid again: the same bits as accumulating onto zeros, which evaluates it twice. */
static void bn_silu_backward_into_a_fresh_buffer_gives_the_bits_of_accumulating_onto_zeros(void)
{
    const int64_t rows = 70, c = 45, n = rows * c;
    float *in = rnd(n, 31, -2, 3), *gam = rnd(c, 32, 0.5f, 1.5f), *bet = rnd(c, 33, -1, 1);
    float *rm = rnd(c, 34, -0.5f, 0.5f), *rv = rnd(c, 35, 0.2f, 2), *dout = rnd(n, 36, -1, 1);
    float *out = malloc((size_t)n * sizeof(float)), mean[45], invstd[45];
    float *d1 = malloc((size_t)n * sizeof(float)), *d2 = calloc((size_t)n, sizeof(float));
    float g1[45] = {0}, g2[45] = {0}, b1[45] = {0}, b2[45] = {0};
    ecg_bn_silu_forward_train(out, mean, invstd, in, gam, bet, rows, c, 1e-3f);
    fill_nan(d1, n);
    ecg_bn_silu_backward_train_set(d1, g1, b1, dout, in, mean, invstd, gam, bet, rows, c);
    ecg_bn_silu_backward_train(d2, g2, b2, dout, in, mean, invstd, gam, bet, rows, c);
    ECG_CHECK_CLOSE("train din", d1, d2, n, 0.0, 0.0);
    ECG_CHECK_CLOSE("train dgamma", g1, g2, c, 0.0, 0.0);
    ECG_CHECK_CLOSE("train dbeta", b1, b2, c, 0.0, 0.0);
    fill_nan(d1, n);
    memset(d2, 0, (size_t)n * sizeof(float));
    ecg_bn_silu_backward_fixed_set(d1, NULL, NULL, dout, in, gam, bet, rm, rv, rows, c, 1e-3f);
    ecg_bn_silu_backward_fixed(d2, NULL, NULL, dout, in, gam, bet, rm, rv, rows, c, 1e-3f);
    ECG_CHECK_CLOSE("fixed din", d1, d2, n, 0.0, 0.0);
    free(in), free(gam), free(bet), free(rm), free(rv), free(dout), free(out), free(d1), free(d2);
}

/* One convolution with a fused batch-norm epilogue against the convolution, then the batch-norm kernel. */
static bool check_fused_case(enum conv_kind kind, int64_t n, int64_t h, int64_t w, int64_t cin, int64_t cout,
                             int64_t k, int64_t s, bool silu)
{
    struct ecg_conv_geom g;
    ecg_conv_geom_init(&g, n, h, w, cin, kind == CONV_DENSE ? cout : cin, k, s, ECG_PAD_SYMMETRIC);
    const int64_t ni = n * h * w * cin, rows = n * g.oh * g.ow, c = g.cout, no = rows * c;
    float *in = rnd(ni, 91, -2, 2), *ker = rnd(kernel_numel(kind, &g), 92, -0.5f, 0.5f);
    float *gam = rnd(c, 93, 0.5f, 1.5f), *bet = rnd(c, 94, -1, 1), *rm = rnd(c, 95, -0.5f, 0.5f);
    float *rv = rnd(c, 96, 0.2f, 2), *scale = malloc((size_t)c * sizeof(float));
    float *ref = malloc((size_t)no * sizeof(float)), *out = malloc((size_t)no * sizeof(float));
    float *tmp = malloc((size_t)no * sizeof(float));
    int64_t sf = kind == CONV_DENSE ? ecg_conv2d_scratch_floats(&g) : 0;
    float *scratch = malloc((size_t)(sf > 0 ? sf : 1) * sizeof(float));
    conv_fwd(kind, tmp, in, ker, &g, scratch);
    if (silu)
        ecg_bn_silu_forward_fixed(ref, tmp, gam, bet, rm, rv, rows, c, 1e-3f);
    else
        ecg_bn_forward_fixed(ref, tmp, gam, bet, rm, rv, rows, c, 1e-3f);
    ecg_bn_fold_scale(scale, gam, rv, c, 1e-3f);
    const struct ecg_epilogue ep = {.mean = rm, .scale = scale, .shift = bet, .silu = silu};
    fill_nan(out, no);
    if (kind == CONV_DENSE)
        ecg_conv2d_forward_ep(out, in, ker, &g, scratch, &ep);
    else
        ecg_dwconv_forward_ep(out, in, ker, &g, &ep);
    char label[96];
    snprintf(label, sizeof label, "%s %lldx%lld cin %lld k %lld s %lld %s",
             kind == CONV_DENSE ? "conv2d" : "dwconv", (long long)h, (long long)w, (long long)cin,
             (long long)k, (long long)s, silu ? "bn+silu" : "bn");
    bool ok = ecg_test_close(label, out, ref, no, 0.0, 0.0);
    free(in), free(ker), free(gam), free(bet), free(rm), free(rv), free(scale), free(ref), free(out),
        free(tmp);
    free(scratch);
    return ok;
}

static void convolutions_with_a_fused_batch_norm_give_the_bits_of_the_two_kernels_in_turn(void)
{
    /* 1x1 (one GEMM), the direct stem path, the im2col path, depthwise 3x3 and 5x5 with stride */
    CU_ASSERT_TRUE(check_fused_case(CONV_DENSE, 2, 5, 7, 24, 40, 1, 1, true));
    CU_ASSERT_TRUE(check_fused_case(CONV_DENSE, 2, 5, 7, 24, 40, 1, 1, false));
    CU_ASSERT_TRUE(check_fused_case(CONV_DENSE, 2, 9, 11, 1, 32, 3, 2, true));
    CU_ASSERT_TRUE(check_fused_case(CONV_DENSE, 2, 9, 11, 5, 24, 3, 2, true));
    CU_ASSERT_TRUE(check_fused_case(CONV_DEPTHWISE, 2, 9, 11, 37, 37, 3, 1, true));
    CU_ASSERT_TRUE(check_fused_case(CONV_DEPTHWISE, 2, 9, 11, 48, 48, 5, 2, true));
    CU_ASSERT_TRUE(check_fused_case(CONV_DEPTHWISE, 1, 6, 4, 16, 16, 3, 2, false));
}

struct bn_fd {
    int mode; /* 0 train, 1 train + silu, 2 fixed, 3 fixed + silu */
    int64_t rows, c;
    float *in, *gam, *bet, *rm, *rv, *w, *out, *mean, *invstd;
};

static double bn_fd_loss(void *ctx)
{
    struct bn_fd *b = ctx;
    switch (b->mode) {
    case 0: ecg_bn_forward_train(b->out, b->mean, b->invstd, b->in, b->gam, b->bet, b->rows, b->c, 1e-3f); break;
    case 1: ecg_bn_silu_forward_train(b->out, b->mean, b->invstd, b->in, b->gam, b->bet, b->rows, b->c, 1e-3f); break;
    case 2: ecg_bn_forward_fixed(b->out, b->in, b->gam, b->bet, b->rm, b->rv, b->rows, b->c, 1e-3f); break;
    default: ecg_bn_silu_forward_fixed(b->out, b->in, b->gam, b->bet, b->rm, b->rv, b->rows, b->c, 1e-3f); break;
    }
    return ecg_gradcheck_dot(b->out, b->w, b->rows * b->c);
}

static void bn_gradients_agree_with_finite_differences(void)
{
    for (int mode = 0; mode < 4; mode++) {
        struct bn_fd b = {.mode = mode, .rows = 12, .c = 3};
        const int64_t n = 36;
        b.in = rnd(n, 91, -2, 2);
        b.gam = rnd(3, 92, 0.5f, 1.5f);
        b.bet = rnd(3, 93, -1, 1);
        b.rm = rnd(3, 94, -0.5f, 0.5f);
        b.rv = rnd(3, 95, 0.5f, 2);
        b.w = rnd(n, 96, -1, 1);
        b.out = malloc(n * sizeof(float));
        b.mean = malloc(3 * sizeof(float));
        b.invstd = malloc(3 * sizeof(float));
        float *din = calloc(n, sizeof(float)), dg[3] = {0}, db[3] = {0};
        bn_fd_loss(&b);
        switch (mode) {
        case 0: ecg_bn_backward_train(din, dg, db, b.w, b.in, b.mean, b.invstd, b.gam, 12, 3); break;
        case 1: ecg_bn_silu_backward_train(din, dg, db, b.w, b.in, b.mean, b.invstd, b.gam, b.bet, 12, 3); break;
        case 2: ecg_bn_backward_fixed(din, dg, db, b.w, b.in, b.gam, b.rm, b.rv, 12, 3, 1e-3f); break;
        default: ecg_bn_silu_backward_fixed(din, dg, db, b.w, b.in, b.gam, b.bet, b.rm, b.rv, 12, 3, 1e-3f); break;
        }
        struct ecg_gradcheck_tensor t[] = {
            {"bn din", b.in, din, n}, {"bn dgamma", b.gam, dg, 3}, {"bn dbeta", b.bet, db, 3}};
        if (!ecg_gradcheck(bn_fd_loss, &b, t, 3, NULL))
            printf("  (batch norm mode %d)\n", mode);
        CU_ASSERT_TRUE(ecg_gradcheck(bn_fd_loss, &b, t, 3, NULL));
        free(b.in), free(b.gam), free(b.bet), free(b.rm), free(b.rv), free(b.w), free(b.out), free(b.mean);
        free(b.invstd), free(din);
    }
}

/* ---- activations ---------------------------------------------------------------------- */

static void silu_and_sigmoid_match_libm_over_a_wide_range(void)
{
    const int64_t n = 17001;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    double *ref = dalloc(n);
    for (int64_t i = 0; i < n; i++)
        x[i] = -85.0f + 170.0f * (float)i / (float)(n - 1);
    ecg_sigmoid_forward(y, x, n);
    for (int64_t i = 0; i < n; i++)
        ref[i] = naive_sigmoid(x[i]);
    CU_ASSERT_TRUE(close_ref("sigmoid on [-85, 85]", y, ref, NULL, n, 1e-6, 0));
    ecg_silu_forward(y, x, n);
    for (int64_t i = 0; i < n; i++)
        ref[i] = naive_silu(x[i]);
    CU_ASSERT_TRUE(close_ref("silu on [-85, 85]", y, ref, NULL, n, 1e-6, 0));
    /* extremes stay finite and saturate, NaN propagates */
    float ex[6] = {-1000.0f, -90.0f, 90.0f, 1000.0f, NAN, INFINITY}, ey[6];
    ecg_sigmoid_forward(ey, ex, 6);
    CU_ASSERT_TRUE(ey[0] >= 0.0f && ey[0] < 1e-37f);
    CU_ASSERT_TRUE(ey[1] >= 0.0f && ey[1] < 1e-37f);
    CU_ASSERT_EQUAL(ey[2], 1.0f);
    CU_ASSERT_EQUAL(ey[3], 1.0f);
    CU_ASSERT_TRUE(isnan(ey[4]));
    CU_ASSERT_EQUAL(ey[5], 1.0f);
    ecg_silu_forward(ey, ex, 6);
    CU_ASSERT_TRUE(ey[0] <= 0.0f && ey[0] > -1e-33f);
    CU_ASSERT_EQUAL(ey[3], 1000.0f);
    CU_ASSERT_TRUE(isnan(ey[4]));
    free(x), free(y), free(ref);
}

static void activation_backward_matches_the_derivative_and_accumulates(void)
{
    const int64_t n = 777;
    float *x = rnd(n, 101, -8, 8), *dout = rnd(n, 102, -1, 1), *din = rnd(n, 103, -1, 1);
    float *din0 = copyf(din, n), *y = malloc(n * sizeof(float));
    double *ref = dalloc(n);
    for (int64_t i = 0; i < n; i++)
        ref[i] = dout[i] * naive_silu_grad(x[i]);
    ecg_silu_backward(din, dout, x, n);
    CU_ASSERT_TRUE(close_ref("silu din (accumulated)", din, ref, din0, n, 1e-5, 1e-6));
    fill_nan(din, n);
    ecg_silu_backward_set(din, dout, x, n);
    CU_ASSERT_TRUE(close_ref("silu din overwritten (_set)", din, ref, NULL, n, 1e-5, 1e-6));
    ecg_sigmoid_forward(y, x, n);
    memcpy(din, din0, n * sizeof(float));
    for (int64_t i = 0; i < n; i++)
        ref[i] = dout[i] * naive_sigmoid(x[i]) * (1.0 - naive_sigmoid(x[i]));
    ecg_sigmoid_backward(din, dout, y, n);
    CU_ASSERT_TRUE(close_ref("sigmoid din (accumulated)", din, ref, din0, n, 1e-5, 1e-6));
    fill_nan(din, n);
    ecg_sigmoid_backward_set(din, dout, y, n);
    CU_ASSERT_TRUE(close_ref("sigmoid din overwritten (_set)", din, ref, NULL, n, 1e-5, 1e-6));
    ecg_silu_backward(NULL, dout, x, n); /* NULL gradient: nothing to do */
    free(x), free(dout), free(din), free(din0), free(y), free(ref);
}

/* ---- pooling, channel scale, dense, mask -------------------------------------------- */

static void gap_and_channel_scale_match_naive_loops(void)
{
    const int64_t n = 2, hw = 63, c = 37, nin = n * hw * c;
    float *in = rnd(nin, 111, -1, 1), *sc = rnd(n * c, 112, -1, 1), *dout = rnd(nin, 113, -1, 1);
    float *gout = rnd(n * c, 114, -1, 1), out[74], *y = malloc(nin * sizeof(float));
    float *din = rnd(nin, 115, -1, 1), *ds = rnd(n * c, 116, -1, 1), *din0 = copyf(din, nin), *ds0 = copyf(ds, n * c);
    double ref[74], *rin = dalloc(nin), rds[74] = {0};
    naive_gap_forward(ref, in, n, hw, c);
    ecg_gap_forward(out, in, n, hw, c);
    CU_ASSERT_TRUE(close_ref("gap out", out, ref, NULL, n * c, 1e-6, 1e-7));
    for (int64_t i = 0; i < nin; i++)
        rin[i] = gout[(i / (hw * c)) * c + i % c] / (double)hw;
    ecg_gap_backward(din, gout, n, hw, c);
    CU_ASSERT_TRUE(close_ref("gap din (accumulated)", din, rin, din0, nin, 1e-6, 1e-7));
    fill_nan(din, nin);
    ecg_gap_backward_set(din, gout, n, hw, c);
    CU_ASSERT_TRUE(close_ref("gap din overwritten (_set)", din, rin, NULL, nin, 1e-6, 1e-7));

    double *ry = dalloc(nin);
    for (int64_t i = 0; i < nin; i++) {
        int64_t s = (i / (hw * c)) * c + i % c;
        ry[i] = (double)in[i] * sc[s];
        rin[i] = (double)dout[i] * sc[s];
        rds[s] += (double)dout[i] * in[i];
    }
    ecg_channel_scale_forward(y, in, sc, n, hw, c);
    CU_ASSERT_TRUE(close_ref("channel scale out", y, ry, NULL, nin, 1e-6, 1e-7));
    memcpy(din, din0, nin * sizeof(float));
    ecg_channel_scale_backward(din, ds, dout, in, sc, n, hw, c);
    CU_ASSERT_TRUE(close_ref("channel scale din (accumulated)", din, rin, din0, nin, 1e-6, 1e-7));
    CU_ASSERT_TRUE(close_ref("channel scale dscale (accumulated)", ds, rds, ds0, n * c, 1e-5, 1e-6));
    memcpy(ds, ds0, n * c * sizeof(float));
    ecg_channel_scale_backward(NULL, ds, dout, in, sc, n, hw, c);
    CU_ASSERT_TRUE(close_ref("channel scale dscale alone", ds, rds, ds0, n * c, 1e-5, 1e-6));
    fill_nan(din, nin);
    memcpy(ds, ds0, n * c * sizeof(float));
    ecg_channel_scale_backward_set(din, ds, dout, in, sc, n, hw, c);
    CU_ASSERT_TRUE(close_ref("channel scale din overwritten (_set)", din, rin, NULL, nin, 1e-6, 1e-7));
    CU_ASSERT_TRUE(close_ref("channel scale dscale accumulated (_set)", ds, rds, ds0, n * c, 1e-5, 1e-6));
    free(in), free(sc), free(dout), free(gout), free(y), free(din), free(ds), free(din0), free(ds0);
    free(rin), free(ry);
}

struct pool_fd {
    int64_t n, hw, c;
    float *in, *sc, *w, *out;
};

static double pool_fd_loss(void *ctx)
{
    struct pool_fd *p = ctx;
    /* SE-like composite: channel_scale(in, gap(in) * sc) exercises both kernels */
    float g[12];
    ecg_gap_forward(g, p->in, p->n, p->hw, p->c);
    for (int64_t i = 0; i < p->n * p->c; i++)
        g[i] *= p->sc[i];
    ecg_channel_scale_forward(p->out, p->in, g, p->n, p->hw, p->c);
    return ecg_gradcheck_dot(p->out, p->w, p->n * p->hw * p->c);
}

static void gap_and_channel_scale_gradients_agree_with_finite_differences(void)
{
    struct pool_fd p = {.n = 2, .hw = 5, .c = 6};
    const int64_t nin = 60;
    p.in = rnd(nin, 121, -1, 1);
    p.sc = rnd(12, 122, -2, 2);
    p.w = rnd(nin, 123, -1, 1);
    p.out = malloc(nin * sizeof(float));
    float g[12], dg[12] = {0}, dsc[12], *din = calloc(nin, sizeof(float));
    ecg_gap_forward(g, p.in, 2, 5, 6);
    float s[12];
    for (int i = 0; i < 12; i++)
        s[i] = g[i] * p.sc[i];
    ecg_channel_scale_backward(din, dg, p.w, p.in, s, 2, 5, 6);
    for (int i = 0; i < 12; i++) {
        dsc[i] = dg[i] * g[i];
        dg[i] *= p.sc[i];
    }
    ecg_gap_backward(din, dg, 2, 5, 6);
    struct ecg_gradcheck_tensor t[] = {{"se din", p.in, din, nin}, {"se dscale", p.sc, dsc, 12}};
    CU_ASSERT_TRUE(ecg_gradcheck(pool_fd_loss, &p, t, 2, NULL));
    free(p.in), free(p.sc), free(p.w), free(p.out), free(din);
}

struct dense_fd {
    int64_t rows, cin, cout;
    float *in, *k, *b, *w, *out;
};

static double dense_fd_loss(void *ctx)
{
    struct dense_fd *d = ctx;
    ecg_dense_forward(d->out, d->in, d->k, d->b, d->rows, d->cin, d->cout);
    return ecg_gradcheck_dot(d->out, d->w, d->rows * d->cout);
}

static void dense_matches_naive_loops_and_finite_differences(void)
{
    const int64_t rows = 5, cin = 7, cout = 3;
    float *in = rnd(rows * cin, 131, -1, 1), *k = rnd(cin * cout, 132, -1, 1), *b = rnd(cout, 133, -1, 1);
    float *dout = rnd(rows * cout, 134, -1, 1), out[15];
    float *din = rnd(rows * cin, 135, -1, 1), *dk = rnd(cin * cout, 136, -1, 1), *db = rnd(cout, 137, -1, 1);
    float *din0 = copyf(din, rows * cin), *dk0 = copyf(dk, cin * cout), *db0 = copyf(db, cout);
    double ref[15], rdin[35] = {0}, rdk[21] = {0}, rdb[3] = {0};
    naive_dense_forward(ref, in, k, b, rows, cin, cout);
    ecg_dense_forward(out, in, k, b, rows, cin, cout);
    CU_ASSERT_TRUE(close_ref("dense out with bias", out, ref, NULL, 15, 1e-6, 1e-6));
    naive_dense_forward(ref, in, k, NULL, rows, cin, cout);
    ecg_dense_forward(out, in, k, NULL, rows, cin, cout);
    CU_ASSERT_TRUE(close_ref("dense out without bias", out, ref, NULL, 15, 1e-6, 1e-6));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < cout; o++) {
            double g = dout[r * cout + o];
            rdb[o] += g;
            for (int64_t i = 0; i < cin; i++) {
                rdin[r * cin + i] += g * k[i * cout + o];
                rdk[i * cout + o] += g * in[r * cin + i];
            }
        }
    ecg_dense_backward(din, dk, db, dout, in, k, rows, cin, cout);
    CU_ASSERT_TRUE(close_ref("dense din (accumulated)", din, rdin, din0, rows * cin, 1e-6, 1e-6));
    CU_ASSERT_TRUE(close_ref("dense dkernel (accumulated)", dk, rdk, dk0, cin * cout, 1e-6, 1e-6));
    CU_ASSERT_TRUE(close_ref("dense dbias (accumulated)", db, rdb, db0, cout, 1e-6, 1e-6));
    fill_nan(din, rows * cin);
    memcpy(dk, dk0, cin * cout * sizeof(float));
    ecg_dense_backward_set(din, dk, NULL, dout, in, k, rows, cin, cout);
    CU_ASSERT_TRUE(close_ref("dense din overwritten (_set)", din, rdin, NULL, rows * cin, 1e-6, 1e-6));
    CU_ASSERT_TRUE(close_ref("dense dkernel accumulated (_set)", dk, rdk, dk0, cin * cout, 1e-6, 1e-6));

    /* finite differences of sum(out * dout) */
    struct dense_fd fd = {rows, cin, cout, in, k, b, dout, out};
    float *gin = calloc(rows * cin, sizeof(float)), *gk = calloc(cin * cout, sizeof(float)), gb[3] = {0};
    ecg_dense_backward(gin, gk, gb, dout, in, k, rows, cin, cout);
    struct ecg_gradcheck_tensor t[] = {
        {"dense din", in, gin, rows * cin}, {"dense dkernel", k, gk, cin * cout}, {"dense dbias", b, gb, cout}};
    CU_ASSERT_TRUE(ecg_gradcheck(dense_fd_loss, &fd, t, 3, NULL));
    free(gin), free(gk);
    free(in), free(k), free(b), free(dout), free(din), free(dk), free(db), free(din0), free(dk0), free(db0);
}

static void mask_forward_and_backward_multiply_by_the_mask(void)
{
    const int64_t n = 100001;
    float *in = rnd(n, 141, -1, 1), *dout = rnd(n, 142, -1, 1), *mask = malloc(n * sizeof(float));
    float *out = malloc(n * sizeof(float)), *din = rnd(n, 143, -1, 1), *din0 = copyf(din, n);
    double *ref = dalloc(n), *rdin = dalloc(n);
    for (int64_t i = 0; i < n; i++) {
        mask[i] = (i % 3 == 0) ? 0.0f : 1.5f;
        ref[i] = (double)in[i] * mask[i];
        rdin[i] = (double)dout[i] * mask[i];
    }
    ecg_mask_forward(out, in, mask, n);
    CU_ASSERT_TRUE(close_ref("mask out", out, ref, NULL, n, 0, 0));
    ecg_mask_backward(din, dout, mask, n);
    CU_ASSERT_TRUE(close_ref("mask din (accumulated)", din, rdin, din0, n, 1e-7, 1e-7));
    fill_nan(din, n);
    ecg_mask_backward_set(din, dout, mask, n);
    CU_ASSERT_TRUE(close_ref("mask din overwritten (_set)", din, rdin, NULL, n, 0, 0));
    free(in), free(dout), free(mask), free(out), free(din), free(din0), free(ref), free(rdin);
}

/* ---- softmax cross-entropy ------------------------------------------------------------ */

static void xent_matches_closed_forms(void)
{
    /* equal logits: p = 1/k, loss = log k whatever the labels and smoothing */
    float z[12] = {0}, p[12], d[12] = {0};
    int32_t y[3] = {0, 3, 2};
    double loss = ecg_softmax_xent(p, d, z, y, NULL, 3, 4, 0.2f);
    CU_ASSERT_DOUBLE_EQUAL(loss, log(4.0), 1e-7);
    for (int i = 0; i < 12; i++) {
        CU_ASSERT_DOUBLE_EQUAL(p[i], 0.25, 1e-7);
        double target = (i % 4 == y[i / 4] ? 0.8 : 0.0) + 0.05;
        CU_ASSERT_DOUBLE_EQUAL(d[i], (0.25 - target) / 3.0, 1e-7);
    }
    /* two classes, p = (1/4, 3/4) */
    float z2[2] = {0.0f, (float)log(3.0)}, p2[2];
    int32_t y2 = 1;
    CU_ASSERT_DOUBLE_EQUAL(ecg_softmax_xent(p2, NULL, z2, &y2, NULL, 1, 2, 0.0f), -log(0.75), 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(p2[0], 0.25, 1e-7);
    /* smoothing 0.1 on the same: 0.95 * -log(3/4) + 0.05 * -log(1/4) */
    CU_ASSERT_DOUBLE_EQUAL(ecg_softmax_xent(p2, NULL, z2, &y2, NULL, 1, 2, 0.1f),
                           0.95 * -log(0.75) + 0.05 * -log(0.25), 1e-7);
    /* huge logits stay finite */
    float z3[3] = {1000.0f, -1000.0f, 999.0f}, p3[3], d3[3] = {0};
    int32_t y3 = 2;
    loss = ecg_softmax_xent(p3, d3, z3, &y3, NULL, 1, 3, 0.0f);
    CU_ASSERT_DOUBLE_EQUAL(loss, log(1.0 + exp(1.0)), 1e-6);
    CU_ASSERT_TRUE(isfinite(d3[0]) && isfinite(d3[1]) && isfinite(d3[2]));
}

static void weighted_smoothed_xent_matches_pytorch_formula_and_finite_differences(void)
{
    const int64_t n = 6, k = 5;
    float *z = rnd(n * k, 151, -3, 3), *w = rnd(k, 152, 0.2f, 3), p[30], d[30], *d0 = rnd(n * k, 153, -1, 1);
    int32_t y[6] = {0, 4, 2, 2, 1, 3};
    double rd[30];
    const float smooths[3] = {0.0f, 0.1f, 0.3f};
    for (int s = 0; s < 3; s++)
        for (int weighted = 0; weighted < 2; weighted++) {
            const float *cw = weighted ? w : NULL;
            memcpy(d, d0, sizeof d);
            double loss = ecg_softmax_xent(p, d, z, y, cw, n, k, smooths[s]);
            double ref = naive_xent(rd, z, y, cw, n, k, smooths[s]);
            CU_ASSERT_DOUBLE_EQUAL(loss, ref, 1e-9 * fabs(ref) + 1e-12);
            CU_ASSERT_TRUE(close_ref("xent dlogits (accumulated) vs central differences of the formula", d,
                                     rd, d0, n * k, 1e-5, 1e-7));
        }
    free(z), free(w), free(d0);
}

static void xent_with_zero_total_weight_returns_nan_and_leaves_gradients(void)
{
    float z[4] = {1, 2, 3, 4}, p[4], d[4] = {7, 7, 7, 7}, w[2] = {0.0f, 1.0f};
    int32_t y[2] = {0, 0};
    CU_ASSERT_TRUE(isnan(ecg_softmax_xent(p, d, z, y, w, 2, 2, 0.1f)));
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(d[i], 7.0f);
}

/* ---- finite differences for the elementwise kernels and the loss ----------------------- */

struct elem_fd {
    int kind; /* 0 silu, 1 sigmoid, 2 mask, 3 softmax xent */
    int64_t n;
    float *x, *w, *mask, *out, *probs, *cw;
    int32_t *labels;
};

static double elem_fd_loss(void *ctx)
{
    struct elem_fd *e = ctx;
    switch (e->kind) {
    case 0: ecg_silu_forward(e->out, e->x, e->n); break;
    case 1: ecg_sigmoid_forward(e->out, e->x, e->n); break;
    case 2: ecg_mask_forward(e->out, e->x, e->mask, e->n); break;
    default: return ecg_softmax_xent(e->probs, NULL, e->x, e->labels, e->cw, 4, 5, 0.15f);
    }
    return ecg_gradcheck_dot(e->out, e->w, e->n);
}

static void elementwise_and_loss_gradients_agree_with_finite_differences(void)
{
    const char *names[4] = {"silu din", "sigmoid din", "mask din", "xent dlogits"};
    int32_t labels[4] = {1, 4, 0, 1};
    for (int kind = 0; kind < 4; kind++) {
        struct elem_fd e = {.kind = kind, .n = 20, .labels = labels};
        e.x = rnd(20, 161, -4, 4);
        e.w = rnd(20, 162, -1, 1);
        e.mask = rnd(20, 163, 0, 2);
        e.cw = rnd(5, 164, 0.3f, 2);
        e.out = malloc(20 * sizeof(float));
        e.probs = malloc(20 * sizeof(float));
        float *d = calloc(20, sizeof(float));
        switch (kind) {
        case 0: ecg_silu_backward(d, e.w, e.x, 20); break;
        case 1:
            ecg_sigmoid_forward(e.out, e.x, 20);
            ecg_sigmoid_backward(d, e.w, e.out, 20);
            break;
        case 2: ecg_mask_backward(d, e.w, e.mask, 20); break;
        default: ecg_softmax_xent(e.probs, d, e.x, labels, e.cw, 4, 5, 0.15f); break;
        }
        struct ecg_gradcheck_tensor t[] = {{names[kind], e.x, d, 20}};
        CU_ASSERT_TRUE(ecg_gradcheck(elem_fd_loss, &e, t, 1, NULL));
        free(e.x), free(e.w), free(e.mask), free(e.cw), free(e.out), free(e.probs), free(d);
    }
}

/* ---- PyTorch fixtures ------------------------------------------------------------------ */

/*
 * tests/fixtures/kernels/<name>.bin, written by tests/fixtures/gen_kernel_fixtures.py:
 * text header lines "<array name> <count>\n", a line "end\n", then the arrays' float32
 * little-endian values in header order.
 */
#define FIX_MAX 256

struct fixture {
    int count;
    char names[FIX_MAX][64];
    int64_t sizes[FIX_MAX];
    float *data[FIX_MAX];
};

static bool fixture_load(struct fixture *f, const char *rel)
{
    memset(f, 0, sizeof(*f));
    FILE *fp = fopen(ecg_test_fixture(rel), "rb");
    if (!fp) {
        printf("\n  cannot open fixture %s\n", ecg_test_fixture(rel));
        return false;
    }
    char line[256];
    bool ok = false;
    while (fgets(line, sizeof line, fp)) {
        if (strcmp(line, "end\n") == 0) {
            ok = true;
            break;
        }
        long long cnt;
        if (f->count >= FIX_MAX || sscanf(line, "%63s %lld", f->names[f->count], &cnt) != 2)
            break;
        f->sizes[f->count++] = cnt;
    }
    for (int i = 0; ok && i < f->count; i++) {
        f->data[i] = malloc((size_t)f->sizes[i] * sizeof(float));
        ok = fread(f->data[i], sizeof(float), (size_t)f->sizes[i], fp) == (size_t)f->sizes[i];
    }
    fclose(fp);
    if (!ok)
        printf("\n  fixture %s is malformed\n", rel);
    return ok;
}

static float *fixture_get(const struct fixture *f, const char *fmt, const char *prefix, int64_t expect)
{
    char name[96];
    snprintf(name, sizeof name, fmt, prefix);
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->names[i], name) == 0) {
            if (expect >= 0 && f->sizes[i] != expect) {
                printf("\n  fixture array %s has %lld values, expected %lld\n", name, (long long)f->sizes[i],
                       (long long)expect);
                return NULL;
            }
            return f->data[i];
        }
    printf("\n  fixture array %s is missing\n", name);
    return NULL;
}

static void fixture_free(struct fixture *f)
{
    for (int i = 0; i < f->count; i++)
        free(f->data[i]);
}

#define FIX_RTOL 1e-4
#define FIX_ATOL 1e-5

/* Checks every case "<prefix>.shape" of a conv fixture; the prefix ends in _same or _symmetric. */
static void conv_fixture(enum conv_kind kind, const char *file, int expect_cases)
{
    struct fixture f;
    CU_ASSERT_TRUE_FATAL(fixture_load(&f, file));
    int checked = 0;
    for (int a = 0; a < f.count; a++) {
        size_t len = strlen(f.names[a]);
        if (len < 6 || strcmp(f.names[a] + len - 6, ".shape") != 0)
            continue;
        char pre[64];
        snprintf(pre, sizeof pre, "%.*s", (int)(len - 6), f.names[a]);
        enum ecg_padding pad = strstr(pre, "_symmetric") ? ECG_PAD_SYMMETRIC : ECG_PAD_SAME;
        float *shape = fixture_get(&f, "%s.shape", pre, 5), *ks = fixture_get(&f, "%s.ks", pre, 2);
        CU_ASSERT_TRUE_FATAL(shape && ks);
        struct ecg_conv_geom g;
        ecg_conv_geom_init(&g, (int64_t)shape[0], (int64_t)shape[1], (int64_t)shape[2], (int64_t)shape[3],
                           (int64_t)shape[4], (int64_t)ks[0], (int64_t)ks[1], pad);
        const int64_t nin = g.n * g.h * g.w * g.cin, nout = g.n * g.oh * g.ow * g.cout;
        const int64_t nk = kernel_numel(kind, &g);
        float *x = fixture_get(&f, "%s.x", pre, nin), *w = fixture_get(&f, "%s.w", pre, nk);
        float *y = fixture_get(&f, "%s.y", pre, nout), *gy = fixture_get(&f, "%s.gy", pre, nout);
        float *gx = fixture_get(&f, "%s.gx", pre, nin), *gw = fixture_get(&f, "%s.gw", pre, nk);
        CU_ASSERT_TRUE_FATAL(x && w && y && gy && gx && gw);
        int64_t ns = kind == CONV_DENSE ? ecg_conv2d_scratch_floats(&g) : 0;
        float *scratch = ns > 0 ? malloc((size_t)ns * sizeof(float)) : NULL;
        float *out = malloc((size_t)nout * sizeof(float));
        float *din = calloc((size_t)nin, sizeof(float)), *dk = calloc((size_t)nk, sizeof(float));
        conv_fwd(kind, out, x, w, &g, scratch);
        conv_bwd(kind, din, dk, gy, x, w, &g, scratch);
        char label[128];
        snprintf(label, sizeof label, "%s %s output vs torch", file, pre);
        CU_ASSERT_TRUE(ecg_test_close(label, out, y, nout, FIX_RTOL, FIX_ATOL));
        snprintf(label, sizeof label, "%s %s input grad vs torch", file, pre);
        CU_ASSERT_TRUE(ecg_test_close(label, din, gx, nin, FIX_RTOL, FIX_ATOL));
        snprintf(label, sizeof label, "%s %s kernel grad vs torch", file, pre);
        CU_ASSERT_TRUE(ecg_test_close(label, dk, gw, nk, FIX_RTOL, FIX_ATOL));
        free(scratch), free(out), free(din), free(dk);
        checked++;
    }
    CU_ASSERT_EQUAL(checked, expect_cases);
    fixture_free(&f);
}

/* 12 sizes/strides/paddings, plus RGB and one-channel stems (the direct path) with both paddings */
static void conv2d_matches_pytorch_with_both_paddings(void)
{
    conv_fixture(CONV_DENSE, "kernels/conv2d.bin", 16);
}

static void dwconv_matches_pytorch_with_both_paddings(void)
{
    conv_fixture(CONV_DEPTHWISE, "kernels/dwconv.bin", 12);
}

static void batch_norm_matches_pytorch_in_train_and_eval_mode(void)
{
    struct fixture f;
    CU_ASSERT_TRUE_FATAL(fixture_load(&f, "kernels/bn.bin"));
    float *shape = fixture_get(&f, "%sshape", "", 4);
    CU_ASSERT_PTR_NOT_NULL_FATAL(shape);
    const int64_t rows = (int64_t)(shape[0] * shape[1] * shape[2]), c = (int64_t)shape[3], n = rows * c;
    const char *cases[2] = {"plain", "silu"};
    for (int s = 0; s < 2; s++) {
        const bool silu = s == 1;
        const char *pre = cases[s];
        float *x = fixture_get(&f, "%s.x", pre, n), *gam = fixture_get(&f, "%s.gamma", pre, c);
        float *bet = fixture_get(&f, "%s.beta", pre, c), *rm0 = fixture_get(&f, "%s.run_mean0", pre, c);
        float *rv0 = fixture_get(&f, "%s.run_var0", pre, c), *gy = fixture_get(&f, "%s.gy", pre, n);
        float *y = fixture_get(&f, "%s.train.y", pre, n), *rm1 = fixture_get(&f, "%s.train.run_mean", pre, c);
        float *rv1 = fixture_get(&f, "%s.train.run_var", pre, c), *gx = fixture_get(&f, "%s.train.gx", pre, n);
        float *gg = fixture_get(&f, "%s.train.ggamma", pre, c), *gb = fixture_get(&f, "%s.train.gbeta", pre, c);
        float *ey = fixture_get(&f, "%s.eval.y", pre, n), *egx = fixture_get(&f, "%s.eval.gx", pre, n);
        float *egg = fixture_get(&f, "%s.eval.ggamma", pre, c), *egb = fixture_get(&f, "%s.eval.gbeta", pre, c);
        float *eps = fixture_get(&f, "%s.eps", pre, 1), *mom = fixture_get(&f, "%s.momentum", pre, 1);
        CU_ASSERT_TRUE_FATAL(x && gam && bet && rm0 && rv0 && gy && y && rm1 && rv1 && gx && gg && gb && ey &&
                             egx && egg && egb && eps && mom);
        float *out = malloc(n * sizeof(float)), *din = calloc(n, sizeof(float));
        float *mean = malloc(c * sizeof(float)), *invstd = malloc(c * sizeof(float));
        float *dg = calloc(c, sizeof(float)), *db = calloc(c, sizeof(float));
        float *rm = copyf(rm0, c), *rv = copyf(rv0, c);
        char label[96];
        if (silu) {
            ecg_bn_silu_forward_train(out, mean, invstd, x, gam, bet, rows, c, eps[0]);
            ecg_bn_silu_backward_train(din, dg, db, gy, x, mean, invstd, gam, bet, rows, c);
        } else {
            ecg_bn_forward_train(out, mean, invstd, x, gam, bet, rows, c, eps[0]);
            ecg_bn_backward_train(din, dg, db, gy, x, mean, invstd, gam, rows, c);
        }
        ecg_bn_update_running(rm, rv, mean, invstd, rows, c, eps[0], mom[0]);
        snprintf(label, sizeof label, "bn %s train output vs torch", pre);
        CU_ASSERT_TRUE(ecg_test_close(label, out, y, n, FIX_RTOL, FIX_ATOL));
        CU_ASSERT_TRUE(ecg_test_close("running mean vs torch", rm, rm1, c, FIX_RTOL, FIX_ATOL));
        CU_ASSERT_TRUE(ecg_test_close("running var vs torch", rv, rv1, c, FIX_RTOL, FIX_ATOL));
        snprintf(label, sizeof label, "bn %s train input grad vs torch", pre);
        CU_ASSERT_TRUE(ecg_test_close(label, din, gx, n, FIX_RTOL, FIX_ATOL));
        CU_ASSERT_TRUE(ecg_test_close("train dgamma vs torch", dg, gg, c, FIX_RTOL, FIX_ATOL));
        CU_ASSERT_TRUE(ecg_test_close("train dbeta vs torch", db, gb, c, FIX_RTOL, FIX_ATOL));

        memset(din, 0, n * sizeof(float));
        memset(dg, 0, c * sizeof(float));
        memset(db, 0, c * sizeof(float));
        if (silu) {
            ecg_bn_silu_forward_fixed(out, x, gam, bet, rm0, rv0, rows, c, eps[0]);
            ecg_bn_silu_backward_fixed(din, dg, db, gy, x, gam, bet, rm0, rv0, rows, c, eps[0]);
        } else {
            ecg_bn_forward_fixed(out, x, gam, bet, rm0, rv0, rows, c, eps[0]);
            ecg_bn_backward_fixed(din, dg, db, gy, x, gam, rm0, rv0, rows, c, eps[0]);
        }
        snprintf(label, sizeof label, "bn %s eval output vs torch", pre);
        CU_ASSERT_TRUE(ecg_test_close(label, out, ey, n, FIX_RTOL, FIX_ATOL));
        snprintf(label, sizeof label, "bn %s eval input grad vs torch", pre);
        CU_ASSERT_TRUE(ecg_test_close(label, din, egx, n, FIX_RTOL, FIX_ATOL));
        CU_ASSERT_TRUE(ecg_test_close("eval dgamma vs torch", dg, egg, c, FIX_RTOL, FIX_ATOL));
        CU_ASSERT_TRUE(ecg_test_close("eval dbeta vs torch", db, egb, c, FIX_RTOL, FIX_ATOL));
        free(out), free(din), free(mean), free(invstd), free(dg), free(db), free(rm), free(rv);
    }
    fixture_free(&f);
}

static void xent_matches_pytorch_cross_entropy_with_weights_and_smoothing(void)
{
    struct fixture f;
    CU_ASSERT_TRUE_FATAL(fixture_load(&f, "kernels/xent.bin"));
    float *shape = fixture_get(&f, "%sshape", "", 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(shape);
    const int64_t n = (int64_t)shape[0], k = (int64_t)shape[1];
    float *z = fixture_get(&f, "%slogits", "", n * k), *lab = fixture_get(&f, "%slabels", "", n);
    float *w = fixture_get(&f, "%sweight", "", k);
    CU_ASSERT_TRUE_FATAL(z && lab && w);
    int32_t *y = malloc(n * sizeof(int32_t));
    for (int64_t i = 0; i < n; i++)
        y[i] = (int32_t)lab[i];
    const char *cases[4] = {"plain", "smooth", "weighted", "weighted_smooth"};
    for (int c = 0; c < 4; c++) {
        float *loss = fixture_get(&f, "%s.loss", cases[c], 1), *gz = fixture_get(&f, "%s.grad", cases[c], n * k);
        float *sm = fixture_get(&f, "%s.smoothing", cases[c], 1);
        CU_ASSERT_TRUE_FATAL(loss && gz && sm);
        float *p = malloc(n * k * sizeof(float)), *d = calloc(n * k, sizeof(float));
        double got = ecg_softmax_xent(p, d, z, y, c >= 2 ? w : NULL, n, k, sm[0]);
        CU_ASSERT_DOUBLE_EQUAL(got, loss[0], 1e-5 * fabs(loss[0]) + 1e-6);
        if (fabs(got - loss[0]) > 1e-5 * fabs(loss[0]) + 1e-6)
            printf("\n  xent %s: loss %.8g, torch %.8g\n", cases[c], got, loss[0]);
        char label[64];
        snprintf(label, sizeof label, "xent %s dlogits vs torch", cases[c]);
        CU_ASSERT_TRUE(ecg_test_close(label, d, gz, n * k, FIX_RTOL, FIX_ATOL));
        free(p), free(d);
    }
    free(y);
    fixture_free(&f);
}

/* ---- suites ------------------------------------------------------------------------------ */

static const struct ecg_test conv_tests[] = {
    {"geometry follows Keras correct_pad and torchvision", geometry_follows_keras_correct_pad_and_torchvision},
    {"conv2d matches naive loops for all kernel sizes, strides and paddings",
     conv2d_matches_naive_loops_for_all_kernel_sizes_strides_and_paddings},
    {"conv2d with few input taps takes the direct path and matches naive loops",
     conv2d_with_few_input_taps_takes_the_direct_path_and_matches_naive_loops},
    {"conv2d with several im2col chunks matches naive loops", conv2d_with_several_im2col_chunks_matches_naive_loops},
    {"dwconv matches naive loops for all kernel sizes, strides and paddings",
     dwconv_matches_naive_loops_for_all_kernel_sizes_strides_and_paddings},
    {"conv gradients agree with finite differences", conv_gradients_agree_with_finite_differences},
    {"gradcheck catches a wrong gradient", gradcheck_catches_a_wrong_gradient},
    {"gradcheck samples large tensors deterministically", gradcheck_samples_large_tensors_deterministically},
    {"dwconv and batch norm are bit-identical across runs and thread counts",
     dwconv_and_batch_norm_are_bit_identical_across_runs_and_thread_counts},
    {"conv2d matches PyTorch with both paddings", conv2d_matches_pytorch_with_both_paddings},
    {"dwconv matches PyTorch with both paddings", dwconv_matches_pytorch_with_both_paddings},
    {NULL, NULL},
};

/* ---- synchronised batch norm: two replicas as two threads ------------------------------------- */

/* The replicas' sum: each thread publishes its buffer, both add the two in the same order. */
struct bn_pair {
    pthread_barrier_t bar;
    double *slot[2];
};
struct bn_replica {
    struct bn_pair *pair;
    int id;
    int64_t rows, c;
    const float *in, *dout, *gam, *bet;
    float *out, *mean, *invstd, *din, *dg, *db, *run_mean, *run_var;
    bool silu;
};

static void pair_sum(double *buf, int64_t n, void *ctx)
{
    struct bn_replica *r = ctx;
    double *sum = malloc((size_t)n * sizeof *sum);
    r->pair->slot[r->id] = buf;
    pthread_barrier_wait(&r->pair->bar);
    for (int64_t i = 0; i < n; i++)
        sum[i] = r->pair->slot[0][i] + r->pair->slot[1][i];
    pthread_barrier_wait(&r->pair->bar); /* both have read both buffers */
    memcpy(buf, sum, (size_t)n * sizeof *sum);
    free(sum);
}

static void *bn_replica_run(void *arg)
{
    struct bn_replica *r = arg;
    struct ecg_bn_sync sync = {.sum = pair_sum, .ctx = r, .root = r->id == 0};
    double total;
    ecg_bn_forward_train_sync(r->out, r->mean, r->invstd, &total, r->in, r->gam, r->bet, r->rows, r->c, 1e-3f,
                              r->silu, &sync);
    ecg_bn_update_running(r->run_mean, r->run_var, r->mean, r->invstd, (int64_t)total, r->c, 1e-3f, 0.1f);
    ecg_bn_backward_train_sync(r->din, r->dg, r->db, r->dout, r->in, r->mean, r->invstd, r->gam, r->bet, r->rows,
                               r->c, r->silu, false, &sync, total);
    return NULL;
}

/* Rows split 7 + 13 over two replicas give the whole batch's output, input gradient and running
 * statistics; the replicas' dgamma and dbeta add up to the whole batch's. */
static void synchronised_bn_over_two_replicas_equals_bn_over_the_whole_batch(void)
{
    const int64_t rows = 20, c = 5, n = rows * c, split = 7;
    for (int silu = 0; silu < 2; silu++) {
        float *in = rnd(n, 61, 2, 5), *dout = rnd(n, 62, -1, 1), *gam = rnd(c, 63, 0.5f, 1.5f);
        float *bet = rnd(c, 64, -1, 1), *out = calloc((size_t)n, 4), *din = calloc((size_t)n, 4);
        float mean[5], invstd[5], dg[5] = {0}, db[5] = {0}, rm[5] = {1, 2, 3, 4, 5}, rv[5] = {1, 1, 1, 1, 1};
        float rm2[2][5], rv2[2][5], dg2[2][5] = {{0}}, db2[2][5] = {{0}}, mean2[2][5], invstd2[2][5];
        float *out2 = calloc((size_t)n, 4), *din2 = calloc((size_t)n, 4);
        for (int r = 0; r < 2; r++) {
            memcpy(rm2[r], rm, sizeof rm);
            memcpy(rv2[r], rv, sizeof rv);
        }
        if (silu) {
            ecg_bn_silu_forward_train(out, mean, invstd, in, gam, bet, rows, c, 1e-3f);
            ecg_bn_silu_backward_train(din, dg, db, dout, in, mean, invstd, gam, bet, rows, c);
        } else {
            ecg_bn_forward_train(out, mean, invstd, in, gam, bet, rows, c, 1e-3f);
            ecg_bn_backward_train(din, dg, db, dout, in, mean, invstd, gam, rows, c);
        }
        ecg_bn_update_running(rm, rv, mean, invstd, rows, c, 1e-3f, 0.1f);

        struct bn_pair pair;
        pthread_barrier_init(&pair.bar, NULL, 2);
        struct bn_replica rep[2];
        pthread_t th[2];
        for (int r = 0; r < 2; r++) {
            int64_t lo = r ? split : 0, cnt = r ? rows - split : split;
            rep[r] = (struct bn_replica){.pair = &pair, .id = r, .rows = cnt, .c = c, .in = in + lo * c,
                                         .dout = dout + lo * c, .gam = gam, .bet = bet, .out = out2 + lo * c,
                                         .mean = mean2[r], .invstd = invstd2[r], .din = din2 + lo * c,
                                         .dg = dg2[r], .db = db2[r], .run_mean = rm2[r], .run_var = rv2[r],
                                         .silu = silu != 0};
            CU_ASSERT_EQUAL_FATAL(pthread_create(&th[r], NULL, bn_replica_run, &rep[r]), 0);
        }
        for (int r = 0; r < 2; r++)
            pthread_join(th[r], NULL);
        pthread_barrier_destroy(&pair.bar);
        float dgsum[5], dbsum[5];
        for (int j = 0; j < c; j++) {
            dgsum[j] = dg2[0][j] + dg2[1][j];
            dbsum[j] = db2[0][j] + db2[1][j];
        }
        ECG_CHECK_CLOSE("synced output", out2, out, n, 1e-5, 1e-6);
        ECG_CHECK_CLOSE("synced input gradient", din2, din, n, 1e-4, 1e-6);
        ECG_CHECK_CLOSE("dgamma summed over replicas", dgsum, dg, c, 1e-5, 1e-6);
        ECG_CHECK_CLOSE("dbeta summed over replicas", dbsum, db, c, 1e-5, 1e-6);
        for (int r = 0; r < 2; r++) {
            ECG_CHECK_CLOSE("replica mean", mean2[r], mean, c, 1e-6, 1e-7);
            ECG_CHECK_CLOSE("replica invstd", invstd2[r], invstd, c, 1e-6, 0);
            ECG_CHECK_CLOSE("replica running mean", rm2[r], rm, c, 1e-6, 1e-7);
            ECG_CHECK_CLOSE("replica running variance (unbiased over all rows)", rv2[r], rv, c, 1e-5, 0);
        }
        free(in), free(dout), free(gam), free(bet), free(out), free(din), free(out2), free(din2);
    }
}

static const struct ecg_test bn_tests[] = {
    {"bn train forward and backward match naive loops", bn_train_forward_and_backward_match_naive_loops},
    {"bn statistics stay accurate for a large mean", bn_statistics_stay_accurate_for_a_large_mean},
    {"synchronised bn over two replicas equals bn over the whole batch",
     synchronised_bn_over_two_replicas_equals_bn_over_the_whole_batch},
    {"bn running update uses momentum and the unbiased variance",
     bn_running_update_uses_momentum_and_unbiased_variance},
    {"bn fixed forward and backward match naive loops", bn_fixed_forward_and_backward_match_naive_loops},
    {"fused bn+silu matches batch norm then silu", fused_bn_silu_matches_batch_norm_then_silu},
    {"bn+silu backward into a fresh buffer gives the bits of accumulating onto zeros",
     bn_silu_backward_into_a_fresh_buffer_gives_the_bits_of_accumulating_onto_zeros},
    {"convolutions with a fused batch norm give the bits of the two kernels in turn",
     convolutions_with_a_fused_batch_norm_give_the_bits_of_the_two_kernels_in_turn},
    {"bn gradients agree with finite differences", bn_gradients_agree_with_finite_differences},
    {"batch norm matches PyTorch in train and eval mode", batch_norm_matches_pytorch_in_train_and_eval_mode},
    {NULL, NULL},
};

static const struct ecg_test misc_tests[] = {
    {"silu and sigmoid match libm over a wide range", silu_and_sigmoid_match_libm_over_a_wide_range},
    {"activation backward matches the derivative and accumulates",
     activation_backward_matches_the_derivative_and_accumulates},
    {"gap and channel scale match naive loops", gap_and_channel_scale_match_naive_loops},
    {"gap and channel scale gradients agree with finite differences",
     gap_and_channel_scale_gradients_agree_with_finite_differences},
    {"dense matches naive loops and finite differences", dense_matches_naive_loops_and_finite_differences},
    {"mask forward and backward multiply by the mask", mask_forward_and_backward_multiply_by_the_mask},
    {"elementwise and loss gradients agree with finite differences",
     elementwise_and_loss_gradients_agree_with_finite_differences},
    {"xent matches closed forms", xent_matches_closed_forms},
    {"weighted smoothed xent matches the PyTorch formula and finite differences",
     weighted_smoothed_xent_matches_pytorch_formula_and_finite_differences},
    {"xent with zero total weight returns NaN and leaves gradients",
     xent_with_zero_total_weight_returns_nan_and_leaves_gradients},
    {"xent matches PyTorch cross-entropy with weights and smoothing",
     xent_matches_pytorch_cross_entropy_with_weights_and_smoothing},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const struct ecg_suite suites[] = {
        {"kernels: convolution", conv_tests},
        {"kernels: batch norm", bn_tests},
        {"kernels: activations, pooling, dense, loss", misc_tests},
        {NULL, NULL},
    };
    return ecg_test_main(argc, argv, suites);
}
