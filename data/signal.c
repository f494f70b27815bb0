/* Butterworth band-pass design, filtfilt, polyphase resampling, z-score and finiteness checks. */
#include "data/signal.h"

#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Multiplies out prod (z - r_i) into real coefficients c[0..n] (c[0] = 1). */
static void poly_from_roots(const double complex *r, int n, double *c)
{
    double complex p[2 * ECG_IIR_MAX_ORDER + 1];
    p[0] = 1.0;
    for (int i = 1; i <= n; i++)
        p[i] = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j >= 1; j--)
            p[j] -= r[i] * p[j - 1];
    for (int i = 0; i <= n; i++)
        c[i] = creal(p[i]);
}

int ecg_iir_butter_bandpass(struct ecg_iir *f, int order, double low_hz, double high_hz, double fs,
                            struct ecg_error *err)
{
    if (order < 1 || order > ECG_IIR_MAX_ORDER)
        return ecg_error_set(err, ECG_ERR_RANGE, "band-pass order %d: expected 1..%d", order,
                             ECG_IIR_MAX_ORDER);
    if (!(fs > 0) || !(low_hz > 0) || !(high_hz > low_hz) || !(high_hz < fs / 2))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "band-pass %g-%g Hz at %g Hz: expected 0 < low < high < fs/2", low_hz, high_hz,
                             fs);
    /* Analog prototype poles on the unit circle's left half. */
    int n = order;
    double complex p[ECG_IIR_MAX_ORDER], pb[2 * ECG_IIR_MAX_ORDER], zb[2 * ECG_IIR_MAX_ORDER];
    for (int i = 0; i < n; i++) {
        int m = -n + 1 + 2 * i;
        p[i] = -cexp(I * M_PI * m / (2.0 * n));
    }
    /* Pre-warped edges for the bilinear transform with fs = 2 (normalised frequencies). */
    const double fs2 = 2.0;
    double w1 = 2 * fs2 * tan(M_PI * (2 * low_hz / fs) / fs2);
    double w2 = 2 * fs2 * tan(M_PI * (2 * high_hz / fs) / fs2);
    double bw = w2 - w1, wo = sqrt(w1 * w2);
    /* Low-pass to band-pass: each pole splits in two, n zeros at the origin. */
    double k = pow(bw, n);
    for (int i = 0; i < n; i++) {
        double complex pl = p[i] * bw / 2;
        double complex s = csqrt(pl * pl - wo * wo);
        pb[i] = pl + s;
        pb[i + n] = pl - s;
    }
    /* Bilinear transform: zeros at s = 0 go to z = 1, the n zeros at infinity to z = -1. */
    double complex num = 1.0, den = 1.0;
    double complex pz[2 * ECG_IIR_MAX_ORDER];
    for (int i = 0; i < 2 * n; i++) {
        pz[i] = (2 * fs2 + pb[i]) / (2 * fs2 - pb[i]);
        den *= (2 * fs2 - pb[i]);
    }
    for (int i = 0; i < n; i++) {
        zb[i] = 1.0;
        zb[i + n] = -1.0;
        num *= 2 * fs2; /* (fs2*2 - 0) for each zero at the origin */
    }
    k *= creal(num / den);
    f->n = 2 * n + 1;
    poly_from_roots(zb, 2 * n, f->b);
    poly_from_roots(pz, 2 * n, f->a);
    for (int i = 0; i < f->n; i++)
        f->b[i] *= k;
    return ECG_OK;
}

/* Steady-state initial conditions of a step response (scipy.signal.lfilter_zi):
 * solves (I - companion(a)^T) zi = b[1:] - a[1:] * b[0]. */
static void lfilter_zi(const struct ecg_iir *f, double *zi)
{
    int m = f->n - 1;
    double A[2 * ECG_IIR_MAX_ORDER][2 * ECG_IIR_MAX_ORDER + 1];
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < m; j++)
            A[i][j] = (i == j ? 1.0 : 0.0);
        A[i][0] += f->a[i + 1];
        if (i + 1 < m)
            A[i][i + 1] -= 1.0;
        A[i][m] = f->b[i + 1] - f->a[i + 1] * f->b[0];
    }
    /* Gaussian elimination with partial pivoting. */
    for (int c = 0; c < m; c++) {
        int piv = c;
        for (int r = c + 1; r < m; r++)
            if (fabs(A[r][c]) > fabs(A[piv][c]))
                piv = r;
        if (piv != c)
            for (int j = 0; j <= m; j++) {
                double t = A[c][j];
                A[c][j] = A[piv][j];
                A[piv][j] = t;
            }
        for (int r = c + 1; r < m; r++) {
            double q = A[r][c] / A[c][c];
            for (int j = c; j <= m; j++)
                A[r][j] -= q * A[c][j];
        }
    }
    for (int r = m - 1; r >= 0; r--) {
        double s = A[r][m];
        for (int j = r + 1; j < m; j++)
            s -= A[r][j] * zi[j];
        zi[r] = s / A[r][r];
    }
}

/* Direct form II transposed over y[0..n) in place, starting from state z (scaled copy). */
static void lfilter_inplace(const struct ecg_iir *f, double *y, int64_t n, const double *zi, double scale)
{
    int m = f->n - 1;
    double z[2 * ECG_IIR_MAX_ORDER + 1];
    for (int i = 0; i < m; i++)
        z[i] = zi[i] * scale;
    z[m] = 0.0;
    for (int64_t t = 0; t < n; t++) {
        double x = y[t];
        double out = f->b[0] * x + z[0];
        for (int i = 0; i < m; i++)
            z[i] = f->b[i + 1] * x + z[i + 1] - f->a[i + 1] * out;
        y[t] = out;
    }
}

int ecg_iir_filtfilt(const struct ecg_iir *f, float *x, int64_t length, struct ecg_error *err)
{
    int64_t edge = 3 * (int64_t)f->n;
    if (length <= edge)
        return ecg_error_set(err, ECG_ERR_VALUE,
                             "zero-phase filter: signal of %lld samples, expected more than %lld",
                             (long long)length, (long long)edge);
    int64_t n = length + 2 * edge;
    double *y = malloc((size_t)n * sizeof *y);
    if (!y)
        return ecg_error_set(err, ECG_ERR_NOMEM, "zero-phase filter: no memory for %lld samples",
                             (long long)n);
    /* Odd extension: 2*x[0] - x[edge..1] before, 2*x[-1] - x[-2..-edge-1] after. */
    for (int64_t i = 0; i < edge; i++) {
        y[i] = 2.0 * x[0] - (double)x[edge - i];
        y[edge + length + i] = 2.0 * x[length - 1] - (double)x[length - 2 - i];
    }
    for (int64_t i = 0; i < length; i++)
        y[edge + i] = x[i];
    double zi[2 * ECG_IIR_MAX_ORDER];
    lfilter_zi(f, zi);
    lfilter_inplace(f, y, n, zi, y[0]);
    for (int64_t i = 0; i < n / 2; i++) {
        double t = y[i];
        y[i] = y[n - 1 - i];
        y[n - 1 - i] = t;
    }
    lfilter_inplace(f, y, n, zi, y[0]);
    for (int64_t i = 0; i < length; i++)
        x[i] = (float)y[n - 1 - edge - i];
    free(y);
    return ECG_OK;
}

int ecg_signal_bandpass(float *x, int64_t length, double fs, int order, double low_hz, double high_hz,
                        struct ecg_error *err)
{
    struct ecg_iir f;
    ECG_TRY(ecg_iir_butter_bandpass(&f, order, low_hz, high_hz, fs, err));
    return ecg_iir_filtfilt(&f, x, length, err);
}

static int64_t gcd64(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int64_t ecg_resample_length(int64_t length, int64_t up, int64_t down)
{
    int64_t g = gcd64(up, down);
    up /= g;
    down /= g;
    return (length * up + down - 1) / down;
}

/* Modified Bessel function of the first kind, order 0 (power series). */
static double bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 200; k++) {
        term *= q / ((double)k * k);
        sum += term;
        if (term < sum * 1e-17)
            break;
    }
    return sum;
}

int ecg_resample_poly(const float *x, int64_t length, int64_t up, int64_t down, float *out,
                      struct ecg_error *err)
{
    if (up < 1 || down < 1)
        return ecg_error_set(err, ECG_ERR_RANGE, "resampling by %lld/%lld: expected positive factors",
                             (long long)up, (long long)down);
    if (length < 1)
        return ecg_error_set(err, ECG_ERR_VALUE, "resampling: empty signal");
    int64_t g = gcd64(up, down);
    up /= g;
    down /= g;
    int64_t nout = ecg_resample_length(length, up, down);
    if (up == 1 && down == 1) {
        memcpy(out, x, (size_t)length * sizeof *out);
        return ECG_OK;
    }
    /* firwin(2*half+1, 1/max_rate, window=('kaiser', 5)), normalised to unit DC gain, times up. */
    int64_t maxr = up > down ? up : down, half = 10 * maxr, taps = 2 * half + 1;
    double *h = malloc((size_t)taps * sizeof *h);
    if (!h)
        return ecg_error_set(err, ECG_ERR_NOMEM, "resampling: no memory for %lld taps", (long long)taps);
    double cutoff = 1.0 / (double)maxr, beta = 5.0, i0b = bessel_i0(beta), sum = 0.0;
    for (int64_t i = 0; i < taps; i++) {
        double m = (double)(i - half);
        double arg = M_PI * cutoff * m;
        double s = (i == half) ? 1.0 : sin(arg) / arg;
        double r = 2.0 * (double)i / (double)(taps - 1) - 1.0;
        double w = bessel_i0(beta * sqrt(fmax(0.0, 1.0 - r * r))) / i0b;
        h[i] = cutoff * s * w;
        sum += h[i];
    }
    for (int64_t i = 0; i < taps; i++)
        h[i] *= (double)up / sum;
    /* out[n] = sum_i x[i] h[n*down - i*up + half]: the filter centred on output time n*down/up. */
    for (int64_t n = 0; n < nout; n++) {
        int64_t c = n * down + half; /* h index for i = 0 */
        int64_t ilo = c - (taps - 1) > 0 ? (c - (taps - 1) + up - 1) / up : 0;
        int64_t ihi = c / up;
        if (ihi > length - 1)
            ihi = length - 1;
        double acc = 0.0;
        for (int64_t i = ilo; i <= ihi; i++)
            acc += (double)x[i] * h[c - i * up];
        out[n] = (float)acc;
    }
    free(h);
    return ECG_OK;
}

int ecg_resample_rate(const float *x, int64_t length, double fs_in, double fs_out, float **out,
                      int64_t *out_length, struct ecg_error *err)
{
    *out = NULL;
    *out_length = 0;
    if (!(fs_in >= 1) || !(fs_out >= 1) || fs_in != floor(fs_in) || fs_out != floor(fs_out) ||
        fs_in > ECG_FS_MAX || fs_out > ECG_FS_MAX)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "resampling %g Hz -> %g Hz: expected whole-number rates in 1..%g Hz", fs_in, fs_out,
                             ECG_FS_MAX);
    int64_t up = (int64_t)fs_out, down = (int64_t)fs_in;
    int64_t n = ecg_resample_length(length, up, down);
    float *y = malloc((size_t)(n > 0 ? n : 1) * sizeof *y);
    if (!y)
        return ecg_error_set(err, ECG_ERR_NOMEM, "resampling: no memory for %lld samples", (long long)n);
    int rc = ecg_resample_poly(x, length, up, down, y, err);
    if (rc) {
        free(y);
        return rc;
    }
    *out = y;
    *out_length = n;
    return ECG_OK;
}

void ecg_signal_stats(const float *x, int64_t length, double *mean, double *std)
{
    double s = 0.0, ss = 0.0;
    for (int64_t i = 0; i < length; i++)
        s += x[i];
    double m = length > 0 ? s / (double)length : 0.0;
    for (int64_t i = 0; i < length; i++) {
        double d = x[i] - m;
        ss += d * d;
    }
    *mean = m;
    *std = length > 0 ? sqrt(ss / (double)length) : 0.0;
}

int ecg_signal_zscore(float *x, int64_t length, double min_std, struct ecg_error *err)
{
    double m, s;
    ecg_signal_stats(x, length, &m, &s);
    if (!(s > min_std))
        return ecg_error_set(err, ECG_ERR_VALUE,
                             "flat signal: standard deviation %g over %lld samples, expected more than %g", s,
                             (long long)length, min_std);
    for (int64_t i = 0; i < length; i++)
        x[i] = (float)((x[i] - m) / s);
    return ECG_OK;
}

const char *const ecg_normalize_names[] = {
    [ECG_NORMALIZE_NONE] = "none", [ECG_NORMALIZE_ZSCORE] = "zscore", [ECG_NORMALIZE_MINMAX] = "minmax", NULL,
};

/* Min-max scaling to [0, 1]; a flat signal is an error like for z-scores. */
static int minmax(float *x, int64_t n, struct ecg_error *err)
{
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    if (!(hi - lo > 1e-6f))
        return ecg_error_set(err, ECG_ERR_VALUE, "flat signal: range %.3g mV", (double)(hi - lo));
    for (int64_t i = 0; i < n; i++)
        x[i] = (x[i] - lo) / (hi - lo);
    return ECG_OK;
}

int ecg_signal_normalize(float *x, int64_t length, enum ecg_normalize mode, struct ecg_error *err)
{
    switch (mode) {
    case ECG_NORMALIZE_ZSCORE: return ecg_signal_zscore(x, length, 1e-6, err);
    case ECG_NORMALIZE_MINMAX: return minmax(x, length, err);
    case ECG_NORMALIZE_NONE: break;
    }
    return ECG_OK;
}

int ecg_signal_check_finite(const float *x, int64_t length, struct ecg_error *err)
{
    for (int64_t i = 0; i < length; i++)
        if (!isfinite(x[i]))
            return ecg_error_set(err, ECG_ERR_VALUE, "sample %lld is %s, expected a finite value",
                                 (long long)i, isnan(x[i]) ? "nan" : "infinite");
    return ECG_OK;
}
