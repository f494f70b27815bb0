/* Status codes and error messages for everything a user can cause; asserts for our own bugs. */
#ifndef ECG_CORE_ERROR_H
#define ECG_CORE_ERROR_H

#include <stdio.h>
#include <stdlib.h>

/*
 * Error model.
 *
 * - A fallible function returns an `int` status (ECG_OK == 0) and takes a
 *   `struct ecg_error *err` as its last argument.  On failure it fills `err`
 *   with one message that names the file, key, layer or record involved, what
 *   was expected and what was found, and returns the same nonzero status.
 * - Callers that add context prepend it with ecg_error_prefix(), so a message
 *   reads from the outside in: "configs/x.yaml: model.arch: expected ...".
 *   It takes and returns the status it passes up, never reading it from err.
 * - `err` may be NULL when the caller does not want the text.
 * - Bugs in ecgtrain itself are not statuses: ECG_ASSERT aborts with
 *   file:line, in every build type.
 * - Only the programs in tools/ decide to exit.
 */

enum ecg_status {
    ECG_OK = 0,
    ECG_ERR_IO,       /* a file could not be opened, read or written   */
    ECG_ERR_FORMAT,   /* a file's contents are not what its format says */
    ECG_ERR_CONFIG,   /* bad YAML, unknown key, wrong type              */
    ECG_ERR_RANGE,    /* a value outside its allowed range              */
    ECG_ERR_SHAPE,    /* tensor or weight shapes disagree               */
    ECG_ERR_VALUE,    /* NaN, infinity, empty data and the like         */
    ECG_ERR_NOMEM,    /* an allocation failed or a size overflowed      */
    ECG_ERR_USAGE,    /* wrong command-line usage                       */
    ECG_ERR_INTERRUPTED, /* stopped on request (signal)                 */
};

#define ECG_ERROR_MAX 2048

struct ecg_error {
    enum ecg_status code;
    char msg[ECG_ERROR_MAX];
};

/* Sets err (if not NULL) to code and the formatted message; returns code. */
int ecg_error_set(struct ecg_error *err, enum ecg_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "<formatted>: " to the message already in err (if not NULL) and
 * returns `status`, the failure being passed up.  The status is an argument,
 * not read back from err, so the failure survives a caller that passed no
 * error struct:  `if (rc) return ecg_error_prefix(err, rc, "run.dir");` */
int ecg_error_prefix(struct ecg_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err to ECG_OK with an empty message. */
void ecg_error_clear(struct ecg_error *err);

/* A short English name of a status ("i/o error", "config error", ...). */
const char *ecg_status_name(enum ecg_status code);

/* The exit code a program uses for a status: 0 ok, 2 usage/config, 1 other. */
int ecg_status_exit_code(enum ecg_status code);

/* Always-on assertion for invariants of our own code. */
#define ECG_ASSERT(cond)                                                              \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", __FILE__, \
                    __LINE__, #cond);                                                 \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* Propagates a nonzero status from a call. */
#define ECG_TRY(call)            \
    do {                         \
        int ecg_try_rc_ = (call); \
        if (ecg_try_rc_)         \
            return ecg_try_rc_;  \
    } while (0)

#endif
