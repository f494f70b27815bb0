/* Reading a dataset as the config says and preprocessing its signals: resample, band-pass, normalise. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "data/readers.h"
#include "data/signal.h"
#include "train/train.h"

const char *ecg_config_format_name(const struct ecg_config *c)
{
    const struct ecg_config_key *k = ecg_config_find("data.format");
    ECG_ASSERT(k && k->names);
    return k->names[c->data.format];
}

void ecg_class_names(enum ecg_task task, const char **names, int *k)
{
    *k = ecg_task_class_count(task);
    for (int i = 0; i < *k; i++)
        names[i] = ecg_task_class_name(task, i);
}

/* Min-max scaling to [0, 1]; a flat signal is an error like for z-scores. */
static int minmax(float *x, int64_t n, struct ecg_error *err)
{
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    if (!(hi - lo > 1e-6f))
        return ecg_error_set(err, ECG_ERR_VALUE, "flat signal: range %.3g mV", (double)(hi - lo));
    for (int64_t i = 0; i < n; i++)
        x[i] = (x[i] - lo) / (hi - lo);
    return ECG_OK;
}

int ecg_prepare_record(const struct ecg_config *c, struct ecg_record *r, struct ecg_error *err)
{
    ECG_TRY(ecg_signal_check_finite(r->signal, r->length, err));
    double fs = c->data.sample_rate;
    if (fabs(r->fs - fs) > 1e-9) {
        float *out;
        int64_t len;
        ECG_TRY(ecg_resample_rate(r->signal, r->length, r->fs, fs, &out, &len, err));
        free(r->signal);
        r->signal = out;
        r->length = len;
        r->fs = fs;
    }
    double lo = c->data.band_low_hz, hi = c->data.band_high_hz;
    if (hi > 0 && hi < fs / 2 && lo > 0) {
        ECG_TRY(ecg_signal_bandpass(r->signal, r->length, fs, 3, lo, hi, err));
    }
    switch (c->data.normalize) {
    case ECG_NORMALIZE_ZSCORE: return ecg_signal_zscore(r->signal, r->length, 1e-6, err);
    case ECG_NORMALIZE_MINMAX: return minmax(r->signal, r->length, err);
    default: return ECG_OK;
    }
}

/* Drops the records whose ids the file at `path` lists (first word per line, '#' comments). */
static int exclude_records(struct ecg_dataset *ds, const char *path, struct ecg_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "data.exclude: cannot open %s: %s", path, strerror(errno));
    char line[512];
    int64_t cap = 256, n = 0, dropped = 0;
    char (*ids)[ECG_ID_MAX] = malloc((size_t)cap * sizeof *ids);
    int rc = ids ? ECG_OK : ecg_error_set(err, ECG_ERR_NOMEM, "data.exclude: out of memory");
    while (!rc && fgets(line, sizeof line, f)) {
        char id[ECG_ID_MAX];
        if (line[0] == '#' || sscanf(line, "%63s", id) != 1)
            continue;
        if (n == cap) {
            void *grown = realloc(ids, (size_t)(cap *= 2) * sizeof *ids);
            if (!grown) {
                rc = ecg_error_set(err, ECG_ERR_NOMEM, "data.exclude: out of memory");
                break;
            }
            ids = grown;
        }
        memcpy(ids[n++], id, sizeof id);
    }
    fclose(f);
    if (!rc) {
        qsort(ids, (size_t)n, sizeof *ids, (int (*)(const void *, const void *))strcmp);
        int64_t kept = 0;
        for (int64_t i = 0; i < ds->count; i++) {
            struct ecg_record *r = &ds->records[i];
            if (bsearch(r->id, ids, (size_t)n, sizeof *ids, (int (*)(const void *, const void *))strcmp)) {
                free(r->signal);
                dropped++;
            } else {
                ds->records[kept++] = *r;
            }
        }
        ds->count = kept;
        ecg_info("data.exclude: left out %lld of the %lld records listed in %s", (long long)dropped,
                 (long long)n, path);
    }
    free(ids);
    return rc;
}

int ecg_prepare_dataset(const struct ecg_config *c, struct ecg_dataset *ds, struct ecg_error *err)
{
    struct ecg_read_options ro;
    ecg_read_options_default(&ro);
    bool skip = c->data.bad_records == ECG_BAD_RECORDS_SKIP;
    ro.skip_bad = skip ? ECG_BAD_SKIP : ECG_BAD_ERROR;
    memset(ds, 0, sizeof *ds);
    int rc = ecg_dataset_read(ecg_config_format_name(c), c->data.path, &ro, ds, err);
    if (rc)
        return ecg_error_prefix(err, rc, "data.path");
    if (c->data.exclude && (rc = exclude_records(ds, c->data.exclude, err)))
        return rc;

    /* Records are independent: preprocess in parallel, then compact in order. */
    int64_t n = ds->count;
    int *status = calloc((size_t)(n > 0 ? n : 1), sizeof *status);
    struct ecg_error *errs = calloc((size_t)(n > 0 ? n : 1), sizeof *errs);
    if (!status || !errs) {
        free(status);
        free(errs);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory preprocessing %lld records", (long long)n);
    }
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t i = 0; i < n; i++)
        status[i] = ecg_prepare_record(c, &ds->records[i], &errs[i]);

    int64_t kept = 0;
    rc = ECG_OK;
    for (int64_t i = 0; i < n; i++) {
        struct ecg_record *r = &ds->records[i];
        if (status[i] == ECG_OK) {
            ds->records[kept++] = *r;
            continue;
        }
        if (!skip && rc == ECG_OK) {
            rc = ecg_error_set(err, (enum ecg_status)status[i], "%s: record %s: %s", c->data.path, r->id,
                               errs[i].msg);
        } else if (skip) {
            ecg_warn("%s: record %s skipped: %s", c->data.path, r->id, errs[i].msg);
            ds->skipped++;
        }
        free(r->signal);
        r->signal = NULL;
    }
    ds->count = kept;
    free(status);
    free(errs);
    if (rc)
        return rc;
    if (kept == 0)
        return ecg_error_set(err, ECG_ERR_VALUE, "%s: no usable record (%lld skipped)", c->data.path,
                             (long long)ds->skipped);
    return ECG_OK;
}
