/* Tests of the inference path: the arrays ecgtrain's evaluation makes, threads on one model, files, errors. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader.h"
#include "data/readers.h"
#include "infer/dataset.h"
#include "infer/infer.h"
#include "io/model_file.h"
#include "tests/test_util.h"
#include "train/export.h"
#include "train/train.h"

static const char *const records[] = {"A00592", "A00894", "A00984", "A05493"};
enum { NREC = 4 };
/* The shipped model's images: 32 x 1024 x 1 (a 10 s fixture record tiled into one 30 s window). */
enum { IMAGE_H = 32, IMAGE_W = 1024, IMAGE = IMAGE_H * IMAGE_W };

static const char *source(const char *relative)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    const char *root = getenv("ECG_SOURCE_ROOT");
    snprintf(b, sizeof bufs[0], "%s/%s", root ? root : ".", relative);
    return b;
}

static const char *record_path(int i)
{
    static _Thread_local char paths[NREC][1024]; /* per thread: several classify at once */
    snprintf(paths[i], sizeof paths[i], "%s/%s.mat", ecg_test_fixture("data/cinc2017"), records[i]);
    return paths[i];
}

/* The shipped model with the configuration it carries, on the CinC fixture records (every one of them: not
 * the records its data.exclude names). */
static struct ecg_infer_model *load_model(void)
{
    static char path_override[1100];
    snprintf(path_override, sizeof path_override, "data.path=%s", ecg_test_fixture("data/cinc2017"));
    char *overrides[] = {path_override, "data.exclude=none", "eval.batch_size=4", "run.log_level=warn"};
    struct ecg_infer_model *m = NULL;
    struct ecg_error err = {0};
    int rc = ecg_infer_model_load(source("weights/ecg_effb0_cinc2017.h5"), NULL, 4, overrides, &m, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    return m;
}

static bool same_floats(const float *a, const float *b, int64_t n)
{
    return a && b && memcmp(a, b, (size_t)n * sizeof *a) == 0;
}

static void a_result_holds_every_array_of_the_path(void)
{
    struct ecg_infer_model *m = load_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct ecg_infer_context *ctx = NULL;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_init(m, &ctx, &err), ECG_OK);
    struct ecg_infer_result *r = NULL;
    int64_t n = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_file(ctx, record_path(0), NULL, 0, &r, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    const char *const *names;
    CU_ASSERT_EQUAL(ecg_infer_model_classes(m, &names), 4);
    CU_ASSERT_EQUAL(ecg_infer_model_sample_rate(m), 300.0);
    CU_ASSERT_TRUE(ecg_infer_model_has_network(m));
    CU_ASSERT_STRING_EQUAL(names[r->label], "AF"); /* from REFERENCE.csv beside the record */
    CU_ASSERT_STRING_EQUAL(r->record, "A00592");
    CU_ASSERT_EQUAL(r->fs, 300.0);
    CU_ASSERT_EQUAL(r->window_samples, 9000);
    CU_ASSERT_EQUAL(r->windows, 1); /* the 10 s record, tiled */
    CU_ASSERT_TRUE(r->height == IMAGE_H && r->width == IMAGE_W && r->channels == 1);
    float mean[4] = {0}, sum = 0;
    for (int64_t w = 0; w < r->windows; w++)
        for (int j = 0; j < 4; j++)
            mean[j] += r->window_probs[w * 4 + j];
    for (int j = 0; j < 4; j++) {
        mean[j] /= (float)r->windows;
        sum += r->probs[j];
        CU_ASSERT_TRUE(r->probs[r->best] >= r->probs[j]);
    }
    ECG_CHECK_CLOSE("mean of the windows", r->probs, mean, 4, 0, 0);
    CU_ASSERT_DOUBLE_EQUAL(sum, 1.0, 1e-5);
    CU_ASSERT_STRING_EQUAL(names[r->best], "AF"); /* the shipped model knows this record's rhythm */
    ecg_infer_results_free(r, n);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
}

/* The records through ecgtrain's own evaluation (prepare_dataset, loader, ecg_evaluate) and through infer. */
static void images_and_probabilities_are_those_of_ecgtrain_s_evaluation(void)
{
    struct ecg_infer_model *m = load_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    const struct ecg_config *c = ecg_infer_model_config(m);
    struct ecg_error err = {0};
    struct ecg_dataset ds = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_prepare_dataset(c, &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, NREC);
    int64_t idx[NREC] = {0, 1, 2, 3};
    struct ecg_loader_opts lo;
    ecg_loader_opts_from_config(c, 0, &lo);
    lo.batch_size = 64;
    struct ecg_loader L = {0};
    struct ecg_batch b = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_loader_init(&L, &ds, idx, NREC, &lo, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_batch_alloc(&b, 64, IMAGE_H, IMAGE_W, 1, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_loader_get(&L, 0, 0, &b, &err), ECG_OK);
    struct ecg_infer_context *ctx = NULL;
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_init(m, &ctx, &err), ECG_OK);
    int64_t sample = 0;
    for (int i = 0; i < NREC; i++) {
        struct ecg_infer_result *r = NULL;
        int64_t n = 0;
        CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_file(ctx, record_path(i), NULL, 0, &r, &n, &err), ECG_OK);
        CU_ASSERT_STRING_EQUAL(r->record, ds.records[b.records[sample]].id);
        for (int64_t w = 0; w < r->windows; w++, sample++) {
            CU_ASSERT_EQUAL(b.windows[sample], w);
            CU_ASSERT_TRUE(same_floats(r->images + w * IMAGE, b.images + sample * IMAGE, IMAGE));
        }
        ecg_infer_results_free(r, n);
    }
    CU_ASSERT_EQUAL(sample, b.count);

    /* The same batches give the same bits: ecg_evaluate on the records and the infer dataset path. */
    struct ecg_effnet net = {0};
    struct ecg_input_scaling norm;
    struct ecg_eval_result want = {0}, got = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_model_build(c, c->eval.batch_size, true, &net, &norm, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_evaluate(&net, &norm, c, &ds, idx, NREC, &want, &err), ECG_OK);
    /* ecgtrain's evaluation after calibration: the probabilities at the temperature the model file records */
    struct ecg_calibration cal = {0};
    CU_ASSERT_NOT_EQUAL(ecg_infer_model_temperature(m), 1.0);
    CU_ASSERT_EQUAL_FATAL(ecg_eval_apply_temperature(&want, ecg_infer_model_temperature(m), &cal, &err), ECG_OK);
    double loss = 0;
    for (int64_t i = 0; i < want.n; i++)
        loss -= log(fmax((double)want.probs[i * want.k + want.truth[i]], 1e-12)) / (double)want.n;
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_dataset(ctx, &ds, idx, NREC, &got, &err), ECG_OK);
    CU_ASSERT_EQUAL(got.n, want.n);
    CU_ASSERT_TRUE(same_floats(got.probs, want.probs, want.n * want.k));
    CU_ASSERT_DOUBLE_EQUAL(got.loss, loss, 1e-12);
    ecg_eval_result_free(&want);
    ecg_eval_result_free(&got);
    ecg_effnet_free(&net);
    ecg_batch_free(&b);
    ecg_loader_free(&L);
    ecg_dataset_free(&ds);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
}

struct job {
    const struct ecg_infer_model *m;
    int first; /* the record it starts with: the threads' work overlaps in different orders */
    struct ecg_infer_result r[NREC];
    int status;
};

/* Each thread its own context; every record of the fixture, in a different order per thread. */
static void *classify_all(void *arg)
{
    struct job *j = arg;
    struct ecg_infer_context *ctx = NULL;
    struct ecg_error err = {0};
    j->status = ecg_infer_context_init(j->m, &ctx, &err);
    for (int k = 0; k < NREC && !j->status; k++) {
        int i = (k + j->first) % NREC;
        struct ecg_infer_result *r = NULL;
        int64_t n = 0;
        if ((j->status = ecg_infer_classify_file(ctx, record_path(i), NULL, 0, &r, &n, &err)) == ECG_OK) {
            j->r[i] = r[0];
            memset(&r[0], 0, sizeof r[0]);
        }
        ecg_infer_results_free(r, n);
    }
    ecg_infer_context_free(ctx);
    return NULL;
}

static bool same_result(const struct ecg_infer_result *a, const struct ecg_infer_result *b)
{
    int64_t per = a->height * a->width * a->channels;
    return a->windows == b->windows && a->length == b->length && same_floats(a->signal, b->signal, a->length) &&
           same_floats(a->images, b->images, a->windows * per) &&
           same_floats(a->window_probs, b->window_probs, a->windows * a->classes) &&
           same_floats(a->probs, b->probs, a->classes) && a->best == b->best;
}

static void several_threads_on_one_model_get_the_serial_results(void)
{
    struct ecg_infer_model *m = load_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    enum { THREADS = 3 };
    struct job serial = {.m = m}, jobs[THREADS];
    classify_all(&serial);
    CU_ASSERT_EQUAL_FATAL(serial.status, ECG_OK);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].m = m;
        jobs[i].first = i;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, classify_all, &jobs[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < THREADS; i++) {
        CU_ASSERT_EQUAL(jobs[i].status, ECG_OK);
        for (int r = 0; r < NREC; r++) {
            CU_ASSERT_TRUE(same_result(&jobs[i].r[r], &serial.r[r]));
            ecg_infer_result_free(&jobs[i].r[r]);
        }
    }
    for (int r = 0; r < NREC; r++)
        ecg_infer_result_free(&serial.r[r]);
    ecg_infer_model_free(m);
}

static void samples_in_memory_classify_like_the_file(void)
{
    struct ecg_infer_model *m = load_model();
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct ecg_infer_context *ctx = NULL;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_init(m, &ctx, &err), ECG_OK);
    struct ecg_dataset ds = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_dataset_read("cinc2017", ecg_test_fixture("data/cinc2017"), NULL, &ds, &err), ECG_OK);
    struct ecg_infer_result *fromfile = NULL, mem;
    int64_t n = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_file(ctx, record_path(1), NULL, 0, &fromfile, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_samples(ctx, ds.records[1].signal, ds.records[1].length, 300.0,
                                                     "A00894", &mem, &err), ECG_OK);
    CU_ASSERT_TRUE(same_floats(mem.probs, fromfile->probs, 4));
    CU_ASSERT_TRUE(same_floats(mem.images, fromfile->images, mem.windows * IMAGE));
    CU_ASSERT_EQUAL(mem.label, -1);
    ecg_infer_result_free(&mem);
    ecg_infer_results_free(fromfile, n);

    /* Not finite samples: one message naming the record. */
    ds.records[1].signal[10] = 0.0f / 0.0f;
    int rc = ecg_infer_classify_samples(ctx, ds.records[1].signal, ds.records[1].length, 300.0, "A00894", &mem, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_VALUE, "record 'A00894'");
    CU_ASSERT_PTR_NULL(mem.probs);
    rc = ecg_infer_classify_samples(ctx, ds.records[1].signal, 0, 300.0, NULL, &mem, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_VALUE, "record '(samples)': no samples");
    ecg_dataset_free(&ds);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
}

static void csv_problems_name_the_file_and_line(void)
{
    struct ecg_infer_model *m = NULL;
    struct ecg_error err = {0};
    char *rate[] = {"data.sample_rate=250", "data.band_high_hz=40"};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_model_load(NULL, NULL, 2, rate, &m, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_infer_model_sample_rate(m), 250.0);
    CU_ASSERT_FALSE(ecg_infer_model_has_network(m));
    struct ecg_infer_result *r = NULL;
    int64_t n = 0;
    const char *bad = ecg_test_write_file("bad.csv", "mv\n0.1\n0.2\nabc\n");
    int rc = ecg_infer_prepare_file(m, bad, NULL, 300, &r, &n, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "bad.csv:4: expected one number, found 'abc");
    const char *mixed = ecg_test_write_file("mixed.txt", "0.0,0.1\n0.1\n");
    rc = ecg_infer_prepare_file(m, mixed, NULL, 300, &r, &n, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "mixed.txt:2: expected time,value");
    rc = ecg_infer_prepare_file(m, "-", "cinc2017", 0, &r, &n, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_USAGE, "standard input: only the csv format is read from it, not cinc2017");
    rc = ecg_infer_prepare_file(m, "record.edf", NULL, 0, &r, &n, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_USAGE, "record.edf: expected a CinC 2017 record (.mat), a CACHET-CADB file");
    /* Ten seconds of a sine, time column in seconds: 250 Hz from the times. */
    char text[200000] = "t,mv\n";
    size_t used = strlen(text);
    for (int i = 0; i < 2500; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "%.3f,%.4f\n", i / 250.0, (i % 25) / 25.0);
    const char *timed = ecg_test_write_file("timed.csv", text);
    CU_ASSERT_EQUAL_FATAL(ecg_infer_prepare_file(m, timed, NULL, 0, &r, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_STRING_EQUAL(r->record, "timed");
    CU_ASSERT_EQUAL(r->length, 2500); /* at the model's 250 Hz already */
    CU_ASSERT_EQUAL(r->fs, 250.0);
    CU_ASSERT_PTR_NULL(r->probs);
    CU_ASSERT_EQUAL(r->best, -1);
    ecg_infer_results_free(r, n);
    struct ecg_infer_context *ctx = NULL;
    rc = ecg_infer_context_init(m, &ctx, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_USAGE, "loaded without weights: it can prepare, not classify");
    ecg_infer_model_free(m);
}

static void csv_text_in_memory_parses_like_a_file(void)
{
    static const char text[] = "time;mV\n0;0.5\n0.004;-0.25\n0.008;1e-3\n";
    float *x = NULL;
    int64_t n = 0;
    double fs = 0;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_parse_csv(text, sizeof text - 1, 0, "upload.csv", &x, &n, &fs, &err), ECG_OK);
    const float want[3] = {0.5f, -0.25f, 1e-3f};
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(fs, 250.0);
    ECG_CHECK_CLOSE("samples", x, want, 3, 0, 0);
    free(x);
    int rc = ecg_infer_parse_csv("1\n2\nx\n", 6, 300, "upload.csv", &x, &n, &fs, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "upload.csv:3: expected one number, found 'x");
    CU_ASSERT_PTR_NULL(x);
    rc = ecg_infer_parse_csv("", 0, 300, "empty.csv", &x, &n, &fs, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "empty.csv: expected samples, one per line, found 0");
    rc = ecg_infer_parse_csv("1\n2\n", 4, 0, "norate.csv", &x, &n, &fs, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_USAGE, "norate.csv: the sampling rate is unknown");
}

static void load_errors_name_the_file_or_the_key(void)
{
    struct ecg_infer_model *m = NULL;
    struct ecg_error err = {0};
    /* A plain Keras weight file does not say how to use it. */
    int rc = ecg_infer_model_load(ecg_test_fixture("io/keras2_b0.h5"), NULL, 0, NULL, &m, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "keras2_b0.h5: weights alone, not an ecgtrain checkpoint or model file");
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_FORMAT, "with --config FILE");
    CU_ASSERT_PTR_NULL(m);
    const char *weights = source("weights/ecg_effb0_cinc2017.h5");
    char *seven[] = {"model.num_classes=7"};
    rc = ecg_infer_model_load(weights, source("configs/effb0.yaml"), 1, seven, &m, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_CONFIG, "model.num_classes is 7 but cachet_short data have 4 classes");
    char *bad[] = {"data.spectrogram.window=kaiser"};
    rc = ecg_infer_model_load(NULL, NULL, 1, bad, &m, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_CONFIG, "data.spectrogram.window");
    char *windows[] = {"eval.windows=0"};
    rc = ecg_infer_model_load(NULL, NULL, 1, windows, &m, &err);
    CU_ASSERT_NOT_EQUAL(rc, ECG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "eval.windows"));
}

/* Writes a model file as ecgexport would, of an untrained beat model: the beat recipe with `overrides` on the
 * shipped rhythm model's backbone and a fresh seeded head that reads the beat features the overrides choose
 * (inference refuses a head that does not fit its configuration, so the rhythm model's own file will not do). */
static int write_beat_model(const char *path, int n, char *const *overrides, struct ecg_error *err)
{
    struct ecg_config c = {0};
    struct ecg_effnet net = {0};
    ECG_TRY(ecg_config_resolve(&c, source("configs/mitbih_beats.yaml"), n, overrides, err));
    int rc = ecg_model_build(&c, 1, false, &net, NULL, err);
    if (!rc)
        rc = ecg_export_network(&c, &net, 1.0, NULL, NULL, NULL, path, err);
    ecg_effnet_free(&net);
    ecg_config_free(&c);
    return rc;
}

/* An untrained beat model reading the beat features that the two overrides such as "model.rr_features=true"
 * set, on the record 100 fixture. */
static struct ecg_infer_model *load_beat_model(char *const *features)
{
    static char path_override[1100], pretrained[1100];
    snprintf(path_override, sizeof path_override, "data.path=%s", ecg_test_fixture("data/mitdb"));
    snprintf(pretrained, sizeof pretrained, "model.pretrained=%s", source("weights/ecg_effb0_cinc2017.h5"));
    char *overrides[] = {path_override, "data.records=all", "eval.batch_size=8", "data.spectrogram.height=32",
                         "data.spectrogram.width=32", "run.log_level=warn", features[0], features[1], pretrained};
    const char *file = ecg_test_fmt("%s/beats_%s_%s.h5", ecg_test_tmpdir(), features[0], features[1]);
    struct ecg_infer_model *m = NULL;
    struct ecg_error err = {0};
    if (write_beat_model(file, 9, overrides, &err) || ecg_infer_model_load(file, NULL, 6, overrides, &m, &err))
        fprintf(stderr, "\n  %s\n", err.msg);
    return m;
}

/* A model file whose head does not fit the configuration given with it is refused, not run with a fresh head. */
static void a_head_that_does_not_fit_is_refused(void)
{
    struct ecg_infer_model *m = NULL;
    struct ecg_error err = {0};
    char *beats[] = {"model.rr_features=true", "model.morphology_features=false"};
    int rc = ecg_infer_model_load(source("weights/ecg_effb0_cinc2017.h5"), source("configs/mitbih_beats.yaml"), 2,
                                  beats, &m, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_SHAPE,
                    "ecg_effb0_cinc2017.h5: predictions/kernel is (1280, 4), the configuration expects (1284, 5) "
                    "(1280 image features + 4 record features, 5 classes): a model for inference needs the head it "
                    "was trained with");
    CU_ASSERT_PTR_NULL(m);
}

static void check_beats_of_a_record(char *const *features)
{
    struct ecg_infer_model *m = load_beat_model(features);
    const bool reads_features = strstr(features[0], "true") || strstr(features[1], "true");
    CU_ASSERT_PTR_NOT_NULL_FATAL(m);
    struct ecg_infer_context *ctx = NULL;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_init(m, &ctx, &err), ECG_OK);
    char hea[1100];
    snprintf(hea, sizeof hea, "%s/100.hea", ecg_test_fixture("data/mitdb"));
    struct ecg_infer_beats b;
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_beats(ctx, hea, &b, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(b.record, "100");
    CU_ASSERT_STRING_EQUAL(b.source, "reference");
    CU_ASSERT_EQUAL(b.fs, 360.0);
    CU_ASSERT_EQUAL(b.count, 33);
    CU_ASSERT_EQUAL(b.left_out, 4);
    CU_ASSERT_EQUAL(b.samples[0], 662);
    CU_ASSERT_EQUAL(b.labels[0], ECG_BEAT_N);
    /* The run's own evaluation of the same beats: the same windows, batches and bits. */
    struct ecg_dataset ds;
    struct ecg_eval_result r = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_prepare_dataset(ecg_infer_model_config(m), &ds, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ds.count, b.count);
    int64_t idx[64];
    for (int64_t i = 0; i < ds.count; i++) {
        idx[i] = i;
        CU_ASSERT_EQUAL(ecg_beat_id_sample(ds.records[i].id), b.samples[i]);
    }
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_dataset(ctx, &ds, idx, ds.count, &r, &err), ECG_OK);
    CU_ASSERT_TRUE(same_floats(r.probs, b.probs, b.count * b.classes));
    ecg_eval_result_free(&r);
    ecg_dataset_free(&ds);
    ecg_infer_beats_free(&b);
    ECG_CHECK_ERROR(ecg_infer_classify_beats(ctx, "100.dat", &b, &err), &err, ECG_ERR_USAGE,
                    "100.dat: expected a WFDB header NAME.hea");
    ECG_CHECK_ERROR(ecg_infer_classify_beats(ctx, "/nonexistent/100.hea", &b, &err), &err, ECG_ERR_IO,
                    "/nonexistent/100.hea");
    if (reads_features) { /* images alone do not carry a beat's features */
        float image[32 * 32] = {0}, probs[5];
        ECG_CHECK_ERROR(ecg_infer_classify_images(ctx, image, 1, probs, NULL, &err), &err, ECG_ERR_USAGE,
                        "model.rr_features");
    }
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
}

static void beats_of_a_record_classify_as_the_beats_of_ecgtrains_evaluation(void)
{
    static char *none[] = {"model.rr_features=false", "model.morphology_features=false"};
    check_beats_of_a_record(none);
}

static char *rr_on[] = {"model.rr_features=true", "model.morphology_features=false"},
            *morphology_on[] = {"model.rr_features=false", "model.morphology_features=true"},
            *both_on[] = {"model.rr_features=true", "model.morphology_features=true"};

static void beats_with_rr_features_classify_as_ecgtrains_evaluation(void) { check_beats_of_a_record(rr_on); }

/* The morphology features alone start after the record's RR features: the offset every path must apply. */
static void beats_with_morphology_features_classify_as_ecgtrains_evaluation(void)
{
    check_beats_of_a_record(morphology_on);
}

static void beats_with_both_features_classify_as_ecgtrains_evaluation(void) { check_beats_of_a_record(both_on); }

/* A record's probabilities need at least one window: one error saying so, not a division by zero. */
static void record_probabilities_of_no_window_are_an_error(void)
{
    struct ecg_infer_model *m = NULL;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_infer_model_load(NULL, NULL, 0, NULL, &m, &err), ECG_OK);
    float window_probs[4] = {0.25f, 0.25f, 0.25f, 0.25f}, probs[4], signal[10] = {0};
    CU_ASSERT_EQUAL(ecg_infer_record_probs(m, window_probs, 0, signal, 10, 300, probs, &err), ECG_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "record probabilities: expected at least one window, found 0"));
    CU_ASSERT_FALSE(ecg_infer_model_has_rr_fusion(m));
    ecg_infer_model_free(m);
}

/* A beat model file that carries an RR fusion (which measures whole records) is refused when loaded, naming it. */
static void a_beat_model_with_an_rr_fusion_is_refused(void)
{
    const char *copy = ecg_test_fmt("%s/beats_fused.h5", ecg_test_tmpdir());
    char *cmd = ecg_test_fmt("cp '%s' '%s'", source("weights/ecg_effb0_mitbih.h5"), copy);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    struct ecg_rr_fusion f = {.classes = 5};
    for (int j = 0; j < ECG_RHYTHM_FEATURES; j++)
        f.scale[j] = 1;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_set_rr_fusion(copy, &f, &err), ECG_OK);
    struct ecg_infer_model *m = NULL;
    int rc = ecg_infer_model_load(copy, NULL, 0, NULL, &m, &err);
    CU_ASSERT_TRUE(ecg_test_error_is(rc, &err, ECG_ERR_FORMAT, copy));
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "an RR fusion measures a whole record's rhythm, and this is a beat model "
                                           "(data.format mitbih_wfdb)"));
    CU_ASSERT_PTR_NULL(m);
}

static const struct ecg_test infer_tests[] = {
    {"record probabilities of no window are an error", record_probabilities_of_no_window_are_an_error},
    {"a beat model with an RR fusion is refused", a_beat_model_with_an_rr_fusion_is_refused},
    {"a result holds every array of the path", a_result_holds_every_array_of_the_path},
    {"images and probabilities are those of ecgtrain's evaluation",
     images_and_probabilities_are_those_of_ecgtrain_s_evaluation},
    {"several threads on one model get the serial results", several_threads_on_one_model_get_the_serial_results},
    {"samples in memory classify like the file", samples_in_memory_classify_like_the_file},
    {"CSV problems name the file and line", csv_problems_name_the_file_and_line},
    {"CSV text in memory parses like a file", csv_text_in_memory_parses_like_a_file},
    {"load errors name the file or the key", load_errors_name_the_file_or_the_key},
    {"a head that does not fit is refused", a_head_that_does_not_fit_is_refused},
    {"beats of a record classify as the beats of ecgtrain's evaluation",
     beats_of_a_record_classify_as_the_beats_of_ecgtrains_evaluation},
    {"beats with RR features classify as ecgtrain's evaluation", beats_with_rr_features_classify_as_ecgtrains_evaluation},
    {"beats with morphology features classify as ecgtrain's evaluation",
     beats_with_morphology_features_classify_as_ecgtrains_evaluation},
    {"beats with RR and morphology features classify as ecgtrain's evaluation",
     beats_with_both_features_classify_as_ecgtrains_evaluation},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {{"infer", infer_tests}, {NULL, NULL}};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
