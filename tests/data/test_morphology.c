/* Tests of the morphology features of heartbeats (data/morphology): each beat against its record's median beat. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/morphology.h"
#include "data/readers.h"
#include "data/record.h"
#include "tests/data/beat_fixture.h"
#include "tests/test_util.h"

#define NEAR(a, b) CU_ASSERT_DOUBLE_EQUAL((double)(a), (double)(b), 1e-4)
#define FS 360.0
#define K ECG_MORPHOLOGY_FEATURES

/* n beats 0.8 s apart from sample 360 of a signal of len samples; beat i's QRS is a Gaussian of width w[i] and
 * amplitude a[i] (mV) on a flat line.  Returns the signal; at gets the positions. */
static float *beats_signal(int n, const double *w, const double *a, int64_t *at, int64_t *len)
{
    *len = 360 + (int64_t)n * 288 + 360;
    float *x = calloc((size_t)*len, sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    for (int i = 0; i < n; i++) {
        at[i] = 360 + (int64_t)i * 288;
        for (int64_t t = -100; t <= 100; t++)
            x[at[i] + t] += (float)(a[i] * exp(-0.5 * pow((double)t / (w[i] * FS), 2)));
    }
    return x;
}

static void beats_like_the_template_score_zero_and_an_odd_one_stands_out(void)
{
    double w[21], a[21];
    int64_t at[21], len;
    for (int i = 0; i < 21; i++)
        w[i] = 0.012, a[i] = 1.0;
    w[10] = 0.040; /* one wide beat among twenty narrow ones */
    a[15] = 2.0;   /* one twice as tall */
    float *x = beats_signal(21, w, a, at, &len);
    float f[21 * K];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_morphology_features(x, len, FS, at, 21, f, &err), ECG_OK);
    /* a usual beat: correlation 1, the same size, no distance (the lower clamp) */
    NEAR(f[0 * K + 0], 0);
    NEAR(f[0 * K + 1], 0);
    NEAR(f[0 * K + 2], -ECG_MORPHOLOGY_CLAMP);
    /* the wide beat: lower correlation, larger, far from the template */
    CU_ASSERT_TRUE(f[10 * K + 0] > 1.0);
    CU_ASSERT_TRUE(f[10 * K + 1] > 1.0);
    CU_ASSERT_TRUE(f[10 * K + 2] > -2.0);
    /* the tall beat: the same shape (correlation 1), twice the size, as far from the template as it is large */
    NEAR(f[15 * K + 0], 0);
    NEAR(f[15 * K + 1], ECG_MORPHOLOGY_SCALE * log(2.0));
    NEAR(f[15 * K + 2], 0);
    free(x);
}

static void an_inverted_beat_has_the_largest_shape_difference(void)
{
    double w[9], a[9];
    int64_t at[9], len;
    for (int i = 0; i < 9; i++)
        w[i] = 0.012, a[i] = 1.0;
    a[4] = -1.0;
    float *x = beats_signal(9, w, a, at, &len);
    float f[9 * K];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_morphology_features(x, len, FS, at, 9, f, &err), ECG_OK);
    NEAR(f[4 * K + 0], 2 * ECG_MORPHOLOGY_SCALE); /* correlation -1 */
    NEAR(f[4 * K + 1], 0);
    NEAR(f[4 * K + 2], ECG_MORPHOLOGY_SCALE * log(2.0)); /* b - t = -2 t */
    free(x);
}

static void beats_at_the_ends_flat_records_and_bad_rates_get_no_comparison(void)
{
    double w[3] = {0.012, 0.012, 0.012}, a[3] = {1, 1, 1};
    int64_t at[3], len;
    float *x = beats_signal(3, w, a, at, &len);
    float f[3 * K];
    struct ecg_error err = {0};
    /* the first beat 0.05 s from the start: its segment runs past it */
    int64_t edge[3] = {18, at[1], at[2]};
    memset(f, 0x7f, sizeof f);
    CU_ASSERT_EQUAL_FATAL(ecg_morphology_features(x, len, FS, edge, 3, f, &err), ECG_OK);
    for (int j = 0; j < K; j++)
        NEAR(f[j], 0);
    NEAR(f[1 * K + 2], -ECG_MORPHOLOGY_CLAMP);
    /* a flat record: no template to compare with */
    memset(x, 0, (size_t)len * sizeof *x);
    CU_ASSERT_EQUAL_FATAL(ecg_morphology_features(x, len, FS, at, 3, f, &err), ECG_OK);
    for (int j = 0; j < 3 * K; j++)
        NEAR(f[j], 0);
    CU_ASSERT_EQUAL(ecg_morphology_features(x, len, FS, at, 0, f, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_morphology_features(x, len, 0, at, 3, f, &err), &err, ECG_ERR_VALUE,
                    "morphology features: sampling rate 0 Hz, expected > 0");
    free(x);
}

/* A header may claim any rate: one whose window is longer than the record fits no beat, and the features are
 * zeros rather than a request for memory in proportion to the window (terabytes at 1e13 Hz). */
static void a_rate_whose_window_outgrows_the_record_gets_no_comparison(void)
{
    double w[3] = {0.012, 0.012, 0.012}, a[3] = {1, 1, 1};
    int64_t at[3], len;
    float *x = beats_signal(3, w, a, at, &len);
    float f[3 * K];
    struct ecg_error err = {0};
    const double rates[] = {len / 0.2, 1e13, 1e300};
    for (size_t r = 0; r < sizeof rates / sizeof *rates; r++) {
        memset(f, 0x7f, sizeof f);
        CU_ASSERT_EQUAL(ecg_morphology_features(x, len, rates[r], at, 3, f, &err), ECG_OK);
        for (int j = 0; j < 3 * K; j++)
            NEAR(f[j], 0);
    }
    free(x);
    /* At 1000 Hz the window is 100 + 150 samples: a record of exactly 250 holds one beat's window (the beat is
     * its own template: f[2] at the lower clamp), one of 249 none. */
    float y[250];
    for (int t = 0; t < 250; t++)
        y[t] = (float)sin(0.05 * t) + (t == 100 ? 1.0f : 0.0f);
    const int64_t one[1] = {100};
    CU_ASSERT_EQUAL(ecg_morphology_features(y, 250, 1000, one, 1, f, &err), ECG_OK);
    NEAR(f[0], 0);
    NEAR(f[2], -ECG_MORPHOLOGY_CLAMP);
    CU_ASSERT_EQUAL(ecg_morphology_features(y, 249, 1000, one, 1, f, &err), ECG_OK);
    NEAR(f[2], 0);
}

/* Median of feature j over the beats with annotation `symbol`. */
static double median_feature(const struct ecg_dataset *ds, const char *symbol, int j)
{
    float *v = malloc((size_t)ds->count * sizeof *v);
    int64_t n = 0;
    for (int64_t i = 0; i < ds->count; i++) {
        const char *s = ecg_wfdb_beat_symbol(ds->records[i].beat_code);
        if (s && strcmp(s, symbol) == 0)
            v[n++] = ds->records[i].features[ECG_RR_FEATURES + j];
    }
    double m = ecg_test_median(v, n);
    free(v);
    return m;
}

static void the_beats_of_record_100_carry_their_features(void)
{
    struct ecg_dataset ds = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_test_read_record_100_beats(&ds, &err), ECG_OK);
    /* record 100's normal beats are its template: high correlation, their usual size, little distance */
    double corr = median_feature(&ds, "N", 0), size = median_feature(&ds, "N", 1), dist = median_feature(&ds, "N", 2);
    CU_ASSERT_TRUE(corr >= 0 && corr < 0.5);
    CU_ASSERT_TRUE(fabs(size) < 1.0);
    CU_ASSERT_TRUE(dist < -10.0);
    if (!(corr >= 0 && corr < 0.5 && fabs(size) < 1.0 && dist < -10.0))
        printf("\n  N medians: %.3f %.3f %.3f\n", corr, size, dist);
    /* The shipped beat model was trained on these exact values: any change to them, however small, shows here. */
    double sum = 0;
    for (int64_t i = 0; i < ds.count; i++)
        for (int j = 0; j < ECG_MORPHOLOGY_FEATURES; j++)
            sum += (double)ds.records[i].features[ECG_RR_FEATURES + j] * (double)(1 + j + 3 * (i % 7));
    CU_ASSERT_DOUBLE_EQUAL(sum, -6872.9021881427616, 1e-9);
    ecg_dataset_free(&ds);
}

static const struct ecg_test morphology_tests[] = {
    {"beats like the template score zero and an odd one stands out",
     beats_like_the_template_score_zero_and_an_odd_one_stands_out},
    {"an inverted beat has the largest shape difference", an_inverted_beat_has_the_largest_shape_difference},
    {"beats at the ends, flat records and bad rates get no comparison",
     beats_at_the_ends_flat_records_and_bad_rates_get_no_comparison},
    {"a rate whose window outgrows the record gets no comparison",
     a_rate_whose_window_outgrows_the_record_gets_no_comparison},
    {"the beats of record 100 carry their features", the_beats_of_record_100_carry_their_features},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"morphology", morphology_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
