/* Tests of the RR-interval features of heartbeats (data/rr) and of the beats the WFDB reader cuts with them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/readers.h"
#include "data/rr.h"
#include "tests/data/beat_fixture.h"
#include "tests/test_util.h"

#define NEAR(a, b) CU_ASSERT_DOUBLE_EQUAL((double)(a), (double)(b), 1e-5)
/* The feature of a ratio (data/rr.h). */
#define F(ratio) (ECG_RR_SCALE * log(ratio))

static void regular_beats_have_zero_features(void)
{
    int64_t at[30];
    for (int i = 0; i < 30; i++)
        at[i] = 1000 + 288 * i; /* 0.8 s at 360 Hz */
    float f[30 * ECG_RR_FEATURES];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rr_features(at, 30, f, &err), ECG_OK);
    for (int i = 0; i < 30 * ECG_RR_FEATURES; i++)
        NEAR(f[i], 0);
}

static void a_premature_beat_is_early_and_followed_by_a_pause(void)
{
    /* one beat a second at 100 Hz; beat 15 comes 0.3 s early (pre 0.7 s, post 1.3 s) */
    int64_t at[40];
    for (int i = 0; i < 40; i++)
        at[i] = 100 * i;
    at[15] -= 30;
    float f[40 * ECG_RR_FEATURES];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rr_features(at, 40, f, &err), ECG_OK);
    const int k = ECG_RR_FEATURES;
    NEAR(f[15 * k + 0], F(0.7)); /* the local median stays at 1 s: one odd interval among twenty */
    NEAR(f[15 * k + 1], F(1.3));
    NEAR(f[15 * k + 2], 0);
    NEAR(f[15 * k + 3], 0); /* the median deviation ignores the early interval and its pause */
    NEAR(f[16 * k + 0], F(1.3)); /* the next beat ends the pause */
    NEAR(f[16 * k + 1], 0);
    NEAR(f[30 * k + 0], 0);
}

static void a_faster_stretch_shows_against_the_record(void)
{
    /* 40 intervals of 1 s then 40 of 0.5 s at 100 Hz: the record's median is 0.75 s */
    int64_t at[81];
    at[0] = 0;
    for (int i = 1; i <= 80; i++)
        at[i] = at[i - 1] + (i <= 40 ? 100 : 50);
    float f[81 * ECG_RR_FEATURES];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rr_features(at, 81, f, &err), ECG_OK);
    const int k = ECG_RR_FEATURES;
    NEAR(f[10 * k + 2], F(100.0 / 75.0));
    NEAR(f[10 * k + 0], 0);
    NEAR(f[70 * k + 2], F(50.0 / 75.0));
    NEAR(f[70 * k + 1], 0);
}

static void an_irregular_rhythm_shows_in_the_irregularity(void)
{
    /* intervals alternating 0.8 and 1.25 s at 100 Hz: every interval deviates from the local median */
    int64_t at[41];
    at[0] = 0;
    for (int i = 1; i <= 40; i++)
        at[i] = at[i - 1] + (i % 2 ? 80 : 125);
    float f[41 * ECG_RR_FEATURES];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rr_features(at, 41, f, &err), ECG_OK);
    const int k = ECG_RR_FEATURES;
    /* beat 20 sees intervals 10..29, ten of each: local median 102.5, deviations ln(102.5/80) and ln(125/102.5) */
    const double local = 102.5;
    NEAR(f[20 * k + 3], ECG_RR_SCALE * 0.5 * (log(local / 80) + log(125 / local)));
    CU_ASSERT_TRUE(f[20 * k + 3] > 4);
}

static void the_ends_short_records_and_extremes(void)
{
    struct ecg_error err = {0};
    float f[3 * ECG_RR_FEATURES];
    memset(f, 0x7f, sizeof f);
    int64_t one[1] = {500};
    CU_ASSERT_EQUAL(ecg_rr_features(one, 1, f, &err), ECG_OK);
    for (int j = 0; j < ECG_RR_FEATURES; j++)
        NEAR(f[j], 0); /* no interval: a regular beat */
    CU_ASSERT_EQUAL(ecg_rr_features(one, 0, f, &err), ECG_OK);
    int64_t two[2] = {0, 125};
    CU_ASSERT_EQUAL(ecg_rr_features(two, 2, f, &err), ECG_OK);
    for (int j = 0; j < 2 * ECG_RR_FEATURES; j++) /* the first beat borrows its post interval, the last its pre */
        NEAR(f[j], 0);
    int64_t wild[3] = {0, 1, 100000}; /* 1 sample, then 100000: clamped */
    CU_ASSERT_EQUAL(ecg_rr_features(wild, 3, f, &err), ECG_OK);
    for (int j = 0; j < 3 * ECG_RR_FEATURES; j++)
        CU_ASSERT_TRUE(isfinite(f[j]) && fabsf(f[j]) <= ECG_RR_CLAMP);
    NEAR(f[0], -ECG_RR_CLAMP); /* 1 sample against a local median of 50000 */
}

static void unordered_beats_are_an_error_that_says_why(void)
{
    struct ecg_error err = {0};
    float f[3 * ECG_RR_FEATURES];
    int64_t same[3] = {10, 20, 20};
    ECG_CHECK_ERROR(ecg_rr_features(same, 3, f, &err), &err, ECG_ERR_RANGE,
                    "RR features: beat 2 at sample 20 follows one at 20, expected increasing positions");
    int64_t back[2] = {10, 5};
    ECG_CHECK_ERROR(ecg_rr_features(back, 2, f, &err), &err, ECG_ERR_RANGE, "beat 1 at sample 5 follows one at 10");
}

/* Median of the first feature over the beats of one class. */
static double median_prematurity(const struct ecg_dataset *ds, int label)
{
    float *v = malloc((size_t)ds->count * sizeof *v);
    int64_t n = 0;
    for (int64_t i = 0; i < ds->count; i++)
        if (ds->records[i].label == label)
            v[n++] = ds->records[i].features[0];
    double m = ecg_test_median(v, n);
    free(v);
    return m;
}

static void the_supraventricular_beats_of_record_100_come_early(void)
{
    struct ecg_dataset ds = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_test_read_record_100_beats(&ds, &err), ECG_OK);
    double n = median_prematurity(&ds, ECG_BEAT_N), s = median_prematurity(&ds, ECG_BEAT_S);
    /* record 100's 33 atrial premature beats come about a fifth of an interval early (median ln -0.22) */
    CU_ASSERT_TRUE(fabs(n) < F(1.005));
    CU_ASSERT_TRUE(s < F(0.85));
    if (!(fabs(n) < F(1.005) && s < F(0.85)))
        printf("\n  median feature 0: N %.3f, S %.3f\n", n, s);
    ecg_dataset_free(&ds);
}

static const struct ecg_test rr_tests[] = {
    {"regular beats have zero features", regular_beats_have_zero_features},
    {"a premature beat is early and followed by a pause", a_premature_beat_is_early_and_followed_by_a_pause},
    {"a faster stretch shows against the record", a_faster_stretch_shows_against_the_record},
    {"an irregular rhythm shows in the irregularity", an_irregular_rhythm_shows_in_the_irregularity},
    {"the ends, short records and extremes", the_ends_short_records_and_extremes},
    {"unordered beats are an error that says why", unordered_beats_are_an_error_that_says_why},
    {"the supraventricular beats of record 100 come early", the_supraventricular_beats_of_record_100_come_early},
    {NULL, NULL},
};

static const struct ecg_suite suites[] = {
    {"rr", rr_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
