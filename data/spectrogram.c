/* Spectrograms: windows, STFT power with cached FFTW plans, band, log, resize, normalise. */
#include "data/spectrogram.h"

#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The FFTW planner (and plan destruction) is global state: one lock for the process. */
#define ECG_PI 3.14159265358979323846

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

void ecg_spec_opts_default(struct ecg_spec_opts *o)
{
    memset(o, 0, sizeof *o);
    o->window_seconds = 0.5;
    o->hop_seconds = 0.05;
    o->window = ECG_SPEC_HANN;
    o->tukey_alpha = 0.25;
    o->detrend = ECG_SPEC_DETREND_CONSTANT;
    o->log = 1;
    o->log_floor = 1e-10;
    o->fmin = 0.0;
    o->fmax = 50.0;
    o->height = 128;
    o->width = 128;
    o->channels = 3;
    o->norm = ECG_SPEC_NORM_ZSCORE;
    o->norm_lo = -100.0;
    o->norm_hi = 0.0;
}

int ecg_spec_opts_check(const struct ecg_spec_opts *o, double fs, struct ecg_error *err)
{
    if (!(fs > 0) || !isfinite(fs))
        return ecg_error_set(err, ECG_ERR_RANGE, "sampling rate: expected a positive number, found %g", fs);
    if (!(o->window_seconds > 0) || !isfinite(o->window_seconds) || llround(o->window_seconds * fs) < 2)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "data.spectrogram.window_seconds: expected a window of at least 2 samples at %g Hz, "
                             "found %g s",
                             fs, o->window_seconds);
    int64_t nper = llround(o->window_seconds * fs);
    int64_t hop = llround(o->hop_seconds * fs);
    if (!(o->hop_seconds > 0) || hop < 1 || hop > nper)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "data.spectrogram.hop_seconds: expected 1 sample to one window (%g s) at %g Hz, "
                             "found %g s",
                             o->window_seconds, fs, o->hop_seconds);
    if (o->window < ECG_SPEC_HANN || o->window > ECG_SPEC_BOXCAR)
        return ecg_error_set(err, ECG_ERR_RANGE, "data.spectrogram.window: unknown window type %d", (int)o->window);
    if (o->window == ECG_SPEC_TUKEY && !(o->tukey_alpha >= 0 && o->tukey_alpha <= 1))
        return ecg_error_set(err, ECG_ERR_RANGE, "spectrogram tukey_alpha: expected 0..1, found %g",
                             o->tukey_alpha);
    if (o->log && !(o->log_floor > 0))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "data.spectrogram.log_floor: expected a positive power floor, found %g", o->log_floor);
    double nyq = fs / 2.0, fmax = o->fmax > 0 ? o->fmax : nyq;
    if (!(o->fmin >= 0) || !(fmax <= nyq * (1 + 1e-12)) || !(o->fmin < fmax))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "data.spectrogram.fmin and data.spectrogram.fmax: expected 0 <= fmin < fmax <= %g Hz (Nyquist at %g Hz), "
                             "found fmin %g, fmax %g",
                             nyq, fs, o->fmin, o->fmax);
    if (o->height < 1 || o->width < 1 || o->height > 8192 || o->width > 8192)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "data.spectrogram.height and data.spectrogram.width: expected 1..8192, found %lld x %lld",
                             (long long)o->height, (long long)o->width);
    if (o->channels != 1 && o->channels != 3)
        return ecg_error_set(err, ECG_ERR_RANGE, "data.spectrogram.channels: expected 1 or 3, found %lld",
                             (long long)o->channels);
    if (o->norm == ECG_SPEC_NORM_RANGE && !(o->norm_hi > o->norm_lo))
        return ecg_error_set(err, ECG_ERR_RANGE, "spectrogram norm_lo/norm_hi: expected lo < hi, found %g, %g",
                             o->norm_lo, o->norm_hi);
    if (o->norm < ECG_SPEC_NORM_NONE || o->norm > ECG_SPEC_NORM_RANGE)
        return ecg_error_set(err, ECG_ERR_RANGE, "spectrogram normalisation: unknown value %d", (int)o->norm);
    return ECG_OK;
}

int ecg_spec_geometry(const struct ecg_spec_opts *o, double fs, int64_t n, struct ecg_spec_geom *g,
                      struct ecg_error *err)
{
    ECG_TRY(ecg_spec_opts_check(o, fs, err));
    memset(g, 0, sizeof *g);
    g->nperseg = llround(o->window_seconds * fs);
    g->hop = llround(o->hop_seconds * fs);
    g->nfft = g->nperseg;
    g->nfreq = g->nfft / 2 + 1;
    if (n < g->nperseg)
        return ecg_error_set(err, ECG_ERR_VALUE,
                             "signal of %lld samples is shorter than one spectrogram window (%lld samples = %g s at %g Hz)",
                             (long long)n, (long long)g->nperseg, o->window_seconds, fs);
    g->nseg = (n - g->nperseg) / g->hop + 1;
    double df = fs / (double)g->nfft, fmax = o->fmax > 0 ? o->fmax : fs / 2.0;
    /* A small tolerance so that a limit given exactly on a bin keeps that bin. */
    g->bin_lo = (int64_t)ceil(o->fmin / df - 1e-9);
    g->bin_hi = (int64_t)floor(fmax / df + 1e-9) + 1;
    if (g->bin_hi > g->nfreq)
        g->bin_hi = g->nfreq;
    if (g->bin_lo >= g->bin_hi)
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "data.spectrogram.fmin and data.spectrogram.fmax: the band %g..%g Hz holds no frequency bin (bin spacing %g Hz)",
                             o->fmin, fmax, df);
    return ECG_OK;
}

void ecg_spec_window_fill(enum ecg_spec_window type, double alpha, int64_t n, float *w)
{
    /* Periodic windows: the symmetric window of n + 1 points without its last point. */
    const double m = (double)n; /* (n + 1) - 1 */
    for (int64_t i = 0; i < n; i++) {
        double v = 1.0;
        switch (type) {
        case ECG_SPEC_HANN: v = 0.5 - 0.5 * cos(2.0 * ECG_PI * (double)i / m); break;
        case ECG_SPEC_HAMMING: v = 0.54 - 0.46 * cos(2.0 * ECG_PI * (double)i / m); break;
        case ECG_SPEC_BOXCAR: v = 1.0; break;
        case ECG_SPEC_BLACKMAN:
            v = 0.42 - 0.5 * cos(2.0 * ECG_PI * (double)i / m) + 0.08 * cos(4.0 * ECG_PI * (double)i / m);
            break;
        case ECG_SPEC_TUKEY:
            if (alpha <= 0) {
                v = 1.0;
            } else if (alpha >= 1) {
                v = 0.5 - 0.5 * cos(2.0 * ECG_PI * (double)i / m);
            } else {
                /* scipy.signal.windows.tukey on M = n + 1 points. */
                int64_t width = (int64_t)floor(alpha * m / 2.0);
                int64_t M = n + 1;
                if (i <= width)
                    v = 0.5 * (1 + cos(ECG_PI * (-1 + 2.0 * (double)i / alpha / m)));
                else if (i >= M - width - 1)
                    v = 0.5 * (1 + cos(ECG_PI * (-2.0 / alpha + 1 + 2.0 * (double)i / alpha / m)));
                else
                    v = 1.0;
            }
            break;
        }
        w[i] = (float)v;
    }
}

int ecg_spec_init(struct ecg_spec *s, const struct ecg_spec_opts *o, struct ecg_error *err)
{
    memset(s, 0, sizeof *s);
    s->opts = *o;
    pthread_mutex_t *mu = malloc(sizeof *mu);
    if (!mu)
        return ecg_error_set(err, ECG_ERR_NOMEM, "spectrogram: cannot allocate a mutex");
    pthread_mutex_init(mu, NULL);
    s->mutex = mu;
    return ECG_OK;
}

void ecg_spec_free(struct ecg_spec *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&planner_lock);
    for (int i = 0; i < s->nplans; i++)
        fftwf_destroy_plan((fftwf_plan)s->plans[i]);
    pthread_mutex_unlock(&planner_lock);
    for (int i = 0; i < s->nplans; i++)
        free(s->windows[i]);
    if (s->mutex) {
        pthread_mutex_destroy((pthread_mutex_t *)s->mutex);
        free(s->mutex);
    }
    memset(s, 0, sizeof *s);
}

/* Finds or creates the plan and window for size n. */
static int get_plan(struct ecg_spec *s, int64_t n, fftwf_plan *plan, const float **win, double *ss,
                    struct ecg_error *err)
{
    ECG_ASSERT(s->mutex);
    int rc = ECG_OK;
    pthread_mutex_lock((pthread_mutex_t *)s->mutex);
    int i;
    for (i = 0; i < s->nplans; i++)
        if (s->plan_n[i] == n)
            break;
    if (i == s->nplans) {
        if (s->nplans == ECG_SPEC_MAX_PLANS) {
            rc = ecg_error_set(err, ECG_ERR_RANGE,
                               "spectrogram: more than %d different window sizes (sampling rates) in one run",
                               ECG_SPEC_MAX_PLANS);
            goto done;
        }
        float *w = malloc((size_t)n * sizeof *w);
        float *in = fftwf_malloc((size_t)n * sizeof *in);
        fftwf_complex *out = fftwf_malloc((size_t)(n / 2 + 1) * sizeof *out);
        fftwf_plan p = NULL;
        bool buffers = w && in && out;
        if (buffers) {
            pthread_mutex_lock(&planner_lock);
            p = fftwf_plan_dft_r2c_1d((int)n, in, out, FFTW_ESTIMATE);
            pthread_mutex_unlock(&planner_lock);
        }
        fftwf_free(in);
        fftwf_free(out);
        if (!p) {
            free(w);
            rc = buffers ? ecg_error_set(err, ECG_ERR_NOMEM,
                                                "spectrogram: FFTW could not plan a real FFT of size %lld "
                                                "(out of memory)", (long long)n)
                                : ecg_error_set(err, ECG_ERR_NOMEM,
                                                "spectrogram: out of memory for an FFT of size %lld", (long long)n);
            goto done;
        }
        ecg_spec_window_fill(s->opts.window, s->opts.tukey_alpha, n, w);
        double acc = 0;
        for (int64_t k = 0; k < n; k++)
            acc += (double)w[k] * w[k];
        s->plans[i] = p;
        s->plan_n[i] = n;
        s->windows[i] = w;
        s->win_ss[i] = acc;
        s->nplans++;
    }
    *plan = (fftwf_plan)s->plans[i];
    *win = s->windows[i];
    *ss = s->win_ss[i];
done:
    pthread_mutex_unlock((pthread_mutex_t *)s->mutex);
    return rc;
}

static int check_finite(const float *x, int64_t n, struct ecg_error *err)
{
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return ecg_error_set(err, ECG_ERR_VALUE, "signal sample %lld is %s: expected a finite value",
                                 (long long)i, isnan(x[i]) ? "NaN" : "infinite");
    return ECG_OK;
}

/* STFT power into out (nfreq, nseg). */
static int power(struct ecg_spec *s, const struct ecg_spec_geom *g, const float *x, double fs, float *out,
                 struct ecg_error *err)
{
    fftwf_plan plan = NULL;
    const float *w = NULL;
    double ss = 1.0;
    ECG_TRY(get_plan(s, g->nfft, &plan, &w, &ss, err));
    float *in = fftwf_malloc((size_t)g->nfft * sizeof *in);
    fftwf_complex *spec = fftwf_malloc((size_t)g->nfreq * sizeof *spec);
    if (!in || !spec) {
        fftwf_free(in);
        fftwf_free(spec);
        return ecg_error_set(err, ECG_ERR_NOMEM, "spectrogram: cannot allocate FFT buffers of %lld samples",
                             (long long)g->nfft);
    }
    const double scale = 1.0 / (fs * ss);
    for (int64_t t = 0; t < g->nseg; t++) {
        const float *seg = x + t * g->hop;
        double mean = 0;
        if (s->opts.detrend == ECG_SPEC_DETREND_CONSTANT) {
            for (int64_t k = 0; k < g->nperseg; k++)
                mean += seg[k];
            mean /= (double)g->nperseg;
        }
        for (int64_t k = 0; k < g->nperseg; k++)
            in[k] = (float)((seg[k] - mean) * w[k]);
        fftwf_execute_dft_r2c(plan, in, spec);
        for (int64_t f = 0; f < g->nfreq; f++) {
            double re = spec[f][0], im = spec[f][1];
            double p = (re * re + im * im) * scale;
            int edge = f == 0 || (g->nfft % 2 == 0 && f == g->nfreq - 1);
            out[f * g->nseg + t] = (float)(edge ? p : 2.0 * p);
        }
    }
    fftwf_free(in);
    fftwf_free(spec);
    return ECG_OK;
}

int ecg_spec_power(struct ecg_spec *s, const float *x, int64_t n, double fs, float *out,
                   struct ecg_error *err)
{
    struct ecg_spec_geom g;
    ECG_TRY(ecg_spec_geometry(&s->opts, fs, n, &g, err));
    ECG_TRY(check_finite(x, n, err));
    return power(s, &g, x, fs, out, err);
}

void ecg_resize_bilinear(const float *in, int64_t rows, int64_t cols, float *out, int64_t h, int64_t w)
{
    const double sy = (double)rows / (double)h, sx = (double)cols / (double)w;
    for (int64_t y = 0; y < h; y++) {
        double fy = ((double)y + 0.5) * sy - 0.5;
        if (fy < 0)
            fy = 0;
        if (fy > (double)(rows - 1))
            fy = (double)(rows - 1);
        int64_t y0 = (int64_t)fy, y1 = y0 + 1 < rows ? y0 + 1 : y0;
        float ay = (float)(fy - (double)y0);
        for (int64_t x = 0; x < w; x++) {
            double fx = ((double)x + 0.5) * sx - 0.5;
            if (fx < 0)
                fx = 0;
            if (fx > (double)(cols - 1))
                fx = (double)(cols - 1);
            int64_t x0 = (int64_t)fx, x1 = x0 + 1 < cols ? x0 + 1 : x0;
            float ax = (float)(fx - (double)x0);
            float top = in[y0 * cols + x0] + ax * (in[y0 * cols + x1] - in[y0 * cols + x0]);
            float bot = in[y1 * cols + x0] + ax * (in[y1 * cols + x1] - in[y1 * cols + x0]);
            out[y * w + x] = top + ay * (bot - top);
        }
    }
}

void ecg_spec_finish(const struct ecg_spec_opts *o, const float *in, int64_t rows, int64_t cols, float *out)
{
    const int64_t h = o->height, w = o->width, c = o->channels, hw = h * w;
    /* Resize into the first h*w floats of out (it holds h*w*c >= h*w). */
    float *plane = out;
    ecg_resize_bilinear(in, rows, cols, plane, h, w);
    /* Flip vertically: row 0 becomes the highest frequency. */
    for (int64_t y = 0; y < h / 2; y++) {
        float *a = plane + y * w, *b = plane + (h - 1 - y) * w;
        for (int64_t x = 0; x < w; x++) {
            float t = a[x];
            a[x] = b[x];
            b[x] = t;
        }
    }
    if (o->norm == ECG_SPEC_NORM_ZSCORE) {
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < hw; i++)
            sum += plane[i];
        double mean = sum / (double)hw;
        for (int64_t i = 0; i < hw; i++)
            sq += (plane[i] - mean) * (plane[i] - mean);
        double sd = sqrt(sq / (double)hw);
        double inv = sd > 1e-12 * (fabs(mean) + 1.0) ? 1.0 / sd : 0.0;
        for (int64_t i = 0; i < hw; i++)
            plane[i] = (float)((plane[i] - mean) * inv);
    } else if (o->norm == ECG_SPEC_NORM_RANGE) {
        double lo = o->norm_lo, inv = 1.0 / (o->norm_hi - o->norm_lo);
        for (int64_t i = 0; i < hw; i++) {
            double v = (plane[i] - lo) * inv;
            plane[i] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
    }
    /* Spread the plane into (h, w, c) in place, back to front so nothing is overwritten early. */
    if (c > 1)
        for (int64_t i = hw - 1; i >= 0; i--) {
            float v = plane[i];
            for (int64_t k = c - 1; k >= 0; k--)
                out[i * c + k] = v;
        }
}

int ecg_spec_image(struct ecg_spec *s, const float *x, int64_t n, double fs, float *out,
                   struct ecg_error *err)
{
    const struct ecg_spec_opts *o = &s->opts;
    struct ecg_spec_geom g;
    ECG_TRY(ecg_spec_geometry(o, fs, n, &g, err));
    ECG_TRY(check_finite(x, n, err));
    float *p = malloc((size_t)(g.nfreq * g.nseg) * sizeof *p);
    if (!p)
        return ecg_error_set(err, ECG_ERR_NOMEM, "spectrogram: cannot allocate %lld x %lld floats",
                             (long long)g.nfreq, (long long)g.nseg);
    int rc = power(s, &g, x, fs, p, err);
    if (rc) {
        free(p);
        return rc;
    }
    /* Keep the band (rows bin_lo..bin_hi-1 are contiguous) and take the log. */
    const int64_t rows = g.bin_hi - g.bin_lo;
    float *band = p + g.bin_lo * g.nseg;
    if (o->log) {
        const double fl = o->log_floor;
        for (int64_t i = 0; i < rows * g.nseg; i++)
            band[i] = (float)(10.0 * log10(band[i] > fl ? (double)band[i] : fl));
    }
    ecg_spec_finish(o, band, rows, g.nseg, out);
    free(p);
    return ECG_OK;
}

const char *const ecg_spec_window_names[] = {
    [ECG_SPEC_HANN] = "hann",   [ECG_SPEC_HAMMING] = "hamming", [ECG_SPEC_BLACKMAN] = "blackman",
    [ECG_SPEC_TUKEY] = "tukey", [ECG_SPEC_BOXCAR] = "boxcar",   NULL,
};
static const char *const norm_names[] = {"none", "zscore", "range"};
static const char *const detrend_names[] = {"none", "constant"};

const char *ecg_spec_window_name(enum ecg_spec_window w)
{
    return (int)w >= 0 && (int)w < 5 ? ecg_spec_window_names[w] : "?";
}
const char *ecg_spec_norm_name(enum ecg_spec_norm n) { return (int)n >= 0 && (int)n < 3 ? norm_names[n] : "?"; }
const char *ecg_spec_detrend_name(enum ecg_spec_detrend d)
{
    return (int)d >= 0 && (int)d < 2 ? detrend_names[d] : "?";
}

static int parse_name(const char *key, const char *name, const char *const *names, int count, int *out,
                      struct ecg_error *err)
{
    for (int i = 0; i < count; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = i;
            return ECG_OK;
        }
    char list[256] = "";
    for (int i = 0; i < count; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < count)
            strncat(list, ", ", sizeof list - strlen(list) - 1);
    }
    return ecg_error_set(err, ECG_ERR_CONFIG, "%s: expected one of %s, found '%s'", key, list,
                         name ? name : "(null)");
}

int ecg_spec_window_parse(const char *key, const char *name, enum ecg_spec_window *out, struct ecg_error *err)
{
    int v = 0;
    ECG_TRY(parse_name(key, name, ecg_spec_window_names, 5, &v, err));
    *out = (enum ecg_spec_window)v;
    return ECG_OK;
}
int ecg_spec_norm_parse(const char *key, const char *name, enum ecg_spec_norm *out, struct ecg_error *err)
{
    int v = 0;
    ECG_TRY(parse_name(key, name, norm_names, 3, &v, err));
    *out = (enum ecg_spec_norm)v;
    return ECG_OK;
}
int ecg_spec_detrend_parse(const char *key, const char *name, enum ecg_spec_detrend *out,
                           struct ecg_error *err)
{
    int v = 0;
    ECG_TRY(parse_name(key, name, detrend_names, 2, &v, err));
    *out = (enum ecg_spec_detrend)v;
    return ECG_OK;
}
