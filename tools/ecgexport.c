/* ecgexport: writes a checkpoint as a self-describing model file, or its weights as a plain Keras-layout HDF5 file. */
#include <stdio.h>
#include <string.h>

#include "core/blas.h"
#include "core/log.h"
#include "io/keras_h5.h"
#include "tools/cli.h"
#include "train/export.h"
#include "train/train.h"

static const char usage_text[] =
    "usage: ecgexport [--metrics FILE] [--skip-data] CHECKPOINT OUT.h5\n"
    "       ecgexport --no-head CHECKPOINT OUT.h5\n"
    "       ecgexport --help | --version\n"
    "\n"
    "Writes the model of a checkpoint written by ecgtrain (best.h5, last.h5) as a model file: the\n"
    "weights in the Keras layout (h5py and Keras read them), plus a group /ecg_model with the run's\n"
    "resolved configuration (preprocessing, windows, spectrogram, model), the class names, the\n"
    "temperature of the calibrated probabilities, where the training data came from (data.path read\n"
    "again: records, class counts, data.exclude and its ids) and metrics.  ecgeval and ecgpredict take\n"
    "such a file with no configuration.\n"
    "\n"
    "  --metrics FILE  store this JSON file (e.g. the cross-validated metrics) as the model's metrics\n"
    "  --skip-data     do not read data.path (the provenance then lacks the record and class counts)\n"
    "  --no-head       plain weights without the classifier (predictions/*) or metadata, for\n"
    "                  model.pretrained\n"
    "  -h, --help      print this text\n"
    "  -V, --version   print the version\n"
    "  --              end of options (for paths that start with '-')\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n";

/* --no-head: the backbone's weights alone, with the conventions they were trained with. */
static int export_backbone(const char *ckpt, const char *out, struct ecg_error *err)
{
    struct ecg_config c = {0};
    struct ecg_effnet m = {0};
    int rc = ecg_config_from_checkpoint(ckpt, 0, NULL, &c, err);
    if (rc)
        return rc;
    c.model.num_classes = 0;
    if ((rc = ecg_model_build(&c, 1, true, &m, NULL, err)) == ECG_OK) {
        struct ecg_keras_info attrs;
        ecg_model_keras_info(&m, &attrs);
        rc = ecg_keras_save(out, m.params, &attrs, err);
    }
    ecg_effnet_free(&m);
    ecg_config_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {ECG_CLI_COMMON,
                                            {"no-head", no_argument, NULL, 'n'},
                                            {"skip-data", no_argument, NULL, 's'},
                                            {"metrics", required_argument, NULL, 'm'},
                                            {NULL, 0, NULL, 0}};
    ecg_process_tune(argv);
    struct ecg_error err = {0};
    bool no_head = false;
    struct ecg_export_opts o = {.provenance = true};
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT, options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return 0;
        case 'V': ecg_cli_print_version("ecgexport"); return 0;
        case 'n': no_head = true; break;
        case 's': o.provenance = false; break;
        case 'm': o.metrics_path = optarg; break;
        default: return ecg_cli_parse_failed("ecgexport", usage_text, ecg_cli_option_error(c, argv, &err), &err);
        }
    }
    if (argc - optind != 2) {
        ecg_error_set(&err, ECG_ERR_USAGE, "expected CHECKPOINT and OUT.h5");
        return ecg_cli_parse_failed("ecgexport", usage_text, ECG_ERR_USAGE, &err);
    }
    ecg_log_set_level(ECG_LOG_WARN);
    int rc = no_head ? export_backbone(argv[optind], argv[optind + 1], &err)
                     : ecg_export_model(argv[optind], argv[optind + 1], &o, &err);
    if (rc)
        fprintf(stderr, "ecgexport: %s\n", err.msg);
    return ecg_status_exit_code(rc);
}
