/* ecgexport: writes the weights of an ecgtrain checkpoint as a plain Keras-layout HDF5 weight file. */
#include <stdio.h>
#include <string.h>

#include "core/blas.h"
#include "core/log.h"
#include "io/keras_h5.h"
#include "tools/cli.h"
#include "train/train.h"

static const char usage_text[] =
    "usage: ecgexport [--no-head] CHECKPOINT OUT.h5\n"
    "       ecgexport --help | --version\n"
    "\n"
    "Writes the model weights of a checkpoint written by ecgtrain (best.h5, last.h5) as a Keras-layout\n"
    "HDF5 weight file without optimizer state, recording its padding, batch-norm epsilon and\n"
    "architecture as file attributes, for model.pretrained or for h5py/Keras users.\n"
    "\n"
    "  --no-head       leave out the classifier (predictions/*)\n"
    "  -h, --help      print this text\n"
    "  -V, --version   print the version\n"
    "  --              end of options (for paths that start with '-')\n"
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
    static const struct option options[] = {ECG_CLI_COMMON, {"no-head", no_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
    ecg_process_tune(argv);
    struct ecg_error err = {0};
    bool no_head = false;
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT, options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': ecg_cli_print_version("ecgexport"); return 0;
        case 'n': no_head = true; break;
        default: return ecg_cli_parse_failed("ecgexport", usage_text, ecg_cli_option_error(c, argv, &err), &err);
        }
    }
    if (argc - optind != 2) {
        ecg_error_set(&err, ECG_ERR_USAGE, "expected CHECKPOINT and OUT.h5");
        return ecg_cli_parse_failed("ecgexport", usage_text, ECG_ERR_USAGE, &err);
    }
    int rc = run(argv[optind], argv[optind + 1], no_head, &err);
    if (rc)
        fprintf(stderr, "ecgexport: %s\n", err.msg);
    return ecg_status_exit_code(rc);
}
