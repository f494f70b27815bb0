/* Heartbeats of a WFDB record through the inference path: reference or detected beats, one window each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader_common.h"
#include "data/readers.h"
#include "infer/infer_internal.h"
#include "train/train.h"

void ecg_infer_beats_free(struct ecg_infer_beats *b)
{
    if (!b)
        return;
    free(b->samples);
    free(b->labels);
    free(b->probs);
    free(b->best);
    memset(b, 0, sizeof *b);
}

/* Takes each classified beat's probabilities, in order. */
static int take(void *user, struct ecg_infer_result *r, struct ecg_error *err)
{
    (void)err;
    struct ecg_infer_beats *b = user;
    memcpy(b->probs + b->count * b->classes, r->probs, (size_t)b->classes * sizeof *r->probs);
    b->best[b->count++] = r->best;
    return ECG_OK;
}

/* The beat windows of the record as the model's run cut them (data.window_seconds centred on each beat). */
static int read_beats(const struct ecg_infer_model *m, const char *hea, struct ecg_dataset *ds,
                      struct ecg_beat_read_counts *counts, const char **source, struct ecg_error *err)
{
    const struct ecg_config *c = &m->config;
    char atr[4096];
    size_t n = strlen(hea);
    if (n < 5 || strcmp(hea + n - 4, ".hea"))
        return ecg_error_set(err, ECG_ERR_USAGE, "%s: expected a WFDB header NAME.hea", hea);
    ECG_TRY(ecg_pathf(atr, sizeof atr, err, "%.*s.atr", (int)(n - 4), hea));
    bool annotated = ecg_path_is_file(atr);
    struct ecg_read_options ro;
    ecg_read_options_of_config(c, &ro);
    ro.records = NULL; /* the one record named */
    ro.beats = annotated && c->data.beats == ECG_BEATS_REFERENCE ? ECG_BEATS_REFERENCE : ECG_BEATS_DETECTED;
    ro.q_beats = ECG_Q_KEEP;
    ro.keep_unlabelled = true;
    *source = ecg_beat_source_names[ro.beats];
    return ecg_wfdb_read_beats(hea, annotated ? atr : NULL, &ro, ds, counts, err);
}

static int alloc_beats(struct ecg_infer_beats *b, int64_t n, int k, struct ecg_error *err)
{
    size_t rows = (size_t)(n > 0 ? n : 1);
    b->classes = k;
    b->samples = malloc(rows * sizeof *b->samples);
    b->labels = malloc(rows * sizeof *b->labels);
    b->probs = malloc(rows * (size_t)k * sizeof *b->probs);
    b->best = malloc(rows * sizeof *b->best);
    if (!b->samples || !b->labels || !b->probs || !b->best)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for %lld beats", (long long)n);
    return ECG_OK;
}

int ecg_infer_classify_beats(struct ecg_infer_context *ctx, const char *hea, struct ecg_infer_beats *out,
                             struct ecg_error *err)
{
    memset(out, 0, sizeof *out);
    const struct ecg_infer_model *m = ctx->model;
    if (ecg_format_task(ecg_config_format_name(&m->config)) != ECG_TASK_BEAT)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "%s: a WFDB record is classified beat by beat, and this model was trained on %s "
                             "records, not beats (data.format mitbih_wfdb)",
                             hea, ecg_config_format_name(&m->config));
    struct ecg_dataset ds = {0};
    struct ecg_beat_read_counts counts;
    struct ecg_infer_batch b = {0};
    int rc = read_beats(m, hea, &ds, &counts, &out->source, err);
    if (!rc)
        rc = alloc_beats(out, ds.count, m->classes, err);
    if (!rc)
        rc = ecg_infer_batch_init(&b, ctx, take, out, err);
    for (int64_t i = 0; i < ds.count && !rc; i++) {
        struct ecg_record *rec = &ds.records[i];
        struct ecg_infer_result r;
        out->samples[i] = ecg_beat_id_sample(rec->id);
        out->labels[i] = rec->label;
        if ((rc = ecg_prepare_record(&m->config, rec, err))) {
            ecg_error_prefix(err, rc, "%s: beat at sample %lld", hea, (long long)out->samples[i]);
            break;
        }
        if (!(rc = ecg_infer_windows(m, rec, &r, err)))
            rc = ecg_infer_batch_add(&b, &r, err);
        ecg_infer_result_free(&r);
    }
    if (!rc)
        rc = ecg_infer_batch_finish(&b, err);
    ecg_infer_batch_free(&b);
    if (!rc) {
        struct ecg_wfdb_header h;
        if (!(rc = ecg_wfdb_read_header(hea, &h, err))) {
            snprintf(out->record, sizeof out->record, "%s", h.record);
            out->fs = h.fs;
            out->left_out = ds.skipped; /* edges, and unusable windows under data.bad_records: skip */
        }
    }
    ecg_dataset_free(&ds);
    if (rc)
        ecg_infer_beats_free(out);
    return rc;
}

int ecg_infer_prepare_beats(const struct ecg_infer_model *m, const float *x, int64_t n, double fs, const char *id,
                            struct ecg_infer_result **out, int64_t **samples, int64_t *count, int64_t *left_out,
                            struct ecg_error *err)
{
    *out = NULL;
    *samples = NULL;
    *count = *left_out = 0;
    const char *name = id && *id ? id : "(samples)";
    if (ecg_format_task(ecg_config_format_name(&m->config)) != ECG_TASK_BEAT)
        return ecg_error_set(err, ECG_ERR_USAGE,
                             "record '%s': beats are found for a beat model, and this model was trained on %s "
                             "records",
                             name, ecg_config_format_name(&m->config));
    struct ecg_read_options ro;
    ecg_read_options_of_config(&m->config, &ro);
    ro.records = NULL;
    ro.q_beats = ECG_Q_KEEP;
    struct ecg_dataset ds = {0};
    int rc = ecg_signal_beats(name, x, n, fs, &ro, &ds, NULL, err);
    size_t rows = (size_t)(ds.count > 0 ? ds.count : 1);
    struct ecg_infer_result *r = rc ? NULL : calloc(rows, sizeof *r);
    int64_t *at = rc ? NULL : malloc(rows * sizeof *at);
    if (!rc && (!r || !at))
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "record '%s': out of memory for %lld beats", name, (long long)ds.count);
    int64_t done = 0;
    for (; !rc && done < ds.count; done++) {
        struct ecg_record *rec = &ds.records[done];
        at[done] = ecg_beat_id_sample(rec->id);
        if ((rc = ecg_prepare_record(&m->config, rec, err)))
            ecg_error_prefix(err, rc, "record '%s': beat at sample %lld", name, (long long)at[done]);
        else
            rc = ecg_infer_windows(m, rec, &r[done], err);
    }
    if (rc) {
        ecg_infer_results_free(r, done);
        free(at);
    } else {
        *out = r;
        *samples = at;
        *count = ds.count;
        *left_out = ds.skipped;
    }
    ecg_dataset_free(&ds);
    return rc;
}
