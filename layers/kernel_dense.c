/* Fully connected layer: out = in * kernel + bias through ecg_sgemm. */
#include "core/blas.h"
#include "layers/kernels.h"

void ecg_dense_forward(float *out, const float *in, const float *kernel, const float *bias, int64_t rows,
                       int64_t cin, int64_t cout)
{
    float beta = 0.0f;
    if (bias) {
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < cout; o++)
                out[r * cout + o] = bias[o];
        beta = 1.0f;
    }
    ecg_sgemm(false, false, rows, cout, cin, 1.0f, in, cin, kernel, cout, beta, out, cout);
}

static void dense_backward(float *din, float *dkernel, float *dbias, const float *dout, const float *in,
                           const float *kernel, int64_t rows, int64_t cin, int64_t cout, bool set)
{
    if (dkernel)
        ecg_sgemm(true, false, cin, cout, rows, 1.0f, in, cin, dout, cout, 1.0f, dkernel, cout);
    if (din)
        ecg_sgemm(false, true, rows, cin, cout, 1.0f, dout, cout, kernel, cout, set ? 0.0f : 1.0f, din, cin);
    if (dbias) {
        for (int64_t o = 0; o < cout; o++) {
            double s = 0.0;
            for (int64_t r = 0; r < rows; r++)
                s += dout[r * cout + o];
            dbias[o] += (float)s;
        }
    }
}

void ecg_dense_backward(float *din, float *dkernel, float *dbias, const float *dout, const float *in,
                        const float *kernel, int64_t rows, int64_t cin, int64_t cout)
{
    dense_backward(din, dkernel, dbias, dout, in, kernel, rows, cin, cout, false);
}

void ecg_dense_backward_set(float *din, float *dkernel, float *dbias, const float *dout, const float *in,
                            const float *kernel, int64_t rows, int64_t cin, int64_t cout)
{
    dense_backward(din, dkernel, dbias, dout, in, kernel, rows, cin, cout, true);
}
