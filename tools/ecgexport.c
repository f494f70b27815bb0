/* ecgexport: writes the weights of an ecgtrain checkpoint as a plain Keras-layout HDF5 weight file. */
#include <stdio.h>
#include <string.h>

#include "core/blas.h"
#include "core/log.h"
#include "io/keras_h5.h"
#include "train/train.h"

static const char usage_text[] =
    "usage: ecgexport CHECKPOINT OUT.h5 [--no-head]\n"
    "\n"
    "Writes the model weights of a checkpoint written by ecgtrain (best.h5, last.h5) as a Keras-layout\n"
    "HDF5 weight file without optimizer state, recording its padding, batch-norm epsilon and\n"
    "architecture as file attributes, for model.pretrained or for h5py/Keras users.\n"
    "--no-head leaves out the classifier (predictions/*).\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n";

static int run(const char *ckpt, const char *out, bool no_head, struct ecg_error *err)
{
    struct ecg_config c = {0};
    struct ecg_effnet m = {0};
    int rc = ecg_config_from_checkpoint(ckpt, 0, NULL, &c, err);
    if (rc)
        return rc;
    ecg_log_set_level(ECG_LOG_WARN);
    if (no_head)
        c.model.num_classes = 0;
    if ((rc = ecg_model_build(&c, 1, true, &m, NULL, err)) == ECG_OK) {
        struct ecg_keras_info attrs = {0};
        attrs.has_bn_eps = true;
        attrs.bn_eps = m.opt.bn_eps;
        attrs.has_padding = true;
        snprintf(attrs.padding, sizeof attrs.padding, "%s", m.opt.padding == ECG_PAD_SAME ? "same" : "symmetric");
        attrs.has_arch = true;
        snprintf(attrs.arch, sizeof attrs.arch, "b%d", m.opt.arch);
        rc = ecg_keras_save(out, m.params, &attrs, err);
    }
    ecg_effnet_free(&m);
    ecg_config_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct ecg_error err = {0};
    const char *paths[2] = {NULL, NULL};
    int n = 0;
    bool no_head = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--no-head")) {
            no_head = true;
        } else if (argv[i][0] == '-' || n == 2) {
            fprintf(stderr, "ecgexport: unexpected argument '%s'\n%s", argv[i], usage_text);
            return 2;
        } else {
            paths[n++] = argv[i];
        }
    }
    if (n != 2) {
        fprintf(stderr, "ecgexport: expected CHECKPOINT and OUT.h5\n%s", usage_text);
        return 2;
    }
    int rc = run(paths[0], paths[1], no_head, &err);
    if (rc)
        fprintf(stderr, "ecgexport: %s\n", err.msg);
    return ecg_status_exit_code(rc);
}
