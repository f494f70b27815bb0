/* Tests of eval/metrics: known confusion matrices, sklearn-equivalent fixture values, edge cases, errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"
#include "eval/report.h"
#include "tests/optim/fxtext.h"
#include "tests/test_util.h"

static const char *const cinc_names[4] = {"N", "A", "O", "~"};

/* ---- hand-computed confusion matrices ---- */

/* rows true N, A, O; columns predicted */
static const int64_t cinc_cm[9] = {50, 2, 8, 3, 20, 2, 10, 1, 30};

static void a_known_confusion_matrix_gives_hand_computed_scores(void)
{
    struct ecg_metrics m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 3, cinc_names, cinc_cm, &err), ECG_OK);
    CU_ASSERT_EQUAL(m.n, 126);
    CU_ASSERT_DOUBLE_EQUAL(m.accuracy, 100.0 / 126.0, 1e-15);
    /* N: tp 50, row 60, column 63 */
    CU_ASSERT_DOUBLE_EQUAL(m.per_class[0].precision, 50.0 / 63.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(m.per_class[0].recall, 50.0 / 60.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(m.per_class[0].f1, 100.0 / 123.0, 1e-15);
    /* A: tp 20, row 25, column 23; O: tp 30, row 41, column 40 */
    CU_ASSERT_DOUBLE_EQUAL(m.per_class[1].f1, 40.0 / 48.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(m.per_class[2].f1, 60.0 / 81.0, 1e-15);
    CU_ASSERT_EQUAL(m.per_class[1].support, 25);
    CU_ASSERT_EQUAL(m.per_class[1].predicted, 23);
    double cinc = (100.0 / 123.0 + 40.0 / 48.0 + 60.0 / 81.0) / 3.0;
    CU_ASSERT_EQUAL(m.cinc[0], 0);
    CU_ASSERT_EQUAL(m.cinc[1], 1);
    CU_ASSERT_EQUAL(m.cinc[2], 2);
    CU_ASSERT_DOUBLE_EQUAL(m.cinc_f1, cinc, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(m.macro_f1, cinc, 1e-15); /* three classes: the same mean */
    CU_ASSERT_DOUBLE_EQUAL(m.weighted_f1, (60 * 100.0 / 123 + 25 * 40.0 / 48 + 41 * 60.0 / 81) / 126, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(m.cm_norm[2 * 3 + 0], 10.0 / 41.0, 1e-15);
    CU_ASSERT_TRUE(isnan(m.per_class[0].auc));
    CU_ASSERT_TRUE(isnan(m.roc_auc_macro));
    ecg_metrics_free(&m);
    ecg_metrics_free(&m); /* freeing a zeroed struct is a no-op */
}

static void a_class_without_support_or_predictions_scores_zero(void)
{
    const int64_t cm[9] = {5, 1, 0, 2, 4, 0, 0, 0, 0}; /* class 2: no row, no column */
    struct ecg_metrics m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 3, NULL, cm, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(m.names[2], "2");
    CU_ASSERT_EQUAL(m.per_class[2].precision, 0.0);
    CU_ASSERT_EQUAL(m.per_class[2].recall, 0.0);
    CU_ASSERT_EQUAL(m.per_class[2].f1, 0.0);
    CU_ASSERT_EQUAL(m.cm_norm[6] + m.cm_norm[7] + m.cm_norm[8], 0.0);
    /* macro averages count every class: (f1_0 + f1_1 + 0) / 3 */
    double f0 = 10.0 / 13.0, f1 = 8.0 / 11.0;
    CU_ASSERT_DOUBLE_EQUAL(m.macro_f1, (f0 + f1) / 3.0, 1e-15);
    CU_ASSERT_TRUE(isnan(m.cinc_f1)); /* names 0, 1, 2 are not N, A, O */
    ecg_metrics_free(&m);

    const int64_t never[4] = {3, 0, 2, 0}; /* class 1 has support 2 and is never predicted */
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 2, NULL, never, &err), ECG_OK);
    CU_ASSERT_EQUAL(m.per_class[1].precision, 0.0);
    CU_ASSERT_EQUAL(m.per_class[1].f1, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(m.per_class[0].precision, 0.6, 1e-15);
    ecg_metrics_free(&m);
}

static void cinc_classes_are_found_by_name_or_set_explicitly(void)
{
    const char *names[4] = {"Other", "noisy", "af", "NSR"};
    int64_t cm[16] = {0};
    for (int i = 0; i < 4; i++)
        cm[i * 4 + i] = 3 + i;
    cm[1] = 2;
    struct ecg_metrics m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 4, names, cm, &err), ECG_OK);
    CU_ASSERT_EQUAL(m.cinc[0], 3);
    CU_ASSERT_EQUAL(m.cinc[1], 2);
    CU_ASSERT_EQUAL(m.cinc[2], 0);
    CU_ASSERT_DOUBLE_EQUAL(m.cinc_f1, (1.0 + 1.0 + 6.0 / 8.0) / 3.0, 1e-15);
    CU_ASSERT_EQUAL(ecg_metrics_set_cinc(&m, 3, 1, 2, &err), ECG_OK);
    CU_ASSERT_DOUBLE_EQUAL(m.cinc_f1, (1.0 + 8.0 / 10.0 + 1.0) / 3.0, 1e-15);
    ECG_CHECK_ERROR(ecg_metrics_set_cinc(&m, 3, 4, 2, &err), &err, ECG_ERR_RANGE,
                    "class index 4 out of range [0, 4)");
    ECG_CHECK_ERROR(ecg_metrics_set_cinc(&m, 3, 3, 2, &err), &err, ECG_ERR_RANGE,
                    "class 3 ('NSR') given twice");
    ecg_metrics_free(&m);
}

static void roc_auc_counts_ties_as_half(void)
{
    const int truth[6] = {1, 1, 0, 0, 1, 0};
    const float probs[12] = {0.2f, 0.8f, 0.5f, 0.5f, 0.5f, 0.5f, 0.8f, 0.2f, 0.9f, 0.1f, 0.3f, 0.7f};
    double auc = 0;
    struct ecg_error err = {0};
    /* class 1: positives 0.8, 0.5, 0.1; negatives 0.5, 0.2, 0.7.
     * pairs won: 0.8 beats 3; 0.5 beats 0.2 and ties 0.5; 0.1 beats none -> 4.5 / 9 */
    CU_ASSERT_EQUAL(ecg_roc_auc_ovr(probs, 2, truth, 6, 1, &auc, &err), ECG_OK);
    CU_ASSERT_DOUBLE_EQUAL(auc, 4.5 / 9.0, 1e-15);
    /* one class: positives are truth == 0 */
    const int sep[4] = {1, 1, 0, 0};
    const float s[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    CU_ASSERT_EQUAL(ecg_roc_auc_ovr(s, 1, sep, 4, 0, &auc, &err), ECG_OK);
    CU_ASSERT_EQUAL(auc, 1.0);
    const int rev[4] = {0, 0, 1, 1};
    CU_ASSERT_EQUAL(ecg_roc_auc_ovr(s, 1, rev, 4, 0, &auc, &err), ECG_OK);
    CU_ASSERT_EQUAL(auc, 0.0);
    const int none[4] = {1, 1, 1, 1};
    CU_ASSERT_EQUAL(ecg_roc_auc_ovr(s, 1, none, 4, 0, &auc, &err), ECG_OK);
    CU_ASSERT_TRUE(isnan(auc));
}

/* ---- fixture cases: values computed with numpy by sklearn's formulas ---- */

static void check_vec(const char *label, const double *got, const struct fx_entry *want, int64_t n)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(want);
    CU_ASSERT_EQUAL_FATAL(want->count, n);
    CU_ASSERT_TRUE(ecg_test_close_double(label, got, want->v, n, 1e-12, 1e-15));
}

static void run_fixture_case(const struct fx *f, const char *name)
{
    int k = (int)fx_find(f, "%s.k", name)->v[0];
    const struct fx_entry *te = fx_find(f, "%s.truth", name), *pe = fx_find(f, "%s.pred", name);
    const struct fx_entry *probe = fx_find(f, "%s.probs", name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(te);
    int64_t n = te->count;
    int *truth = malloc((size_t)n * sizeof *truth), *pred = malloc((size_t)n * sizeof *pred);
    float *probs = malloc((size_t)(n * k) * sizeof *probs);
    fx_to_int(truth, te);
    fx_to_int(pred, pe);
    fx_to_float(probs, probe);
    struct ecg_metrics m, mp;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_compute(&m, k, cinc_names, truth, NULL, probs, n, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_compute(&mp, k, cinc_names, truth, pred, probs, n, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(m.cm, mp.cm, (size_t)(k * k) * sizeof *m.cm), 0); /* argmax = pred */
    double buf[64], sup[16];
    char label[128];
    for (int i = 0; i < k * k; i++)
        buf[i] = (double)m.cm[i];
    snprintf(label, sizeof label, "%s confusion matrix", name);
    check_vec(label, buf, fx_find(f, "%s.cm", name), k * k);
    snprintf(label, sizeof label, "%s normalised", name);
    check_vec(label, m.cm_norm, fx_find(f, "%s.cm_norm", name), k * k);
    static const char *const fields[] = {"precision", "recall", "f1", "auc"};
    for (int fi = 0; fi < 4; fi++) {
        for (int c = 0; c < k; c++) {
            const struct ecg_class_metrics *pc = &m.per_class[c];
            buf[c] = fi == 0 ? pc->precision : fi == 1 ? pc->recall : fi == 2 ? pc->f1 : pc->auc;
            sup[c] = (double)pc->support;
        }
        snprintf(label, sizeof label, "%s %s", name, fields[fi]);
        check_vec(label, buf, fx_find(f, "%s.%s", name, fields[fi]), k);
    }
    snprintf(label, sizeof label, "%s support", name);
    check_vec(label, sup, fx_find(f, "%s.support", name), k);
    const double scalars[] = {m.accuracy, m.macro_f1, m.weighted_f1, m.macro_precision,
                              m.macro_recall, m.cinc_f1, m.roc_auc_macro};
    static const char *const skeys[] = {"accuracy", "macro_f1", "weighted_f1", "macro_precision",
                                        "macro_recall", "cinc_f1", "roc_auc_macro"};
    for (int i = 0; i < 7; i++) {
        snprintf(label, sizeof label, "%s %s", name, skeys[i]);
        check_vec(label, &scalars[i], fx_find(f, "%s.%s", name, skeys[i]), 1);
    }
    ecg_metrics_free(&m);
    ecg_metrics_free(&mp);
    free(truth);
    free(pred);
    free(probs);
}

static void metrics_match_sklearn_formulas_on_fixture_cases(void)
{
    struct fx f;
    CU_ASSERT_TRUE_FATAL(fx_load(&f, "optim/metrics.txt"));
    run_fixture_case(&f, "cinc4");
    run_fixture_case(&f, "never_predicted");
    run_fixture_case(&f, "no_support");
    run_fixture_case(&f, "absent");
    fx_free(&f);
}

static void all_tied_scores_give_an_auc_of_one_half(void)
{
    struct fx f;
    CU_ASSERT_TRUE_FATAL(fx_load(&f, "optim/metrics.txt"));
    run_fixture_case(&f, "all_tied");
    fx_free(&f);
}

/* ---- errors ---- */

static void bad_labels_and_probabilities_are_rejected_with_the_example_named(void)
{
    struct ecg_metrics m;
    struct ecg_error err = {0};
    const int truth[3] = {0, 1, 3}, pred[3] = {0, 1, 1};
    ECG_CHECK_ERROR(ecg_metrics_compute(&m, 3, NULL, truth, pred, NULL, 3, &err), &err, ECG_ERR_RANGE,
                    "example 2 has true label 3, expected 0 to 2");
    const int t2[3] = {0, 1, 2}, p2[3] = {0, -1, 1};
    ECG_CHECK_ERROR(ecg_metrics_compute(&m, 3, NULL, t2, p2, NULL, 3, &err), &err, ECG_ERR_RANGE,
                    "example 1 has predicted label -1");
    const float probs[6] = {0.5f, 0.5f, NAN, 1.0f, 0.2f, 0.8f};
    const char *names[2] = {"N", "A"};
    ECG_CHECK_ERROR(ecg_metrics_compute(&m, 2, names, t2, NULL, probs, 3, &err), &err, ECG_ERR_VALUE,
                    "example 1 has a NaN probability for class 'N'");
    ECG_CHECK_ERROR(ecg_metrics_compute(&m, 2, names, t2, p2, NULL, 0, &err), &err, ECG_ERR_VALUE,
                    "no examples");
    ECG_CHECK_ERROR(ecg_metrics_compute(&m, 0, names, t2, p2, NULL, 3, &err), &err, ECG_ERR_RANGE,
                    "0 classes");
    const int64_t zero[4] = {0, 0, 0, 0}, neg[4] = {1, -2, 0, 1};
    ECG_CHECK_ERROR(ecg_metrics_from_confusion(&m, 2, names, zero, &err), &err, ECG_ERR_VALUE,
                    "empty confusion matrix");
    ECG_CHECK_ERROR(ecg_metrics_from_confusion(&m, 2, names, neg, &err), &err, ECG_ERR_VALUE,
                    "count -2 at (true N, predicted A)");
    CU_ASSERT_PTR_NULL(m.cm); /* a failed call leaves nothing to free */
}

static void aami_figures_of_a_known_beat_matrix_are_the_hand_computed_ones(void)
{
    /* rows true N, S, V, F, Q; columns predicted in the same order */
    const int64_t cm[25] = {90, 5, 3, 1, 1, /* N */
                            4, 15, 1, 0, 0, /* S */
                            2, 1, 25, 2, 0, /* V */
                            1, 0, 3, 6, 0,  /* F */
                            1, 1, 0, 0, 2}; /* Q: never a false positive of another class */
    const char *names[5] = {"N", "S", "V", "F", "Q"};
    struct ecg_metrics m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 5, names, cm, &err), ECG_OK);
    CU_ASSERT_FALSE(m.has_aami);
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_find_aami(&m, &err), ECG_OK);
    const struct ecg_aami *a = &m.aami;
    /* TP, FN (row minus TP, Q column included), FP (column over true N, S, V, F minus TP) */
    const int64_t want[4][3] = {{90, 10, 7}, {15, 5, 6}, {25, 5, 7}, {6, 4, 3}};
    const double se[4] = {0.9, 0.75, 25.0 / 30, 0.6}, ppv[4] = {90.0 / 97, 15.0 / 21, 25.0 / 32, 6.0 / 9},
                 f1[4] = {180.0 / 197, 30.0 / 41, 50.0 / 62, 12.0 / 19};
    double macro = 0;
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(a->cls[i].index, i);
        CU_ASSERT_EQUAL(a->cls[i].tp, want[i][0]);
        CU_ASSERT_EQUAL(a->cls[i].fn, want[i][1]);
        CU_ASSERT_EQUAL(a->cls[i].fp, want[i][2]);
        CU_ASSERT_DOUBLE_EQUAL(a->cls[i].se, se[i], 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(a->cls[i].ppv, ppv[i], 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(a->cls[i].f1, f1[i], 1e-12);
        macro += f1[i] / 4;
    }
    CU_ASSERT_EQUAL(a->n, 160);
    CU_ASSERT_DOUBLE_EQUAL(a->accuracy, 136.0 / 160, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(a->macro_f1, macro, 1e-12);
    CU_ASSERT_EQUAL(a->q, 4);
    CU_ASSERT_EQUAL(a->q_support, 4);
    CU_ASSERT_EQUAL(a->q_predicted, 1);
    /* metrics.json and the text report carry them. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ecg_metrics_write_json(f, &m);
    ecg_report_write_text(f, &m);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"aami\": {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"q_support\": 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"fp\": 7"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "AAMI EC57 (Q apart): 160 beats of N, S, V, F, accuracy 0.8500"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "Q: 4 true Q beats (not scored); 1 beats of N, S, V, F labelled Q"));
    free(text);
    /* Without Q the figures stand; without F they cannot be made. */
    CU_ASSERT_EQUAL(ecg_metrics_set_aami(&m, 0, 1, 2, 3, -1, &err), ECG_OK);
    CU_ASSERT_EQUAL(m.aami.q_predicted, 0);
    ECG_CHECK_ERROR(ecg_metrics_set_aami(&m, 0, 1, 2, 2, -1, &err), &err, ECG_ERR_RANGE,
                    "AAMI figures: class 2 ('V') given twice");
    ecg_metrics_free(&m);
    const char *rhythm[4] = {"AF", "NSR", "Noise", "Other"};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 4, rhythm, cm, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_metrics_find_aami(&m, &err), &err, ECG_ERR_VALUE, "AAMI figures: the classes have no 'N'");
    ecg_metrics_free(&m);
}

static void breakdown_counts_predictions_by_fine_label_in_class_then_label_order(void)
{
    /* classes N, S, V; fine labels as MIT-BIH symbols, one example without any */
    const char *names[3] = {"N", "S", "V"};
    const char *label[7] = {"N", "L", "L", "A", NULL, "L", "V"};
    const int truth[7] = {0, 0, 0, 1, 0, 0, 2};
    const float probs[7 * 3] = {.9f, .05f, .05f, /* N -> N */
                                .1f, .1f, .8f,   /* L -> V */
                                .6f, .2f, .2f,   /* L -> N */
                                .3f, .7f, 0,     /* A -> S */
                                0, 0, 1,         /* no label: left out */
                                .2f, .1f, .7f,   /* L -> V */
                                .5f, 0, .5f};    /* V -> N: the first of tied maxima */
    struct ecg_metrics m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_compute(&m, 3, names, truth, NULL, probs, 7, &err), ECG_OK);
    CU_ASSERT_EQUAL(m.breakdowns, 0);
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_add_breakdown(&m, "breakdown", "symbol", label, truth, probs, 7, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(m.breakdowns, 1);
    const struct ecg_breakdown *b = &m.breakdown[0];
    CU_ASSERT_EQUAL_FATAL(b->rows, 4);
    const char *want_label[4] = {"L", "N", "A", "V"};
    const int64_t want_n[4] = {3, 1, 1, 1}, want_pred[4][3] = {{1, 0, 2}, {1, 0, 0}, {0, 1, 0}, {1, 0, 0}};
    for (int r = 0; r < 4; r++) {
        CU_ASSERT_STRING_EQUAL(b->row[r].label, want_label[r]);
        CU_ASSERT_EQUAL(b->row[r].n, want_n[r]);
        for (int p = 0; p < 3; p++)
            CU_ASSERT_EQUAL(b->predicted[r * 3 + p], want_pred[r][p]);
    }
    CU_ASSERT_EQUAL(b->row[0].truth, 0);
    CU_ASSERT_EQUAL(b->row[2].truth, 1);
    /* A second breakdown by record: a record with beats of two classes has a row for each. */
    const char *record[7] = {"100", "100", "203", "203", NULL, "203", "203"};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_add_breakdown(&m, "breakdown_records", "record", record, truth, probs, 7, &err),
                          ECG_OK);
    CU_ASSERT_EQUAL_FATAL(m.breakdowns, 2);
    b = &m.breakdown[1];
    CU_ASSERT_EQUAL_FATAL(b->rows, 4);
    const char *want_record[4] = {"100", "203", "203", "203"};
    const int want_truth[4] = {0, 0, 1, 2};
    const int64_t want_rn[4] = {2, 2, 1, 1}, want_rpred[4][3] = {{1, 0, 1}, {1, 0, 1}, {0, 1, 0}, {1, 0, 0}};
    for (int r = 0; r < 4; r++) {
        CU_ASSERT_STRING_EQUAL(b->row[r].label, want_record[r]);
        CU_ASSERT_EQUAL(b->row[r].truth, want_truth[r]);
        CU_ASSERT_EQUAL(b->row[r].n, want_rn[r]);
        for (int p = 0; p < 3; p++)
            CU_ASSERT_EQUAL(b->predicted[r * 3 + p], want_rpred[r][p]);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ecg_metrics_write_json(f, &m);
    ecg_report_write_text(f, &m);
    fclose(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"breakdown\": {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"breakdown_records\": {"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"label\": \"L\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"label\": \"203\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "by symbol (rows: true label, columns: predicted)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "by record (rows: true label, columns: predicted)"));
    free(text);
    /* Bad classes, labels and a third key are refused, naming the example; the metrics keep their breakdowns. */
    const int bad_truth[2] = {0, 3};
    ECG_CHECK_ERROR(ecg_metrics_add_breakdown(&m, "breakdown", "symbol", label, bad_truth, probs, 2, &err), &err,
                    ECG_ERR_RANGE, "symbol breakdown: example 1 has class 3, expected [0, 3)");
    const char *long_label[1] = {"a label far too long: longer than any record id that a breakdown will ever hold"};
    ECG_CHECK_ERROR(ecg_metrics_add_breakdown(&m, "breakdown", "symbol", long_label, truth, probs, 1, &err), &err,
                    ECG_ERR_VALUE,
                    "symbol breakdown: example 0's label 'a label far too long: longer than any re' is longer than 63 "
                    "bytes");
    ECG_CHECK_ERROR(ecg_metrics_add_breakdown(&m, "breakdown_third", "third", label, truth, probs, 7, &err), &err,
                    ECG_ERR_RANGE, "breakdown 'breakdown_third': the metrics hold 2 already ('breakdown', 'breakdown_records')");
    ECG_CHECK_ERROR(ecg_metrics_add_breakdown(&m, "a key much longer than thirty-one bytes", "long", label, truth, probs,
                                              7, &err),
                    &err, ECG_ERR_VALUE, "breakdown key 'a key much longer than thirty-one bytes': longer than 31 bytes");
    /* A third key without any labelled example is no breakdown, so nothing to refuse. */
    const char *unlabelled[2] = {NULL, NULL};
    CU_ASSERT_EQUAL(ecg_metrics_add_breakdown(&m, "breakdown_third", "third", unlabelled, truth, probs, 2, &err), ECG_OK);
    CU_ASSERT_EQUAL(m.breakdowns, 2);
    CU_ASSERT_EQUAL(m.breakdown[0].rows, 4);
    /* The same key again replaces its breakdown; one without any labelled example takes it away. */
    CU_ASSERT_EQUAL(ecg_metrics_add_breakdown(&m, "breakdown", "symbol", label, truth, probs, 2, &err), ECG_OK);
    CU_ASSERT_EQUAL(m.breakdowns, 2);
    CU_ASSERT_EQUAL(m.breakdown[0].rows, 2);
    CU_ASSERT_EQUAL(ecg_metrics_add_breakdown(&m, "breakdown", "symbol", unlabelled, truth, probs, 2, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(m.breakdowns, 1);
    CU_ASSERT_STRING_EQUAL(m.breakdown[0].key, "breakdown_records");
    ecg_metrics_free(&m);
}

static const struct ecg_test metric_tests[] = {
    {"a known confusion matrix gives hand-computed scores and the CinC score", a_known_confusion_matrix_gives_hand_computed_scores},
    {"a class without support or predictions scores zero", a_class_without_support_or_predictions_scores_zero},
    {"CinC classes are found by name or set explicitly", cinc_classes_are_found_by_name_or_set_explicitly},
    {"ROC-AUC counts ties as half", roc_auc_counts_ties_as_half},
    {"AAMI figures of a known beat matrix are the hand-computed ones",
     aami_figures_of_a_known_beat_matrix_are_the_hand_computed_ones},
    {"a breakdown counts predictions by fine label, in class then label order",
     breakdown_counts_predictions_by_fine_label_in_class_then_label_order},
    {"metrics match sklearn's formulas on fixture cases, including absent classes", metrics_match_sklearn_formulas_on_fixture_cases},
    {"all-tied scores give an AUC of one half", all_tied_scores_give_an_auc_of_one_half},
    {"bad labels and probabilities are rejected with the example named", bad_labels_and_probabilities_are_rejected_with_the_example_named},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"metrics", metric_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
