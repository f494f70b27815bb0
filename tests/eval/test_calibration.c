/* Tests of eval/calibration: softmax at a temperature, reliability bins and ECE, the temperature fit, the report forms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "eval/calibration.h"
#include "eval/report.h"
#include "tests/test_util.h"

static void a_temperature_divides_the_logits(void)
{
    const float z[3] = {2.0f, 0.0f, -1.0f};
    float p1[3], p2[3], q[3];
    ecg_calibration_softmax(p1, z, 3, 1.0);
    ecg_calibration_softmax(p2, z, 3, 2.0);
    const float half[3] = {1.0f, 0.0f, -0.5f};
    ecg_calibration_softmax(q, half, 3, 1.0);
    ECG_CHECK_CLOSE("softmax(z / 2)", p2, q, 3, 1e-6, 1e-7);
    double s = exp(2.0) + 1.0 + exp(-1.0);
    CU_ASSERT_DOUBLE_EQUAL(p1[0], exp(2.0) / s, 1e-7);
    CU_ASSERT_TRUE(p2[0] < p1[0]); /* T > 1 softens */
}

static void ece_is_the_weighted_gap_between_accuracy_and_confidence(void)
{
    /* Two classes; confidences 0.95 (bin 14) x2, one right one wrong; 0.58 (bin 8) x2, both right. */
    const float probs[8] = {0.95f, 0.05f, 0.95f, 0.05f, 0.42f, 0.58f, 0.58f, 0.42f};
    const int truth[4] = {0, 1, 1, 0};
    struct ecg_reliability r;
    ecg_reliability_compute(&r, probs, truth, 4, 2);
    CU_ASSERT_EQUAL(r.n, 4);
    CU_ASSERT_EQUAL(r.count[14], 2);
    CU_ASSERT_EQUAL(r.count[8], 2);
    CU_ASSERT_DOUBLE_EQUAL(r.accuracy[14], 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r.confidence[8], 0.58, 1e-6);
    CU_ASSERT_TRUE(isnan(r.accuracy[0]));
    CU_ASSERT_DOUBLE_EQUAL(r.ece, 0.5 * 0.45 + 0.5 * 0.42, 1e-6);
    double nll = -(log(0.95) + log(0.05) + log(0.58) + log(0.58)) / 4;
    CU_ASSERT_DOUBLE_EQUAL(r.nll, nll, 1e-6);
    /* Bins are (b/15, (b+1)/15]: 0.5 (7.5/15) is in bin 7, a confidence of 1 in bin 14, 0 in bin 0. */
    const float edge[6] = {0.5f, 0.5f, 1.0f, 0.0f, 0.0f, 0.0f};
    const int t0[3] = {0, 0, 1};
    ecg_reliability_compute(&r, edge, t0, 3, 2);
    CU_ASSERT_EQUAL(r.count[7], 1);
    CU_ASSERT_EQUAL(r.count[14], 1);
    CU_ASSERT_EQUAL(r.count[0], 1);
}

/* Synthetic over-confident window logits: several windows per record, noisy labels. */
static void make_logits(float *z, int64_t *row, int *truth, int64_t nrec, int64_t per, int k, uint64_t seed)
{
    struct ecg_rng r = ecg_rng_init(seed, 1);
    for (int64_t i = 0; i < nrec; i++) {
        truth[i] = (int)ecg_rng_below(&r, (uint64_t)k);
        int shown = ecg_rng_uniform(&r) < 0.7f ? truth[i] : (int)ecg_rng_below(&r, (uint64_t)k);
        for (int64_t w = 0; w < per; w++) {
            int64_t at = i * per + w;
            row[at] = i;
            for (int j = 0; j < k; j++)
                z[at * k + j] = 3.0f * ecg_rng_normal(&r) + (j == shown ? 6.0f : 0.0f);
        }
    }
}

static void the_fitted_temperature_matches_a_brute_force_grid(void)
{
    enum { NREC = 300, PER = 3, K = 4 };
    float *z = malloc(sizeof(float) * NREC * PER * K);
    int64_t row[NREC * PER];
    int truth[NREC];
    make_logits(z, row, truth, NREC, PER, K, 5);
    double t;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_calibration_fit_temperature(z, row, NREC * PER, truth, NREC, K, &t, &err), ECG_OK);
    double best_t = 1, best = INFINITY, v = NAN;
    for (int i = 0; i <= 4000; i++) {
        double g = exp(log(ECG_CAL_T_MIN) + i * (log(ECG_CAL_T_MAX) - log(ECG_CAL_T_MIN)) / 4000);
        CU_ASSERT_EQUAL_FATAL(ecg_calibration_nll(z, row, NREC * PER, truth, NREC, K, g, &v, &err), ECG_OK);
        if (v < best)
            best = v, best_t = g;
    }
    double fitted = NAN, at_one = NAN;
    CU_ASSERT_EQUAL(ecg_calibration_nll(z, row, NREC * PER, truth, NREC, K, t, &fitted, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_calibration_nll(z, row, NREC * PER, truth, NREC, K, 1.0, &at_one, &err), ECG_OK);
    fprintf(stderr, "\n  fitted T %.5f (NLL %.6f), grid T %.5f (NLL %.6f), NLL at T=1 %.6f\n", t, fitted, best_t, best,
            at_one);
    CU_ASSERT_TRUE(fitted <= best + 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(t, best_t, 0.01 * best_t);
    CU_ASSERT_TRUE(t > 1.5); /* the logits are over-confident */
    /* Calibration lowers the ECE of these records. */
    float *p1 = malloc(sizeof(float) * NREC * K), *pt = malloc(sizeof(float) * NREC * K);
    CU_ASSERT_EQUAL(ecg_calibration_record_probs(p1, z, row, NREC * PER, NREC, K, 1.0, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_calibration_record_probs(pt, z, row, NREC * PER, NREC, K, t, &err), ECG_OK);
    struct ecg_reliability a, b;
    ecg_reliability_compute(&a, p1, truth, NREC, K);
    ecg_reliability_compute(&b, pt, truth, NREC, K);
    CU_ASSERT_TRUE(b.ece < a.ece);
    CU_ASSERT_DOUBLE_EQUAL(b.nll, fitted, 1e-6);
    free(z), free(p1), free(pt);
}

static void record_probabilities_average_the_windows_in_order(void)
{
    const float z[6] = {1, 0, 0, 1, 2, 2};
    const int64_t row[3] = {1, 0, 1};
    float p[4], a[2], b[2];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_calibration_record_probs(p, z, row, 3, 2, 2, 1.0, &err), ECG_OK);
    ecg_calibration_softmax(a, z, 2, 1.0);
    ecg_calibration_softmax(b, z + 4, 2, 1.0);
    CU_ASSERT_EQUAL(p[2], (a[0] + b[0]) / 2.0f);
    CU_ASSERT_DOUBLE_EQUAL(p[1], 1 / (1 + exp(-1.0)), 1e-7);
}

static void a_fit_without_labels_fails_with_a_message(void)
{
    const float z[2] = {1, 0};
    const int64_t row[1] = {0};
    const int truth[1] = {-1};
    double t;
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(ecg_calibration_fit_temperature(z, row, 1, truth, 1, 2, &t, &err), &err, ECG_ERR_VALUE,
                    "temperature scaling: no record of the fitting split has a label");
}

static void the_reports_carry_the_calibration(void)
{
    const float probs[8] = {0.95f, 0.05f, 0.95f, 0.05f, 0.4f, 0.6f, 0.6f, 0.4f};
    const int truth[4] = {0, 1, 1, 0};
    struct ecg_calibration cal = {.temperature = 1.5, .fitted_on = "val", .fit_records = 9, .has_before = true};
    ecg_reliability_compute(&cal.before, probs, truth, 4, 2);
    ecg_reliability_compute(&cal.after, probs, truth, 4, 2);
    cal.after.ece = 0.125;
    struct ecg_metrics m = {0};
    struct ecg_error err = {0};
    const char *names[2] = {"a", "b"};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_compute(&m, 2, names, truth, NULL, probs, 4, &err), ECG_OK);
    const char *dir = ecg_test_tmpdir();
    struct ecg_report r = {.title = "t", .metrics = &m, .calibration = &cal};
    CU_ASSERT_EQUAL_FATAL(ecg_report_write(dir, &r, &err), ECG_OK);
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.json", dir);
    char *json = ecg_test_read_file(path);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"calibration\": {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"temperature\": 1.5"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"ece\": 0.125"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"reliability_uncalibrated\""));
    snprintf(path, sizeof path, "%s/report.txt", dir);
    char *txt = ecg_test_read_file(path);
    CU_ASSERT_PTR_NOT_NULL(strstr(txt, "temperature 1.5000 (fitted on the val split, 9 records)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(txt, "after:  ECE 0.1250"));
    snprintf(path, sizeof path, "%s/reliability.svg", dir);
    char *svg = ecg_test_read_file(path);
    CU_ASSERT_PTR_NOT_NULL(svg && strstr(svg, "<svg"));
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = ecg_test_read_file(path);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "<h2>Calibration</h2>"));
    free(json), free(txt), free(svg), free(html);
    ecg_metrics_free(&m);
}

static const struct ecg_test tests[] = {
    {"a temperature divides the logits", a_temperature_divides_the_logits},
    {"ECE is the weighted gap between accuracy and confidence", ece_is_the_weighted_gap_between_accuracy_and_confidence},
    {"the fitted temperature matches a brute-force grid", the_fitted_temperature_matches_a_brute_force_grid},
    {"record probabilities average the windows in order", record_probabilities_average_the_windows_in_order},
    {"a fit without labels fails with a message", a_fit_without_labels_fails_with_a_message},
    {"the reports carry the calibration", the_reports_carry_the_calibration},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"calibration", tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
