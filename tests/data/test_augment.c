/* Tests of data/window (crops, evaluation windows, padding) and data/augment (statistics, determinism). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/augment.h"
#include "data/window.h"
#include "tests/test_util.h"

static void evaluation_windows_are_evenly_spaced(void)
{
    struct ecg_window_opts o;
    ecg_window_opts_default(&o);
    CU_ASSERT_EQUAL(ecg_window_samples(&o, 300.0), 3000);
    CU_ASSERT_EQUAL(ecg_window_count(&o, 9000, 300.0, false), 3);
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 9000, 300.0, 0), 0);
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 9000, 300.0, 1), 3000);
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 9000, 300.0, 2), 6000);
    CU_ASSERT_EQUAL(ecg_window_count(&o, 9000, 300.0, true), 1);
    /* Exactly one window long: one window, not three copies. */
    CU_ASSERT_EQUAL(ecg_window_count(&o, 3000, 300.0, false), 1);
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 3000, 300.0, 0), 0);
    CU_ASSERT_EQUAL(ecg_window_count(&o, 3001, 300.0, false), 2);
    o.eval_windows = 1;
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 9001, 300.0, 0), 3000); /* centred */
    o.eval_windows = 4;
    CU_ASSERT_EQUAL(ecg_window_count(&o, 10242, 1024.0, false), 3); /* only 3 distinct starts */
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 10243, 1024.0, 3), 3);
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 40960, 1024.0, 3), 30720);
}

static void training_crops_are_uniform_and_seeded_per_stream(void)
{
    struct ecg_window_opts o;
    ecg_window_opts_default(&o);
    o.length_s = 1.0;
    const int64_t n = 110, L = 100; /* 11 possible starts at 100 Hz */
    int64_t hist[11] = {0};
    struct ecg_rng root = ecg_rng_init(9, 0);
    for (int i = 0; i < 11000; i++) {
        struct ecg_rng r = ecg_rng_stream(&root, (uint64_t)i);
        int64_t s = ecg_window_train_start(&o, n, 100.0, &r);
        CU_ASSERT_TRUE_FATAL(s >= 0 && s <= n - L);
        hist[s]++;
        struct ecg_rng again = ecg_rng_stream(&root, (uint64_t)i);
        CU_ASSERT_EQUAL(ecg_window_train_start(&o, n, 100.0, &again), s);
    }
    for (int k = 0; k < 11; k++)
        CU_ASSERT_TRUE(hist[k] > 850 && hist[k] < 1150);
}

static void short_records_are_centred_and_padded_or_skipped(void)
{
    struct ecg_window_opts o;
    ecg_window_opts_default(&o);
    o.length_s = 1.0; /* 10 samples at 10 Hz */
    float x[4] = {1, 2, 3, 4}, out[10];
    CU_ASSERT_EQUAL(ecg_window_count(&o, 4, 10.0, false), 1);
    CU_ASSERT_EQUAL(ecg_window_count(&o, 4, 10.0, true), 1);
    int64_t s = ecg_window_eval_start(&o, 4, 10.0, 0);
    CU_ASSERT_EQUAL(s, -3);
    struct ecg_rng r = ecg_rng_init(1, 1);
    CU_ASSERT_EQUAL(ecg_window_train_start(&o, 4, 10.0, &r), -3);
    ecg_window_extract(&o, x, 4, s, 10, out);
    float zero[10] = {0, 0, 0, 1, 2, 3, 4, 0, 0, 0};
    ECG_CHECK_CLOSE("zero pad", out, zero, 10, 0, 0);
    /* numpy.pad([1,2,3,4], (3,3), 'reflect') = [4,3,2,1,2,3,4,3,2,1] */
    o.pad = ECG_PAD_REFLECT;
    ecg_window_extract(&o, x, 4, s, 10, out);
    float refl[10] = {4, 3, 2, 1, 2, 3, 4, 3, 2, 1};
    ECG_CHECK_CLOSE("reflect pad", out, refl, 10, 0, 0);
    /* Far beyond one reflection: numpy.pad([1,2,3,4], (10,0), "reflect")[:4] = [3,4,3,2]. */
    ecg_window_extract(&o, x, 4, -10, 4, out);
    float far[4] = {3, 4, 3, 2};
    ECG_CHECK_CLOSE("repeated reflection", out, far, 4, 0, 0);
    float one = 5.0f;
    ecg_window_extract(&o, &one, 1, -2, 4, out);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(out[i], 5.0f);
    o.short_policy = ECG_SHORT_SKIP;
    CU_ASSERT_EQUAL(ecg_window_count(&o, 4, 10.0, false), 0);
    CU_ASSERT_EQUAL(ecg_window_count(&o, 4, 10.0, true), 0);
}

static void bad_window_options_fail_with_messages(void)
{
    struct ecg_window_opts o;
    struct ecg_error err = {0};
    ecg_window_opts_default(&o);
    o.length_s = 0;
    ECG_CHECK_ERROR(ecg_window_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE, "data.window_seconds");
    ecg_window_opts_default(&o);
    o.eval_windows = 0;
    ECG_CHECK_ERROR(ecg_window_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE,
                    "eval.windows: expected 1..1000, found 0");
    ecg_window_opts_default(&o);
    CU_ASSERT_EQUAL(ecg_window_opts_check(&o, 300.0, &err), ECG_OK);
}

/* A deterministic test signal: a 1 Hz sine of amplitude 1 mV at 100 Hz. */
static void sine(float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)sin(6.283185307179586 * (double)i / 100.0);
}

static void augmentation_with_all_probabilities_zero_changes_nothing(void)
{
    struct ecg_aug_opts o;
    ecg_aug_opts_default(&o);
    float x[500], y[500], img[8 * 6 * 3], img0[8 * 6 * 3];
    sine(x, 500);
    memcpy(y, x, sizeof x);
    for (int i = 0; i < 8 * 6 * 3; i++)
        img[i] = img0[i] = (float)i;
    struct ecg_rng r = ecg_rng_init(3, 4);
    ecg_aug_signal(&o, &r, y, 500, 100.0);
    ecg_aug_image(&o, &r, img, 8, 6, 3);
    CU_ASSERT_EQUAL(memcmp(x, y, sizeof x), 0);
    CU_ASSERT_EQUAL(memcmp(img, img0, sizeof img), 0);
}

static void augmentation_is_a_function_of_the_sample_stream(void)
{
    struct ecg_aug_opts o;
    ecg_aug_opts_default(&o);
    o.shift_prob = o.scale_prob = o.wander_prob = o.noise_prob = o.flip_prob = 0.5;
    struct ecg_rng root = ecg_rng_init(11, 0);
    float a[400], b[400], c[400];
    int differ = 0;
    for (int s = 0; s < 20; s++) {
        struct ecg_rng r = ecg_rng_stream(&root, (uint64_t)s), r2 = ecg_rng_stream(&root, (uint64_t)s + 100);
        sine(a, 400);
        sine(b, 400);
        sine(c, 400);
        ecg_aug_signal(&o, &r, a, 400, 100.0);
        ecg_aug_signal(&o, &r, b, 400, 100.0); /* the stream is read-only: same result */
        ecg_aug_signal(&o, &r2, c, 400, 100.0);
        CU_ASSERT_EQUAL(memcmp(a, b, sizeof a), 0);
        differ += memcmp(a, c, sizeof a) != 0;
    }
    CU_ASSERT_TRUE(differ >= 18);
}

static void enabling_one_augmentation_leaves_the_others_draws_unchanged(void)
{
    struct ecg_aug_opts o;
    ecg_aug_opts_default(&o);
    o.noise_prob = 1.0;
    o.noise_std = 0.05;
    struct ecg_rng r = ecg_rng_init(5, 5);
    float a[300], b[300];
    sine(a, 300);
    sine(b, 300);
    ecg_aug_signal(&o, &r, a, 300, 100.0);
    o.flip_prob = 1.0;
    ecg_aug_signal(&o, &r, b, 300, 100.0);
    for (int i = 0; i < 300; i++)
        b[i] = -b[i];
    ECG_CHECK_CLOSE("noise then flip", b, a, 300, 0, 0);
}

static void probabilities_and_amounts_have_the_right_statistics(void)
{
    struct ecg_aug_opts o;
    ecg_aug_opts_default(&o);
    o.scale_prob = 0.3;
    o.scale_amount = 0.5; /* factors in [0.5, 1.5] */
    struct ecg_rng root = ecg_rng_init(21, 0);
    const int trials = 4000;
    int applied = 0;
    double fsum = 0;
    for (int s = 0; s < trials; s++) {
        struct ecg_rng r = ecg_rng_stream(&root, (uint64_t)s);
        float x[4] = {1, 1, 1, 1};
        ecg_aug_signal(&o, &r, x, 4, 100.0);
        CU_ASSERT_TRUE(x[0] >= 0.5f && x[0] <= 1.5f);
        if (x[0] != 1.0f) {
            applied++;
            fsum += x[0];
        }
    }
    CU_ASSERT_DOUBLE_EQUAL(applied / (double)trials, 0.3, 0.03);
    CU_ASSERT_DOUBLE_EQUAL(fsum / applied, 1.0, 0.03);

    /* Gaussian noise relative to the window's std: 0.5 x 0.7071 on a unit sine, mean zero. */
    ecg_aug_opts_default(&o);
    o.noise_prob = 1;
    o.noise_std = 0.5;
    enum { N = 20000 };
    float *x = malloc(N * sizeof *x), *clean = malloc(N * sizeof *clean);
    struct ecg_rng r = ecg_rng_stream(&root, 99999);
    sine(x, N);
    sine(clean, N);
    ecg_aug_signal(&o, &r, x, N, 100.0);
    double m = 0, v = 0;
    for (int i = 0; i < N; i++)
        m += x[i] - clean[i];
    m /= N;
    for (int i = 0; i < N; i++)
        v += (x[i] - clean[i]) * (x[i] - clean[i]);
    CU_ASSERT_DOUBLE_EQUAL(m, 0.0, 0.01);
    CU_ASSERT_DOUBLE_EQUAL(sqrt(v / N), 0.3536, 0.008);

    /* An amount of zero adds no noise whatever the probability. */
    o.noise_std = 0;
    sine(x, N);
    ecg_aug_signal(&o, &r, x, N, 100.0);
    CU_ASSERT_EQUAL(memcmp(x, clean, N * sizeof *x), 0);

    /* Baseline wander stays within its amplitude (relative to the window's std) and frequency band. */
    ecg_aug_opts_default(&o);
    o.wander_prob = 1;
    o.wander_amount = 0.1; /* relative to a unit sine: at most 0.0707 mV */
    sine(x, N);
    ecg_aug_signal(&o, &r, x, N, 100.0);
    double peak = 0;
    int crossings = 0;
    for (int i = 0; i < N; i++) {
        double d = x[i] - clean[i];
        peak = fabs(d) > peak ? fabs(d) : peak;
        crossings += i > 0 && (x[i - 1] - clean[i - 1] < 0) != (d < 0);
    }
    CU_ASSERT_TRUE(peak <= 0.0708 && peak > 0);
    /* 200 s at 0.05..0.5 Hz: 20..200 crossings. */
    CU_ASSERT_TRUE(crossings >= 19 && crossings <= 201);

    /* A shift is a rotation: same values, rolled by at most shift_seconds. */
    ecg_aug_opts_default(&o);
    o.shift_prob = 1;
    o.shift_seconds = 0.5;
    float y[200], ref[200];
    for (int i = 0; i < 200; i++)
        y[i] = ref[i] = (float)i;
    ecg_aug_signal(&o, &r, y, 200, 100.0);
    int64_t k = ((int64_t)y[0] + 200) % 200; /* y[i] = ref[i - shift] */
    int64_t shift = (200 - k) % 200;
    CU_ASSERT_TRUE(shift <= 50 || shift >= 150);
    for (int i = 0; i < 200; i++)
        CU_ASSERT_EQUAL(y[i], ref[(i - shift + 200) % 200]);
    free(x);
    free(clean);
}

static void masks_cover_whole_rows_or_columns_with_the_mean(void)
{
    struct ecg_aug_opts o;
    ecg_aug_opts_default(&o);
    o.time_mask_prob = 1;
    o.time_mask_count = 1;
    o.time_mask_max = 0.25;
    enum { H = 10, W = 40, C = 3 };
    float img[H * W * C];
    struct ecg_rng root = ecg_rng_init(2, 2);
    int masked_any = 0;
    for (int s = 0; s < 50; s++) {
        for (int i = 0; i < H * W * C; i++)
            img[i] = (float)(i % 7) + 1.0f; /* mean 3.995: no pixel equals it */
        double sum = 0;
        for (int i = 0; i < H * W * C; i++)
            sum += img[i];
        float mean = (float)(sum / (H * W * C));
        struct ecg_rng r = ecg_rng_stream(&root, (uint64_t)s);
        ecg_aug_image(&o, &r, img, H, W, C);
        int cols = 0;
        for (int x = 0; x < W; x++) {
            int all = 1;
            for (int y = 0; y < H; y++)
                for (int c = 0; c < C; c++)
                    all &= img[(y * W + x) * C + c] == mean;
            cols += all;
        }
        CU_ASSERT_TRUE(cols <= 10);
        masked_any += cols > 0;
    }
    CU_ASSERT_TRUE(masked_any > 40);

    ecg_aug_opts_default(&o);
    o.freq_mask_prob = 1;
    o.freq_mask_count = 1;
    o.freq_mask_max = 1.0;
    for (int i = 0; i < H * W * C; i++)
        img[i] = (float)(i / (W * C)); /* row index: row means differ */
    struct ecg_rng r = ecg_rng_stream(&root, 777);
    ecg_aug_image(&o, &r, img, H, W, C);
    int rows = 0;
    for (int y = 0; y < H; y++) {
        int all = 1;
        for (int i = 0; i < W * C; i++)
            all &= img[y * W * C + i] == 4.5f;
        rows += all;
    }
    /* Mean 4.5 is no row's own value, so masked rows are exactly the all-4.5 rows; a mask is contiguous. */
    int first = -1, last = -1;
    for (int y = 0; y < H; y++) {
        int all = 1;
        for (int i = 0; i < W * C; i++)
            all &= img[y * W * C + i] == 4.5f;
        if (all) {
            if (first < 0)
                first = y;
            last = y;
        }
    }
    CU_ASSERT_TRUE(rows == 0 || last - first + 1 == rows);
}

static void bad_augmentation_options_fail_with_messages(void)
{
    struct ecg_aug_opts o;
    struct ecg_error err = {0};
    ecg_aug_opts_default(&o);
    CU_ASSERT_EQUAL(ecg_aug_opts_check(&o, &err), ECG_OK);
    o.flip_prob = 1.5;
    ECG_CHECK_ERROR(ecg_aug_opts_check(&o, &err), &err, ECG_ERR_RANGE,
                    "data.augment.flip_prob: expected a probability in [0, 1], found 1.5");
    ecg_aug_opts_default(&o);
    o.scale_amount = 1;
    ECG_CHECK_ERROR(ecg_aug_opts_check(&o, &err), &err, ECG_ERR_RANGE,
                    "data.augment.scale_amount: expected a value in [0, 1), found 1");
    ecg_aug_opts_default(&o);
    o.time_mask_max = 2;
    ECG_CHECK_ERROR(ecg_aug_opts_check(&o, &err), &err, ECG_ERR_RANGE,
                    "data.augment.time_mask_max: expected a value in [0, 1], found 2");
    ecg_aug_opts_default(&o);
    o.noise_std = -1;
    ECG_CHECK_ERROR(ecg_aug_opts_check(&o, &err), &err, ECG_ERR_RANGE, "data.augment.noise_std");
    ecg_aug_opts_default(&o);
    o.wander_fmin = 1;
    o.wander_fmax = 0.5;
    ECG_CHECK_ERROR(ecg_aug_opts_check(&o, &err), &err, ECG_ERR_RANGE, "augment wander band");
}

static const struct ecg_test window_tests[] = {
    {"evaluation windows are evenly spaced", evaluation_windows_are_evenly_spaced},
    {"training crops are uniform and seeded per stream", training_crops_are_uniform_and_seeded_per_stream},
    {"short records are centred and padded or skipped", short_records_are_centred_and_padded_or_skipped},
    {"bad window options fail with messages", bad_window_options_fail_with_messages},
    {NULL, NULL},
};
static const struct ecg_test augment_tests[] = {
    {"augmentation with all probabilities zero changes nothing", augmentation_with_all_probabilities_zero_changes_nothing},
    {"augmentation is a function of the sample stream", augmentation_is_a_function_of_the_sample_stream},
    {"enabling one augmentation leaves the others' draws unchanged", enabling_one_augmentation_leaves_the_others_draws_unchanged},
    {"probabilities and amounts have the right statistics", probabilities_and_amounts_have_the_right_statistics},
    {"masks cover whole rows or columns with the mean", masks_cover_whole_rows_or_columns_with_the_mean},
    {"bad augmentation options fail with messages", bad_augmentation_options_fail_with_messages},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"window", window_tests},
    {"augment", augment_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
