/* Finite-difference gradient checker for kernels and layers (tests only). */
#ifndef ECG_TESTS_LAYERS_GRADCHECK_H
#define ECG_TESTS_LAYERS_GRADCHECK_H

#include <stdbool.h>
#include <stdint.h>

/*
 * How to use it
 * -------------
 * 1. Write a loss callback `double loss(void *ctx)` that runs the forward
 *    pass on the CURRENT contents of your float inputs and parameters and
 *    returns a scalar in double.  The usual choice is a fixed random
 *    projection of the output: loss = sum_i out[i] * w[i], computed with
 *    ecg_gradcheck_dot(); then dL/dout = w, which you feed to backward.
 *    The callback must be deterministic (same inputs, same loss: use the
 *    same dropout mask, batch-norm mode, etc. on every call) and must not
 *    touch the analytic gradient buffers.
 * 2. Run your backward once with dout = w into zeroed gradient buffers.
 * 3. Describe each tensor to check with a struct ecg_gradcheck_tensor: the
 *    float array the loss reads (`values`, perturbed in place and restored
 *    bit-exactly after each probe), its analytic gradient (`grad`), the
 *    element count and a name used in messages ("din", "dgamma").
 * 4. Call ecg_gradcheck(); it returns true when every probed element
 *    agrees and prints the worst element of each tensor that does not.
 *
 * Numerics.  Each probed element x gets a central difference
 *     fd = (L(x + h) - L(x - h)) / ((x + h) - (x - h)),  h = eps * max(1, |x|),
 * where the denominator is the difference of the two float values actually
 * stored, so rounding x +- h to float does not bias the estimate.  The
 * difference is taken in double, but the forward pass runs in float, so the
 * achievable agreement is about (float rounding of L) / h: keep the loss
 * O(1)..O(100), inputs O(1), and use the default tolerances (eps 1e-3,
 * rtol 1e-2, atol 1e-3) unless you know better.  An element passes when
 *     |fd - grad| <= atol + rtol * max(|fd|, |grad|).
 * Functions with kinks (ReLU at 0, max-pool ties) will fail near the kink;
 * SiLU, sigmoid, batch norm and convolutions are smooth.
 *
 * Cost: two loss evaluations per probed element.  Set max_probes to check a
 * deterministic pseudo-random sample of each large tensor (the first and
 * last elements are always included).
 */

struct ecg_gradcheck_tensor {
    const char *name;  /* shown in failure messages */
    float *values;     /* the input or parameter the loss reads; perturbed and restored */
    const float *grad; /* analytic dL/dvalues, same length */
    int64_t n;         /* number of elements */
};

struct ecg_gradcheck_opts {
    double eps;         /* relative step; 0 means 1e-3 */
    double rtol, atol;  /* 0 means 1e-2 and 1e-3 */
    int64_t max_probes; /* per tensor; 0 means every element */
    uint64_t seed;      /* for the sample when max_probes < n */
    bool verbose;       /* print every probe */
};

/* Checks every tensor; opts may be NULL for the defaults.  Returns true when all probes pass. */
bool ecg_gradcheck(double (*loss)(void *ctx), void *ctx, const struct ecg_gradcheck_tensor *tensors,
                   int count, const struct ecg_gradcheck_opts *opts);

/* sum_i a[i] * w[i] in double: the usual projection loss. */
double ecg_gradcheck_dot(const float *a, const float *w, int64_t n);

/* Fills x (n floats) with deterministic uniform values in [lo, hi) from seed. */
void ecg_gradcheck_fill(float *x, int64_t n, uint64_t seed, float lo, float hi);

#endif
