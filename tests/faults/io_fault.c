/* A preloaded library (LD_PRELOAD) that makes write, fsync, fdatasync or rename fail, write short or kill the process, for tests. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * What to break, read from the environment at every call (a test may change it between calls):
 *   ECG_FAULT_OP      the calls concerned, a comma list of write, fsync (also fdatasync), rename
 *   ECG_FAULT_PATH    only for files whose path ends with this (rename: either name); unset: all
 *   ECG_FAULT_NTH     the first matching call that is broken, counting from 1 (default 1); every
 *                     later matching call is broken too, as a full disk stays full
 *   ECG_FAULT_ACTION  ENOSPC or EIO: fail with that errno, doing nothing
 *                     short: a write stores at most half of what it was asked (at least a byte)
 *                     kill: SIGKILL before the call; kill-after: SIGKILL after it
 * The count starts again whenever these values change.  Only calls through the dynamic symbols
 * are seen: ecgtrain's own write(2) loops, fsync and rename, not the writes inside stdio.
 */

static char spec_seen[8192];
static pthread_mutex_t spec_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_long matched;

/* Resets the count when the environment names a different fault than at the last call. */
static void follow_spec(void)
{
    char spec[8192];
    const char *keys[] = {"ECG_FAULT_OP", "ECG_FAULT_PATH", "ECG_FAULT_NTH", "ECG_FAULT_ACTION"};
    size_t used = 0;
    for (int i = 0; i < 4 && used < sizeof spec; i++) {
        const char *v = getenv(keys[i]);
        used += (size_t)snprintf(spec + used, sizeof spec - used, "%s\n", v ? v : "");
    }
    pthread_mutex_lock(&spec_lock);
    if (strcmp(spec, spec_seen) != 0) {
        snprintf(spec_seen, sizeof spec_seen, "%s", spec);
        atomic_store(&matched, 0);
    }
    pthread_mutex_unlock(&spec_lock);
}

static int op_listed(const char *op)
{
    const char *list = getenv("ECG_FAULT_OP");
    size_t n = strlen(op);
    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncmp(p, op, n) == 0)
            return 1;
        p = end ? end + 1 : p + len;
    }
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int path_matches(const char *path)
{
    const char *want = getenv("ECG_FAULT_PATH");
    return !want || !want[0] || (path && ends_with(path, want));
}

static int fd_matches(int fd)
{
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0)
        return path_matches(NULL);
    path[n] = '\0';
    return path_matches(path);
}

enum action { NONE, FAIL, SHORT, KILL_BEFORE, KILL_AFTER };

/* What to do with this call of `op` on a file that matched (or not). */
static enum action decide(const char *op, int file_matches, int *err)
{
    if (!getenv("ECG_FAULT_OP"))
        return NONE;
    follow_spec();
    if (!op_listed(op) || !file_matches)
        return NONE;
    const char *nth_text = getenv("ECG_FAULT_NTH");
    long nth = nth_text ? atol(nth_text) : 1;
    if (atomic_fetch_add(&matched, 1) + 1 < nth)
        return NONE;
    const char *a = getenv("ECG_FAULT_ACTION");
    a = a ? a : "";
    if (strcmp(a, "ENOSPC") == 0 || strcmp(a, "EIO") == 0) {
        *err = a[1] == 'N' ? ENOSPC : EIO;
        return FAIL;
    }
    if (strcmp(a, "short") == 0)
        return SHORT;
    if (strcmp(a, "kill") == 0)
        return KILL_BEFORE;
    if (strcmp(a, "kill-after") == 0)
        return KILL_AFTER;
    return NONE;
}

static void die(void)
{
    kill(getpid(), SIGKILL);
    _exit(137); /* not reached */
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    int e = 0;
    enum action act = getenv("ECG_FAULT_OP") ? decide("write", fd_matches(fd), &e) : NONE;
    if (act == FAIL) {
        errno = e;
        return -1;
    }
    if (act == KILL_BEFORE)
        die();
    ssize_t r = real(fd, buf, act == SHORT && n > 1 ? n / 2 : n);
    if (act == KILL_AFTER)
        die();
    return r;
}

static int sync_call(const char *symbol, int fd)
{
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, symbol);
    int e = 0;
    enum action act = decide("fsync", fd_matches(fd), &e);
    if (act == FAIL) {
        errno = e;
        return -1;
    }
    if (act == KILL_BEFORE)
        die();
    int r = real(fd);
    if (act == KILL_AFTER)
        die();
    return r;
}

int fsync(int fd) { return sync_call("fsync", fd); }

int fdatasync(int fd) { return sync_call("fdatasync", fd); }

int rename(const char *from, const char *to)
{
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    int e = 0;
    enum action act = decide("rename", path_matches(from) || path_matches(to), &e);
    if (act == FAIL) {
        errno = e;
        return -1;
    }
    if (act == KILL_BEFORE)
        die();
    int r = real(from, to);
    if (act == KILL_AFTER)
        die();
    return r;
}
