/* Crash consistency: ecgtrain killed with SIGKILL at 20 moments of a short run, then resumed, ends bit-identical to an uninterrupted run. */
#define _DEFAULT_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rng.h"
#include "eval/epoch_log.h"
#include "io/checkpoint.h"
#include "tests/faults/run_util.h"
#include "tests/test_util.h"

/*
 * The moments come from a fixed seed: half are amounts of CPU time used by the run (uniform over
 * 80 % of what the uninterrupted run uses: before the first checkpoint, in an epoch, in validation, in the
 * final report; CPU time, so that the machine's load does not move them), half are calls inside
 * the files the run writes, where io_fault.c raises SIGKILL: a chunk of a checkpoint's temporary
 * file, after its fsync, before or after its rename, after a row of log.csv, inside metrics.json.
 *
 * ECG_CRASH_MOMENTS overrides the count (the sanitizer build runs fewer: each run is several times
 * slower there).
 */
enum { MOMENTS = 20, SEED = 2017 };

struct hook {
    const char *op, *suffix, *action;
    int max_nth; /* the call is drawn from 1..max_nth; a call the run never makes lets it finish */
    const char *what;
};

static const struct hook hooks[] = {
    /* best.h5 and last.h5 after epoch 1, last.h5 after epochs 2 and 3 (the metric of this run does not improve
     * again): four checkpoints of about 47 chunks of 1 MiB */
    {"write", ".h5.tmp", "kill", 180, "writing a chunk of a checkpoint"},
    {"fsync", ".h5.tmp", "kill-after", 4, "after a checkpoint's fsync, before its rename"},
    {"rename", ".h5", "kill", 4, "before a checkpoint's rename"},
    {"rename", ".h5", "kill-after", 4, "after a checkpoint's rename, before the directory's fsync"},
    {"write", "log.csv", "kill-after", 3, "after a row of log.csv, before the epoch's checkpoints"},
    {"write", "metrics.json.tmp", "kill", 1, "writing metrics.json"},
};

/* Compares a finished run directory with the uninterrupted one: checkpoints, metrics, log rows. */
static bool same_run(const char *ref, const char *dir)
{
    bool same = true;
    /* The stored config names the run's own directory and resume path. */
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "best.h5" : "last.h5";
        same &= faults_same_datasets(ecg_test_fmt("%s/%s", ref, name), ecg_test_fmt("%s/%s", dir, name),
                                     "ecg_checkpoint/config_yaml");
    }
    same &= faults_same_file(ecg_test_fmt("%s/metrics.json", ref), ecg_test_fmt("%s/metrics.json", dir));
    struct ecg_epoch_row *ra = NULL, *rb = NULL;
    int64_t na = 0, nb = 0;
    struct ecg_error err = {0};
    if (ecg_epoch_log_read(ecg_test_fmt("%s/log.csv", ref), &ra, &na, &err) ||
        ecg_epoch_log_read(ecg_test_fmt("%s/log.csv", dir), &rb, &nb, &err)) {
        fprintf(stderr, "\n  %s\n", err.msg);
        same = false;
    } else if (na != nb) {
        fprintf(stderr, "\n  %s/log.csv has %lld rows, %s/log.csv %lld\n", ref, (long long)na, dir, (long long)nb);
        same = false;
    }
    for (int64_t i = 0; same && i < na; i++) /* wall times aside */
        same = ra[i].epoch == rb[i].epoch && ra[i].train_loss == rb[i].train_loss &&
               ra[i].val_loss == rb[i].val_loss && ra[i].val_macro_f1 == rb[i].val_macro_f1 && ra[i].lr == rb[i].lr;
    free(ra);
    free(rb);
    if (faults_count_suffix(dir, ".tmp") != 0) {
        fprintf(stderr, "\n  %s keeps a temporary file\n", dir);
        same = false;
    }
    return same;
}

/* CPU time (user + system, all threads) a running process has used, in ms; -1 when it is gone. */
static double cpu_ms_of(int pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')'); /* the command name may hold spaces */
    unsigned long long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) * 1e3 / (double)sysconf(_SC_CLK_TCK);
}

/* CPU time of the children waited for so far, in ms. */
static double children_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Kills the run of `dir` once it has used `cpu_ms` of CPU time and returns its status (a run that ends first
 * returns its own).  CPU time, not wall time: the moment stays where it is however loaded the machine. */
static int run_killed_at(const char *dir, double cpu_ms)
{
    int pid = faults_spawn("ECGTRAIN", dir, "", faults_run_args(dir, ""));
    for (int st;; usleep(1000)) {
        if ((st = faults_poll(pid)) >= 0)
            return st;
        if (cpu_ms_of(pid) >= cpu_ms)
            break;
    }
    kill(pid, SIGKILL);
    return faults_wait(pid);
}

/*
 * After a kill: the directory's last.h5, when there is one, holds a checkpoint and the run resumes
 * from it; without one the same command starts the run again (in DIR-2: DIR holds the killed
 * run's files).  Returns the directory of the finished run, or NULL.
 */
static const char *finish_after_kill(const char *dir, char *where, size_t size)
{
    const char *last = ecg_test_fmt("%s/last.h5", dir);
    struct ecg_error err = {0};
    char *state = NULL;
    int st;
    if (access(last, F_OK) == 0) {
        int rc = ecg_checkpoint_read_text(last, NULL, &state, &err);
        if (rc)
            fprintf(stderr, "\n  %s\n", err.msg);
        CU_ASSERT_EQUAL(rc, ECG_OK);
        snprintf(where, size, "resumed from last.h5 (%.60s)", state ? state : "?");
        free(state);
        st = faults_ecgtrain(dir, "", faults_run_args(dir, ecg_test_fmt("run.resume='%s'", last)));
        if (st != 0)
            fprintf(stderr, "\n  the resumed run of %s ended with %d:\n%s\n", dir, st, faults_stderr(dir));
        return st == 0 ? dir : NULL;
    }
    snprintf(where, size, "no checkpoint yet, started again");
    st = faults_ecgtrain(dir, "", faults_run_args(dir, ""));
    if (st != 0) {
        fprintf(stderr, "\n  the restarted run of %s ended with %d:\n%s\n", dir, st, faults_stderr(dir));
        return NULL;
    }
    const char *again = ecg_test_fmt("%s-2", dir);
    return access(again, F_OK) == 0 ? again : dir;
}

static void a_run_killed_at_any_moment_resumes_to_the_uninterrupted_result(void)
{
    const char *env = getenv("ECG_CRASH_MOMENTS");
    int moments = env && atoi(env) > 0 ? atoi(env) : MOMENTS;
    char ref[1100];
    snprintf(ref, sizeof ref, "%s/uninterrupted", ecg_test_tmpdir());
    const char *args = faults_run_args(ref, ""); /* makes the dataset, outside the time measured */
    double cpu0 = children_cpu_ms();
    int st = faults_ecgtrain(ref, "", args);
    double total_ms = children_cpu_ms() - cpu0;
    if (st != 0)
        fprintf(stderr, "\n  %s\n", faults_stderr(ref));
    CU_ASSERT_EQUAL_FATAL(st, 0);
    fprintf(stderr, "\n  the uninterrupted run takes %.0f ms of CPU time; %d moments\n", total_ms, moments);

    struct ecg_rng rng = ecg_rng_init(SEED, 0);
    int killed = 0, identical = 0;
    for (int m = 0; m < moments; m++) {
        char dir[1100], what[200], where[200];
        snprintf(dir, sizeof dir, "%s/moment%02d", ecg_test_tmpdir(), m);
        if (m % 2 == 0) {
            double ms = 0.8 * total_ms * ecg_rng_uniform_double(&rng); /* a run's CPU time varies by 10-15 % */
            snprintf(what, sizeof what, "after %.0f ms of CPU time", ms);
            st = run_killed_at(dir, ms);
        } else {
            const struct hook *h = &hooks[ecg_rng_below(&rng, sizeof hooks / sizeof hooks[0])];
            int nth = 1 + (int)ecg_rng_below(&rng, (uint64_t)h->max_nth);
            snprintf(what, sizeof what, "%s (call %d)", h->what, nth);
            st = faults_ecgtrain(dir, faults_env(h->op, h->suffix, nth, h->action), faults_run_args(dir, ""));
        }
        const char *done = NULL;
        if (st == 128 + SIGKILL) {
            killed++;
            done = finish_after_kill(dir, where, sizeof where);
        } else {
            snprintf(where, sizeof where, "the run ended first (status %d)", st);
            CU_ASSERT_EQUAL(st, 0);
            done = st == 0 ? dir : NULL;
        }
        bool same = done && same_run(ref, done);
        identical += same;
        fprintf(stderr, "  moment %2d: SIGKILL %s: %s: %s\n", m, what, where, same ? "identical" : "DIFFERENT");
        CU_ASSERT_TRUE(same);
    }
    fprintf(stderr, "  %d of %d moments killed the run; %d ended identical\n", killed, moments, identical);
    CU_ASSERT_TRUE(killed >= moments * 3 / 4); /* the moments do land inside the run */
}

static const struct ecg_test tests[] = {
    {"a run killed at any moment resumes to the uninterrupted result",
     a_run_killed_at_any_moment_resumes_to_the_uninterrupted_result},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    /* Checkpoints are tens of megabytes: dozens of fsync'ed runs on a disk would take most of the time. */
    struct stat st;
    if (!getenv("TMPDIR") && stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    static const struct ecg_suite suites[] = {{"crash", tests}, {NULL, NULL}};
    return ecg_test_main(argc, argv, suites);
}
