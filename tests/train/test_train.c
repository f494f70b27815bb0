/* Tests of whole training runs on a tiny synthetic dataset: learning, determinism, resume, signals, config errors. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "train/config.h"
#include "core/rng.h"
#include "data/readers.h"
#include "data/rhythm_features.h"
#include "eval/epoch_log.h"
#include "tests/test_util.h"
#include "train/train.h"
#include "infer/infer.h"
#include "io/model_file.h"

/* 12 records per class at 1024 Hz, 10 s: a class is a sinusoid frequency (3, 8, 15, 25 Hz) plus noise. */
static const char *synthetic_dataset(void)
{
    static char path[512];
    if (path[0])
        return path;
    snprintf(path, sizeof path, "%s/synthetic.h5", ecg_test_tmpdir());
    enum { PER_CLASS = 12, N = 10240 };
    static const double freq[4] = {3, 8, 15, 25};
    struct ecg_record recs[4 * PER_CLASS];
    struct ecg_rng rng = ecg_rng_init(11, 0);
    for (int i = 0; i < 4 * PER_CLASS; i++) {
        struct ecg_record *r = &recs[i];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "syn%d", i);
        r->label = i % 4;
        r->fs = 1024;
        r->length = N;
        r->signal = malloc(N * sizeof(float));
        double phase = 6.28 * ecg_rng_uniform(&rng);
        for (int j = 0; j < N; j++)
            r->signal[j] = (float)(sin(6.283185307 * freq[r->label] * j / 1024.0 + phase) +
                                   0.2 * ecg_rng_normal(&rng));
    }
    struct ecg_error err = {0};
    int rc = ecg_cachet_write_short(path, recs, 4 * PER_CLASS, 0, &err);
    for (int i = 0; i < 4 * PER_CLASS; i++)
        free(recs[i].signal);
    if (rc) {
        fprintf(stderr, "cannot write %s: %s\n", path, err.msg);
        abort();
    }
    return path;
}

/* The tiny run's settings; `extra` (NULL-terminated) are further overrides. */
static int tiny_config(struct ecg_config *c, const char *dir, const char *const *extra, struct ecg_error *err)
{
    const char *base[] = {
        ecg_test_fmt("run.dir=%s", dir), "run.seed=3", "run.threads=2", "run.log_level=warn",
        "data.format=cachet_short", ecg_test_fmt("data.path=%s", synthetic_dataset()), "data.val_fraction=0.25",
        "data.test_fraction=0.25", "data.spectrogram.height=32", "data.spectrogram.width=32",
        "data.augment.shift_prob=0", "data.augment.scale_prob=0", "data.augment.noise_prob=0",
        "data.augment.wander_prob=0", "data.augment.time_mask_prob=0", "data.augment.freq_mask_prob=0",
        "model.pretrained=none", "model.freeze_bn=false", "model.bn_momentum=0.9", "model.dropout=0",
        "model.drop_connect=0", "optim.name=adamw", "optim.lr=0.001", "optim.momentum=0.9",
        "optim.weight_decay=0", "train.epochs=4", "train.batch_size=8", "train.warmup_epochs=0",
        "train.schedule=constant", "train.head_epochs=0", "train.patience=0", "train.class_weights=none",
        "train.label_smoothing=0", "eval.batch_size=16", "eval.windows=1",
    };
    char *all[64];
    int n = 0;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        all[n++] = strdup(base[i]);
    for (int i = 0; extra && extra[i]; i++)
        all[n++] = strdup(extra[i]);
    int rc = ecg_config_resolve(c, NULL, n, all, err);
    for (int i = 0; i < n; i++)
        free(all[i]);
    return rc;
}

static int run_tiny(const char *dir, const char *const *extra, const char *resume, struct ecg_error *err)
{
    struct ecg_config c;
    int rc = tiny_config(&c, dir, extra, err);
    if (rc)
        return rc;
    rc = ecg_train_run(&c, resume, err);
    ecg_config_free(&c);
    if (rc && rc != ECG_ERR_INTERRUPTED)
        fprintf(stderr, "\n  %s: %s\n", dir, err->msg);
    return rc;
}

static char *read_all(const char *path) { return ecg_test_read_file(path); }

static void a_tiny_run_learns_and_writes_its_run_directory(void)
{
    const char *dir = ecg_test_fmt("%s/learn", ecg_test_tmpdir());
    struct ecg_error err = {0};
    const char *extra[] = {"train.epochs=8", NULL};
    int rc = run_tiny(dir, extra, NULL, &err);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    struct ecg_epoch_row *rows = NULL;
    int64_t n = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_epoch_log_read(ecg_test_fmt("%s/log.csv", dir), &rows, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 8);
    fprintf(stderr, "\n  train loss by epoch:");
    for (int64_t i = 0; i < n; i++)
        fprintf(stderr, " %.3f", rows[i].train_loss);
    /* From scratch the loss is noisy epoch to epoch: compare the last two with the first. */
    CU_ASSERT_TRUE(0.5 * (rows[6].train_loss + rows[7].train_loss) < 0.6 * rows[0].train_loss);
    free(rows);
    const char *files[] = {"config.yaml", "last.h5", "best.h5", "metrics.json", "report.html", "report.txt",
                           "confusion.svg", "curves.svg"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        struct stat st;
        int present = stat(ecg_test_fmt("%s/%s", dir, files[i]), &st) == 0 && st.st_size > 0;
        if (!present)
            fprintf(stderr, "\n  missing %s/%s\n", dir, files[i]);
        CU_ASSERT_TRUE(present);
    }
}

/* Compares everything but wall times of two epoch logs, and the two metrics files. */
static void check_same_run(const char *a, const char *b)
{
    struct ecg_error err = {0};
    struct ecg_epoch_row *ra, *rb;
    int64_t na, nb;
    CU_ASSERT_EQUAL_FATAL(ecg_epoch_log_read(ecg_test_fmt("%s/log.csv", a), &ra, &na, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_epoch_log_read(ecg_test_fmt("%s/log.csv", b), &rb, &nb, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(na, nb);
    for (int64_t i = 0; i < na; i++) {
        CU_ASSERT_EQUAL(ra[i].train_loss, rb[i].train_loss);
        CU_ASSERT_EQUAL(ra[i].train_acc, rb[i].train_acc);
        CU_ASSERT_EQUAL(ra[i].val_loss, rb[i].val_loss);
        CU_ASSERT_EQUAL(ra[i].val_macro_f1, rb[i].val_macro_f1);
        CU_ASSERT_EQUAL(ra[i].lr, rb[i].lr);
    }
    free(ra);
    free(rb);
    char *ma = read_all(ecg_test_fmt("%s/metrics.json", a)), *mb = read_all(ecg_test_fmt("%s/metrics.json", b));
    CU_ASSERT_PTR_NOT_NULL_FATAL(ma);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
    CU_ASSERT_STRING_EQUAL(ma, mb);
    free(ma);
    free(mb);
}

static void the_same_seed_and_threads_give_bit_identical_metrics(void)
{
    const char *extra[] = {"data.augment.noise_prob=0.5", "data.augment.time_mask_prob=0.5", "model.dropout=0.2",
                           "model.drop_connect=0.2", "train.epochs=2", NULL};
    struct ecg_error err = {0};
    const char *a = ecg_test_fmt("%s/det_a", ecg_test_tmpdir()), *b = ecg_test_fmt("%s/det_b", ecg_test_tmpdir());
    CU_ASSERT_EQUAL_FATAL(run_tiny(a, extra, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(run_tiny(b, extra, NULL, &err), ECG_OK);
    check_same_run(a, b);
}

/* A 3-epoch run against 1 epoch resumed for 2 more, both with `replicas` (run.replicas). */
static void check_resume_at_an_epoch_boundary(const char *replicas, const char *name)
{
    const char *extra3[] = {replicas, "train.epochs=3", "optim.name=adamw", "optim.lr=0.002", "optim.ema_decay=0.9",
                            "data.augment.noise_prob=0.5", NULL};
    const char *extra1[] = {replicas, "train.epochs=1", "optim.name=adamw", "optim.lr=0.002", "optim.ema_decay=0.9",
                            "data.augment.noise_prob=0.5", NULL};
    struct ecg_error err = {0};
    const char *whole = ecg_test_fmt("%s/whole%s", ecg_test_tmpdir(), name);
    const char *parts = ecg_test_fmt("%s/parts%s", ecg_test_tmpdir(), name);
    CU_ASSERT_EQUAL_FATAL(run_tiny(whole, extra3, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(run_tiny(parts, extra1, NULL, &err), ECG_OK);
    int rc = run_tiny(parts, extra3, ecg_test_fmt("%s/last.h5", parts), &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    check_same_run(whole, parts);
}

static void a_run_resumed_at_an_epoch_boundary_ends_bit_identical(void)
{
    check_resume_at_an_epoch_boundary("run.replicas=1", "");
}

static void a_run_over_two_replicas_resumed_at_an_epoch_boundary_ends_bit_identical(void)
{
    check_resume_at_an_epoch_boundary("run.replicas=2", "_replicas");
}

/* Runs the ecgtrain program on the tiny config; returns its exit status; stderr into *errtext. */
static int spawn_ecgtrain(const char *dir, const char *more, int kill_after_ms, char **errtext)
{
    const char *exe = getenv("ECGTRAIN");
    CU_ASSERT_PTR_NOT_NULL_FATAL(exe);
    struct ecg_config c;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(tiny_config(&c, dir, NULL, &err), ECG_OK);
    mkdir(dir, 0777);
    FILE *f = fopen(ecg_test_fmt("%s.yaml", dir), "w");
    CU_ASSERT_EQUAL_FATAL(ecg_config_write_yaml(&c, f, &err), ECG_OK);
    fclose(f);
    ecg_config_free(&c);
    pid_t pid = fork();
    if (pid == 0) {
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "exec '%s' '%s.yaml' %s 2>'%s.err' >/dev/null", exe, dir, more, dir);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    if (kill_after_ms > 0) {
        usleep((useconds_t)kill_after_ms * 1000);
        kill(pid, SIGTERM);
    }
    int st;
    waitpid(pid, &st, 0);
    *errtext = read_all(ecg_test_fmt("%s.err", dir));
    if (!*errtext)
        *errtext = strdup("");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void sigterm_saves_a_checkpoint_and_the_resumed_run_ends_bit_identical(void)
{
    const char *stopped = ecg_test_fmt("%s/stopped", ecg_test_tmpdir()), *straight = ecg_test_fmt("%s/straight", ecg_test_tmpdir());
    char *errt = NULL;
    /* Stopped somewhere inside the run (after the model is built: about a second). */
    int st = spawn_ecgtrain(stopped, "train.epochs=6", 2500, &errt);
    if (st == 0) {
        fprintf(stderr, "\n  the run finished before SIGTERM; the resume part is not exercised\n");
    } else {
        CU_ASSERT_EQUAL(st, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(errt, "interrupted in epoch"));
        CU_ASSERT_PTR_NOT_NULL(strstr(errt, "checkpoint saved: continue with run.resume="));
    }
    free(errt);
    struct stat sb;
    CU_ASSERT_EQUAL_FATAL(stat(ecg_test_fmt("%s/last.h5", stopped), &sb), 0);
    st = spawn_ecgtrain(stopped, ecg_test_fmt("train.epochs=6 run.resume=%s/last.h5", stopped), 0, &errt);
    CU_ASSERT_EQUAL(st, 0);
    if (st)
        fprintf(stderr, "\n  %s\n", errt);
    free(errt);
    st = spawn_ecgtrain(straight, "train.epochs=6", 0, &errt);
    CU_ASSERT_EQUAL(st, 0);
    free(errt);
    check_same_run(straight, stopped);
}

static void config_errors_of_the_training_keys_name_the_key(void)
{
    struct ecg_error err = {0};
    const char *dir = ecg_test_fmt("%s/errors", ecg_test_tmpdir());
    struct {
        const char *override, *message;
        enum ecg_status code;
    } cases[] = {
        {"model.num_classes=5", "model.num_classes: the cachet_short data have 4 classes, found 5", ECG_ERR_CONFIG},
        {"model.freeze=block7d", "model.freeze: the model has no block 'block7d'", ECG_ERR_CONFIG},
        {"train.unfreeze_from=block6e", "train.unfreeze_from: the model has no block 'block6e'", ECG_ERR_CONFIG},
        {"data.exclude=no/such/list.txt", "data.exclude: cannot open no/such/list.txt", ECG_ERR_IO},
        {"run.resume=no/such/last.h5", "run.resume: no/such/last.h5", ECG_ERR_IO},
        {"model.pretrained=no/such/weights.h5", "model.pretrained: no/such/weights.h5", ECG_ERR_IO},
        {"data.path=no/such/data.h5", "data.path: no/such/data.h5", ECG_ERR_IO},
        {"data.test_fraction=0", "eval.split: the test split of", ECG_ERR_CONFIG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *extra[] = {cases[i].override, NULL};
        struct ecg_config c;
        ecg_error_clear(&err);
        int rc = tiny_config(&c, dir, extra, &err);
        CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
        rc = ecg_train_run(&c, c.run.resume, &err);
        ecg_config_free(&c);
        ECG_CHECK_ERROR(rc, &err, cases[i].code, cases[i].message);
    }
    struct ecg_config c;
    const char *bad[] = {"model.input_norm=imagnet", NULL};
    ECG_CHECK_ERROR(tiny_config(&c, dir, bad, &err), &err, ECG_ERR_CONFIG, "model.input_norm");
    const char *weights[] = {"train.class_weights=[1,2]", NULL};
    ECG_CHECK_ERROR(tiny_config(&c, dir, weights, &err), &err, ECG_ERR_CONFIG,
                    "keys 'train.class_weights' and 'model.num_classes': expected one weight per class (4), found 2");
}

/* Loads the weights of checkpoint `path` into a fresh model of the tiny config. */
static void load_tiny_weights(const char *path, struct ecg_effnet *m)
{
    struct ecg_config c;
    struct ecg_error err = {0};
    const char *extra[] = {ecg_test_fmt("model.pretrained=%s", path), NULL};
    CU_ASSERT_EQUAL_FATAL(tiny_config(&c, ecg_test_tmpdir(), extra, &err), ECG_OK);
    int rc = ecg_model_build(&c, 8, true, m, NULL, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    ecg_config_free(&c);
}

static bool same_param(const struct ecg_effnet *a, const struct ecg_effnet *b, const char *name)
{
    int i = ecg_params_find(a->params, name), j = ecg_params_find(b->params, name);
    ECG_ASSERT(i >= 0 && j >= 0);
    return memcmp(ecg_params_value(a->params, i), ecg_params_value(b->params, j),
                  (size_t)a->params->items[i].numel * sizeof(float)) == 0;
}

static void a_run_config_with_folds_tests_each_record_in_exactly_one_fold(void)
{
    enum { FOLDS = 3 };
    int *test_times = NULL;
    int64_t count = 0;
    for (int f = 0; f < FOLDS; f++) {
        const char *extra[] = {ecg_test_fmt("data.folds=%d", FOLDS), ecg_test_fmt("data.fold=%d", f), "data.val_fraction=0.2", NULL};
        struct ecg_config c;
        struct ecg_error err = {0};
        CU_ASSERT_EQUAL_FATAL(tiny_config(&c, ecg_test_tmpdir(), extra, &err), ECG_OK);
        struct ecg_dataset ds;
        struct ecg_splits s;
        CU_ASSERT_EQUAL_FATAL(ecg_prepare_dataset(&c, &ds, &err), ECG_OK);
        CU_ASSERT_EQUAL_FATAL(ecg_config_split(&c, &ds, &s, &err), ECG_OK);
        if (!test_times) {
            count = ds.count;
            test_times = calloc((size_t)count, sizeof *test_times);
        }
        CU_ASSERT_EQUAL_FATAL(ds.count, count);
        /* One third of the records is this fold's test set; validation and training come from the rest. */
        CU_ASSERT_EQUAL(s.n[ECG_PART_TEST], count / FOLDS);
        CU_ASSERT_TRUE(s.n[ECG_PART_VAL] > 0 && s.n[ECG_PART_TRAIN] > 0);
        CU_ASSERT_EQUAL(s.n[ECG_PART_TRAIN] + s.n[ECG_PART_VAL] + s.n[ECG_PART_TEST], count);
        for (int64_t k = 0; k < s.n[ECG_PART_TEST]; k++)
            test_times[s.idx[ECG_PART_TEST][k]]++;
        ecg_split_free(&s);
        ecg_dataset_free(&ds);
        ecg_config_free(&c);
    }
    /* The folds' test sets are disjoint and together hold every record. */
    for (int64_t i = 0; i < count; i++)
        CU_ASSERT_EQUAL(test_times[i], 1);
    free(test_times);
}

static void head_only_epochs_leave_the_backbone_untouched(void)
{
    struct ecg_error err = {0};
    const char *dir = ecg_test_fmt("%s/headonly", ecg_test_tmpdir()), *ref = ecg_test_fmt("%s/headonly-ref", ecg_test_tmpdir());
    const char *head[] = {"train.epochs=1", "train.head_epochs=1", NULL};
    const char *none[] = {"train.epochs=1", "train.head_epochs=0", NULL};
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, head, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(run_tiny(ref, none, NULL, &err), ECG_OK);
    /* The initial weights: a model of the same seed, never trained. */
    struct ecg_config c;
    CU_ASSERT_EQUAL_FATAL(tiny_config(&c, dir, NULL, &err), ECG_OK);
    struct ecg_effnet init = {0}, trained = {0}, whole = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_model_build(&c, 8, true, &init, NULL, &err), ECG_OK);
    ecg_config_free(&c);
    load_tiny_weights(ecg_test_fmt("%s/last.h5", dir), &trained);
    load_tiny_weights(ecg_test_fmt("%s/last.h5", ref), &whole);
    const char *backbone[] = {"stem_conv/kernel", "block1a_dwconv/depthwise_kernel", "block4b_expand_conv/kernel",
                              "top_conv/kernel", "top_bn/gamma"};
    for (size_t i = 0; i < sizeof backbone / sizeof backbone[0]; i++) {
        CU_ASSERT_TRUE(same_param(&init, &trained, backbone[i]));
        CU_ASSERT_FALSE(same_param(&init, &whole, backbone[i]));
    }
    CU_ASSERT_FALSE(same_param(&init, &trained, "predictions/kernel"));
    CU_ASSERT_FALSE(same_param(&init, &trained, "predictions/bias"));
    ecg_effnet_free(&init);
    ecg_effnet_free(&trained);
    ecg_effnet_free(&whole);
}

static void the_spectrogram_cache_gives_the_same_metrics(void)
{
    struct ecg_error err = {0};
    const char *plain = ecg_test_fmt("%s/nocache", ecg_test_tmpdir()), *cached = ecg_test_fmt("%s/cached", ecg_test_tmpdir());
    const char *cache_dir = ecg_test_fmt("%s/spec-cache", ecg_test_tmpdir());
    const char *one[] = {"train.epochs=1", NULL};
    const char *with_cache[] = {"train.epochs=1", ecg_test_fmt("data.cache_dir=%s", cache_dir), NULL};
    CU_ASSERT_EQUAL_FATAL(run_tiny(plain, one, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(run_tiny(cached, with_cache, NULL, &err), ECG_OK); /* fills the cache */
    check_same_run(plain, cached);
    CU_ASSERT_EQUAL_FATAL(run_tiny(cached, with_cache, NULL, &err), ECG_OK); /* reads it, into cached-2 */
    check_same_run(plain, ecg_test_fmt("%s-2", cached));
    struct stat st;
    CU_ASSERT_EQUAL(stat(cache_dir, &st), 0);
}

static void load_tiny_weights(const char *path, struct ecg_effnet *m);

/* Runs a command line through the shell; returns its exit status, stdout and stderr in *out, *errt. */
static int shell(const char *cmdline, char **out, char **errt)
{
    const char *dir = ecg_test_tmpdir();
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s >'%s/sh.out' 2>'%s/sh.err'", cmdline, dir, dir);
    int st = system(cmd);
    *out = read_all(ecg_test_fmt("%s/sh.out", dir));
    *errt = read_all(ecg_test_fmt("%s/sh.err", dir));
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void ecgeval_and_ecgpredict_use_a_checkpoint(void)
{
    const char *dir = ecg_test_fmt("%s/tools", ecg_test_tmpdir());
    const char *extra[] = {"train.epochs=1", NULL};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, extra, NULL, &err), ECG_OK);
    const char *eval = getenv("ECGEVAL"), *predict = getenv("ECGPREDICT");
    CU_ASSERT_PTR_NOT_NULL_FATAL(eval);
    CU_ASSERT_PTR_NOT_NULL_FATAL(predict);
    char *out, *errt;

    /* The run's own test split again: the same metrics file as the run wrote. */
    int st = shell(ecg_test_fmt("'%s' '%s/best.h5' --out '%s/eval'", eval, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 0);
    if (st)
        fprintf(stderr, "\n  %s\n", errt);
    char *a = read_all(ecg_test_fmt("%s/metrics.json", dir)), *b = read_all(ecg_test_fmt("%s/eval/metrics.json", dir));
    CU_ASSERT_PTR_NOT_NULL(a);
    CU_ASSERT_PTR_NOT_NULL(b);
    /* Up to the calibration member they agree; ecgeval knows the temperature, not how it was fitted. */
    char *ca = a ? strstr(a, "\"calibration\"") : NULL, *cb = b ? strstr(b, "\"calibration\"") : NULL;
    CU_ASSERT_PTR_NOT_NULL(ca);
    CU_ASSERT_PTR_NOT_NULL(cb);
    if (ca && cb) {
        CU_ASSERT_EQUAL(ca - a, cb - b);
        CU_ASSERT_EQUAL(strncmp(a, b, (size_t)(ca - a)), 0);
        char *ea = strstr(ca, "\"ece\""), *eb = strstr(cb, "\"ece\"");
        CU_ASSERT_TRUE(ea && eb && strncmp(ea, eb, (size_t)(strchr(ea, '\n') - ea)) == 0);
        ea = strstr(ca, "\"temperature\""), eb = strstr(cb, "\"temperature\"");
        CU_ASSERT_TRUE(ea && eb && strncmp(ea, eb, (size_t)(strchr(ea, '\n') - ea)) == 0);
    }
    free(a), free(b), free(out), free(errt);

    /* Every record of a dataset, with data.split=all. */
    st = shell(ecg_test_fmt("'%s' '%s/best.h5' data.split=all --out '%s/all'", eval, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "(all, 48 records)"));
    free(out), free(errt);

    /* One JSON line per segment of a CACHET-CADB file. */
    st = shell(ecg_test_fmt("'%s' '%s/best.h5' '%s'", predict, dir, synthetic_dataset()), &out, &errt);
    CU_ASSERT_EQUAL(st, 0);
    int lines = 0;
    for (const char *p = out; p && (p = strchr(p, '\n')); p++)
        lines++;
    CU_ASSERT_EQUAL(lines, 48);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "{\"file\":"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"probabilities\":{\"AF\":"));
    free(out), free(errt);

    /* Bad input: one message naming the file, exit 1 or 2. */
    st = shell(ecg_test_fmt("'%s' '%s' --out '%s/x'", eval, synthetic_dataset(), dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "not an ecgtrain checkpoint"));
    free(out), free(errt);
    st = shell(ecg_test_fmt("'%s' '%s/best.h5' model.num_classes=7 --out '%s/x'", eval, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "num_classes"));
    free(out), free(errt);
    st = shell(ecg_test_fmt("'%s' '%s/best.h5' '%s/config.yaml'", predict, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "expected a CinC 2017 record (.mat), a CACHET-CADB file (.h5) or samples"));
    free(out), free(errt);
    /* a directory where a record or model is expected: the one message, no HDF5 diagnostics */
    st = shell(ecg_test_fmt("'%s' '%s/best.h5' '%s'", predict, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "expected a CinC 2017 record (.mat), a CACHET-CADB file (.h5) or samples"));
    CU_ASSERT_PTR_NULL(strstr(errt, "HDF5"));
    free(out), free(errt);
    st = shell(ecg_test_fmt("'%s' '%s'", predict, dir), &out, &errt);
    CU_ASSERT_NOT_EQUAL(st, 0);
    CU_ASSERT_PTR_NULL(strstr(errt, "HDF5"));
    free(out), free(errt);
    st = shell(ecg_test_fmt("'%s' '%s/best.h5'", eval, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "missing --out DIR"));
    free(out), free(errt);

    /* ecgexport: a plain weight file that loads as model.pretrained, head included. */
    const char *export = getenv("ECGEXPORT");
    CU_ASSERT_PTR_NOT_NULL_FATAL(export);
    st = shell(ecg_test_fmt("'%s' '%s/best.h5' '%s/plain.h5'", export, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 0);
    free(out), free(errt);
    struct ecg_effnet from_ckpt = {0}, from_plain = {0};
    load_tiny_weights(ecg_test_fmt("%s/best.h5", dir), &from_ckpt);
    load_tiny_weights(ecg_test_fmt("%s/plain.h5", dir), &from_plain);
    CU_ASSERT_EQUAL(memcmp(from_ckpt.params->values, from_plain.params->values,
                           (size_t)from_ckpt.params->total * sizeof(float)), 0);
    ecg_effnet_free(&from_ckpt);
    ecg_effnet_free(&from_plain);
    st = shell(ecg_test_fmt("'%s' '%s/best.h5'", export, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "expected CHECKPOINT and OUT.h5"));
    free(out), free(errt);
    st = shell(ecg_test_fmt("'%s' '%s' '%s/x.h5'", export, synthetic_dataset(), dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "not an ecgtrain checkpoint"));
    free(out), free(errt);
}

/* The lines of predictions.jsonl that ecgeval wrote, with the file name ecgpredict prints. */
static void ecgpredict_prints_ecgeval_s_per_record_predictions(void)
{
    const char *dir = ecg_test_fmt("%s/agree", ecg_test_tmpdir());
    const char *extra[] = {"train.epochs=1", NULL};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, extra, NULL, &err), ECG_OK);
    const char *eval = getenv("ECGEVAL"), *predict = getenv("ECGPREDICT");
    char *out, *errt;
    int st = shell(ecg_test_fmt("'%s' '%s/best.h5' data.split=all --out '%s/all'", eval, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL_FATAL(st, 0);
    free(out), free(errt);
    char *from_eval = read_all(ecg_test_fmt("%s/all/predictions.jsonl", dir));
    CU_ASSERT_PTR_NOT_NULL_FATAL(from_eval);
    /* --opt=value and a file after "--" read the same. */
    st = shell(ecg_test_fmt("'%s' --windows=0 '%s/best.h5' -- '%s'", predict, dir, synthetic_dataset()), &out, &errt);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "ecgpredict: --windows takes no value, found '--windows=0'\nusage:"));
    free(out), free(errt);
    st = shell(ecg_test_fmt("'%s' --format=cachet_short '%s/best.h5' -- '%s'", predict, dir, synthetic_dataset()), &out, &errt);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STRING_EQUAL(out, from_eval);
    free(out), free(errt), free(from_eval);
}

/* Samples of one record as CSV, from a file and from standard input, give the record's probabilities. */
static void ecgpredict_reads_samples_from_csv_and_standard_input(void)
{
    const char *dir = ecg_test_fmt("%s/agree", ecg_test_tmpdir()); /* the run of the test above */
    const char *predict = getenv("ECGPREDICT");
    struct ecg_dataset ds = {0};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_dataset_read("cachet_short", synthetic_dataset(), NULL, &ds, &err), ECG_OK);
    const char *csv = ecg_test_fmt("%s/seg.csv", ecg_test_tmpdir()), *timed = ecg_test_fmt("%s/seg_timed.txt", ecg_test_tmpdir());
    FILE *f = fopen(csv, "w"), *g = fopen(timed, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    fprintf(f, "ecg_mv\n");
    fprintf(g, "time_s;ecg_mv\n");
    for (int64_t i = 0; i < ds.records[5].length; i++) {
        fprintf(f, "%.9g\n", (double)ds.records[5].signal[i]);
        fprintf(g, "%.6f;%.9g\n", (double)i / 1024.0, (double)ds.records[5].signal[i]);
    }
    fclose(f);
    fclose(g);
    ecg_dataset_free(&ds);
    char *whole, *one, *piped, *errt;
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s/best.h5' '%s'", predict, dir, synthetic_dataset()), &whole, &errt), 0);
    free(errt);
    /* A record alone is batched alone; the six decimals printed agree with it among others. */
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' --fs 1024 '%s/best.h5' '%s'", predict, dir, csv), &one, &errt), 0);
    free(errt);
    const char *line = whole ? strstr(whole, "\"record\":\"seg0005\"") : NULL;
    const char *probs = one ? strstr(one, "\"probabilities\"") : NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    CU_ASSERT_PTR_NOT_NULL_FATAL(probs);
    CU_ASSERT_EQUAL(strncmp(strstr(line, "\"probabilities\""), probs, strcspn(probs, "}")), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(one, "\"record\":\"seg\""));
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s/best.h5' - < '%s'", predict, dir, timed), &piped, &errt), 0);
    CU_ASSERT_PTR_NOT_NULL(piped && strstr(piped, probs));
    CU_ASSERT_PTR_NOT_NULL(piped && strstr(piped, "\"file\":\"-\",\"record\":\"stdin\""));
    free(piped), free(errt);
    /* Without a rate or a time column: one message naming standard input. */
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s/best.h5' - < '%s'", predict, dir, csv), &piped, &errt), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "ecgpredict: standard input: the sampling rate is unknown: give fs (Hz) or a time column"));
    free(piped), free(errt);
    free(whole), free(one);
}


/* An exported model file classifies exactly as its checkpoint, with no configuration, and is the default model. */
static void an_exported_model_file_classifies_as_its_checkpoint(void)
{
    const char *dir = ecg_test_fmt("%s/export", ecg_test_tmpdir());
    const char *extra[] = {"train.epochs=2", "eval.calibrate=true", NULL};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, extra, NULL, &err), ECG_OK);
    const char *export = getenv("ECGEXPORT"), *predict = getenv("ECGPREDICT"), *eval = getenv("ECGEVAL");
    char *out, *errt, *from_ckpt, *from_model;
    FILE *mf = fopen(ecg_test_fmt("%s/cv.json", dir), "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mf);
    fputs("{\"cinc_f1_mean\": 0.5}\n", mf);
    fclose(mf);
    int st = shell(ecg_test_fmt("'%s' --metrics '%s/cv.json' '%s/best.h5' '%s/model.h5'", export, dir, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL_FATAL(st, 0);
    free(out), free(errt);
    /* The checkpoint's fitted temperature travels with the model. */
    double t_ckpt = 0, t_model = 0;
    CU_ASSERT_EQUAL(ecg_model_file_temperature(ecg_test_fmt("%s/best.h5", dir), &t_ckpt, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_model_file_temperature(ecg_test_fmt("%s/model.h5", dir), &t_model, &err), ECG_OK);
    CU_ASSERT_EQUAL(t_ckpt, t_model);
    CU_ASSERT_NOT_EQUAL(t_ckpt, 1.0);
    struct ecg_infer_model *m = NULL;
    CU_ASSERT_EQUAL_FATAL(ecg_infer_model_load(ecg_test_fmt("%s/model.h5", dir), NULL, 0, NULL, &m, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_infer_model_temperature(m), t_ckpt);
    /* Nothing of the training machine: its paths and its thread count (run.threads=2) stay behind. */
    const struct ecg_config *mc = ecg_infer_model_config(m);
    CU_ASSERT_EQUAL(mc->run.threads, 0);
    CU_ASSERT_PTR_NULL(mc->run.dir);
    CU_ASSERT_PTR_NULL(mc->run.resume);
    ecg_infer_model_free(m);

    /* The same probabilities, bit for bit, from the checkpoint and from the model file. */
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s/best.h5' '%s'", predict, dir, synthetic_dataset()), &from_ckpt, &errt), 0);
    free(errt);
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s/model.h5' '%s'", predict, dir, synthetic_dataset()), &from_model, &errt), 0);
    free(errt);
    CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(from_ckpt, "\"probabilities\""));
    CU_ASSERT_STRING_EQUAL(from_ckpt, from_model);
    /* Named nowhere, the model is weights/ecg_effb0_cinc2017.h5 of the working directory. */
    CU_ASSERT_EQUAL(mkdir(ecg_test_fmt("%s/cwd", dir), 0755), 0);
    CU_ASSERT_EQUAL(mkdir(ecg_test_fmt("%s/cwd/weights", dir), 0755), 0);
    CU_ASSERT_EQUAL(symlink(ecg_test_fmt("%s/model.h5", dir), ecg_test_fmt("%s/cwd/weights/ecg_effb0_cinc2017.h5", dir)), 0);
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("cd '%s/cwd' && '%s' '%s'", dir, predict, synthetic_dataset()), &out, &errt), 0);
    CU_ASSERT_STRING_EQUAL(out, from_model);
    free(out), free(errt), free(from_ckpt), free(from_model);
    st = shell(ecg_test_fmt("cd '%s' && '%s' '%s'", dir, predict, synthetic_dataset()), &out, &errt);
    CU_ASSERT_EQUAL(st, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "no MODEL named, and the shipped model weights/ecg_effb0_cinc2017.h5 is not"));
    free(out), free(errt);
    /* ecgeval takes it with no configuration; its metrics are the checkpoint's. */
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s/model.h5' --out '%s/e1'", eval, dir, dir), &out, &errt), 0);
    free(out), free(errt);
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s/best.h5' --out '%s/e2'", eval, dir, dir), &out, &errt), 0);
    free(out), free(errt);
    char *a = read_all(ecg_test_fmt("%s/e1/metrics.json", dir)), *b = read_all(ecg_test_fmt("%s/e2/metrics.json", dir));
    CU_ASSERT_TRUE(a && b && strcmp(a, b) == 0);
    free(a), free(b);
    /* A bad metrics file is refused with its name. */
    st = shell(ecg_test_fmt("'%s' --metrics '%s/config.yaml' '%s/best.h5' '%s/x.h5'", export, dir, dir, dir), &out, &errt);
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(errt, "config.yaml: expected a JSON object"));
    free(out), free(errt);
    /* h5py reads the weights and the metadata (skipped, visibly, without h5py). */
    st = shell(ecg_test_fmt("/usr/bin/python3 '%s/tests/io/check_model_file.py' '%s/model.h5' %.17g", getenv("ECG_SOURCE_ROOT"),
                   dir, t_model), &out, &errt);
    if (WEXITSTATUS(st) == 77)
        fprintf(stderr, "\n  SKIPPED the h5py check: %s", out);
    else
        CU_ASSERT_EQUAL(st, 0);
    fprintf(stderr, "\n  %s%s", out, errt);
    free(out), free(errt);
}

/* eval.rr_fusion: the fusion fitted on the validation split is stored in best.h5 and travels to the exported model;
 * ecgeval's metrics on either are the run's own, and the fusion does change the probabilities. */
static void the_rr_fusion_travels_with_the_model(void)
{
    const char *dir = ecg_test_fmt("%s/fusion", ecg_test_tmpdir());
    const char *extra[] = {"train.epochs=2", "eval.calibrate=true", "eval.rr_fusion=true", NULL};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, extra, NULL, &err), ECG_OK);
    const char *export = getenv("ECGEXPORT"), *predict = getenv("ECGPREDICT"), *eval = getenv("ECGEVAL");
    const char *best = ecg_test_fmt("%s/best.h5", dir), *model = ecg_test_fmt("%s/model.h5", dir);
    char *out, *errt;
    CU_ASSERT_EQUAL_FATAL(shell(ecg_test_fmt("'%s' '%s' '%s'", export, best, model), &out, &errt), 0);
    free(out), free(errt);
    struct ecg_rr_fusion in_best, in_model;
    CU_ASSERT_EQUAL(ecg_model_file_rr_fusion(best, 4, &in_best, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_model_file_rr_fusion(model, 4, &in_model, &err), ECG_OK);
    CU_ASSERT_EQUAL(in_best.classes, 4);
    CU_ASSERT_EQUAL(memcmp(&in_best, &in_model, sizeof in_best), 0);
    char *run = read_all(ecg_test_fmt("%s/metrics.json", dir));
    CU_ASSERT_PTR_NOT_NULL_FATAL(run);
    CU_ASSERT_PTR_NOT_NULL(strstr(run, "\"rr_fusion\": true"));
    /* ecgeval (infer/'s path, features from each record again) reports the run's test metrics. */
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s' --out '%s/e1'", eval, best, dir), &out, &errt), 0);
    free(out), free(errt);
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s' --out '%s/e2'", eval, model, dir), &out, &errt), 0);
    free(out), free(errt);
    char *a = read_all(ecg_test_fmt("%s/e1/metrics.json", dir)), *b = read_all(ecg_test_fmt("%s/e2/metrics.json", dir));
    CU_ASSERT_TRUE_FATAL(a && b);
    CU_ASSERT_STRING_EQUAL(a, b);
    char *ca = strstr(run, "\"calibration\""), *cb = strstr(a, "\"calibration\"");
    CU_ASSERT_TRUE_FATAL(ca && cb);
    CU_ASSERT_EQUAL(ca - run, cb - a);
    CU_ASSERT_EQUAL(strncmp(run, a, (size_t)(ca - run)), 0);
    char *ea = strstr(ca, "\"ece\""), *eb = strstr(cb, "\"ece\"");
    CU_ASSERT_TRUE(ea && eb && strncmp(ea, eb, (size_t)(strchr(ea, '\n') - ea)) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(cb, "\"rr_fusion\": true"));
    free(a), free(b), free(run);
    /* Without its fusion the same weights give other probabilities. */
    char *with, *without;
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("cp '%s' '%s/plain.h5'", model, dir), &out, &errt), 0);
    free(out), free(errt);
    struct ecg_rr_fusion none = {0};
    CU_ASSERT_EQUAL(ecg_model_file_set_rr_fusion(ecg_test_fmt("%s/plain.h5", dir), &none, &err), ECG_OK);
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s' '%s'", predict, model, synthetic_dataset()), &with, &errt), 0);
    free(errt);
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s/plain.h5' '%s'", predict, dir, synthetic_dataset()), &without, &errt), 0);
    free(errt);
    CU_ASSERT_TRUE(with && without && strstr(with, "\"probabilities\"") && strcmp(with, without) != 0);
    free(with), free(without);
    /* Finished again without the fusion (a resume that repeats only the end), best.h5 loses it: the report and
     * the model agree. */
    const char *again[] = {"train.epochs=2", "eval.calibrate=true", NULL};
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, again, ecg_test_fmt("%s/last.h5", dir), &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_model_file_rr_fusion(best, 4, &in_best, &err), ECG_OK);
    CU_ASSERT_EQUAL(in_best.classes, 0);
    run = read_all(ecg_test_fmt("%s/metrics.json", dir));
    CU_ASSERT_TRUE(run && strstr(run, "\"rr_fusion\": false"));
    free(run);
    /* Without a validation split there is nothing to fit it on: one error naming the key. */
    const char *no_val[] = {"train.epochs=1", "data.val_fraction=0", "eval.calibrate=true", "eval.rr_fusion=true", NULL};
    CU_ASSERT_EQUAL(run_tiny(ecg_test_fmt("%s-noval", dir), no_val, NULL, &err), ECG_ERR_CONFIG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "eval.rr_fusion: the validation split is empty"));
}

/* ecgeval's metrics.json of a checkpoint, malloc'd; NULL when it fails. */
static char *evaluated(const char *checkpoint, const char *out)
{
    char *o, *e;
    int st = shell(ecg_test_fmt("'%s' '%s' --out '%s'", getenv("ECGEVAL"), checkpoint, out), &o, &e);
    free(o), free(e);
    return st == 0 ? read_all(ecg_test_fmt("%s/metrics.json", out)) : NULL;
}

/* train.select last: best.h5 holds the last epoch's weights, and a run finished with the default selection, resumed
 * with select last, ends as the run that had it from the start. */
static void select_last_keeps_the_last_epoch_also_when_a_finished_run_is_resumed(void)
{
    const char *a = ecg_test_fmt("%s/select_last", ecg_test_tmpdir()), *b = ecg_test_fmt("%s/select_f1", ecg_test_tmpdir());
    const char *last[] = {"train.epochs=4", "train.select=last", NULL}, *f1[] = {"train.epochs=4", NULL};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(run_tiny(a, last, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(run_tiny(b, f1, NULL, &err), ECG_OK);
    struct ecg_epoch_row *rows = NULL;
    int64_t n = 0;
    CU_ASSERT_EQUAL_FATAL(ecg_epoch_log_read(ecg_test_fmt("%s/log.csv", b), &rows, &n, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    bool last_was_best = true; /* by the default selection: the first epoch of the highest validation macro-F1 */
    for (int i = 0; i < 3; i++)
        last_was_best = last_was_best && rows[i].val_macro_f1 < rows[3].val_macro_f1;
    free(rows);
    char *before = read_all(ecg_test_fmt("%s/metrics.json", b));
    CU_ASSERT_EQUAL_FATAL(run_tiny(b, last, ecg_test_fmt("%s/last.h5", b), &err), ECG_OK);
    char *ma = read_all(ecg_test_fmt("%s/metrics.json", a)), *mb = read_all(ecg_test_fmt("%s/metrics.json", b));
    CU_ASSERT_TRUE_FATAL(before && ma && mb);
    CU_ASSERT_STRING_EQUAL(ma, mb);
    if (!last_was_best) /* then the default selection had kept another epoch */
        CU_ASSERT_STRING_NOT_EQUAL(before, mb);
    fprintf(stderr, "\n  the default selection kept %s", last_was_best ? "the last epoch too" : "an earlier epoch");
    char *eb = evaluated(ecg_test_fmt("%s/best.h5", a), ecg_test_fmt("%s/eval_best", a));
    char *el = evaluated(ecg_test_fmt("%s/last.h5", a), ecg_test_fmt("%s/eval_last", a));
    CU_ASSERT_TRUE_FATAL(eb && el);
    CU_ASSERT_STRING_EQUAL(eb, el);
    free(before), free(ma), free(mb), free(eb), free(el);
}

/* A finished run resumed with other eval.* keys (experiments/cv.sh --finish-of) stores the configuration its report
 * was made with in best.h5, so ecgeval, ecgpredict and an exported model window records as the report did. */
static void a_finished_run_resumed_with_other_eval_keys_stores_them_in_best_h5(void)
{
    const char *dir = ecg_test_fmt("%s/refinished", ecg_test_tmpdir());
    const char *best = ecg_test_fmt("%s/best.h5", dir);
    const char *first[] = {"train.epochs=2", NULL}, *again[] = {"train.epochs=2", "eval.windows=3", NULL};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, first, NULL, &err), ECG_OK);
    char *before = NULL, *after = NULL;
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_config(best, &before, &err), ECG_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(before, "windows: 1"));
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, again, ecg_test_fmt("%s/last.h5", dir), &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_config(best, &after, &err), ECG_OK);
    char *run_config = read_all(ecg_test_fmt("%s/config.yaml", dir));
    CU_ASSERT_TRUE_FATAL(run_config != NULL);
    CU_ASSERT_STRING_EQUAL(after, run_config);
    CU_ASSERT_PTR_NOT_NULL(strstr(after, "windows: 3"));
    /* ecgeval with no overrides reports what the finished run reported */
    char *ev = evaluated(best, ecg_test_fmt("%s/e", dir)), *run = read_all(ecg_test_fmt("%s/metrics.json", dir));
    CU_ASSERT_TRUE_FATAL(ev && run);
    char *ca = strstr(run, "\"calibration\""), *cb = strstr(ev, "\"calibration\"");
    CU_ASSERT_TRUE_FATAL(ca && cb);
    CU_ASSERT_EQUAL(ca - run, cb - ev);
    CU_ASSERT_EQUAL(strncmp(run, ev, (size_t)(ca - run)), 0);
    free(before), free(after), free(run_config), free(ev), free(run);
}

/* model.rhythm_features: every program reads the same standardised features of a record beside its windows
 * (ecgeval's metrics are the run's), and the head does read them: other features, other probabilities. */
static void the_rhythm_features_travel_with_the_model(void)
{
    const char *dir = ecg_test_fmt("%s/rhythm", ecg_test_tmpdir());
    const char *extra[] = {"train.epochs=2", "model.rhythm_features=true", NULL};
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(run_tiny(dir, extra, NULL, &err), ECG_OK);
    const char *best = ecg_test_fmt("%s/best.h5", dir);
    char *out, *errt;
    CU_ASSERT_EQUAL(shell(ecg_test_fmt("'%s' '%s' --out '%s/e'", getenv("ECGEVAL"), best, dir), &out, &errt), 0);
    free(out), free(errt);
    char *run = read_all(ecg_test_fmt("%s/metrics.json", dir)), *ev = read_all(ecg_test_fmt("%s/e/metrics.json", dir));
    CU_ASSERT_TRUE_FATAL(run && ev);
    char *ca = strstr(run, "\"calibration\""), *cb = strstr(ev, "\"calibration\"");
    CU_ASSERT_TRUE_FATAL(ca && cb);
    CU_ASSERT_EQUAL(ca - run, cb - ev);
    CU_ASSERT_EQUAL(strncmp(run, ev, (size_t)(ca - run)), 0);
    free(run), free(ev);

    struct ecg_infer_model *m = NULL;
    struct ecg_infer_context *ctx = NULL;
    CU_ASSERT_EQUAL_FATAL(ecg_infer_model_load(best, NULL, 0, NULL, &m, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(ecg_infer_context_init(m, &ctx, &err), ECG_OK);
    enum { N = 10240 };
    static float x[N];
    for (int j = 0; j < N; j++)
        x[j] = 0.01f * (float)sin(j * 0.05);
    static const int gap[3] = {700, 1000, 850}; /* narrow peaks at irregular intervals */
    for (int at = 300, i = 0; at + 8 < N; at += gap[i++ % 3])
        for (int j = 0; j < 8; j++)
            x[at + j] = 1.0f;
    struct ecg_infer_result r;
    CU_ASSERT_EQUAL_FATAL(ecg_infer_classify_samples(ctx, x, N, 1024, "peaks", &r, &err), ECG_OK);
    float want[ECG_RHYTHM_FEATURES];
    CU_ASSERT_EQUAL(ecg_rhythm_features(r.signal, r.length, r.fs, want, &err), ECG_OK);
    ecg_rhythm_features_standardize(want);
    CU_ASSERT_EQUAL(memcmp(r.features, want, sizeof want), 0);
    const int k = 4;
    float again[64], other[64], zeros[ECG_RECORD_FEATURES * 8] = {0}, same[ECG_RECORD_FEATURES * 8];
    CU_ASSERT_FATAL(r.windows >= 1 && r.windows <= 8);
    for (int64_t w = 0; w < r.windows; w++)
        memcpy(same + w * ECG_RECORD_FEATURES, r.features, sizeof r.features);
    CU_ASSERT_EQUAL(ecg_infer_classify_windows(ctx, r.images, same, r.windows, again, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL(ecg_infer_classify_windows(ctx, r.images, zeros, r.windows, other, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(again, r.window_probs, (size_t)(r.windows * k) * sizeof(float)), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(other, r.window_probs, (size_t)(r.windows * k) * sizeof(float)), 0);
    /* Images alone do not carry them: one error naming the key. */
    CU_ASSERT_EQUAL(ecg_infer_classify_images(ctx, r.images, r.windows, other, NULL, &err), ECG_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "model.rhythm_features"));
    ecg_infer_result_free(&r);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
}

static const struct ecg_test run_tests[] = {
    {"a tiny run learns and writes its run directory", a_tiny_run_learns_and_writes_its_run_directory},
    {"the same seed and threads give bit-identical metrics", the_same_seed_and_threads_give_bit_identical_metrics},
    {"a run resumed at an epoch boundary ends bit-identical", a_run_resumed_at_an_epoch_boundary_ends_bit_identical},
    {"a run over two replicas resumed at an epoch boundary ends bit-identical",
     a_run_over_two_replicas_resumed_at_an_epoch_boundary_ends_bit_identical},
    {"SIGTERM saves a checkpoint and the resumed run ends bit-identical",
     sigterm_saves_a_checkpoint_and_the_resumed_run_ends_bit_identical},
    {"config errors of the training keys name the key", config_errors_of_the_training_keys_name_the_key},
    {"ecgeval and ecgpredict use a checkpoint", ecgeval_and_ecgpredict_use_a_checkpoint},
    {"an exported model file classifies as its checkpoint", an_exported_model_file_classifies_as_its_checkpoint},
    {"the RR fusion travels with the model", the_rr_fusion_travels_with_the_model},
    {"the rhythm features travel with the model", the_rhythm_features_travel_with_the_model},
    {"select last keeps the last epoch, also when a finished run is resumed",
     select_last_keeps_the_last_epoch_also_when_a_finished_run_is_resumed},
    {"a finished run resumed with other eval keys stores them in best.h5",
     a_finished_run_resumed_with_other_eval_keys_stores_them_in_best_h5},
    {"ecgpredict prints ecgeval's per-record predictions", ecgpredict_prints_ecgeval_s_per_record_predictions},
    {"ecgpredict reads samples from CSV and standard input", ecgpredict_reads_samples_from_csv_and_standard_input},
    {"the spectrogram cache gives the same metrics", the_spectrogram_cache_gives_the_same_metrics},
    {"head-only epochs leave the backbone untouched", head_only_epochs_leave_the_backbone_untouched},
    {"a run config with folds tests each record in exactly one fold",
     a_run_config_with_folds_tests_each_record_in_exactly_one_fold},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {{"train", run_tests}, {NULL, NULL}};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
