/* Numerical faults: a NaN or infinity stops training at its step with the layer named, and never reaches a
 * checkpoint. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/finite.h"
#include "core/rng.h"
#include "io/checkpoint.h"
#include "io/h5util.h"
#include "layers/effnet.h"
#include "tests/test_util.h"
#include "train/config.h"
#include "train/train.h"

static const char *source(const char *relative)
{
    const char *root = getenv("ECG_SOURCE_ROOT");
    return ecg_test_fmt("%s/%s", root ? root : ".", relative);
}

/* ---- the forward pass: where the first non-finite value is ---------------------------------- */

enum { BATCH = 2, SIDE = 32, CLASSES = 4 };

/* B0 for 2 images of 32 x 32, initialised, with a batch of smooth images. */
static void small_model(struct ecg_effnet *m, float *x)
{
    struct ecg_effnet_options o;
    ecg_effnet_options_default(&o, 0);
    o.in_channels = 1;
    o.num_classes = CLASSES;
    o.dropout = 0;
    o.drop_connect = 0;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_effnet_init(m, &o, BATCH, SIDE, SIDE, &err), ECG_OK);
    ecg_effnet_init_weights(m, 3);
    for (int i = 0; i < BATCH * SIDE * SIDE; i++)
        x[i] = (float)sin(0.01 * i);
}

static double forward_loss(struct ecg_effnet *m, const float *x)
{
    const int32_t labels[BATCH] = {0, 3};
    ecg_effnet_forward(m, x, BATCH, true, NULL);
    return ecg_effnet_loss(m, labels, NULL, 0);
}

static void a_finite_forward_pass_has_no_non_finite_site(void)
{
    struct ecg_effnet m;
    static float x[BATCH * SIDE * SIDE];
    small_model(&m, x);
    CU_ASSERT_TRUE(isfinite(forward_loss(&m, x)));
    struct ecg_nonfinite_site site;
    CU_ASSERT_FALSE(ecg_net_find_nonfinite(&m.net, x, &site));
    ecg_effnet_free(&m);
}

/* Sets element `at` of parameter `param` to v; the forward pass must say `layer` and that parameter. */
static void poisoned_weight_is_found_in(const char *param, int64_t at, float v, const char *layer)
{
    struct ecg_effnet m;
    static float x[BATCH * SIDE * SIDE];
    small_model(&m, x);
    int k = ecg_params_find(m.params, param);
    CU_ASSERT_FATAL(k >= 0);
    ecg_params_value(m.params, k)[at] = v;
    CU_ASSERT_FALSE(isfinite(forward_loss(&m, x)));
    struct ecg_nonfinite_site site;
    CU_ASSERT_TRUE_FATAL(ecg_net_find_nonfinite(&m.net, x, &site));
    CU_ASSERT_FALSE(site.input);
    CU_ASSERT_STRING_EQUAL(site.layer, layer);
    CU_ASSERT_EQUAL(site.param, k);
    ecg_effnet_free(&m);
}

static void a_poisoned_weight_is_found_in_the_layer_inside_its_block_that_holds_it(void)
{
    poisoned_weight_is_found_in("block3a_dwconv/depthwise_kernel", 5, INFINITY, "block3a_dwconv");
}

static void a_nan_in_a_top_level_layer_is_found_there(void)
{
    poisoned_weight_is_found_in("predictions/bias", 1, NAN, "predictions");
}

static void a_nan_in_the_input_is_found_in_the_input(void)
{
    struct ecg_effnet m;
    static float x[BATCH * SIDE * SIDE];
    small_model(&m, x);
    x[SIDE * SIDE + 7] = NAN; /* the second image */
    CU_ASSERT_FALSE(isfinite(forward_loss(&m, x)));
    struct ecg_nonfinite_site site;
    CU_ASSERT_TRUE_FATAL(ecg_net_find_nonfinite(&m.net, x, &site));
    CU_ASSERT_TRUE(site.input);
    ecg_effnet_free(&m);
}

/* ---- checkpoints refuse non-finite values --------------------------------------------------------- */

static void two_param_store(struct ecg_params *p)
{
    struct ecg_error err = {0};
    memset(p, 0, sizeof *p);
    int64_t s3[1] = {3}, s2[1] = {2};
    ECG_ASSERT(ecg_params_add(p, "stem_conv/kernel", 1, s3, ECG_PARAM_INIT(ECG_INIT_ZEROS), NULL, &err) == 0);
    ECG_ASSERT(ecg_params_add(p, "stem_bn/moving_variance", 1, s2,
                              ECG_PARAM_BUFFER | ECG_PARAM_INIT(ECG_INIT_ONES), NULL, &err) == 0);
    ECG_ASSERT(ecg_params_bind(p, &err) == 0);
    for (int i = 0; i < 3; i++)
        ecg_params_value(p, 0)[i] = 0.5f * (float)i;
    for (int i = 0; i < 2; i++)
        ecg_params_value(p, 1)[i] = 1.0f;
}

static void a_checkpoint_with_a_non_finite_value_is_refused_and_the_file_on_disk_kept(void)
{
    struct ecg_params p, back;
    two_param_store(&p);
    two_param_store(&back);
    float moments[64] = {0};
    ECG_ASSERT(p.total <= 64);
    struct ecg_ckpt_blob blob = {.name = "optim/exp_avg", .data = moments, .count = p.total};
    struct ecg_checkpoint ck = {.epoch = 1, .step = 4, .blobs = &blob, .n_blobs = 1};
    const char *path = ecg_test_fmt("%s/refused.h5", ecg_test_tmpdir());
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_save(path, &p, NULL, &ck, &err), ECG_OK);

    /* A running statistic (a buffer) gone infinite, then an optimizer moment gone NaN. */
    ecg_params_value(&p, 1)[1] = INFINITY;
    ck.epoch = 2;
    ECG_CHECK_ERROR(ecg_checkpoint_save(path, &p, NULL, &ck, &err), &err, ECG_ERR_VALUE,
                    ecg_test_fmt("%s: refusing to write a checkpoint with non-finite values (the file on disk is "
                                 "left as it was): parameter 'stem_bn/moving_variance' element 1 is +inf", path));
    ecg_params_value(&p, 1)[1] = 1.0f;
    moments[p.items[0].offset + 2] = NAN;
    ECG_CHECK_ERROR(ecg_checkpoint_save(path, &p, NULL, &ck, &err), &err, ECG_ERR_VALUE,
                    "'optim/exp_avg' element 2 (parameter 'stem_conv/kernel') is NaN");

    /* The file is the first save's. */
    float loaded[64];
    struct ecg_ckpt_blob in_blob = {.name = "optim/exp_avg", .data = loaded, .count = p.total};
    struct ecg_checkpoint in = {.blobs = &in_blob, .n_blobs = 1};
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_load(path, &back, &in, NULL, NULL, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL(in.epoch, 1);
    CU_ASSERT_EQUAL(ecg_params_value(&back, 1)[1], 1.0f);
    CU_ASSERT_TRUE(ecg_floats_finite(loaded, p.total));
    ecg_params_free(&p);
    ecg_params_free(&back);
}

/* ---- training runs -------------------------------------------------------------------------------- */

/* ecgtrain on the bundled sample: a handful of records per class, 32 x 32 images, SGD. */
static int ecgtrain(const char *dir, const char *extra, char *out, size_t cap)
{
    const char *args = ecg_test_fmt(
        "'%s' run.dir='%s' run.seed=5 run.threads=2 run.log_level=warn data.path='%s' "
        "data.spectrogram.height=32 data.spectrogram.width=32 train.max_per_class=8 optim.name=sgd "
        "optim.momentum=0.9 %s",
        source("configs/tiny.yaml"), dir, source("data/sample/cachet_sample.h5"), extra);
    return ecg_test_run("ECGTRAIN", NULL, args, out, cap);
}

/* Every weight, running statistic and optimizer state of checkpoint `path` is finite; returns its epoch. */
static int64_t check_checkpoint_finite(const char *path)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_config_from_checkpoint(path, 0, NULL, &c, &err), ECG_OK);
    struct ecg_effnet m;
    int rc = ecg_model_build(&c, 1, true, &m, NULL, &err); /* the weight loader refuses non-finite values */
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_TRUE(ecg_floats_finite(m.params->values, m.params->total));
    ecg_effnet_free(&m);
    ecg_config_free(&c);

    hid_t file, g;
    int64_t epoch = -1;
    struct ecg_strlist names = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &file, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_group(file, "ecg_checkpoint/blobs", &g, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_h5_attr_strings(g, "blob_names", &names, &err), ECG_OK);
    CU_ASSERT_TRUE(names.count >= 1); /* the momentum and the optimizer's step counts */
    for (int i = 0; i < names.count; i++) {
        int nd;
        int64_t shape[ECG_H5_MAX_DIMS];
        CU_ASSERT_EQUAL_FATAL(ecg_h5_dataset_shape(g, names.items[i], &nd, shape, NULL, &err), ECG_OK);
        float *v = malloc((size_t)shape[0] * sizeof *v);
        CU_ASSERT_EQUAL(ecg_h5_read_floats(g, names.items[i], v, shape[0], &err), ECG_OK);
        if (!ecg_floats_finite(v, shape[0]))
            fprintf(stderr, "\n  %s: '%s' holds non-finite values\n", path, names.items[i]);
        CU_ASSERT_TRUE(ecg_floats_finite(v, shape[0]));
        free(v);
    }
    ecg_strlist_free(&names);
    ecg_h5_close(g);
    CU_ASSERT_EQUAL(ecg_h5_open_group(file, "ecg_checkpoint", &g, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_h5_attr_int64(g, "epoch", &epoch, &err), ECG_OK);
    ecg_h5_close(g);
    ecg_h5_close(file);
    return epoch;
}

/* An epoch at a sane learning rate, then the run resumed at optim.lr=10 until its loss is NaN. */
static void a_nan_loss_stops_the_run_at_its_step_naming_the_layer_and_the_last_checkpoint_stays_finite(void)
{
    const char *dir = ecg_test_fmt("%s/diverge", ecg_test_tmpdir());
    static char out[65536];
    int st = ecgtrain(dir, "train.epochs=1", out, sizeof out);
    if (st)
        fprintf(stderr, "\n%s\n", out);
    CU_ASSERT_EQUAL_FATAL(st, 0);
    st = ecgtrain(dir, ecg_test_fmt("train.epochs=8 optim.lr=10 run.resume='%s/last.h5'", dir), out, sizeof out);
    CU_ASSERT_EQUAL(st, 1); /* docs/training.md: a non-finite value ends the run with exit status 1 */
    long long epoch = 0, batch = 0, step = 0;
    char layer[128] = "";
    const char *msg = strstr(out, "ecgtrain: epoch ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    int got = sscanf(msg, "ecgtrain: epoch %lld batch %lld (step %lld): the loss is NaN: the first non-finite value "
                          "of the forward pass is in the output of layer '%127[^']'", &epoch, &batch, &step, layer);
    if (got != 4)
        fprintf(stderr, "\n  unexpected message: %s\n", msg);
    CU_ASSERT_EQUAL_FATAL(got, 4);
    CU_ASSERT_TRUE(epoch >= 2 && batch >= 1 && step > batch);
    CU_ASSERT_TRUE(strncmp(layer, "block", 5) == 0 || strncmp(layer, "stem", 4) == 0 ||
                   strncmp(layer, "top", 3) == 0 || strcmp(layer, "predictions") == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "; lower optim.lr"));
    /* last.h5 is the checkpoint of the epoch before, with nothing non-finite in it. */
    CU_ASSERT_EQUAL(check_checkpoint_finite(ecg_test_fmt("%s/last.h5", dir)), epoch - 1);
    check_checkpoint_finite(ecg_test_fmt("%s/best.h5", dir));
}

/* AdamW's squared-gradient average overflows before any weight does: stopped at the step, before a checkpoint. */
static void an_optimizer_state_gone_infinite_stops_the_run_after_that_step(void)
{
    const char *dir = ecg_test_fmt("%s/adamw", ecg_test_tmpdir());
    static char out[65536];
    int st = ecgtrain(dir, "train.epochs=2 optim.name=adamw optim.lr=10", out, sizeof out);
    CU_ASSERT_EQUAL(st, 1);
    long long epoch = 0, batch = 0, step = 0;
    const char *msg = strstr(out, "ecgtrain: epoch ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
    CU_ASSERT_EQUAL(sscanf(msg, "ecgtrain: epoch %lld batch %lld (step %lld): after the optimizer step, ", &epoch,
                           &batch, &step), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "after the optimizer step, 'optim/exp_avg_sq' element "));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, " is +inf; lower optim.lr"));
    if (epoch == 1) /* stopped before the first checkpoint: none was written */
        CU_ASSERT_NOT_EQUAL(access(ecg_test_fmt("%s/last.h5", dir), F_OK), 0);
}

static const struct ecg_test forward_tests[] = {
    {"a finite forward pass has no non-finite site", a_finite_forward_pass_has_no_non_finite_site},
    {"a poisoned weight is found in the layer inside its block that holds it",
     a_poisoned_weight_is_found_in_the_layer_inside_its_block_that_holds_it},
    {"a NaN in a top-level layer is found there", a_nan_in_a_top_level_layer_is_found_there},
    {"a NaN in the input is found in the input", a_nan_in_the_input_is_found_in_the_input},
    {NULL, NULL},
};
static const struct ecg_test checkpoint_tests[] = {
    {"a checkpoint with a non-finite value is refused and the file on disk kept",
     a_checkpoint_with_a_non_finite_value_is_refused_and_the_file_on_disk_kept},
    {NULL, NULL},
};
static const struct ecg_test run_tests[] = {
    {"a NaN loss stops the run at its step naming the layer, and the last checkpoint stays finite",
     a_nan_loss_stops_the_run_at_its_step_naming_the_layer_and_the_last_checkpoint_stays_finite},
    {"an optimizer state gone infinite stops the run after that step",
     an_optimizer_state_gone_infinite_stops_the_run_after_that_step},
    {NULL, NULL},
};

static const struct ecg_suite suites[] = {
    {"non-finite forward passes", forward_tests},
    {"non-finite checkpoints", checkpoint_tests},
    {"non-finite training runs", run_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
