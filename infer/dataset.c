/* A dataset's records through the inference path, collected as an evaluation result for the metrics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "infer/dataset.h"
#include "infer/infer_internal.h"

struct gathered {
    struct ecg_eval_result *out;
    double loss;
};

/* Appends a finished record's probabilities; records arrive in the order they were added. */
static int gather(void *user, struct ecg_infer_result *r, struct ecg_error *err)
{
    (void)err;
    struct gathered *g = user;
    struct ecg_eval_result *out = g->out;
    memcpy(out->probs + out->n * out->k, r->probs, (size_t)out->k * sizeof *r->probs);
    if (out->truth[out->n] >= 0)
        g->loss -= log(fmax((double)r->probs[out->truth[out->n]], 1e-12));
    out->n++;
    return ECG_OK;
}

int ecg_infer_classify_dataset(struct ecg_infer_context *ctx, const struct ecg_dataset *ds, const int64_t *indices,
                               int64_t n, struct ecg_eval_result *out, struct ecg_error *err)
{
    memset(out, 0, sizeof *out);
    const int k = ctx->model->classes;
    size_t rows = (size_t)(n > 0 ? n : 1);
    out->k = k;
    out->records = malloc(rows * sizeof *out->records);
    out->truth = malloc(rows * sizeof *out->truth);
    out->probs = malloc(rows * (size_t)k * sizeof *out->probs);
    if (!out->records || !out->truth || !out->probs) {
        ecg_eval_result_free(out);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the evaluation of %lld records", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        out->records[i] = indices[i];
        out->truth[i] = ds->records[indices[i]].label;
    }
    struct gathered g = {out, 0};
    struct ecg_infer_batch b;
    int rc = ecg_infer_batch_init(&b, ctx, gather, &g, err);
    for (int64_t i = 0; i < n && !rc; i++) {
        struct ecg_infer_result r;
        if (!(rc = ecg_infer_windows(ctx->model, &ds->records[indices[i]], &r, err)))
            rc = ecg_infer_batch_add(&b, &r, err);
        ecg_infer_result_free(&r);
    }
    if (!rc)
        rc = ecg_infer_batch_finish(&b, err);
    ecg_infer_batch_free(&b);
    if (rc) {
        ecg_eval_result_free(out);
        return rc;
    }
    out->loss = out->n ? g.loss / (double)out->n : NAN;
    return ECG_OK;
}
