/* libhdf5's own crashes and hangs that fuzzing found (tests/fuzz/hdf5/), each run in ecgserve's parser
 * sandbox: one error naming the file, never the process. */
#define _DEFAULT_SOURCE /* DT_REG */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras_h5.h"
#include "serve/sandbox.h"
#include "tests/test_util.h"

/* What crashed or hung in the fuzzers: the weight-file scan of ecg_keras_probe (a checkpoint's weights are
 * scanned the same way). */
static int scan_weights(void *path, struct ecg_sandbox_out *out, struct ecg_error *err)
{
    (void)out;
    struct ecg_keras_info info;
    return ecg_keras_probe(path, NULL, &info, err);
}

static void each_libhdf5_crash_or_hang_costs_the_sandbox_one_error_not_the_process(void)
{
    const char *dir = ecg_test_fmt("%s/tests/fuzz/hdf5", getenv("ECG_SOURCE_ROOT"));
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    /* Short limits: a hang stops after 2 s; a sanitizer's shadow memory takes no address-space limit. */
    const struct ecg_sandbox_limits lim = {2.0, 2, 0, 1 << 20};
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".h5") != 0)
            continue;
        unsigned char *out = NULL;
        size_t n = 0;
        struct ecg_error err = {0};
        int rc = ecg_sandbox_run(scan_weights, ecg_test_fmt("%s/%s", dir, e->d_name), &lim, e->d_name, &out,
                                 &n, &err);
        const char *head = ecg_test_fmt("%s: the parser ", e->d_name);
        /* crashed (signal ...), took longer than 2 s, used more than its CPU time; under a sanitizer that
         * catches the fault first, ended without a result */
        const char *rest = err.msg + strlen(head);
        bool contained =
            rc == ECG_ERR_FORMAT && strncmp(err.msg, head, strlen(head)) == 0 &&
            (!strncmp(rest, "crashed on this file (signal ", 29) ||
             !strncmp(rest, "took longer than 2 s", 20) || !strncmp(rest, "used more than its CPU", 22) ||
             !strncmp(rest, "ended without a result", 22));
        if (!contained)
            fprintf(stderr, "%s: status %d, '%s'\n", e->d_name, rc, err.msg);
        CU_ASSERT_TRUE(contained);
        free(out);
        files++;
    }
    closedir(d);
    CU_ASSERT_EQUAL(files, 4);
}

static const struct ecg_test tests[] = {
    {"each libhdf5 crash or hang costs the sandbox one error, not the process",
     each_libhdf5_crash_or_hang_costs_the_sandbox_one_error_not_the_process},
    {NULL, NULL},
};

static const struct ecg_suite suites[] = {{"hdf5 isolation", tests}, {NULL, NULL}};

int main(int argc, char **argv)
{
    return ecg_test_main(argc, argv, suites);
}
