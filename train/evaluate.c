/* Inference over a split with several windows per record, averaging the windows' probabilities. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/cache.h"
#include "data/loader.h"
#include "train/data_parallel.h"
#include "train/train.h"

void ecg_eval_result_free(struct ecg_eval_result *r)
{
    free(r->records);
    free(r->truth);
    free(r->probs);
    free(r->window_logits);
    free(r->window_row);
    memset(r, 0, sizeof *r);
}

/* A breakdown's label holds any record name. */
_Static_assert(ECG_ID_MAX <= ECG_BREAKDOWN_NAME_MAX, "record names fit breakdown labels");

int ecg_eval_breakdowns(struct ecg_metrics *m, const struct ecg_dataset *ds, const struct ecg_eval_result *r,
                        struct ecg_error *err)
{
    const size_t n = (size_t)(r->n > 0 ? r->n : 1);
    const char **symbol = malloc(n * sizeof *symbol), **record = malloc(n * sizeof *record);
    int rc = ECG_OK;
    if (!symbol || !record) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "no memory for the breakdowns of %lld beats", (long long)r->n);
        goto done;
    }
    bool any = false;
    for (int64_t i = 0; i < r->n; i++) {
        const struct ecg_record *rec = &ds->records[r->records[i]];
        symbol[i] = ecg_wfdb_beat_symbol(rec->beat_code);
        /* beats without an annotation symbol are left out of both (a beat's subject is its record's name) */
        record[i] = symbol[i] ? rec->subject : NULL;
        any |= symbol[i] != NULL;
    }
    if (any)
        rc = ecg_metrics_add_breakdown(m, "breakdown", "MIT-BIH annotation symbol", symbol, r->truth, r->probs, r->n,
                                       err);
    if (any && !rc)
        rc = ecg_metrics_add_breakdown(m, "breakdown_records", "record", record, r->truth, r->probs, r->n, err);
done:
    free(symbol);
    free(record);
    return rc;
}

/* The evaluation-image cache of data.cache_dir: keyed by the data file and everything that shapes a
 * record before the spectrogram (the loader adds the spectrogram and window options). */
static int open_cache(const struct ecg_config *c, const struct ecg_loader_opts *lo, struct ecg_cache *cache,
                      struct ecg_error *err)
{
    char identity[4096];
    int rc = ecg_cache_identity(c->data.path, identity, sizeof identity, err);
    if (rc)
        return ecg_error_prefix(err, rc, "data.cache_dir");
    size_t used = strlen(identity);
    snprintf(identity + used, sizeof identity - used, "|%s|fs=%.17g|band=%.17g-%.17g|norm=%d|exclude=%s",
             ecg_config_format_name(c), c->data.sample_rate, c->data.band_low_hz, c->data.band_high_hz,
             c->data.normalize, c->data.exclude ? c->data.exclude : "");
    rc = ecg_cache_init(cache, c->data.cache_dir, identity, &lo->spec, &lo->window, err);
    return rc ? ecg_error_prefix(err, rc, "data.cache_dir") : ECG_OK;
}

/* The result's rows for records indices[0..n) (their truth, zero probabilities), slot, the map from a
 * dataset record to its row (-1: not evaluated), and windows, each row's window count (zero). */
static int alloc_result(const struct ecg_dataset *ds, const int64_t *indices, int64_t n, int k,
                        struct ecg_eval_result *out, int64_t **slot, int64_t **windows, struct ecg_error *err)
{
    size_t rows = (size_t)(n > 0 ? n : 1);
    *slot = malloc((size_t)ds->count * sizeof **slot);
    *windows = calloc(rows, sizeof **windows);
    out->records = malloc(rows * sizeof *out->records);
    out->truth = malloc(rows * sizeof *out->truth);
    out->probs = calloc(rows * (size_t)k, sizeof *out->probs);
    if (!*slot || !*windows || !out->records || !out->truth || !out->probs)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the evaluation of %lld records", (long long)n);
    out->k = k;
    for (int64_t i = 0; i < ds->count; i++)
        (*slot)[i] = -1;
    for (int64_t i = 0; i < n; i++) {
        (*slot)[indices[i]] = i;
        out->records[i] = indices[i];
        out->truth[i] = ds->records[indices[i]].label;
    }
    out->n = n;
    return ECG_OK;
}

/* Runs the network over every window L yields: each window's logits kept in order, its softmax summed into
 * its record's row of out->probs and counted in windows[row]. */
static int classify_windows(struct ecg_effnet *m, const struct ecg_input_scaling *norm, const struct ecg_config *c,
                            struct ecg_loader *L, const int64_t *slot, int64_t *windows, struct ecg_eval_result *out,
                            struct ecg_error *err)
{
    const int k = out->k;
    out->window_logits = malloc((size_t)(L->nsamples * k) * sizeof *out->window_logits);
    out->window_row = malloc((size_t)L->nsamples * sizeof *out->window_row);
    float *p = malloc((size_t)k * sizeof *p);
    int rc = ECG_OK;
    if (!out->window_logits || !out->window_row || !p) {
        free(p);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the logits of %lld windows",
                             (long long)L->nsamples);
    }
    const struct ecg_batch *b;
    int first_feature;
    ecg_config_context_features(c, &first_feature);
    while ((rc = ecg_loader_next(L, &b, err)) == ECG_OK && b) {
        if (b->count == 0)
            continue; /* a last batch smaller than the rank count */
        ecg_input_scaling_apply(norm, b->images, b->count, b->h, b->w);
        ecg_effnet_set_context(m, 0, b->features + first_feature, b->count, ECG_RECORD_FEATURES);
        ecg_effnet_forward(m, b->images, b->count, false, NULL);
        for (int64_t s = 0; s < b->count; s++) {
            int64_t row = slot[b->records[s]];
            ECG_ASSERT(row >= 0);
            ecg_calibration_softmax(p, m->logits + s * k, k, 1.0);
            for (int j = 0; j < k; j++)
                out->probs[row * k + j] += p[j];
            windows[row]++;
            memcpy(out->window_logits + out->nwindows * k, m->logits + s * k, (size_t)k * sizeof(float));
            out->window_row[out->nwindows++] = row;
        }
    }
    free(p);
    return rc;
}

/* Divides each row's summed probabilities by its window count and the mean log-loss into out->loss; rows of
 * records the loader skipped (too short: no window) are dropped and the windows' rows renumbered. */
static int average_windows(struct ecg_eval_result *out, const int64_t *indices, int64_t *slot,
                           const int64_t *windows, struct ecg_error *err)
{
    const int k = out->k;
    int64_t kept = 0;
    double loss = 0;
    for (int64_t i = 0; i < out->n; i++) {
        if (windows[i] == 0)
            continue;
        slot[out->records[i]] = kept; /* the row's new place, for the windows below */
        for (int j = 0; j < k; j++)
            out->probs[kept * k + j] = out->probs[i * k + j] / (float)windows[i];
        out->records[kept] = out->records[i];
        out->truth[kept] = out->truth[i];
        if (out->truth[kept] >= 0)
            loss -= log(fmax((double)out->probs[kept * k + out->truth[kept]], 1e-12));
        kept++;
    }
    out->n = kept;
    for (int64_t w = 0; w < out->nwindows; w++)
        out->window_row[w] = slot[indices[out->window_row[w]]];
    out->loss = kept ? loss / (double)kept : NAN;
    return kept ? ECG_OK : ecg_error_set(err, ECG_ERR_VALUE, "no record of the split could be evaluated");
}

int ecg_evaluate(struct ecg_effnet *m, const struct ecg_input_scaling *norm, const struct ecg_config *c,
                 const struct ecg_dataset *ds, const int64_t *indices, int64_t n, struct ecg_eval_result *out,
                 struct ecg_error *err)
{
    memset(out, 0, sizeof *out);
    struct ecg_loader_opts lo;
    ecg_loader_opts_from_config(c, 0, &lo);
    lo.batch_size = m->batch < lo.batch_size ? m->batch : lo.batch_size;
    ecg_dp_shard_loader(&lo); /* data-parallel runs: each rank its part of every batch, summed below */
    struct ecg_loader L = {0};
    struct ecg_cache cache;
    int64_t *slot = NULL, *windows = NULL; /* record -> row of the result; row -> its window count */
    int rc = alloc_result(ds, indices, n, (int)m->opt.num_classes, out, &slot, &windows, err);
    if (!rc && c->data.cache_dir && !(rc = open_cache(c, &lo, &cache, err)))
        lo.cache = &cache;
    if (!rc && !(rc = ecg_loader_init(&L, ds, indices, n, &lo, err)) && !(rc = ecg_loader_start(&L, 0, err)) &&
        !(rc = classify_windows(m, norm, c, &L, slot, windows, out, err))) {
        ecg_dp_sum_eval(out->probs, windows, n, out->k);
        rc = average_windows(out, indices, slot, windows, err);
    }
    ecg_loader_free(&L);
    free(slot);
    free(windows);
    if (rc)
        ecg_eval_result_free(out);
    return rc;
}
