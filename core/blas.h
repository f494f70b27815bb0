/* The one thin wrapper around CBLAS, and thread-count control for BLAS and OpenMP. */
#ifndef ECG_CORE_BLAS_H
#define ECG_CORE_BLAS_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Row-major single-precision GEMM:
 *   C (m x n) = alpha * op(A) (m x k) * op(B) (k x n) + beta * C
 * op(X) is X or its transpose.  lda/ldb/ldc are row strides in floats.
 * Extents are int64_t here and checked against the BLAS integer width.
 *
 * Call it from outside OpenMP parallel regions: OpenBLAS runs its own
 * threads, and nesting them inside ours oversubscribes the cores.
 */
void ecg_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
               int64_t ldc);

/*
 * Call first thing in main(): chooses, for this process, what OpenBLAS and
 * OpenMP read only when they load, and starts the program again once so
 * they see it.  Debian's OpenBLAS 0.3.21 does not recognise recent Xeons and
 * falls back to SSE3 kernels about 4x slower than its AVX-512 or AVX2 ones,
 * so when OPENBLAS_CORETYPE is unset it is set from the CPU's instruction
 * set (SkylakeX with AVX-512, Haswell with AVX2 and FMA).  When
 * OMP_WAIT_POLICY is unset it is set to passive: spinning OpenMP threads
 * otherwise take the cores from OpenBLAS's own threads between parallel
 * regions.  A value the user set is kept.  ECG_NO_REEXEC=1 turns this off.
 */
void ecg_process_tune(char **argv);

/*
 * Thread count.  OpenBLAS keeps one count for the whole process, so this is
 * a process-wide setting by nature: a program sets it once at start (from
 * run.threads), before it starts threads of its own, and library code never
 * changes it per call; nothing on the inference path does.
 *
 * ecg_threads_set(n) (n >= 1) sets OpenBLAS's count and OpenMP's for the
 * calling thread.  OpenMP keeps its count per thread: a thread the program
 * starts itself (pthread_create, a server's worker) begins with OpenMP's
 * default (OMP_NUM_THREADS or every core), not with the count set in main,
 * so it calls ecg_threads_adopt() once before it runs a model.
 */
void ecg_threads_set(int n);
/* The thread count in force (any thread may ask). */
int ecg_threads_get(void);
/* Makes the calling thread's OpenMP loops use the process's thread count. */
void ecg_threads_adopt(void);

#endif
