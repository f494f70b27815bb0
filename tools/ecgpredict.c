/* ecgpredict: classifies ECG records with a checkpoint, one JSON line per record. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "core/log.h"
#include "data/readers.h"
#include "eval/json.h"
#include "train/train.h"

static const char usage_text[] =
    "usage: ecgpredict CHECKPOINT FILE... [key=value ...]\n"
    "       ecgpredict --help\n"
    "\n"
    "Classifies each record with a checkpoint written by ecgtrain and prints one JSON line per\n"
    "record: {\"file\", \"record\", \"class\", \"probabilities\": {class: p, ...}}.  The record is\n"
    "preprocessed and cut into eval.windows windows exactly as in the run; the windows'\n"
    "probabilities are averaged.  FILE is a CinC 2017 record (.mat, with its .hea beside it)\n"
    "or a CACHET-CADB short-format file (.h5: every 10 s segment is a record).\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Reads FILE into ds (appending), remembering which file each record came from. */
static int read_file(const char *path, struct ecg_dataset *ds, struct ecg_error *err)
{
    if (ends_with(path, ".mat")) {
        struct ecg_record rec;
        int rc = ecg_cinc2017_read_record(path, &rec, err);
        if (rc) {
            free(rec.signal);
            return rc;
        }
        return ecg_dataset_push(ds, &rec, err);
    }
    if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) {
        struct ecg_dataset part = {0};
        struct ecg_read_options opt;
        ecg_read_options_default(&opt);
        int rc = ecg_cachet_read_short(path, &opt, &part, err);
        for (int64_t i = 0; i < part.count && !rc; i++) {
            part.records[i].label = -1;
            rc = ecg_dataset_push(ds, &part.records[i], err);
            part.records[i].signal = NULL; /* now owned by ds */
        }
        ecg_dataset_free(&part);
        return rc;
    }
    return ecg_error_set(err, ECG_ERR_USAGE, "%s: expected a CinC 2017 record (.mat) or a CACHET-CADB file (.h5)",
                         path);
}

static int run(const char *ckpt, int nfiles, char **files, int noverrides, char **overrides, struct ecg_error *err)
{
    struct ecg_config c = {0};
    struct ecg_dataset ds = {0};
    struct ecg_effnet m = {0};
    struct ecg_input_scaling norm;
    struct ecg_eval_result r = {0};
    int64_t *idx = NULL, *file_of = NULL;
    int rc = ecg_config_from_checkpoint(ckpt, noverrides, overrides, &c, err);
    if (rc)
        return rc;
    ecg_log_set_level((enum ecg_log_level)c.run.log_level);
    ecg_threads_set(c.run.threads > 0 ? (int)c.run.threads : (int)sysconf(_SC_NPROCESSORS_ONLN));
    ds.task = ECG_TASK_RHYTHM;
    for (int f = 0; f < nfiles; f++) {
        int64_t before = ds.count;
        if ((rc = read_file(files[f], &ds, err)))
            goto out;
        int64_t *grown = realloc(file_of, (size_t)ds.count * sizeof *grown);
        if (!grown) {
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
            goto out;
        }
        file_of = grown;
        for (int64_t i = before; i < ds.count; i++) {
            file_of[i] = f;
            if ((rc = ecg_prepare_record(&c, &ds.records[i], err))) {
                ecg_error_prefix(err, rc, "%s: record %s", files[f], ds.records[i].id);
                goto out;
            }
        }
    }
    if (!(idx = malloc((size_t)(ds.count ? ds.count : 1) * sizeof *idx))) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int64_t i = 0; i < ds.count; i++)
        idx[i] = i;
    if ((rc = ecg_model_build(&c, c.eval.batch_size, true, &m, &norm, err)) ||
        (rc = ecg_evaluate(&m, &norm, &c, &ds, idx, ds.count, &r, err)))
        goto out;
    const char *names[16];
    int k;
    ecg_class_names(ds.task, names, &k);
    for (int64_t i = 0; i < r.n; i++) {
        const struct ecg_record *rec = &ds.records[r.records[i]];
        const float *p = r.probs + i * r.k;
        int best = 0;
        for (int j = 1; j < r.k; j++)
            if (p[j] > p[best])
                best = j;
        struct ecg_json j;
        ecg_json_init(&j, stdout, -1);
        ecg_json_begin_object(&j);
        ecg_json_key(&j, "file");
        ecg_json_string(&j, files[file_of[r.records[i]]]);
        ecg_json_key(&j, "record");
        ecg_json_string(&j, rec->id);
        ecg_json_key(&j, "class");
        ecg_json_string(&j, names[best]);
        ecg_json_key(&j, "probabilities");
        ecg_json_begin_object(&j);
        for (int c2 = 0; c2 < r.k; c2++) {
            ecg_json_key(&j, names[c2]);
            ecg_json_number(&j, round((double)p[c2] * 1e6) / 1e6); /* six decimals are plenty */
        }
        ecg_json_end_object(&j);
        ecg_json_end_object(&j);
        fputc('\n', stdout);
    }
    if (r.n < ds.count)
        ecg_warn("%lld records were too short to classify", (long long)(ds.count - r.n));
out:
    ecg_eval_result_free(&r);
    ecg_effnet_free(&m);
    free(idx);
    free(file_of);
    ecg_dataset_free(&ds);
    ecg_config_free(&c);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage_text, stdout);
        return 0;
    }
    char **files = calloc((size_t)argc, sizeof *files), **overrides = calloc((size_t)argc, sizeof *overrides);
    int nfiles = 0, noverrides = 0, rc = ECG_OK;
    struct ecg_error err = {0};
    if (!files || !overrides) {
        rc = ecg_error_set(&err, ECG_ERR_NOMEM, "out of memory");
    } else {
        for (int i = 2; i < argc; i++) {
            if (argv[i][0] == '-')
                rc = ecg_error_set(&err, ECG_ERR_USAGE, "unknown option '%s'", argv[i]);
            else if (strchr(argv[i], '='))
                overrides[noverrides++] = argv[i];
            else
                files[nfiles++] = argv[i];
        }
        if (!rc && (argc < 2 || nfiles == 0))
            rc = ecg_error_set(&err, ECG_ERR_USAGE, argc < 2 ? "missing the CHECKPOINT" : "missing the FILE(s)");
        if (rc)
            fprintf(stderr, "ecgpredict: %s\n%s", err.msg, usage_text);
        else if ((rc = run(argv[1], nfiles, files, noverrides, overrides, &err)))
            fprintf(stderr, "ecgpredict: %s\n", err.msg);
    }
    free(files);
    free(overrides);
    return ecg_status_exit_code(rc);
}
