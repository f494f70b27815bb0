/* ecgtrain and ecgeval on a failing disk (io_fault.c preloaded into them): one message naming the file, exit 1, earlier files intact. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/faults/run_util.h"
#include "tests/test_util.h"

static const char *dir_of(const char *name) { return ecg_test_fmt("%s/%s", ecg_test_tmpdir(), name); }

/* A one-epoch run in `dir`, finished. */
static void one_epoch(const char *dir)
{
    int st = faults_ecgtrain(dir, "", faults_run_args(dir, "train.epochs=1"));
    if (st != 0)
        fprintf(stderr, "\n  %s\n", faults_stderr(dir));
    CU_ASSERT_EQUAL_FATAL(st, 0);
}

/* stderr of the last run of `dir` holds `message` exactly once; prints it otherwise. */
static bool said_once(const char *dir, const char *message)
{
    const char *text = faults_stderr(dir);
    bool once = faults_count(text, message) == 1;
    if (!once)
        fprintf(stderr, "\n  expected once: %s\n  stderr:\n%s\n", message, text);
    return once;
}

/* Resumes the one-epoch run of `dir` for a second epoch under the fault; expects exit 1, a message
 * naming best.h5 or last.h5 (whichever the epoch writes first) and the reason, last.h5 unchanged. */
static void resume_into_fault(const char *dir, const char *op, const char *action, const char *reason)
{
    const char *last = ecg_test_fmt("%s/last.h5", dir), *kept = ecg_test_fmt("%s.kept.h5", dir);
    CU_ASSERT_FATAL(faults_copy(last, kept));
    const char *resume = ecg_test_fmt("train.epochs=2 run.resume='%s'", last);
    int st = faults_ecgtrain(dir, faults_env(op, ".h5.tmp", 1, action), faults_run_args(dir, resume));
    CU_ASSERT_EQUAL(st, 1);
    const char *err = faults_stderr(dir);
    bool named = strstr(err, ecg_test_fmt("ecgtrain: %s/last.h5: %s", dir, reason)) ||
                 strstr(err, ecg_test_fmt("ecgtrain: %s/best.h5: %s", dir, reason));
    if (!named || faults_count(err, reason) != 1)
        fprintf(stderr, "\n  expected a checkpoint named once with '%s'; stderr:\n%s\n", reason, err);
    CU_ASSERT_TRUE(named && faults_count(err, reason) == 1);
    CU_ASSERT_TRUE(faults_same_file(last, kept));
    CU_ASSERT_EQUAL(faults_count_suffix(dir, ".tmp"), 0);
    CU_ASSERT_PTR_NULL(strstr(faults_stdout(dir), "report in")); /* no claim of success */
}

static void a_checkpoint_that_cannot_be_written_ends_the_run_and_keeps_the_last_one(void)
{
    const char *dir = dir_of("ckpt");
    one_epoch(dir);
    resume_into_fault(dir, "write", "ENOSPC", "cannot write: No space left on device");
    resume_into_fault(dir, "fsync", "EIO", "cannot sync to disk: Input/output error");
    /* Room again: the kept checkpoint resumes. */
    int st = faults_ecgtrain(dir, "", faults_run_args(dir, ecg_test_fmt("train.epochs=2 run.resume='%s/last.h5'", dir)));
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(faults_stdout(dir), "report in"));
}

static void a_report_that_cannot_be_written_fails_the_run(void)
{
    const char *dir = dir_of("report");
    one_epoch(dir);
    /* Resumed at its last epoch, the run only writes its report again. */
    const char *resume = ecg_test_fmt("train.epochs=1 run.resume='%s/last.h5'", dir);
    int st = faults_ecgtrain(dir, faults_env("write", "report.html.tmp", 1, "ENOSPC"), faults_run_args(dir, resume));
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_TRUE(said_once(dir, ecg_test_fmt("ecgtrain: %s/report.html: cannot write: No space left on device", dir)));
    CU_ASSERT_PTR_NULL(strstr(faults_stdout(dir), "report in"));
    CU_ASSERT_EQUAL(faults_count_suffix(dir, ".tmp"), 0);
}

static void a_run_log_that_cannot_be_written_fails_the_run(void)
{
    /* Seen at the end of the first epoch, after its checkpoint. */
    const char *dir = dir_of("trainlog_info");
    int st = faults_ecgtrain(dir, faults_env("write", "train.log", 1, "EIO"), faults_run_args(dir, "run.log_level=info"));
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_TRUE(said_once(dir, ecg_test_fmt("ecgtrain: %s/train.log: cannot write: Input/output error", dir)));
    CU_ASSERT_EQUAL(access(ecg_test_fmt("%s/last.h5", dir), F_OK), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(faults_stderr(dir), "epoch 1/3"));   /* the terminal still gets everything */
    CU_ASSERT_PTR_NULL(strstr(faults_stderr(dir), "epoch 2/3"));
    /* A quiet run prints nothing to it before its report: seen when ecgtrain exits. */
    dir = dir_of("trainlog_warn");
    st = faults_ecgtrain(dir, faults_env("write", "train.log", 1, "ENOSPC"), faults_run_args(dir, "train.epochs=1"));
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_TRUE(said_once(dir, ecg_test_fmt("ecgtrain: %s/train.log: cannot write: No space left on device", dir)));
    CU_ASSERT_PTR_NOT_NULL(strstr(faults_stdout(dir), "report in"));
}

static void the_epoch_log_and_the_config_that_cannot_be_written_fail_the_run(void)
{
    const char *dir = dir_of("logcsv");
    int st = faults_ecgtrain(dir, faults_env("write", "log.csv", 1, "ENOSPC"), faults_run_args(dir, ""));
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_TRUE(said_once(dir, ecg_test_fmt("ecgtrain: %s/log.csv: cannot write epoch 1 to the log: No space left on device", dir)));
    CU_ASSERT_EQUAL(access(ecg_test_fmt("%s/last.h5", dir), F_OK), -1); /* the log row comes first */
    dir = dir_of("config");
    st = faults_ecgtrain(dir, faults_env("fsync", "config.yaml.tmp", 1, "EIO"), faults_run_args(dir, ""));
    CU_ASSERT_EQUAL(st, 1);
    CU_ASSERT_TRUE(said_once(dir, ecg_test_fmt("ecgtrain: %s/config.yaml: cannot sync to disk: Input/output error", dir)));
}

static void ecgeval_on_a_failing_disk_names_the_file_and_exits_1(void)
{
    const char *dir = dir_of("evaluated");
    one_epoch(dir);
    const char *files[] = {"predictions.jsonl", "metrics.json"};
    for (int i = 0; i < 2; i++) {
        const char *out = dir_of(ecg_test_fmt("eval_out%d", i));
        int st = faults_wait(faults_spawn("ECGEVAL", out, faults_env("write", ecg_test_fmt("%s.tmp", files[i]), 1, "ENOSPC"),
                                          ecg_test_fmt("'%s/best.h5' --out '%s'", dir, out)));
        CU_ASSERT_EQUAL(st, 1);
        CU_ASSERT_TRUE(said_once(out, ecg_test_fmt("ecgeval: %s/%s: cannot write: No space left on device", out, files[i])));
        CU_ASSERT_PTR_NULL(strstr(faults_stdout(out), "report in"));
    }
}

static const struct ecg_test tests[] = {
    {"a checkpoint that cannot be written ends the run and keeps the last one",
     a_checkpoint_that_cannot_be_written_ends_the_run_and_keeps_the_last_one},
    {"a report that cannot be written fails the run", a_report_that_cannot_be_written_fails_the_run},
    {"a run log that cannot be written fails the run", a_run_log_that_cannot_be_written_fails_the_run},
    {"the epoch log and the config that cannot be written fail the run",
     the_epoch_log_and_the_config_that_cannot_be_written_fail_the_run},
    {"ecgeval on a failing disk names the file and exits 1", ecgeval_on_a_failing_disk_names_the_file_and_exits_1},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const struct ecg_suite suites[] = {{"run_faults", tests}, {NULL, NULL}};
    return ecg_test_main(argc, argv, suites);
}
