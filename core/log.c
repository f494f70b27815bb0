/* Leveled logging and the monotonic clock. */
#define _POSIX_C_SOURCE 200809L
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum ecg_log_level min_level = ECG_LOG_INFO;

void ecg_log_set_level(enum ecg_log_level level) { min_level = level; }
enum ecg_log_level ecg_log_get_level(void) { return min_level; }

void ecg_log(enum ecg_log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return;
    static const char *const prefix[] = {"debug: ", "", "warning: ", "error: ", ""};
    fputs(prefix[level], stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

double ecg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
