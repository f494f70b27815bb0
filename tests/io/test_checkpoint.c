/* Tests of io/checkpoint: bit-exact round trip, strict validation, atomic replacement under failure and SIGKILL. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/params.h"
#include "core/rng.h"
#include "io/checkpoint.h"
#include "io/h5util.h"
#include "io/keras_h5.h"
#include "tests/test_util.h"

/* A small model: conv, batch norm (with buffers), dense head. */
static void build(struct ecg_params *p, int64_t classes)
{
    memset(p, 0, sizeof *p);
    struct ecg_error err = {0};
    const int64_t k[4] = {3, 3, 3, 16}, c[1] = {16};
    const int64_t dd[2] = {16, classes}, bb[1] = {classes};
    ECG_ASSERT(ecg_params_add(p, "stem_conv/kernel", 4, k, 0, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "stem_bn/gamma", 1, c, ECG_PARAM_NO_DECAY, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "stem_bn/beta", 1, c, ECG_PARAM_NO_DECAY, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "stem_bn/moving_mean", 1, c, ECG_PARAM_BUFFER, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "stem_bn/moving_variance", 1, c, ECG_PARAM_BUFFER, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "predictions/kernel", 2, dd, 0, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "predictions/bias", 1, bb, ECG_PARAM_NO_DECAY, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_bind(p, &err) == ECG_OK);
}

static int64_t numel(const struct ecg_params *p)
{
    return ecg_params_count(p, 0);
}

/* Fills the store's parameters (not its padding) with random normals (variances positive). */
static void randomize(struct ecg_params *p, uint64_t seed)
{
    struct ecg_rng r = ecg_rng_init(seed, 0);
    for (int k = 0; k < p->count; k++) {
        bool var = strstr(p->items[k].name, "moving_variance") != NULL;
        for (int64_t i = 0; i < p->items[k].numel; i++) {
            float v = ecg_rng_normal(&r);
            ecg_params_value(p, k)[i] = var ? fabsf(v) : v;
        }
    }
}

/* Every parameter and blob set to `v`. */
static void set_all(struct ecg_params *p, float *blob, int64_t n, float v)
{
    for (int k = 0; k < p->count; k++)
        for (int64_t i = 0; i < p->items[k].numel; i++)
            ecg_params_value(p, k)[i] = v;
    for (int64_t i = 0; i < n; i++)
        blob[i] = v;
}

static const char *tmp(const char *name)
{
    static char bufs[4][512];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", ecg_test_tmpdir(), name);
    return b;
}

static char *slurp(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)*size + 1);
    ECG_ASSERT(fread(buf, 1, (size_t)*size, f) == (size_t)*size);
    fclose(f);
    return buf;
}

static void a_checkpoint_round_trip_is_bit_exact(void)
{
    struct ecg_params p, q;
    struct ecg_error err = {0};
    build(&p, 5);
    build(&q, 5);
    randomize(&p, 1);
    int64_t n = numel(&p);
    float *m = malloc((size_t)n * sizeof(float)), *v = malloc((size_t)n * sizeof(float));
    float *m2 = calloc((size_t)n, sizeof(float)), *v2 = calloc((size_t)n, sizeof(float));
    struct ecg_rng r = ecg_rng_init(42, 3);
    for (int64_t i = 0; i < n; i++) {
        m[i] = ecg_rng_normal(&r);
        v[i] = ecg_rng_uniform(&r);
    }
    struct ecg_rng data_rng = ecg_rng_init(0xfeedfacecafebeefULL, 17), aug_rng = ecg_rng_init(7, 1);
    ecg_rng_u64(&aug_rng);
    struct ecg_ckpt_blob blobs[2] = {{"adamw/m", m, n}, {"adamw/v", v, n}};
    struct ecg_ckpt_rng rngs[2] = {{"data", &data_rng}, {"augment", &aug_rng}};
    struct ecg_checkpoint ck = {.epoch = 3, .step = 1234, .sched_step = 1200, .lr = 3.0e-4,
                                .blobs = blobs, .n_blobs = 2, .rngs = rngs, .n_rngs = 2,
                                .config_yaml = "model:\n  arch: b0\ntrain:\n  lr: 0.0003\n",
                                .metrics_json = "{\"val_f1\": [0.5, 0.61]}"};
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_save(tmp("rt.h5"), &p, NULL, &ck, &err), ECG_OK);

    struct ecg_rng d2 = {0}, a2 = {0};
    struct ecg_ckpt_blob lb[2] = {{"adamw/v", v2, n}, {"adamw/m", m2, n}}; /* any order */
    struct ecg_ckpt_rng lr[2] = {{"augment", &a2}, {"data", &d2}};
    struct ecg_checkpoint back = {.blobs = lb, .n_blobs = 2, .rngs = lr, .n_rngs = 2};
    char *yaml = NULL, *json = NULL;
    int rc = ecg_checkpoint_load(tmp("rt.h5"), &q, &back, &yaml, &json, NULL, &err);
    CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
    CU_ASSERT_EQUAL(memcmp(p.values, q.values, (size_t)p.total * sizeof(float)), 0);
    CU_ASSERT_EQUAL(memcmp(m, m2, (size_t)n * sizeof(float)), 0);
    CU_ASSERT_EQUAL(memcmp(v, v2, (size_t)n * sizeof(float)), 0);
    CU_ASSERT_EQUAL(memcmp(&d2, &data_rng, sizeof d2), 0);
    CU_ASSERT_EQUAL(memcmp(&a2, &aug_rng, sizeof a2), 0);
    CU_ASSERT_EQUAL(back.epoch, 3);
    CU_ASSERT_EQUAL(back.step, 1234);
    CU_ASSERT_EQUAL(back.sched_step, 1200);
    CU_ASSERT_EQUAL(back.lr, 3.0e-4);
    CU_ASSERT_STRING_EQUAL(yaml, ck.config_yaml);
    CU_ASSERT_STRING_EQUAL(json, ck.metrics_json);
    /* The next draw after resuming is the one the saved generator would give. */
    CU_ASSERT_EQUAL(ecg_rng_u64(&d2), ecg_rng_u64(&data_rng));
    free(yaml);
    free(json);
    free(m);
    free(v);
    free(m2);
    free(v2);
    ecg_params_free(&p);
    ecg_params_free(&q);
}

static void a_checkpoint_is_also_a_keras_weight_file(void)
{
    struct ecg_params p, q;
    struct ecg_error err = {0};
    build(&p, 5);
    build(&q, 5);
    randomize(&p, 2);
    struct ecg_checkpoint ck = {.epoch = 1};
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_save(tmp("asweights.h5"), &p, NULL, &ck, &err), ECG_OK);
    struct ecg_keras_load_opts quiet = {.quiet = true};
    CU_ASSERT_EQUAL_FATAL(ecg_keras_load(tmp("asweights.h5"), &q, &quiet, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(p.values, q.values, (size_t)p.total * sizeof(float)), 0);
    ecg_params_free(&p);
    ecg_params_free(&q);
}

/* Saves a reference checkpoint for the validation tests. */
static void save_reference(const char *path, struct ecg_params *p, float *blob, int64_t n)
{
    struct ecg_error err = {0};
    struct ecg_rng r = ecg_rng_init(1, 2);
    struct ecg_ckpt_blob b[1] = {{"sgd/momentum", blob, n}};
    struct ecg_ckpt_rng rr[1] = {{"data", &r}};
    struct ecg_checkpoint ck = {.epoch = 2, .step = 10, .blobs = b, .n_blobs = 1, .rngs = rr, .n_rngs = 1};
    ECG_ASSERT(ecg_checkpoint_save(path, p, NULL, &ck, &err) == ECG_OK);
}

static void loading_validates_names_counts_and_shapes_and_changes_nothing_on_error(void)
{
    struct ecg_params p, q, wrong;
    struct ecg_error err = {0};
    build(&p, 5);
    build(&q, 5);
    randomize(&p, 3);
    int64_t n = numel(&p);
    float *blob = calloc((size_t)n + 1, sizeof(float)), *into = calloc((size_t)n + 1, sizeof(float));
    for (int64_t i = 0; i < n; i++)
        blob[i] = (float)i;
    const char *path = tmp("ref.h5");
    save_reference(path, &p, blob, n);
    for (int64_t i = 0; i < q.total; i++)
        q.values[i] = 9.0f;
    struct ecg_rng r = {0};
    struct ecg_ckpt_rng rr[1] = {{"data", &r}};

    /* A blob the file does not have. */
    struct ecg_ckpt_blob adam[2] = {{"adamw/m", into, n}, {"adamw/v", into, n}};
    struct ecg_checkpoint ck = {.blobs = adam, .n_blobs = 2, .rngs = rr, .n_rngs = 1};
    ECG_CHECK_ERROR(ecg_checkpoint_load(path, &q, &ck, NULL, NULL, NULL, &err), &err, ECG_ERR_FORMAT,
                    "ref.h5: checkpoint has no optimizer state 'adamw/m' (it has 'sgd/momentum')");
    /* A blob of another size. */
    struct ecg_ckpt_blob mom_short[1] = {{"sgd/momentum", into, n - 1}};
    ck = (struct ecg_checkpoint){.blobs = mom_short, .n_blobs = 1, .rngs = rr, .n_rngs = 1};
    char want[256];
    snprintf(want, sizeof want, "ref.h5: optimizer state 'sgd/momentum': expected %lld values, found %lld",
             (long long)(n - 1), (long long)n);
    ECG_CHECK_ERROR(ecg_checkpoint_load(path, &q, &ck, NULL, NULL, NULL, &err), &err, ECG_ERR_SHAPE, want);
    /* A blob this run does not use. */
    ck = (struct ecg_checkpoint){.rngs = rr, .n_rngs = 1};
    ECG_CHECK_ERROR(ecg_checkpoint_load(path, &q, &ck, NULL, NULL, NULL, &err), &err, ECG_ERR_FORMAT,
                    "ref.h5: checkpoint has optimizer state 'sgd/momentum' that this run does not use");
    /* An RNG the file does not have. */
    struct ecg_ckpt_blob mom[1] = {{"sgd/momentum", into, n}};
    struct ecg_ckpt_rng r2[2] = {{"data", &r}, {"dropout", &r}};
    ck = (struct ecg_checkpoint){.blobs = mom, .n_blobs = 1, .rngs = r2, .n_rngs = 2};
    ECG_CHECK_ERROR(ecg_checkpoint_load(path, &q, &ck, NULL, NULL, NULL, &err), &err, ECG_ERR_FORMAT,
                    "ref.h5: checkpoint has no RNG state 'dropout' (it has 'data')");
    /* A model with another head. */
    build(&wrong, 7);
    ck = (struct ecg_checkpoint){.blobs = mom, .n_blobs = 1, .rngs = rr, .n_rngs = 1};
    mom[0].count = numel(&wrong);
    float *into2 = calloc((size_t)numel(&wrong), sizeof(float));
    mom[0].data = into2;
    int rc = ecg_checkpoint_load(path, &wrong, &ck, NULL, NULL, NULL, &err);
    CU_ASSERT_EQUAL(rc, ECG_ERR_SHAPE);
    mom[0] = (struct ecg_ckpt_blob){"sgd/momentum", into, n};
    rc = ecg_checkpoint_load(path, &wrong, &ck, NULL, NULL, NULL, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_SHAPE,
                    "ref.h5: layer 'predictions' weight 'kernel': expected (16, 7), found (16, 5)");
    ecg_params_free(&wrong);
    free(into2);
    /* Nothing was changed by any failed load. */
    for (int64_t i = 0; i < q.total; i++)
        if (q.values[i] != 9.0f) {
            CU_FAIL("a failed load changed the store");
            break;
        }
    for (int64_t i = 0; i < n; i++)
        if (into[i] != 0.0f) {
            CU_FAIL("a failed load changed a blob");
            break;
        }
    CU_ASSERT_EQUAL(r.seed, 0);
    /* The right request loads. */
    ck = (struct ecg_checkpoint){.blobs = mom, .n_blobs = 1, .rngs = rr, .n_rngs = 1};
    CU_ASSERT_EQUAL(ecg_checkpoint_load(path, &q, &ck, NULL, NULL, NULL, &err), ECG_OK);
    CU_ASSERT_EQUAL(memcmp(into, blob, (size_t)n * sizeof(float)), 0);
    CU_ASSERT_EQUAL(ck.epoch, 2);
    CU_ASSERT_EQUAL(r.seed, 1);
    free(blob);
    free(into);
    ecg_params_free(&p);
    ecg_params_free(&q);
}

static void a_model_with_a_parameter_the_checkpoint_lacks_is_refused(void)
{
    struct ecg_params p, q;
    struct ecg_error err = {0};
    build(&p, 5);
    struct ecg_checkpoint ck = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_save(tmp("lack.h5"), &p, NULL, &ck, &err), ECG_OK);
    memset(&q, 0, sizeof q);
    const int64_t k[4] = {3, 3, 3, 16};
    ECG_ASSERT(ecg_params_add(&q, "stem_conv/kernel", 4, k, 0, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_bind(&q, &err) == ECG_OK);
    /* The checkpoint has layers the model lacks: strict loading says so. */
    ECG_CHECK_ERROR(ecg_checkpoint_load(tmp("lack.h5"), &q, &ck, NULL, NULL, NULL, &err), &err, ECG_ERR_FORMAT,
                    "lack.h5: layer 'stem_bn' weight 'stem_bn/gamma:0' is not a parameter of the model");
    ecg_params_free(&q);
    ecg_params_free(&p);
}

static void a_weight_file_or_a_truncated_checkpoint_is_not_a_checkpoint(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build(&p, 5);
    struct ecg_checkpoint ck = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_keras_save(tmp("weights_only.h5"), &p, NULL, &err), ECG_OK);
    ECG_CHECK_ERROR(ecg_checkpoint_load(tmp("weights_only.h5"), &p, &ck, NULL, NULL, NULL, &err), &err,
                    ECG_ERR_FORMAT, "weights_only.h5: not an ecgtrain checkpoint (no 'ecg_checkpoint' group");
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_save(tmp("whole.h5"), &p, NULL, &ck, &err), ECG_OK);
    long size;
    char *bytes = slurp(tmp("whole.h5"), &size);
    FILE *f = fopen(tmp("cut.h5"), "wb");
    fwrite(bytes, 1, (size_t)size / 2, f);
    fclose(f);
    free(bytes);
    ECG_CHECK_ERROR(ecg_checkpoint_load(tmp("cut.h5"), &p, &ck, NULL, NULL, NULL, &err), &err, ECG_ERR_FORMAT,
                    "cut.h5: not a readable HDF5 file");
    ecg_params_free(&p);
}

static void a_failed_save_leaves_the_previous_checkpoint_unchanged(void)
{
    struct ecg_params p;
    struct ecg_error err = {0};
    build(&p, 5);
    randomize(&p, 4);
    int64_t n = numel(&p);
    float *blob = calloc((size_t)n, sizeof(float));
    const char *path = tmp("target.h5");
    save_reference(path, &p, blob, n);
    long before_size, after_size;
    char *before = slurp(path, &before_size);

    /* 1. The temporary file cannot be created (a directory is in the way). */
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", path);
    CU_ASSERT_EQUAL_FATAL(mkdir(tmpname, 0755), 0);
    randomize(&p, 5);
    struct ecg_checkpoint ck = {.epoch = 9};
    int rc = ecg_checkpoint_save(path, &p, NULL, &ck, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_IO, ecg_test_fmt("target.h5: cannot create %s: Is a directory", tmpname));
    rmdir(tmpname);

    /* 2. Writing fails midway: two blobs of the same name. */
    struct ecg_ckpt_blob twice[2] = {{"m", blob, n}, {"m", blob, n}};
    ck = (struct ecg_checkpoint){.epoch = 9, .blobs = twice, .n_blobs = 2};
    rc = ecg_checkpoint_save(path, &p, NULL, &ck, &err);
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_IO, "'/ecg_checkpoint/blobs/m': cannot create dataset (name already exists)");
    CU_ASSERT_EQUAL(access(tmpname, F_OK), -1); /* the temporary file was removed */

    /* 3. An invalid blob name. */
    struct ecg_ckpt_blob bad[1] = {{"../escape", blob, n}};
    ck = (struct ecg_checkpoint){.blobs = bad, .n_blobs = 1};
    ECG_CHECK_ERROR(ecg_checkpoint_save(path, &p, NULL, &ck, &err), &err, ECG_ERR_USAGE,
                    "checkpoint blob name '../escape' is not valid");

    char *after = slurp(path, &after_size);
    CU_ASSERT_EQUAL(before_size, after_size);
    CU_ASSERT_TRUE(before_size == after_size && memcmp(before, after, (size_t)before_size) == 0);
    free(before);
    free(after);
    free(blob);
    ecg_params_free(&p);
}

/* A child saves checkpoints in a loop (every value = the save number) and is
 * killed at a random moment; the target must always load and be consistent. */
static void a_writer_killed_at_any_moment_never_leaves_a_corrupt_checkpoint(void)
{
    const char *path = tmp("killed.h5");
    struct ecg_error err = {0};
    struct ecg_params p;
    build(&p, 5);
    int64_t n = numel(&p);
    float *blob = calloc((size_t)n, sizeof(float));
    set_all(&p, blob, n, 0.0f);
    struct ecg_ckpt_blob b[1] = {{"m", blob, n}};
    struct ecg_checkpoint ck = {.blobs = b, .n_blobs = 1};
    CU_ASSERT_EQUAL_FATAL(ecg_checkpoint_save(path, &p, NULL, &ck, &err), ECG_OK);
    struct timespec seed;
    clock_gettime(CLOCK_MONOTONIC, &seed);
    srand((unsigned)seed.tv_nsec);
    int64_t last_step = 0;
    for (int round = 0; round < 4; round++) {
        fflush(stdout);
        fflush(stderr);
        pid_t child = fork();
        CU_ASSERT_FATAL(child >= 0);
        if (child == 0) {
            for (int64_t s = last_step + 1;; s++) {
                set_all(&p, blob, n, (float)s);
                ck.step = s;
                if (ecg_checkpoint_save(path, &p, NULL, &ck, &err) != ECG_OK)
                    _exit(3);
            }
        }
        usleep(50000 + (useconds_t)(rand() % 150000));
        kill(child, SIGKILL);
        int status = 0;
        waitpid(child, &status, 0);
        CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

        struct ecg_checkpoint back = {.blobs = b, .n_blobs = 1};
        set_all(&p, blob, n, -1.0f);
        int rc = ecg_checkpoint_load(path, &p, &back, NULL, NULL, NULL, &err);
        if (rc != ECG_OK)
            fprintf(stderr, "\n  round %d: %s\n", round, err.msg);
        CU_ASSERT_EQUAL_FATAL(rc, ECG_OK);
        CU_ASSERT_TRUE(back.step >= last_step);
        bool consistent = true;
        for (int k = 0; k < p.count; k++)
            for (int64_t i = 0; i < p.items[k].numel; i++)
                consistent &= ecg_params_value(&p, k)[i] == (float)back.step;
        for (int64_t i = 0; i < n; i++)
            consistent &= blob[i] == (float)back.step;
        CU_ASSERT_TRUE(consistent);
        last_step = back.step;
        /* A killed writer may leave its temporary file; the next save simply replaces it. */
    }
    CU_ASSERT_TRUE(last_step > 0); /* the child did get some saves through */
    free(blob);
    ecg_params_free(&p);
}

/* Runs last: every error path above closed what it opened. */
static void no_hdf5_handle_stays_open(void)
{
    ssize_t open_ids = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (open_ids != 0)
        fprintf(stderr, "\n  %zd HDF5 objects still open\n", open_ids);
    CU_ASSERT_EQUAL(open_ids, 0);
}

static const struct ecg_test checkpoint_tests[] = {
    {"a checkpoint round trip is bit-exact", a_checkpoint_round_trip_is_bit_exact},
    {"a checkpoint is also a Keras weight file", a_checkpoint_is_also_a_keras_weight_file},
    {"loading validates names, counts and shapes and changes nothing on error",
     loading_validates_names_counts_and_shapes_and_changes_nothing_on_error},
    {"a model with fewer parameters than the checkpoint is refused", a_model_with_a_parameter_the_checkpoint_lacks_is_refused},
    {"a weight file or a truncated checkpoint is not a checkpoint", a_weight_file_or_a_truncated_checkpoint_is_not_a_checkpoint},
    {"a failed save leaves the previous checkpoint unchanged", a_failed_save_leaves_the_previous_checkpoint_unchanged},
    {"a writer killed at any moment never leaves a corrupt checkpoint",
     a_writer_killed_at_any_moment_never_leaves_a_corrupt_checkpoint},
    {"no HDF5 handle stays open", no_hdf5_handle_stays_open},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    ecg_h5_init();
    const struct ecg_suite suites[] = {{"checkpoint", checkpoint_tests}, {NULL, NULL}};
    return ecg_test_main(argc, argv, suites);
}
