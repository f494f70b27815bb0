/* Shared test helpers: CUnit runner, tensor comparison that reports the worst element, message checks. */
#ifndef ECG_TEST_UTIL_H
#define ECG_TEST_UTIL_H

#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct ecg_test {
    const char *name; /* a sentence: "arena high-water mark survives a rewind" */
    void (*fn)(void);
};

struct ecg_suite {
    const char *name;
    const struct ecg_test *tests; /* terminated by {NULL, NULL} */
};

/* Runs the suites (terminated by {NULL, NULL}) with CUnit's basic runner;
 * returns the process exit status (0 when every test passed).  Arguments, if
 * any, run only the suites whose name contains one of them; the environment
 * variable ECG_TEST, only the tests whose name contains it. */
int ecg_test_main(int argc, char **argv, const struct ecg_suite *suites);

/*
 * Compares two float arrays: passes when every |got - want| <= atol + rtol*|want|.
 * On failure prints the label, the largest absolute and relative difference,
 * and the index where it occurs.  NaN anywhere fails.  Returns pass/fail.
 */
bool ecg_test_close(const char *label, const float *got, const float *want, int64_t n, double rtol,
                    double atol);
bool ecg_test_close_double(const char *label, const double *got, const double *want, int64_t n,
                           double rtol, double atol);

#define ECG_CHECK_CLOSE(label, got, want, n, rtol, atol) \
    CU_ASSERT_TRUE(ecg_test_close((label), (got), (want), (n), (rtol), (atol)))

/* Passes when status == code and err.msg contains `needle`; prints the message otherwise. */
bool ecg_test_error_is(int status, const struct ecg_error *err, enum ecg_status code,
                       const char *needle);
#define ECG_CHECK_ERROR(status, err, code, needle) \
    CU_ASSERT_TRUE(ecg_test_error_is((status), (err), (code), (needle)))

/* Path of a file under tests/fixtures (from $ECG_FIXTURES, set by meson test); the last four of each thread
 * stay valid. */
const char *ecg_test_fixture(const char *relative);

/* The median of v[0..n) (sorting v; the upper middle for even n), NaN when n is 0. */
double ecg_test_median(float *v, int64_t n);

/* The whole file as a malloc'd NUL-terminated string, or NULL when unreadable. */
char *ecg_test_read_file(const char *path);

/* A fresh, empty temporary directory for this test process (created once). */
const char *ecg_test_tmpdir(void);

/* printf into one of 64 rotating static buffers of 2048 bytes: for paths and expected messages
 * built inline in a test (a result stays valid for the next 63 calls). */
char *ecg_test_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* Writes `text` to a new file `name` in the temp dir; returns its path (static buffer ring). */
const char *ecg_test_write_file(const char *name, const char *text);

/* Path of `relative` under the development data folder ../shared beside the project (from
 * $ECG_SOURCE_ROOT), or NULL, after printing "(skipped: ... not present)", when that file is
 * absent: the suite must pass on a machine without ../shared.  Static buffer. */
const char *ecg_test_shared(const char *relative);

/* Runs the program whose path is in environment variable `exe_var` (set by meson test) with
 * `args` (shell words), in `dir` when not NULL; its stdout and stderr go to out (NUL-terminated,
 * at most cap - 1 bytes).  Returns the exit status, -1 when it did not exit normally. */
int ecg_test_run(const char *exe_var, const char *dir, const char *args, char *out, size_t cap);

#endif
