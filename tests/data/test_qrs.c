/* Tests of the QRS detector (data/qrs), the beat matcher (eval/beat_match) and the ecgqrs program. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/qrs.h"
#include "data/readers.h"
#include "eval/beat_match.h"
#include "tests/test_util.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- synthetic ECG ---- */

/* A small deterministic generator: uniform in [0, 1). */
static double uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(*s >> 11) / 9007199254740992.0;
}

static void add_wave(float *x, int64_t n, double fs, double centre_s, double sigma_s, double mv)
{
    int64_t lo = (int64_t)((centre_s - 5 * sigma_s) * fs), hi = (int64_t)((centre_s + 5 * sigma_s) * fs);
    for (int64_t i = lo < 0 ? 0 : lo; i <= hi && i < n; i++) {
        double d = ((double)i / fs - centre_s) / sigma_s;
        x[i] += (float)(mv * exp(-0.5 * d * d));
    }
}

/*
 * `seconds` of ECG at fs: P, QRS (q, R, s) and T waves, RR 0.6-1.0 s (every
 * fifth beat premature at 0.45 s), baseline wander 0.6 mV at 0.3 Hz, mains
 * hum and uniform noise of `noise_mv`.  R peaks sit on samples; their
 * positions go to r (returns how many).
 */
static int64_t synthetic_ecg(float *x, int64_t n, double fs, double noise_mv, int64_t *r, int64_t cap)
{
    uint64_t s = 42;
    memset(x, 0, (size_t)n * sizeof *x);
    int64_t nr = 0;
    double t = 0.7;
    for (int k = 0; t < (double)n / fs - 0.6 && nr < cap; k++) {
        double rt = round(t * fs) / fs;
        r[nr++] = (int64_t)llround(rt * fs);
        add_wave(x, n, fs, rt - 0.16, 0.025, 0.15);
        add_wave(x, n, fs, rt - 0.025, 0.008, -0.15);
        add_wave(x, n, fs, rt, 0.010, 1.2);
        add_wave(x, n, fs, rt + 0.025, 0.008, -0.25);
        add_wave(x, n, fs, rt + 0.28, 0.045, 0.35);
        t += k % 5 == 3 ? 0.45 : 0.6 + 0.4 * uniform(&s);
    }
    for (int64_t i = 0; i < n; i++) {
        double ti = (double)i / fs;
        x[i] += (float)(0.6 * sin(2 * M_PI * 0.3 * ti) + 0.05 * sin(2 * M_PI * 50 * ti) +
                        noise_mv * (2 * uniform(&s) - 1));
    }
    return nr;
}

/* Detects on a synthetic record and checks every beat is found, nothing else, within 10 ms. */
static void check_synthetic(double fs, double noise_mv)
{
    int64_t n = (int64_t)(60 * fs), truth[200];
    float *x = malloc((size_t)n * sizeof *x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    int64_t nt = synthetic_ecg(x, n, fs, noise_mv, truth, 200);
    int64_t *p = NULL, np = 0;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_qrs_detect(x, n, fs, NULL, &p, &np, &err), ECG_OK);
    struct ecg_beat_counts c = {0};
    CU_ASSERT_EQUAL(ecg_beat_match(truth, nt, p, np, (int64_t)(0.15 * fs), NULL, 0, &c, &err), ECG_OK);
    CU_ASSERT_EQUAL(c.tp, nt);
    CU_ASSERT_EQUAL(c.fp, 0);
    CU_ASSERT_EQUAL(c.fn, 0);
    int64_t worst = 0;
    for (int64_t i = 0, j = 0; i < np && j < nt; i++) {
        while (j + 1 < nt && llabs(truth[j + 1] - p[i]) < llabs(truth[j] - p[i]))
            j++;
        worst = llabs(truth[j] - p[i]) > worst ? llabs(truth[j] - p[i]) : worst;
    }
    if ((double)worst > 0.01 * fs)
        printf("largest distance to the true R peak: %lld samples at %g Hz\n", (long long)worst, fs);
    CU_ASSERT_TRUE((double)worst <= 0.01 * fs);
    free(p);
    free(x);
}

static void every_beat_of_a_noisy_wandering_300_hz_ecg_is_found_at_its_r_peak(void)
{
    check_synthetic(300, 0.1);
}

static void every_beat_of_a_noisy_wandering_1024_hz_ecg_is_found_at_its_r_peak(void)
{
    check_synthetic(1024, 0.1);
}

static void every_beat_of_a_clean_360_hz_ecg_is_found_at_its_r_peak(void)
{
    check_synthetic(360, 0);
}

/* Matches the beats of truth and p at or after sample `from`. */
static struct ecg_beat_counts match_from(const int64_t *truth, int64_t nt, const int64_t *p, int64_t np,
                                         int64_t from, int64_t window)
{
    int64_t i = 0, j = 0;
    while (i < nt && truth[i] < from)
        i++;
    while (j < np && p[j] < from)
        j++;
    struct ecg_beat_counts c = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_beat_match(truth + i, nt - i, p + j, np - j, window, NULL, 0, &c, &err), ECG_OK);
    return c;
}

static void the_detector_follows_a_signal_that_shrinks_tenfold_within_six_seconds(void)
{
    double fs = 360;
    int64_t n = (int64_t)(60 * fs), truth[200];
    float *x = malloc((size_t)n * sizeof *x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    int64_t nt = synthetic_ecg(x, n, fs, 0, truth, 200);
    for (int64_t i = n / 2; i < n; i++)
        x[i] *= 0.1f;
    int64_t *p = NULL, np = 0;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_qrs_detect(x, n, fs, NULL, &p, &np, &err), ECG_OK);
    struct ecg_beat_counts all = match_from(truth, nt, p, np, 0, 54);
    struct ecg_beat_counts late = match_from(truth, nt, p, np, n / 2 + (int64_t)(6 * fs), 54);
    CU_ASSERT_EQUAL(all.fp, 0);
    CU_ASSERT_EQUAL(late.fn, 0);
    /* What is missed is missed while the levels come down, right after the drop. */
    int64_t before = 0;
    for (int64_t i = 0; i < nt; i++)
        before += truth[i] < n / 2;
    CU_ASSERT_EQUAL(all.tp + all.fn, nt);
    CU_ASSERT_TRUE(all.fn > 0 && all.fn <= (int64_t)(nt - before) - (late.tp + late.fn));
    free(p);
    free(x);
}

static void a_flat_signal_has_no_beats(void)
{
    float x[3600] = {0};
    int64_t *p = (int64_t *)1, n = -1;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_qrs_detect(x, 3600, 360, NULL, &p, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(p);
}

static void empty_short_nan_and_undersampled_signals_are_errors_that_say_why(void)
{
    float x[3600] = {0};
    int64_t *p = NULL, n = 0;
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(ecg_qrs_detect(x, 0, 360, NULL, &p, &n, &err), &err, ECG_ERR_VALUE,
                    "QRS detector: empty signal");
    ECG_CHECK_ERROR(ecg_qrs_detect(x, 500, 360, NULL, &p, &n, &err), &err, ECG_ERR_VALUE,
                    "signal of 500 samples (1.39 s at 360 Hz), expected at least 2 s");
    x[12] = NAN;
    ECG_CHECK_ERROR(ecg_qrs_detect(x, 3600, 360, NULL, &p, &n, &err), &err, ECG_ERR_VALUE,
                    "sample 12 is nan");
    x[12] = 0;
    ECG_CHECK_ERROR(ecg_qrs_detect(x, 3600, 25, NULL, &p, &n, &err), &err, ECG_ERR_RANGE,
                    "sampling rate 25 Hz cannot hold the 15 Hz band edge (expected > 30 Hz)");
    /* A rate no ECG is recorded at (a corrupt header): refused before any window in samples is computed. */
    ECG_CHECK_ERROR(ecg_qrs_detect(x, 3600, 7.8545930709357252608e19, NULL, &p, &n, &err), &err, ECG_ERR_RANGE,
                    "QRS detector: sampling rate 7.85459e+19 Hz, expected > 0 and at most 1e+06");
    ECG_CHECK_ERROR(ecg_qrs_detect(x, 3600, INFINITY, NULL, &p, &n, &err), &err, ECG_ERR_RANGE,
                    "QRS detector: sampling rate inf Hz, expected > 0 and at most 1e+06");
    struct ecg_qrs_opts o;
    ecg_qrs_opts_default(&o);
    o.threshold = 1.5;
    ECG_CHECK_ERROR(ecg_qrs_detect(x, 3600, 360, &o, &p, &n, &err), &err, ECG_ERR_RANGE,
                    "threshold 1.5, expected in (0, 1)");
    struct ecg_qrs_work w = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_qrs_work_init(&w, 1000, &err), ECG_OK);
    int64_t peaks[100];
    ECG_CHECK_ERROR(ecg_qrs_detect_into(x, 3600, 360, NULL, &w, peaks, &n, &err), &err, ECG_ERR_RANGE,
                    "workspace for 1000 samples, signal has 3600");
    ecg_qrs_work_free(&w);
    ecg_qrs_work_free(&w); /* freeing twice (a zeroed struct) is a no-op */
    CU_ASSERT_PTR_NULL(p);
}

static void one_workspace_serves_many_signals_with_the_same_beats(void)
{
    double fs = 300;
    int64_t n = (int64_t)(30 * fs), truth[100];
    float *x = malloc((size_t)n * sizeof *x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    synthetic_ecg(x, n, fs, 0.05, truth, 100);
    struct ecg_qrs_work w = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_qrs_work_init(&w, n, &err), ECG_OK);
    int64_t cap = ecg_qrs_max_beats(n, fs, NULL), *a = malloc((size_t)cap * sizeof *a),
            *b = malloc((size_t)cap * sizeof *b), na = 0, nb = 0;
    CU_ASSERT_FATAL(a && b);
    CU_ASSERT_EQUAL(ecg_qrs_detect_into(x, n, fs, NULL, &w, a, &na, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_qrs_detect_into(x, n / 2, fs, NULL, &w, b, &nb, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_qrs_detect_into(x, n, fs, NULL, &w, b, &nb, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(na, nb);
    CU_ASSERT_EQUAL(memcmp(a, b, (size_t)na * sizeof *a), 0);
    ecg_qrs_work_free(&w);
    free(a);
    free(b);
    free(x);
}

/* ---- MIT-BIH record 100 ---- */

/* Detects on the MLII signal of `hea` and compares with its .atr. */
static void compare_record(const char *dir, const char *name, struct ecg_beat_counts *c)
{
    char hea[2048], atr[2048];
    snprintf(hea, sizeof hea, "%s/%s.hea", dir, name);
    snprintf(atr, sizeof atr, "%s/%s.atr", dir, name);
    struct ecg_error err = {0};
    struct ecg_wfdb_header h;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_header(hea, &h, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(h.sig[0].description, "MLII");
    float *sig[ECG_WFDB_MAX_SIGNALS] = {0};
    int64_t len = 0, *p = NULL, np = 0, nann = 0, *ref = NULL, nref = 0, nspans = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_signals(hea, &h, sig, &len, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_qrs_detect(sig[0], len, h.fs, NULL, &p, &np, &err), ECG_OK);
    struct ecg_wfdb_annotation *ann = NULL;
    struct ecg_beat_span *spans = NULL;
    CU_ASSERT_EQUAL_FATAL(ecg_wfdb_read_annotations(atr, &ann, &nann, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_beat_reference(ann, nann, len - 1, &ref, &nref, &spans, &nspans, &err), ECG_OK);
    CU_ASSERT_EQUAL(nspans, 0);
    CU_ASSERT_EQUAL(ecg_beat_match(ref, nref, p, np, 54, spans, nspans, c, &err), ECG_OK);
    for (int s = 0; s < h.nsig; s++)
        free(sig[s]);
    free(p);
    free(ann);
    free(ref);
    free(spans);
}

static void the_first_30_s_of_record_100_give_every_annotated_beat_and_nothing_else(void)
{
    struct ecg_beat_counts c = {0};
    compare_record(ecg_test_fixture("data/mitdb"), "100", &c);
    /* The fixture's 38 annotations: a '+' (rhythm change) and 37 beats (36 N, 1 A). */
    CU_ASSERT_EQUAL(c.tp, 37);
    CU_ASSERT_EQUAL(c.fn, 0);
    CU_ASSERT_EQUAL(c.fp, 0);
}

static void the_whole_of_record_100_gives_its_2273_beats_and_nothing_else(void)
{
    const char *hea = ecg_test_shared("data/mitdb/100.hea");
    if (!hea)
        return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", (int)(strlen(hea) - strlen("/100.hea")), hea);
    struct ecg_beat_counts c = {0};
    compare_record(dir, "100", &c);
    CU_ASSERT_EQUAL(c.tp, 2273);
    CU_ASSERT_EQUAL(c.fn, 0);
    CU_ASSERT_EQUAL(c.fp, 0);
}

/* ---- the matcher ---- */

static struct ecg_beat_counts match(const int64_t *ref, int64_t nref, const int64_t *test, int64_t ntest,
                                    int64_t window)
{
    struct ecg_beat_counts c = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_beat_match(ref, nref, test, ntest, window, NULL, 0, &c, &err), ECG_OK);
    return c;
}

static void exact_matches_are_all_true_positives(void)
{
    const int64_t r[] = {100, 1100, 2100, 3100};
    struct ecg_beat_counts c = match(r, 4, r, 4, 150);
    CU_ASSERT_TRUE(c.tp == 4 && c.fp == 0 && c.fn == 0);
    CU_ASSERT_DOUBLE_EQUAL(ecg_beat_sensitivity(&c), 1.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(ecg_beat_ppv(&c), 1.0, 0);
}

static void a_detection_149_ms_off_matches_and_one_151_ms_off_does_not(void)
{
    /* 1000 Hz, so samples are milliseconds; the window is 150 ms. */
    const int64_t r[] = {1000, 2000, 3000};
    const int64_t early[] = {851, 1851, 2851}, late[] = {1149, 2149, 3149};
    const int64_t too_early[] = {849, 1849, 2849}, too_late[] = {1151, 2151, 3151};
    struct ecg_beat_counts c = match(r, 3, early, 3, 150);
    CU_ASSERT_TRUE(c.tp == 3 && c.fp == 0 && c.fn == 0);
    c = match(r, 3, late, 3, 150);
    CU_ASSERT_TRUE(c.tp == 3 && c.fp == 0 && c.fn == 0);
    c = match(r, 3, too_early, 3, 150);
    CU_ASSERT_TRUE(c.tp == 0 && c.fp == 3 && c.fn == 3);
    c = match(r, 3, too_late, 3, 150);
    CU_ASSERT_TRUE(c.tp == 0 && c.fp == 3 && c.fn == 3);
    const int64_t exactly[] = {850, 2150};
    c = match(r, 2, exactly, 2, 150); /* the window's edges are inside it */
    CU_ASSERT_TRUE(c.tp == 2 && c.fp == 0 && c.fn == 0);
}

static void extra_detections_are_false_positives_and_missed_beats_false_negatives(void)
{
    const int64_t r[] = {1000, 2000, 3000, 4000, 5000};
    const int64_t t[] = {1010, 1500, 2990, 3400, 5000, 6000};
    struct ecg_beat_counts c = match(r, 5, t, 6, 150);
    CU_ASSERT_EQUAL(c.tp, 3);
    CU_ASSERT_EQUAL(c.fp, 3);
    CU_ASSERT_EQUAL(c.fn, 2);
    CU_ASSERT_DOUBLE_EQUAL(ecg_beat_sensitivity(&c), 0.6, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(ecg_beat_ppv(&c), 0.5, 1e-12);
    c = match(r, 5, NULL, 0, 150);
    CU_ASSERT_TRUE(c.fn == 5 && c.tp == 0);
    CU_ASSERT_TRUE(isnan(ecg_beat_ppv(&c)));
    c = match(NULL, 0, t, 6, 150);
    CU_ASSERT_TRUE(c.fp == 6 && isnan(ecg_beat_sensitivity(&c)));
}

static void each_beat_is_used_once_and_the_closer_detection_wins(void)
{
    const int64_t r[] = {1000, 2000};
    const int64_t two[] = {960, 1010, 2000};
    struct ecg_beat_counts c = match(r, 2, two, 3, 150);
    CU_ASSERT_TRUE(c.tp == 2 && c.fp == 1 && c.fn == 0);
    /* One detection between two close reference beats pairs with one of them only. */
    const int64_t close_r[] = {1000, 1100}, one[] = {1050};
    c = match(close_r, 2, one, 1, 150);
    CU_ASSERT_TRUE(c.tp == 1 && c.fp == 0 && c.fn == 1);
}

static void unmatched_detections_inside_an_excluded_span_are_not_counted(void)
{
    const int64_t r[] = {1000, 5000};
    const int64_t t[] = {1000, 2500, 3000, 3500, 4200, 5000};
    const struct ecg_beat_span vf = {2000, 4000};
    struct ecg_beat_counts c = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_beat_match(r, 2, t, 6, 150, &vf, 1, &c, &err), ECG_OK);
    CU_ASSERT_TRUE(c.tp == 2 && c.fp == 1 && c.fn == 0); /* 4200 is after the span */
}

static void unordered_lists_and_negative_windows_are_errors_that_say_why(void)
{
    const int64_t good[] = {1, 2, 3}, bad[] = {1, 3, 2};
    struct ecg_beat_counts c = {0};
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(ecg_beat_match(good, 3, bad, 3, 10, NULL, 0, &c, &err), &err, ECG_ERR_VALUE,
                    "detected beat 2 at sample 2 follows one at 3: expected ascending positions");
    ECG_CHECK_ERROR(ecg_beat_match(bad, 3, good, 3, 10, NULL, 0, &c, &err), &err, ECG_ERR_VALUE,
                    "reference beat 2 at sample 2");
    ECG_CHECK_ERROR(ecg_beat_match(good, 3, good, 3, -1, NULL, 0, &c, &err), &err, ECG_ERR_RANGE,
                    "window of -1 samples, expected >= 0");
}

static void reference_beats_are_beat_labels_outside_flutter_episodes(void)
{
    /* N + | [ ! N ! ] V x ~ Q e [ ! (left open) */
    const int32_t codes[] = {1, 28, 16, 32, 31, 1, 31, 33, 5, 37, 14, 13, 34, 32, 31};
    struct ecg_wfdb_annotation ann[15];
    for (int i = 0; i < 15; i++) {
        ann[i].sample = 100 * (i + 1);
        ann[i].code = codes[i];
        ann[i].aami = -1;
    }
    int64_t *ref = NULL, nref = 0, nspans = 0;
    struct ecg_beat_span *spans = NULL;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_beat_reference(ann, 15, 9999, &ref, &nref, &spans, &nspans, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(nref, 4);
    CU_ASSERT_TRUE(ref[0] == 100 && ref[1] == 900 && ref[2] == 1200 && ref[3] == 1300);
    CU_ASSERT_EQUAL_FATAL(nspans, 2);
    CU_ASSERT_TRUE(spans[0].start == 400 && spans[0].end == 800);
    CU_ASSERT_TRUE(spans[1].start == 1400 && spans[1].end == 9999);
    free(ref);
    free(spans);
    ann[3].sample = 50;
    ECG_CHECK_ERROR(ecg_beat_reference(ann, 15, 9999, &ref, &nref, &spans, &nspans, &err), &err,
                    ECG_ERR_VALUE, "annotation 3 at sample 50 comes before the previous one (300)");
    CU_ASSERT_TRUE(ecg_beat_code_is_qrs(41) && ecg_beat_code_is_qrs(25) && !ecg_beat_code_is_qrs(31) &&
                   !ecg_beat_code_is_qrs(16));
}

/* ---- the ecgqrs program ---- */

/* Runs ecgqrs with `args`; returns its exit status, stdout and stderr in out. */
static int ecgqrs(const char *args, char *out, size_t cap)
{
    return ecg_test_run("ECGQRS", NULL, args, out, cap);
}

static void ecgqrs_lists_the_beats_of_record_100_and_compares_them_with_its_annotations(void)
{
    char out[16384], args[2048];
    const char *hea = ecg_test_fixture("data/mitdb/100.hea");
    snprintf(args, sizeof args, "'%s'", hea);
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "record\tsample\ttime_s\n100\t"));
    int lines = 0;
    for (const char *q = out; *q; q++)
        lines += *q == '\n';
    CU_ASSERT_EQUAL(lines, 1 + 37);
    snprintf(args, sizeof args, "--json '%s'", hea);
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"record\": \"100\", \"sample\": "));
    snprintf(args, sizeof args, "--compare '%s' '%s'", hea, hea);
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "100\t37\t37\t0\t0\t100.00\t100.00\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "gross\t74\t74\t0\t0\t100.00\t100.00\n"));
    /* From 20 s on: the 12 annotated beats of the last 10 s. */
    snprintf(args, sizeof args, "--compare --start 20 '%s'", hea);
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "gross\t12\t12\t0\t0\t100.00\t100.00\n"));
    snprintf(args, sizeof args, "--compare --threshold 0.25 --json '%s'", hea);
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"record\": \"gross\", \"reference\": 37, \"tp\": 37, \"fp\": 0"));
    snprintf(args, sizeof args, "--compare --window 0 '%s'", hea);
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 0);
    CU_ASSERT_PTR_NULL(strstr(out, "gross\t37\t37\t0\t0"));
}

static void ecgqrs_usage_errors_exit_2_and_runtime_errors_exit_1_with_a_message(void)
{
    char out[16384], args[2048];
    CU_ASSERT_EQUAL(ecgqrs("--help", out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "usage: ecgqrs"));
    CU_ASSERT_EQUAL(ecgqrs("--version", out, sizeof out), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgqrs " ECG_VERSION));
    CU_ASSERT_EQUAL(ecgqrs("", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgqrs: expected at least one RECORD.hea"));
    CU_ASSERT_EQUAL(ecgqrs("--bogus x.hea", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgqrs: unknown option '--bogus'\nusage: ecgqrs"));
    CU_ASSERT_EQUAL(ecgqrs("--window -1 x.hea", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--window '-1': expected seconds >= 0"));
    CU_ASSERT_EQUAL(ecgqrs("--threshold 1 x.hea", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--threshold '1': expected a number in (0, 1)"));
    CU_ASSERT_EQUAL(ecgqrs("--start -5 x.hea", out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--start '-5': expected seconds >= 0"));
    snprintf(args, sizeof args, "--channel 5 '%s'", ecg_test_fixture("data/mitdb/100.hea"));
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "channel 5 requested, the record has 2 signals"));
    CU_ASSERT_EQUAL(ecgqrs("/nonexistent/999.hea", out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "ecgqrs: /nonexistent/999.hea"));
    /* A record without annotations lists its beats but cannot be compared. */
    const char *dir = ecg_test_tmpdir();
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' '%s'", ecg_test_fixture("data/mitdb/100.hea"),
             ecg_test_fixture("data/mitdb/100.dat"), dir);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    snprintf(args, sizeof args, "'%s/100.hea'", dir);
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 0);
    snprintf(args, sizeof args, "--compare '%s/100.hea'", dir);
    CU_ASSERT_EQUAL(ecgqrs(args, out, sizeof out), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "100.atr"));
}

static const struct ecg_test qrs_tests[] = {
    {"every beat of a noisy, wandering 300 Hz ECG is found at its R peak",
     every_beat_of_a_noisy_wandering_300_hz_ecg_is_found_at_its_r_peak},
    {"every beat of a noisy, wandering 1024 Hz ECG is found at its R peak",
     every_beat_of_a_noisy_wandering_1024_hz_ecg_is_found_at_its_r_peak},
    {"every beat of a clean 360 Hz ECG is found at its R peak",
     every_beat_of_a_clean_360_hz_ecg_is_found_at_its_r_peak},
    {"the detector follows a signal that shrinks tenfold within six seconds",
     the_detector_follows_a_signal_that_shrinks_tenfold_within_six_seconds},
    {"a flat signal has no beats", a_flat_signal_has_no_beats},
    {"empty, short, NaN and undersampled signals are errors that say why",
     empty_short_nan_and_undersampled_signals_are_errors_that_say_why},
    {"one workspace serves many signals with the same beats",
     one_workspace_serves_many_signals_with_the_same_beats},
    {"the first 30 s of record 100 give every annotated beat and nothing else",
     the_first_30_s_of_record_100_give_every_annotated_beat_and_nothing_else},
    {"the whole of record 100 gives its 2273 beats and nothing else (when ../shared is present)",
     the_whole_of_record_100_gives_its_2273_beats_and_nothing_else},
    {NULL, NULL},
};

static const struct ecg_test match_tests[] = {
    {"exact matches are all true positives", exact_matches_are_all_true_positives},
    {"a detection 149 ms off matches and one 151 ms off does not",
     a_detection_149_ms_off_matches_and_one_151_ms_off_does_not},
    {"extra detections are false positives and missed beats false negatives",
     extra_detections_are_false_positives_and_missed_beats_false_negatives},
    {"each beat is used once and the closer detection wins",
     each_beat_is_used_once_and_the_closer_detection_wins},
    {"unmatched detections inside an excluded span are not counted",
     unmatched_detections_inside_an_excluded_span_are_not_counted},
    {"unordered lists and negative windows are errors that say why",
     unordered_lists_and_negative_windows_are_errors_that_say_why},
    {"reference beats are beat labels outside flutter episodes",
     reference_beats_are_beat_labels_outside_flutter_episodes},
    {NULL, NULL},
};

static const struct ecg_test tool_tests[] = {
    {"ecgqrs lists the beats of record 100 and compares them with its annotations",
     ecgqrs_lists_the_beats_of_record_100_and_compares_them_with_its_annotations},
    {"ecgqrs usage errors exit 2 and runtime errors exit 1 with a message",
     ecgqrs_usage_errors_exit_2_and_runtime_errors_exit_1_with_a_message},
    {NULL, NULL},
};

static const struct ecg_suite suites[] = {
    {"qrs", qrs_tests},
    {"beat_match", match_tests},
    {"ecgqrs", tool_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
