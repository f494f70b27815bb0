/* Counters and histograms behind one mutex, written as Prometheus text exposition format 0.0.4. */
#include "serve/metrics.h"

#include <string.h>

static const double latency_le[ECG_METRICS_LATENCY_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                               0.1,   0.25,   0.5,   1.0,  2.5,   10.0};
static const double batch_le[ECG_METRICS_BATCH_BUCKETS] = {1, 2, 4, 8, 16, 32, 64, 128};

void ecg_serve_metrics_init(struct ecg_serve_metrics *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
}

void ecg_serve_metrics_free(struct ecg_serve_metrics *m)
{
    pthread_mutex_destroy(&m->mu);
}

const char *ecg_route_name(enum ecg_route r)
{
    static const char *const names[ECG_ROUTE_COUNT] = {"classify", "page",    "model", "healthz",
                                                       "metrics",  "openapi", "other"};
    return (unsigned)r < ECG_ROUTE_COUNT ? names[r] : "other";
}

void ecg_serve_metrics_request(struct ecg_serve_metrics *m, enum ecg_route r, int status, double seconds)
{
    pthread_mutex_lock(&m->mu);
    if (status > 0 && status < ECG_METRICS_STATUS_MAX)
        m->requests[r][status]++;
    int b = 0;
    while (b < ECG_METRICS_LATENCY_BUCKETS && seconds > latency_le[b])
        b++;
    m->latency[r][b]++;
    m->latency_sum[r] += seconds;
    pthread_mutex_unlock(&m->mu);
}

void ecg_serve_metrics_batch(struct ecg_serve_metrics *m, int64_t windows, double seconds)
{
    pthread_mutex_lock(&m->mu);
    int b = 0;
    while (b < ECG_METRICS_BATCH_BUCKETS && (double)windows > batch_le[b])
        b++;
    m->batches[b]++;
    m->batch_windows_sum += (uint64_t)windows;
    m->batch_count++;
    m->batch_seconds_sum += seconds;
    pthread_mutex_unlock(&m->mu);
}

void ecg_serve_metrics_in_flight(struct ecg_serve_metrics *m, int delta)
{
    pthread_mutex_lock(&m->mu);
    m->in_flight += delta;
    pthread_mutex_unlock(&m->mu);
}

int64_t ecg_serve_metrics_get_in_flight(struct ecg_serve_metrics *m)
{
    pthread_mutex_lock(&m->mu);
    int64_t n = m->in_flight;
    pthread_mutex_unlock(&m->mu);
    return n;
}

/* One cumulative histogram with labels (may be "") from per-bucket counts. */
static void histogram(FILE *f, const char *name, const char *labels, const double *le, int nb,
                      const uint64_t *counts, double sum)
{
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int b = 0; b <= nb; b++) {
        cum += counts[b];
        if (b < nb)
            fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, le[b], (unsigned long long)cum);
        else
            fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)cum);
    }
    fprintf(f, "%s_sum%s%s%s %.6f\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "", sum);
    fprintf(f, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
            (unsigned long long)cum);
}

void ecg_serve_metrics_write(struct ecg_serve_metrics *m, int32_t queue_depth, FILE *f)
{
    pthread_mutex_lock(&m->mu);
    fputs("# HELP ecgserve_requests_total HTTP requests by route and status code.\n"
          "# TYPE ecgserve_requests_total counter\n",
          f);
    for (int r = 0; r < ECG_ROUTE_COUNT; r++)
        for (int s = 0; s < ECG_METRICS_STATUS_MAX; s++)
            if (m->requests[r][s])
                fprintf(f, "ecgserve_requests_total{route=\"%s\",code=\"%d\"} %llu\n",
                        ecg_route_name((enum ecg_route)r), s, (unsigned long long)m->requests[r][s]);
    fputs("# HELP ecgserve_request_duration_seconds Time from the request's arrival to its response.\n"
          "# TYPE ecgserve_request_duration_seconds histogram\n",
          f);
    for (int r = 0; r < ECG_ROUTE_COUNT; r++) {
        char labels[64];
        snprintf(labels, sizeof labels, "route=\"%s\"", ecg_route_name((enum ecg_route)r));
        histogram(f, "ecgserve_request_duration_seconds", labels, latency_le, ECG_METRICS_LATENCY_BUCKETS,
                  m->latency[r], m->latency_sum[r]);
    }
    fputs("# HELP ecgserve_batch_windows Windows per forward pass (dynamic batching).\n"
          "# TYPE ecgserve_batch_windows histogram\n",
          f);
    histogram(f, "ecgserve_batch_windows", "", batch_le, ECG_METRICS_BATCH_BUCKETS, m->batches,
              (double)m->batch_windows_sum);
    fprintf(f,
            "# HELP ecgserve_batch_seconds_total Time spent in forward passes.\n"
            "# TYPE ecgserve_batch_seconds_total counter\necgserve_batch_seconds_total %.6f\n",
            m->batch_seconds_sum);
    fprintf(f,
            "# HELP ecgserve_queue_depth Requests waiting for the model.\n"
            "# TYPE ecgserve_queue_depth gauge\necgserve_queue_depth %d\n",
            queue_depth);
    fprintf(f,
            "# HELP ecgserve_requests_in_flight Requests being received, processed or answered.\n"
            "# TYPE ecgserve_requests_in_flight gauge\necgserve_requests_in_flight %lld\n",
            (long long)m->in_flight);
    pthread_mutex_unlock(&m->mu);
}
