/* POST /v1/classify: body -> records -> checks -> windows -> one batch job -> JSON results. */
#define _GNU_SOURCE /* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/multipart.h"
#include "serve/server_internal.h"

/* The classes of failures a client can cause, as HTTP statuses. */
static int status_of(int rc)
{
    return rc == ECG_ERR_NOMEM || rc == ECG_ERR_IO ? 500 : 400;
}

/* MHD's iterator over the query: each pair through ecg_serve_param_set; the first failure stops it (its
 * status and message wait in r->job, unused until the windows are queued). */
static enum MHD_Result query_param(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct request *r = cls;
    if (r->job.status)
        return MHD_NO;
    r->job.status = ecg_serve_param_set(&r->params, key, value ? value : "", &r->job.err);
    return r->job.status ? MHD_NO : MHD_YES;
}

/* The records of the body, by its Content-Type; on failure *file names the uploaded file at fault. */
static int read_records(struct request *r, const char *ct, char *file, size_t file_cap, struct ecg_error *err)
{
    size_t max_part = r->s->o.max_body_bytes > 0 ? (size_t)r->s->o.max_body_bytes : 0;
    return ecg_serve_body_records(ct, r->body, r->size, &r->s->upload, max_part, &r->params, &r->recs, file,
                                  file_cap, err);
}

/* Checks and windows of every record; returns the total number of windows. */
static int64_t prepare_all(struct request *r)
{
    const struct ecg_serve_backend *be = r->s->be;
    struct ecg_check_model cm = {be->info.fs, be->info.window_s, be->info.min_s, be->info.max_s,
                                 be->info.window_fill, be->info.beats};
    int64_t total = 0;
    void *ctx = NULL;
    for (int32_t i = 0; i < r->recs.count; i++) {
        struct ecg_serve_result *res = &r->res[i];
        const struct ecg_serve_record *rec = &r->recs.items[i];
        res->rec = rec;
        res->nchecks = ecg_checks_run(rec->signal, rec->length, rec->fs, &cm, res->checks, ECG_CHECK_COUNT);
        for (int c = 0; c < res->nchecks && !res->error[0]; c++)
            if (res->checks[c].severity == ECG_CHECK_ERROR)
                snprintf(res->error, sizeof res->error, "%s", res->checks[c].message);
        if (res->error[0])
            continue;
        if (!ctx && !(ctx = ecg_server_context_get(r->s))) {
            snprintf(res->error, sizeof res->error, "out of memory for a model context");
            continue;
        }
        struct ecg_error err = {0};
        if (be->prepare(be->model, ctx, rec->signal, rec->length, rec->fs, &res->prep, &err)) {
            snprintf(res->error, sizeof res->error, "%s", err.msg);
            ecg_serve_prepared_free(&res->prep);
        }
        total += res->prep.windows;
    }
    if (ctx)
        ecg_server_context_put(r->s, ctx);
    return total;
}

static void job_done(struct ecg_batch_job *job)
{
    struct request *r = job->user;
    atomic_store(&r->phase, PHASE_READY);
    MHD_resume_connection(r->conn);
}

/* One contiguous batch job over every record's windows. */
static int make_job(struct request *r, int64_t total, struct ecg_error *err)
{
    const struct ecg_serve_model_info *in = &r->s->be->info;
    int64_t size = in->input_h * in->input_w * in->input_c, cs = in->cam_h * in->cam_w;
    r->inputs = malloc((size_t)(total * size) * sizeof(float));
    r->probs = malloc((size_t)(total * in->nclass) * sizeof(float));
    r->context = in->context_c > 0 ? malloc((size_t)(total * in->context_c) * sizeof(float)) : NULL;
    r->cam = cs > 0 && (r->params.include & ECG_INCLUDE_GRADCAM)
                 ? malloc((size_t)(total * cs) * sizeof(float))
                 : NULL;
    if (!r->inputs || !r->probs || (in->context_c > 0 && !r->context) || (cs > 0 && (r->params.include & ECG_INCLUDE_GRADCAM) && !r->cam))
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for %lld windows", (long long)total);
    int64_t at = 0;
    for (int32_t i = 0; i < r->recs.count; i++) {
        struct ecg_serve_result *res = &r->res[i];
        if (res->prep.windows == 0)
            continue;
        memcpy(r->inputs + at * size, res->prep.inputs, (size_t)(res->prep.windows * size) * sizeof(float));
        if (r->context)
            memcpy(r->context + at * in->context_c, res->prep.context,
                   (size_t)(res->prep.windows * in->context_c) * sizeof(float));
        res->probs = r->probs + at * in->nclass;
        res->cam = r->cam ? r->cam + at * cs : NULL;
        at += res->prep.windows;
    }
    r->job = (struct ecg_batch_job){.inputs = r->inputs,
                                    .context = r->context,
                                    .count = total,
                                    .probs = r->probs,
                                    .cam = r->cam,
                                    .on_done = job_done,
                                    .user = r};
    return ECG_OK;
}

enum MHD_Result ecg_classify_begin(struct request *r)
{
    struct ecg_error err = {0};
    char file[ECG_MULTIPART_NAME_MAX] = "";
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, query_param, r);
    if (r->job.status)
        return ecg_server_reply_error(r, 400, r->job.err.msg, NULL);
    int rc = read_records(r, ct, file, sizeof file, &err);
    if (rc)
        return ecg_server_reply_error(r, status_of(rc), err.msg, file);
    if (!(r->res = calloc((size_t)r->recs.count, sizeof *r->res)))
        return ecg_server_reply_error(r, 500, "out of memory", NULL);
    int64_t total = prepare_all(r);
    if (total == 0)
        return ecg_classify_finish(r);
    if ((rc = make_job(r, total, &err)))
        return ecg_server_reply_error(r, 500, err.msg, NULL);
    atomic_store(&r->phase, PHASE_WAITING);
    MHD_suspend_connection(r->conn); /* before submit: the batcher may resume at once */
    if ((rc = ecg_batcher_submit(r->s->batcher, &r->job, &err))) {
        r->job.status = rc;
        r->job.err = err;
        atomic_store(&r->phase, PHASE_READY);
        MHD_resume_connection(r->conn);
    }
    return MHD_YES;
}

enum MHD_Result ecg_classify_finish(struct request *r)
{
    if (r->job.status == ECG_ERR_RANGE) /* queue full or shutting down */
        return ecg_server_reply_error(r, 503, r->job.err.msg, NULL);
    if (r->job.status)
        return ecg_server_reply_error(r, 500, r->job.err.msg, NULL);
    for (int32_t i = 0; i < r->recs.count; i++)
        ecg_serve_result_finish(r->s->be, &r->res[i]);
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return ecg_server_reply_error(r, 500, "out of memory for the response", NULL);
    ecg_serve_write_results(f, &r->s->be->info, r->res, r->recs.count, r->params.include);
    fputc('\n', f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return ecg_server_reply_error(r, 500, "out of memory for the response", NULL);
    }
    return ecg_server_reply(r, 200, "application/json", buf, size);
}

void ecg_classify_free(struct request *r)
{
    for (int32_t i = 0; r->res && i < r->recs.count; i++)
        ecg_serve_result_free(&r->res[i]);
    free(r->res);
    ecg_serve_records_free(&r->recs);
    free(r->inputs);
    free(r->context);
    free(r->probs);
    free(r->cam);
}
