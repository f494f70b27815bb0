/* Runs a parser in a child process with resource limits, so a crash or a hang in a library costs one request.
 */
#ifndef ECG_SERVE_SANDBOX_H
#define ECG_SERVE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct ecg_sandbox_limits {
    double wall_s;        /* the child is killed after this long */
    int64_t cpu_s;        /* RLIMIT_CPU */
    int64_t memory_bytes; /* RLIMIT_AS; 0 = none (sanitizer builds cannot take one: their shadow memory is
                             huge) */
    size_t max_output;    /* a longer result kills the child */
};

/* A growing byte buffer the child function writes its result into. */
struct ecg_sandbox_out {
    unsigned char *data;
    size_t size, cap;
};

/* Appends n bytes; ECG_ERR_NOMEM when memory runs out (e.g. at the memory limit). */
int ecg_sandbox_write(struct ecg_sandbox_out *o, const void *p, size_t n, struct ecg_error *err);

/* The child's work: fills `out` or returns a status with a message. */
typedef int (*ecg_sandbox_fn)(void *arg, struct ecg_sandbox_out *out, struct ecg_error *err);

/*
 * Forks; the child sets the limits (and no core files), runs fn and sends
 * its status and result (or message) through a pipe, then _exits.  The
 * parent collects the result into *out (malloc'd, *size bytes) or returns the
 * child's status and message.  A child killed by a signal, over the time
 * limit or over max_output is ECG_ERR_FORMAT with a message that starts with
 * `what` and says which ("crashed (signal 11, Segmentation fault)", "took
 * longer than 5 s").  The child never returns into the caller's code.
 */
int ecg_sandbox_run(ecg_sandbox_fn fn, void *arg, const struct ecg_sandbox_limits *lim, const char *what,
                    unsigned char **out, size_t *size, struct ecg_error *err);

#endif
