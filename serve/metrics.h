/* Server metrics in the Prometheus text format: requests by route and status, latency, batch sizes, queue. */
#ifndef ECG_SERVE_METRICS_H
#define ECG_SERVE_METRICS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

enum ecg_route {
    ECG_ROUTE_CLASSIFY,
    ECG_ROUTE_PAGE,
    ECG_ROUTE_MODEL,
    ECG_ROUTE_HEALTHZ,
    ECG_ROUTE_METRICS,
    ECG_ROUTE_OPENAPI,
    ECG_ROUTE_OTHER,
    ECG_ROUTE_COUNT
};

#define ECG_METRICS_LATENCY_BUCKETS 12
#define ECG_METRICS_BATCH_BUCKETS 8
#define ECG_METRICS_STATUS_MAX 600

struct ecg_serve_metrics {
    pthread_mutex_t mu;
    uint64_t requests[ECG_ROUTE_COUNT][ECG_METRICS_STATUS_MAX];
    uint64_t latency[ECG_ROUTE_COUNT][ECG_METRICS_LATENCY_BUCKETS + 1]; /* last: +Inf */
    double latency_sum[ECG_ROUTE_COUNT];
    uint64_t batches[ECG_METRICS_BATCH_BUCKETS + 1];
    uint64_t batch_windows_sum, batch_count;
    double batch_seconds_sum;
    int64_t in_flight;
};

void ecg_serve_metrics_init(struct ecg_serve_metrics *m);
void ecg_serve_metrics_free(struct ecg_serve_metrics *m);
/* The route name used in labels ("classify", "page", ...). */
const char *ecg_route_name(enum ecg_route r);
void ecg_serve_metrics_request(struct ecg_serve_metrics *m, enum ecg_route r, int status, double seconds);
void ecg_serve_metrics_batch(struct ecg_serve_metrics *m, int64_t windows, double seconds);
void ecg_serve_metrics_in_flight(struct ecg_serve_metrics *m, int delta);
int64_t ecg_serve_metrics_get_in_flight(struct ecg_serve_metrics *m);
/* Writes every metric (with HELP and TYPE lines); queue_depth comes from the batcher. */
void ecg_serve_metrics_write(struct ecg_serve_metrics *m, int32_t queue_depth, FILE *f);

#endif
