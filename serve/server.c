/* The HTTP server on libmicrohttpd: routes, limits, token, CORS, start, drain and stop. */
#define _GNU_SOURCE /* open_memstream */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "eval/json.h"
#include "serve/assets.h"
#include "serve/server_internal.h"

enum MHD_Result ecg_server_reply(struct request *r, int status, const char *type, char *body, size_t size)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(size, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->s->o.cors_origin) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, r->s->o.cors_origin);
        MHD_add_response_header(resp, "Vary", "Origin");
    }
    if (status == 503)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"ecgserve\"");
    if (status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                r->route == ECG_ROUTE_CLASSIFY ? "POST" : "GET, HEAD");
    if (r->route == ECG_ROUTE_PAGE && status == 200)
        MHD_add_response_header(
            resp, "Content-Security-Policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
            "img-src data: blob:; connect-src 'self'; form-action 'none'; base-uri 'none'");
    r->status = status;
    enum MHD_Result ok = MHD_queue_response(r->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

enum MHD_Result ecg_server_reply_error(struct request *r, int status, const char *msg, const char *file)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return MHD_NO;
    ecg_serve_write_error(f, msg, file);
    fputc('\n', f);
    fclose(f);
    return ecg_server_reply(r, status, "application/json", buf, size);
}

/* Replies with a copy of constant text. */
static enum MHD_Result reply_text(struct request *r, int status, const char *type, const char *text, size_t n)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return MHD_NO;
    memcpy(copy, text, n);
    return ecg_server_reply(r, status, type, copy, n);
}

/* Constant-time comparison of the Authorization header with "Bearer <token>". */
static int authorized(const struct request *r)
{
    const char *want = r->s->o.token;
    if (!want)
        return 1;
    const char *got = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!got || strncmp(got, "Bearer ", 7) != 0)
        return 0;
    got += 7;
    size_t gn = strlen(got), wn = strlen(want);
    unsigned char diff = (unsigned char)(gn != wn);
    for (size_t i = 0; i < wn; i++)
        diff |= (unsigned char)(want[i] ^ (i < gn ? got[i] : 0));
    return diff == 0;
}

static enum ecg_route route_of(const char *url)
{
    static const struct {
        const char *path;
        enum ecg_route route;
    } routes[] = {{"/", ECG_ROUTE_PAGE},           {"/v1/classify", ECG_ROUTE_CLASSIFY},
                  {"/v1/model", ECG_ROUTE_MODEL},  {"/healthz", ECG_ROUTE_HEALTHZ},
                  {"/metrics", ECG_ROUTE_METRICS}, {"/openapi.json", ECG_ROUTE_OPENAPI}};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(url, routes[i].path) == 0)
            return routes[i].route;
    return ECG_ROUTE_OTHER;
}

static enum MHD_Result serve_get(struct request *r)
{
    struct ecg_server *s = r->s;
    switch (r->route) {
    case ECG_ROUTE_PAGE:
        return reply_text(r, 200, "text/html; charset=utf-8", ecg_asset_page, ecg_asset_page_size);
    case ECG_ROUTE_OPENAPI:
        return reply_text(r, 200, "application/json", ecg_asset_openapi, ecg_asset_openapi_size);
    case ECG_ROUTE_MODEL:
        return reply_text(r, 200, "application/json", s->be->info.card_json, strlen(s->be->info.card_json));
    case ECG_ROUTE_HEALTHZ: {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
            return MHD_NO;
        fputs("{\"status\":\"ok\",\"model\":", f);
        ecg_json_write_string(f, s->be->info.name);
        fputs("}\n", f);
        fclose(f);
        return ecg_server_reply(r, 200, "application/json", buf, size);
    }
    case ECG_ROUTE_METRICS: {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        if (!f)
            return MHD_NO;
        ecg_serve_metrics_write(&s->metrics, ecg_batcher_depth(s->batcher), f);
        fclose(f);
        return ecg_server_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", buf, size);
    }
    default:
        return ecg_server_reply_error(r, 404, "no such resource", NULL);
    }
}

/* Decisions made from the request line and headers alone, before any body is read; MHD_YES + 0 = none. */
static int early_status(struct request *r, const char *method, const char **msg)
{
    int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), is_post = !strcmp(method, "POST");
    if (r->route == ECG_ROUTE_OTHER)
        return *msg = "no such resource; see /openapi.json", 404;
    if (r->route == ECG_ROUTE_CLASSIFY ? !is_post : !is_get)
        return *msg = "method not allowed on this resource", 405;
    if ((r->route == ECG_ROUTE_CLASSIFY || r->route == ECG_ROUTE_MODEL || r->route == ECG_ROUTE_METRICS) &&
        !authorized(r))
        return *msg = "missing or wrong bearer token (Authorization: Bearer <token>)", 401;
    if (r->route != ECG_ROUTE_CLASSIFY)
        return 0;
    const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    static const char *const types[] = {"multipart/form-data", "application/json", "text/csv", "text/plain"};
    int known = 0;
    for (size_t i = 0; ct && i < sizeof types / sizeof types[0]; i++)
        known |= strncasecmp(ct, types[i], strlen(types[i])) == 0;
    if (!known)
        return *msg = "unsupported Content-Type: expected multipart/form-data, application/json or text/csv",
               415;
    const char *cl = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoll(cl, NULL, 10) > r->s->o.max_body_bytes)
        return *msg = "request body larger than --max-body-mb", 413;
    return 0;
}

static enum MHD_Result preflight(struct request *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, r->s->o.cors_origin);
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    r->status = 204;
    enum MHD_Result ok = MHD_queue_response(r->conn, 204, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* Appends upload data, or only drops it once over the body limit (413 at the end) or when all bodies together
 * would exceed the server's budget (503 at the end).  The buffer starts small and doubles, so a request holds
 * about what it sent: libmicrohttpd keeps a connection whose client vanished mid-body until the idle timeout,
 * and a large first reservation would let abandoned requests fill the budget. */
static void receive(struct request *r, const char *data, size_t n)
{
    struct ecg_server *s = r->s;
    if (r->too_big || r->over_budget || r->size + n > (size_t)s->o.max_body_bytes) {
        r->too_big = !r->over_budget;
        return;
    }
    if (r->size + n > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->size + n)
            cap *= 2;
        int64_t grow = (int64_t)(cap - r->cap);
        if (atomic_fetch_add(&s->buffered, grow) + grow > 8 * s->o.max_body_bytes) {
            atomic_fetch_sub(&s->buffered, grow);
            r->over_budget = 1;
            return;
        }
        unsigned char *g = realloc(r->body, cap + 1);
        if (!g) {
            atomic_fetch_sub(&s->buffered, grow);
            r->over_budget = 1;
            return;
        }
        r->body = g;
        r->cap = cap;
    }
    memcpy(r->body + r->size, data, n);
    r->size += n;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls)
{
    struct ecg_server *s = cls;
    struct request *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        r->s = s;
        r->conn = conn;
        r->t0 = ecg_now();
        r->route = route_of(url);
        *con_cls = r;
        ecg_serve_metrics_in_flight(&s->metrics, 1);
        if (s->o.cors_origin && !strcmp(method, "OPTIONS") && r->route != ECG_ROUTE_OTHER)
            return preflight(r);
        const char *msg = NULL;
        int st = early_status(r, method, &msg);
        if (st)
            return ecg_server_reply_error(r, st, msg, NULL);
        return r->route == ECG_ROUTE_CLASSIFY ? MHD_YES : serve_get(r);
    }
    if (r->status) { /* already answered (early): swallow anything else */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        receive(r, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    int phase = atomic_load(&r->phase);
    if (phase == PHASE_READY)
        return ecg_classify_finish(r);
    if (phase == PHASE_WAITING)
        return MHD_YES;
    if (r->too_big)
        return ecg_server_reply_error(r, 413, "request body larger than --max-body-mb", NULL);
    if (r->over_budget)
        return ecg_server_reply_error(r, 503, "the server holds too many uploads at once; retry shortly",
                                      NULL);
    return ecg_classify_begin(r);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct ecg_server *s = cls;
    struct request *r = *con_cls;
    if (!r)
        return;
    ecg_serve_metrics_request(&s->metrics, r->route, r->status ? r->status : 499, ecg_now() - r->t0);
    ecg_classify_free(r);
    atomic_fetch_sub(&s->buffered, (int64_t)r->cap);
    free(r->body);
    free(r);
    *con_cls = NULL;
    ecg_serve_metrics_in_flight(&s->metrics, -1);
}

void *ecg_server_context_get(struct ecg_server *s)
{
    pthread_mutex_lock(&s->pool_mu);
    void *ctx = s->npool > 0 ? s->pool[--s->npool] : NULL;
    pthread_mutex_unlock(&s->pool_mu);
    return ctx ? ctx : s->be->context_new(s->be->model);
}

void ecg_server_context_put(struct ecg_server *s, void *ctx)
{
    pthread_mutex_lock(&s->pool_mu);
    if (s->npool == s->cap_pool) {
        int32_t cap = s->cap_pool ? 2 * s->cap_pool : 8;
        void **g = realloc(s->pool, (size_t)cap * sizeof *g);
        if (g) {
            s->pool = g;
            s->cap_pool = cap;
        }
    }
    if (s->npool < s->cap_pool) {
        s->pool[s->npool++] = ctx;
        ctx = NULL;
    }
    pthread_mutex_unlock(&s->pool_mu);
    if (ctx)
        s->be->context_free(ctx);
}

static void observe_batch(void *arg, int64_t windows, double seconds)
{
    ecg_serve_metrics_batch(&((struct ecg_server *)arg)->metrics, windows, seconds);
}

static void free_server(struct ecg_server *s)
{
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    ecg_batcher_free(s->batcher);
    for (int32_t i = 0; i < s->npool; i++)
        s->be->context_free(s->pool[i]);
    free(s->pool);
    pthread_mutex_destroy(&s->pool_mu);
    ecg_serve_metrics_free(&s->metrics);
    free(s);
}

/* The listening address; ECG_ERR_USAGE naming the host when it does not resolve. */
static int resolve(const char *host, int port, struct sockaddr_storage *addr, int *ipv6,
                   struct ecg_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE},
                    *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res)
        return ecg_error_set(err, ECG_ERR_USAGE, "--host %s: %s", host, rc ? gai_strerror(rc) : "no address");
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return ECG_OK;
}

int ecg_server_start(const struct ecg_serve_options *o, const struct ecg_serve_backend *be,
                     struct ecg_server **out, struct ecg_error *err)
{
    *out = NULL;
    struct ecg_server *s = calloc(1, sizeof *s);
    if (!s)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    s->o = *o;
    s->be = be;
    pthread_mutex_init(&s->pool_mu, NULL);
    ecg_serve_metrics_init(&s->metrics);
    ecg_serve_upload_limits_default(&s->upload);
    s->upload.max_records = o->max_records;
    s->upload.max_samples = o->max_samples;
    struct sockaddr_storage addr;
    int ipv6 = 0, rc;
    if ((rc = resolve(o->host, o->port, &addr, &ipv6, err)) ||
        (rc = ecg_batcher_start(be, o->batch_max, o->batch_wait_s, o->max_queue, observe_batch, s,
                                &s->batcher, err))) {
        free_server(s);
        return rc;
    }
    long threads = o->threads > 0 ? o->threads : sysconf(_SC_NPROCESSORS_ONLN);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | (ipv6 ? MHD_USE_IPv6 : 0);
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(threads > 1 ? threads : 1), MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)o->max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)o->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        free_server(s);
        return ecg_error_set(err, ECG_ERR_IO,
                             "cannot listen on %s port %d (in use, or not an address of this machine?)",
                             o->host, o->port);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : o->port;
    *out = s;
    return ECG_OK;
}

int ecg_server_port(const struct ecg_server *s)
{
    return s->port;
}

/* Waits until no request is in flight or `seconds` pass; returns the number still in flight. */
static int64_t wait_idle(struct ecg_server *s, double seconds)
{
    double end = ecg_now() + seconds;
    int64_t n;
    while ((n = ecg_serve_metrics_get_in_flight(&s->metrics)) > 0 && ecg_now() < end) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return n;
}

void ecg_server_stop(struct ecg_server *s)
{
    if (!s)
        return;
    MHD_socket fd = MHD_quiesce_daemon(s->daemon); /* no new connections */
    wait_idle(s, s->o.drain_s);
    ecg_batcher_drain(s->batcher); /* every queued job finishes and resumes its connection */
    wait_idle(s, 1.0);
    free_server(s);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

/*
 * Stop signals reach the main thread through a pipe: a handler may run in any thread, and some threads
 * exist before the server can block signals in them (OpenBLAS starts its pool when the library loads), so
 * sigwait with the signals blocked would let such a thread take the default action and kill the process.
 */
static int stop_pipe[2] = {-1, -1};
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
    int saved = errno;
    stop_signal = sig;
    ssize_t unused = write(stop_pipe[1], "s", 1); /* async-signal-safe; a full pipe already says "stop" */
    (void)unused;
    errno = saved;
}

/* Installs (on) or removes the stop handlers. */
static int stop_handlers(bool on, struct ecg_error *err)
{
    if (on && stop_pipe[0] < 0 && pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
        return ecg_error_set(err, ECG_ERR_IO, "cannot create the stop pipe: %s", strerror(errno));
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_stop : SIG_DFL;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    return ECG_OK;
}

/* Blocks until SIGINT or SIGTERM; returns it. */
static int wait_stop(void)
{
    struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
    while (!stop_signal)
        poll(&p, 1, -1); /* EINTR or data: look at the flag again */
    return stop_signal;
}

int ecg_serve_run(const struct ecg_serve_options *o, const struct ecg_serve_backend *be,
                  struct ecg_error *err)
{
    signal(SIGPIPE, SIG_IGN);
    stop_signal = 0;
    ECG_TRY(stop_handlers(true, err));
    struct ecg_server *s;
    int rc = ecg_server_start(o, be, &s, err);
    if (rc) {
        stop_handlers(false, NULL);
        return rc;
    }
    const char *h = o->host;
    int v6 = strchr(h, ':') != NULL;
    printf("ecgserve: serving %s at http://%s%s%s:%d/\n", be->info.name, v6 ? "[" : "", h, v6 ? "]" : "",
           s->port);
    fflush(stdout);
    int sig = wait_stop();
    stop_handlers(false, NULL); /* a second signal stops at once */
    fprintf(stderr, "ecgserve: %s: finishing requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    ecg_server_stop(s);
    return ECG_OK;
}
