/* Shared test helpers. */
#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include "tests/test_util.h"

#include "core/blas.h"

#include <CUnit/Basic.h>
#include <ftw.h>
#include <sys/stat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int ecg_test_main(int argc, char **argv, const struct ecg_suite *suites)
{
    ecg_process_tune(argv); /* the same BLAS kernels and thread policy as the programs */
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    for (const struct ecg_suite *s = suites; s->name; s++) {
        bool chosen = argc < 2; /* no argument: every suite; else those whose name contains one */
        for (int i = 1; i < argc && !chosen; i++)
            chosen = strstr(s->name, argv[i]) != NULL;
        if (!chosen)
            continue;
        CU_pSuite suite = CU_add_suite(s->name, NULL, NULL);
        const char *only = getenv("ECG_TEST"); /* ECG_TEST=text runs the tests whose name contains it */
        for (const struct ecg_test *t = s->tests; t->name; t++)
            if (!only || strstr(t->name, only))
                CU_add_test(suite, t->name, t->fn);
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed == 0 && run > 0) ? 0 : 1;
}

static bool close_report(const char *label, int64_t n, int64_t worst, double got, double want,
                         double worst_abs, double worst_rel, int64_t bad, int64_t nan_at)
{
    if (bad == 0 && nan_at < 0)
        return true;
    if (nan_at >= 0)
        fprintf(stderr, "\n  %s: NaN at index %lld\n", label, (long long)nan_at);
    else
        fprintf(stderr,
                "\n  %s: %lld of %lld elements differ; largest |diff| %.3g (rel %.3g) at index %lld: "
                "got %.9g, want %.9g\n",
                label, (long long)bad, (long long)n, worst_abs, worst_rel, (long long)worst, got,
                want);
    return false;
}

#define CLOSE_BODY(T)                                                                    \
    int64_t worst = 0, bad = 0, nan_at = -1;                                             \
    double worst_abs = 0, worst_rel = 0, worst_excess = -INFINITY;                       \
    for (int64_t i = 0; i < n; i++) {                                                    \
        double g = (double)got[i], w = (double)want[i];                                  \
        if (isnan(g) != isnan(w)) {                                                      \
            if (nan_at < 0)                                                              \
                nan_at = i;                                                              \
            continue;                                                                    \
        }                                                                                \
        double d = fabs(g - w);                                                          \
        double excess = d - (atol + rtol * fabs(w));                                     \
        if (excess > 0)                                                                  \
            bad++;                                                                       \
        if (excess > worst_excess) {                                                     \
            worst_excess = excess;                                                       \
            worst = i;                                                                   \
            worst_abs = d;                                                               \
            worst_rel = w != 0 ? d / fabs(w) : d;                                        \
        }                                                                                \
    }                                                                                    \
    return close_report(label, n, worst, n ? (double)got[worst] : 0, n ? (double)want[worst] : 0, \
                        worst_abs, worst_rel, bad, nan_at);

bool ecg_test_close(const char *label, const float *got, const float *want, int64_t n, double rtol,
                    double atol)
{
    CLOSE_BODY(float)
}

bool ecg_test_close_double(const char *label, const double *got, const double *want, int64_t n,
                           double rtol, double atol)
{
    CLOSE_BODY(double)
}

bool ecg_test_error_is(int status, const struct ecg_error *err, enum ecg_status code,
                       const char *needle)
{
    if (status == (int)code && err->code == code && strstr(err->msg, needle))
        return true;
    fprintf(stderr, "\n  expected status %d (%s) with message containing \"%s\"\n  got status %d: \"%s\"\n",
            (int)code, ecg_status_name(code), needle, status, err->msg);
    return false;
}

const char *ecg_test_fixture(const char *relative)
{
    static _Thread_local char bufs[4][4096]; /* per thread: tests call this from threads of their own */
    static _Thread_local int next;
    const char *root = getenv("ECG_FIXTURES");
    char *buf = bufs[next++ % 4];
    snprintf(buf, sizeof bufs[0], "%s/%s", root ? root : "tests/fixtures", relative);
    return buf;
}

static char tmpdir[256];
static pid_t tmpdir_owner;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path) ? -1 : 0;
}

/* Test runs write checkpoints and run directories; without this, each run of the suite would
 * leave hundreds of megabytes behind.  Only the process that made the directory removes it (a
 * forked child's exit must not); ECG_KEEP_TMPDIR=1 keeps it for a post-mortem. */
static void remove_tmpdir(void)
{
    const char *keep = getenv("ECG_KEEP_TMPDIR");
    if (getpid() == tmpdir_owner && !(keep && keep[0] == '1'))
        nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *ecg_test_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/ecgtest-XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            abort();
        }
        tmpdir_owner = getpid();
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

char *ecg_test_fmt(const char *f, ...)
{
    static char bufs[64][2048];
    static int next;
    char *b = bufs[next++ % 64];
    va_list ap;
    va_start(ap, f);
    vsnprintf(b, sizeof bufs[0], f, ap);
    va_end(ap);
    return b;
}

const char *ecg_test_write_file(const char *name, const char *text)
{
    static char bufs[8][512];
    static int next;
    char *path = bufs[next++ % 8];
    snprintf(path, sizeof bufs[0], "%s/%s", ecg_test_tmpdir(), name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        abort();
    }
    fputs(text, f);
    fclose(f);
    return path;
}

char *ecg_test_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = NULL;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

int ecg_test_run(const char *exe_var, const char *dir, const char *args, char *out, size_t cap)
{
    const char *exe = getenv(exe_var);
    CU_ASSERT_PTR_NOT_NULL_FATAL(exe);
    char cmd[8192];
    if (dir)
        snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", dir, exe, args);
    else
        snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", exe, args);
    FILE *p = popen(cmd, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *ecg_test_shared(const char *relative)
{
    static char path[4096];
    const char *root = getenv("ECG_SOURCE_ROOT");
    snprintf(path, sizeof path, "%s/../shared/%s", root ? root : ".", relative);
    if (access(path, R_OK) != 0) {
        printf("(skipped: %s not present) ", path);
        return NULL;
    }
    return path;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

double ecg_test_median(float *v, int64_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_float);
    return v[n / 2];
}
