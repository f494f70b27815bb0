/* A hostile load on a running ecgserve for a bounded time: valid uploads, malformed ones, oversized bodies and
 * slow clients at once; prints what each kind of request got and checks answers, latency and server memory. */
#define _GNU_SOURCE /* MSG_NOSIGNAL, SOCK_CLOEXEC */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "tests/serve/hostile_requests.h"

struct options {
    const char *host;                    /* the server (IPv4) */
    /* The addresses the malformed, the abandoning (body cut off) and the slow clients come from: each kind of
     * attacker its own, so that the server's per-address limit is what keeps it from the others. */
    const char *hostile_from, *abandon_from, *slow_from;
    int port, pid, max_body_mb, valid, malformed, slow;
    const char *records; /* the folder with A00592.hea and A00592.mat */
    double seconds, p99_s, max_s, rss_mb, io_s, slow_interval_s; /* bounds: p99 and slowest valid answer */
    unsigned seed;
};

/* What the requests of one kind got; guarded by tally_mu. */
struct tally {
    int64_t sent, as_expected, hangs, unconnected, statuses[600]; /* statuses[0]: closed without a reply */
    double max_s;
    double *lat; /* latencies of the answered or closed ones, for percentiles */
    int64_t nlat, caplat;
};

static pthread_mutex_t tally_mu = PTHREAD_MUTEX_INITIALIZER;
static struct tally tallies[ECG_HL_KINDS];
static _Atomic int stop;
static _Atomic int dial_errno; /* why the last connection could not be made */

/* What the slow clients saw; written by their one thread, read after it is joined. */
#define SLOW_SHORT_S 5.0 /* a slow connection the server closed sooner was turned away (a limit), not timed out */
static struct {
    int64_t opened, dial_failed, closed_short, closed_long, answered, open_at_end;
    double held_longest;
} slowstat;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void pause_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* A connected socket from `from` (NULL: any address), reads and writes giving up after io_s; -1 on failure. */
static int dial(const struct options *o, const char *from, double io_s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {(time_t)io_s, (suseconds_t)((io_s - (double)(time_t)io_s) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET};
    if (from && (inet_pton(AF_INET, from, &a.sin_addr) != 1 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0))
        goto fail;
    a.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &a.sin_addr) != 1 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto fail;
    return fd;
fail:;
    int e = errno;
    atomic_store(&dial_errno, e);
    close(fd);
    errno = e;
    return -1;
}

enum { CLOSED = 0, HUNG = -1, UNCONNECTED = -2 }; /* what exchange() returns when there is no status */

/* Sends a request and reads the reply to the end (every request says Connection: close).  Returns the status,
 * CLOSED when the server closed without one, HUNG when nothing came within io_s, UNCONNECTED when no connection
 * was made within io_s; `from` is the client's address (NULL: any); `head` keeps the reply's first bytes.  With
 * hang_up the client sends and closes without waiting (the status is then CLOSED). */
static int exchange(const struct options *o, const char *from, const struct ecg_hl_request *q, char *head,
                    size_t cap)
{
    int fd = dial(o, from, o->io_s);
    if (fd < 0) {
        snprintf(head, cap, "no connection: %s", strerror(errno));
        return UNCONNECTED;
    }
    for (size_t at = 0; at < q->size;) { /* a server that answered early may close before the rest is sent */
        ssize_t n = send(fd, q->data + at, q->size - at, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        at += (size_t)n;
    }
    if (q->hang_up) {
        close(fd);
        return CLOSED;
    }
    size_t got = 0;
    int timed_out = 0;
    char sink[16384];
    for (;;) {
        char *dst = got + 1 < cap ? head + got : sink;
        size_t room = got + 1 < cap ? cap - 1 - got : sizeof sink;
        ssize_t n = recv(fd, dst, room, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            timed_out = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            break;
        }
        if (dst == head + got)
            got += (size_t)n;
    }
    close(fd);
    head[got] = '\0';
    int status = CLOSED;
    if (sscanf(head, "HTTP/1.%*d %d", &status) != 1 || status < 100 || status > 599)
        status = CLOSED;
    return status == CLOSED && timed_out ? HUNG : status;
}

/* Whether a reply of kind k is what it must get. */
static int as_expected(int kind, int status, const char *head)
{
    int want = ecg_hl_kinds[kind].expect;
    if (want == ECG_HL_ANY_4XX_OR_NONE)
        return status == CLOSED || (status >= 400 && status < 500);
    if (status != want)
        return 0;
    return kind != ECG_HL_VALID || strstr(head, "\"record\":\"A00592\"") != NULL;
}

static void record(int kind, int status, double seconds, const char *head)
{
    pthread_mutex_lock(&tally_mu);
    struct tally *t = &tallies[kind];
    t->sent++;
    if (status == HUNG)
        t->hangs++;
    else if (status == UNCONNECTED)
        t->unconnected++;
    else
        t->statuses[status]++;
    if (as_expected(kind, status, head))
        t->as_expected++;
    else if (t->sent - t->as_expected <= 3) /* the first few, to say what went wrong */
        fprintf(stderr, "hostile_load: %s: got %d: %.200s\n", ecg_hl_kinds[kind].name, status,
                strstr(head, "\r\n\r\n") ? strstr(head, "\r\n\r\n") + 4 : head);
    if (status >= 0) { /* answered or closed: how long it took (a close may come only at the idle timeout) */
        if (seconds > t->max_s)
            t->max_s = seconds;
        if (t->nlat == t->caplat) {
            int64_t cap = t->caplat ? 2 * t->caplat : 1024;
            double *g = realloc(t->lat, (size_t)cap * sizeof *g);
            if (g) {
                t->lat = g;
                t->caplat = cap;
            }
        }
        if (t->nlat < t->caplat)
            t->lat[t->nlat++] = seconds;
    }
    pthread_mutex_unlock(&tally_mu);
}

/* One request, tallied; returns its status (or CLOSED, HUNG, UNCONNECTED). */
static int run_one(const struct options *o, const char *from, int kind, const struct ecg_hl_request *q)
{
    char head[4096] = "";
    double t0 = now();
    int status = exchange(o, from, q, head, sizeof head);
    record(kind, status, now() - t0, head);
    return status;
}

struct client {
    const struct options *o;
    const struct ecg_hl_requests *reqs;
    unsigned seed;
};

/* A valid client: three uploads of the CinC record, then a health check, over and over; after a failure it
 * waits a little, as a client would, rather than counting thousands of refusals a second. */
static void *valid_client(void *arg)
{
    struct client *c = arg;
    for (int i = 0; !atomic_load(&stop); i++) {
        int kind = i % 4 == 3 ? ECG_HL_HEALTH : ECG_HL_VALID;
        if (run_one(c->o, NULL, kind, &c->reqs->fixed[kind]) != 200)
            pause_s(0.1);
    }
    return NULL;
}

/* A hostile client: a random malformed or oversized request, then the next. */
static void *malformed_client(void *arg)
{
    struct client *c = arg;
    struct ecg_hl_request q = {0};
    while (!atomic_load(&stop)) {
        int kind = ECG_HL_FIRST_HOSTILE + (int)(ecg_hl_rand(&c->seed) % (ECG_HL_KINDS - ECG_HL_FIRST_HOSTILE));
        const struct ecg_hl_request *r = ecg_hl_request_make(c->reqs, kind, &c->seed, &q);
        if (!r)
            break;
        run_one(c->o, kind == ECG_HL_CUT_OFF ? c->o->abandon_from : c->o->hostile_from, kind, r);
        pause_s(0.01); /* about a hundred a second per client: hostile, yet leaves the cores to the server */
    }
    ecg_hl_request_free(&q);
    return NULL;
}

/* One slow connection: it sends one byte every interval and never finishes. */
struct slow_conn {
    int fd, kind; /* kind: 0 headers a byte at a time, 1 body a byte at a time, 2 silent */
    double opened, next;
    size_t sent;
};

static void slow_open(const struct options *o, struct slow_conn *s, double t)
{
    s->fd = dial(o, o->slow_from, 1.0);
    s->sent = 0;
    s->opened = t;
    s->next = t + o->slow_interval_s;
    if (s->fd < 0) {
        slowstat.dial_failed++;
        s->next = t + 0.5;
        return;
    }
    slowstat.opened++;
    if (s->kind == 1) { /* complete headers at once, then a body that never completes */
        static const char h[] = "POST /v1/classify?fs=300 HTTP/1.1\r\nHost: ecgserve\r\nContent-Type: text/csv\r\n"
                                "Content-Length: 100000\r\n\r\n";
        if (send(s->fd, h, sizeof h - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(sizeof h - 1))
            s->next = t; /* found closed at the next step */
    }
}

/* The server closed s (or answered it): counts it and opens another half a second later. */
static void slow_closed(struct slow_conn *s, double t, int answered)
{
    double held = t - s->opened;
    if (answered)
        slowstat.answered++;
    else if (held < SLOW_SHORT_S)
        slowstat.closed_short++;
    else
        slowstat.closed_long++;
    if (held > slowstat.held_longest)
        slowstat.held_longest = held;
    close(s->fd);
    s->fd = -1;
    s->next = t + 0.5;
}

static void slow_step(const struct options *o, struct slow_conn *s, double t)
{
    static const char headers[] = "POST /v1/classify HTTP/1.1\r\nHost: ecgserve\r\n";
    static const char more[] = "X-Slow: a\r\n";
    if (s->fd < 0) {
        slow_open(o, s, t);
        return;
    }
    if (s->kind == 2)
        return;
    char byte = s->kind == 1   ? (s->sent % 2 ? '\n' : '1')
                : s->sent < sizeof headers - 1 ? headers[s->sent]
                                               : more[(s->sent - (sizeof headers - 1)) % (sizeof more - 1)];
    if (send(s->fd, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1 && errno != EAGAIN)
        slow_closed(s, t, 0);
    else
        s->sent++;
}

/* The slowloris: every slow connection in one thread, each sending a byte per interval; closed ones reopen. */
static void *slow_clients(void *arg)
{
    const struct options *o = arg;
    int n = o->slow;
    struct slow_conn *c = calloc((size_t)n, sizeof *c);
    struct pollfd *p = calloc((size_t)n, sizeof *p);
    if (!c || !p) {
        free(c);
        free(p);
        return NULL;
    }
    double t0 = now();
    for (int i = 0; i < n; i++)
        c[i] = (struct slow_conn){.fd = -1, .kind = i % 3, .next = t0 + o->slow_interval_s * i / n};
    while (!atomic_load(&stop)) {
        for (int i = 0; i < n; i++)
            p[i] = (struct pollfd){.fd = c[i].fd, .events = POLLIN};
        poll(p, (nfds_t)n, 50);
        double t = now();
        for (int i = 0; i < n; i++) {
            if (c[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                char buf[512];
                ssize_t got = recv(c[i].fd, buf, sizeof buf, MSG_DONTWAIT);
                if (got >= 0 || (errno != EAGAIN && errno != EINTR))
                    slow_closed(&c[i], t, got > 0);
            }
            if (t >= c[i].next) {
                slow_step(o, &c[i], t);
                c[i].next = c[i].fd >= 0 ? t + o->slow_interval_s : c[i].next;
            }
        }
    }
    double t = now();
    for (int i = 0; i < n; i++)
        if (c[i].fd >= 0) {
            slowstat.open_at_end += t - c[i].opened >= SLOW_SHORT_S;
            if (t - c[i].opened > slowstat.held_longest)
                slowstat.held_longest = t - c[i].opened;
            close(c[i].fd);
        }
    free(c);
    free(p);
    return NULL;
}

/* The server's VmRSS and VmHWM in MiB from /proc; 0 when it is gone. */
static int server_memory(int pid, double *rss, double *hwm)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            *rss = (double)kb / 1024.0;
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            *hwm = (double)kb / 1024.0;
    }
    fclose(f);
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const struct tally *t, double p)
{
    if (t->nlat == 0)
        return 0.0;
    int64_t i = (int64_t)(p * (double)(t->nlat - 1) + 0.5);
    return t->lat[i];
}

/* One line per kind: how many, what they got, latencies. */
static void print_kind(int k)
{
    struct tally *t = &tallies[k];
    if (t->nlat > 1) /* lat is NULL when nothing was answered, and qsort takes no NULL */
        qsort(t->lat, (size_t)t->nlat, sizeof *t->lat, cmp_double);
    char got[256] = "";
    size_t at = 0;
    for (int s = 0; s < 600 && at < sizeof got - 24; s++)
        if (t->statuses[s])
            at += (size_t)(s ? snprintf(got + at, sizeof got - at, "%s%lld x %d", at ? ", " : "",
                                        (long long)t->statuses[s], s)
                             : snprintf(got + at, sizeof got - at, "%s%lld closed", at ? ", " : "",
                                        (long long)t->statuses[s]));
    if (t->hangs && at < sizeof got)
        at += (size_t)snprintf(got + at, sizeof got - at, "%s%lld hung", at ? ", " : "", (long long)t->hangs);
    if (t->unconnected && at < sizeof got)
        snprintf(got + at, sizeof got - at, "%s%lld not connected", at ? ", " : "", (long long)t->unconnected);
    printf("  %-40s %6lld  %-28s p50 %6.3f s  p99 %6.3f s  max %6.3f s\n", ecg_hl_kinds[k].name,
           (long long)t->sent, got, percentile(t, 0.50), percentile(t, 0.99), t->max_s);
}

static int fail(const char *what)
{
    printf("FAIL: %s\n", what);
    return 1;
}

/* The server's memory in MiB: at the start, at the end of each tenth of the run (a leak shows as a climb),
 * the largest VmRSS sampled and the kernel's high-water mark. */
struct memory {
    double start, tenth[10], peak, hwm;
};

/* Prints the figures and returns the number of checks failed. */
static int report(const struct options *o, double elapsed, const struct memory *m, int alive, int health_after)
{
    printf("hostile_load: %.1f s against %s:%d (server pid %d)\n", elapsed, o->host, o->port, o->pid);
    printf("  %-40s %6s  %-28s time to the answer or the close\n", "kind", "sent", "got");
    for (int k = 0; k < ECG_HL_KINDS; k++)
        print_kind(k);
    printf("  slow clients from %s: %d at a time, a byte every %.1f s: %lld connections made (%lld attempts "
           "failed); the server closed %lld within %.0f s and %lld later, answered %lld; %lld held at the end, the "
           "longest %.1f s\n",
           o->slow_from, o->slow, o->slow_interval_s, (long long)slowstat.opened, (long long)slowstat.dial_failed,
           (long long)slowstat.closed_short, SLOW_SHORT_S, (long long)slowstat.closed_long,
           (long long)slowstat.answered, (long long)slowstat.open_at_end, slowstat.held_longest);
    if (atomic_load(&dial_errno))
        printf("  the last connection that could not be made: %s\n", strerror(atomic_load(&dial_errno)));
    printf("  server memory: VmRSS %.1f MiB at the start, %.1f MiB at most while sampled; VmHWM %.1f MiB "
           "(bound %.0f MiB)\n  VmRSS at the end of each tenth of the run (MiB):",
           m->start, m->peak, m->hwm, o->rss_mb);
    for (int i = 0; i < 10; i++)
        printf(" %.0f", m->tenth[i]);
    printf("\n");
    int failed = 0;
    const struct tally *v = &tallies[ECG_HL_VALID];
    char msg[256];
    if (!alive)
        failed += fail("the server process is gone");
    if (!health_after)
        failed += fail("GET /healthz after the load did not answer 200");
    if (v->sent < 3)
        failed += fail("fewer than 3 valid uploads were made");
    for (int k = 0; k < ECG_HL_KINDS; k++)
        if (tallies[k].as_expected != tallies[k].sent) {
            snprintf(msg, sizeof msg, "%s: %lld of %lld did not get %s", ecg_hl_kinds[k].name,
                     (long long)(tallies[k].sent - tallies[k].as_expected), (long long)tallies[k].sent,
                     ecg_hl_kinds[k].expect_text);
            failed += fail(msg);
        }
    for (int k = 0; k <= ECG_HL_HEALTH; k++) { /* tallies are sorted by print_kind */
        if (percentile(&tallies[k], 0.99) > o->p99_s) {
            snprintf(msg, sizeof msg, "%s: the 99th percentile of the answers is %.3f s, over the bound of %.1f s",
                     ecg_hl_kinds[k].name, percentile(&tallies[k], 0.99), o->p99_s);
            failed += fail(msg);
        }
        if (tallies[k].max_s > o->max_s) {
            snprintf(msg, sizeof msg, "%s: the slowest answer took %.3f s, over the bound of %.1f s",
                     ecg_hl_kinds[k].name, tallies[k].max_s, o->max_s);
            failed += fail(msg);
        }
    }
    if (m->hwm > o->rss_mb) {
        snprintf(msg, sizeof msg, "the server's peak resident memory %.1f MiB is over the bound of %.0f MiB", m->hwm,
                 o->rss_mb);
        failed += fail(msg);
    }
    printf("hostile_load: %s\n", failed ? "FAILED" : "pass");
    return failed;
}

static const char usage[] =
    "usage: hostile_load --port N --pid PID --records DIR [options]\n"
    "  --host ADDR            the server's address (default 127.0.0.1)\n"
    "  --seconds S            how long the load lasts (default 60)\n"
    "  --max-body-mb N        the server's --max-body-mb, to go beyond it (default 1)\n"
    "  --valid N              clients uploading the valid record (default 2)\n"
    "  --malformed N          clients sending malformed and oversized requests (default 2)\n"
    "  --slow N               slow connections held at once (default 150)\n"
    "  --hostile-from ADDR    the malformed clients' source address (default 127.0.0.3)\n"
    "  --abandon-from ADDR    that of those cutting a body off (default 127.0.0.4)\n"
    "  --slow-from ADDR       the slow clients' source address (default 127.0.0.2)\n"
    "  --slow-interval S      seconds between a slow client's bytes (default 1)\n"
    "  --p99-bound S          the 99th percentile of the valid answers allowed (default 2)\n"
    "  --max-bound S          the slowest valid answer allowed (default 15)\n"
    "  --rss-bound-mb N       the server's peak resident memory allowed (default 256)\n"
    "  --seed N               random bytes of the malformed requests (default 1)\n";

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.host = "127.0.0.1", .hostile_from = "127.0.0.3", .abandon_from = "127.0.0.4", .slow_from = "127.0.0.2", .max_body_mb = 1, .valid = 2,
                          .malformed = 2, .slow = 150, .seconds = 60, .p99_s = 2, .max_s = 15, .rss_mb = 256,
                          .io_s = 30, .slow_interval_s = 1, .seed = 1};
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},       {"port", required_argument, NULL, 'p'},
        {"pid", required_argument, NULL, 'P'},        {"records", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 's'},    {"max-body-mb", required_argument, NULL, 'b'},
        {"valid", required_argument, NULL, 'v'},      {"malformed", required_argument, NULL, 'm'},
        {"slow", required_argument, NULL, 'S'},       {"slow-from", required_argument, NULL, 'f'},
        {"hostile-from", required_argument, NULL, 'F'}, {"abandon-from", required_argument, NULL, 'A'},
        {"slow-interval", required_argument, NULL, 'i'}, {"p99-bound", required_argument, NULL, 'l'},
        {"max-bound", required_argument, NULL, 'M'},
        {"rss-bound-mb", required_argument, NULL, 'R'}, {"seed", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': o->host = optarg; break;
        case 'p': o->port = atoi(optarg); break;
        case 'P': o->pid = atoi(optarg); break;
        case 'r': o->records = optarg; break;
        case 's': o->seconds = atof(optarg); break;
        case 'b': o->max_body_mb = atoi(optarg); break;
        case 'v': o->valid = atoi(optarg); break;
        case 'm': o->malformed = atoi(optarg); break;
        case 'S': o->slow = atoi(optarg); break;
        case 'f': o->slow_from = optarg; break;
        case 'F': o->hostile_from = optarg; break;
        case 'A': o->abandon_from = optarg; break;
        case 'i': o->slow_interval_s = atof(optarg); break;
        case 'l': o->p99_s = atof(optarg); break;
        case 'M': o->max_s = atof(optarg); break;
        case 'R': o->rss_mb = atof(optarg); break;
        case 'x': o->seed = (unsigned)atoi(optarg); break;
        default: return -1;
        }
    }
    if (o->port <= 0 || o->pid <= 0 || !o->records || o->seconds <= 0 || o->max_body_mb < 1 || o->valid < 1 ||
        o->malformed < 0 || o->slow < 0 || o->slow_interval_s <= 0 || optind != argc)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o) != 0) {
        fputs(usage, stderr);
        return 2;
    }
    struct ecg_hl_requests reqs;
    char err[512];
    if (ecg_hl_requests_init(&reqs, o.records, (int64_t)o.max_body_mb << 20, err, sizeof err) != 0) {
        fprintf(stderr, "hostile_load: %s\n", err);
        return 2;
    }
    struct memory mem = {0};
    double rss = 0;
    server_memory(o.pid, &mem.start, &mem.hwm);
    int nthreads = o.valid + o.malformed + 1;
    pthread_t *t = calloc((size_t)nthreads, sizeof *t);
    struct client *cl = calloc((size_t)nthreads, sizeof *cl);
    if (!t || !cl)
        return 2;
    double t0 = now();
    int started = 0;
    for (int i = 0; i < nthreads; i++) {
        cl[i] = (struct client){&o, &reqs, o.seed * 7919u + (unsigned)i};
        void *(*fn)(void *) = i < o.valid ? valid_client : i < o.valid + o.malformed ? malformed_client : slow_clients;
        void *arg = fn == slow_clients ? (void *)&o : (void *)&cl[i];
        if (pthread_create(&t[started], NULL, fn, arg) == 0)
            started++;
    }
    int alive = 1;
    while (alive && now() - t0 < o.seconds) {
        pause_s(0.25);
        alive = server_memory(o.pid, &rss, &mem.hwm);
        if (rss > mem.peak)
            mem.peak = rss;
        int tenth = (int)(10.0 * (now() - t0) / o.seconds);
        mem.tenth[tenth < 10 ? tenth : 9] = rss;
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    double elapsed = now() - t0;
    char head[4096];
    int health = exchange(&o, NULL, &reqs.fixed[ECG_HL_HEALTH], head, sizeof head) == 200;
    alive = server_memory(o.pid, &rss, &mem.hwm);
    int failed = report(&o, elapsed, &mem, alive, health);
    for (int k = 0; k < ECG_HL_KINDS; k++)
        free(tallies[k].lat);
    ecg_hl_requests_free(&reqs);
    free(t);
    free(cl);
    return failed ? 1 : 0;
}
