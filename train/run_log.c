/* train.log: a thread copies the pipes that stand in for stdout and stderr to the terminal and, cleaned, to the file. */
#define _GNU_SOURCE /* pipe2 */
#include "train/run_log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/file.h"

enum { LINE_MAX_BYTES = 8192 };

/* One of stdout, stderr: its pipe, the original descriptor and the line being cleaned. */
struct stream {
    int fd;        /* 1 or 2 */
    int saved;     /* the original descriptor, duplicated */
    int rd;        /* read end of the pipe now at `fd`; -1 at end of file */
    int esc;       /* 0 text, 1 after ESC, 2 in a CSI sequence, 3 in an OSC string */
    size_t len;
    char line[LINE_MAX_BYTES + 1]; /* + its newline */
};

/* Process-wide by nature: descriptors 1 and 2 are. */
static struct {
    bool on;
    pid_t owner;
    int stop[2];
    int file;               /* the log's descriptor, -1 when none */
    char path[4096];
    atomic_int file_error;  /* errno of the first failed write to the file: later lines are dropped */
    bool reported;          /* ecg_run_log_check() has returned file_error */
    pthread_t thread;
    struct stream s[2];
} run_copy;

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* the terminal went away: keep the file going */
        p += w;
        n -= (size_t)w;
    }
}

static void end_line(struct stream *s)
{
    s->line[s->len++] = '\n';
    if (atomic_load(&run_copy.file_error) == 0) {
        int e = ecg_file_write_fd(run_copy.file, s->line, s->len);
        if (e)
            atomic_store(&run_copy.file_error, e);
    }
    s->len = 0;
}

/* Feeds bytes of one stream to the file: drops control sequences and bytes, keeps the last state of a '\r' line. */
static void clean(struct stream *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (s->esc == 1) {
            s->esc = c == '[' ? 2 : c == ']' ? 3 : 0;
            continue;
        }
        if (s->esc == 2) { /* parameters, then one final byte in @..~ */
            if (c >= 0x40 && c <= 0x7E)
                s->esc = 0;
            continue;
        }
        if (s->esc == 3) { /* ends at BEL or ESC (of ESC \) */
            if (c == 0x07)
                s->esc = 0;
            else if (c == 0x1B)
                s->esc = 1;
            continue;
        }
        if (c == 0x1B)
            s->esc = 1;
        else if (c == '\n')
            end_line(s);
        else if (c == '\r')
            s->len = 0;
        else if (c >= 0x20 || c == '\t') {
            if (s->len == LINE_MAX_BYTES)
                end_line(s);
            s->line[s->len++] = (char)c;
        }
    }
}

/* Moves one read's worth of the pipe of `s` on: 1 when it moved bytes, 0 at end of file, -1 when
 * nothing was there (a non-blocking pipe) or the read failed. */
static int pump(struct stream *s)
{
    char buf[4096];
    ssize_t n;
    do
        n = read(s->rd, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return n == 0 ? 0 : -1;
    write_all(s->saved, buf, (size_t)n);
    clean(s, buf, (size_t)n);
    return 1;
}

static void *copy_loop(void *arg)
{
    (void)arg;
    for (;;) {
        struct pollfd pf[3] = {{.fd = run_copy.s[0].rd, .events = POLLIN},
                               {.fd = run_copy.s[1].rd, .events = POLLIN},
                               {.fd = run_copy.stop[0], .events = POLLIN}};
        if (poll(pf, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++)
            if (run_copy.s[i].rd >= 0 && (pf[i].revents & (POLLIN | POLLHUP)) && pump(&run_copy.s[i]) <= 0) {
                close(run_copy.s[i].rd);
                run_copy.s[i].rd = -1; /* poll ignores a negative descriptor */
            }
        if (pf[2].revents)
            break;
    }
    /* Stopping: the process's own writes are all in the pipes by now; take what is there and no
     * more (a child process that still holds a write end must not keep us waiting). */
    for (int i = 0; i < 2; i++) {
        if (run_copy.s[i].rd < 0)
            continue;
        fcntl(run_copy.s[i].rd, F_SETFL, O_NONBLOCK);
        while (pump(&run_copy.s[i]) > 0)
            ;
        close(run_copy.s[i].rd);
        run_copy.s[i].rd = -1;
        if (run_copy.s[i].len > 0)
            end_line(&run_copy.s[i]);
    }
    return NULL;
}

static void close_quietly(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

void ecg_run_log_stop(void)
{
    if (!run_copy.on)
        return;
    run_copy.on = false;
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 2; i++) /* closes the write ends that stood at 1 and 2 */
        dup2(run_copy.s[i].saved, run_copy.s[i].fd);
    if (run_copy.owner == getpid()) {
        write_all(run_copy.stop[1], "x", 1);
        pthread_join(run_copy.thread, NULL); /* it still writes the rest to the saved descriptors */
        if (close(run_copy.file) != 0 && atomic_load(&run_copy.file_error) == 0)
            atomic_store(&run_copy.file_error, errno);
    } else { /* a forked child: the copying thread lives in the parent only */
        for (int i = 0; i < 2; i++)
            close_quietly(&run_copy.s[i].rd);
    }
    for (int i = 0; i < 2; i++)
        close_quietly(&run_copy.s[i].saved);
    if (run_copy.owner != getpid())
        close_quietly(&run_copy.file);
    run_copy.file = -1;
    close_quietly(&run_copy.stop[0]);
    close_quietly(&run_copy.stop[1]);
}

/* Puts a pipe's write end at `fd` (the original kept in s->saved); its read end goes to s->rd. */
static int redirect(struct stream *s, int fd)
{
    int p[2];
    s->fd = fd;
    s->esc = 0;
    s->len = 0;
    s->saved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (s->saved < 0 || pipe2(p, O_CLOEXEC) != 0) {
        close_quietly(&s->saved);
        return -1;
    }
    s->rd = p[0];
    int ok = dup2(p[1], fd) >= 0; /* the copy at fd is inherited by children, unlike p[1] */
    close(p[1]);
    if (!ok) {
        close_quietly(&s->rd);
        close_quietly(&s->saved);
        return -1;
    }
    return 0;
}

int ecg_run_log_start(const char *path, bool append, struct ecg_error *err)
{
    static bool registered;
    ecg_run_log_stop();
    int f = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0666);
    if (f < 0)
        return ecg_error_set(err, ECG_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    fflush(stdout);
    fflush(stderr);
    run_copy.file = f;
    snprintf(run_copy.path, sizeof run_copy.path, "%s", path);
    atomic_store(&run_copy.file_error, 0);
    run_copy.reported = false;
    run_copy.owner = getpid();
    run_copy.stop[0] = run_copy.stop[1] = run_copy.s[0].rd = run_copy.s[1].rd = run_copy.s[0].saved = run_copy.s[1].saved = -1;
    int e = 0;
    if (pipe2(run_copy.stop, O_CLOEXEC) != 0 || redirect(&run_copy.s[0], 1) != 0)
        e = errno;
    else if (redirect(&run_copy.s[1], 2) != 0) {
        e = errno;
        dup2(run_copy.s[0].saved, 1);
    } else if ((e = pthread_create(&run_copy.thread, NULL, copy_loop, NULL)) != 0) {
        dup2(run_copy.s[0].saved, 1);
        dup2(run_copy.s[1].saved, 2);
    }
    if (e) {
        for (int i = 0; i < 2; i++) {
            close_quietly(&run_copy.s[i].rd);
            close_quietly(&run_copy.s[i].saved);
        }
        close_quietly(&run_copy.stop[0]);
        close_quietly(&run_copy.stop[1]);
        close(f);
        run_copy.file = -1;
        return ecg_error_set(err, ECG_ERR_IO, "cannot copy the terminal output to %s: %s", path, strerror(e));
    }
    run_copy.on = true;
    if (!registered && atexit(ecg_run_log_stop) == 0)
        registered = true;
    return ECG_OK;
}

bool ecg_run_log_isatty(int fd)
{
    if (run_copy.on && (fd == 1 || fd == 2))
        return isatty(run_copy.s[fd - 1].saved);
    return isatty(fd);
}

int ecg_run_log_check(struct ecg_error *err)
{
    int e = atomic_load(&run_copy.file_error);
    if (e == 0 || run_copy.reported)
        return ECG_OK;
    run_copy.reported = true;
    return ecg_error_set(err, ECG_ERR_IO, "%s: cannot write: %s", run_copy.path, strerror(e));
}

int ecg_run_log_finish(struct ecg_error *err)
{
    ecg_run_log_stop();
    return ecg_run_log_check(err);
}
