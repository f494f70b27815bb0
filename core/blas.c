/* CBLAS sgemm wrapper and thread-count control. */
#include "core/blas.h"

#include <cblas.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/error.h"
#include "core/openmp.h"

/* Declared by OpenBLAS's own cblas.h, but not by every cblas.h the
 * alternatives system can point at; the symbol is in libopenblas. */
void openblas_set_num_threads(int num_threads);

/* Process-wide like OpenBLAS's own count; atomic because any thread may read it. */
static _Atomic int threads_in_force = 1;

void ecg_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
               int64_t ldc)
{
    ECG_ASSERT(m >= 0 && n >= 0 && k >= 0);
    ECG_ASSERT(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX);
    ECG_ASSERT(lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX);
    if (m == 0 || n == 0)
        return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
                (int)ldb, beta, c, (int)ldc);
}

void ecg_threads_set(int n)
{
    ECG_ASSERT(n >= 1);
    atomic_store(&threads_in_force, n);
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int ecg_threads_get(void) { return atomic_load(&threads_in_force); }

void ecg_threads_adopt(void) { omp_set_num_threads(atomic_load(&threads_in_force)); }

void ecg_process_tune(char **argv)
{
    if (getenv("ECG_NO_REEXEC") || getenv("ECG_TUNED"))
        return;
    setenv("ECG_TUNED", "1", 1); /* once: the new image must not try again */
    bool changed = false;
    if (!getenv("OPENBLAS_CORETYPE")) {
        __builtin_cpu_init();
        const char *core = NULL;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
            core = "SkylakeX";
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            core = "Haswell";
        if (core) {
            setenv("OPENBLAS_CORETYPE", core, 1);
            changed = true;
        }
    }
    if (!getenv("OMP_WAIT_POLICY")) {
        setenv("OMP_WAIT_POLICY", "passive", 1);
        changed = true;
    }
    if (changed)
        execv("/proc/self/exe", argv); /* returns only on failure: then run as we are */
}
