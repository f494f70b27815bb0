/* Tests of the layers (layers/layer*.c): finite-difference gradient checks of every layer type, inputs and
 * parameters. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/params.h"
#include "core/rng.h"
#include "layers/layer.h"
#include "tests/layers/gradcheck.h"
#include "tests/test_util.h"

/* A network under test plus everything its projection loss needs. */
struct harness {
    struct ecg_net net;
    float *x;  /* input, batch x in */
    float *w;  /* projection weights of the output */
    int64_t n; /* samples run */
    bool training;
    enum ecg_bn_mode bn_mode;
    struct ecg_rng rng;
    bool use_rng;
};

static int64_t numel3(const int64_t d[3])
{
    return d[0] * d[1] * d[2];
}

/* Builds a net of `count` layers (varargs array) on input (h, w, c) with batch n. */
static bool harness_init(struct harness *hs, struct ecg_layer *const *layers, int count, int64_t n, int64_t h,
                         int64_t w, int64_t c, float eps)
{
    memset(hs, 0, sizeof *hs);
    struct ecg_layer **ls = malloc((size_t)count * sizeof *ls);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ls);
    for (int i = 0; i < count; i++) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(layers[i]);
        ls[i] = layers[i];
        ls[i]->stream = (uint64_t)i;
    }
    struct ecg_error err = {0};
    struct ecg_net_options o = {.bn_eps = eps, .bn_momentum = 0.1f, .want_din = true};
    int64_t dims[3] = {h, w, c};
    int rc = ecg_net_init(&hs->net, ls, count, n, dims, &o, &err);
    if (rc) {
        printf("\n  net init failed: %s\n", err.msg);
        return false;
    }
    hs->n = n;
    hs->x = malloc((size_t)(n * numel3(dims)) * sizeof(float));
    hs->w = malloc((size_t)(n * numel3(hs->net.out_dims)) * sizeof(float));
    ecg_gradcheck_fill(hs->x, n * numel3(dims), 11, -1.5f, 1.5f);
    ecg_gradcheck_fill(hs->w, n * numel3(hs->net.out_dims), 12, -1.0f, 1.0f);
    /* parameters: uniform, BN scales near 1, running variance positive */
    struct ecg_params *p = &hs->net.params;
    for (int i = 0; i < p->count; i++) {
        const char *name = p->items[i].name;
        float *v = ecg_params_value(p, i);
        int64_t k = p->items[i].numel;
        if (strstr(name, "/gamma"))
            ecg_gradcheck_fill(v, k, 100 + (uint64_t)i, 0.5f, 1.5f);
        else if (strstr(name, "/moving_variance"))
            ecg_gradcheck_fill(v, k, 100 + (uint64_t)i, 0.5f, 2.0f);
        else if (strstr(name, "/moving_mean") || strstr(name, "/beta") || strstr(name, "/bias"))
            ecg_gradcheck_fill(v, k, 100 + (uint64_t)i, -0.3f, 0.3f);
        else
            ecg_gradcheck_fill(v, k, 100 + (uint64_t)i, -0.6f, 0.6f);
    }
    hs->rng = ecg_rng_init(5, 0);
    return true;
}

static void harness_free(struct harness *hs)
{
    ecg_net_free(&hs->net);
    free(hs->x);
    free(hs->w);
}

static double harness_loss(void *ctx)
{
    struct harness *hs = ctx;
    ecg_net_forward(&hs->net, hs->x, hs->n, hs->training, hs->bn_mode, hs->use_rng ? &hs->rng : NULL);
    return ecg_gradcheck_dot(ecg_net_output(&hs->net), hs->w, hs->n * numel3(hs->net.out_dims));
}

/* Runs backward once, then checks din and every trainable parameter by finite differences. */
static bool harness_check(struct harness *hs, int64_t max_probes, double rtol, double atol)
{
    struct ecg_params *p = &hs->net.params;
    ecg_params_zero_grad(p);
    harness_loss(hs);
    ecg_net_backward(&hs->net, hs->w);
    struct ecg_gradcheck_tensor t[64];
    int count = 0;
    t[count++] = (struct ecg_gradcheck_tensor){"din", hs->x, hs->net.din, hs->n * numel3(hs->net.in_dims)};
    for (int i = 0; i < p->count && count < 64; i++) {
        if (p->items[i].flags & (ECG_PARAM_BUFFER | ECG_PARAM_FROZEN))
            continue;
        t[count++] = (struct ecg_gradcheck_tensor){p->items[i].name, ecg_params_value(p, i),
                                                   ecg_params_grad(p, i), p->items[i].numel};
    }
    struct ecg_gradcheck_opts o = {
        .eps = 1e-3, .rtol = rtol, .atol = atol, .max_probes = max_probes, .seed = 3};
    return ecg_gradcheck(harness_loss, hs, t, count, &o);
}

/* One-layer gradient check on an input of (n, h, w, c). */
static void check_one(struct ecg_layer *l, int64_t n, int64_t h, int64_t w, int64_t c, bool training,
                      enum ecg_bn_mode mode)
{
    struct harness hs;
    struct ecg_layer *ls[1] = {l};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 1, n, h, w, c, 1e-3f));
    hs.training = training;
    hs.bn_mode = mode;
    CU_ASSERT_TRUE(harness_check(&hs, 60, 1e-2, 2e-3));
    harness_free(&hs);
}

static void conv_gradients_match_finite_differences(void)
{
    check_one(ecg_layer_conv_new("c", 4, 3, 1, ECG_PAD_SAME), 2, 5, 6, 3, false, ECG_BN_TRAIN);
    check_one(ecg_layer_conv_new("c", 4, 3, 2, ECG_PAD_SAME), 2, 6, 7, 3, false, ECG_BN_TRAIN);
    check_one(ecg_layer_conv_new("c", 4, 3, 2, ECG_PAD_SYMMETRIC), 2, 6, 7, 3, false, ECG_BN_TRAIN);
    check_one(ecg_layer_conv_new("c", 5, 1, 1, ECG_PAD_SAME), 2, 3, 4, 6, false, ECG_BN_TRAIN);
    check_one(ecg_layer_conv_new("c", 3, 5, 2, ECG_PAD_SAME), 1, 8, 8, 2, false, ECG_BN_TRAIN);
}

static void depthwise_gradients_match_finite_differences(void)
{
    check_one(ecg_layer_dwconv_new("d", 3, 1, ECG_PAD_SAME), 2, 5, 6, 4, false, ECG_BN_TRAIN);
    check_one(ecg_layer_dwconv_new("d", 3, 2, ECG_PAD_SAME), 2, 6, 6, 4, false, ECG_BN_TRAIN);
    check_one(ecg_layer_dwconv_new("d", 5, 2, ECG_PAD_SAME), 2, 7, 8, 3, false, ECG_BN_TRAIN);
    check_one(ecg_layer_dwconv_new("d", 5, 2, ECG_PAD_SYMMETRIC), 2, 8, 7, 3, false, ECG_BN_TRAIN);
    check_one(ecg_layer_dwconv_new("d", 3, 1, ECG_PAD_SYMMETRIC), 1, 4, 5, 5, false, ECG_BN_TRAIN);
}

static void batch_norm_gradients_match_in_train_frozen_and_eval_modes(void)
{
    check_one(ecg_layer_bn_new("bn"), 2, 3, 3, 4, true, ECG_BN_TRAIN);
    check_one(ecg_layer_bn_new("bn"), 2, 3, 3, 4, true, ECG_BN_FROZEN);
    check_one(ecg_layer_bn_new("bn"), 2, 3, 3, 4, false, ECG_BN_TRAIN);
    check_one(ecg_layer_bn_silu_new("bn"), 2, 3, 3, 4, true, ECG_BN_TRAIN);
    check_one(ecg_layer_bn_silu_new("bn"), 2, 3, 3, 4, true, ECG_BN_FROZEN);
}

static void silu_gap_dropout_and_dense_gradients_match(void)
{
    check_one(ecg_layer_silu_new("act"), 2, 3, 3, 4, true, ECG_BN_TRAIN);
    check_one(ecg_layer_gap_new("pool"), 2, 3, 4, 5, true, ECG_BN_TRAIN);
    check_one(ecg_layer_dense_new("fc", 3), 3, 1, 1, 7, true, ECG_BN_TRAIN);
    /* dropout with a fixed step generator: the mask is the same on every call */
    struct harness hs;
    struct ecg_layer *ls[2] = {ecg_layer_dropout_new("drop", 0.4f), ecg_layer_dense_new("fc", 3)};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 2, 3, 1, 1, 8, 1e-3f));
    hs.training = true;
    hs.use_rng = true;
    CU_ASSERT_TRUE(harness_check(&hs, 0, 1e-2, 2e-3));
    harness_free(&hs);
}

static void context_joins_its_values_and_gradients_match(void)
{
    /* (3, 1, 1, 5) features and 2 context values per sample, then a dense layer of 3 */
    float context[3 * 2];
    ecg_gradcheck_fill(context, 6, 21, -1.0f, 1.0f);
    struct harness hs;
    struct ecg_layer *ls[2] = {ecg_layer_context_new("ctx", context, 2), ecg_layer_dense_new("fc", 3)};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 2, 3, 1, 1, 5, 1e-3f));
    CU_ASSERT_EQUAL(hs.net.layers[1]->in_dims[2], 7);
    harness_loss(&hs);
    const float *joined = hs.net.layers[0]->out;
    for (int64_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(memcmp(joined + i * 7, hs.x + i * 5, 5 * sizeof(float)), 0);
        CU_ASSERT_EQUAL(memcmp(joined + i * 7 + 5, context + i * 2, 2 * sizeof(float)), 0);
    }
    CU_ASSERT_TRUE(harness_check(&hs, 0, 1e-2, 2e-3));
    /* the classifier reads the context: other values, other outputs */
    float before[9];
    harness_loss(&hs); /* the checker's last forward ran on a perturbed value */
    memcpy(before, ecg_net_output(&hs.net), sizeof before);
    context[3] += 0.5f;
    harness_loss(&hs);
    CU_ASSERT_NOT_EQUAL(memcmp(before, ecg_net_output(&hs.net), sizeof before), 0);
    CU_ASSERT_EQUAL(memcmp(before, ecg_net_output(&hs.net), 3 * sizeof(float)), 0); /* sample 0 untouched */
    harness_free(&hs);
}

static void squeeze_excite_gradients_match_finite_differences(void)
{
    check_one(ecg_layer_se_new("blk_se", 2), 2, 3, 3, 6, true, ECG_BN_TRAIN);
    check_one(ecg_layer_se_new("blk_se", 1), 1, 2, 5, 3, true, ECG_BN_TRAIN);
}

static void check_block(const struct ecg_mbconv_spec *spec, int64_t n, int64_t h, int64_t w, bool training,
                        bool use_rng)
{
    struct harness hs;
    struct ecg_layer *ls[1] = {ecg_layer_mbconv_new("block9z", spec)};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 1, n, h, w, spec->cin, 1e-3f));
    hs.training = training;
    hs.use_rng = use_rng;
    CU_ASSERT_TRUE(harness_check(&hs, 40, 2e-2, 3e-3));
    harness_free(&hs);
}

static void mbconv_gradients_match_with_and_without_residual(void)
{
    /* expand 1, residual, eval-mode BN */
    struct ecg_mbconv_spec a = {
        .cin = 4, .cout = 4, .expand = 1, .k = 3, .stride = 1, .cse = 1, .pad = ECG_PAD_SAME};
    check_block(&a, 2, 4, 4, false, false);
    /* expand 6, stride 2, no residual, training BN, symmetric padding */
    struct ecg_mbconv_spec b = {
        .cin = 3, .cout = 5, .expand = 6, .k = 3, .stride = 2, .cse = 1, .pad = ECG_PAD_SYMMETRIC};
    check_block(&b, 2, 5, 6, true, false);
    /* expand 6, stride 2, 5x5, SAME padding */
    struct ecg_mbconv_spec c = {
        .cin = 2, .cout = 3, .expand = 6, .k = 5, .stride = 2, .cse = 1, .pad = ECG_PAD_SAME};
    check_block(&c, 2, 6, 6, true, false);
    /* expand 6, residual with drop-connect active (one of the samples is dropped for this seed or not:
     * either way the mask is fixed across calls) */
    struct ecg_mbconv_spec d = {.cin = 4,
                                .cout = 4,
                                .expand = 6,
                                .k = 3,
                                .stride = 1,
                                .cse = 1,
                                .drop_rate = 0.5f,
                                .pad = ECG_PAD_SAME};
    check_block(&d, 3, 3, 3, true, true);
}

static void a_chain_of_layers_gradients_match(void)
{
    struct harness hs;
    struct ecg_mbconv_spec s = {
        .cin = 4, .cout = 4, .expand = 2, .k = 3, .stride = 1, .cse = 1, .pad = ECG_PAD_SAME};
    struct ecg_layer *ls[6] = {
        ecg_layer_conv_new("stem", 4, 3, 2, ECG_PAD_SAME),
        ecg_layer_bn_silu_new("stem_bn"),
        ecg_layer_mbconv_new("block1a", &s),
        ecg_layer_gap_new("pool"),
        ecg_layer_dropout_new("drop", 0.2f),
        ecg_layer_dense_new("fc", 3),
    };
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 6, 2, 6, 6, 2, 1e-3f));
    hs.training = true;
    hs.use_rng = true;
    CU_ASSERT_TRUE(harness_check(&hs, 30, 2e-2, 3e-3));
    harness_free(&hs);
}

/* Data-parallel ranks run parts of a batch: dropout and drop-connect masks are keyed by the sample's place
 * in the whole batch (net.sample0), so a part gives the rows the whole batch gives. */
static void masks_of_a_part_of_the_batch_are_those_of_the_whole_batch(void)
{
    struct harness hs;
    struct ecg_mbconv_spec s = {.cin = 4,
                                .cout = 4,
                                .expand = 2,
                                .k = 3,
                                .stride = 1,
                                .cse = 1,
                                .drop_rate = 0.5f,
                                .pad = ECG_PAD_SAME};
    struct ecg_layer *ls[3] = {ecg_layer_mbconv_new("block1a", &s), ecg_layer_gap_new("pool"),
                               ecg_layer_dropout_new("drop", 0.5f)};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 3, 8, 4, 4, 4, 1e-3f));
    const int64_t in = 4 * 4 * 4, out = numel3(hs.net.out_dims);
    ecg_net_forward(&hs.net, hs.x, 8, true, ECG_BN_FROZEN, &hs.rng);
    float whole[8 * 4];
    memcpy(whole, ecg_net_output(&hs.net), sizeof whole);
    int dropped = 0;
    for (int i = 0; i < 8 * 4; i++)
        dropped += whole[i] == 0.0f;
    CU_ASSERT_TRUE(dropped > 0 && dropped < 8 * 4); /* the masks are active */
    hs.net.sample0 = 5;
    ecg_net_forward(&hs.net, hs.x + 5 * in, 3, true, ECG_BN_FROZEN, &hs.rng);
    ECG_CHECK_CLOSE("samples 5..7 run alone", ecg_net_output(&hs.net), whole + 5 * out, 3 * out, 1e-6, 1e-7);
    harness_free(&hs);
}

/* Parameters registered with Keras names, shapes and flags. */
static void layers_register_keras_names_shapes_and_flags(void)
{
    struct ecg_mbconv_spec s = {
        .cin = 16, .cout = 24, .expand = 6, .k = 3, .stride = 2, .cse = 4, .pad = ECG_PAD_SAME};
    struct harness hs;
    struct ecg_layer *ls[1] = {ecg_layer_mbconv_new("block2a", &s)};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 1, 1, 8, 8, 16, 1e-3f));
    const struct ecg_params *p = &hs.net.params;
    static const struct {
        const char *name;
        int ndim;
        int64_t shape[4];
        unsigned flags;
    } want[] = {
        {"block2a_expand_conv/kernel", 4, {1, 1, 16, 96}, 0},
        {"block2a_expand_bn/gamma", 1, {96}, ECG_PARAM_NO_DECAY},
        {"block2a_expand_bn/moving_variance", 1, {96}, ECG_PARAM_BUFFER},
        {"block2a_dwconv/depthwise_kernel", 4, {3, 3, 96, 1}, 0},
        {"block2a_bn/beta", 1, {96}, ECG_PARAM_NO_DECAY},
        {"block2a_se_reduce/kernel", 4, {1, 1, 96, 4}, 0},
        {"block2a_se_reduce/bias", 1, {4}, ECG_PARAM_NO_DECAY},
        {"block2a_se_expand/kernel", 4, {1, 1, 4, 96}, 0},
        {"block2a_project_conv/kernel", 4, {1, 1, 96, 24}, 0},
        {"block2a_project_bn/moving_mean", 1, {24}, ECG_PARAM_BUFFER},
    };
    CU_ASSERT_EQUAL(p->count, 19);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int k = ecg_params_find(p, want[i].name);
        CU_ASSERT_TRUE(k >= 0);
        if (k < 0) {
            printf("\n  missing %s\n", want[i].name);
            continue;
        }
        CU_ASSERT_EQUAL(p->items[k].ndim, want[i].ndim);
        for (int d = 0; d < want[i].ndim; d++)
            CU_ASSERT_EQUAL(p->items[k].shape[d], want[i].shape[d]);
        CU_ASSERT_EQUAL(p->items[k].flags, want[i].flags);
    }
    CU_ASSERT_EQUAL(hs.net.out_dims[0], 4);
    CU_ASSERT_EQUAL(hs.net.out_dims[2], 24);
    harness_free(&hs);
}

static void frozen_layers_get_no_gradient_and_lower_layers_are_skipped(void)
{
    struct harness hs;
    struct ecg_layer *ls[4] = {ecg_layer_conv_new("c1", 3, 3, 1, ECG_PAD_SAME), ecg_layer_bn_silu_new("b1"),
                               ecg_layer_gap_new("pool"), ecg_layer_dense_new("fc", 2)};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 4, 2, 4, 4, 2, 1e-3f));
    struct ecg_params *p = &hs.net.params;
    hs.training = true;
    /* reference gradients with everything trainable */
    ecg_params_zero_grad(p);
    harness_loss(&hs);
    ecg_net_backward(&hs.net, hs.w);
    int fc = ecg_params_find(p, "fc/kernel"), c1 = ecg_params_find(p, "c1/kernel");
    int64_t k = p->items[fc].numel;
    float *ref = malloc((size_t)k * sizeof(float));
    memcpy(ref, ecg_params_grad(p, fc), (size_t)k * sizeof(float));
    /* freeze everything below the head; no input gradient wanted */
    CU_ASSERT_EQUAL(ecg_params_set_flags(p, "c1/", ECG_PARAM_FROZEN, true), 1);
    CU_ASSERT_EQUAL(ecg_params_set_flags(p, "b1/", ECG_PARAM_FROZEN, true), 4);
    float *saved_din = hs.net.din;
    hs.net.din = NULL;
    ecg_params_zero_grad(p);
    harness_loss(&hs);
    ecg_net_backward(&hs.net, hs.w);
    /* the frozen BN runs on running statistics: the head gradient changes, lower ones stay zero */
    bool all_zero = true;
    for (int64_t i = 0; i < p->items[c1].numel; i++)
        all_zero = all_zero && ecg_params_grad(p, c1)[i] == 0.0f;
    CU_ASSERT_TRUE(all_zero);
    int g = ecg_params_find(p, "b1/gamma");
    CU_ASSERT_EQUAL(ecg_params_grad(p, g)[0], 0.0f);
    bool differs = false;
    for (int64_t i = 0; i < k; i++)
        differs = differs || ecg_params_grad(p, fc)[i] != ref[i];
    CU_ASSERT_TRUE(differs); /* batch statistics were replaced by running ones */
    hs.net.din = saved_din;
    free(ref);
    harness_free(&hs);
}

static void a_smaller_batch_runs_on_the_same_plan(void)
{
    struct harness hs;
    struct ecg_layer *ls[3] = {ecg_layer_conv_new("c1", 3, 3, 2, ECG_PAD_SAME), ecg_layer_bn_silu_new("b1"),
                               ecg_layer_gap_new("pool")};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 3, 4, 5, 5, 2, 1e-3f));
    ecg_net_forward(&hs.net, hs.x, 4, false, ECG_BN_TRAIN, NULL);
    float want[3];
    memcpy(want, ecg_net_output(&hs.net), sizeof want);
    float *x1 = hs.x; /* the first sample alone */
    ecg_net_forward(&hs.net, x1, 1, false, ECG_BN_TRAIN, NULL);
    ECG_CHECK_CLOSE("sample 0 alone", ecg_net_output(&hs.net), want, 3, 0.0, 1e-6);
    /* and the gradient check still holds with n = 3 of 4 in training */
    hs.n = 3;
    hs.training = true;
    CU_ASSERT_TRUE(harness_check(&hs, 30, 1e-2, 2e-3));
    harness_free(&hs);
}

/* Batch norm's backward may write its input gradient over its output gradient (backward_in_place,
 * which lets ecg_layers_backward keep an expand convolution's gradient in one buffer): in place it
 * gives the bits, input and parameter gradients, of a separate buffer, in every mode. */
static void batch_norm_backward_in_place_gives_the_bits_of_a_separate_buffer(void)
{
    for (int k = 0; k < 4; k++) {
        bool silu = k & 1, training = k & 2;
        struct harness hs;
        struct ecg_layer *ls[1] = {silu ? ecg_layer_bn_silu_new("bn") : ecg_layer_bn_new("bn")};
        CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 1, 3, 4, 5, 6, 1e-3f));
        struct ecg_layer *l = hs.net.layers[0];
        CU_ASSERT_TRUE(l->ops->backward_in_place && l->ops->backward_set);
        const int64_t count = 3 * 4 * 5 * 6;
        ecg_net_forward(&hs.net, hs.x, 3, training, ECG_BN_TRAIN, NULL);
        struct ecg_run r = {.n = 3, .training = training, .bn_mode = ECG_BN_TRAIN, .params = &hs.net.params};
        struct ecg_params *p = &hs.net.params;
        float *apart = malloc((size_t)count * sizeof(float)), *same = malloc((size_t)count * sizeof(float));
        float *dparams = malloc((size_t)p->total * sizeof(float));
        ecg_params_zero_grad(p);
        ecg_layer_backward_fresh(l, &r, hs.w, apart);
        memcpy(dparams, p->grads, (size_t)p->total * sizeof(float));
        ecg_params_zero_grad(p);
        memcpy(same, hs.w, (size_t)count * sizeof(float));
        ecg_layer_backward_fresh(l, &r, same, same);
        ECG_CHECK_CLOSE("input gradient in place", same, apart, count, 0.0, 0.0);
        ECG_CHECK_CLOSE("parameter gradients in place", p->grads, dparams, p->total, 0.0, 0.0);
        free(apart);
        free(same);
        free(dparams);
        harness_free(&hs);
    }
}

/* The two gradient buffers are planned for what ecg_layers_backward puts in each: behind an
 * expand convolution and a stride-2 depthwise one, the large input gradients stay in buffer 1
 * (batch norm works in place) and buffer 0 holds only the small ones. */
static void the_backward_plan_gives_each_buffer_what_it_holds(void)
{
    struct harness hs;
    struct ecg_layer *ls[4] = {ecg_layer_conv_new("expand", 8, 1, 1, ECG_PAD_SAME),
                               ecg_layer_bn_silu_new("bn1"), ecg_layer_dwconv_new("dw", 3, 2, ECG_PAD_SAME),
                               ecg_layer_bn_silu_new("bn2")};
    CU_ASSERT_TRUE_FATAL(harness_init(&hs, ls, 4, 3, 8, 8, 2, 1e-3f));
    int64_t floats[2] = {0, 0};
    ecg_layers_backward_plan(hs.net.layers, 4, -1, 3, floats);
    CU_ASSERT_EQUAL(floats[0], 3 * 4 * 4 * 8); /* bn2's input gradient, the depthwise output's */
    CU_ASSERT_EQUAL(floats[1], 3 * 8 * 8 * 8); /* the depthwise input's, then bn1's in place */
    int64_t from_buffer0[2] = {0, 0};
    ecg_layers_backward_plan(hs.net.layers, 4, 0, 3, from_buffer0); /* bn2 in place in buffer 0 */
    CU_ASSERT_EQUAL(from_buffer0[0], 3 * 4 * 4 * 8);
    CU_ASSERT_EQUAL(from_buffer0[1], 3 * 8 * 8 * 8);
    int64_t from_buffer1[2] = {0, 0};
    ecg_layers_backward_plan(hs.net.layers, 4, 1, 3, from_buffer1); /* now the depthwise writes buffer 0 */
    CU_ASSERT_EQUAL(from_buffer1[0], 3 * 8 * 8 * 8);
    CU_ASSERT_EQUAL(from_buffer1[1], 3 * 4 * 4 * 8);
    hs.training = true;
    CU_ASSERT_TRUE(harness_check(&hs, 30, 1e-2, 2e-3)); /* and the chain's gradients hold */
    harness_free(&hs);
}

static void a_layer_that_cannot_take_its_input_fails_with_a_message(void)
{
    struct ecg_net net;
    struct ecg_error err = {0};
    struct ecg_layer **ls = malloc(2 * sizeof *ls);
    ls[0] = ecg_layer_conv_new("c1", 3, 3, 1, ECG_PAD_SAME);
    ls[1] = ecg_layer_dense_new("fc", 2);
    struct ecg_net_options o = {.bn_eps = 1e-3f, .bn_momentum = 0.1f};
    int64_t dims[3] = {4, 4, 2};
    int rc = ecg_net_init(&net, ls, 2, 2, dims, &o, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_SHAPE, "layer 'fc': dense input must be (1, 1, C), got (4, 4, 3)");
    ecg_net_free(&net); /* freed already: a no-op */

    float context[2 * 3] = {0};
    ls = malloc(1 * sizeof *ls);
    ls[0] = ecg_layer_context_new("ctx", context, 3);
    rc = ecg_net_init(&net, ls, 1, 2, dims, &o, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_SHAPE, "layer 'ctx': context joins (1, 1, C) features, got (4, 4, 2)");

    ls = malloc(2 * sizeof *ls);
    ls[0] = ecg_layer_bn_new("same");
    ls[1] = ecg_layer_bn_new("same");
    rc = ecg_net_init(&net, ls, 2, 2, dims, &o, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_USAGE, "parameter 'same/gamma' registered twice");

    ls = malloc(1 * sizeof *ls);
    ls[0] = ecg_layer_bn_new("bn");
    int64_t bad[3] = {4, 0, 2};
    rc = ecg_net_init(&net, ls, 1, 2, bad, &o, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_RANGE, "input (4, 0, 2) must be positive");
}

static const struct ecg_test grad_tests[] = {
    {"convolution gradients match finite differences (strides, kernels, both paddings)",
     conv_gradients_match_finite_differences},
    {"depthwise gradients match finite differences (3x3, 5x5, strides 1 and 2, both paddings)",
     depthwise_gradients_match_finite_differences},
    {"batch-norm gradients match in train, frozen and eval modes, plain and fused with SiLU",
     batch_norm_gradients_match_in_train_frozen_and_eval_modes},
    {"SiLU, pooling, dropout and dense gradients match", silu_gap_dropout_and_dense_gradients_match},
    {"squeeze-excite gradients match finite differences", squeeze_excite_gradients_match_finite_differences},
    {"context joins its values to the features, and gradients match",
     context_joins_its_values_and_gradients_match},
    {"MBConv gradients match with and without residual, expand 1 and 6, strides 1 and 2",
     mbconv_gradients_match_with_and_without_residual},
    {"a chain stem, MBConv, pool, dropout, dense matches finite differences",
     a_chain_of_layers_gradients_match},
    {NULL, NULL},
};
static const struct ecg_test layer_tests[] = {
    {"layers register Keras names, shapes and flags", layers_register_keras_names_shapes_and_flags},
    {"masks of a part of the batch are those of the whole batch",
     masks_of_a_part_of_the_batch_are_those_of_the_whole_batch},
    {"frozen layers get no gradient and lower layers are skipped",
     frozen_layers_get_no_gradient_and_lower_layers_are_skipped},
    {"a smaller batch runs on the same plan", a_smaller_batch_runs_on_the_same_plan},
    {"batch norm's backward in place gives the bits of a separate buffer",
     batch_norm_backward_in_place_gives_the_bits_of_a_separate_buffer},
    {"the backward plan gives each buffer what it holds", the_backward_plan_gives_each_buffer_what_it_holds},
    {"a layer that cannot take its input fails with a message",
     a_layer_that_cannot_take_its_input_fails_with_a_message},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"gradients", grad_tests},
    {"layers", layer_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
