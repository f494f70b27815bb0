/* Tests of a record's RR-interval features (data/rhythm_features), the RR fusion (eval/rr_fusion) and its place in
 * model files (io/model_file). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/rhythm_features.h"
#include "eval/rr_fusion.h"
#include "io/h5util.h"
#include "io/model_file.h"
#include "tests/test_util.h"

#define NF ECG_RHYTHM_FEATURES

static bool near(double a, double b, double tol) { return fabs(a - b) <= tol; }

/* ---- features ---- */

static void regular_beats_have_no_irregularity(void)
{
    double t[40];
    for (int i = 0; i < 40; i++)
        t[i] = 0.5 + 0.8 * i;
    float f[NF];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rhythm_features_from_beats(t, 40, f, &err), ECG_OK);
    for (int j = 0; j < 4; j++)
        CU_ASSERT_TRUE(near(f[j], 0, 1e-6));
    CU_ASSERT_TRUE(near(f[4], log(0.8), 1e-6));
    CU_ASSERT_TRUE(near(f[5], 40 / (0.8 * 39), 1e-6));
    CU_ASSERT_TRUE(near(f[6], 0, 1e-6));
    CU_ASSERT_TRUE(near(f[7], 0, 1e-6));
}

/* Five beats worked by hand: intervals 1, 0.5, 1, 0.8. */
static void features_of_five_beats_by_hand(void)
{
    const double t[5] = {0, 1, 1.5, 2.5, 3.3};
    float f[NF];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rhythm_features_from_beats(t, 5, f, &err), ECG_OK);
    /* steps |ln(rr[i+1] / rr[i])|: ln 2, ln 2, ln 1.25; sorted ln 1.25, ln 2, ln 2 */
    const double l2 = log(2), l125 = log(1.25);
    CU_ASSERT_TRUE(near(f[0], l2, 1e-6));                      /* median */
    CU_ASSERT_TRUE(near(f[1], (2 * l2 + l125) / 3, 1e-6));     /* mean */
    const double lr[4] = {0, log(0.5), 0, log(0.8)};
    double mean = (lr[1] + lr[3]) / 4, var = 0;
    for (int i = 0; i < 4; i++)
        var += (lr[i] - mean) * (lr[i] - mean) / 4;
    CU_ASSERT_TRUE(near(f[2], sqrt(var), 1e-6));               /* population standard deviation of ln rr */
    CU_ASSERT_TRUE(near(f[3], 1.0, 1e-6));                     /* |0.5|, |0.5|, |0.2| all over 50 ms */
    CU_ASSERT_TRUE(near(f[4], log(0.9), 1e-6));                /* median of 0.5, 0.8, 1, 1 */
    CU_ASSERT_TRUE(near(f[5], 5 / 3.3, 1e-6));
    CU_ASSERT_TRUE(near(f[6], l2, 1e-6));                      /* 75th percentile: between ln 2 and ln 2 */
    CU_ASSERT_TRUE(near(f[7], 1.0, 1e-6));
}

static void fewer_than_four_beats_measure_nothing(void)
{
    const double t[3] = {0, 1, 2};
    float f[NF];
    struct ecg_error err = {0};
    for (int n = 0; n <= 3; n++) {
        memset(f, 0x7f, sizeof f);
        CU_ASSERT_EQUAL(ecg_rhythm_features_from_beats(t, n, f, &err), ECG_OK);
        for (int j = 0; j < NF; j++)
            CU_ASSERT_EQUAL(f[j], 0);
    }
}

/* Gaussian R waves at the given beat times on a quiet baseline, fs Hz. */
static float *synthetic(const double *beats, int nbeats, double seconds, double fs, int64_t *n)
{
    *n = (int64_t)(seconds * fs);
    float *x = calloc((size_t)*n, sizeof *x);
    for (int b = 0; b < nbeats; b++)
        for (int64_t i = 0; i < *n; i++) {
            double d = ((double)i / fs - beats[b]) / 0.012;
            if (fabs(d) < 6)
                x[i] += (float)exp(-0.5 * d * d);
        }
    return x;
}

/* From a signal: the detector's beats give a regular rhythm zero irregularity and an irregular one much more. */
static void a_signal_irregular_beat_to_beat_measures_irregular(void)
{
    double regular[40], irregular[40];
    int nr = 0, ni = 0;
    for (double t = 0.6; t < 29.5; t += 0.75)
        regular[nr++] = t;
    uint64_t s = 7;
    for (double t = 0.6; t < 29.5 && ni < 40;) {
        irregular[ni++] = t;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        t += 0.4 + 0.6 * (double)(s >> 11) / 9007199254740992.0; /* 0.4-1.0 s, uniform */
    }
    const double fs = 300;
    int64_t n;
    float fr[NF], fi[NF];
    struct ecg_error err = {0};
    float *x = synthetic(regular, nr, 30, fs, &n);
    CU_ASSERT_EQUAL_FATAL(ecg_rhythm_features(x, n, fs, fr, &err), ECG_OK);
    free(x);
    x = synthetic(irregular, ni, 30, fs, &n);
    CU_ASSERT_EQUAL_FATAL(ecg_rhythm_features(x, n, fs, fi, &err), ECG_OK);
    free(x);
    CU_ASSERT_TRUE(fr[0] < 0.02 && fr[3] < 0.05);     /* sample rounding only */
    CU_ASSERT_TRUE(near(fr[4], log(0.75), 0.01));
    CU_ASSERT_TRUE(near(fr[5], nr / (0.75 * (nr - 1)), 0.02)); /* beats over the first-to-last span */
    CU_ASSERT_TRUE(fi[0] > 0.1 && fi[3] > 0.5 && fi[2] > 0.15);
    if (!(fi[0] > 0.1 && fi[3] > 0.5 && fi[2] > 0.15))
        printf("\n  irregular: median step %.3f, jumps %.3f, sd %.3f\n", fi[0], fi[3], fi[2]);
    /* Too short for the detector, or flat: no rhythm, no error. */
    static float flat[9000];
    for (int64_t len = 300; len <= 9000; len += 8700) {
        memset(fr, 0x7f, sizeof fr);
        CU_ASSERT_EQUAL(ecg_rhythm_features(flat, len, fs, fr, &err), ECG_OK);
        for (int j = 0; j < NF; j++)
            CU_ASSERT_EQUAL(fr[j], 0);
    }
    /* What the detector refuses otherwise is an error that says so. */
    flat[4000] = NAN;
    CU_ASSERT_EQUAL(ecg_rhythm_features(flat, 9000, fs, fr, &err), ECG_ERR_VALUE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "RR features: "));
}

/* ---- the fusion ---- */

enum { K = 4, N = 400 };

/* Records whose class shows only in feature 0 (the probabilities say nothing), labelled 0..3 in turn. */
static void uninformative_records(float *probs, float *features, int *truth)
{
    uint64_t s = 11;
    for (int i = 0; i < N; i++) {
        truth[i] = i % K;
        for (int c = 0; c < K; c++)
            probs[i * K + c] = 0.25f;
        for (int j = 0; j < NF; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            features[i * NF + j] = (float)((double)(s >> 11) / 9007199254740992.0);
        }
        features[i * NF] += (float)truth[i]; /* separable by feature 0 */
    }
}

static int argmax(const float *p, int k)
{
    int best = 0;
    for (int c = 1; c < k; c++)
        if (p[c] > p[best])
            best = c;
    return best;
}

/* A fusion fitted on uninformative_records. */
static void fit_on_uninformative_records(struct ecg_rr_fusion *f)
{
    static float probs[N * K], features[N * NF];
    static int truth[N];
    uninformative_records(probs, features, truth);
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rr_fusion_fit(f, probs, features, truth, N, K, &err), ECG_OK);
}

static void the_fusion_learns_what_the_features_tell(void)
{
    static float probs[N * K], features[N * NF];
    static int truth[N];
    uninformative_records(probs, features, truth);
    struct ecg_rr_fusion f, again;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rr_fusion_fit(&f, probs, features, truth, N, K, &err), ECG_OK);
    CU_ASSERT_EQUAL(f.classes, K);
    CU_ASSERT_EQUAL(ecg_rr_fusion_check(&f, K, "fit", &err), ECG_OK);
    int right = 0;
    for (int i = 0; i < N; i++) {
        float p[K];
        memcpy(p, probs + i * K, sizeof p);
        ecg_rr_fusion_apply(&f, p, features + i * NF);
        double sum = 0;
        for (int c = 0; c < K; c++)
            sum += p[c];
        CU_ASSERT_TRUE(near(sum, 1, 1e-5));
        right += argmax(p, K) == truth[i];
    }
    CU_ASSERT_TRUE(right > 0.9 * N);
    if (!(right > 0.9 * N))
        printf("\n  %d of %d right\n", right, N);
    /* Deterministic: the same fit, bit for bit. */
    CU_ASSERT_EQUAL_FATAL(ecg_rr_fusion_fit(&again, probs, features, truth, N, K, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(&f, &again, sizeof f), 0);
    /* No fusion (0 classes) leaves the probabilities alone. */
    struct ecg_rr_fusion none = {0};
    float p[K] = {0.1f, 0.2f, 0.3f, 0.4f}, q[K];
    memcpy(q, p, sizeof p);
    ecg_rr_fusion_apply(&none, p, features);
    CU_ASSERT_EQUAL(memcmp(p, q, sizeof p), 0);
}

/* When the probabilities are right and the features noise, the fusion keeps the probabilities' answers. */
static void the_fusion_keeps_what_the_probabilities_tell(void)
{
    static float probs[N * K], features[N * NF];
    static int truth[N];
    uninformative_records(probs, features, truth);
    for (int i = 0; i < N; i++) {
        features[i * NF] -= (float)truth[i]; /* noise only */
        for (int c = 0; c < K; c++)
            probs[i * K + c] = c == truth[i] ? 0.7f : 0.1f;
        if (i % 10 == 0) /* a tenth wrong, confidently */
            for (int c = 0; c < K; c++)
                probs[i * K + c] = c == (truth[i] + 1) % K ? 0.7f : 0.1f;
    }
    struct ecg_rr_fusion f;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rr_fusion_fit(&f, probs, features, truth, N, K, &err), ECG_OK);
    int same = 0;
    for (int i = 0; i < N; i++) {
        float p[K];
        memcpy(p, probs + i * K, sizeof p);
        ecg_rr_fusion_apply(&f, p, features + i * NF);
        same += argmax(p, K) == argmax(probs + i * K, K);
    }
    CU_ASSERT_TRUE(same > 0.97 * N);
}

static void a_fusion_that_cannot_be_fitted_says_why(void)
{
    float probs[2 * K] = {0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f}, features[2 * NF] = {0};
    int unlabelled[2] = {-1, -1}, labelled[2] = {0, 1};
    struct ecg_rr_fusion f;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL(ecg_rr_fusion_fit(&f, probs, features, unlabelled, 2, K, &err), ECG_ERR_VALUE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no record of the fitting split has a label"));
    CU_ASSERT_EQUAL(f.classes, 0);
    CU_ASSERT_EQUAL(ecg_rr_fusion_fit(&f, probs, features, labelled, 2, 1, &err), ECG_ERR_RANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "expected 2 to 16 classes, found 1"));
    features[NF + 3] = NAN;
    CU_ASSERT_EQUAL(ecg_rr_fusion_fit(&f, probs, features, labelled, 2, K, &err), ECG_ERR_VALUE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "record 1 of the fitting split has a non-finite feature 3"));
    CU_ASSERT_EQUAL(f.classes, 0);
}

/* ---- in model files ---- */

/* A file with a model file's metadata group and nothing else: all the fusion's readers need. */
static const char *bare_model_file(const char *name)
{
    const char *path = ecg_test_fmt("%s/%s", ecg_test_tmpdir(), name);
    hid_t file, g;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_h5_create(path, &file, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_create_group(file, ECG_MODEL_GROUP, &g, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_write_string(g, "config_yaml", "{}", &err), ECG_OK);
    ecg_h5_close(g);
    ecg_h5_close(file);
    return path;
}

static void a_model_file_keeps_its_fusion(void)
{
    struct ecg_rr_fusion f, back;
    struct ecg_error err = {0};
    fit_on_uninformative_records(&f);
    const char *path = bare_model_file("fusion.h5");
    CU_ASSERT_EQUAL(ecg_model_file_rr_fusion(path, K, &back, &err), ECG_OK);
    CU_ASSERT_EQUAL(back.classes, 0); /* none yet */
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_set_rr_fusion(path, &f, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_rr_fusion(path, K, &back, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(&f, &back, sizeof f), 0);
    /* Stored again (a refit) it replaces the first; a fusion of 0 classes removes it. */
    f.weights[3] += 1;
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_set_rr_fusion(path, &f, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_rr_fusion(path, K, &back, &err), ECG_OK);
    CU_ASSERT_EQUAL(back.weights[3], f.weights[3]);
    /* Read for a model of another class count: refused, naming the file and both shapes. */
    CU_ASSERT_EQUAL(ecg_model_file_rr_fusion(path, 5, &back, &err), ECG_ERR_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "fusion.h5: rr_fusion/weights: expected shape (9, 5), found a 2-d array (9, 4)"));
    CU_ASSERT_EQUAL(back.classes, 0);
    struct ecg_rr_fusion none = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_set_rr_fusion(path, &none, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_rr_fusion(path, K, &back, &err), ECG_OK);
    CU_ASSERT_EQUAL(back.classes, 0);
}

static void a_corrupt_fusion_is_refused_with_the_file_named(void)
{
    struct ecg_rr_fusion f, back;
    struct ecg_error err = {0};
    fit_on_uninformative_records(&f);
    /* Non-finite or non-positive numbers are refused before they are written ... */
    const char *path = bare_model_file("corrupt.h5");
    struct ecg_rr_fusion bad = f;
    bad.scale[2] = 0;
    CU_ASSERT_EQUAL(ecg_model_file_set_rr_fusion(path, &bad, &err), ECG_ERR_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "corrupt.h5: RR fusion feature 2: mean"));
    /* ... and when read from a file that holds them. */
    hid_t file, g;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(path, &file, &err), ECG_OK);
    ecg_h5_close(file);
    file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_TRUE_FATAL(file >= 0);
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_group(file, ECG_MODEL_GROUP, &g, &err), ECG_OK);
    const int64_t features = NF, shape[2] = {NF + 1, K};
    f.weights[5] = NAN;
    CU_ASSERT_EQUAL(ecg_h5_write_doubles(g, "rr_fusion/mean", 1, &features, f.mean, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_h5_write_doubles(g, "rr_fusion/scale", 1, &features, f.scale, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_h5_write_doubles(g, "rr_fusion/weights", 2, shape, f.weights, &err), ECG_OK);
    ecg_h5_close(g);
    ecg_h5_close(file);
    CU_ASSERT_EQUAL(ecg_model_file_rr_fusion(path, K, &back, &err), ECG_ERR_FORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "corrupt.h5: RR fusion weight 5 is nan"));
    CU_ASSERT_EQUAL(back.classes, 0);
}

/* The standardised features of a regular 75-per-minute rhythm: no irregularity is below the records' mean
 * (negative), the rate near it; each feature moves by its own scale. */
static void standardised_features_are_centred_on_ecg_records(void)
{
    double t[40];
    for (int i = 0; i < 40; i++)
        t[i] = 0.8 * i;
    float f[ECG_RHYTHM_FEATURES], g[ECG_RHYTHM_FEATURES];
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_rhythm_features_from_beats(t, 40, f, &err), ECG_OK);
    memcpy(g, f, sizeof f);
    ecg_rhythm_features_standardize(g);
    for (int j = 0; j < ECG_RHYTHM_FEATURES; j++)
        CU_ASSERT_TRUE(isfinite(g[j]) && fabsf(g[j]) < 3.0f);
    for (int j = 0; j < 4; j++) /* the irregularities are 0: below every record's mean */
        CU_ASSERT_TRUE(g[j] < -0.5f);
    /* ln 0.8 s = -0.223 against a mean of -0.205: about the records' mean rate */
    CU_ASSERT_DOUBLE_EQUAL(g[4], (logf(0.8f) + 0.205f) / 0.235f, 1e-5);
    /* every feature moves by its own scale: one more step of f[0] is 1 / 0.130 of a standard deviation */
    f[0] += 0.130f;
    ecg_rhythm_features_standardize(f);
    CU_ASSERT_DOUBLE_EQUAL(f[0] - g[0], 1.0, 1e-5);
}

static const struct ecg_test feature_tests[] = {
    {"regular beats have no irregularity", regular_beats_have_no_irregularity},
    {"features of five beats by hand", features_of_five_beats_by_hand},
    {"fewer than four beats measure nothing", fewer_than_four_beats_measure_nothing},
    {"a signal irregular beat to beat measures irregular", a_signal_irregular_beat_to_beat_measures_irregular},
    {"standardised features are centred on ECG records", standardised_features_are_centred_on_ecg_records},
    {NULL, NULL},
};

static const struct ecg_test fusion_tests[] = {
    {"the fusion learns what the features tell", the_fusion_learns_what_the_features_tell},
    {"the fusion keeps what the probabilities tell", the_fusion_keeps_what_the_probabilities_tell},
    {"a fusion that cannot be fitted says why", a_fusion_that_cannot_be_fitted_says_why},
    {"a model file keeps its fusion", a_model_file_keeps_its_fusion},
    {"a corrupt fusion is refused with the file named", a_corrupt_fusion_is_refused_with_the_file_named},
    {NULL, NULL},
};

static const struct ecg_suite suites[] = {
    {"rhythm_features", feature_tests},
    {"rr_fusion", fusion_tests},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
