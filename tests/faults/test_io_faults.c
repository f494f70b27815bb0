/* Tests of every file writer on a failing disk (io_fault.c preloaded): checkpoints, model files, reports, log.csv, train.log. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/file.h"
#include "core/params.h"
#include "eval/epoch_log.h"
#include "eval/report.h"
#include "io/checkpoint.h"
#include "io/model_file.h"
#include "tests/faults/run_util.h"
#include "tests/test_util.h"
#include "train/run_log.h"

/* ---- faults in this process ---- */

static void fault(const char *op, const char *path_suffix, int nth, const char *action)
{
    setenv("ECG_FAULT_PATH", path_suffix, 1);
    setenv("ECG_FAULT_NTH", ecg_test_fmt("%d", nth), 1);
    setenv("ECG_FAULT_ACTION", action, 1);
    setenv("ECG_FAULT_OP", op, 1);
}

static void no_fault(void)
{
    unsetenv("ECG_FAULT_OP");
    unsetenv("ECG_FAULT_PATH");
    unsetenv("ECG_FAULT_NTH");
    unsetenv("ECG_FAULT_ACTION");
}

static const char *tmp(const char *name) { return ecg_test_fmt("%s/%s", ecg_test_tmpdir(), name); }

static void the_fault_library_breaks_the_calls_it_is_asked_to(void)
{
    const char *lib = getenv("LD_PRELOAD");
    CU_ASSERT_FATAL(lib && strstr(lib, "io_fault"));
    const char *path = tmp("probe.bin");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    CU_ASSERT_FATAL(fd >= 0);
    fault("write", "probe.bin", 2, "ENOSPC");
    CU_ASSERT_EQUAL(write(fd, "ab", 2), 2); /* the first call passes */
    errno = 0;
    CU_ASSERT_EQUAL(write(fd, "cd", 2), -1);
    CU_ASSERT_EQUAL(errno, ENOSPC);
    CU_ASSERT_EQUAL(write(fd, "ef", 2), -1); /* and so does every later one */
    fault("write", "other.bin", 1, "EIO");
    CU_ASSERT_EQUAL(write(fd, "gh", 2), 2); /* another file is not touched */
    fault("write", "probe.bin", 1, "short");
    CU_ASSERT_EQUAL(write(fd, "ijkl", 4), 2);
    fault("fsync", "probe.bin", 1, "EIO");
    CU_ASSERT_EQUAL(fsync(fd), -1);
    CU_ASSERT_EQUAL(errno, EIO);
    no_fault();
    CU_ASSERT_EQUAL(fsync(fd), 0);
    close(fd);
    size_t n = 0;
    char *data = faults_read(path, &n);
    CU_ASSERT_TRUE(data && n == 6 && memcmp(data, "abghij", 6) == 0);
    free(data);
}

/* ---- checkpoints and model files ---- */

/* A store of about 2.4 MB, so that a checkpoint goes out in several writes. */
static void build(struct ecg_params *p, float value)
{
    memset(p, 0, sizeof *p);
    struct ecg_error err = {0};
    const int64_t k[2] = {1280, 480}, b[1] = {480};
    ECG_ASSERT(ecg_params_add(p, "predictions/kernel", 2, k, 0, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_add(p, "predictions/bias", 1, b, ECG_PARAM_NO_DECAY, NULL, &err) == ECG_OK);
    ECG_ASSERT(ecg_params_bind(p, &err) == ECG_OK);
    for (int i = 0; i < p->count; i++)
        for (int64_t j = 0; j < p->items[i].numel; j++)
            ecg_params_value(p, i)[j] = value + (float)j * 1e-3f;
}

static int save(const char *path, float value, struct ecg_error *err)
{
    struct ecg_params p;
    build(&p, value);
    struct ecg_checkpoint ck = {.epoch = (int64_t)value, .metrics_json = "{}"};
    int rc = ecg_checkpoint_save(path, &p, NULL, &ck, err);
    ecg_params_free(&p);
    return rc;
}

/* The checkpoint at `path` loads and holds the store of save(path, value). */
static void check_holds(const char *path, float value)
{
    struct ecg_params p, want;
    build(&p, -1);
    build(&want, value);
    struct ecg_checkpoint ck = {0};
    struct ecg_error err = {0};
    int rc = ecg_checkpoint_load(path, &p, &ck, NULL, NULL, NULL, &err);
    if (rc)
        fprintf(stderr, "\n  %s\n", err.msg);
    CU_ASSERT_EQUAL(rc, ECG_OK);
    CU_ASSERT_EQUAL(ck.epoch, (int64_t)value);
    CU_ASSERT_EQUAL(memcmp(p.values, want.values, (size_t)p.total * sizeof(float)), 0);
    ecg_params_free(&p);
    ecg_params_free(&want);
}

/* Saves `value` over the checkpoint of 1 with the fault set; expects `message` and the old file unchanged. */
static void expect_failed_save(const char *op, int nth, const char *action, const char *suffix, const char *message)
{
    const char *path = tmp("ck.h5"), *copy = tmp("ck_before.h5");
    struct ecg_error err = {0};
    no_fault();
    CU_ASSERT_EQUAL_FATAL(save(path, 1, &err), ECG_OK);
    CU_ASSERT_FATAL(faults_copy(path, copy));
    fault(op, suffix, nth, action);
    ECG_CHECK_ERROR(save(path, 2, &err), &err, ECG_ERR_IO, ecg_test_fmt("%s: %s", path, message));
    no_fault();
    CU_ASSERT_TRUE(faults_same_file(path, copy));
    CU_ASSERT_EQUAL(access(tmp("ck.h5.tmp"), F_OK), -1);
    check_holds(path, 1);
}

static void a_checkpoint_that_does_not_fit_leaves_the_previous_one_and_no_temporary_file(void)
{
    expect_failed_save("write", 1, "ENOSPC", "ck.h5.tmp", "cannot write: No space left on device");
    expect_failed_save("write", 2, "ENOSPC", "ck.h5.tmp", "cannot write: No space left on device"); /* midway */
    expect_failed_save("write", 3, "EIO", "ck.h5.tmp", "cannot write: Input/output error");
}

static void a_failed_sync_or_rename_leaves_the_previous_checkpoint(void)
{
    expect_failed_save("fsync", 1, "EIO", "ck.h5.tmp", "cannot sync to disk: Input/output error");
    expect_failed_save("fsync", 1, "ENOSPC", "ck.h5.tmp", "cannot sync to disk: No space left on device");
    expect_failed_save("rename", 1, "EIO", "ck.h5", "cannot rename its temporary file into place: Input/output error");
}

static void a_failed_directory_sync_is_reported_with_the_new_file_in_place(void)
{
    const char *path = tmp("ck.h5");
    struct ecg_error err = {0};
    no_fault();
    CU_ASSERT_EQUAL_FATAL(save(path, 1, &err), ECG_OK);
    fault("fsync", ecg_test_tmpdir(), 1, "EIO"); /* the directory's path */
    ECG_CHECK_ERROR(save(path, 3, &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s: cannot sync its directory: Input/output error", path));
    no_fault();
    check_holds(path, 3);
}

static void short_writes_still_write_every_byte(void)
{
    /* Three chunks and a bit of a pattern that shows a byte out of place. */
    size_t n = ((size_t)3 << 20) + 12345;
    unsigned char *data = malloc(n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
    struct ecg_error err = {0};
    fault("write", "halves.bin.tmp", 1, "short");
    CU_ASSERT_EQUAL_FATAL(ecg_file_replace(tmp("halves.bin"), data, n, &err), ECG_OK);
    size_t got_n = 0;
    char *got = faults_read(tmp("halves.bin"), &got_n);
    CU_ASSERT_TRUE(got && got_n == n && memcmp(got, data, n) == 0);
    free(got);
    free(data);
    /* A checkpoint so written loads (two saves are not byte-identical: HDF5 stores object times). */
    fault("write", "halves.h5.tmp", 1, "short");
    CU_ASSERT_EQUAL_FATAL(save(tmp("halves.h5"), 4, &err), ECG_OK);
    no_fault();
    check_holds(tmp("halves.h5"), 4);
}

static void a_temperature_or_config_that_cannot_be_stored_leaves_the_model_file(void)
{
    struct ecg_params p;
    build(&p, 5);
    const char *names[2] = {"A", "B"};
    struct ecg_model_meta meta = {.config_yaml = "model: {}\n", .class_names = names, .n_classes = 2,
                                  .temperature = 1.5, .arch = "b0"};
    const char *path = tmp("model.h5"), *copy = tmp("model_before.h5");
    struct ecg_error err = {0};
    no_fault();
    CU_ASSERT_EQUAL_FATAL(ecg_model_file_save(path, &p, NULL, &meta, &err), ECG_OK);
    ecg_params_free(&p);
    CU_ASSERT_FATAL(faults_copy(path, copy));
    fault("write", "model.h5.tmp", 1, "ENOSPC");
    ECG_CHECK_ERROR(ecg_model_file_set_temperature(path, 2.5, &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s: cannot write: No space left on device", path));
    no_fault();
    CU_ASSERT_TRUE(faults_same_file(path, copy));
    CU_ASSERT_EQUAL(ecg_model_file_set_temperature(path, 2.5, &err), ECG_OK);
    double t = 0;
    CU_ASSERT_EQUAL(ecg_model_file_temperature(path, &t, &err), ECG_OK);
    CU_ASSERT_EQUAL(t, 2.5);
    /* A configuration stored the same way (a finished run resumed with other keys) fails the same way. */
    CU_ASSERT_FATAL(faults_copy(path, copy));
    fault("write", "model.h5.tmp", 1, "ENOSPC");
    ECG_CHECK_ERROR(ecg_model_file_set_config(path, "model: {arch: b1}\n", &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s: cannot write: No space left on device", path));
    no_fault();
    CU_ASSERT_TRUE(faults_same_file(path, copy));
}

/* ---- reports and logs ---- */

static void each_report_file_on_a_failing_disk_is_one_message_with_its_name(void)
{
    static const char *const names[4] = {"AF", "NSR", "Noise", "Other"};
    const int64_t counts[16] = {5, 1, 0, 1, 0, 6, 1, 0, 1, 0, 4, 1, 0, 1, 1, 5};
    struct ecg_metrics m;
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(ecg_metrics_from_confusion(&m, 4, names, counts, &err), ECG_OK);
    struct ecg_epoch_row rows[1] = {{.epoch = 1, .train_loss = 1, .val_loss = 1.1}};
    struct ecg_report r = {.title = "t", .metrics = &m, .epochs = rows, .n_epochs = 1};
    const char *dir = tmp("report");
    mkdir(dir, 0755);
    static const char *const files[] = {"metrics.json", "report.txt", "confusion.svg", "curves.svg", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        fault("write", ecg_test_fmt("%s.tmp", files[i]), 1, i % 2 ? "EIO" : "ENOSPC");
        ECG_CHECK_ERROR(ecg_report_write(dir, &r, &err), &err, ECG_ERR_IO,
                        ecg_test_fmt("%s/%s: cannot write: %s", dir, files[i],
                                     i % 2 ? "Input/output error" : "No space left on device"));
        CU_ASSERT_EQUAL(faults_count_suffix(dir, ".tmp"), 0);
    }
    no_fault();
    CU_ASSERT_EQUAL(ecg_report_write(dir, &r, &err), ECG_OK);
    ecg_metrics_free(&m);
}

static void the_epoch_log_reports_a_failed_row_and_a_failed_rewrite(void)
{
    const char *path = tmp("log.csv");
    struct ecg_epoch_row rows[2] = {{.epoch = 1, .train_loss = 1}, {.epoch = 2, .train_loss = 0.5}};
    struct ecg_epoch_log log;
    struct ecg_error err = {0};
    fault("write", "log.csv.tmp", 1, "ENOSPC"); /* the header and earlier rows, on resuming */
    ECG_CHECK_ERROR(ecg_epoch_log_open(&log, path, rows, 1, &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s: cannot write: No space left on device", path));
    no_fault();
    CU_ASSERT_EQUAL_FATAL(ecg_epoch_log_open(&log, path, rows, 1, &err), ECG_OK);
    fault("write", "log.csv", 1, "ENOSPC");
    ECG_CHECK_ERROR(ecg_epoch_log_write(&log, &rows[1], &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s: cannot write epoch 2 to the log: No space left on device", path));
    fault("fsync", "log.csv", 1, "EIO");
    ECG_CHECK_ERROR(ecg_epoch_log_write(&log, &rows[1], &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s: cannot write epoch 2 to the log: Input/output error", path));
    no_fault();
    CU_ASSERT_EQUAL(ecg_epoch_log_close(&log, &err), ECG_OK);
}

static void a_failing_run_log_is_reported_once_with_its_path(void)
{
    const char *path = tmp("train.log");
    struct ecg_error err = {0};
    fault("write", "train.log", 2, "EIO");
    CU_ASSERT_EQUAL_FATAL(ecg_run_log_start(path, false, &err), ECG_OK);
    fputs("kept\n", stderr);
    fputs("lost\n", stderr);
    fputs("also lost\n", stderr); /* one stream: the order across the two is not fixed */
    int rc = ecg_run_log_finish(&err);
    no_fault();
    ECG_CHECK_ERROR(rc, &err, ECG_ERR_IO, ecg_test_fmt("%s: cannot write: Input/output error", path));
    CU_ASSERT_EQUAL(ecg_run_log_check(&err), ECG_OK); /* said once */
    char *text = ecg_test_read_file(path);
    if (!text || strcmp(text, "kept\n") != 0)
        fprintf(stderr, "\n  train.log holds '%s'\n", text ? text : "(unreadable)");
    CU_ASSERT_TRUE(text && strcmp(text, "kept\n") == 0);
    free(text);
    /* A new copy starts clean. */
    CU_ASSERT_EQUAL_FATAL(ecg_run_log_start(path, true, &err), ECG_OK);
    fputs("resumed\n", stderr);
    CU_ASSERT_EQUAL(ecg_run_log_finish(&err), ECG_OK);
}

static void a_replaced_file_needs_an_existing_directory(void)
{
    struct ecg_error err = {0};
    const char *path = tmp("no/such/dir/config.yaml");
    ECG_CHECK_ERROR(ecg_file_replace_text(path, "x: 1\n", &err), &err, ECG_ERR_IO,
                    ecg_test_fmt("%s: cannot create %s.tmp: No such file or directory", path, path));
}

static const struct ecg_test tests[] = {
    {"the fault library breaks the calls it is asked to", the_fault_library_breaks_the_calls_it_is_asked_to},
    {"a checkpoint that does not fit leaves the previous one and no temporary file",
     a_checkpoint_that_does_not_fit_leaves_the_previous_one_and_no_temporary_file},
    {"a failed sync or rename leaves the previous checkpoint", a_failed_sync_or_rename_leaves_the_previous_checkpoint},
    {"a failed directory sync is reported with the new file in place",
     a_failed_directory_sync_is_reported_with_the_new_file_in_place},
    {"short writes still write every byte", short_writes_still_write_every_byte},
    {"a temperature or config that cannot be stored leaves the model file",
     a_temperature_or_config_that_cannot_be_stored_leaves_the_model_file},
    {"each report file on a failing disk is one message with its name",
     each_report_file_on_a_failing_disk_is_one_message_with_its_name},
    {"the epoch log reports a failed row and a failed rewrite", the_epoch_log_reports_a_failed_row_and_a_failed_rewrite},
    {"a failing run log is reported once with its path", a_failing_run_log_is_reported_once_with_its_path},
    {"a replaced file needs an existing directory", a_replaced_file_needs_an_existing_directory},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const struct ecg_suite suites[] = {{"io_faults", tests}, {NULL, NULL}};
    return ecg_test_main(argc, argv, suites);
}
