/* ecgeval: metrics and report of a checkpoint on any supported dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/file.h"
#include "core/log.h"
#include "data/split.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "infer/dataset.h"
#include "tools/cli.h"
#include "tools/predict_json.h"
#include "train/run_dir.h"
#include "train/train.h"

static const char usage_text[] =
    "usage: ecgeval [options] CHECKPOINT [key=value ...] --out DIR\n"
    "       ecgeval --help | --version\n"
    "\n"
    "Evaluates a checkpoint written by ecgtrain (best.h5 or last.h5) on a dataset and writes\n"
    "metrics.json, report.txt, report.html, confusion.svg and predictions.jsonl (one line per\n"
    "record, as ecgpredict prints them) into DIR.  The run's own\n"
    "configuration is the starting point; key=value overrides choose other data, e.g.\n"
    "  ecgeval runs/effb0/best.h5 data.format=cinc2017 data.path=DIR data.split=all --out OUT\n"
    "data.split (an alias of eval.split) is train, val or test (the run's split of the data,\n"
    "made with its seed and fractions) or all (every record).  A data.path override reads every\n"
    "record of that folder (data.records=all, data.exclude=none) unless those keys are given too.\n"
    "A model file (ecgexport's, such as the shipped weights/ecg_effb0_cinc2017.h5) works the same\n"
    "way, e.g. ecgeval weights/ecg_effb0_cinc2017.h5 data.path=data/sample/cachet_sample.h5\n"
    "data.format=cachet_short data.split=all --out OUT.  A beat model\n"
    "(data.format mitbih_wfdb) adds the AAMI figures: Se, +P and F1 of N, S, V, F, Q apart.\n"
    "\n"
    "  -o, --out DIR   where the report goes (required)\n"
    "  --config FILE   the run configuration of a CHECKPOINT that is Keras-layout weights without\n"
    "                  one (written by Keras or tools/torch2h5.py; its classifier must fit it)\n"
    "  -h, --help      print this text\n"
    "  -V, --version   print the version\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n";

struct args {
    const char *ckpt, *out, *config;
    int noverrides;
    char **overrides;
};

/* data.split is the name users reach for; the config calls it eval.split. */
static char *translate_override(const char *s)
{
    const char *alias = "data.split=";
    size_t n = strlen(alias);
    size_t len = strlen(s) + 8;
    char *t = malloc(len);
    if (t)
        snprintf(t, len, strncmp(s, alias, n) == 0 ? "eval.split=%s" : "%s",
                 strncmp(s, alias, n) == 0 ? s + n : s);
    return t;
}

/* Returns ECG_OK, an error, or -1 after printing help or the version. */
static int parse_args(int argc, char **argv, struct args *a, struct ecg_error *err)
{
    static const struct option options[] = {ECG_CLI_COMMON,
                                             {"out", required_argument, NULL, 'o'},
                                             {"config", required_argument, NULL, 'c'},
                                             {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->overrides = calloc((size_t)argc + 2, sizeof *a->overrides); /* and the two added below */
    if (!a->overrides)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT "o:", options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return -1;
        case 'V': ecg_cli_print_version("ecgeval"); return -1;
        case 'o': a->out = optarg; break;
        case 'c': a->config = optarg; break;
        default: return ecg_cli_option_error(c, argv, err);
        }
    }
    for (int i = optind; i < argc; i++) {
        const char *s = argv[i];
        if (!a->ckpt) {
            a->ckpt = s;
        } else if (ecg_cli_is_override(s)) {
            if (!(a->overrides[a->noverrides++] = translate_override(s)))
                return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
        } else {
            return ecg_error_set(err, ECG_ERR_USAGE, "expected key=value after the checkpoint, found '%s'", s);
        }
    }
    if (!a->ckpt)
        return ecg_error_set(err, ECG_ERR_USAGE, "missing the CHECKPOINT");
    /* Another folder: its records, not the selection the run made in its own (data.records: DS1; data.exclude:
     * the records kept out of training, such as the bundled sample's). */
    bool path = false, records = false, exclude = false;
    for (int i = 0; i < a->noverrides; i++) {
        path = path || strncmp(a->overrides[i], "data.path=", 10) == 0;
        records = records || strncmp(a->overrides[i], "data.records=", 13) == 0;
        exclude = exclude || strncmp(a->overrides[i], "data.exclude=", 13) == 0;
    }
    if (path && !records && !(a->overrides[a->noverrides++] = strdup("data.records=all")))
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    if (path && !exclude && !(a->overrides[a->noverrides++] = strdup("data.exclude=none")))
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    if (!a->out)
        return ecg_error_set(err, ECG_ERR_USAGE, "missing --out DIR");
    return ECG_OK;
}

/* The records of eval.split: the run's split of the data (same seed and fractions) or all. */
static int choose_records(const struct ecg_config *c, const struct ecg_dataset *ds, int64_t **idx, int64_t *n,
                          struct ecg_error *err)
{
    *idx = malloc((size_t)ds->count * sizeof **idx);
    if (!*idx)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    if (c->eval.split == ECG_PART_ALL) {
        for (int64_t i = 0; i < ds->count; i++)
            (*idx)[i] = i;
        *n = ds->count;
        return ECG_OK;
    }
    struct ecg_splits s;
    ECG_TRY(ecg_config_split(c, ds, &s, err));
    int part = c->eval.split;
    memcpy(*idx, s.idx[part], (size_t)s.n[part] * sizeof **idx);
    *n = s.n[part];
    ecg_split_free(&s);
    if (*n == 0)
        return ecg_error_set(err, ECG_ERR_CONFIG, "eval.split: the %s split of %s is empty",
                             ecg_split_part_name(part), c->data.path);
    return ECG_OK;
}

/* DIR/predictions.jsonl: the per-record lines ecgpredict would print for the same records. */
static int write_predictions(const char *dir, const struct ecg_config *c, const struct ecg_dataset *ds,
                             const struct ecg_eval_result *r, const char *const *names, struct ecg_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/predictions.jsonl", dir);
    struct ecg_file_buf b;
    ECG_TRY(ecg_file_buf_open(&b, path, err));
    for (int64_t i = 0; i < r->n; i++)
        ecg_predict_json_line(b.f, c->data.path, ds->records[r->records[i]].id, names, r->k, r->probs + i * r->k,
                              NULL, 0);
    return ecg_file_buf_commit(&b, path, err);
}

static int run(const struct args *a, struct ecg_error *err)
{
    struct ecg_infer_model *model = NULL;
    struct ecg_infer_context *ctx = NULL;
    struct ecg_dataset ds = {0};
    struct ecg_eval_result r = {0};
    struct ecg_metrics mt = {0};
    int64_t *idx = NULL, n = 0;
    char *yaml = NULL;
    int rc = ecg_infer_model_load(a->ckpt, a->config, a->noverrides, a->overrides, &model, err);
    if (rc)
        return rc;
    const struct ecg_config *c = ecg_infer_model_config(model);
    ecg_log_set_level((enum ecg_log_level)c->run.log_level);
    ecg_threads_set(c->run.threads > 0 ? (int)c->run.threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
    const char *const *names;
    int k = ecg_infer_model_classes(model, &names);
    if ((rc = ecg_mkdirs(a->out, err)) || (rc = ecg_prepare_dataset(c, &ds, err)) ||
        (rc = choose_records(c, &ds, &idx, &n, err)) || (rc = ecg_infer_context_init(model, &ctx, err)) ||
        (rc = ecg_infer_classify_dataset(ctx, &ds, idx, n, &r, err)) ||
        (rc = ecg_metrics_compute(&mt, k, (const char **)names, r.truth, NULL, r.probs, r.n, err)) ||
        (rc = write_predictions(a->out, c, &ds, &r, names, err)))
        goto out;
    if (ds.task == ECG_TASK_RHYTHM && (rc = ecg_metrics_set_cinc(&mt, ECG_RHYTHM_NSR, ECG_RHYTHM_AF,
                                                                 ECG_RHYTHM_OTHER, err)))
        goto out;
    if (ds.task == ECG_TASK_BEAT &&
        ((rc = ecg_metrics_set_aami(&mt, ECG_BEAT_N, ECG_BEAT_S, ECG_BEAT_V, ECG_BEAT_F, ECG_BEAT_Q, err)) ||
         (rc = ecg_eval_breakdowns(&mt, &ds, &r, err))))
        goto out;
    if (!(yaml = ecg_config_to_string(c, err))) {
        rc = err->code ? err->code : ECG_ERR_NOMEM;
        goto out;
    }
    const char *split_names[] = {"train", "val", "test", "all"};
    struct ecg_calibration cal = {.temperature = ecg_infer_model_temperature(model),
                                  .rr_fusion = ecg_infer_model_has_rr_fusion(model)};
    ecg_reliability_compute(&cal.after, r.probs, r.truth, r.n, k);
    struct ecg_report rep = {.title = a->ckpt, .split = split_names[c->eval.split], .metrics = &mt,
                             .config_text = yaml, .calibration = &cal};
    if ((rc = ecg_report_write(a->out, &rep, err)))
        goto out;
    ecg_report_write_text(stdout, &mt);
    printf("%s (%s, %lld %s): accuracy %.4f, macro-F1 %.4f", c->data.path, split_names[c->eval.split],
           (long long)r.n, ds.task == ECG_TASK_BEAT ? "beats" : "records", mt.accuracy, mt.macro_f1);
    if (ds.task == ECG_TASK_RHYTHM)
        printf(", CinC F1 %.4f", mt.cinc_f1);
    printf("; report in %s/report.html\n", a->out);
out:
    free(yaml);
    ecg_metrics_free(&mt);
    ecg_eval_result_free(&r);
    ecg_infer_context_free(ctx);
    free(idx);
    ecg_dataset_free(&ds);
    ecg_infer_model_free(model);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct args a;
    struct ecg_error err = {0};
    int rc = parse_args(argc, argv, &a, &err), status = 0;
    if (rc > 0) {
        status = ecg_cli_parse_failed("ecgeval", usage_text, rc, &err);
    } else if (rc == 0 && (rc = run(&a, &err))) {
        fprintf(stderr, "ecgeval: %s\n", err.msg);
        status = ecg_status_exit_code((enum ecg_status)rc);
    }
    for (int i = 0; i < a.noverrides; i++)
        free(a.overrides[i]);
    free(a.overrides);
    return status;
}
