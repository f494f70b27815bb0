/* ecgserve: the HTTP server (options, start, drain and stop), on top of a struct ecg_serve_backend. */
#ifndef ECG_SERVE_SERVE_H
#define ECG_SERVE_SERVE_H

#include <stdint.h>

#include "core/error.h"
#include "serve/backend.h"

struct ecg_serve_options {
    const char *host;       /* "127.0.0.1"; "0.0.0.0" or "::" to listen everywhere */
    int32_t port;           /* 0 = any free port */
    int32_t threads;        /* HTTP worker threads; 0 = one per CPU */
    int64_t max_body_bytes; /* larger bodies get 413 */
    int32_t max_queue;      /* requests waiting for the model; more get 503 */
    int32_t batch_max;      /* windows per forward pass */
    double batch_wait_s;    /* how long the first window of a batch waits for others */
    int32_t max_connections;        /* open at once; more are closed as they arrive */
    int32_t max_connections_per_ip; /* open at once from one address; 0 = no limit of its own */
    int32_t timeout_s;              /* a connection that sends nothing for this long is closed */
    const char *token;       /* bearer token for /v1/ and /metrics; NULL = none */
    const char *cors_origin; /* Access-Control-Allow-Origin value; NULL = no CORS headers */
    int32_t max_records;     /* per request */
    int64_t max_samples;     /* per record */
    double drain_s;          /* on stop, how long in-flight requests may take */
};

/* Defaults: 127.0.0.1:8080, one thread per CPU, 32 MiB bodies, queue 64,
 * batch 16 windows / 5 ms, 256 connections, 64 from one address, 30 s idle timeout, no token, no CORS,
 * 64 records, 10 million samples, 30 s drain. */
void ecg_serve_options_default(struct ecg_serve_options *o);

struct ecg_server;

/* Starts listening and serving with `be` (which must outlive the server).
 * The actual port is ecg_server_port(). */
int ecg_server_start(const struct ecg_serve_options *o, const struct ecg_serve_backend *be,
                     struct ecg_server **s, struct ecg_error *err);
int ecg_server_port(const struct ecg_server *s);
/* Stops accepting, lets in-flight requests finish (up to drain_s), stops. NULL is a no-op. */
void ecg_server_stop(struct ecg_server *s);

/* start + print "ecgserve: serving <model> at http://HOST:PORT/" on stdout +
 * wait for SIGINT or SIGTERM (handlers that any thread may run wake the waiting thread through a pipe) +
 * stop.  Returns ECG_OK after a clean drain. */
int ecg_serve_run(const struct ecg_serve_options *o, const struct ecg_serve_backend *be,
                  struct ecg_error *err);

#endif
