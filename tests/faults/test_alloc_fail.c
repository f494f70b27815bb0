/* Allocation-failure sweeps: each allocation of config loading, a training run, a checkpoint round trip and
 * the classification of a record fails in turn, and each time the call ends with an out-of-memory error. */
/*
 * A scenario runs once to count its allocations N (tests/faults/alloc_inject.h says which are counted),
 * then N more times in this process, allocation k failing in run k.  Each run must return
 * ECG_ERR_NOMEM with a message that says memory ran out, or succeed with the same result as the
 * first run (the allocation was optional); in the sanitizer build LeakSanitizer checks after every
 * run that it freed everything, and a crash names the scenario and k.
 *
 * To look at one failure again:  ECG_ALLOC_RANGE=k:k test_alloc_fail <suite> (the allocation's call
 * stack is printed with any fault); ECG_ALLOC_VERBOSE=1 also prints the allocations a run survived,
 * ECG_ALLOC_TRACE=1 every allocation of the counting run.  ECG_ALLOC_STRIDE=s fails only allocations
 * first, first + s, ...: the sanitizer build's training sweeps use it (tests/faults/meson.build).
 */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <ftw.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECKS 1
#else
#define LEAK_CHECKS 0
#endif

#include "core/log.h"
#include "data/readers.h"
#include "infer/infer.h"
#include "io/checkpoint.h"
#include "tests/faults/alloc_inject.h"
#include "tests/test_util.h"
#include "train/config.h"
#include "train/run_log.h"
#include "train/train.h"

/* ---- the sweep ---------------------------------------------------------------------------- */

/* A scenario: `run` makes the calls under test and returns their status; `output_ok` checks what a
 * successful run produced (a run that succeeds although an allocation failed must still be right);
 * `reset` (may be NULL) removes what a run left behind, unarmed. */
struct scenario {
    const char *name;
    int (*run)(struct ecg_error *err);
    bool (*output_ok)(void);
    void (*reset)(void);
};

/* What is running, for a crash report. */
static const char *current_name = "";
static long long current_k;

static void where_it_died(void)
{
    char line[256];
    int n = snprintf(line, sizeof line, "\ncrashed in scenario '%s' with allocation %lld failing\n", current_name,
                     current_k);
    if (n > 0 && write(2, line, (size_t)n) < 0)
        return;
}

static void on_fatal_signal(int sig)
{
    where_it_died();
    signal(sig, SIG_DFL);
    raise(sig);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static bool says_memory_ran_out(const char *msg)
{
    return strstr(msg, "memory") || strstr(msg, "allocate");
}

/* Why the outcome of one failing allocation is not acceptable, or NULL when it is. */
static const char *fault(const struct scenario *s, int rc, const struct ecg_error *err)
{
    if (rc == ECG_OK && !s->output_ok())
        return "succeeded with a wrong result";
    if (rc != ECG_OK && rc != ECG_ERR_NOMEM)
        return "failed with another status than out of memory";
    if (rc != ECG_OK && !says_memory_ran_out(err->msg))
        return "failed with a message that does not say memory ran out";
    return NULL;
}

/* Prints what went wrong and, for the first few, the call stack of the allocation that failed. */
static void report(const struct scenario *s, long long k, const char *why, int rc, const struct ecg_error *err,
                   long long nth)
{
    fprintf(stderr, "\n  %s, allocation %lld failing: %s: status %d (%s), message '%s'\n", s->name, k, why, rc,
            ecg_status_name((enum ecg_status)rc), err->msg);
    if (nth <= 10)
        ecg_alloc_inject_print_site(stderr);
}

#if LEAK_CHECKS
/* LeakSanitizer now, not at exit, so that a leak is tied to the allocation that failed (it prints them).
 * Memory once lost stays lost and would be reported again: only the first leak is checked for. */
static bool leaked(void)
{
    static bool seen;
    if (seen)
        return false;
    return seen = __lsan_do_recoverable_leak_check() != 0;
}
#else
static bool leaked(void) { return false; }
#endif

/* Counts the scenario's allocations, then fails each in turn. */
static void sweep(const struct scenario *s)
{
    struct ecg_error err = {0};
    current_name = s->name;
    current_k = 0;
    if (s->reset)
        s->reset();
    ecg_alloc_inject_trace(getenv("ECG_ALLOC_TRACE") ? stderr : NULL); /* where the allocations come from */
    ecg_alloc_inject_arm(0);
    int rc = s->run(&err);
    long long n = ecg_alloc_inject_disarm();
    ecg_alloc_inject_trace(NULL);
    if (rc)
        fprintf(stderr, "\n  %s: %s\n", s->name, err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_TRUE_FATAL(s->output_ok());
    CU_ASSERT_TRUE_FATAL(n > 0);
    long long recovered = 0, unreached = 0, bad = 0;
    const bool verbose = getenv("ECG_ALLOC_VERBOSE") != NULL; /* also show the allocations a run survives */
    long long first = 1, last = n; /* ECG_ALLOC_RANGE=a:b sweeps only those, to look at one failure again */
    if (getenv("ECG_ALLOC_RANGE") && sscanf(getenv("ECG_ALLOC_RANGE"), "%lld:%lld", &first, &last) == 2)
        last = last < n ? last : n;
    long long stride = getenv("ECG_ALLOC_STRIDE") ? atoll(getenv("ECG_ALLOC_STRIDE")) : 1;
    CU_ASSERT_TRUE_FATAL(stride >= 1);
    long long runs = 0;
    double t0 = now_s();
    for (long long k = first; k <= last; k += stride) {
        runs++;
        current_k = k;
        if (s->reset)
            s->reset();
        ecg_error_clear(&err);
        ecg_alloc_inject_arm(k);
        rc = s->run(&err);
        ecg_alloc_inject_disarm();
        if (!ecg_alloc_inject_failed()) {
            unreached++;
            continue;
        }
        if (rc == ECG_OK) {
            recovered++;
            if (verbose) {
                fprintf(stderr, "\n  %s, allocation %lld failing: succeeded; the allocation:\n", s->name, k);
                ecg_alloc_inject_print_site(stderr);
            }
        }
        const char *why = fault(s, rc, &err);
        if (!why && leaked())
            why = "leaked memory";
        if (why)
            report(s, k, why, rc, &err, ++bad);
    }
    current_k = 0;
    char which[64] = "in turn";
    if (stride > 1)
        snprintf(which, sizeof which, "one in %lld", stride);
    printf("\n  %s: %lld allocations; %lld to %lld failed %s: %lld ended with an out-of-memory error, "
           "%lld recovered (optional), %lld not reached, %lld faults; %.1f s%s\n",
           s->name, n, first, last, which, runs - recovered - unreached, recovered, unreached, bad, now_s() - t0,
           LEAK_CHECKS ? ", leak-checked after each" : "");
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(unreached, 0); /* the scenarios run on one thread: the same allocations every time */
}

static const char *source(const char *relative)
{
    const char *root = getenv("ECG_SOURCE_ROOT");
    return ecg_test_fmt("%s/%s", root ? root : ".", relative);
}

/* ---- config loading -------------------------------------------------------------------------- */

static int load_config(struct ecg_error *err)
{
    struct ecg_config c;
    char *ov[] = {"optim.lr=0.5", "train.epochs=3"};
    int rc = ecg_config_resolve(&c, ecg_test_fixture("config/chain/child.yaml"), 2, ov, err);
    if (rc)
        return rc;
    char *text = ecg_config_to_string(&c, err);
    rc = text ? ECG_OK : err->code;
    bool right = text && c.optim.lr == 0.5 && c.train.epochs == 3 && strcmp(c.run.name, "variant") == 0 &&
                 !c.model.pretrained && strstr(text, "lr: 0.5");
    free(text);
    ecg_config_free(&c);
    if (rc == ECG_OK && !right)
        return ecg_error_set(err, ECG_ERR_VALUE, "the resolved config is not the file's with the overrides");
    return rc;
}

static bool config_ok(void) { return true; /* load_config checks the values itself */ }

/* ---- a checkpoint round trip ------------------------------------------------------------------- */

enum { CK_PARAMS = 7, CK_BLOB = 40 };
static struct ecg_params ck_saved, ck_loaded;
static float ck_blob_out[CK_BLOB], ck_blob_in[CK_BLOB];
static struct ecg_rng ck_rng_out, ck_rng_in;
static char *ck_yaml, *ck_json;
static int64_t ck_step;

/* A store with the structure of a model's: layers with several weights, running statistics. */
static void checkpoint_setup(void)
{
    static const struct {
        const char *name;
        int ndim;
        int64_t shape[4];
        unsigned flags;
    } items[CK_PARAMS] = {
        {"stem_conv/kernel", 4, {3, 3, 1, 8}, 0},
        {"stem_bn/gamma", 1, {8}, ECG_PARAM_NO_DECAY},
        {"stem_bn/beta", 1, {8}, ECG_PARAM_NO_DECAY},
        {"stem_bn/moving_mean", 1, {8}, ECG_PARAM_BUFFER},
        {"stem_bn/moving_variance", 1, {8}, ECG_PARAM_BUFFER},
        {"predictions/kernel", 2, {8, 4}, 0},
        {"predictions/bias", 1, {4}, ECG_PARAM_NO_DECAY},
    };
    struct ecg_error err = {0};
    struct ecg_params *stores[2] = {&ck_saved, &ck_loaded};
    for (int s = 0; s < 2; s++) {
        memset(stores[s], 0, sizeof *stores[s]);
        for (int i = 0; i < CK_PARAMS; i++) {
            int index;
            int rc = ecg_params_add(stores[s], items[i].name, items[i].ndim, items[i].shape,
                                    items[i].flags | ECG_PARAM_INIT(ECG_INIT_ZEROS), &index, &err);
            ECG_ASSERT(rc == ECG_OK);
        }
        ECG_ASSERT(ecg_params_bind(stores[s], &err) == ECG_OK);
    }
    for (int k = 0; k < ck_saved.count; k++) /* the slices: the alignment padding is no parameter's */
        for (int64_t i = 0; i < ck_saved.items[k].numel; i++)
            ck_saved.values[ck_saved.items[k].offset + i] = 0.25f * (float)((k + i) % 17) - 1.0f;
    for (int i = 0; i < CK_BLOB; i++)
        ck_blob_out[i] = (float)i / 8.0f;
    ck_rng_out = ecg_rng_init(7, 3);
}

static void checkpoint_teardown(void)
{
    ecg_params_free(&ck_saved);
    ecg_params_free(&ck_loaded);
}

static const char *checkpoint_path(void) { return ecg_test_fmt("%s/round_trip.h5", ecg_test_tmpdir()); }

static int checkpoint_round_trip(struct ecg_error *err)
{
    struct ecg_ckpt_blob blob_out = {.name = "optim/m", .data = ck_blob_out, .count = CK_BLOB};
    struct ecg_ckpt_rng rng_out = {.name = "train", .rng = &ck_rng_out};
    struct ecg_checkpoint out = {.epoch = 2, .step = 17, .sched_step = 17, .lr = 0.01, .blobs = &blob_out,
                                 .n_blobs = 1, .rngs = &rng_out, .n_rngs = 1, .config_yaml = "run:\n  name: x\n",
                                 .metrics_json = "{\"best_f1\": 0.5}"};
    struct ecg_keras_info attrs = {.has_bn_eps = true, .bn_eps = 1e-3f};
    ECG_TRY(ecg_checkpoint_save(checkpoint_path(), &ck_saved, &attrs, &out, err));
    struct ecg_ckpt_blob blob_in = {.name = "optim/m", .data = ck_blob_in, .count = CK_BLOB};
    struct ecg_ckpt_rng rng_in = {.name = "train", .rng = &ck_rng_in};
    struct ecg_checkpoint in = {.blobs = &blob_in, .n_blobs = 1, .rngs = &rng_in, .n_rngs = 1};
    int rc = ecg_checkpoint_load(checkpoint_path(), &ck_loaded, &in, &ck_yaml, &ck_json, NULL, err);
    ck_step = in.step;
    return rc;
}

static bool checkpoint_ok(void)
{
    bool ok = ck_step == 17 && ck_yaml && strcmp(ck_yaml, "run:\n  name: x\n") == 0 && ck_json &&
              strcmp(ck_json, "{\"best_f1\": 0.5}") == 0 &&
              memcmp(ck_saved.values, ck_loaded.values, (size_t)ck_saved.total * sizeof(float)) == 0 &&
              memcmp(ck_blob_out, ck_blob_in, sizeof ck_blob_in) == 0 && ck_rng_in.seed == ck_rng_out.seed &&
              ck_rng_in.stream == ck_rng_out.stream && ck_rng_in.counter == ck_rng_out.counter;
    return ok;
}

/* Every run starts from an empty store and no file. */
static void checkpoint_reset(void)
{
    free(ck_yaml);
    free(ck_json);
    ck_yaml = ck_json = NULL;
    ck_step = 0;
    memset(ck_loaded.values, 0, (size_t)ck_loaded.total * sizeof(float));
    memset(ck_blob_in, 0, sizeof ck_blob_in);
    memset(&ck_rng_in, 0, sizeof ck_rng_in);
    unlink(checkpoint_path());
}

/* ---- a tiny training run --------------------------------------------------------------------------- */

static const char *train_dir(void) { return ecg_test_fmt("%s/train", ecg_test_tmpdir()); }

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void train_reset(void) { nftw(train_dir(), rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Four records per class of the bundled sample, as a small file of the same format. */
static const char *train_data(void)
{
    static char path[1024];
    if (path[0])
        return path;
    snprintf(path, sizeof path, "%s/four_per_class.h5", ecg_test_tmpdir());
    struct ecg_read_options ro;
    ecg_read_options_default(&ro);
    struct ecg_dataset ds = {0};
    struct ecg_error err = {0};
    int rc = ecg_dataset_read_format(ECG_DATA_CACHET_SHORT, source("data/sample/cachet_sample.h5"), &ro, &ds, &err);
    struct ecg_record picked[16];
    int n = 0, per_class[4] = {0};
    for (int64_t i = 0; rc == ECG_OK && i < ds.count && n < 16; i++)
        if (ds.records[i].label >= 0 && ds.records[i].label < 4 && per_class[ds.records[i].label]++ < 4)
            picked[n++] = ds.records[i]; /* borrowed: the writer only reads them */
    if (rc == ECG_OK)
        rc = n == 16 ? ecg_cachet_write_short(path, picked, n, 0, &err)
                     : ecg_error_set(&err, ECG_ERR_VALUE, "the sample has fewer than 4 records of a class");
    ecg_dataset_free(&ds);
    if (rc) {
        fprintf(stderr, "cannot write %s: %s\n", path, err.msg);
        abort();
    }
    return path;
}

/* The scenario's own options: mixup, or (which refuses mixup) the step over two replicas with the head reading
 * each record's rhythm features. */
static const char *train_variant[2] = {"train.mixup_alpha=0.2", "model.rhythm_features=false"};

/* One epoch of one step of 8 images of 16 x 16, validation, calibration, the RR fusion and the test report, with
 * the options that allocate (AdamW's moments, the EMA, mixup or replicas, class weights, clipping): every stage
 * of a run, small. */
static int train_tiny(struct ecg_error *err)
{
    char *ov[] = {
        ecg_test_fmt("run.dir=%s", train_dir()), "run.seed=5", "run.threads=1", "run.log_level=error",
        "data.format=cachet_short", ecg_test_fmt("data.path=%s", train_data()), "data.val_fraction=0.25", "data.test_fraction=0.25", "data.spectrogram.height=16",
        "data.spectrogram.width=16", "model.pretrained=none", "optim.name=adamw", "optim.ema_decay=0.9",
        "optim.clip_norm=1", (char *)train_variant[0], (char *)train_variant[1], "train.epochs=1", "train.batch_size=8",
        "train.warmup_epochs=0", "train.head_epochs=0", "eval.batch_size=4", "eval.windows=1", "eval.calibrate=true",
        "eval.rr_fusion=true",
    };
    struct ecg_config c;
    ECG_TRY(ecg_config_resolve(&c, NULL, (int)(sizeof ov / sizeof ov[0]), ov, err));
    /* The report a successful run prints, once per allocation, is not the test's output. */
    fflush(stdout);
    int saved = dup(1), null = open("/dev/null", O_WRONLY);
    ECG_ASSERT(saved >= 0 && null >= 0 && dup2(null, 1) == 1);
    int rc = ecg_train_run(&c, NULL, err);
    ecg_run_log_stop(); /* stdout and stderr are ours again */
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(null);
    ecg_config_free(&c);
    return rc;
}

static bool train_ok(void)
{
    const char *files[] = {"config.yaml", "log.csv", "last.h5", "best.h5", "metrics.json", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (access(ecg_test_fmt("%s/%s", train_dir(), files[i]), R_OK) != 0) {
            fprintf(stderr, "\n  %s/%s is missing\n", train_dir(), files[i]);
            return false;
        }
    return true;
}

/* ---- classifying one record ---------------------------------------------------------------------------- */

/* Two sweeps: loading the model, then classifying with the model loaded once (as programs and the
 * server do, one model for every context).  Every allocation of the path fails once either way, and a
 * failure in the second part does not pay for loading the weights again. */
static struct ecg_infer_model *cls_model;
static float cls_want[8], cls_got[8];
static int cls_best;

static int load_model(struct ecg_infer_model **m, struct ecg_error *err)
{
    char *ov[] = {"data.format=cinc2017", ecg_test_fmt("data.path=%s", ecg_test_fixture("data/cinc2017")),
                  "eval.hop_seconds=0", "eval.windows=1", "eval.batch_size=1", "run.log_level=error", "data.spectrogram.height=32",
                  "data.spectrogram.width=32"};
    return ecg_infer_model_load(source("weights/ecg_effb0_cinc2017.h5"), NULL,
                                (int)(sizeof ov / sizeof ov[0]), ov, m, err);
}

static bool model_right; /* the last load gave a model of 4 classes with a network */

static int load_and_free_model(struct ecg_error *err)
{
    struct ecg_infer_model *m = NULL;
    int rc = load_model(&m, err);
    model_right = !rc && ecg_infer_model_classes(m, NULL) == 4 && ecg_infer_model_has_network(m);
    ecg_infer_model_free(m);
    return rc;
}

static bool model_ok(void) { return model_right; }

static void model_reset(void) { model_right = false; }

static int classify_record(struct ecg_error *err)
{
    struct ecg_infer_context *ctx = NULL;
    struct ecg_infer_result *r = NULL;
    int64_t n = 0;
    int rc = ecg_infer_context_init(cls_model, &ctx, err);
    if (!rc) /* with the Grad-CAM maps, whose buffers are allocated too */
        rc = ecg_infer_context_explain(ctx, 1, err);
    if (!rc)
        rc = ecg_infer_classify_file(ctx, ecg_test_fmt("%s/A00592.mat", ecg_test_fixture("data/cinc2017")), NULL, 0,
                                     &r, &n, err);
    if (!rc && n == 1 && r->classes == 4 && r->cams) {
        memcpy(cls_got, r->probs, 4 * sizeof(float));
        cls_best = r->best;
    }
    ecg_infer_results_free(r, n);
    ecg_infer_context_free(ctx);
    return rc;
}

static bool classify_ok(void)
{
    return cls_best >= 0 && memcmp(cls_got, cls_want, 4 * sizeof(float)) == 0;
}

static void classify_reset(void)
{
    memset(cls_got, 0, sizeof cls_got);
    cls_best = -1;
}

/* ---- the tests ------------------------------------------------------------------------------------------ */

static void every_failing_allocation_of_config_loading_ends_in_an_out_of_memory_error(void)
{
    const struct scenario s = {"config loading (a base: chain and overrides)", load_config, config_ok, NULL};
    sweep(&s);
}

static void every_failing_allocation_of_a_checkpoint_round_trip_ends_in_an_out_of_memory_error(void)
{
    checkpoint_setup();
    const struct scenario s = {"checkpoint save and load", checkpoint_round_trip, checkpoint_ok, checkpoint_reset};
    sweep(&s);
    checkpoint_reset();
    checkpoint_teardown();
}

static void every_failing_allocation_of_a_training_run_ends_in_an_out_of_memory_error(void)
{
    train_data(); /* written unarmed */
    train_variant[0] = "train.mixup_alpha=0.2", train_variant[1] = "model.rhythm_features=false";
    const struct scenario s = {"a one-step training run", train_tiny, train_ok, train_reset};
    sweep(&s);
    train_reset();
}

static void every_failing_allocation_of_a_training_run_over_replicas_ends_in_an_out_of_memory_error(void)
{
    train_data();
    train_variant[0] = "run.replicas=2", train_variant[1] = "model.rhythm_features=true";
    const struct scenario s = {"a one-step training run over two replicas, with rhythm features", train_tiny,
                               train_ok, train_reset};
    sweep(&s);
    train_reset();
    train_variant[0] = "train.mixup_alpha=0.2", train_variant[1] = "model.rhythm_features=false";
}

static void every_failing_allocation_of_loading_a_model_ends_in_an_out_of_memory_error(void)
{
    const struct scenario s = {"loading a model", load_and_free_model, model_ok, model_reset};
    sweep(&s);
}

static void every_failing_allocation_of_classifying_a_record_ends_in_an_out_of_memory_error(void)
{
    struct ecg_error err = {0};
    int rc = load_model(&cls_model, &err);
    if (!rc) {
        classify_reset();
        rc = classify_record(&err); /* the probabilities with every allocation granted */
    }
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    memcpy(cls_want, cls_got, sizeof cls_want);
    const struct scenario s = {"classifying one record with a loaded model", classify_record, classify_ok,
                               classify_reset};
    sweep(&s);
    ecg_infer_model_free(cls_model);
    cls_model = NULL;
}

/* One suite per scenario, so that sweeps can run alone or side by side (test_alloc_fail SUITE...; meson runs
 * the two training sweeps, a few minutes each, as tests of their own). */
static const struct ecg_test config_tests[] = {
    {"every failing allocation of config loading ends in an out-of-memory error",
     every_failing_allocation_of_config_loading_ends_in_an_out_of_memory_error},
    {NULL, NULL}};
static const struct ecg_test checkpoint_tests[] = {
    {"every failing allocation of a checkpoint round trip ends in an out-of-memory error",
     every_failing_allocation_of_a_checkpoint_round_trip_ends_in_an_out_of_memory_error},
    {NULL, NULL}};
static const struct ecg_test train_tests[] = {
    {"every failing allocation of a training run ends in an out-of-memory error",
     every_failing_allocation_of_a_training_run_ends_in_an_out_of_memory_error},
    {NULL, NULL}};
static const struct ecg_test replicas_tests[] = {
    {"every failing allocation of a training run over replicas ends in an out-of-memory error",
     every_failing_allocation_of_a_training_run_over_replicas_ends_in_an_out_of_memory_error},
    {NULL, NULL}};
static const struct ecg_test classify_tests[] = {
    {"every failing allocation of loading a model ends in an out-of-memory error",
     every_failing_allocation_of_loading_a_model_ends_in_an_out_of_memory_error},
    {"every failing allocation of classifying a record ends in an out-of-memory error",
     every_failing_allocation_of_classifying_a_record_ends_in_an_out_of_memory_error},
    {NULL, NULL}};

static const struct ecg_suite suites[] = {
    {"config", config_tests},     {"checkpoint", checkpoint_tests}, {"training", train_tests},
    {"replicas", replicas_tests}, {"classify", classify_tests},     {NULL, NULL}};

int main(int argc, char **argv)
{
    signal(SIGSEGV, on_fatal_signal);
    signal(SIGABRT, on_fatal_signal);
    signal(SIGBUS, on_fatal_signal);
#if LEAK_CHECKS
    __sanitizer_set_death_callback(where_it_died);
#endif
    /* A training run allocates and frees hundreds of MiB; from the kernel each time (mmap), every run pays
     * the page faults again, which on some virtual machines made a sweep take 10 minutes instead of 1.
     * Kept in the process, the memory is reused (no effect under the sanitizers' own allocator). */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, -1);
    ecg_test_tmpdir(); /* created before any sweep arms the injection */
    ecg_log_set_level(ECG_LOG_WARN); /* the first run of a sweep is a success: no progress lines */
    return ecg_test_main(argc, argv, suites);
}
