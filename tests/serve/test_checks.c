/* Tests of the signal checks on synthetic ECGs (one defect each) and on real CinC 2017 records. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/readers.h"
#include "serve/checks.h"
#include "tests/test_util.h"

static const struct ecg_check_model cinc = {300.0, 10.0, 3.0, 61.0, NULL, 0};

/* A clean CinC-like ECG in mV: 72 bpm, P-QRS-T as Gaussians, slow baseline wander, small noise. */
static float *synthetic_ecg(double fs, double seconds, int64_t *n)
{
    *n = (int64_t)(fs * seconds);
    float *x = malloc((size_t)*n * sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    uint32_t state = 12345;
    for (int64_t i = 0; i < *n; i++) {
        double t = (double)i / fs, ph = fmod(t, 60.0 / 72.0);
        double v = 0.15 * exp(-pow((ph - 0.15) / 0.025, 2)) + 1.1 * exp(-pow((ph - 0.30) / 0.010, 2)) -
                   0.15 * exp(-pow((ph - 0.33) / 0.010, 2)) + 0.3 * exp(-pow((ph - 0.55) / 0.045, 2));
        state = state * 1664525u + 1013904223u;
        v += 0.1 * sin(2 * 3.14159265358979 * 0.25 * t) + 0.02 * ((double)(state >> 8) / 16777216.0 - 0.5);
        x[i] = (float)v;
    }
    return x;
}

/* Runs the checks and returns 1 when `code` is among the findings (printing them on a mismatch). */
static int finds(const float *x, int64_t n, double fs, enum ecg_check_code code, const char *needle)
{
    struct ecg_check c[ECG_CHECK_COUNT];
    int k = ecg_checks_run(x, n, fs, &cinc, c, ECG_CHECK_COUNT);
    for (int i = 0; i < k; i++)
        if (c[i].code == code && (!needle || strstr(c[i].message, needle)))
            return 1;
    fprintf(stderr, "\n  wanted %s (\"%s\"), found:", ecg_check_name(code), needle ? needle : "");
    for (int i = 0; i < k; i++)
        fprintf(stderr, "\n    %s: %s", ecg_check_name(c[i].code), c[i].message);
    return 0;
}

static void a_clean_synthetic_ecg_triggers_no_check(void)
{
    int64_t n;
    float *x = synthetic_ecg(300, 30, &n);
    struct ecg_check c[ECG_CHECK_COUNT];
    int k = ecg_checks_run(x, n, 300, &cinc, c, ECG_CHECK_COUNT);
    for (int i = 0; i < k; i++)
        fprintf(stderr, "\n  unexpected %s: %s", ecg_check_name(c[i].code), c[i].message);
    CU_ASSERT_EQUAL(k, 0);
    free(x);
}

static void real_cinc_records_trigger_no_check(void)
{
    const char *names[] = {"A00592", "A00894"}; /* AF, Other (A00984 is the noise example, A05493 below) */
    for (int r = 0; r < 2; r++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s.mat", ecg_test_fixture("data/cinc2017"), names[r]);
        struct ecg_record rec;
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(ecg_cinc2017_read_record(path, &rec, &err), ECG_OK);
        struct ecg_check c[ECG_CHECK_COUNT];
        int k = ecg_checks_run(rec.signal, rec.length, rec.fs, &cinc, c, ECG_CHECK_COUNT);
        for (int i = 0; i < k; i++)
            fprintf(stderr, "\n  %s: unexpected %s: %s", names[r], ecg_check_name(c[i].code), c[i].message);
        CU_ASSERT_EQUAL(k, 0);
        free(rec.signal);
    }
}

/* A05493's QRS complexes point down (-0.62 mV against +0.28 mV): one of CinC 2017's recordings taken
 * with the handheld device reversed. */
static void a_reversed_cinc_record_is_likely_inverted(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/A05493.mat", ecg_test_fixture("data/cinc2017"));
    struct ecg_record rec;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_cinc2017_read_record(path, &rec, &err), ECG_OK);
    CU_ASSERT_TRUE(finds(rec.signal, rec.length, rec.fs, ECG_CHECK_INVERTED, "point down"));
    free(rec.signal);
}

static void another_sampling_rate_says_it_was_resampled(void)
{
    int64_t n;
    float *x = synthetic_ecg(500, 30, &n);
    CU_ASSERT_TRUE(
        finds(x, n, 500, ECG_CHECK_RESAMPLED, "sampled at 500 Hz; the model was trained at 300 Hz"));
    free(x);
}

static void lengths_outside_the_training_range_are_flagged(void)
{
    int64_t n;
    float *x = synthetic_ecg(300, 70, &n);
    CU_ASSERT_TRUE(finds(x, 2 * 300, 300, ECG_CHECK_TOO_SHORT, "2.00 s long; the model needs at least 3 s"));
    CU_ASSERT_TRUE(finds(x, 4 * 300, 300, ECG_CHECK_SHORT,
                         "4.00 s long, 40% of the model's 10 s window; the rest is zero padding"));
    /* A model whose windows fill with the record itself says so. */
    struct ecg_check_model tiled = cinc;
    tiled.window_s = 30.0;
    tiled.fill = "the record repeated";
    struct ecg_check c1[ECG_CHECK_COUNT];
    int k1 = ecg_checks_run(x, 10 * 300, 300, &tiled, c1, ECG_CHECK_COUNT);
    CU_ASSERT_TRUE(k1 >= 1 && c1[0].code == ECG_CHECK_SHORT &&
                   strstr(c1[0].message, "10.00 s long, 33% of the model's 30 s window; the rest is the record "
                                         "repeated, so the result rests on few beats"));
    CU_ASSERT_TRUE(
        finds(x, n, 300, ECG_CHECK_TOO_LONG, "70.0 s long, longer than any training recording (61 s)"));
    /* A beat model pads nothing: a short record loses the beats near its ends instead. */
    struct ecg_check_model beats = {360.0, 3.0, 1.0 / 360, 0, NULL, 1};
    k1 = ecg_checks_run(x, 5 * 360, 360, &beats, c1, ECG_CHECK_COUNT);
    CU_ASSERT_TRUE(k1 >= 1 && c1[0].code == ECG_CHECK_SHORT &&
                   strstr(c1[0].message, "5.00 s long, under twice the model's 3 s beat window; beats too close to "
                                         "either end for a whole window are left out") && !strstr(c1[0].message, "padding"));
    k1 = ecg_checks_run(x, 6 * 360, 360, &beats, c1, ECG_CHECK_COUNT);
    for (int i = 0; i < k1; i++)
        CU_ASSERT_NOT_EQUAL(c1[i].code, ECG_CHECK_SHORT);
    struct ecg_check c[ECG_CHECK_COUNT];
    int k = ecg_checks_run(x, 2 * 300, 300, &cinc, c, ECG_CHECK_COUNT);
    CU_ASSERT_TRUE(ecg_checks_fatal(c, k));
    k = ecg_checks_run(x, 4 * 300, 300, &cinc, c, ECG_CHECK_COUNT);
    CU_ASSERT_FALSE(ecg_checks_fatal(c, k));
    free(x);
}

static void nan_and_infinity_are_counted_and_fatal(void)
{
    int64_t n;
    float *x = synthetic_ecg(300, 30, &n);
    x[600] = NAN;
    x[700] = INFINITY;
    CU_ASSERT_TRUE(
        finds(x, n, 300, ECG_CHECK_NOT_FINITE, "2 samples are NaN or infinite (the first at 2.000 s)"));
    struct ecg_check c[ECG_CHECK_COUNT];
    int k = ecg_checks_run(x, n, 300, &cinc, c, ECG_CHECK_COUNT);
    CU_ASSERT_EQUAL(k, 1);
    CU_ASSERT_TRUE(ecg_checks_fatal(c, k));
    free(x);
}

static void a_flat_line_is_fatal_and_a_flat_stretch_is_a_warning(void)
{
    int64_t n;
    float *x = synthetic_ecg(300, 30, &n);
    float *flat = calloc((size_t)n, sizeof *flat);
    CU_ASSERT_TRUE(finds(flat, n, 300, ECG_CHECK_FLAT, "flat line"));
    for (int64_t i = 3000; i < 3900; i++)
        x[i] = 0.05f;
    CU_ASSERT_TRUE(finds(x, n, 300, ECG_CHECK_FLAT_SEGMENT, "constant for 3.0 s from 10.0 s"));
    free(flat);
    free(x);
}

static void saturated_samples_are_reported_as_clipping(void)
{
    int64_t n;
    float *x = synthetic_ecg(300, 30, &n);
    for (int64_t i = 0; i < n; i++)
        x[i] = x[i] > 0.6f ? 0.6f : x[i];
    CU_ASSERT_TRUE(finds(x, n, 300, ECG_CHECK_CLIPPING, "at the extremes 0.6"));
    free(x);
}

static void adc_counts_and_volts_are_implausible_amplitudes(void)
{
    int64_t n;
    float *x = synthetic_ecg(300, 30, &n);
    for (int64_t i = 0; i < n; i++)
        x[i] *= 1000; /* microvolts */
    CU_ASSERT_TRUE(finds(x, n, 300, ECG_CHECK_AMPLITUDE_HIGH, "raw ADC counts or microvolts"));
    for (int64_t i = 0; i < n; i++)
        x[i] *= 1e-6f; /* volts */
    CU_ASSERT_TRUE(finds(x, n, 300, ECG_CHECK_AMPLITUDE_LOW, "volts? Convert to mV"));
    free(x);
}

static void an_upside_down_ecg_is_likely_inverted(void)
{
    int64_t n;
    float *x = synthetic_ecg(300, 30, &n);
    for (int64_t i = 0; i < n; i++)
        x[i] = -x[i];
    CU_ASSERT_TRUE(finds(x, n, 300, ECG_CHECK_INVERTED, "the largest deflections point down"));
    free(x);
}

static const struct ecg_test tests[] = {
    {"a clean synthetic ECG triggers no check", a_clean_synthetic_ecg_triggers_no_check},
    {"real CinC 2017 records trigger no check", real_cinc_records_trigger_no_check},
    {"a reversed CinC record is likely inverted", a_reversed_cinc_record_is_likely_inverted},
    {"another sampling rate says it was resampled", another_sampling_rate_says_it_was_resampled},
    {"lengths outside the training range are flagged", lengths_outside_the_training_range_are_flagged},
    {"NaN and infinity are counted and fatal", nan_and_infinity_are_counted_and_fatal},
    {"a flat line is fatal and a flat stretch is a warning",
     a_flat_line_is_fatal_and_a_flat_stretch_is_a_warning},
    {"saturated samples are reported as clipping", saturated_samples_are_reported_as_clipping},
    {"ADC counts and volts are implausible amplitudes", adc_counts_and_volts_are_implausible_amplitudes},
    {"an upside-down ECG is likely inverted", an_upside_down_ecg_is_likely_inverted},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {{"checks", tests}, {NULL, NULL}};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
