/* Helpers of the fault tests: the short run's command line, spawning ecgtrain with a fault, file comparisons. */
#define _DEFAULT_SOURCE
#include "tests/faults/run_util.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/test_util.h"

static const char *source_root(void)
{
    const char *root = getenv("ECG_SOURCE_ROOT");
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    return root;
}

const char *faults_run_args(const char *dir, const char *more)
{
    const char *root = source_root();
    return ecg_test_fmt("'%s/configs/tiny.yaml' run.dir='%s' run.seed=5 run.threads=2 run.log_level=warn "
                        "data.path='%s/data/sample/cachet_sample.h5' data.spectrogram.height=32 "
                        "data.spectrogram.width=32 train.max_per_class=4 train.epochs=3 "
                        "model.dropout=0.2 data.augment.noise_prob=0.5 %s",
                        root, dir, root, more);
}

const char *faults_env(const char *op, const char *path_suffix, int nth, const char *action)
{
    if (!op)
        return "";
    const char *lib = getenv("IO_FAULT_LIB");
    CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
    /* A sanitizer build wants its runtime first among the libraries; the preloaded one is harmless. */
    return ecg_test_fmt("LD_PRELOAD='%s' ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:verify_asan_link_order=0\" "
                        "ECG_FAULT_OP=%s ECG_FAULT_PATH='%s' ECG_FAULT_NTH=%d ECG_FAULT_ACTION=%s",
                        lib, op, path_suffix, nth, action);
}

int faults_spawn(const char *dir, const char *env, const char *args)
{
    const char *exe = getenv("ECGTRAIN");
    CU_ASSERT_PTR_NOT_NULL_FATAL(exe);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s exec '%s' %s >'%s.out' 2>'%s.err'", env, exe, args, dir, dir);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return (int)pid;
}

int faults_wait(int pid)
{
    int st = 0;
    if (waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int faults_ecgtrain(const char *dir, const char *env, const char *args)
{
    return faults_wait(faults_spawn(dir, env, args));
}

char *faults_read(const char *path, size_t *size)
{
    struct stat st;
    char *data = stat(path, &st) == 0 ? ecg_test_read_file(path) : NULL; /* it reads the bytes, NULs and all */
    if (data)
        *size = (size_t)st.st_size;
    return data;
}

bool faults_same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *da = faults_read(a, &na), *db = faults_read(b, &nb);
    bool same = da && db && na == nb && memcmp(da, db, na) == 0;
    if (!same)
        fprintf(stderr, "\n  %s (%zu bytes%s) and %s (%zu bytes%s) differ\n", a, na, da ? "" : ", unreadable", b, nb,
                db ? "" : ", unreadable");
    free(da);
    free(db);
    return same;
}

bool faults_copy(const char *from, const char *to)
{
    size_t n = 0;
    char *data = faults_read(from, &n);
    FILE *f = data ? fopen(to, "wb") : NULL;
    bool ok = f && fwrite(data, 1, n, f) == n;
    if (f)
        ok = fclose(f) == 0 && ok;
    free(data);
    return ok;
}

int faults_count_suffix(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    size_t ls = strlen(suffix);
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        n += len >= ls && strcmp(e->d_name + len - ls, suffix) == 0;
    }
    closedir(d);
    return n;
}

static const char *output_of(const char *dir, const char *ext)
{
    static char text[2][65536];
    char *buf = text[ext[1] == 'e'];
    size_t n = 0;
    char *all = faults_read(ecg_test_fmt("%s%s", dir, ext), &n);
    snprintf(buf, sizeof text[0], "%s", all ? all : "");
    free(all);
    return buf;
}

const char *faults_stderr(const char *dir) { return output_of(dir, ".err"); }

const char *faults_stdout(const char *dir) { return output_of(dir, ".out"); }

int faults_count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}
