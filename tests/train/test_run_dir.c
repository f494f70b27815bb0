/* Tests of run directories: an earlier run is never reused, resuming stays in the checkpoint's directory, train.log. */
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "tests/test_util.h"
#include "train/run_dir.h"
#include "train/run_log.h"

/* Prepares the directory of a config with run.dir=`dir` (and `resume`); stops its train.log copy. */
static int prepare(const char *dir, const char *resume, char *out, size_t size, struct ecg_error *err)
{
    struct ecg_config c;
    char over[700];
    snprintf(over, sizeof over, "run.dir=%s", dir);
    char *argv[] = {over};
    int rc = ecg_config_resolve(&c, NULL, 1, argv, err);
    if (rc)
        return rc;
    rc = ecg_run_dir_prepare(&c, resume, out, size, err);
    ecg_run_log_stop();
    ecg_config_free(&c);
    return rc;
}

static void touch(const char *dir, const char *file)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    ECG_ASSERT(f);
    fputs("earlier run\n", f);
    fclose(f);
}

static void a_directory_that_holds_a_run_is_never_reused(void)
{
    char base[600], dir[1024], want[700];
    snprintf(base, sizeof base, "%s/runs/same", ecg_test_tmpdir());
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(prepare(base, NULL, dir, sizeof dir, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(dir, base); /* a fresh name is used as given */
    touch(dir, "config.yaml");
    CU_ASSERT_EQUAL_FATAL(prepare(base, NULL, dir, sizeof dir, &err), ECG_OK);
    snprintf(want, sizeof want, "%s-2", base);
    CU_ASSERT_STRING_EQUAL(dir, want);
    touch(dir, "last.h5");
    CU_ASSERT_EQUAL_FATAL(prepare(base, NULL, dir, sizeof dir, &err), ECG_OK);
    snprintf(want, sizeof want, "%s-3", base);
    CU_ASSERT_STRING_EQUAL(dir, want);
    char kept[700];
    snprintf(kept, sizeof kept, "%s/config.yaml", base);
    char *first = ecg_test_read_file(kept);
    CU_ASSERT_TRUE(first && strcmp(first, "earlier run\n") == 0);
    free(first);
    /* a directory holding other files only (a sweep's overrides.txt) is not a run */
    snprintf(base, sizeof base, "%s/runs/notes", ecg_test_tmpdir());
    mkdir(base, 0755);
    touch(base, "overrides.txt");
    CU_ASSERT_EQUAL_FATAL(prepare(base, NULL, dir, sizeof dir, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(dir, base);
}

static void resuming_continues_in_the_checkpoint_directory(void)
{
    char base[600], dir[1024], ckpt[700];
    snprintf(base, sizeof base, "%s/runs/resumed", ecg_test_tmpdir());
    struct ecg_error err = {0};
    CU_ASSERT_EQUAL_FATAL(prepare(base, NULL, dir, sizeof dir, &err), ECG_OK);
    touch(dir, "last.h5");
    snprintf(ckpt, sizeof ckpt, "%s/last.h5", base);
    CU_ASSERT_EQUAL_FATAL(prepare("elsewhere", ckpt, dir, sizeof dir, &err), ECG_OK);
    CU_ASSERT_STRING_EQUAL(dir, base);
    char cwd[1024];
    CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
    CU_ASSERT_EQUAL_FATAL(chdir(base), 0); /* a checkpoint named without a directory: this one */
    CU_ASSERT_EQUAL(prepare(base, "last.h5", dir, sizeof dir, &err), ECG_OK);
    CU_ASSERT_EQUAL_FATAL(chdir(cwd), 0);
    CU_ASSERT_STRING_EQUAL(dir, ".");
    /* A killed run's temporary files go; other files stay. */
    touch(base, "best.h5.tmp");
    touch(base, "metrics.json.tmp");
    touch(base, "notes.tmp");
    CU_ASSERT_EQUAL_FATAL(prepare("elsewhere", ckpt, dir, sizeof dir, &err), ECG_OK);
    CU_ASSERT_EQUAL(access(ecg_test_fmt("%s/best.h5.tmp", base), F_OK), -1);
    CU_ASSERT_EQUAL(access(ecg_test_fmt("%s/metrics.json.tmp", base), F_OK), -1);
    CU_ASSERT_EQUAL(access(ecg_test_fmt("%s/notes.tmp", base), F_OK), 0);
    CU_ASSERT_EQUAL(access(ecg_test_fmt("%s/last.h5", base), F_OK), 0);
}

static void a_run_directory_that_cannot_be_made_fails_even_without_an_error_struct(void)
{
    char blocked[700], dir[1024];
    snprintf(blocked, sizeof blocked, "%s/plain-file", ecg_test_tmpdir());
    touch(ecg_test_tmpdir(), "plain-file");
    strcat(blocked, "/run");
    struct ecg_error err = {0};
    ECG_CHECK_ERROR(prepare(blocked, NULL, dir, sizeof dir, &err), &err, ECG_ERR_IO, "run.dir: cannot create directory");
    CU_ASSERT_NOT_EQUAL(prepare(blocked, NULL, dir, sizeof dir, NULL), ECG_OK);
}

static void train_log_keeps_plain_lines_of_both_streams(void)
{
    char path[700];
    snprintf(path, sizeof path, "%s/plain.log", ecg_test_tmpdir());
    struct ecg_error err = {0};
    enum ecg_log_level level = ecg_log_get_level();
    ecg_log_set_level(ECG_LOG_INFO);
    CU_ASSERT_EQUAL_FATAL(ecg_run_log_start(path, false, &err), ECG_OK);
    ecg_info("first line");
    for (int b = 1; b <= 3; b++) /* a progress bar rewriting its line */
        fprintf(stderr, "\r\033[Kepoch 1/2  batch %d/3", b);
    fputs("\r\033[K", stderr); /* cleared: nothing of it stays */
    fputs("\033[1mbold\033[0m and a title\033]0;window title\007 and a bell\007\n", stderr);
    printf("on stdout\n");
    ecg_run_log_stop();
    ecg_log_set_level(level);
    char *text = ecg_test_read_file(path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "first line\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "bold and a title and a bell\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "on stdout\n"));
    CU_ASSERT_PTR_NULL(strstr(text, "batch"));
    CU_ASSERT_PTR_NULL(strchr(text, '\033'));
    CU_ASSERT_PTR_NULL(strchr(text, '\r'));
    if (strlen(text) != strlen("first line\nbold and a title and a bell\non stdout\n"))
        fprintf(stderr, "\n  train.log holds:\n%s\n", text);
    CU_ASSERT_EQUAL(strlen(text), strlen("first line\nbold and a title and a bell\non stdout\n"));
    free(text);
    /* appending (resuming) keeps what was there */
    CU_ASSERT_EQUAL_FATAL(ecg_run_log_start(path, true, &err), ECG_OK);
    fputs("resumed\n", stderr);
    ecg_run_log_stop();
    text = ecg_test_read_file(path);
    CU_ASSERT_TRUE(text && strstr(text, "first line\n") && strstr(text, "resumed\n"));
    free(text);
}

/* The progress line is drawn only on a terminal; while train.log copies the output, descriptor 2 is
 * a pipe, and the question is answered for the terminal behind it. */
static void a_terminal_behind_train_log_still_counts_as_a_terminal(void)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    CU_ASSERT_TRUE_FATAL(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    int tty = open(ptsname(master), O_RDWR | O_NOCTTY);
    CU_ASSERT_TRUE_FATAL(tty >= 0);
    fflush(stderr);
    int saved = dup(2);
    CU_ASSERT_TRUE_FATAL(saved >= 0 && dup2(tty, 2) == 2);
    struct ecg_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/tty.log", ecg_test_tmpdir());
    int rc = ecg_run_log_start(path, false, &err);
    bool pipe_is_tty = isatty(2), behind = ecg_run_log_isatty(2);
    ecg_run_log_stop();
    bool after = ecg_run_log_isatty(2);
    dup2(saved, 2);
    close(saved);
    close(tty);
    close(master);
    CU_ASSERT_EQUAL(rc, ECG_OK);
    CU_ASSERT_FALSE(pipe_is_tty);
    CU_ASSERT_TRUE(behind);
    CU_ASSERT_TRUE(after);
}

static const struct ecg_test run_dir_tests[] = {
    {"a directory that holds a run is never reused", a_directory_that_holds_a_run_is_never_reused},
    {"resuming continues in the checkpoint's directory and removes a killed run's temporary files",
     resuming_continues_in_the_checkpoint_directory},
    {"a run directory that cannot be made fails, even without an error struct",
     a_run_directory_that_cannot_be_made_fails_even_without_an_error_struct},
    {"train.log keeps plain lines of both streams", train_log_keeps_plain_lines_of_both_streams},
    {"a terminal behind train.log still counts as a terminal", a_terminal_behind_train_log_still_counts_as_a_terminal},
    {NULL, NULL},
};
static const struct ecg_suite suites[] = {
    {"run_dir", run_dir_tests},
    {NULL, NULL},
};

int main(int argc, char **argv) { return ecg_test_main(argc, argv, suites); }
