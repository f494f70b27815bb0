/* Tests of data/window's whole-record evaluation (eval.hop_seconds) and tile padding (data.pad). */
#include <stdlib.h>
#include <string.h>

#include "data/window.h"
#include "tests/test_util.h"

static void a_hop_tiles_the_whole_record_from_start_to_end(void)
{
    struct ecg_window_opts o;
    ecg_window_opts_default(&o);
    o.length_s = 30.0;
    o.eval_hop_s = 30.0;
    /* 61 s at 300 Hz with 30 s windows: three windows, the last ending at the record's end. */
    CU_ASSERT_EQUAL(ecg_window_count(&o, 18300, 300.0, false), 3);
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 18300, 300.0, 0), 0);
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 18300, 300.0, 1), 4650);
    CU_ASSERT_EQUAL(ecg_window_eval_start(&o, 18300, 300.0, 2), 9300);
    /* Exactly one window long, and shorter: one window. */
    CU_ASSERT_EQUAL(ecg_window_count(&o, 9000, 300.0, false), 1);
    CU_ASSERT_EQUAL(ecg_window_count(&o, 2700, 300.0, false), 1);
    /* eval.windows does not matter with a hop; training still takes one crop. */
    o.eval_windows = 7;
    CU_ASSERT_EQUAL(ecg_window_count(&o, 18300, 300.0, false), 3);
    CU_ASSERT_EQUAL(ecg_window_count(&o, 18300, 300.0, true), 1);
    o.eval_hop_s = 5.0;
    CU_ASSERT_EQUAL(ecg_window_count(&o, 18300, 300.0, false), 1 + (9300 + 1499) / 1500);
}

static void with_a_hop_no_longer_than_the_window_every_sample_is_seen(void)
{
    struct ecg_window_opts o;
    ecg_window_opts_default(&o);
    o.length_s = 1.0;
    const double fs = 100.0;
    for (int64_t n = 100; n <= 700; n += 37) {
        for (double hop = 0.25; hop <= 1.0; hop += 0.25) {
            o.eval_hop_s = hop;
            int64_t count = ecg_window_count(&o, n, fs, false);
            char *seen = calloc((size_t)n, 1);
            int64_t prev = -1000;
            for (int64_t k = 0; k < count; k++) {
                int64_t s = ecg_window_eval_start(&o, n, fs, k);
                CU_ASSERT_TRUE(s >= 0 && s + 100 <= n);
                CU_ASSERT_TRUE(k == 0 || s - prev <= (int64_t)(hop * fs + 0.5));
                prev = s;
                memset(seen + s, 1, 100);
            }
            CU_ASSERT_PTR_NULL(memchr(seen, 0, (size_t)n));
            free(seen);
        }
    }
}

static void a_tiny_hop_is_capped_at_the_most_windows_a_record_gives(void)
{
    struct ecg_window_opts o;
    ecg_window_opts_default(&o);
    o.length_s = 1.0;
    o.eval_hop_s = 0.01; /* one sample at 100 Hz */
    CU_ASSERT_EQUAL(ecg_window_count(&o, 150, 100.0, false), 51);
    CU_ASSERT_EQUAL(ecg_window_count(&o, 100000, 100.0, false), ECG_WINDOW_MAX_EVAL);
}

static void tile_padding_repeats_a_short_record(void)
{
    struct ecg_window_opts o;
    ecg_window_opts_default(&o);
    o.length_s = 1.0; /* 10 samples at 10 Hz */
    o.pad = ECG_PAD_TILE;
    float x[4] = {1, 2, 3, 4}, out[10];
    int64_t s = ecg_window_eval_start(&o, 4, 10.0, 0);
    CU_ASSERT_EQUAL(s, -3);
    ecg_window_extract(&o, x, 4, s, 10, out);
    const float want[10] = {2, 3, 4, 1, 2, 3, 4, 1, 2, 3};
    CU_ASSERT_EQUAL(memcmp(out, want, sizeof want), 0);
    CU_ASSERT_STRING_EQUAL(ecg_pad_mode_name(ECG_PAD_TILE), "tile");
    CU_ASSERT_STRING_EQUAL(ecg_pad_mode_names[ECG_PAD_REFLECT], "reflect");
}

static void a_bad_hop_fails_with_a_message(void)
{
    struct ecg_window_opts o;
    struct ecg_error err = {0};
    ecg_window_opts_default(&o);
    o.eval_hop_s = -1;
    ECG_CHECK_ERROR(ecg_window_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE,
                    "eval.hop_seconds: expected 0 or a hop of at least one sample at 300 Hz, found -1 s");
    o.eval_hop_s = 0.001;
    ECG_CHECK_ERROR(ecg_window_opts_check(&o, 300.0, &err), &err, ECG_ERR_RANGE, "found 0.001 s");
    o.eval_hop_s = 0.5;
    CU_ASSERT_EQUAL(ecg_window_opts_check(&o, 300.0, &err), ECG_OK);
}

static const struct ecg_test window_tests[] = {
    {"a hop tiles the whole record from start to end", a_hop_tiles_the_whole_record_from_start_to_end},
    {"with a hop no longer than the window every sample is seen",
     with_a_hop_no_longer_than_the_window_every_sample_is_seen},
    {"a tiny hop is capped at the most windows a record gives", a_tiny_hop_is_capped_at_the_most_windows_a_record_gives},
    {"tile padding repeats a short record", tile_padding_repeats_a_short_record},
    {"a bad hop fails with a message", a_bad_hop_fails_with_a_message},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"whole-record windows", window_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
