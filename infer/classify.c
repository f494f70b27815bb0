/* One record through the path: preprocessing, evaluation windows, spectrogram images, the network, averaging. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infer/infer_internal.h"

void ecg_infer_result_free(struct ecg_infer_result *r)
{
    if (!r)
        return;
    free(r->signal);
    free(r->starts);
    free(r->images);
    free(r->window_probs);
    free(r->probs);
    free(r->cams);
    memset(r, 0, sizeof *r);
    r->best = -1;
}

/* Fills out's arrays from a prepared record; on failure out is freed. */
static int windows_into(const struct ecg_infer_model *m, const struct ecg_record *rec, struct ecg_infer_result *out,
                        struct ecg_error *err)
{
    const struct ecg_window_opts *wo = &m->lo.window;
    const struct ecg_spec_opts *so = &m->lo.spec;
    out->windows = ecg_window_count(wo, rec->length, rec->fs, false);
    if (out->windows < 1)
        return ecg_error_set(err, ECG_ERR_VALUE, "record '%s' is shorter than the %g s window", rec->id,
                             wo->length_s);
    out->window_samples = ecg_window_samples(wo, rec->fs);
    out->height = so->height;
    out->width = so->width;
    out->channels = so->channels;
    const int64_t per = so->height * so->width * so->channels;
    out->starts = malloc((size_t)out->windows * sizeof *out->starts);
    out->images = malloc((size_t)(out->windows * per) * sizeof *out->images);
    float *x = malloc((size_t)out->window_samples * sizeof *x);
    int rc = ECG_OK;
    if (!out->starts || !out->images || !x)
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "record '%s': out of memory for %lld windows", rec->id,
                           (long long)out->windows);
    /* The evaluation branch of the batch loader, window by window (data/loader.c). */
    for (int64_t k = 0; k < out->windows && !rc; k++) {
        out->starts[k] = ecg_window_eval_start(wo, rec->length, rec->fs, k);
        ecg_window_extract(wo, rec->signal, rec->length, out->starts[k], out->window_samples, x);
        if ((rc = ecg_spec_image((struct ecg_spec *)&m->spec, x, out->window_samples, rec->fs,
                                 out->images + k * per, err)))
            ecg_error_prefix(err, rc, "record '%s' (window %lld)", rec->id, (long long)k);
    }
    free(x);
    return rc;
}

int ecg_infer_windows(const struct ecg_infer_model *m, const struct ecg_record *rec, struct ecg_infer_result *out,
                      struct ecg_error *err)
{
    memset(out, 0, sizeof *out);
    out->best = -1;
    out->label = rec->label;
    memcpy(out->features, rec->features, sizeof out->features);
    snprintf(out->record, sizeof out->record, "%s", rec->id);
    out->fs = rec->fs;
    out->length = rec->length;
    out->signal = malloc((size_t)(rec->length > 0 ? rec->length : 1) * sizeof *out->signal);
    if (!out->signal)
        return ecg_error_set(err, ECG_ERR_NOMEM, "record '%s': out of memory", rec->id);
    memcpy(out->signal, rec->signal, (size_t)rec->length * sizeof *out->signal);
    int rc = windows_into(m, rec, out, err);
    if (rc)
        ecg_infer_result_free(out);
    return rc;
}

int ecg_infer_prepare_samples(const struct ecg_infer_model *m, const float *x, int64_t n, double fs,
                              const char *id, struct ecg_infer_result *out, struct ecg_error *err)
{
    memset(out, 0, sizeof *out);
    out->best = -1;
    struct ecg_record rec = {.label = -1, .fs = fs, .length = n};
    snprintf(rec.id, sizeof rec.id, "%s", id ? id : "");
    const char *name = id && *id ? id : "(samples)";
    if (n < 1 || !x)
        return ecg_error_set(err, ECG_ERR_VALUE, "record '%s': no samples", name);
    if (!(fs > 0))
        return ecg_error_set(err, ECG_ERR_VALUE, "record '%s': sampling rate %g Hz, expected > 0", name, fs);
    if (!(rec.signal = malloc((size_t)n * sizeof *rec.signal)))
        return ecg_error_set(err, ECG_ERR_NOMEM, "record '%s': out of memory for %lld samples", name, (long long)n);
    memcpy(rec.signal, x, (size_t)n * sizeof *rec.signal);
    int rc = ecg_prepare_record(&m->config, &rec, err);
    if (rc)
        ecg_error_prefix(err, rc, "record '%s'", name);
    else
        rc = ecg_infer_windows(m, &rec, out, err);
    free(rec.signal);
    return rc;
}

/* Moves a finished record to the caller's result. */
static int keep(void *user, struct ecg_infer_result *r, struct ecg_error *err)
{
    (void)err;
    *(struct ecg_infer_result *)user = *r;
    memset(r, 0, sizeof *r);
    return ECG_OK;
}

int ecg_infer_classify_samples(struct ecg_infer_context *ctx, const float *x, int64_t n, double fs, const char *id,
                               struct ecg_infer_result *out, struct ecg_error *err)
{
    struct ecg_infer_result prepared;
    struct ecg_infer_batch b;
    memset(out, 0, sizeof *out);
    ECG_TRY(ecg_infer_prepare_samples(ctx->model, x, n, fs, id, &prepared, err));
    int rc = ecg_infer_batch_init(&b, ctx, keep, out, err);
    if (!rc && !(rc = ecg_infer_batch_add(&b, &prepared, err)))
        rc = ecg_infer_batch_finish(&b, err);
    ecg_infer_batch_free(&b);
    ecg_infer_result_free(&prepared);
    if (rc)
        ecg_infer_result_free(out);
    return rc;
}
