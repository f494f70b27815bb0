/* fork + setrlimit + pipe: a child process for parsers that must not take the server down. */
#include "serve/sandbox.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

int ecg_sandbox_write(struct ecg_sandbox_out *o, const void *p, size_t n, struct ecg_error *err)
{
    if (o->size + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->size + n)
            cap *= 2;
        unsigned char *g = realloc(o->data, cap);
        if (!g)
            return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for a %zu-byte result", cap);
        o->data = g;
        o->cap = cap;
    }
    memcpy(o->data + o->size, p, n);
    o->size += n;
    return ECG_OK;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The child: limits, work, one message {status byte, payload}, _exit. */
__attribute__((noreturn)) static void child(int fd, ecg_sandbox_fn fn, void *arg,
                                            const struct ecg_sandbox_limits *lim)
{
    struct rlimit none = {0, 0}, cpu = {(rlim_t)lim->cpu_s, (rlim_t)lim->cpu_s + 1};
    signal(SIGINT, SIG_DFL); /* the server's stop handlers are the parent's business (Ctrl-C reaches both) */
    signal(SIGTERM, SIG_DFL);
    /* A crash ends the child with its signal, which the parent reports: a handler the process installed
     * (a sanitizer's turns a segmentation fault into exit status 1) would hide what happened. */
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], SIG_DFL);
    setrlimit(RLIMIT_CORE, &none);
    setrlimit(RLIMIT_CPU, &cpu);
    if (lim->memory_bytes > 0) {
        struct rlimit as = {(rlim_t)lim->memory_bytes, (rlim_t)lim->memory_bytes};
        setrlimit(RLIMIT_AS, &as);
    }
    struct ecg_sandbox_out out = {0};
    struct ecg_error err = {0};
    int rc = fn(arg, &out, &err);
    unsigned char status = (unsigned char)rc;
    int bad = write_all(fd, &status, 1) ||
              (rc ? write_all(fd, err.msg, strlen(err.msg)) : write_all(fd, out.data, out.size));
    _exit(bad ? 3 : 0);
}

/* Reads the child's message until EOF, the deadline or the size limit; returns 0 at EOF, 1 on timeout, 2 when
 * too big. */
static int collect(int fd, const struct ecg_sandbox_limits *lim, struct ecg_sandbox_out *o,
                   struct ecg_error *err)
{
    double deadline = ecg_now() + lim->wall_s;
    unsigned char buf[65536];
    for (;;) {
        double left = deadline - ecg_now();
        if (left <= 0)
            return 1;
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (o->size + (size_t)n > lim->max_output + 1)
            return 2;
        if (ecg_sandbox_write(o, buf, (size_t)n, err))
            return 2;
    }
}

int ecg_sandbox_run(ecg_sandbox_fn fn, void *arg, const struct ecg_sandbox_limits *lim, const char *what,
                    unsigned char **out, size_t *size, struct ecg_error *err)
{
    *out = NULL;
    *size = 0;
    int fds[2];
    if (pipe(fds) != 0)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot create a pipe: %s", what, strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot start a parser process: %s", what, strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], fn, arg, lim);
    }
    close(fds[1]);
    struct ecg_sandbox_out o = {0};
    int how = collect(fds[0], lim, &o, err);
    close(fds[0]);
    if (how)
        kill(pid, SIGKILL);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    int rc;
    if (how == 1)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: the parser took longer than %g s and was stopped", what,
                           lim->wall_s);
    else if (how == 2)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: the parsed result exceeds %zu bytes", what,
                           lim->max_output);
    else if (WIFSIGNALED(st))
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           WTERMSIG(st) == SIGXCPU
                               ? "%s: the parser used more than its CPU time and was stopped "
                                 "(signal %d, %s)"
                               : "%s: the parser crashed on this file (signal %d, %s)",
                           what, WTERMSIG(st), strsignal(WTERMSIG(st)));
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || o.size < 1)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: the parser ended without a result (exit status %d)",
                           what, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    else if (o.data[0] != 0)
        rc = ecg_error_set(err, (enum ecg_status)o.data[0], "%.*s", (int)(o.size - 1),
                           (const char *)o.data + 1);
    else {
        memmove(o.data, o.data + 1, o.size - 1);
        *out = o.data;
        *size = o.size - 1;
        return ECG_OK;
    }
    free(o.data);
    return rc;
}
