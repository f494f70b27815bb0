/* Tests of tools/ecgforward: PyTorch's features and logits reproduced from the converted torchvision file; its errors. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io/h5util.h"
#include "tests/test_util.h"

static char captured[4096];

/* Runs ecgforward (path in $ECGFORWARD) with up to 8 arguments; returns its
 * exit status and leaves its stderr in `captured`. */
static int ecgforward(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
    const char *exe = getenv("ECGFORWARD");
    ECG_ASSERT(exe);
    char log[512];
    snprintf(log, sizeof log, "%s/ecgforward.log", ecg_test_tmpdir());
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    ECG_ASSERT(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        dup2(fd, 1);
        close(fd);
        char *argv[8] = {(char *)exe, (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL};
        execv(exe, argv);
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    FILE *f = fopen(log, "r");
    size_t n = f ? fread(captured, 1, sizeof captured - 1, f) : 0;
    captured[n] = '\0';
    if (f)
        fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static const char *out_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", ecg_test_tmpdir(), name);
    return buf;
}

static void read2(const char *path, const char *name, float *dst, int64_t n)
{
    struct ecg_error err = {0};
    hid_t f;
    ECG_ASSERT(ecg_h5_open_read(path, &f, &err) == ECG_OK);
    if (ecg_h5_read_floats(f, name, dst, n, &err) != ECG_OK)
        fprintf(stderr, "\n  %s\n", err.msg);
    ecg_h5_close(f);
}

static void the_converted_torchvision_file_reproduces_pytorch_logits(void)
{
    const char *out = out_path("fw.h5");
    int rc = ecgforward(ecg_test_fixture("io/torchvision_b0.h5"), ecg_test_fixture("io/torchvision_b0_io.h5"), out,
                        NULL, NULL);
    if (rc)
        fprintf(stderr, "\n  %s\n", captured);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    static float got[2 * 1280], want[2 * 1280];
    read2(out, "features", got, 2 * 1280);
    read2(ecg_test_fixture("io/torchvision_b0_io.h5"), "features", want, 2 * 1280);
    ECG_CHECK_CLOSE("features", got, want, 2 * 1280, 1e-4, 1e-6);
    read2(out, "logits", got, 20);
    read2(ecg_test_fixture("io/torchvision_b0_io.h5"), "logits", want, 20);
    ECG_CHECK_CLOSE("logits", got, want, 20, 1e-4, 1e-6);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "EfficientNet-B0, symmetric padding, bn_eps 1e-05"));
}

static void a_keras_file_runs_with_keras_defaults(void)
{
    const char *out = out_path("fw_keras.h5");
    int rc = ecgforward(ecg_test_fixture("io/keras2_b0.h5"), ecg_test_fixture("io/torchvision_b0_io.h5"), out,
                        NULL, NULL);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "EfficientNet-B0, same padding, bn_eps 0.001"));
    CU_ASSERT_PTR_NULL(strstr(captured, "warning"));
    struct ecg_error err = {0};
    hid_t f;
    CU_ASSERT_EQUAL_FATAL(ecg_h5_open_read(out, &f, &err), ECG_OK);
    int nd;
    int64_t shape[ECG_H5_MAX_DIMS];
    CU_ASSERT_EQUAL(ecg_h5_dataset_shape(f, "logits", &nd, shape, NULL, &err), ECG_OK);
    CU_ASSERT_TRUE(nd == 2 && shape[0] == 2 && shape[1] == 1000);
    ecg_h5_close(f);
}

static void overrides_replace_the_file_attributes(void)
{
    const char *out = out_path("fw_same.h5");
    int rc = ecgforward(ecg_test_fixture("io/torchvision_b0.h5"), ecg_test_fixture("io/torchvision_b0_io.h5"), out,
                        "model.padding=same", "model.bn_eps=0.001");
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "EfficientNet-B0, same padding, bn_eps 0.001"));
    float got[20], want[20];
    read2(out, "logits", got, 20);
    read2(ecg_test_fixture("io/torchvision_b0_io.h5"), "logits", want, 20);
    double worst = 0;
    for (int i = 0; i < 20; i++)
        if (got[i] - want[i] > worst || want[i] - got[i] > worst)
            worst = got[i] > want[i] ? got[i] - want[i] : want[i] - got[i];
    CU_ASSERT_TRUE(worst > 1e-3); /* other numerics, other logits */
}

static void a_wrong_architecture_override_is_one_clear_error(void)
{
    int rc = ecgforward(ecg_test_fixture("io/torchvision_b0.h5"), ecg_test_fixture("io/torchvision_b0_io.h5"),
                        out_path("fw_b1.h5"), "model.arch=b1", NULL);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "ecgforward: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "torchvision_b0.h5: looks like EfficientNet-B0 weights, the model is B1"));
}

static void bad_arguments_are_reported(void)
{
    int rc = ecgforward(ecg_test_fixture("io/torchvision_b0.h5"), ecg_test_fixture("io/torchvision_b0_io.h5"),
                        out_path("x.h5"), "train.lr=1", NULL);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "override 'train.lr': ecgforward accepts model.arch, model.padding and model.bn_eps"));
    rc = ecgforward(ecg_test_fixture("io/torchvision_b0.h5"), ecg_test_fixture("io/torchvision_b0_io.h5"),
                    out_path("x.h5"), "model.padding=valid", NULL);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "override 'model.padding=valid': "));
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "valid"));
    rc = ecgforward(ecg_test_fixture("io/torchvision_b0.h5"), ecg_test_fixture("io/torchvision_b0_io.h5"),
                    out_path("x.h5"), "model.bn_eps=2", NULL);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "override 'model.bn_eps=2': "));
    rc = ecgforward(ecg_test_fixture("io/torchvision_b0.h5"), NULL, NULL, NULL, NULL);
    CU_ASSERT_EQUAL(rc, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "usage: ecgforward"));
    /* The weight file as input: it has no dataset `x`. */
    rc = ecgforward(ecg_test_fixture("io/torchvision_b0.h5"), ecg_test_fixture("io/torchvision_b0.h5"),
                    out_path("x.h5"), NULL, NULL);
    CU_ASSERT_EQUAL(rc, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(captured, "torchvision_b0.h5: '/x': dataset missing"));
}

static const struct ecg_test forward_tests[] = {
    {"the converted torchvision file reproduces PyTorch's features and logits", the_converted_torchvision_file_reproduces_pytorch_logits},
    {"a Keras file runs with Keras' padding and epsilon", a_keras_file_runs_with_keras_defaults},
    {"overrides replace the file's padding and epsilon", overrides_replace_the_file_attributes},
    {"a wrong architecture override is one clear error", a_wrong_architecture_override_is_one_clear_error},
    {"bad arguments are reported", bad_arguments_are_reported},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    ecg_h5_init();
    const struct ecg_suite suites[] = {{"ecgforward", forward_tests}, {NULL, NULL}};
    return ecg_test_main(argc, argv, suites);
}
