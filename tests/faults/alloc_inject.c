/* The __wrap_ allocation functions of the allocation-failure tests: count every call, fail the chosen one. */
#define _GNU_SOURCE
#include "tests/faults/alloc_inject.h"

#include <errno.h>
#include <execinfo.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SITE_DEPTH 24

static atomic_bool armed;
static atomic_llong calls;
static long long target;
static atomic_bool failed;
static void *site[SITE_DEPTH];
static int site_depth;
static FILE *trace;

void ecg_alloc_inject_arm(int64_t fail_at)
{
    atomic_store(&armed, false);
    target = fail_at;
    atomic_store(&calls, 0);
    atomic_store(&failed, false);
    site_depth = 0;
    atomic_store(&armed, true);
}

int64_t ecg_alloc_inject_disarm(void)
{
    atomic_store(&armed, false);
    return atomic_load(&calls);
}

bool ecg_alloc_inject_failed(void) { return atomic_load(&failed); }

void ecg_alloc_inject_print_site(FILE *f)
{
    if (site_depth == 0)
        return;
    fflush(f);
    backtrace_symbols_fd(site, site_depth, fileno(f));
}

void ecg_alloc_inject_trace(FILE *f) { trace = f; }

/* One line per counted call: its number, the code that made it and the time. */
static void trace_call(long long number, void *caller)
{
    char **names = backtrace_symbols(&caller, 1);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fprintf(trace, "%lld %s %.6f\n", number, names ? names[0] : "?", (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
    free(names);
}

/* Counts one call made from `caller`; true when this one must fail. */
static bool fail_now(void *caller)
{
    if (!atomic_load_explicit(&armed, memory_order_relaxed))
        return false;
    long long number = atomic_fetch_add(&calls, 1) + 1;
    if (trace)
        trace_call(number, caller);
    if (number != target)
        return false;
    atomic_store(&failed, true);
    site_depth = backtrace(site, SITE_DEPTH); /* its own allocations are libc's, not counted */
    errno = ENOMEM;
    return true;
}

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
void *__real_aligned_alloc(size_t align, size_t size);
FILE *__real_open_memstream(char **buf, size_t *size);
void *__real_fftwf_malloc(size_t size);

/* Each wrapper fails as the real function does when memory runs out (NULL, errno ENOMEM); the caller is
 * the wrapper's return address. */
#define FAILS_NOW fail_now(__builtin_return_address(0))

void *__wrap_malloc(size_t size) { return FAILS_NOW ? NULL : __real_malloc(size); }
void *__wrap_calloc(size_t n, size_t size) { return FAILS_NOW ? NULL : __real_calloc(n, size); }
char *__wrap_strdup(const char *s) { return FAILS_NOW ? NULL : __real_strdup(s); }
void *__wrap_aligned_alloc(size_t align, size_t size) { return FAILS_NOW ? NULL : __real_aligned_alloc(align, size); }
FILE *__wrap_open_memstream(char **buf, size_t *size) { return FAILS_NOW ? NULL : __real_open_memstream(buf, size); }
void *__wrap_fftwf_malloc(size_t size) { return FAILS_NOW ? NULL : __real_fftwf_malloc(size); }

/* realloc to zero bytes frees: counted, never failed (its NULL would mean "freed"). */
void *__wrap_realloc(void *p, size_t size)
{
    if (size == 0) {
        if (atomic_load_explicit(&armed, memory_order_relaxed))
            atomic_fetch_add(&calls, 1);
        return __real_realloc(p, size);
    }
    return FAILS_NOW ? NULL : __real_realloc(p, size);
}
