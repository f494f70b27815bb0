/* Tests of io/keras_h5: Keras 2 / Keras 3 / chunked / converted files, every error path, the writer. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/params.h"
#include "io/h5util.h"
#include "io/keras_h5.h"
#include "layers/effnet_keras.h"
#include "tests/test_util.h"

/* ---- building parameter stores ---- */

static unsigned flags_for(const char *name)
{
    if (strstr(name, "/moving_"))
        return ECG_PARAM_BUFFER;
    if (strstr(name, "/gamma") || strstr(name, "/beta") || strstr(name, "/bias"))
        return ECG_PARAM_NO_DECAY;
    return 0;
}

/* The B0 store of tests/fixtures/io/b0_params.txt.  classes 0 leaves out the
 * head; stem_in sets the stem's input channels; `change` (may be NULL)
 * replaces the shape of one named parameter. */
static void build_b0(struct ecg_params *p, int64_t classes, int64_t stem_in, const char *change,
                     int change_ndim, const int64_t *change_shape)
{
    memset(p, 0, sizeof *p);
    struct ecg_error err = {0};
    FILE *f = fopen(ecg_test_fixture("io/b0_params.txt"), "r");
    ECG_ASSERT(f);
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char name[128], dims[64] = "";
        int got = sscanf(line, "%127s %63s", name, dims);
        ECG_ASSERT(got >= 1);
        int64_t shape[4];
        int nd = 0;
        for (char *t = strtok(dims, ","); t && got == 2; t = strtok(NULL, ","))
            shape[nd++] = atoll(t);
        if (strncmp(name, "predictions/", 12) == 0) {
            if (classes == 0)
                continue;
            shape[nd - 1] = classes;
        }
        if (strcmp(name, "stem_conv/kernel") == 0)
            shape[2] = stem_in;
        if (change && strcmp(name, change) == 0) {
            nd = change_ndim;
            memcpy(shape, change_shape, sizeof(int64_t) * (size_t)nd);
        }
        ECG_ASSERT(ecg_params_add(p, name, nd, shape, flags_for(name), NULL, &err) == ECG_OK);
    }
    fclose(f);
    ECG_ASSERT(ecg_params_bind(p, &err) == ECG_OK);
}

/* The model of chunked_small.h5 (plus optional extra parameters). */
static void build_small(struct ecg_params *p, const char *extra)
{
    memset(p, 0, sizeof *p);
    struct ecg_error err = {0};
    const int64_t k[4] = {3, 3, 3, 4}, c[1] = {4}, d[2] = {4, 2}, b[1] = {2};
    ECG_ASSERT(ecg_params_add(p, "stem_conv/kernel", 4, k, 0, NULL, &err) == ECG_OK);
    const char *bn[] = {"stem_bn/gamma", "stem_bn/beta", "stem_bn/moving_mean", "stem_bn/moving_variance"};
    for (int i = 0; i < 4; i++)
        ECG_ASSERT(ecg_params_add(p, bn[i], 1, c, flags_for(bn[i]), NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "predictions/kernel", 2, d, 0, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "predictions/bias", 1, b, 0, NULL, &err) == ECG_OK);
    if (extra)
        ECG_ASSERT(ecg_params_add(p, extra, 4, k, 0, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_bind(p, &err) == ECG_OK);
}

/* The fixtures' value pattern of parameter number idx, element i. */
static float pattern(int64_t idx, int64_t i)
{
    return (float)((double)((i % 7) - 3) * 0.01 + (double)idx * 1e-4);
}

/* The value of element i of parameter number idx named `name` (moving variances are shifted by 1). */
static float expected(const char *name, int64_t idx, int64_t i)
{
    float v = pattern(idx, i);
    return strstr(name, "/moving_variance") ? v + 1.0f : v;
}

/* True when parameters [first, last) hold the pattern with numbers starting at idx0. */
static bool holds_pattern(const struct ecg_params *p, int first, int last, int idx0)
{
    for (int k = first; k < last; k++) {
        const float *v = ecg_params_value(p, k);
        for (int64_t i = 0; i < p->items[k].numel; i++) {
            float want = expected(p->items[k].name, idx0 + k - first, i);
            if (v[i] != want) {
                fprintf(stderr, "\n  %s[%lld] = %.9g, want %.9g\n", p->items[k].name, (long long)i,
                        (double)v[i], (double)want);
                return false;
            }
        }
    }
    return true;
}

static void fill(struct ecg_params *p, float value)
{
    for (int64_t i = 0; i < p->total; i++)
        p->values[i] = value;
}

static bool all_equal(const struct ecg_params *p, int index, float value)
{
    const float *v = ecg_params_value(p, index);
    for (int64_t i = 0; i < p->items[index].numel; i++)
        if (v[i] != value)
            return false;
    return true;
}

static const char *const HEAD[] = {"predictions/"};
/* io/ itself knows no model: these loads are for EfficientNet (architecture check, stem adaptation). */
static const struct ecg_keras_load_opts QUIET = {.quiet = true, .model = &ecg_effnet_keras};
static const struct ecg_keras_load_opts HEAD_MAY_MISS = {.allow_missing = HEAD, .n_allow_missing = 1,
                                                         .quiet = true, .model = &ecg_effnet_keras};

/* ---- loading good files ---- */

static void the_b0_parameter_list_has_5288548_trainable_values(void)
{
    struct ecg_params p;
    build_b0(&p, 1000, 3, NULL, 0, NULL);
    CU_ASSERT_EQUAL(p.count, 311); /* 314 Keras weights minus normalization's three */
    CU_ASSERT_EQUAL(ecg_params_count(&p, ECG_PARAM_BUFFER), 5288548);
    CU_ASSERT_EQUAL(ecg_params_count(&p, 0), 5288548 + 42016); /* moving statistics; +7 normalization in Keras */
    ecg_params_free(&p);
}

static void a_keras2_b0_file_loads_every_parameter_by_name(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    struct ecg_keras_info info;
    build_b0(&p, 1000, 3, NULL, 0, NULL);
    int rc = ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &QUIET, &info, &err);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_TRUE(holds_pattern(&p, 0, p.count, 0));
    CU_ASSERT_STRING_EQUAL(info.inferred_arch, "b0");
    CU_ASSERT_EQUAL(info.num_classes, 1000);
    CU_ASSERT_EQUAL(info.stem_in_channels, 3);
    CU_ASSERT_EQUAL(info.layers, 132); /* weighted layers of B0, normalization included */
    CU_ASSERT_EQUAL(info.weights, 311);
    CU_ASSERT_STRING_EQUAL(info.keras_version, "2.13.1");
    CU_ASSERT_STRING_EQUAL(info.backend, "tensorflow");
    CU_ASSERT_FALSE(info.has_bn_eps || info.has_padding || info.has_arch);
    /* The input normalisation: the stored "variance" is really the std. */
    CU_ASSERT_TRUE(info.has_normalization);
    CU_ASSERT_EQUAL(info.norm_channels, 3);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    ECG_CHECK_CLOSE("norm mean", info.norm_mean, mean, 3, 0, 0);
    ECG_CHECK_CLOSE("norm std", info.norm_std, std, 3, 0, 0);
    ecg_params_free(&p);
}

static void a_keras3_whole_model_notop_file_loads_into_a_notop_model(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    struct ecg_keras_info info;
    build_b0(&p, 0, 3, NULL, 0, NULL);
    int rc = ecg_keras_load(ecg_test_fixture("io/keras3_b0_notop.h5"), &p, &QUIET, &info, &err);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_TRUE(holds_pattern(&p, 0, p.count, 0));
    CU_ASSERT_EQUAL(info.num_classes, 0);
    CU_ASSERT_STRING_EQUAL(info.inferred_arch, "b0");
    CU_ASSERT_STRING_EQUAL(info.keras_version, "3.3.3");
    CU_ASSERT_TRUE(info.has_normalization);
    ecg_params_free(&p);
}

static void a_notop_file_leaves_an_allowed_head_at_its_initialisation(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 5, 3, NULL, 0, NULL);
    fill(&p, 7.0f);
    int rc = ecg_keras_load(ecg_test_fixture("io/keras3_b0_notop.h5"), &p, &HEAD_MAY_MISS, NULL, &err);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    int k = ecg_params_find(&p, "predictions/kernel");
    CU_ASSERT_TRUE(all_equal(&p, k, 7.0f));
    CU_ASSERT_TRUE(all_equal(&p, ecg_params_find(&p, "predictions/bias"), 7.0f));
    CU_ASSERT_TRUE(holds_pattern(&p, 0, k, 0));
    ecg_params_free(&p);
}

static void a_missing_head_is_an_error_unless_allowed(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 5, 3, NULL, 0, NULL);
    int rc = ecg_keras_load(ecg_test_fixture("io/keras3_b0_notop.h5"), &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT,
                    "keras3_b0_notop.h5: missing layer 'predictions' (needed by model parameter 'predictions/kernel')");
    ecg_params_free(&p);
}

static void a_head_of_another_class_count_is_a_shape_error_unless_allowed(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 5, 3, NULL, 0, NULL);
    fill(&p, 7.0f);
    int rc = ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_SHAPE,
                    "keras2_b0.h5: layer 'predictions' weight 'kernel': expected (1280, 5), found (1280, 1000)");
    rc = ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &HEAD_MAY_MISS, NULL, &err);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    int k = ecg_params_find(&p, "predictions/kernel");
    CU_ASSERT_TRUE(all_equal(&p, k, 7.0f));
    CU_ASSERT_TRUE(holds_pattern(&p, 0, k, 0));
    ecg_params_free(&p);
}

static void skipped_parameters_are_never_loaded(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 1000, 3, NULL, 0, NULL);
    fill(&p, 7.0f);
    struct ecg_keras_load_opts o = {.skip = HEAD, .n_skip = 1, .quiet = true, .model = &ecg_effnet_keras};
    CU_ASSERT_EQUAL_FATAL(ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &o, NULL, &err), ECG_OK);
    CU_ASSERT_TRUE(all_equal(&p, ecg_params_find(&p, "predictions/kernel"), 7.0f));
    CU_ASSERT_TRUE(holds_pattern(&p, 0, ecg_params_find(&p, "predictions/kernel"), 0));
    ecg_params_free(&p);
}

static void chunked_layer_names_and_float64_weights_load(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_small(&p, NULL);
    int rc = ecg_keras_load(ecg_test_fixture("io/chunked_small.h5"), &p, &QUIET, NULL, &err);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_TRUE(holds_pattern(&p, 0, p.count, 0));
    ecg_params_free(&p);
}

static void a_single_channel_stem_sums_the_rgb_kernels(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 1000, 1, NULL, 0, NULL);
    CU_ASSERT_EQUAL_FATAL(ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &QUIET, NULL, &err), ECG_OK);
    const float *v = ecg_params_value(&p, 0); /* stem_conv/kernel, (3, 3, 1, 32) */
    float want[288];
    for (int hw = 0; hw < 9; hw++)
        for (int f = 0; f < 32; f++)
            want[hw * 32 + f] = pattern(0, hw * 96 + f) + pattern(0, hw * 96 + 32 + f) +
                                pattern(0, hw * 96 + 64 + f);
    ECG_CHECK_CLOSE("summed stem", v, want, 288, 0, 0);
    CU_ASSERT_TRUE(holds_pattern(&p, 1, p.count, 1));
    ecg_params_free(&p);
}

static void without_a_model_only_names_and_exact_shapes_load(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 1000, 1, NULL, 0, NULL);
    const struct ecg_keras_load_opts plain = {.quiet = true};
    ECG_CHECK_ERROR(ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &plain, NULL, &err), &err,
                    ECG_ERR_SHAPE, "layer 'stem_conv' weight 'kernel': expected (3, 3, 1, 32), found (3, 3, 3, 32)");
    ecg_params_free(&p);
    struct ecg_keras_info info;
    CU_ASSERT_EQUAL_FATAL(ecg_keras_probe(ecg_test_fixture("io/keras2_b1_notop.h5"), NULL, &info, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(info.inferred_arch, "");
    CU_ASSERT_EQUAL(info.stem_in_channels, 0);
    CU_ASSERT_TRUE(info.weights > 0 && info.layers > 0);
}

static void a_four_channel_stem_repeats_the_rgb_kernels_scaled(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 1000, 4, NULL, 0, NULL);
    CU_ASSERT_EQUAL_FATAL(ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &QUIET, NULL, &err), ECG_OK);
    const float *v = ecg_params_value(&p, 0);
    float want[9 * 4 * 32];
    for (int hw = 0; hw < 9; hw++)
        for (int c = 0; c < 4; c++)
            for (int f = 0; f < 32; f++)
                want[(hw * 4 + c) * 32 + f] = pattern(0, hw * 96 + (c % 3) * 32 + f) * (float)(3.0 / 4.0);
    ECG_CHECK_CLOSE("repeated stem", v, want, 9 * 4 * 32, 0, 0);
    ecg_params_free(&p);
}

/* The torchvision file converted by tools/torch2h5.py matches PyTorch's tensors. */
static void a_converted_torchvision_file_loads_with_its_attributes(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    struct ecg_keras_info info;
    build_b0(&p, 10, 3, NULL, 0, NULL);
    int rc = ecg_keras_load(ecg_test_fixture("io/torchvision_b0.h5"), &p, &QUIET, &info, &err);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_TRUE(info.has_bn_eps && info.bn_eps == 1e-5);
    CU_ASSERT_TRUE(info.has_padding && strcmp(info.padding, "symmetric") == 0);
    CU_ASSERT_TRUE(info.has_arch && strcmp(info.arch, "b0") == 0);
    CU_ASSERT_FALSE(info.has_normalization);
    CU_ASSERT_EQUAL(info.num_classes, 10);

    hid_t f;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(ecg_test_fixture("io/torchvision_b0_io.h5"), &f, &err), ECG_OK);
    static float t[12800], want[12800];
    /* conv (O, I, kh, kw) -> HWIO */
    CU_ASSERT_EQUAL(ecg_h5_read_floats(f, "torch/features.0.0.weight", t, 864, &err), ECG_OK);
    for (int o = 0; o < 32; o++)
        for (int i = 0; i < 3; i++)
            for (int h = 0; h < 3; h++)
                for (int w = 0; w < 3; w++)
                    want[((h * 3 + w) * 3 + i) * 32 + o] = t[((o * 3 + i) * 3 + h) * 3 + w];
    ECG_CHECK_CLOSE("stem_conv/kernel", ecg_params_value(&p, ecg_params_find(&p, "stem_conv/kernel")), want, 864, 0, 0);
    /* depthwise (C, 1, kh, kw) -> (kh, kw, C, 1) */
    CU_ASSERT_EQUAL(ecg_h5_read_floats(f, "torch/features.2.0.block.1.0.weight", t, 864, &err), ECG_OK);
    for (int c = 0; c < 96; c++)
        for (int hw = 0; hw < 9; hw++)
            want[hw * 96 + c] = t[c * 9 + hw];
    ECG_CHECK_CLOSE("block2a_dwconv", ecg_params_value(&p, ecg_params_find(&p, "block2a_dwconv/depthwise_kernel")),
                    want, 864, 0, 0);
    /* SE 1x1 conv with bias */
    CU_ASSERT_EQUAL(ecg_h5_read_floats(f, "torch/features.1.0.block.1.fc1.weight", t, 256, &err), ECG_OK);
    for (int o = 0; o < 8; o++)
        for (int i = 0; i < 32; i++)
            want[i * 8 + o] = t[o * 32 + i];
    ECG_CHECK_CLOSE("block1a_se_reduce", ecg_params_value(&p, ecg_params_find(&p, "block1a_se_reduce/kernel")),
                    want, 256, 0, 0);
    CU_ASSERT_EQUAL(ecg_h5_read_floats(f, "torch/features.1.0.block.1.fc1.bias", t, 8, &err), ECG_OK);
    ECG_CHECK_CLOSE("block1a_se_reduce bias", ecg_params_value(&p, ecg_params_find(&p, "block1a_se_reduce/bias")),
                    t, 8, 0, 0);
    CU_ASSERT_EQUAL(ecg_h5_read_floats(f, "torch/features.0.1.running_var", t, 32, &err), ECG_OK);
    ECG_CHECK_CLOSE("stem_bn/moving_variance", ecg_params_value(&p, ecg_params_find(&p, "stem_bn/moving_variance")),
                    t, 32, 0, 0);
    /* Linear (out, in) -> (in, out) */
    CU_ASSERT_EQUAL(ecg_h5_read_floats(f, "torch/classifier.1.weight", t, 12800, &err), ECG_OK);
    for (int o = 0; o < 10; o++)
        for (int i = 0; i < 1280; i++)
            want[i * 10 + o] = t[o * 1280 + i];
    ECG_CHECK_CLOSE("predictions/kernel", ecg_params_value(&p, ecg_params_find(&p, "predictions/kernel")), want,
                    12800, 0, 0);
    ecg_h5_close(f);
    ecg_params_free(&p);
}

static void probe_reports_a_file_without_a_model(void)
{
    struct ecg_error err = {0};
    struct ecg_keras_info info;
    CU_ASSERT_EQUAL_FATAL(ecg_keras_probe(ecg_test_fixture("io/keras2_b1_notop.h5"), &ecg_effnet_keras, &info, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(info.inferred_arch, "b1");
    CU_ASSERT_EQUAL(info.num_classes, 0);
    CU_ASSERT_EQUAL(info.stem_in_channels, 3);
    CU_ASSERT_EQUAL_FATAL(ecg_keras_probe(ecg_test_fixture("io/torchvision_b0.h5"), &ecg_effnet_keras, &info, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(info.inferred_arch, "b0");
    CU_ASSERT_STRING_EQUAL(info.arch, "b0");
    CU_ASSERT_EQUAL(info.num_classes, 10);
}

static void the_architecture_table_covers_b0_to_b7(void)
{
    char a[8];
    ecg_effnet_arch_from_layout(16, 1280, a);
    CU_ASSERT_STRING_EQUAL(a, "b0");
    ecg_effnet_arch_from_layout(23, 1280, a);
    CU_ASSERT_STRING_EQUAL(a, "b1");
    ecg_effnet_arch_from_layout(23, 1408, a);
    CU_ASSERT_STRING_EQUAL(a, "b2");
    ecg_effnet_arch_from_layout(55, 2560, a);
    CU_ASSERT_STRING_EQUAL(a, "b7");
    ecg_effnet_arch_from_layout(17, 1280, a);
    CU_ASSERT_STRING_EQUAL(a, "");
}

/* ---- errors ---- */

static void a_model_parameter_missing_from_the_file_names_its_layer(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_small(&p, "extra_conv/kernel");
    fill(&p, 7.0f);
    int rc = ecg_keras_load(ecg_test_fixture("io/chunked_small.h5"), &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT,
                    "chunked_small.h5: missing layer 'extra_conv' (needed by model parameter 'extra_conv/kernel')");
    CU_ASSERT_TRUE(all_equal(&p, 0, 7.0f));
    ecg_params_free(&p);
}

static void a_missing_weight_of_a_present_layer_is_named(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_small(&p, "stem_bn/extra");
    int rc = ecg_keras_load(ecg_test_fixture("io/chunked_small.h5"), &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT,
                    "chunked_small.h5: layer 'stem_bn' has no weight 'extra' (needed by model parameter 'stem_bn/extra')");
    ecg_params_free(&p);
}

static void a_shape_mismatch_names_the_layer_and_both_shapes_and_loads_nothing(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    const int64_t dw5[4] = {5, 5, 96, 1};
    build_b0(&p, 1000, 3, "block2a_dwconv/depthwise_kernel", 4, dw5);
    fill(&p, 7.0f);
    int rc = ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_SHAPE,
                    "keras2_b0.h5: layer 'block2a_dwconv' weight 'depthwise_kernel': expected (5, 5, 96, 1), found (3, 3, 96, 1)");
    for (int i = 0; i < p.count; i++)
        CU_ASSERT_TRUE(all_equal(&p, i, 7.0f));
    ecg_params_free(&p);
}

static void b1_weights_into_a_b0_model_say_what_they_look_like(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 0, 3, NULL, 0, NULL);
    int rc = ecg_keras_load(ecg_test_fixture("io/keras2_b1_notop.h5"), &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_SHAPE,
                    "keras2_b1_notop.h5: looks like EfficientNet-B1 weights, the model is B0");
    ecg_params_free(&p);
}

static void a_truncated_file_is_one_message_with_its_path(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 1000, 3, NULL, 0, NULL);
    int rc = ecg_keras_load(ecg_test_fixture("io/truncated_b0.h5"), &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "truncated_b0.h5: not a readable HDF5 file");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "truncated"));
    CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
    ecg_params_free(&p);
}

static void a_file_that_is_not_hdf5_is_one_message_with_its_path(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_small(&p, NULL);
    const char *path = ecg_test_write_file("notes.h5", "these are not weights\n");
    int rc = ecg_keras_load(path, &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "notes.h5: not a readable HDF5 file");
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "signature"));
    ecg_params_free(&p);
}

static void a_missing_file_reports_the_system_error(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_small(&p, NULL);
    int rc = ecg_keras_load("/nonexistent/w.h5", &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_IO, "/nonexistent/w.h5: cannot open: No such file or directory");
    ecg_params_free(&p);
}

static void an_hdf5_file_without_layer_names_is_not_a_keras_file(void)
{
    struct ecg_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/plain.h5", ecg_test_tmpdir());
    hid_t f;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_create(path, &f, &err), ECG_OK);
    const int64_t n = 3;
    const float v[3] = {1, 2, 3};
    CU_ASSERT_EQUAL(ecg_h5_write_floats(f, "x", 1, &n, v, &err), ECG_OK);
    ecg_h5_close(f);
    struct ecg_keras_info info;
    int rc = ecg_keras_probe(path, &ecg_effnet_keras, &info, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "plain.h5: not a Keras weight file (no 'layer_names'");
}

/* The probe that lets ecgpredict tell weights from a record: true for Keras files of either layout, false for
 * other HDF5 files, other files, directories, FIFOs (never opened: that could block) and missing paths. */
static void the_file_probe_tells_weight_files_from_anything_else(void)
{
    CU_ASSERT_TRUE(ecg_keras_file_probe(ecg_test_fixture("io/keras2_b0.h5")));
    CU_ASSERT_TRUE(ecg_keras_file_probe(ecg_test_fixture("io/keras3_b0_notop.h5")));
    CU_ASSERT_FALSE(ecg_keras_file_probe(ecg_test_fixture("data/cachet_short_small.h5")));
    CU_ASSERT_FALSE(ecg_keras_file_probe(ecg_test_fixture("io/truncated_b0.h5")));
    CU_ASSERT_FALSE(ecg_keras_file_probe(ecg_test_fixture("io/b0_params.txt")));
    CU_ASSERT_FALSE(ecg_keras_file_probe(ecg_test_fixture("io")));
    CU_ASSERT_FALSE(ecg_keras_file_probe(ecg_test_fmt("%s/missing.h5", ecg_test_tmpdir())));
    const char *fifo = ecg_test_fmt("%s/probe.fifo", ecg_test_tmpdir());
    unlink(fifo);
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    CU_ASSERT_FALSE(ecg_keras_file_probe(fifo));
    unlink(fifo);
}

/* Writes the small model with its pattern, then lets `edit` change the file. */
static const char *small_file(const char *name, int poison_param, float poison)
{
    static char path[512];
    struct ecg_params p;
    struct ecg_error err = {0};
    build_small(&p, NULL);
    for (int k = 0; k < p.count; k++)
        for (int64_t i = 0; i < p.items[k].numel; i++)
            ecg_params_value(&p, k)[i] = expected(p.items[k].name, k, i);
    ecg_params_value(&p, poison_param)[3] = poison;
    snprintf(path, sizeof path, "%s/%s", ecg_test_tmpdir(), name);
    ECG_ASSERT(ecg_keras_save(path, &p, NULL, &err) == ECG_OK);
    ecg_params_free(&p);
    return path;
}

static void a_nan_weight_is_refused_and_the_store_stays_untouched(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    const char *path = small_file("nan.h5", 5, NAN);
    build_small(&p, NULL);
    fill(&p, 7.0f);
    int rc = ecg_keras_load(path, &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_VALUE,
                    "nan.h5: layer 'predictions' weight 'kernel': 1 non-finite values (first at flat index 3: nan)");
    for (int i = 0; i < p.count; i++)
        CU_ASSERT_TRUE(all_equal(&p, i, 7.0f));
    path = small_file("inf.h5", 5, -INFINITY);
    rc = ecg_keras_load(path, &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_VALUE, "inf.h5: layer 'predictions' weight 'kernel': 1 non-finite");
    path = small_file("negvar.h5", 4, -0.25f);
    rc = ecg_keras_load(path, &p, &QUIET, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_VALUE,
                    "negvar.h5: layer 'stem_bn' weight 'moving_variance': negative variance -0.25 at index 3");
    for (int i = 0; i < p.count; i++)
        CU_ASSERT_TRUE(all_equal(&p, i, 7.0f));
    ecg_params_free(&p);
}

static void bad_ecgtrain_attributes_are_refused(void)
{
    struct ecg_error err = {0};
    struct ecg_keras_info info;
    const char *path = small_file("badpad.h5", 5, 0.5f);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_EQUAL(ecg_h5_write_attr_string(f, "ecg_padding", "valid", &err), ECG_OK);
    ecg_h5_close(f);
    ECG_CHECK_ERROR(ecg_keras_probe(path, &ecg_effnet_keras, &info, &err), &err, ECG_ERR_FORMAT,
                    "badpad.h5: attribute 'ecg_padding': expected \"same\" or \"symmetric\", found \"valid\"");
    path = small_file("badeps.h5", 5, 0.5f);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_EQUAL(ecg_h5_write_attr_double(f, "ecg_bn_epsilon", -1.0, &err), ECG_OK);
    ecg_h5_close(f);
    ECG_CHECK_ERROR(ecg_keras_probe(path, &ecg_effnet_keras, &info, &err), &err, ECG_ERR_FORMAT,
                    "badeps.h5: attribute 'ecg_bn_epsilon': expected a value in (0, 1), found -1");
    path = small_file("badarch.h5", 5, 0.5f);
    f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_EQUAL(ecg_h5_write_attr_string(f, "ecg_arch", "resnet50", &err), ECG_OK);
    ecg_h5_close(f);
    ECG_CHECK_ERROR(ecg_keras_probe(path, &ecg_effnet_keras, &info, &err), &err, ECG_ERR_FORMAT,
                    "badarch.h5: attribute 'ecg_arch': expected \"b0\" to \"b7\", found \"resnet50\"");
}

static void a_layer_listed_without_its_group_is_reported(void)
{
    struct ecg_error err = {0};
    struct ecg_keras_info info;
    const char *path = small_file("nogroup.h5", 5, 0.5f);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    const char *names[] = {"stem_conv", "stem_bn", "predictions", "ghost"};
    CU_ASSERT_EQUAL(ecg_h5_write_attr_strings(f, "layer_names", names, 4, &err), ECG_OK);
    ecg_h5_close(f);
    ECG_CHECK_ERROR(ecg_keras_probe(path, &ecg_effnet_keras, &info, &err), &err, ECG_ERR_FORMAT,
                    "nogroup.h5: layer_names lists 'ghost' but the file has no group of that name");
}

static void a_listed_weight_without_its_dataset_is_reported(void)
{
    struct ecg_error err = {0};
    struct ecg_keras_info info;
    const char *path = small_file("nodata.h5", 5, 0.5f);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_TRUE(H5Ldelete(f, "stem_bn/stem_bn/beta:0", H5P_DEFAULT) >= 0);
    ecg_h5_close(f);
    ECG_CHECK_ERROR(ecg_keras_probe(path, &ecg_effnet_keras, &info, &err), &err, ECG_ERR_FORMAT,
                    "nodata.h5: layer 'stem_bn' lists weight 'stem_bn/beta:0' but has no such dataset");
}

/* Captures what ecg_warn prints while loading. */
static void warnings_list_unused_weights_and_kept_parameters_once(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build_b0(&p, 5, 3, NULL, 0, NULL);
    char logpath[512];
    snprintf(logpath, sizeof logpath, "%s/warn.log", ecg_test_tmpdir());
    fflush(stderr);
    int saved = dup(2);
    int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    enum ecg_log_level level = ecg_log_get_level();
    ecg_log_set_level(ECG_LOG_INFO);
    struct ecg_keras_load_opts o = {.allow_missing = HEAD, .n_allow_missing = 1};
    int rc = ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &o, NULL, &err);
    struct ecg_params notop;
    build_b0(&notop, 0, 3, NULL, 0, NULL);
    int rc2 = ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &notop, NULL, NULL, &err);
    ecg_params_free(&notop);
    ecg_log_set_level(level);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CU_ASSERT_EQUAL(rc, ECG_OK);
    CU_ASSERT_EQUAL(rc2, ECG_OK);
    char text[4096] = "";
    FILE *f = fopen(logpath, "r");
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "keras2_b0.h5: 2 weights in the file not used by the model: predictions/kernel, predictions/bias"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "2 model parameters not loaded (kept at initialisation): "
                                        "predictions/kernel (file has (1280, 1000), model (1280, 5))"));
    int lines = 0;
    for (char *c = text; *c; c++)
        lines += *c == '\n';
    CU_ASSERT_EQUAL(lines, 2);
    ecg_params_free(&p);
}

/* ---- writer ---- */

static void the_writer_produces_the_keras2_layout_and_reads_back_bit_exactly(void)
{
    struct ecg_params p, q;
    struct ecg_error err = {0};
    build_b0(&p, 1000, 3, NULL, 0, NULL);
    CU_ASSERT_EQUAL_FATAL(ecg_keras_load(ecg_test_fixture("io/keras2_b0.h5"), &p, &QUIET, NULL, &err), ECG_OK);
    ecg_params_value(&p, 3)[1] = -0.0f;
    ecg_params_value(&p, 3)[2] = 1e-38f; /* subnormal-adjacent values survive too */
    struct ecg_keras_info attrs = {.has_bn_eps = true, .bn_eps = 1e-3, .has_padding = true,
                                   .has_arch = true, .has_normalization = true, .norm_channels = 3,
                                   .norm_mean = {0.485f, 0.456f, 0.406f}, .norm_std = {0.229f, 0.224f, 0.225f}};
    snprintf(attrs.padding, sizeof attrs.padding, "same");
    snprintf(attrs.arch, sizeof attrs.arch, "b0");
    char path[512];
    snprintf(path, sizeof path, "%s/out_b0.h5", ecg_test_tmpdir());
    CU_ASSERT_EQUAL_FATAL(ecg_keras_save(path, &p, &attrs, &err), ECG_OK);

    /* Layout, as h5py / Keras see it. */
    hid_t f;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &f, &err), ECG_OK);
    struct ecg_strlist names = {0}, wn = {0};
    CU_ASSERT_EQUAL(ecg_h5_attr_strings(f, "layer_names", &names, &err), ECG_OK);
    CU_ASSERT_EQUAL(names.count, 132);
    CU_ASSERT_STRING_EQUAL(names.items[0], "normalization");
    CU_ASSERT_STRING_EQUAL(names.items[1], "stem_conv");
    CU_ASSERT_STRING_EQUAL(names.items[131], "predictions");
    hid_t g;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_group(f, "stem_bn", &g, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_h5_attr_strings(g, "weight_names", &wn, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(wn.count, 4);
    CU_ASSERT_STRING_EQUAL(wn.items[0], "stem_bn/gamma:0");
    CU_ASSERT_STRING_EQUAL(wn.items[3], "stem_bn/moving_variance:0");
    ecg_h5_close(g);
    CU_ASSERT_TRUE(ecg_h5_has_link(f, "stem_conv/stem_conv/kernel:0"));
    CU_ASSERT_TRUE(ecg_h5_has_link(f, "block2a_dwconv/block2a_dwconv/depthwise_kernel:0"));
    CU_ASSERT_TRUE(ecg_h5_has_link(f, "normalization/normalization/count:0"));
    char s[32];
    CU_ASSERT_EQUAL(ecg_h5_attr_string(f, "keras_version", s, sizeof s, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_h5_attr_string(f, "backend", s, sizeof s, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(s, "tensorflow");
    ecg_strlist_free(&names);
    ecg_strlist_free(&wn);
    ecg_h5_close(f);

    build_b0(&q, 1000, 3, NULL, 0, NULL);
    struct ecg_keras_info info;
    CU_ASSERT_EQUAL_FATAL(ecg_keras_load(path, &q, &QUIET, &info, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(p.values, q.values, (size_t)p.total * sizeof(float)), 0);
    CU_ASSERT_TRUE(info.has_bn_eps && info.bn_eps == 1e-3);
    CU_ASSERT_STRING_EQUAL(info.padding, "same");
    CU_ASSERT_STRING_EQUAL(info.arch, "b0");
    CU_ASSERT_TRUE(info.has_normalization && info.norm_std[2] == 0.225f);
    ecg_params_free(&p);
    ecg_params_free(&q);
}

static void variable_and_fixed_length_string_attributes_both_read(void)
{
    struct ecg_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/strings.h5", ecg_test_tmpdir());
    hid_t f;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_create(path, &f, &err), ECG_OK);
    /* A variable-length scalar and array, as h5py 3 writes Python str/bytes. */
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t sc = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(f, "v1", t, sc, H5P_DEFAULT, H5P_DEFAULT);
    const char *one = "tensorflow";
    H5Awrite(a, t, &one);
    H5Aclose(a);
    hsize_t two = 2;
    hid_t sp = H5Screate_simple(1, &two, NULL);
    a = H5Acreate2(f, "v2", t, sp, H5P_DEFAULT, H5P_DEFAULT);
    const char *both[2] = {"stem_conv/kernel", "stem_conv/bias"};
    H5Awrite(a, t, both);
    H5Aclose(a);
    H5Sclose(sp);
    H5Sclose(sc);
    H5Tclose(t);
    const char *fixed[] = {"a", "longer name"};
    CU_ASSERT_EQUAL(ecg_h5_write_attr_strings(f, "f2", fixed, 2, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_h5_write_attr_double(f, "num", 2.5, &err), ECG_OK);
    ecg_h5_close(f);

    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &f, &err), ECG_OK);
    char s[64];
    CU_ASSERT_EQUAL(ecg_h5_attr_string(f, "v1", s, sizeof s, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(s, "tensorflow");
    struct ecg_strlist l = {0};
    CU_ASSERT_EQUAL(ecg_h5_attr_strings(f, "v2", &l, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_h5_attr_strings(f, "f2", &l, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(l.count, 4);
    CU_ASSERT_STRING_EQUAL(l.items[1], "stem_conv/bias");
    CU_ASSERT_STRING_EQUAL(l.items[2], "a");
    CU_ASSERT_STRING_EQUAL(l.items[3], "longer name");
    ecg_strlist_free(&l);
    ECG_CHECK_ERROR(ecg_h5_attr_strings(f, "num", &l, &err), &err, ECG_ERR_FORMAT,
                    "strings.h5: '/' attribute 'num': expected strings, found float values");
    ECG_CHECK_ERROR(ecg_h5_attr_strings(f, "absent", &l, &err), &err, ECG_ERR_FORMAT,
                    "strings.h5: '/' attribute 'absent': missing");
    ecg_strlist_free(&l);
    ecg_h5_close(f);
}

/* Runs last: every error path above closed what it opened. */
static void no_hdf5_handle_stays_open(void)
{
    ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_ids != 0)
        fprintf(stderr, "\n  %zd HDF5 objects still open\n", open_ids);
    CU_ASSERT_EQUAL(open_ids, 0);
}

static const struct ecg_test keras_tests[] = {
    {"the B0 parameter list has 5,288,548 trainable values", the_b0_parameter_list_has_5288548_trainable_values},
    {"a Keras 2 B0 file loads every parameter by name", a_keras2_b0_file_loads_every_parameter_by_name},
    {"a Keras 3 whole-model notop file loads into a notop model", a_keras3_whole_model_notop_file_loads_into_a_notop_model},
    {"a notop file leaves an allowed head at its initialisation", a_notop_file_leaves_an_allowed_head_at_its_initialisation},
    {"a missing head is an error unless allowed", a_missing_head_is_an_error_unless_allowed},
    {"a head of another class count is a shape error unless allowed", a_head_of_another_class_count_is_a_shape_error_unless_allowed},
    {"skipped parameters are never loaded", skipped_parameters_are_never_loaded},
    {"chunked layer_names and float64 weights load", chunked_layer_names_and_float64_weights_load},
    {"a single-channel stem sums the RGB kernels", a_single_channel_stem_sums_the_rgb_kernels},
    {"without a model only names and exact shapes load", without_a_model_only_names_and_exact_shapes_load},
    {"a four-channel stem repeats the RGB kernels scaled by 3/4", a_four_channel_stem_repeats_the_rgb_kernels_scaled},
    {"a converted torchvision file loads with its attributes and PyTorch's values", a_converted_torchvision_file_loads_with_its_attributes},
    {"probe reports a file's architecture, head and stem without a model", probe_reports_a_file_without_a_model},
    {"the architecture table covers B0 to B7", the_architecture_table_covers_b0_to_b7},
    {"a model parameter missing from the file names its layer", a_model_parameter_missing_from_the_file_names_its_layer},
    {"a missing weight of a present layer is named", a_missing_weight_of_a_present_layer_is_named},
    {"a shape mismatch names the layer and both shapes and loads nothing", a_shape_mismatch_names_the_layer_and_both_shapes_and_loads_nothing},
    {"B1 weights into a B0 model say what they look like", b1_weights_into_a_b0_model_say_what_they_look_like},
    {"a truncated file is one message with its path", a_truncated_file_is_one_message_with_its_path},
    {"a file that is not HDF5 is one message with its path", a_file_that_is_not_hdf5_is_one_message_with_its_path},
    {"a missing file reports the system error", a_missing_file_reports_the_system_error},
    {"an HDF5 file without layer_names is not a Keras file", an_hdf5_file_without_layer_names_is_not_a_keras_file},
    {"the file probe tells weight files from anything else", the_file_probe_tells_weight_files_from_anything_else},
    {"a NaN, infinite or negative-variance weight is refused and the store stays untouched", a_nan_weight_is_refused_and_the_store_stays_untouched},
    {"bad ecgtrain attributes are refused", bad_ecgtrain_attributes_are_refused},
    {"a layer listed without its group is reported", a_layer_listed_without_its_group_is_reported},
    {"a listed weight without its dataset is reported", a_listed_weight_without_its_dataset_is_reported},
    {"warnings list unused weights and kept parameters once", warnings_list_unused_weights_and_kept_parameters_once},
    {"the writer produces the Keras 2 layout and reads back bit-exactly", the_writer_produces_the_keras2_layout_and_reads_back_bit_exactly},
    {"variable- and fixed-length string attributes both read", variable_and_fixed_length_string_attributes_both_read},
    {"no HDF5 handle stays open", no_hdf5_handle_stays_open},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    ecg_h5_init();
    const struct ecg_suite suites[] = {{"keras_h5", keras_tests}, {NULL, NULL}};
    return ecg_test_main(argc, argv, suites);
}
