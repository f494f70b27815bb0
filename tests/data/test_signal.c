/* Tests of data/signal.c against scipy fixtures (tests/fixtures/gen_signal_fixtures.py) and by properties. */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/signal.h"
#include "tests/test_util.h"

/* Reads a 1-D dataset of the signal fixture file as double (malloc'd); aborts the test on failure. */
static double *fixture(const char *name, int64_t *n)
{
    hid_t f = H5Fopen(ecg_test_fixture("data/signal_fixtures.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    CU_ASSERT_FATAL(d >= 0);
    hid_t s = H5Dget_space(d);
    hsize_t dim;
    H5Sget_simple_extent_dims(s, &dim, NULL);
    double *v = malloc(dim * sizeof *v);
    CU_ASSERT_FATAL(v != NULL);
    CU_ASSERT_FATAL(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    *n = (int64_t)dim;
    return v;
}

static float *to_float(const double *v, int64_t n)
{
    float *x = malloc((size_t)n * sizeof *x);
    CU_ASSERT_FATAL(x != NULL);
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)v[i];
    return x;
}

static void butterworth_band_pass_matches_scipy_butter(void)
{
    struct ecg_error err = {0};
    const char *names[2][2] = {{"butter300_b", "butter300_a"}, {"butter1024_b", "butter1024_a"}};
    const double fs[2] = {300.0, 1024.0};
    for (int k = 0; k < 2; k++) {
        struct ecg_iir f;
        CU_ASSERT_EQUAL_FATAL(ecg_iir_butter_bandpass(&f, 3, 0.5, 40.0, fs[k], &err), ECG_OK);
        int64_t nb, na;
        double *b = fixture(names[k][0], &nb), *a = fixture(names[k][1], &na);
        CU_ASSERT_EQUAL(f.n, nb);
        CU_ASSERT_EQUAL(f.n, na);
        /* Same algorithm in double: agreement to rounding (coefficients up to ~20 in size). */
        CU_ASSERT_TRUE(ecg_test_close_double(names[k][0], f.b, b, nb, 1e-9, 1e-13));
        CU_ASSERT_TRUE(ecg_test_close_double(names[k][1], f.a, a, na, 1e-9, 1e-12));
        free(b);
        free(a);
    }
}

static void zero_phase_filter_matches_scipy_filtfilt_on_a_real_record(void)
{
    struct ecg_error err = {0};
    int64_t n, m;
    double *x = fixture("x", &n), *want = fixture("filtfilt300", &m);
    CU_ASSERT_EQUAL_FATAL(n, m);
    float *y = to_float(x, n), *w = to_float(want, n);
    CU_ASSERT_EQUAL_FATAL(ecg_signal_bandpass(y, n, 300.0, 3, 0.5, 40.0, &err), ECG_OK);
    /* Computed in double from the same float inputs; the output is rounded to float (|y| < 2 mV). */
    ECG_CHECK_CLOSE("filtfilt 0.5-40 Hz at 300 Hz", y, w, n, 1e-5, 2e-6);
    free(x);
    free(want);
    free(y);
    free(w);
}

static void check_resample(const char *in_name, int64_t in_len, const char *want_name, int64_t up,
                           int64_t down)
{
    struct ecg_error err = {0};
    int64_t n, m;
    double *x = fixture(in_name, &n), *want = fixture(want_name, &m);
    if (in_len > 0)
        n = in_len;
    float *xf = to_float(x, n), *w = to_float(want, m);
    CU_ASSERT_EQUAL_FATAL(ecg_resample_length(n, up, down), m);
    float *y = malloc((size_t)m * sizeof *y);
    CU_ASSERT_EQUAL_FATAL(ecg_resample_poly(xf, n, up, down, y, &err), ECG_OK);
    ECG_CHECK_CLOSE(want_name, y, w, m, 1e-5, 2e-6);
    free(x);
    free(want);
    free(xf);
    free(w);
    free(y);
}

static void polyphase_resampling_matches_scipy_resample_poly(void)
{
    check_resample("x", 0, "up_300_1024", 1024, 300);
    check_resample("up_300_1024", 3000, "down_1024_300", 300, 1024);
    check_resample("x", 720, "down_360_125", 125, 360);
}

static void resampling_between_rates_gives_the_ceiling_length(void)
{
    struct ecg_error err = {0};
    float x[300];
    for (int i = 0; i < 300; i++)
        x[i] = sinf(2.0f * 3.14159265f * 5.0f * (float)i / 300.0f);
    float *y = NULL;
    int64_t n = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_resample_rate(x, 300, 300.0, 1024.0, &y, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL(n, 1024);
    /* A 5 Hz sine stays a 5 Hz sine away from the edges. */
    double worst = 0;
    for (int64_t i = 100; i < 900; i++)
        worst = fmax(worst, fabs(y[i] - sin(2.0 * 3.14159265358979 * 5.0 * (double)i / 1024.0)));
    CU_ASSERT_TRUE(worst < 1e-3);
    free(y);
    CU_ASSERT_EQUAL(ecg_resample_length(10, 3, 2), 15);
    CU_ASSERT_EQUAL(ecg_resample_length(9000, 1024, 300), 30720);
    CU_ASSERT_EQUAL(ecg_resample_length(7, 2, 4), 4);
}

static void band_pass_removes_offset_and_wander_and_keeps_the_qrs_band(void)
{
    struct ecg_error err = {0};
    int64_t n = 16384; /* 16 s: the odd-extension transient of the offset decays within ~5 s */
    float *x = malloc((size_t)n * sizeof *x);
    for (int64_t i = 0; i < n; i++) {
        double t = (double)i / 1024.0;
        x[i] =
            (float)(3.0 + 2.0 * sin(2 * 3.14159265358979 * 0.05 * t) + sin(2 * 3.14159265358979 * 10.0 * t));
    }
    CU_ASSERT_EQUAL_FATAL(ecg_signal_bandpass(x, n, 1024.0, 3, 0.5, 40.0, &err), ECG_OK);
    double worst = 0;
    for (int64_t i = 6144; i < 10240; i++)
        worst = fmax(worst, fabs(x[i] - sin(2 * 3.14159265358979 * 10.0 * (double)i / 1024.0)));
    CU_ASSERT_TRUE(worst < 1e-3);
    free(x);
}

static void filters_and_resampling_reject_bad_arguments_with_a_message(void)
{
    struct ecg_error err = {0};
    struct ecg_iir f;
    ECG_CHECK_ERROR(ecg_iir_butter_bandpass(&f, 3, 0.5, 200.0, 300.0, &err), &err, ECG_ERR_RANGE,
                    "band-pass 0.5-200 Hz at 300 Hz");
    ECG_CHECK_ERROR(ecg_iir_butter_bandpass(&f, 0, 0.5, 40.0, 300.0, &err), &err, ECG_ERR_RANGE, "order 0");
    CU_ASSERT_EQUAL_FATAL(ecg_iir_butter_bandpass(&f, 3, 0.5, 40.0, 300.0, &err), ECG_OK);
    float x[21] = {0};
    ECG_CHECK_ERROR(ecg_iir_filtfilt(&f, x, 21, &err), &err, ECG_ERR_VALUE,
                    "signal of 21 samples, expected more than 21");
    float *y = NULL;
    int64_t n;
    ECG_CHECK_ERROR(ecg_resample_rate(x, 21, 300.5, 1024.0, &y, &n, &err), &err, ECG_ERR_RANGE,
                    "300.5 Hz -> 1024 Hz");
    CU_ASSERT_PTR_NULL(y);
    ECG_CHECK_ERROR(ecg_resample_poly(x, 0, 2, 1, x, &err), &err, ECG_ERR_VALUE, "empty signal");
    ECG_CHECK_ERROR(ecg_resample_poly(x, 21, 0, 1, x, &err), &err, ECG_ERR_RANGE, "positive factors");
}

static void z_score_normalises_and_refuses_flat_signals(void)
{
    struct ecg_error err = {0};
    float x[1000];
    for (int i = 0; i < 1000; i++)
        x[i] = 5.0f + 0.5f * sinf((float)i * 0.1f);
    CU_ASSERT_EQUAL_FATAL(ecg_signal_zscore(x, 1000, 1e-6, &err), ECG_OK);
    double m, s;
    ecg_signal_stats(x, 1000, &m, &s);
    CU_ASSERT_DOUBLE_EQUAL(m, 0.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(s, 1.0, 1e-5);
    float flat[50];
    for (int i = 0; i < 50; i++)
        flat[i] = 0.25f;
    ECG_CHECK_ERROR(ecg_signal_zscore(flat, 50, 1e-6, &err), &err, ECG_ERR_VALUE,
                    "flat signal: standard deviation 0 over 50 samples");
    CU_ASSERT_EQUAL(flat[7], 0.25f);
}

static void non_finite_samples_are_reported_by_index(void)
{
    struct ecg_error err = {0};
    float x[10] = {0};
    CU_ASSERT_EQUAL(ecg_signal_check_finite(x, 10, &err), ECG_OK);
    x[6] = NAN;
    ECG_CHECK_ERROR(ecg_signal_check_finite(x, 10, &err), &err, ECG_ERR_VALUE, "sample 6 is nan");
    x[6] = 0;
    x[3] = -INFINITY;
    ECG_CHECK_ERROR(ecg_signal_check_finite(x, 10, &err), &err, ECG_ERR_VALUE, "sample 3 is infinite");
}

static const struct ecg_test scipy_tests[] = {
    {"Butterworth band-pass matches scipy butter", butterworth_band_pass_matches_scipy_butter},
    {"zero-phase filter matches scipy filtfilt on a real record",
     zero_phase_filter_matches_scipy_filtfilt_on_a_real_record},
    {"polyphase resampling matches scipy resample_poly", polyphase_resampling_matches_scipy_resample_poly},
    {NULL, NULL},
};

static const struct ecg_test property_tests[] = {
    {"resampling between rates gives the ceiling length", resampling_between_rates_gives_the_ceiling_length},
    {"band-pass removes offset and wander and keeps the QRS band",
     band_pass_removes_offset_and_wander_and_keeps_the_qrs_band},
    {"filters and resampling reject bad arguments with a message",
     filters_and_resampling_reject_bad_arguments_with_a_message},
    {"z-score normalises and refuses flat signals", z_score_normalises_and_refuses_flat_signals},
    {"non-finite samples are reported by index", non_finite_samples_are_reported_by_index},
    {NULL, NULL},
};

static const struct ecg_suite suites[] = {
    {"signal-scipy", scipy_tests},
    {"signal", property_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
