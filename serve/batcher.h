/* Dynamic batching: windows of concurrent requests share one backend classify call. */
#ifndef ECG_SERVE_BATCHER_H
#define ECG_SERVE_BATCHER_H

#include <stdint.h>

#include "core/error.h"
#include "serve/backend.h"

/* One request's windows.  The submitter owns the arrays; the batcher writes
 * probs (and cam when not NULL) and calls on_done once, from its thread,
 * after the last window (status and err say whether classify failed). */
struct ecg_batch_job {
    const float *inputs; /* count window inputs, end to end */
    const float *context; /* count * context_c context values, NULL when the model reads none */
    int64_t count;
    float *probs; /* count * nclass */
    float *cam;   /* count * cam_h * cam_w, or NULL */
    void (*on_done)(struct ecg_batch_job *job);
    void *user;
    int status;
    struct ecg_error err;
    /* private to the batcher */
    int64_t taken, finished;
    struct ecg_batch_job *next;
};

/* Called after each backend call with its window count (for metrics). */
typedef void (*ecg_batch_observer)(void *arg, int64_t windows, double seconds);

struct ecg_batcher;

/* batch_max windows per call; wait_s the longest the first queued window
 * waits for company; max_queue jobs waiting at most. */
int ecg_batcher_start(const struct ecg_serve_backend *be, int32_t batch_max, double wait_s, int32_t max_queue,
                      ecg_batch_observer observe, void *observe_arg, struct ecg_batcher **b,
                      struct ecg_error *err);
/* Queues a job; ECG_ERR_RANGE ("queue full") when max_queue jobs are waiting
 * or the batcher is draining (on_done is then not called). */
int ecg_batcher_submit(struct ecg_batcher *b, struct ecg_batch_job *job, struct ecg_error *err);
/* Jobs queued and not yet finished. */
int32_t ecg_batcher_depth(struct ecg_batcher *b);
/* Refuses new jobs, finishes every queued one (each on_done is called) and
 * stops the thread; submit keeps answering "shutting down" until freed. */
void ecg_batcher_drain(struct ecg_batcher *b);
/* Drains if needed, then frees.  NULL is a no-op. */
void ecg_batcher_free(struct ecg_batcher *b);

#endif
