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

/* Sets the thread count of both OpenMP and OpenBLAS (n >= 1). */
void ecg_threads_set(int n);
/* The thread count in force. */
int ecg_threads_get(void);

#endif
