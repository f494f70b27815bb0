/* Finite-difference gradient checker for kernels and layers (tests only). */
#include "tests/layers/gradcheck.h"

#include <math.h>
#include <stdio.h>

#include "core/rng.h"

double ecg_gradcheck_dot(const float *a, const float *w, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)a[i] * (double)w[i];
    return s;
}

void ecg_gradcheck_fill(float *x, int64_t n, uint64_t seed, float lo, float hi)
{
    struct ecg_rng r = ecg_rng_init(seed, 0x6772616463686bULL);
    for (int64_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * ecg_rng_uniform(&r);
}

/* Probes one element; returns the finite difference. */
static double probe(double (*loss)(void *ctx), void *ctx, float *v, double eps)
{
    const float x0 = *v;
    const double h = eps * fmax(1.0, fabs((double)x0));
    const float xp = (float)((double)x0 + h), xm = (float)((double)x0 - h);
    *v = xp;
    double lp = loss(ctx);
    *v = xm;
    double lm = loss(ctx);
    *v = x0;
    return (lp - lm) / ((double)xp - (double)xm);
}

static bool check_tensor(double (*loss)(void *ctx), void *ctx, const struct ecg_gradcheck_tensor *t,
                         double eps, double rtol, double atol, int64_t max_probes, uint64_t seed,
                         bool verbose)
{
    struct ecg_rng r = ecg_rng_init(seed, (uint64_t)t->n);
    int64_t probes = (max_probes > 0 && max_probes < t->n) ? max_probes : t->n;
    bool ok = true;
    double worst_excess = -1.0, worst_fd = 0.0, worst_an = 0.0;
    int64_t worst_i = -1, failures = 0;
    for (int64_t p = 0; p < probes; p++) {
        int64_t i;
        if (probes == t->n)
            i = p;
        else if (p == 0)
            i = 0;
        else if (p == 1)
            i = t->n - 1;
        else
            i = (int64_t)ecg_rng_below(&r, (uint64_t)t->n);
        double fd = probe(loss, ctx, &t->values[i], eps);
        double an = t->grad[i];
        double tol = atol + rtol * fmax(fabs(fd), fabs(an));
        double excess = fabs(fd - an) - tol;
        if (verbose)
            printf("  gradcheck %s[%lld]: analytic %.8g, finite difference %.8g\n", t->name, (long long)i,
                   an, fd);
        if (!(excess <= 0.0)) {
            ok = false;
            failures++;
            if (!(excess <= worst_excess)) {
                worst_excess = isnan(excess) ? INFINITY : excess;
                worst_i = i;
                worst_fd = fd;
                worst_an = an;
            }
        }
    }
    if (!ok)
        printf("\n  gradcheck %s: %lld of %lld probes differ; worst at [%lld]: analytic %.8g, finite "
               "difference %.8g (rtol %g, atol %g)\n",
               t->name, (long long)failures, (long long)probes, (long long)worst_i, worst_an, worst_fd,
               rtol, atol);
    return ok;
}

bool ecg_gradcheck(double (*loss)(void *ctx), void *ctx, const struct ecg_gradcheck_tensor *tensors,
                   int count, const struct ecg_gradcheck_opts *opts)
{
    double eps = opts && opts->eps > 0 ? opts->eps : 1e-3;
    double rtol = opts && opts->rtol > 0 ? opts->rtol : 1e-2;
    double atol = opts && opts->atol > 0 ? opts->atol : 1e-3;
    int64_t max_probes = opts ? opts->max_probes : 0;
    uint64_t seed = opts ? opts->seed : 0;
    bool verbose = opts ? opts->verbose : false;
    bool ok = true;
    for (int t = 0; t < count; t++)
        ok &= check_tensor(loss, ctx, &tensors[t], eps, rtol, atol, max_probes, seed, verbose);
    return ok;
}
