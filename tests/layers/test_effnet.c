/* Tests of the EfficientNet builder: parameter counts and names, PyTorch golden fixtures, full-network finite
 * differences, determinism, errors. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "core/log.h"
#include "core/openmp.h"
#include "core/params.h"
#include "core/rng.h"
#include "layers/effnet.h"
#include "tests/layers/gradcheck.h"
#include "tests/test_util.h"

/* ---- parameter counts and names ------------------------------------------------ */

static struct ecg_effnet *build(int arch, int64_t classes, int64_t batch, int64_t res)
{
    static struct ecg_effnet m;
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, arch);
    o.num_classes = classes;
    struct ecg_error err = {0};
    int rc = ecg_effnet_init(&m, &o, batch, res, res, &err);
    if (rc)
        printf("\n  init failed: %s\n", err.msg);
    return rc ? NULL : &m;
}

/* torchvision.models.efficientnet_bX(): sum of parameters() with a 1000-class head, and without it. */
static const int64_t torch_counts[ECG_EFFNET_ARCHS][2] = {
    {5288548, 4007548},   {7794184, 6513184},   {9109994, 7700994},   {12233232, 10696232},
    {19341616, 17548616}, {30389784, 28340784}, {43040704, 40735704}, {66347960, 63786960},
};

static void b0_has_the_keras_parameter_counts(void)
{
    struct ecg_effnet *m = build(0, 1000, 1, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(ecg_params_count(m->params, ECG_PARAM_BUFFER), 5288548);
    /* Keras' total 5,330,571 includes the 7 values of its input Normalization layer */
    CU_ASSERT_EQUAL(ecg_params_count(m->params, 0), 5330571 - 7);
    CU_ASSERT_EQUAL(m->params->count, 314 - 3);
    CU_ASSERT_EQUAL(m->blocks, 16);
    CU_ASSERT_EQUAL(m->num_features, 1280);
    ecg_effnet_free(m);
    m = build(0, 0, 1, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    CU_ASSERT_EQUAL(ecg_params_count(m->params, ECG_PARAM_BUFFER), 4007548);
    CU_ASSERT_PTR_NULL(m->logits);
    ecg_effnet_free(m);
}

static void b1_to_b7_match_torchvision_parameter_counts(void)
{
    for (int arch = 1; arch < ECG_EFFNET_ARCHS; arch++) {
        struct ecg_effnet *m = build(arch, 1000, 1, 32);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        int64_t with_top = ecg_params_count(m->params, ECG_PARAM_BUFFER);
        ecg_effnet_free(m);
        m = build(arch, 0, 1, 32);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        int64_t no_top = ecg_params_count(m->params, ECG_PARAM_BUFFER);
        ecg_effnet_free(m);
        if (with_top != torch_counts[arch][0] || no_top != torch_counts[arch][1])
            printf("\n  b%d: %lld / %lld parameters, torchvision %lld / %lld\n", arch, (long long)with_top,
                   (long long)no_top, (long long)torch_counts[arch][0], (long long)torch_counts[arch][1]);
        CU_ASSERT_EQUAL(with_top, torch_counts[arch][0]);
        CU_ASSERT_EQUAL(no_top, torch_counts[arch][1]);
    }
}

static void b0_parameters_have_keras_names_and_shapes(void)
{
    struct ecg_effnet *m = build(0, 1000, 1, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    static const struct {
        const char *name;
        int ndim;
        int64_t shape[4];
    } want[] = {
        {"stem_conv/kernel", 4, {3, 3, 3, 32}},
        {"stem_bn/moving_variance", 1, {32}},
        {"block1a_dwconv/depthwise_kernel", 4, {3, 3, 32, 1}},
        {"block1a_se_reduce/kernel", 4, {1, 1, 32, 8}},
        {"block1a_se_expand/bias", 1, {32}},
        {"block1a_project_conv/kernel", 4, {1, 1, 32, 16}},
        {"block2a_expand_conv/kernel", 4, {1, 1, 16, 96}},
        {"block3b_dwconv/depthwise_kernel", 4, {5, 5, 240, 1}},
        {"block5c_se_reduce/kernel", 4, {1, 1, 672, 28}},
        {"block6d_project_bn/gamma", 1, {192}},
        {"block7a_project_conv/kernel", 4, {1, 1, 1152, 320}},
        {"top_conv/kernel", 4, {1, 1, 320, 1280}},
        {"top_bn/beta", 1, {1280}},
        {"predictions/kernel", 2, {1280, 1000}},
        {"predictions/bias", 1, {1000}},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int k = ecg_params_find(m->params, want[i].name);
        if (k < 0) {
            printf("\n  missing %s\n", want[i].name);
            CU_FAIL("missing parameter");
            continue;
        }
        CU_ASSERT_EQUAL(m->params->items[k].ndim, want[i].ndim);
        for (int d = 0; d < want[i].ndim; d++)
            CU_ASSERT_EQUAL(m->params->items[k].shape[d], want[i].shape[d]);
    }
    CU_ASSERT_EQUAL(ecg_params_find(m->params, "block1a_expand_conv/kernel"), -1);
    CU_ASSERT_EQUAL(ecg_params_find(m->params, "block6e_dwconv/depthwise_kernel"), -1);
    ecg_effnet_free(m);
    /* B7: stage 2 repeats ceil(2 * 3.1) = 7 -> block2g; width 2.0 -> stem 64 */
    m = build(7, 10, 1, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    int k = ecg_params_find(m->params, "block2g_project_conv/kernel");
    CU_ASSERT_TRUE(k >= 0);
    CU_ASSERT_EQUAL(ecg_params_find(m->params, "block2h_project_conv/kernel"), -1);
    k = ecg_params_find(m->params, "stem_conv/kernel");
    CU_ASSERT_EQUAL(m->params->items[k].shape[3], 64);
    CU_ASSERT_EQUAL(m->num_features, 2560);
    ecg_effnet_free(m);
}

/* ---- PyTorch golden fixtures ----------------------------------------------------- */

/* The deterministic parameter values of tests/fixtures/gen_torch_fixtures.py (keras_value). */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001B3ULL;
    return h;
}

static float sym_uniform(uint64_t stream, int64_t j)
{
    uint64_t z = stream + ((uint64_t)j + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
    float u = (float)(z >> 40) * (1.0f / 16777216.0f);
    return 2.0f * u - 1.0f;
}

static float pow2_scale(int64_t fan_in)
{
    int k = 0;
    while (((int64_t)1 << (2 * (k + 1))) <= fan_in)
        k++;
    return ldexpf(1.0f, -k);
}

/* Fills every non-buffer parameter like keras_value(); returns false on an unknown name. */
static bool fill_fixture_weights(struct ecg_params *p)
{
    for (int i = 0; i < p->count; i++) {
        const struct ecg_param *it = &p->items[i];
        if (it->flags & ECG_PARAM_BUFFER)
            continue;
        const char *w = strrchr(it->name, '/') + 1;
        uint64_t stream = fnv1a(it->name);
        float *v = ecg_params_value(p, i);
        for (int64_t j = 0; j < it->numel; j++) {
            float s = sym_uniform(stream, j);
            if (!strcmp(w, "depthwise_kernel"))
                v[j] = s * pow2_scale(it->shape[0] * it->shape[1]);
            else if (!strcmp(w, "kernel") && it->ndim == 4)
                v[j] = s * pow2_scale(it->shape[0] * it->shape[1] * it->shape[2]);
            else if (!strcmp(w, "kernel"))
                v[j] = s * pow2_scale(it->shape[0]);
            else if (!strcmp(w, "bias") || !strcmp(w, "beta"))
                v[j] = s * 0.125f;
            else if (!strcmp(w, "gamma"))
                v[j] = 1.0f + s * 0.25f;
            else
                return false;
        }
    }
    return true;
}

/* Whether every link along `path` exists (H5Lexists needs each parent to exist). */
static bool path_exists(hid_t f, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *q = buf;; q++) {
        if (*q == '/' || *q == 0) {
            char c = *q;
            *q = 0;
            if (H5Lexists(f, buf, H5P_DEFAULT) <= 0)
                return false;
            if (!c)
                return true;
            *q = c;
        }
    }
}

/* Reads a float dataset of exactly n elements; false (with a message) otherwise. */
static bool read_floats(hid_t f, const char *path, float *out, int64_t n)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) {
        printf("\n  fixture: no dataset %s\n", path);
        return false;
    }
    hid_t sp = H5Dget_space(d);
    hssize_t count = H5Sget_simple_extent_npoints(sp);
    bool ok = count == n && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0;
    if (!ok)
        printf("\n  fixture: %s has %lld elements, expected %lld\n", path, (long long)count, (long long)n);
    H5Sclose(sp);
    H5Dclose(d);
    return ok;
}

static double read_scalar(hid_t f, const char *path)
{
    double v = NAN;
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d >= 0) {
        H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
        H5Dclose(d);
    }
    return v;
}

/* Largest |got - want| relative to the largest |want|, printed; the figure the report quotes. */
static double worst_rel = 0.0;
static bool compare(const char *label, const float *got, const float *want, int64_t n)
{
    double wmax = 0.0, dmax = 0.0;
    for (int64_t i = 0; i < n; i++) {
        wmax = fmax(wmax, fabs((double)want[i]));
        dmax = fmax(dmax, fabs((double)got[i] - (double)want[i]));
    }
    double rel = wmax > 0.0 ? dmax / wmax : dmax;
    if (rel > worst_rel)
        worst_rel = rel;
    if (getenv("ECG_TEST_VERBOSE"))
        printf("\n  %-40s max|want| %.3e  max|diff| %.3e  rel %.2e", label, wmax, dmax, rel);
    /* elementwise rtol 1e-4 with an absolute floor of 1e-4 of the tensor's magnitude */
    return ecg_test_close(label, got, want, n, 1e-4, 1e-4 * wmax);
}

/* context: values per sample joined to the pooled features (the fixture's "context" dataset), or 0. */
static void check_fixture(const char *file, enum ecg_padding pad, float eps, float momentum, int64_t context)
{
    hid_t f = H5Fopen(ecg_test_fixture(file), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_TRUE_FATAL(f >= 0);
    const int64_t n = 2, res = 64, classes = 5;
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = classes;
    o.padding = pad;
    o.bn_eps = eps;
    o.bn_momentum = momentum;
    o.dropout = 0.0f;
    o.drop_connect = 0.0f;
    o.context_features = context;
    struct ecg_effnet m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&m, &o, n, res, res, &err), ECG_OK);
    if (context) {
        float values[2 * 16];
        CU_ASSERT_TRUE_FATAL(context <= 16 && read_floats(f, "context", values, n * context));
        ecg_effnet_set_context(&m, 0, values, n, context);
    }
    struct ecg_params *p = m.params;
    CU_ASSERT_TRUE(fill_fixture_weights(p));
    char path[256];
    bool ok = true;
    for (int i = 0; i < p->count && ok; i++) {
        if (!(p->items[i].flags & ECG_PARAM_BUFFER))
            continue;
        snprintf(path, sizeof path, "running/%s", p->items[i].name);
        ok = read_floats(f, path, ecg_params_value(p, i), p->items[i].numel);
    }
    CU_ASSERT_TRUE_FATAL(ok);
    float *x = malloc((size_t)(n * res * res * 3) * sizeof(float));
    float want[64], *big = malloc(1 << 22);
    int32_t labels[2];
    float cw[5];
    CU_ASSERT_TRUE_FATAL(read_floats(f, "input", x, n * res * res * 3));
    hid_t d = H5Dopen2(f, "labels", H5P_DEFAULT);
    H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels);
    H5Dclose(d);
    CU_ASSERT_TRUE_FATAL(read_floats(f, "class_weight", cw, classes));

    /* eval: running statistics, class-weighted loss */
    ecg_effnet_forward(&m, x, n, false, NULL);
    CU_ASSERT_TRUE(read_floats(f, "eval/logits", want, n * classes));
    CU_ASSERT_TRUE(compare("eval logits", m.logits, want, n * classes));
    double loss = ecg_effnet_loss(&m, labels, cw, 0.0f);
    float lw = (float)read_scalar(f, "eval/loss"), lg = (float)loss;
    CU_ASSERT_TRUE(compare("eval loss", &lg, &lw, 1));

    /* train: batch statistics, label smoothing, backward */
    ecg_params_zero_grad(p);
    ecg_effnet_forward(&m, x, n, true, NULL);
    CU_ASSERT_TRUE(read_floats(f, "train/logits", want, n * classes));
    CU_ASSERT_TRUE(compare("train logits", m.logits, want, n * classes));
    loss = ecg_effnet_loss(&m, labels, NULL, 0.1f);
    lw = (float)read_scalar(f, "train/loss");
    lg = (float)loss;
    CU_ASSERT_TRUE(compare("train loss", &lg, &lw, 1));
    ecg_effnet_backward(&m);
    int checked = 0;
    for (int i = 0; i < p->count; i++) {
        const struct ecg_param *it = &p->items[i];
        if (it->flags & ECG_PARAM_BUFFER) {
            snprintf(path, sizeof path, "train/running/%s", it->name);
            if (read_floats(f, path, big, it->numel)) {
                CU_ASSERT_TRUE(compare(path, ecg_params_value(p, i), big, it->numel));
                checked++;
            }
            continue;
        }
        snprintf(path, sizeof path, "train/grads/%s", it->name);
        if (path_exists(f, path)) {
            CU_ASSERT_TRUE(read_floats(f, path, big, it->numel));
            CU_ASSERT_TRUE(compare(path, ecg_params_grad(p, i), big, it->numel));
            checked++;
        }
    }
    int top = ecg_params_find(p, "top_conv/kernel");
    CU_ASSERT_TRUE(read_floats(f, "train/grads_top_conv_kernel_rows", big, 32 * 1280));
    CU_ASSERT_TRUE(compare("top_conv/kernel grad, 32 rows", ecg_params_grad(p, top), big, 32 * 1280));
    CU_ASSERT_EQUAL(checked, 2 * 49 + 17); /* every BN's running stats, 17 gradients */
    free(x);
    free(big);
    ecg_effnet_free(&m);
    H5Fclose(f);
}

static void b0_with_symmetric_padding_matches_torchvision(void)
{
    check_fixture("torch/b0_symmetric.h5", ECG_PAD_SYMMETRIC, 1e-5f, 0.1f, 0);
}

static void b0_with_same_padding_matches_torch_with_tf_padding(void)
{
    check_fixture("torch/b0_same.h5", ECG_PAD_SAME, 1e-3f, 0.01f, 0);
}

static void b0_with_rr_context_matches_torch_with_the_values_joined(void)
{
    check_fixture("torch/b0_context.h5", ECG_PAD_SAME, 1e-3f, 0.01f, 4);
}

/* ---- full-network finite differences ------------------------------------------------ */

struct fd_ctx {
    struct ecg_effnet *m;
    float *x;
    int32_t labels[4];
    float cw[3];
    int64_t n;
    bool training;
};

static double fd_loss(void *ctx)
{
    struct fd_ctx *c = ctx;
    ecg_effnet_forward(c->m, c->x, c->n, c->training, NULL);
    return 10.0 * ecg_effnet_loss(c->m, c->labels, c->cw, 0.1f);
}

static void full_network_check(bool training, int64_t n, int64_t res)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = 3;
    o.in_channels = 1;
    struct ecg_effnet m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&m, &o, n, res, res, &err), ECG_OK);
    ecg_effnet_init_weights(&m, 7);
    struct ecg_params *p = m.params;
    /* non-trivial BN state so eval mode differs from identity */
    for (int i = 0; i < p->count; i++) {
        const char *name = p->items[i].name;
        float *v = ecg_params_value(p, i);
        if (strstr(name, "/gamma"))
            ecg_gradcheck_fill(v, p->items[i].numel, (uint64_t)i, 0.7f, 1.3f);
        else if (strstr(name, "/beta") || strstr(name, "/moving_mean") || strstr(name, "/bias"))
            ecg_gradcheck_fill(v, p->items[i].numel, (uint64_t)i, -0.2f, 0.2f);
        else if (strstr(name, "/moving_variance"))
            ecg_gradcheck_fill(v, p->items[i].numel, (uint64_t)i, 0.5f, 2.0f);
    }
    struct fd_ctx c = {
        .m = &m, .labels = {0, 2, 1, 2}, .cw = {1.0f, 0.5f, 2.0f}, .n = n, .training = training};
    c.x = malloc((size_t)(n * res * res) * sizeof(float));
    ecg_gradcheck_fill(c.x, n * res * res, 9, -2.0f, 2.0f);
    ecg_params_zero_grad(p);
    fd_loss(&c);
    /* the callback scales the loss by 10: scale dlogits the same way */
    for (int64_t i = 0; i < n * 3; i++)
        m.dlogits[i] *= 10.0f;
    ecg_effnet_backward(&m);
    static const char *names[] = {
        "stem_conv/kernel",
        "stem_bn/gamma",
        "block1a_dwconv/depthwise_kernel",
        "block1a_se_reduce/kernel",
        "block1a_se_expand/bias",
        "block2a_expand_conv/kernel",
        "block2b_bn/beta",
        "block4b_se_expand/kernel",
        "block6a_dwconv/depthwise_kernel",
        "block6d_project_conv/kernel",
        "top_conv/kernel",
        "top_bn/beta",
        "predictions/kernel",
        "predictions/bias",
    };
    struct ecg_gradcheck_tensor t[16];
    int count = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int k = ecg_params_find(p, names[i]);
        CU_ASSERT_TRUE_FATAL(k >= 0);
        t[count++] = (struct ecg_gradcheck_tensor){names[i], ecg_params_value(p, k), ecg_params_grad(p, k),
                                                   p->items[k].numel};
    }
    struct ecg_gradcheck_opts go = {.eps = 1e-2, .rtol = 3e-2, .atol = 2e-3, .max_probes = 6, .seed = 1};
    CU_ASSERT_TRUE(ecg_gradcheck(fd_loss, &c, t, count, &go));
    free(c.x);
    ecg_effnet_free(&m);
}

static void full_b0_gradients_match_finite_differences_in_eval_mode(void)
{
    full_network_check(false, 2, 32);
}
/* Training mode is not checked by finite differences on the full network: with batch statistics
 * over a few values per channel (the last stage is 1x1 or 2x2 here) the loss is too curved for a
 * float32 central difference to resolve (too large a step is biased, too small drowns in
 * rounding).  The PyTorch fixtures above check training-mode gradients instead, and the
 * layer-level checks in test_layers.c cover batch statistics. */

/* ---- behaviour ------------------------------------------------------------------------ */

static void training_steps_are_reproducible_from_the_step_generator(void)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = 4;
    o.dropout = 0.5f;
    o.drop_connect = 0.5f;
    struct ecg_effnet m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&m, &o, 3, 32, 32, &err), ECG_OK);
    ecg_effnet_init_weights(&m, 1);
    float *x = malloc(3 * 32 * 32 * 3 * sizeof(float));
    ecg_gradcheck_fill(x, 3 * 32 * 32 * 3, 2, -1.0f, 1.0f);
    struct ecg_rng r1 = ecg_rng_init(10, 0), r2 = ecg_rng_init(11, 0);
    float a[12], b[12], c[12];
    ecg_effnet_forward(&m, x, 3, true, &r1);
    memcpy(a, m.logits, sizeof a);
    ecg_effnet_forward(&m, x, 3, true, &r1);
    memcpy(b, m.logits, sizeof b);
    ecg_effnet_forward(&m, x, 3, true, &r2);
    memcpy(c, m.logits, sizeof c);
    CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(a, c, sizeof a), 0);
    free(x);
    ecg_effnet_free(&m);
}

static void a_last_smaller_batch_gives_the_same_eval_outputs(void)
{
    struct ecg_effnet *m = build(0, 3, 3, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    ecg_effnet_init_weights(m, 3);
    float *x = malloc(3 * 32 * 32 * 3 * sizeof(float));
    ecg_gradcheck_fill(x, 3 * 32 * 32 * 3, 4, -1.0f, 1.0f);
    float want[3];
    ecg_effnet_forward(m, x, 3, false, NULL);
    memcpy(want, m->logits + 3, sizeof want); /* sample 1 */
    ecg_effnet_forward(m, x + 32 * 32 * 3, 1, false, NULL);
    ECG_CHECK_CLOSE("sample 1 alone", m->logits, want, 3, 1e-5, 1e-6);
    free(x);
    ecg_effnet_free(m);
}

static void a_features_only_model_backpropagates_feature_gradients(void)
{
    struct ecg_effnet *m = build(0, 0, 2, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    ecg_effnet_init_weights(m, 3);
    float *x = malloc(2 * 32 * 32 * 3 * sizeof(float));
    ecg_gradcheck_fill(x, 2 * 32 * 32 * 3, 4, -1.0f, 1.0f);
    ecg_effnet_forward(m, x, 2, true, NULL);
    for (int64_t i = 0; i < 2 * m->num_features; i++)
        m->dfeatures[i] = (float)(i % 7) * 0.01f;
    ecg_params_zero_grad(m->params);
    ecg_effnet_backward(m);
    int k = ecg_params_find(m->params, "stem_conv/kernel");
    double s = 0.0;
    for (int64_t i = 0; i < m->params->items[k].numel; i++)
        s += fabs(ecg_params_grad(m->params, k)[i]);
    CU_ASSERT_TRUE(s > 0.0);
    free(x);
    ecg_effnet_free(m);
}

static void head_only_training_touches_only_the_head(void)
{
    struct ecg_effnet *m = build(0, 3, 2, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    ecg_effnet_init_weights(m, 3);
    int frozen = ecg_params_set_flags(m->params, "", ECG_PARAM_FROZEN, true);
    CU_ASSERT_EQUAL(frozen, m->params->count);
    CU_ASSERT_EQUAL(ecg_params_set_flags(m->params, "predictions/", ECG_PARAM_FROZEN, false), 2);
    float *x = malloc(2 * 32 * 32 * 3 * sizeof(float));
    ecg_gradcheck_fill(x, 2 * 32 * 32 * 3, 4, -1.0f, 1.0f);
    int rm = ecg_params_find(m->params, "stem_bn/moving_mean");
    float before = ecg_params_value(m->params, rm)[0];
    ecg_params_zero_grad(m->params);
    ecg_effnet_forward(m, x, 2, true, NULL);
    int32_t labels[2] = {0, 2};
    ecg_effnet_loss(m, labels, NULL, 0.0f);
    ecg_effnet_backward(m);
    double head = 0.0, rest = 0.0;
    for (int i = 0; i < m->params->count; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < m->params->items[i].numel; j++)
            s += fabs(ecg_params_grad(m->params, i)[j]);
        if (strncmp(m->params->items[i].name, "predictions/", 12) == 0)
            head += s;
        else
            rest += s;
    }
    CU_ASSERT_TRUE(head > 0.0);
    CU_ASSERT_EQUAL(rest, 0.0);
    /* a frozen BN runs on its running statistics and does not update them */
    CU_ASSERT_EQUAL(ecg_params_value(m->params, rm)[0], before);
    free(x);
    ecg_effnet_free(m);
}

/* Gradients of what stays trainable are unchanged by freezing the layers below (eval-mode BN, so
 * the forward is the same); frozen parameters get none; cuts inside a block are exercised. */
static void partial_freezing_keeps_the_trainable_gradients_exact(void)
{
    static const char *const cuts[][8] = {
        {"stem", "block1", "block2", "block3", "block4a_expand", "block4a_dwconv", "block4a_bn", NULL},
        {"stem", "block1", "block2", "block3", "block4a_expand", "block4a_dwconv", "block4a_bn",
         "block4a_se"},
        {"stem", "block1", "block2", "block3", "block4", "block5a_expand_conv", NULL},
    };
    struct ecg_effnet *m = build(0, 3, 2, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    ecg_effnet_init_weights(m, 3);
    struct ecg_params *p = m->params;
    float *x = malloc(2 * 32 * 32 * 3 * sizeof(float));
    ecg_gradcheck_fill(x, 2 * 32 * 32 * 3, 4, -1.0f, 1.0f);
    int32_t labels[2] = {0, 2};
    float *ref = malloc((size_t)p->total * sizeof(float));
    ecg_params_zero_grad(p);
    ecg_effnet_forward(m, x, 2, false, NULL);
    ecg_effnet_loss(m, labels, NULL, 0.1f);
    ecg_effnet_backward(m);
    memcpy(ref, p->grads, (size_t)p->total * sizeof(float));
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        ecg_params_set_flags(p, "", ECG_PARAM_FROZEN, false);
        for (int j = 0; j < 8 && cuts[c][j]; j++)
            CU_ASSERT_TRUE(ecg_params_set_flags(p, cuts[c][j], ECG_PARAM_FROZEN, true) > 0);
        ecg_params_zero_grad(p);
        ecg_effnet_forward(m, x, 2, false, NULL);
        ecg_effnet_loss(m, labels, NULL, 0.1f);
        ecg_effnet_backward(m);
        int bad = 0;
        for (int i = 0; i < p->count; i++) {
            const struct ecg_param *it = &p->items[i];
            bool frozen = it->flags & (ECG_PARAM_FROZEN | ECG_PARAM_BUFFER);
            const float *g = ecg_params_grad(p, i), *r = ref + it->offset;
            for (int64_t k = 0; k < it->numel; k++)
                if (g[k] != (frozen ? 0.0f : r[k])) {
                    if (bad++ == 0)
                        printf("\n  cut %zu: %s[%lld] = %g, expected %g\n", c, it->name, (long long)k, g[k],
                               frozen ? 0.0f : r[k]);
                    break;
                }
        }
        CU_ASSERT_EQUAL(bad, 0);
    }
    free(ref);
    free(x);
    ecg_effnet_free(m);
}

/* An inference-only model gives the same outputs as a training one, in a fraction of the memory. */
/* The inference-only model computes batch norms in place and fuses them into the convolutions before
 * them: the same bits as the training model in evaluation, which runs every layer on its own. */
static void an_inference_only_model_matches_in_less_memory(void)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = 4;
    o.padding = ECG_PAD_SYMMETRIC;
    struct ecg_effnet full, inf;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&full, &o, 3, 64, 48, &err), ECG_OK);
    o.inference_only = true;
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&inf, &o, 3, 64, 48, &err), ECG_OK);
    ecg_effnet_init_weights(&full, 8);
    /* batch-norm parameters and statistics away from their initial 1 and 0, so that the
     * inference-only model's fused convolution + batch norm is tested on every term */
    for (int i = 0; i < full.params->count; i++) {
        const char *name = full.params->items[i].name, *slash = strrchr(name, '/');
        bool var = slash && !strcmp(slash, "/moving_variance");
        if (slash &&
            (var || !strcmp(slash, "/moving_mean") || !strcmp(slash, "/gamma") || !strcmp(slash, "/beta")))
            ecg_gradcheck_fill(ecg_params_value(full.params, i), full.params->items[i].numel,
                               100 + (uint64_t)i, var ? 0.3f : -0.5f, var ? 2.0f : 1.0f);
    }
    CU_ASSERT_EQUAL_FATAL(full.params->total, inf.params->total);
    memcpy(inf.params->values, full.params->values, (size_t)full.params->total * sizeof(float));
    float *x = malloc(3 * 64 * 48 * 3 * sizeof(float));
    ecg_gradcheck_fill(x, 3 * 64 * 48 * 3, 6, -1.0f, 1.0f);
    ecg_effnet_forward(&full, x, 3, false, NULL);
    ecg_effnet_forward(&inf, x, 2, false, NULL); /* a smaller batch first: rings are reused */
    ecg_effnet_forward(&inf, x, 3, false, NULL);
    ECG_CHECK_CLOSE("inference-only logits", inf.logits, full.logits, 3 * 4, 0.0, 0.0);
    ECG_CHECK_CLOSE("inference-only features", inf.features, full.features, 3 * 1280, 0.0, 0.0);
    struct ecg_effnet_memory a = ecg_effnet_memory(&full), b = ecg_effnet_memory(&inf);
    if (getenv("ECG_TEST_VERBOSE"))
        printf("\n  activations: training %lld bytes, inference-only %lld bytes; work %lld / %lld\n",
               (long long)a.activation_bytes, (long long)b.activation_bytes, (long long)a.work_bytes,
               (long long)b.work_bytes);
    CU_ASSERT_TRUE(b.activation_bytes * 2 < a.activation_bytes); /* training recomputes some tensors too */
    CU_ASSERT_TRUE(b.work_bytes < a.work_bytes);
    free(x);
    ecg_effnet_free(&full);
    ecg_effnet_free(&inf);
}

/* OpenBLAS's own count (declared here: not every cblas.h declares it). */
int openblas_get_num_threads(void);

static void an_inference_forward_changes_no_process_setting(void)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = 3;
    o.inference_only = true;
    struct ecg_effnet m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&m, &o, 2, 32, 32, &err), ECG_OK);
    ecg_effnet_init_weights(&m, 4);
    float *x = malloc(2 * 32 * 32 * 3 * sizeof(float));
    ecg_gradcheck_fill(x, 2 * 32 * 32 * 3, 9, -1.0f, 1.0f);
    enum ecg_log_level level = ecg_log_get_level();
    int threads = ecg_threads_get(), omp = omp_get_max_threads(), blas = openblas_get_num_threads();
    ecg_effnet_forward(&m, x, 2, false, NULL);
    CU_ASSERT_EQUAL(ecg_log_get_level(), level);
    CU_ASSERT_EQUAL(ecg_threads_get(), threads);
    CU_ASSERT_EQUAL(omp_get_max_threads(), omp);
    CU_ASSERT_EQUAL(openblas_get_num_threads(), blas);
    free(x);
    ecg_effnet_free(&m);
}

static void every_parameter_declares_how_it_starts(void)
{
    struct ecg_effnet *m = build(0, 5, 1, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    const struct ecg_params *p = m->params;
    int unset = 0, wrong = 0;
    for (int i = 0; i < p->count; i++) {
        const struct ecg_param *it = &p->items[i];
        const char *w = strrchr(it->name, '/') + 1;
        enum ecg_param_init want = !strcmp(w, "gamma") || !strcmp(w, "moving_variance") ? ECG_INIT_ONES
                                   : !strcmp(w, "beta") || !strcmp(w, "moving_mean") || !strcmp(w, "bias")
                                       ? ECG_INIT_ZEROS
                                   : it->ndim == 4 ? ECG_INIT_CONV_FAN_OUT
                                                   : ECG_INIT_DENSE_FAN_OUT;
        unset += it->init == ECG_INIT_UNSET;
        if (it->init != want && wrong++ == 0)
            fprintf(stderr, "\n  %s: initialisation %d, expected %d\n", it->name, it->init, want);
    }
    CU_ASSERT_EQUAL(unset, 0);
    CU_ASSERT_EQUAL(wrong, 0);
    ecg_effnet_free(m);
}

/* Evaluation forwards run tasks of 8 samples in parallel (layers/layer_net.c): a batch of 20 is three
 * tasks, whose results may not depend on the thread count; an inference-only model (rings, fused batch
 * norms) gives the training model's bits, and a sample alone its task's up to the rounding of GEMMs of
 * other sizes. */
/* context: values per sample joined before the classifier (each sample's own, in every task), or 0 */
static void check_batch_parallel_evaluation(int64_t context)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.num_classes = 5;
    o.in_channels = 1;
    o.padding = ECG_PAD_SAME;
    o.context_features = context;
    struct ecg_effnet full, inf;
    struct ecg_error err = {0};
    const int64_t n = 20, h = 32, w = 64, k = 5;
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&full, &o, n, h, w, &err), ECG_OK);
    o.inference_only = true;
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(&inf, &o, n, h, w, &err), ECG_OK);
    ecg_effnet_init_weights(&full, 3);
    memcpy(inf.params->values, full.params->values, (size_t)full.params->total * sizeof(float));
    float *x = malloc((size_t)(n * h * w) * sizeof(float)), one[5], two[5 * 20], ctx[20 * 4];
    ecg_gradcheck_fill(x, n * h * w, 7, -1.0f, 1.0f);
    ecg_gradcheck_fill(ctx, n * 4, 8, -3.0f, 3.0f);
    ecg_effnet_set_context(&inf, 0, ctx, n, context);
    ecg_effnet_set_context(&full, 0, ctx, n, context);
    int saved = ecg_threads_get();
    ecg_threads_set(2);
    ecg_effnet_forward(&inf, x, n, false, NULL);
    memcpy(two, inf.logits, sizeof two);
    ecg_threads_set(1);
    ecg_effnet_forward(&inf, x, n, false, NULL);
    ECG_CHECK_CLOSE("logits with 2 threads against 1", two, inf.logits, n * k, 0.0, 0.0);
    ecg_effnet_set_context(&inf, 0, ctx + 16 * context, 1, context);
    ecg_effnet_forward(&inf, x + 16 * h * w, 1, false, NULL); /* sample 16 alone: a task of one */
    memcpy(one, inf.logits, sizeof one);
    ecg_effnet_forward(&full, x, n, false, NULL);
    ECG_CHECK_CLOSE("inference-only logits against the training model's", two, full.logits, n * k, 0.0, 0.0);
    ECG_CHECK_CLOSE("sample 16 alone against its task", one, two + 16 * k, k, 1e-4, 1e-4);
    ecg_threads_set(saved);
    free(x);
    ecg_effnet_free(&full);
    ecg_effnet_free(&inf);
}

static void batch_parallel_evaluation_is_bit_identical_across_thread_counts(void)
{
    check_batch_parallel_evaluation(0);
}

static void each_sample_reads_its_own_context_in_batch_parallel_evaluation(void)
{
    check_batch_parallel_evaluation(4);
}

static void keras_initialisers_have_the_documented_scale(void)
{
    struct ecg_effnet *m = build(0, 1000, 1, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    ecg_effnet_init_weights(m, 5);
    struct ecg_params *p = m->params;
    int k = ecg_params_find(p, "top_conv/kernel"); /* fan_out 1280 */
    double s2 = 0.0, mx = 0.0;
    int64_t cnt = p->items[k].numel;
    for (int64_t i = 0; i < cnt; i++) {
        double v = ecg_params_value(p, k)[i];
        s2 += v * v;
        mx = fmax(mx, fabs(v));
    }
    double std = sqrt(s2 / (double)cnt), want = sqrt(2.0 / 1280.0);
    CU_ASSERT_DOUBLE_EQUAL(std, want, 0.02 * want);
    CU_ASSERT_TRUE(mx <= 2.0 * want / 0.87962566103423978 + 1e-6); /* truncated at 2 std */
    k = ecg_params_find(p, "predictions/kernel");                  /* uniform, limit sqrt(1/1000) */
    mx = 0.0;
    for (int64_t i = 0; i < p->items[k].numel; i++)
        mx = fmax(mx, fabs(ecg_params_value(p, k)[i]));
    CU_ASSERT_TRUE(mx <= sqrt(1.0 / 1000.0) && mx > 0.95 * sqrt(1.0 / 1000.0));
    CU_ASSERT_EQUAL(ecg_params_value(p, ecg_params_find(p, "top_bn/gamma"))[5], 1.0f);
    CU_ASSERT_EQUAL(ecg_params_value(p, ecg_params_find(p, "top_bn/moving_variance"))[5], 1.0f);
    CU_ASSERT_EQUAL(ecg_params_value(p, ecg_params_find(p, "predictions/bias"))[5], 0.0f);
    ecg_effnet_free(m);
}

static void timing_and_memory_figures_are_reported(void)
{
    struct ecg_effnet *m = build(0, 3, 2, 32);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    ecg_effnet_init_weights(m, 3);
    float *x = calloc(2 * 32 * 32 * 3, sizeof(float));
    ecg_effnet_timing_reset(m);
    ecg_effnet_forward(m, x, 2, true, NULL);
    int32_t labels[2] = {0, 1};
    ecg_effnet_loss(m, labels, NULL, 0.0f);
    ecg_effnet_backward(m);
    CU_ASSERT_TRUE(m->net.t_fwd[ECG_KIND_CONV] > 0.0 && m->net.t_bwd[ECG_KIND_DWCONV] > 0.0);
    CU_ASSERT_TRUE(m->net.t_fwd[ECG_KIND_SE] > 0.0 && m->net.t_bwd[ECG_KIND_BN] > 0.0);
    struct ecg_effnet_memory mem = ecg_effnet_memory(m);
    CU_ASSERT_TRUE(mem.activation_bytes > 2 * 16 * 16 * 32 * 4);
    CU_ASSERT_TRUE(mem.work_bytes > 0);
    CU_ASSERT_EQUAL(mem.param_bytes, m->params->total * 8);
    const char *path = ecg_test_write_file("timing.txt", "");
    FILE *f = fopen(path, "w");
    ecg_effnet_timing_print(m, f);
    fclose(f);
    f = fopen(path, "r");
    char buf[4096] = {0};
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    CU_ASSERT_TRUE(got > 0 && strstr(buf, "dwconv") && strstr(buf, "total"));
    free(x);
    ecg_effnet_free(m);
}

static void bad_model_options_fail_with_a_message(void)
{
    struct ecg_effnet m;
    struct ecg_effnet_options o;
    struct ecg_error err = {0};
    ecg_effnet_options_default(&o, 8);
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 1, 32, 32, &err), &err, ECG_ERR_RANGE,
                    "model.arch: expected 0..7 (b0..b7), found 8");
    ecg_effnet_options_default(&o, 0);
    o.in_channels = 0;
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 1, 32, 32, &err), &err, ECG_ERR_RANGE,
                    "model.in_channels: expected >= 1, found 0");
    ecg_effnet_options_default(&o, 0);
    o.dropout = 1.0f;
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 1, 32, 32, &err), &err, ECG_ERR_RANGE,
                    "model.dropout: expected 0 <= rate < 1, found 1");
    ecg_effnet_options_default(&o, 0);
    o.bn_eps = 0.0f;
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 1, 32, 32, &err), &err, ECG_ERR_RANGE,
                    "model.bn_eps: expected > 0, found 0");
    ecg_effnet_options_default(&o, 0);
    o.num_classes = -2;
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 1, 32, 32, &err), &err, ECG_ERR_RANGE,
                    "model.num_classes: expected >= 0, found -2");
    ecg_effnet_options_default(&o, 0);
    o.num_classes = 0;
    o.context_features = 4;
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 1, 32, 32, &err), &err, ECG_ERR_RANGE,
                    "model: 4 context features with 0 classes: expected 0..1024, and a classification head");
    ecg_effnet_options_default(&o, 0);
    o.context_features = -1;
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 1, 32, 32, &err), &err, ECG_ERR_RANGE,
                    "model: -1 context features");
    ecg_effnet_options_default(&o, 0);
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 0, 32, 32, &err), &err, ECG_ERR_RANGE,
                    "model: batch 0 and image 32 x 32 must be positive");
    ecg_effnet_options_default(&o, 0);
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 1, 20000, 32, &err), &err, ECG_ERR_RANGE,
                    "limits are batch 65536, sides and channels 16384");
    /* within the limits but beyond any memory: a clean failure, not a crash */
    ECG_CHECK_ERROR(ecg_effnet_init(&m, &o, 65536, 16384, 16384, &err), &err, ECG_ERR_NOMEM,
                    "activations for batch 65536 of (16384, 16384, 3): arena: ");
    ecg_effnet_free(&m); /* zeroed by the failed init: a no-op */
}

static const struct ecg_test arch_tests[] = {
    {"B0 has the Keras parameter counts, with and without the head", b0_has_the_keras_parameter_counts},
    {"B1 to B7 match torchvision's parameter counts", b1_to_b7_match_torchvision_parameter_counts},
    {"B0 parameters have Keras names and shapes", b0_parameters_have_keras_names_and_shapes},
    {"Keras initialisers have the documented scale", keras_initialisers_have_the_documented_scale},
    {"bad model options fail with a message", bad_model_options_fail_with_a_message},
    {NULL, NULL},
};
static const struct ecg_test torch_tests[] = {
    {"B0 with symmetric padding matches torchvision (eval, train, gradients, running stats)",
     b0_with_symmetric_padding_matches_torchvision},
    {"B0 with SAME padding matches torch with TF padding (eval, train, gradients, running stats)",
     b0_with_same_padding_matches_torch_with_tf_padding},
    {"B0 with 4 context values before the classifier matches torch.cat then Linear (eval, train, gradients)",
     b0_with_rr_context_matches_torch_with_the_values_joined},
    {NULL, NULL},
};
static const struct ecg_test model_tests[] = {
    {"full B0 gradients match finite differences in eval mode",
     full_b0_gradients_match_finite_differences_in_eval_mode},
    {"training steps are reproducible from the step generator",
     training_steps_are_reproducible_from_the_step_generator},
    {"a last, smaller batch gives the same eval outputs", a_last_smaller_batch_gives_the_same_eval_outputs},
    {"a features-only model backpropagates feature gradients",
     a_features_only_model_backpropagates_feature_gradients},
    {"head-only training touches only the head", head_only_training_touches_only_the_head},
    {"an inference-only model matches in less memory", an_inference_only_model_matches_in_less_memory},
    {"an inference forward changes no process-wide setting", an_inference_forward_changes_no_process_setting},
    {"every parameter declares how it starts", every_parameter_declares_how_it_starts},
    {"batch-parallel evaluation is bit-identical across thread counts",
     batch_parallel_evaluation_is_bit_identical_across_thread_counts},
    {"each sample reads its own context in batch-parallel evaluation",
     each_sample_reads_its_own_context_in_batch_parallel_evaluation},
    {"partial freezing keeps the trainable gradients exact",
     partial_freezing_keeps_the_trainable_gradients_exact},
    {"timing and memory figures are reported", timing_and_memory_figures_are_reported},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"architecture", arch_tests},
    {"torch", torch_tests},
    {"model", model_tests},
    {NULL, NULL},
};

/* Under AddressSanitizer, let an impossible allocation return NULL (as malloc does) instead of
 * aborting, so the out-of-memory test sees the message; ignored in other builds. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

int main(int argc, char **argv)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* missing optional datasets are probed quietly */
    /* one thread: these tests run hundreds of tiny forwards, where OpenMP barriers on a busy
     * machine cost more than the work; the kernels' threaded paths have their own tests */
    ecg_threads_set(1);
    int rc = ecg_test_main(argc, argv, suites);
    printf("worst relative error against PyTorch: %.2e\n", worst_rel);
    return rc;
}
