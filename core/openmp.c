/* Serial stand-ins for OpenMP's runtime routines, compiled only in a build without OpenMP. */
#include "core/openmp.h"

#ifndef _OPENMP
#include <time.h>
#include <unistd.h>

/* OpenMP's nthreads-var, per thread; 1 until set, the count that runs here in any case. */
static _Thread_local int max_threads = 1;

int omp_get_thread_num(void) { return 0; }

int omp_get_num_threads(void) { return 1; }

int omp_get_max_threads(void) { return max_threads; }

void omp_set_num_threads(int n)
{
    if (n >= 1)
        max_threads = n;
}

int omp_get_num_procs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

double omp_get_wtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif
