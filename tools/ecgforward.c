/* ecgforward: run a weight file on a raw NHWC tensor and write the features and logits (interop checks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "train/config.h"
#include "core/error.h"
#include "core/log.h"
#include "io/h5util.h"
#include "io/keras_h5.h"
#include "layers/effnet.h"
#include "layers/effnet_keras.h"
#include "tools/cli.h"

static const char USAGE[] =
    "usage: ecgforward WEIGHTS.h5 INPUT.h5 OUTPUT.h5 [key=value ...]\n"
    "       ecgforward --help | --version\n"
    "\n"
    "Reads dataset `x` (float32, N x H x W x C) from INPUT.h5, feeds it to the stem\n"
    "convolution as is (no rescaling or normalisation), runs EfficientNet in inference\n"
    "mode with the weights of WEIGHTS.h5 and writes to OUTPUT.h5:\n"
    "  features  (N, channels)  the pooled features before dropout and the head\n"
    "  logits    (N, classes)   before softmax, when the weights have a predictions layer\n"
    "\n"
    "The architecture, padding and batch-norm epsilon come from the weight file's\n"
    "ecg_arch / ecg_padding / ecg_bn_epsilon attributes (Keras files: the layer set,\n"
    "\"same\" and 1e-3).  Overrides:\n"
    "  model.arch=b0..b7   model.padding=same|symmetric   model.bn_eps=<float in (0, 1)>\n"
    "\n"
    "  -h, --help      print this text\n"
    "  -V, --version   print the version\n"
    "  --              end of options (for paths that start with '-')\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n";

/* The architecture index of "b0".."b7" (or "B0".."B7"), or -1. */
static int arch_index(const char *s)
{
    if ((s[0] == 'b' || s[0] == 'B') && s[1] >= '0' && s[1] <= '7' && s[2] == '\0')
        return s[1] - '0';
    return -1;
}

/* The overrides given on the command line: values parsed and checked by the
 * config system (the same rules and messages as ecgtrain), flags say which. */
struct overrides {
    struct ecg_config cfg;
    bool arch, padding, bn_eps;
};

static int parse_override(const char *arg, struct overrides *o, struct ecg_error *err)
{
    static const char *const keys[] = {"model.arch", "model.padding", "model.bn_eps"};
    bool *given[] = {&o->arch, &o->padding, &o->bn_eps};
    const char *eq = strchr(arg, '=');
    size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
    for (int i = 0; i < 3; i++) {
        if (strlen(keys[i]) == klen && strncmp(arg, keys[i], klen) == 0) {
            ECG_TRY(ecg_config_override(&o->cfg, arg, err));
            *given[i] = true;
            return ECG_OK;
        }
    }
    return ecg_error_set(err, ECG_ERR_USAGE,
                         "override '%.*s': ecgforward accepts model.arch, model.padding and model.bn_eps",
                         (int)klen, arg);
}

/* Reads `x` (N, H, W, C) float32 into a malloc'd array. */
static int read_input(const char *path, float **x, int64_t dims[4], struct ecg_error *err)
{
    hid_t f;
    ECG_TRY(ecg_h5_open_read(path, &f, err));
    int nd = 0;
    int64_t shape[ECG_H5_MAX_DIMS];
    H5T_class_t cls;
    int rc = ecg_h5_dataset_shape(f, "x", &nd, shape, &cls, err);
    if (rc == ECG_OK && nd != 4)
        rc = ecg_error_set(err, ECG_ERR_SHAPE, "%s: dataset 'x': expected rank 4 (N, H, W, C), found rank %d",
                           path, nd);
    if (rc == ECG_OK && cls != H5T_FLOAT)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: dataset 'x': expected float values", path);
    int64_t n = 1;
    for (int i = 0; rc == ECG_OK && i < 4; i++) {
        dims[i] = shape[i];
        if (shape[i] < 1 || !ecg_size_mul(n, shape[i], &n))
            rc = ecg_error_set(err, ECG_ERR_SHAPE, "%s: dataset 'x': empty or too large", path);
    }
    if (rc == ECG_OK) {
        *x = malloc((size_t)n * sizeof(float));
        if (!*x)
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: cannot allocate the input", path);
    }
    if (rc == ECG_OK)
        rc = ecg_h5_read_floats(f, "x", *x, n, err);
    for (int64_t i = 0; rc == ECG_OK && i < n; i++)
        if (!isfinite((*x)[i]))
            rc = ecg_error_set(err, ECG_ERR_VALUE, "%s: dataset 'x': non-finite value at flat index %lld",
                               path, (long long)i);
    ecg_h5_close(f);
    return rc;
}

/* The network's options for input of C channels: the architecture, padding and epsilon given as overrides,
 * else those the weight file names (Keras files: the layer set, "same" and 1e-3). */
static int model_options(const struct overrides *ov, const struct ecg_keras_info *info, const char *wpath,
                         int64_t channels, struct ecg_effnet_options *o, struct ecg_error *err)
{
    int arch = ov->arch ? ov->cfg.model.arch : arch_index(info->has_arch ? info->arch : info->inferred_arch);
    if (arch < 0)
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s: cannot tell which EfficientNet these weights are for; give model.arch=b0..b7",
                             wpath);
    ecg_effnet_options_default(o, arch);
    o->in_channels = channels;
    o->num_classes = info->num_classes;
    if (ov->padding && ov->cfg.model.padding != ECG_MODEL_PAD_AUTO)
        o->padding = (enum ecg_padding)ov->cfg.model.padding;
    else
        o->padding = info->has_padding && strcmp(info->padding, "symmetric") == 0 ? ECG_PAD_SYMMETRIC : ECG_PAD_SAME;
    o->bn_eps = (float)(ov->bn_eps && ov->cfg.model.bn_eps > 0 ? ov->cfg.model.bn_eps
                        : info->has_bn_eps                     ? info->bn_eps
                                                               : 1e-3);
    o->inference_only = true;
    return ECG_OK;
}

/* Runs the N x H x W x C input x through m in batches of at most m->batch: features (N, m->num_features)
 * and, with classes, logits (N, classes). */
static void forward_all(struct ecg_effnet *m, const float *x, const int64_t d[4], float *features, float *logits)
{
    const int64_t per = d[1] * d[2] * d[3], nf = m->num_features, nc = m->opt.num_classes;
    for (int64_t s = 0; s < d[0]; s += m->batch) {
        int64_t n = d[0] - s < m->batch ? d[0] - s : m->batch;
        ecg_effnet_forward(m, x + s * per, n, false, NULL);
        memcpy(features + s * nf, m->features, (size_t)(n * nf) * sizeof(float));
        if (nc)
            memcpy(logits + s * nc, m->logits, (size_t)(n * nc) * sizeof(float));
    }
}

/* Writes features (n, nf) and, when nc > 0, logits (n, nc) to a new file opath. */
static int write_output(const char *opath, int64_t n, int64_t nf, const float *features, int64_t nc,
                        const float *logits, struct ecg_error *err)
{
    hid_t out;
    ECG_TRY(ecg_h5_create(opath, &out, err));
    const int64_t fshape[2] = {n, nf}, lshape[2] = {n, nc};
    int rc = ecg_h5_write_floats(out, "features", 2, fshape, features, err);
    if (rc == ECG_OK && nc)
        rc = ecg_h5_write_floats(out, "logits", 2, lshape, logits, err);
    if (H5Fclose(out) < 0 && rc == ECG_OK)
        rc = ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot close", opath);
    return rc;
}

static int run(int argc, char **argv, struct ecg_error *err)
{
    if (argc < 4)
        return ecg_error_set(err, ECG_ERR_USAGE, "expected WEIGHTS.h5 INPUT.h5 OUTPUT.h5");
    const char *wpath = argv[1], *ipath = argv[2], *opath = argv[3];
    float *x = NULL, *features = NULL, *logits = NULL;
    int64_t d[4];
    struct ecg_effnet m;
    memset(&m, 0, sizeof m);
    struct overrides ov = {.arch = false};
    struct ecg_keras_info info;
    struct ecg_effnet_options o;
    int rc = ecg_config_defaults(&ov.cfg, err);
    for (int i = 4; i < argc && rc == ECG_OK; i++)
        rc = parse_override(argv[i], &ov, err);
    if (rc == ECG_OK)
        rc = ecg_keras_probe(wpath, &ecg_effnet_keras, &info, err);
    if (rc == ECG_OK)
        rc = model_options(&ov, &info, wpath, 0, &o, err); /* the architecture, before reading the input */
    if (rc == ECG_OK)
        rc = read_input(ipath, &x, d, err);
    if (rc)
        goto done;
    o.in_channels = d[3];
    const struct ecg_keras_load_opts lo = {.model = &ecg_effnet_keras};
    rc = ecg_effnet_init(&m, &o, d[0] < 16 ? d[0] : 16, d[1], d[2], err);
    if (rc == ECG_OK)
        rc = ecg_keras_load(wpath, m.params, &lo, NULL, err);
    if (rc)
        goto done;
    const int64_t nf = m.num_features, nc = o.num_classes;
    features = malloc((size_t)(d[0] * nf) * sizeof(float));
    logits = nc ? malloc((size_t)(d[0] * nc) * sizeof(float)) : NULL;
    if (!features || (nc && !logits)) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "cannot allocate the outputs");
        goto done;
    }
    forward_all(&m, x, d, features, logits);
    int64_t bad = 0;
    for (int64_t i = 0; i < d[0] * nf; i++)
        bad += !isfinite(features[i]);
    if (bad)
        ecg_warn("%s: %lld of %lld features are not finite (negative moving variances in the weights?)", wpath,
                 (long long)bad, (long long)(d[0] * nf));
    rc = write_output(opath, d[0], nf, features, nc, logits, err);
    if (rc == ECG_OK)
        ecg_info("%s: EfficientNet-B%d, %s padding, bn_eps %g, %lld x %lld x %lld x %lld input -> features (%lld, %lld)%s",
                 opath, o.arch, o.padding == ECG_PAD_SAME ? "same" : "symmetric", (double)o.bn_eps,
                 (long long)d[0], (long long)d[1], (long long)d[2], (long long)d[3], (long long)d[0],
                 (long long)nf, nc ? ", logits" : "");
done:
    ecg_effnet_free(&m);
    ecg_config_free(&ov.cfg);
    free(x);
    free(features);
    free(logits);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {ECG_CLI_COMMON, {NULL, 0, NULL, 0}};
    ecg_process_tune(argv);
    struct ecg_error err = {0};
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT, options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(USAGE, stdout); return 0;
        case 'V': ecg_cli_print_version("ecgforward"); return 0;
        default: return ecg_cli_parse_failed("ecgforward", USAGE, ecg_cli_option_error(c, argv, &err), &err);
        }
    }
    /* run() reads its operands from argv[1]: the element before the first operand stands in for argv[0]. */
    int rc = run(argc - optind + 1, argv + optind - 1, &err);
    if (rc == ECG_ERR_USAGE)
        return ecg_cli_parse_failed("ecgforward", USAGE, rc, &err);
    if (rc)
        fprintf(stderr, "ecgforward: %s\n", err.msg);
    return ecg_status_exit_code(rc);
}
