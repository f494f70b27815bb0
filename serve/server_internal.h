/* What server.c and classify.c share: the server and one request's state. */
#ifndef ECG_SERVE_SERVER_INTERNAL_H
#define ECG_SERVE_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "serve/batcher.h"
#include "serve/input.h"
#include "serve/metrics.h"
#include "serve/respond.h"
#include "serve/serve.h"
#include "serve/upload.h"

struct ecg_server {
    struct ecg_serve_options o;
    const struct ecg_serve_backend *be;
    struct MHD_Daemon *daemon;
    struct ecg_batcher *batcher;
    struct ecg_serve_metrics metrics;
    struct ecg_serve_upload_limits upload;
    int port;
    _Atomic int64_t buffered; /* body bytes held by all requests, bounded by 8 x --max-body-mb */
    pthread_mutex_t pool_mu;  /* backend contexts for prepare, reused across requests */
    void **pool;
    int32_t npool, cap_pool;
};

enum request_phase { PHASE_RECEIVING, PHASE_WAITING, PHASE_READY };

/* One request (MHD's per-connection pointer while it lasts). */
struct request {
    struct ecg_server *s;
    struct MHD_Connection *conn;
    enum ecg_route route;
    double t0;
    int status; /* the HTTP status sent, for metrics */
    _Atomic int phase;
    unsigned char *body;
    size_t size, cap;
    int too_big, over_budget;
    /* classify */
    struct ecg_serve_params params;
    struct ecg_serve_records recs;
    struct ecg_serve_result *res;
    float *inputs, *context, *probs, *cam;
    struct ecg_batch_job job;
};

/* Queues a response with a malloc'd body (taken) and the headers every response gets; returns MHD's result.
 */
enum MHD_Result ecg_server_reply(struct request *r, int status, const char *type, char *body, size_t size);
/* Queues {"error", "file"} with status. */
enum MHD_Result ecg_server_reply_error(struct request *r, int status, const char *msg, const char *file);

/* POST /v1/classify once the body is in: parses, checks, prepares and either
 * queues the windows (suspending the connection) or replies. */
enum MHD_Result ecg_classify_begin(struct request *r);
/* The same request after the batcher resumed it: the response. */
enum MHD_Result ecg_classify_finish(struct request *r);
void ecg_classify_free(struct request *r);

/* A backend context from the pool (NULL when out of memory) and back. */
void *ecg_server_context_get(struct ecg_server *s);
void ecg_server_context_put(struct ecg_server *s, void *ctx);

#endif
