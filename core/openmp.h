/* OpenMP's runtime routines, or in a build without OpenMP (-Dopenmp=disabled) their serial stand-ins. */
#ifndef ECG_CORE_OPENMP_H
#define ECG_CORE_OPENMP_H

#ifdef _OPENMP
#include <omp.h>
#else
/*
 * The stand-ins behave as the OpenMP specification's stub routines do, so code that splits work by
 * omp_get_thread_num() of omp_get_num_threads() takes the whole range: one thread, number 0.  The
 * thread count that ecg_threads_set() and ecg_threads_adopt() write is kept per thread, as OpenMP
 * keeps it, so what they promise still holds (core/blas.h); it only decides nothing here.
 */
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
void omp_set_num_threads(int n);
int omp_get_num_procs(void);
double omp_get_wtime(void);
#endif

#endif
