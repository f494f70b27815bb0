/* libhdf5's own crashes and hangs that fuzzing found (tests/fuzz/hdf5/), each run in ecgserve's parser
 * sandbox: one error naming the file, never the process. */
#define _DEFAULT_SOURCE /* DT_REG */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "io/keras_h5.h"
#include "serve/sandbox.h"
#include "serve/upload.h"
#include "tests/test_util.h"

/* Short limits: a hang stops after 2 s; a sanitizer's shadow memory takes no address-space limit. */
static const struct ecg_sandbox_limits quick = {2.0, 2, 0, 1 << 20};

/* Whether a message says the sandbox stopped the parser: crashed (signal ...), took longer than 2 s, used
 * more than its CPU time; under a sanitizer that catches a fault before the signal, ended without a result.
 */
static bool stopped(int rc, const struct ecg_error *err, const char *file)
{
    const char *head = ecg_test_fmt("%s: the parser ", file), *rest = err->msg + strlen(head);
    bool ok =
        rc == ECG_ERR_FORMAT && strncmp(err->msg, head, strlen(head)) == 0 &&
        (!strncmp(rest, "crashed on this file (signal ", 29) || !strncmp(rest, "took longer than 2 s", 20) ||
         !strncmp(rest, "used more than its CPU", 22) || !strncmp(rest, "ended without a result", 22));
    if (!ok)
        fprintf(stderr, "%s: status %d, '%s'\n", file, rc, err->msg);
    return ok;
}

/* The CACHET files as ecgserve receives them: one uploaded part, read by the upload path. */
static bool upload_is_stopped(const char *path, const char *name)
{
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fseek(f, 0, SEEK_END);
    size_t size = (size_t)ftell(f);
    unsigned char *data = malloc(size);
    rewind(f);
    CU_ASSERT_FATAL(data && fread(data, 1, size, f) == size);
    fclose(f);
    struct ecg_multipart_part part = {.name = "file", .data = data, .size = size};
    snprintf(part.filename, sizeof part.filename, "%s", name);
    struct ecg_serve_upload_limits lim;
    ecg_serve_upload_limits_default(&lim);
    lim.hdf5 = quick;
    struct ecg_serve_params params = {0};
    struct ecg_serve_records recs = {0};
    struct ecg_error err = {0};
    char file[ECG_MULTIPART_NAME_MAX];
    int rc = ecg_serve_records_from_parts(&part, 1, &lim, &params, &recs, file, sizeof file, &err);
    ecg_serve_records_free(&recs);
    free(data);
    return stopped(rc, &err, name) && strcmp(file, name) == 0;
}

/* The weight files and checkpoints crashed or hung in the scan of their Keras layout (ecg_keras_probe). */
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
    int uploads = 0, weights = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 4 || strcmp(e->d_name + len - 3, ".h5") != 0)
            continue;
        const char *path = ecg_test_fmt("%s/%s", dir, e->d_name);
        if (strncmp(e->d_name, "cachet_", 7) == 0) {
            CU_ASSERT_TRUE(upload_is_stopped(path, e->d_name));
            uploads++;
            continue;
        }
        unsigned char *out = NULL;
        size_t n = 0;
        struct ecg_error err = {0};
        CU_ASSERT_TRUE(stopped(ecg_sandbox_run(scan_weights, (void *)path, &quick, e->d_name, &out, &n, &err),
                               &err, e->d_name));
        free(out);
        weights++;
    }
    closedir(d);
    CU_ASSERT_EQUAL(uploads, 3);
    CU_ASSERT_EQUAL(weights, 4);
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
