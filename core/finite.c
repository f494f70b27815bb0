/* Finiteness scans of float arrays. */
#include "core/finite.h"

#include <math.h>
#include <string.h>

/* An IEEE float is NaN or infinite exactly when its exponent bits are all ones: an integer test that
 * vectorises, where isfinite() in a loop with an early exit does not. */
#define EXPONENT 0x7f800000u

bool ecg_floats_finite(const float *x, int64_t n)
{
    unsigned bad = 0;
#pragma omp simd reduction(| : bad)
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        bad |= (u & EXPONENT) == EXPONENT;
    }
    return bad == 0;
}

int64_t ecg_floats_first_nonfinite(const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return i;
    return -1;
}

const char *ecg_nonfinite_name(double v)
{
    if (isnan(v))
        return "NaN";
    return v > 0 ? "+inf" : "-inf";
}
