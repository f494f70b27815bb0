/* ecgeval: metrics and report of a checkpoint on any supported dataset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/log.h"
#include "data/split.h"
#include "eval/metrics.h"
#include "eval/report.h"
#include "train/run_dir.h"
#include "train/train.h"

static const char usage_text[] =
    "usage: ecgeval CHECKPOINT [key=value ...] --out DIR\n"
    "       ecgeval --help\n"
    "\n"
    "Evaluates a checkpoint written by ecgtrain (best.h5 or last.h5) on a dataset and writes\n"
    "metrics.json, report.txt, report.html and confusion.svg into DIR.  The run's own\n"
    "configuration is the starting point; key=value overrides choose other data, e.g.\n"
    "  ecgeval runs/effb0/best.h5 data.format=cinc2017 data.path=DIR data.split=all --out OUT\n"
    "data.split (an alias of eval.split) is train, val or test (the run's split of the data,\n"
    "made with its seed and fractions) or all (every record).\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n";

struct args {
    const char *ckpt, *out;
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

static int parse_args(int argc, char **argv, struct args *a, struct ecg_error *err)
{
    memset(a, 0, sizeof *a);
    a->overrides = calloc((size_t)argc, sizeof *a->overrides);
    if (!a->overrides)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            fputs(usage_text, stdout);
            exit(0);
        } else if (!strcmp(s, "--out")) {
            if (i + 1 >= argc)
                return ecg_error_set(err, ECG_ERR_USAGE, "--out needs a directory");
            a->out = argv[++i];
        } else if (s[0] == '-') {
            return ecg_error_set(err, ECG_ERR_USAGE, "unknown option '%s'", s);
        } else if (!a->ckpt) {
            a->ckpt = s;
        } else if (strchr(s, '=')) {
            if (!(a->overrides[a->noverrides++] = translate_override(s)))
                return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
        } else {
            return ecg_error_set(err, ECG_ERR_USAGE, "expected key=value after the checkpoint, found '%s'", s);
        }
    }
    if (!a->ckpt)
        return ecg_error_set(err, ECG_ERR_USAGE, "missing the CHECKPOINT");
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

static int run(const struct args *a, struct ecg_error *err)
{
    struct ecg_config c = {0};
    struct ecg_dataset ds = {0};
    struct ecg_effnet m = {0};
    struct ecg_input_scaling norm;
    struct ecg_eval_result r = {0};
    struct ecg_metrics mt = {0};
    int64_t *idx = NULL, n = 0;
    char *yaml = NULL;
    int rc = ecg_config_from_checkpoint(a->ckpt, a->noverrides, a->overrides, &c, err);
    if (rc)
        return rc;
    ecg_log_set_level((enum ecg_log_level)c.run.log_level);
    ecg_threads_set(c.run.threads > 0 ? (int)c.run.threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
    if ((rc = ecg_mkdirs(a->out, err)) || (rc = ecg_prepare_dataset(&c, &ds, err)) ||
        (rc = choose_records(&c, &ds, &idx, &n, err)))
        goto out;
    const char *names[16];
    int k;
    ecg_class_names(ds.task, names, &k);
    if (k != c.model.num_classes) {
        rc = ecg_error_set(err, ECG_ERR_CONFIG, "%s: model.num_classes is %lld but the %s data have %d classes",
                           a->ckpt, (long long)c.model.num_classes, ecg_config_format_name(&c), k);
        goto out;
    }
    if ((rc = ecg_model_build(&c, c.eval.batch_size, true, &m, &norm, err)) ||
        (rc = ecg_evaluate(&m, &norm, &c, &ds, idx, n, &r, err)) ||
        (rc = ecg_metrics_compute(&mt, k, names, r.truth, NULL, r.probs, r.n, err)))
        goto out;
    if (ds.task == ECG_TASK_RHYTHM && (rc = ecg_metrics_set_cinc(&mt, ECG_RHYTHM_NSR, ECG_RHYTHM_AF,
                                                                 ECG_RHYTHM_OTHER, err)))
        goto out;
    if (!(yaml = ecg_config_to_string(&c, err))) {
        rc = err->code ? err->code : ECG_ERR_NOMEM;
        goto out;
    }
    const char *split_names[] = {"train", "val", "test", "all"};
    struct ecg_report rep = {.title = a->ckpt, .split = split_names[c.eval.split], .metrics = &mt,
                             .config_text = yaml};
    if ((rc = ecg_report_write(a->out, &rep, err)))
        goto out;
    ecg_report_write_text(stdout, &mt);
    printf("%s (%s, %lld records): accuracy %.4f, macro-F1 %.4f", c.data.path, split_names[c.eval.split],
           (long long)r.n, mt.accuracy, mt.macro_f1);
    if (ds.task == ECG_TASK_RHYTHM)
        printf(", CinC F1 %.4f", mt.cinc_f1);
    printf("; report in %s/report.html\n", a->out);
out:
    free(yaml);
    ecg_metrics_free(&mt);
    ecg_eval_result_free(&r);
    ecg_effnet_free(&m);
    free(idx);
    ecg_dataset_free(&ds);
    ecg_config_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct args a;
    struct ecg_error err = {0};
    int rc = parse_args(argc, argv, &a, &err);
    if (rc) {
        fprintf(stderr, "ecgeval: %s\n%s", err.msg, usage_text);
    } else if ((rc = run(&a, &err))) {
        fprintf(stderr, "ecgeval: %s\n", err.msg);
    }
    for (int i = 0; i < a.noverrides; i++)
        free(a.overrides[i]);
    free(a.overrides);
    return ecg_status_exit_code(rc);
}
