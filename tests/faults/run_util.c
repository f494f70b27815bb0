/* Helpers of the fault tests: the short run's command line, spawning ecgtrain with a fault, file comparisons. */
#define _DEFAULT_SOURCE
#include "tests/faults/run_util.h"

#include <dirent.h>
#include <hdf5.h>
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

/* 48 records of the bundled sample (12 a class), made once per test process: a short run reads them fast. */
static const char *small_dataset(void)
{
    static char path[1100];
    if (path[0])
        return path;
    const char *exe = getenv("ECGCONVERT");
    CU_ASSERT_PTR_NOT_NULL_FATAL(exe);
    snprintf(path, sizeof path, "%s/sample48.h5", ecg_test_tmpdir());
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --format cachet_short --per-class 12 --compress 0 --quiet "
             "'%s/data/sample/cachet_sample.h5' '%s'", exe, source_root(), path);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    return path;
}

const char *faults_run_args(const char *dir, const char *more)
{
    return ecg_test_fmt("'%s/configs/tiny.yaml' run.dir='%s' run.seed=5 run.threads=2 run.log_level=warn "
                        "data.path='%s' data.val_fraction=0.25 data.test_fraction=0.25 "
                        "data.spectrogram.height=32 data.spectrogram.width=32 train.epochs=3 "
                        "model.dropout=0.2 data.augment.noise_prob=0.5 %s",
                        source_root(), dir, small_dataset(), more);
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

static volatile sig_atomic_t running_child;

/* The test ended by meson's timeout (SIGTERM) takes the program it runs with it. */
static void on_term(int sig)
{
    if (running_child > 0)
        kill((pid_t)running_child, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

int faults_spawn(const char *exe_var, const char *dir, const char *env, const char *args)
{
    signal(SIGTERM, on_term);
    const char *exe = getenv(exe_var);
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
    running_child = (sig_atomic_t)pid;
    return (int)pid;
}

static int wait_for(int pid, int options)
{
    int st = 0;
    pid_t got = waitpid(pid, &st, options);
    if (got != pid)
        return -1;
    running_child = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int faults_wait(int pid) { return wait_for(pid, 0); }

int faults_poll(int pid) { return wait_for(pid, WNOHANG); }

int faults_ecgtrain(const char *dir, const char *env, const char *args)
{
    return faults_wait(faults_spawn("ECGTRAIN", dir, env, args));
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

/* ---- comparing the datasets of two HDF5 files ---- */

struct walk {
    hid_t other;
    const char *skip, *b;
    bool same;
    int64_t datasets;
};

/* The bytes of an open dataset as stored, malloc'd; *size their count. */
static char *dataset_bytes(hid_t d, size_t *size)
{
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    hssize_t n = H5Sget_select_npoints(space);
    *size = (size_t)n * H5Tget_size(type);
    char *buf = calloc(*size + 1, 1);
    if (buf && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        free(buf);
        buf = NULL;
    }
    H5Sclose(space);
    H5Tclose(type);
    return buf;
}

static herr_t compare_one(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    struct walk *w = data;
    hid_t obj = info->type == H5L_TYPE_HARD ? H5Oopen(g, name, H5P_DEFAULT) : H5I_INVALID_HID;
    if (obj < 0 || H5Iget_type(obj) != H5I_DATASET || (w->skip && strcmp(name, w->skip) == 0)) {
        if (obj >= 0)
            H5Oclose(obj);
        return 0;
    }
    w->datasets++;
    hid_t twin = H5Lexists(w->other, name, H5P_DEFAULT) > 0 ? H5Dopen2(w->other, name, H5P_DEFAULT) : H5I_INVALID_HID;
    size_t na = 0, nb = 0;
    char *a = dataset_bytes(obj, &na), *b = twin >= 0 ? dataset_bytes(twin, &nb) : NULL;
    bool same = a && b && na == nb && memcmp(a, b, na) == 0;
    if (!same)
        fprintf(stderr, "\n  dataset '%s' differs in %s (%zu and %zu bytes)\n", name, w->b, na, nb);
    free(a);
    free(b);
    if (twin >= 0)
        H5Dclose(twin);
    H5Oclose(obj);
    w->same = same;
    return same ? 0 : 1; /* the first difference ends the walk */
}

/* Every dataset of `a` is in `b` with the same bytes. */
static bool datasets_in(const char *a, const char *b, const char *skip)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fa = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT), fb = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
    struct walk w = {.other = fb, .skip = skip, .b = b, .same = fa >= 0 && fb >= 0};
    if (!w.same)
        fprintf(stderr, "\n  cannot open %s or %s\n", a, b);
    else
        H5Lvisit(fa, H5_INDEX_NAME, H5_ITER_INC, compare_one, &w);
    if (w.same && w.datasets == 0) {
        fprintf(stderr, "\n  %s holds no dataset\n", a);
        w.same = false;
    }
    if (fa >= 0)
        H5Fclose(fa);
    if (fb >= 0)
        H5Fclose(fb);
    return w.same;
}

bool faults_same_datasets(const char *a, const char *b, const char *skip)
{
    return datasets_in(a, b, skip) && datasets_in(b, a, skip);
}
