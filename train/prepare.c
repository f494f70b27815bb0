/* Reading a dataset as the config says, preprocessing its signals (resample, band-pass, normalise; the rhythm
 * features a model reads), splitting it, and the loader options of a run. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "data/readers.h"
#include "data/rhythm_features.h"
#include "data/signal.h"
#include "data/loader.h"
#include "train/train.h"

void ecg_class_names(enum ecg_task task, const char **names, int *k)
{
    *k = ecg_task_class_count(task);
    for (int i = 0; i < *k; i++)
        names[i] = ecg_task_class_name(task, i);
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
    ECG_TRY(ecg_signal_normalize(r->signal, r->length, c->data.normalize, err));
    /* Whole-record features, so that every window of the record, in training and at inference, reads the same. */
    if (c->model.rhythm_features) {
        ECG_TRY(ecg_rhythm_features(r->signal, r->length, r->fs, r->features, err));
        ecg_rhythm_features_standardize(r->features);
    }
    return ECG_OK;
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

void ecg_read_options_of_config(const struct ecg_config *c, struct ecg_read_options *ro)
{
    ecg_read_options_default(ro);
    ro->skip_bad = c->data.bad_records;
    /* A beat's window is data.window_seconds centred on its R peak: the neighbouring beats give its timing. */
    ro->beat_before_s = ro->beat_after_s = c->data.window_seconds / 2;
    ro->records = c->data.records;
    ro->beats = c->data.beats;
    ro->q_beats = c->data.q_beats;
}

int ecg_prepare_dataset(const struct ecg_config *c, struct ecg_dataset *ds, struct ecg_error *err)
{
    struct ecg_read_options ro;
    ecg_read_options_of_config(c, &ro);
    bool skip = ro.skip_bad == ECG_BAD_SKIP;
    memset(ds, 0, sizeof *ds);
    int rc = ecg_dataset_read_format(c->data.format, c->data.path, &ro, ds, err);
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
        /* Running out of memory says nothing about the record: never a reason to skip it (as in the readers). */
        bool skippable = skip && status[i] != ECG_ERR_NOMEM;
        if (!skippable && rc == ECG_OK) {
            rc = ecg_error_set(err, (enum ecg_status)status[i], "%s: record %s: %s", c->data.path, r->id,
                               errs[i].msg);
        } else if (skippable) {
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

int ecg_config_split(const struct ecg_config *c, const struct ecg_dataset *ds, struct ecg_splits *out,
                     struct ecg_error *err)
{
    struct ecg_split_opts so = c->data.split;
    so.seed = (uint64_t)c->run.seed;
    return ecg_split_dataset(ds, &so, out, err);
}

void ecg_loader_opts_from_config(const struct ecg_config *c, int train, struct ecg_loader_opts *o)
{
    ecg_loader_opts_default(o);
    o->train = train != 0;
    o->shuffle = train != 0;
    o->batch_size = train ? c->train.batch_size : c->eval.batch_size;
    o->max_per_class = train ? c->train.max_per_class : 0;
    o->seed = (uint64_t)c->run.seed;
    o->window.length_s = c->data.window_seconds;
    o->window.eval_windows = c->eval.windows;
    o->window.eval_hop_s = c->eval.hop_seconds;
    o->window.pad = c->data.pad;
    o->spec = c->data.spectrogram;
    o->aug = c->data.augment;
}
