/* The batching thread: gathers windows from queued jobs up to a size or a deadline, one classify per batch.
 */
#include "serve/batcher.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

struct ecg_batcher {
    const struct ecg_serve_backend *be;
    int32_t batch_max, max_queue, depth;
    double wait_s;
    ecg_batch_observer observe;
    void *observe_arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int stopping, joined;
    struct ecg_batch_job *head, *tail; /* jobs with windows not yet taken, FIFO */
    void *ctx;
    float *inputs, *context, *probs, *cam; /* one batch */
    struct {
        struct ecg_batch_job *job;
        int64_t first, count;
    } * slices; /* which windows of which job are in the batch */
};

static int64_t queued_windows(const struct ecg_batcher *b)
{
    int64_t n = 0;
    for (const struct ecg_batch_job *j = b->head; j && n < b->batch_max; j = j->next)
        n += j->count - j->taken;
    return n;
}

/* Waits (lock held) until a full batch is queued, the first job's deadline passes, or stop; 0 when nothing to
 * do. */
static int wait_for_batch(struct ecg_batcher *b)
{
    while (!b->head && !b->stopping)
        pthread_cond_wait(&b->cv, &b->mu);
    if (!b->head)
        return 0;
    double deadline = ecg_now() + b->wait_s;
    while (!b->stopping && queued_windows(b) < b->batch_max) {
        double left = deadline - ecg_now();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double t = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec + left;
        ts.tv_sec = (time_t)t;
        ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&b->cv, &b->mu, &ts);
    }
    return 1;
}

/* Takes up to batch_max windows from the queue head (lock held); returns the number of slices. */
static int take_batch(struct ecg_batcher *b, int64_t *windows)
{
    const struct ecg_serve_model_info *in = &b->be->info;
    int64_t size = in->input_h * in->input_w * in->input_c, n = 0;
    int ns = 0;
    while (b->head && n < b->batch_max) {
        struct ecg_batch_job *j = b->head;
        int64_t k = j->count - j->taken;
        if (k > b->batch_max - n)
            k = b->batch_max - n;
        memcpy(b->inputs + n * size, j->inputs + j->taken * size, (size_t)(k * size) * sizeof(float));
        if (in->context_c > 0)
            memcpy(b->context + n * in->context_c, j->context + j->taken * in->context_c,
                   (size_t)(k * in->context_c) * sizeof(float));
        b->slices[ns].job = j;
        b->slices[ns].first = j->taken;
        b->slices[ns].count = k;
        ns++;
        j->taken += k;
        n += k;
        if (j->taken == j->count) {
            b->head = j->next;
            if (!b->head)
                b->tail = NULL;
        }
    }
    *windows = n;
    return ns;
}

/* Scatters a batch's results (or its failure) to its jobs; finished jobs are announced. */
static void deliver(struct ecg_batcher *b, int ns, int rc, const struct ecg_error *err)
{
    const struct ecg_serve_model_info *in = &b->be->info;
    int64_t k = in->nclass, cs = in->cam_h * in->cam_w, at = 0;
    for (int s = 0; s < ns; s++) {
        struct ecg_batch_job *j = b->slices[s].job;
        int64_t first = b->slices[s].first, count = b->slices[s].count;
        if (rc && !j->status) {
            j->status = rc;
            j->err = *err;
        }
        if (!rc) {
            memcpy(j->probs + first * k, b->probs + at * k, (size_t)(count * k) * sizeof(float));
            if (j->cam && cs > 0)
                memcpy(j->cam + first * cs, b->cam + at * cs, (size_t)(count * cs) * sizeof(float));
        }
        at += count;
        pthread_mutex_lock(&b->mu);
        j->finished += count;
        int done = j->finished == j->count;
        if (done)
            b->depth--;
        pthread_mutex_unlock(&b->mu);
        if (done)
            j->on_done(j);
    }
}

static void *run(void *arg)
{
    struct ecg_batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        if (!wait_for_batch(b))
            break;
        int64_t n;
        int ns = take_batch(b, &n);
        pthread_mutex_unlock(&b->mu);
        struct ecg_error err = {0};
        double t0 = ecg_now();
        int rc = b->be->classify(b->be->model, b->ctx, b->inputs, b->be->info.context_c > 0 ? b->context : NULL, n,
                                 b->probs,
                                 b->be->info.cam_h > 0 ? b->cam : NULL, &err);
        if (b->observe)
            b->observe(b->observe_arg, n, ecg_now() - t0);
        deliver(b, ns, rc, &err);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static void free_batcher(struct ecg_batcher *b)
{
    if (b->ctx)
        b->be->context_free(b->ctx);
    free(b->inputs);
    free(b->context);
    free(b->probs);
    free(b->cam);
    free(b->slices);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
}

int ecg_batcher_start(const struct ecg_serve_backend *be, int32_t batch_max, double wait_s, int32_t max_queue,
                      ecg_batch_observer observe, void *observe_arg, struct ecg_batcher **out,
                      struct ecg_error *err)
{
    *out = NULL;
    if (batch_max < 1 || max_queue < 1 || !(wait_s >= 0))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "batching: batch size %d, queue %d, wait %g s; expected >= 1, >= 1, >= 0",
                             batch_max, max_queue, wait_s);
    struct ecg_batcher *b = calloc(1, sizeof *b);
    if (!b)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the batcher");
    const struct ecg_serve_model_info *in = &be->info;
    b->be = be;
    b->batch_max = batch_max;
    b->wait_s = wait_s;
    b->max_queue = max_queue;
    b->observe = observe;
    b->observe_arg = observe_arg;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    size_t bm = (size_t)batch_max;
    b->inputs = malloc(bm * (size_t)(in->input_h * in->input_w * in->input_c) * sizeof(float));
    b->context = malloc(bm * (size_t)(in->context_c > 0 ? in->context_c : 1) * sizeof(float));
    b->probs = malloc(bm * (size_t)in->nclass * sizeof(float));
    b->cam = malloc(bm * (size_t)(in->cam_h * in->cam_w > 0 ? in->cam_h * in->cam_w : 1) * sizeof(float));
    b->slices = malloc(bm * sizeof *b->slices);
    b->ctx = be->context_new(be->model);
    if (!b->inputs || !b->context || !b->probs || !b->cam || !b->slices || !b->ctx) {
        free_batcher(b);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for a batch of %d windows", batch_max);
    }
    if (pthread_create(&b->thread, NULL, run, b) != 0) {
        free_batcher(b);
        return ecg_error_set(err, ECG_ERR_NOMEM, "cannot start the batching thread");
    }
    *out = b;
    return ECG_OK;
}

int ecg_batcher_submit(struct ecg_batcher *b, struct ecg_batch_job *job, struct ecg_error *err)
{
    ECG_ASSERT(job->count > 0 && job->on_done);
    job->taken = job->finished = 0;
    job->status = ECG_OK;
    job->next = NULL;
    pthread_mutex_lock(&b->mu);
    if (b->depth >= b->max_queue || b->stopping) {
        int stopping = b->stopping;
        pthread_mutex_unlock(&b->mu);
        return stopping ? ecg_error_set(err, ECG_ERR_RANGE,
                                        "the server is shutting down; retry on another instance")
                        : ecg_error_set(err, ECG_ERR_RANGE,
                                        "the model's queue is full (%d requests waiting); retry shortly",
                                        b->max_queue);
    }
    if (b->tail)
        b->tail->next = job;
    else
        b->head = job;
    b->tail = job;
    b->depth++;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return ECG_OK;
}

int32_t ecg_batcher_depth(struct ecg_batcher *b)
{
    pthread_mutex_lock(&b->mu);
    int32_t d = b->depth;
    pthread_mutex_unlock(&b->mu);
    return d;
}

void ecg_batcher_drain(struct ecg_batcher *b)
{
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    if (!b->joined)
        pthread_join(b->thread, NULL);
    b->joined = 1;
}

void ecg_batcher_free(struct ecg_batcher *b)
{
    if (!b)
        return;
    ecg_batcher_drain(b);
    free_batcher(b);
}
