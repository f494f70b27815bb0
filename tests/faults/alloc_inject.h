/* Allocation-failure injection for tests: the k-th allocation made by ecgtrain's own code fails. */
#ifndef ECG_TESTS_ALLOC_INJECT_H
#define ECG_TESTS_ALLOC_INJECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A program linked with
 *     -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,
 *     --wrap=aligned_alloc,--wrap=open_memstream,--wrap=fftwf_malloc
 * sends every call to those functions from the objects of the link (ecgtrain's
 * static libraries and the test itself) through the __wrap_ functions of
 * alloc_inject.c.  Shared libraries (HDF5, libyaml, expat, FFTW's planner,
 * OpenBLAS, libgomp, libc's own FILE buffers) resolve their calls at run time
 * and are not injected.
 *
 * While armed, every such call is counted (from any thread); the call whose
 * number equals the target fails as the real function fails when memory runs
 * out (NULL, errno ENOMEM), once.  realloc to zero bytes is counted but never
 * failed (its NULL would mean "freed").
 */

/* Starts counting from zero; allocation number `fail_at` (1-based) will fail; 0 fails none. */
void ecg_alloc_inject_arm(int64_t fail_at);

/* Stops counting and failing; returns the number of allocations counted since the arm. */
int64_t ecg_alloc_inject_disarm(void);

/* Whether the armed failure happened (the count reached the target). */
bool ecg_alloc_inject_failed(void);

/* Prints the call stack of the allocation that was made to fail (symbols when available). */
void ecg_alloc_inject_print_site(FILE *f);

/* Writes "<number> <caller> <monotonic seconds>" for every counted allocation to f (NULL: stop), to see
 * where and when they happen. */
void ecg_alloc_inject_trace(FILE *f);

#endif
