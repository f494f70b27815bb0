/* Error message formatting and status names. */
#include "core/error.h"

#include <stdarg.h>
#include <string.h>

int ecg_error_set(struct ecg_error *err, enum ecg_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return (int)code;
}

int ecg_error_prefix(struct ecg_error *err, int status, const char *fmt, ...)
{
    if (!err)
        return status;
    char prefix[ECG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    int plen = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (plen < 0)
        return status;
    /* Shift the old message right to make room; truncate at the end if needed. */
    size_t head = strlen(prefix) + 2, cap = sizeof err->msg;
    if (head >= cap)
        head = cap - 1;
    size_t old = strnlen(err->msg, cap - 1);
    size_t keep = old + head < cap ? old : cap - 1 - head;
    memmove(err->msg + head, err->msg, keep);
    err->msg[head + keep] = '\0';
    memcpy(err->msg, prefix, head >= 2 ? head - 2 : head);
    if (head >= 2) {
        err->msg[head - 2] = ':';
        err->msg[head - 1] = ' ';
    }
    err->code = (enum ecg_status)status;
    return status;
}

void ecg_error_clear(struct ecg_error *err)
{
    if (err) {
        err->code = ECG_OK;
        err->msg[0] = '\0';
    }
}

const char *ecg_status_name(enum ecg_status code)
{
    switch (code) {
    case ECG_OK: return "ok";
    case ECG_ERR_IO: return "i/o error";
    case ECG_ERR_FORMAT: return "format error";
    case ECG_ERR_CONFIG: return "config error";
    case ECG_ERR_RANGE: return "value out of range";
    case ECG_ERR_SHAPE: return "shape mismatch";
    case ECG_ERR_VALUE: return "bad value";
    case ECG_ERR_NOMEM: return "out of memory";
    case ECG_ERR_USAGE: return "usage error";
    case ECG_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown error";
}

int ecg_status_exit_code(enum ecg_status code)
{
    switch (code) {
    case ECG_OK: return 0;
    case ECG_ERR_CONFIG:
    case ECG_ERR_RANGE:
    case ECG_ERR_USAGE: return 2;
    default: return 1;
    }
}
