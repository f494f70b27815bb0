/* Leveled logging and the monotonic clock. */
#define _POSIX_C_SOURCE 200809L
#include "core/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Process-wide, read on every call from any thread: atomic, relaxed (no data is published through it). */
static _Atomic int min_level = ECG_LOG_INFO;

void ecg_log_set_level(enum ecg_log_level level)
{
    atomic_store_explicit(&min_level, (int)level, memory_order_relaxed);
}

enum ecg_log_level ecg_log_get_level(void)
{
    return (enum ecg_log_level)atomic_load_explicit(&min_level, memory_order_relaxed);
}

void ecg_log(enum ecg_log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load_explicit(&min_level, memory_order_relaxed))
        return;
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: ", ""};
    /* The whole line is formatted first and written with one call under the
     * stream's lock, so lines from several threads never interleave. */
    char small[1024];
    char *line = small;
    int plen = snprintf(small, sizeof small, "%s", prefix[level]);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small + plen, sizeof small - (size_t)plen - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)(plen + n) >= sizeof small - 1) {
        line = malloc((size_t)plen + (size_t)n + 2);
        if (!line) { /* no memory for a long line: write what fits */
            line = small;
            n = (int)(sizeof small - 2) - plen;
        } else {
            memcpy(line, small, (size_t)plen);
            va_start(ap, fmt);
            vsnprintf(line + plen, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    line[plen + n] = '\n';
    flockfile(stderr);
    fwrite(line, 1, (size_t)(plen + n + 1), stderr);
    fflush(stderr);
    funlockfile(stderr);
    if (line != small)
        free(line);
}

double ecg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
