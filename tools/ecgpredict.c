/* ecgpredict: classifies ECG records with a checkpoint, one JSON line per record. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "train/config.h"
#include "core/log.h"
#include "core/paths.h"
#include "infer/infer.h"
#include "io/keras_h5.h"
#include "io/model_file.h"
#include "tools/cli.h"
#include "tools/predict_json.h"

static const char usage_text[] =
    "usage: ecgpredict [options] [MODEL] FILE... [key=value ...]\n"
    "       ecgpredict --help | --version\n"
    "\n"
    "Classifies each record with MODEL (a checkpoint written by ecgtrain or a model file written by\n"
    "ecgexport; without one, the shipped rhythm model " ECG_INFER_DEFAULT_MODEL ", or for WFDB\n"
    "records the shipped beat model " ECG_INFER_DEFAULT_BEAT_MODEL ") and prints one JSON line per\n"
    "record: {\"file\", \"record\", \"class\", \"probabilities\": {class: p, ...}}.  The record is\n"
    "preprocessed and cut into eval.windows windows exactly as in the run; the windows'\n"
    "probabilities are averaged (and corrected by the record's RR intervals when the model\n"
    "carries an RR fusion, eval.rr_fusion).  FILE is a CinC 2017 record (.mat, with its .hea beside it),\n"
    "a CACHET-CADB short-format file (.h5: every 10 s segment is a record), or samples in mV\n"
    "(.csv or .txt: one column, or time,value) with --fs.  FILE - reads samples from standard\n"
    "input (--format csv, the default there).  key=value overrides keys of the run's config.\n"
    "\n"
    "A WFDB record (NAME.hea with its .dat, with or without NAME.atr) and a beat model\n"
    "(trained on data.format mitbih_wfdb) give one line per heartbeat instead:\n"
    "{\"record\", \"sample\", \"time_s\", \"class\", \"probabilities\"}, then one summary line per\n"
    "record {\"record\", \"beats\", \"source\", \"left_out\", \"counts\": {class: n, ...}}.  The beats\n"
    "are the annotated ones of NAME.atr when it exists and the model's data.beats is reference,\n"
    "else those the QRS detector finds (\"source\" says which); each is classified from a window of\n"
    "data.window_seconds centred on it.  Beats too near the record's ends are counted in left_out.\n"
    "\n"
    "  --format NAME   cinc2017, cachet_short, csv or wfdb (default: by the file name)\n"
    "  --fs HZ         sampling rate of csv samples (default: from a time column)\n"
    "  --config FILE   the run configuration of a MODEL that is Keras-layout weights without\n"
    "                  one (written by Keras or tools/torch2h5.py; its classifier must fit it)\n"
    "  --windows       also print each window's probabilities (\"windows\": [{...}, ...])\n"
    "  --explain       also print each window's Grad-CAM map, where the network looked for the\n"
    "                  class it predicted (\"gradcam\": {\"height\", \"width\", \"windows\": [[v, ...]]},\n"
    "                  values in [0, 1] over the spectrogram, row-major, row 0 the highest frequency)\n"
    "  -h, --help      print this text\n"
    "  -V, --version   print the version\n"
    "  --              end of options: later arguments are files, even when they start with '-'\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n";

struct args {
    const char *ckpt, *format, *config; /* ckpt: the named model, or the shipped one of the files' kind */
    double fs;
    int windows, explain, nfiles, noverrides;
    char **files, **overrides; /* point into argv */
};

static int is_wfdb(const char *path, const char *format)
{
    size_t n = strlen(path);
    return format ? strcmp(format, "wfdb") == 0 : n > 4 && strcmp(path + n - 4, ".hea") == 0;
}

/* No model named: the shipped beat model for WFDB records, the rhythm model for the rest (not both at once). */
static int default_model(struct args *a, struct ecg_error *err)
{
    int wfdb = 0;
    for (int i = 0; i < a->nfiles; i++)
        wfdb += is_wfdb(a->files[i], a->format);
    if (wfdb > 0 && wfdb < a->nfiles)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "no MODEL named, and the files mix WFDB records (the beat model %s) with records for "
                             "the rhythm model %s: classify them in two calls, or name a model first",
                             ecg_infer_default_beat_model(), ecg_infer_default_model());
    a->ckpt = wfdb ? ecg_infer_default_beat_model() : ecg_infer_default_model();
    return ECG_OK;
}

/* Returns ECG_OK, a usage error, or -1 after printing help or the version. */
static int parse_args(int argc, char **argv, struct args *a, struct ecg_error *err)
{
    static const struct option options[] = {ECG_CLI_COMMON,
                                             {"format", required_argument, NULL, 'f'},
                                             {"fs", required_argument, NULL, 's'},
                                             {"config", required_argument, NULL, 'c'},
                                             {"windows", no_argument, NULL, 'w'},
                                             {"explain", no_argument, NULL, 'x'},
                                             {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->files = calloc((size_t)argc, sizeof *a->files);
    a->overrides = calloc((size_t)argc, sizeof *a->overrides);
    if (!a->files || !a->overrides)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT, options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return -1;
        case 'V': ecg_cli_print_version("ecgpredict"); return -1;
        case 'f': a->format = optarg; break;
        case 'c': a->config = optarg; break;
        case 'w': a->windows = 1; break;
        case 'x': a->explain = 1; break;
        case 's':
            ECG_TRY(ecg_cli_parse_double("--fs", optarg, &a->fs, err));
            if (!(a->fs > 0))
                return ecg_error_set(err, ECG_ERR_USAGE, "--fs '%s': expected a rate > 0 Hz", optarg);
            break;
        default: return ecg_cli_option_error(c, argv, err);
        }
    }
    /* The first operand is the model when it is one (or when --config says it is weights); otherwise every
     * operand is a file to classify and the model is the shipped one of their kind.  Keras-layout weights are
     * the model too, --config or not: loading them then asks for their configuration, where reading them as
     * a record would complain of a missing signal. */
    bool named = !(optind < argc && !a->config && !ecg_cli_is_override(argv[optind]) &&
                   !ecg_model_file_probe(argv[optind]) && !ecg_keras_file_probe(argv[optind]));
    for (int i = optind; i < argc; i++) {
        if (named && !a->ckpt)
            a->ckpt = argv[i];
        else if (ecg_cli_is_override(argv[i]))
            a->overrides[a->noverrides++] = argv[i];
        else
            a->files[a->nfiles++] = argv[i];
    }
    if ((named && !a->ckpt) || a->nfiles == 0)
        return ecg_error_set(err, ECG_ERR_USAGE, named && !a->ckpt ? "missing the CHECKPOINT" : "missing the FILE(s)");
    return named ? ECG_OK : default_model(a, err);
}

struct printer {
    const struct args *a;
    const char *path;
    const char *const *names;
    int k;
};

static int print_line(void *user, struct ecg_infer_result *r, struct ecg_error *err)
{
    (void)err;
    const struct printer *p = user;
    struct ecg_predict_cams cams = {r->cams, r->height, r->width};
    ecg_predict_json_line_cams(stdout, p->path, r->record, p->names, p->k, r->probs,
                               p->a->windows ? r->window_probs : NULL, r->windows, r->cams ? &cams : NULL);
    return ECG_OK;
}

/* A WFDB record: one line per beat, then the record's summary. */
static int predict_beats(struct ecg_infer_context *ctx, const char *path, const char *const *names, int k,
                         struct ecg_error *err)
{
    struct ecg_infer_beats b;
    ECG_TRY(ecg_infer_classify_beats(ctx, path, &b, err));
    long long counts[16] = {0};
    for (int64_t i = 0; i < b.count; i++) {
        ecg_predict_json_beat(stdout, b.record, (long long)b.samples[i], b.fs, names, k, b.probs + i * k, b.best[i]);
        counts[b.best[i]]++;
    }
    ecg_predict_json_beat_summary(stdout, b.record, (long long)b.count, b.source, (long long)b.left_out, names, k,
                                  counts);
    ecg_infer_beats_free(&b);
    return ECG_OK;
}

static int predict_file(struct ecg_infer_context *ctx, const struct args *a, const char *path,
                        const char *const *names, int k, struct ecg_error *err)
{
    if (is_wfdb(path, a->format))
        return predict_beats(ctx, path, names, k, err);
    struct printer p = {a, path, names, k};
    const char *format = a->format ? a->format : strcmp(path, "-") == 0 ? "csv" : NULL;
    return ecg_infer_classify_file_each(ctx, path, format, a->fs, print_line, &p, err);
}

static int run(const struct args *a, struct ecg_error *err)
{
    struct ecg_infer_model *m = NULL;
    struct ecg_infer_context *ctx = NULL;
    /* The shipped model is looked up as every relative model path is: here, then installed. */
    char *found = NULL;
    if ((a->ckpt == ecg_infer_default_model() || a->ckpt == ecg_infer_default_beat_model()) &&
        ecg_path_find_data(a->ckpt, &found, err))
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "no MODEL named, and the shipped model %s is not in the working directory or in %s: "
                             "name a checkpoint or model file first",
                             a->ckpt, ecg_path_datadir());
    free(found);
    int rc = ecg_infer_model_load(a->ckpt, a->config, a->noverrides, a->overrides, &m, err);
    if (rc)
        return rc;
    const struct ecg_config *c = ecg_infer_model_config(m);
    ecg_log_set_level((enum ecg_log_level)c->run.log_level);
    ecg_threads_set(c->run.threads > 0 ? (int)c->run.threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
    const char *const *names;
    int k = ecg_infer_model_classes(m, &names);
    if (!(rc = ecg_infer_context_init(m, &ctx, err)) && !(rc = ecg_infer_context_explain(ctx, a->explain, err)))
        for (int f = 0; f < a->nfiles && !rc; f++)
            rc = predict_file(ctx, a, a->files[f], names, k, err);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct args a;
    struct ecg_error err = {0};
    int rc = parse_args(argc, argv, &a, &err), status = 0;
    if (rc > 0) {
        status = ecg_cli_parse_failed("ecgpredict", usage_text, rc, &err);
    } else if (rc == 0 && (rc = run(&a, &err))) {
        fprintf(stderr, "ecgpredict: %s\n", err.msg);
        status = ecg_status_exit_code((enum ecg_status)rc);
    }
    free(a.files);
    free(a.overrides);
    return status;
}
