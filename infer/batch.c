/* Batches of windows across records, filled as ecgtrain's evaluation fills them, through the network. */
#include <stdlib.h>
#include <string.h>

#include "infer/network.h"

int ecg_infer_batch_init(struct ecg_infer_batch *b, struct ecg_infer_context *ctx, ecg_infer_result_fn done,
                         void *user, struct ecg_error *err)
{
    memset(b, 0, sizeof *b);
    b->ctx = ctx;
    b->done = done;
    b->user = user;
    size_t batch = (size_t)ctx->net.batch;
    b->pending = calloc(batch + 1, sizeof *b->pending);
    b->computed = calloc(batch + 1, sizeof *b->computed);
    b->slot_record = calloc(batch, sizeof *b->slot_record);
    b->slot_window = calloc(batch, sizeof *b->slot_window);
    if (!b->pending || !b->computed || !b->slot_record || !b->slot_window) {
        ecg_infer_batch_free(b);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for a batch of %zu windows", batch);
    }
    return ECG_OK;
}

void ecg_infer_batch_free(struct ecg_infer_batch *b)
{
    for (int64_t i = 0; b->pending && i < b->npending; i++)
        ecg_infer_result_free(&b->pending[i]);
    free(b->pending);
    free(b->computed);
    free(b->slot_record);
    free(b->slot_window);
    memset(b, 0, sizeof *b);
}

/* A finished record's probabilities and class. */
static int average(const struct ecg_infer_model *m, struct ecg_infer_result *r, struct ecg_error *err)
{
    int rc = ecg_infer_record_probs(m, r->window_probs, r->windows, r->signal, r->length, r->fs, r->probs, err);
    if (rc)
        return ecg_error_prefix(err, rc, "record '%s'", r->record);
    r->best = 0;
    for (int j = 1; j < r->classes; j++)
        if (r->probs[j] > r->probs[r->best])
            r->best = j;
    return ECG_OK;
}

/* Hands out the leading records whose windows all ran. */
static int deliver(struct ecg_infer_batch *b, struct ecg_error *err)
{
    int64_t out = 0;
    int rc = ECG_OK;
    while (out < b->npending && b->computed[out] == b->pending[out].windows && !rc) {
        rc = average(b->ctx->model, &b->pending[out], err);
        if (!rc && b->done)
            rc = b->done(b->user, &b->pending[out], err);
        ecg_infer_result_free(&b->pending[out]);
        out++;
    }
    if (out == 0)
        return rc;
    /* Slots refer to pending indices only while a batch fills; it is empty here. */
    memmove(b->pending, b->pending + out, (size_t)(b->npending - out) * sizeof *b->pending);
    memmove(b->computed, b->computed + out, (size_t)(b->npending - out) * sizeof *b->computed);
    b->npending -= out;
    return rc;
}

/* The Grad-CAM maps of the batch just run, into each window's place in its record. */
static void explain(struct ecg_infer_batch *b)
{
    const struct ecg_infer_context *ctx = b->ctx;
    const struct ecg_spec_opts *s = &ctx->model->lo.spec;
    const int64_t per = s->height * s->width;
    ecg_infer_gradcam(ctx, b->filled, ctx->explain, ctx->explain->maps);
    for (int64_t i = 0; i < b->filled; i++)
        memcpy(b->pending[b->slot_record[i]].cams + b->slot_window[i] * per, ctx->explain->maps + i * per,
               (size_t)per * sizeof(float));
}

static int run(struct ecg_infer_batch *b, struct ecg_error *err)
{
    struct ecg_infer_context *ctx = b->ctx;
    const int k = ctx->model->classes;
    ecg_infer_forward(ctx, b->filled);
    for (int64_t i = 0; i < b->filled; i++) {
        struct ecg_infer_result *r = &b->pending[b->slot_record[i]];
        ecg_infer_probs_row(ctx, i, r->window_probs + b->slot_window[i] * k);
        b->computed[b->slot_record[i]]++;
    }
    if (ctx->explain)
        explain(b);
    b->filled = 0;
    return deliver(b, err);
}

int ecg_infer_batch_add(struct ecg_infer_batch *b, struct ecg_infer_result *r, struct ecg_error *err)
{
    const int k = b->ctx->model->classes;
    ECG_ASSERT(b->npending <= b->ctx->net.batch); /* each pending record holds a window of the open batch */
    struct ecg_infer_result *p = &b->pending[b->npending];
    *p = *r;
    memset(r, 0, sizeof *r);
    b->computed[b->npending] = 0;
    int64_t index = b->npending++;
    p->classes = k;
    p->window_probs = malloc((size_t)(p->windows * k) * sizeof *p->window_probs);
    p->probs = calloc((size_t)k, sizeof *p->probs);
    if (b->ctx->explain)
        p->cams = malloc((size_t)(p->windows * p->height * p->width) * sizeof *p->cams);
    if (!p->window_probs || !p->probs || (b->ctx->explain && !p->cams))
        return ecg_error_set(err, ECG_ERR_NOMEM, "record '%s': out of memory", p->record);
    const int64_t per = p->height * p->width * p->channels;
    for (int64_t w = 0; w < p->windows; w++) {
        memcpy(b->ctx->input + b->filled * per, p->images + w * per, (size_t)per * sizeof(float));
        ecg_effnet_set_context(&b->ctx->net, b->filled, p->features + b->ctx->model->first_feature, 1, ECG_RECORD_FEATURES);
        b->slot_record[b->filled] = index;
        b->slot_window[b->filled] = w;
        if (++b->filled == b->ctx->net.batch) {
            ECG_TRY(run(b, err));
            index = 0; /* delivery moved the partly computed record (if any) to the front */
            p = &b->pending[0];
        }
    }
    return ECG_OK;
}

int ecg_infer_batch_finish(struct ecg_infer_batch *b, struct ecg_error *err)
{
    if (b->filled > 0)
        return run(b, err);
    return deliver(b, err);
}
