/* Signal checks on uploaded samples: rate, length, finiteness, flat line, clipping, units, polarity. */
#include "serve/checks.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Thresholds, in mV and seconds, with the reason for each. */
#define FLAT_STD_MV 1e-5       /* below any ECG's noise floor even if given in volts: no signal */
#define FLAT_SEGMENT_S 1.0     /* a constant second has no heartbeat in it: a lead came off */
#define CLIP_FRACTION 0.005    /* 0.5% of samples pinned at an extreme in runs of >= 3 */
#define AMPLITUDE_HIGH_MV 30.0 /* the largest QRS complexes are ~5 mV; 30 mV is counts or uV */
#define AMPLITUDE_LOW_MV 0.05  /* a QRS below 0.05 mV is volts, or no ECG */
#define INVERT_RATIO 1.6       /* downward deflections this much larger than upward ones */
#define INVERT_MIN_MV 0.2      /* ... and large enough to be QRS complexes */
#define SHORT_FRACTION 0.5     /* under half a window, most of the model's input is padding */

struct findings {
    struct ecg_check *out;
    int cap, count;
};

__attribute__((format(printf, 4, 5))) static void add(struct findings *f, enum ecg_check_code code,
                                                      enum ecg_check_severity sev, const char *fmt, ...)
{
    if (f->count < f->cap) {
        struct ecg_check *c = &f->out[f->count];
        c->code = code;
        c->severity = sev;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->message, sizeof c->message, fmt, ap);
        va_end(ap);
    }
    f->count++;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Percentiles lo and hi (0..1) of x, on an evenly strided subsample of at most 100000 values. */
static int percentiles(const float *x, int64_t n, double lo, double hi, double *plo, double *phi)
{
    int64_t stride = n > 100000 ? n / 100000 + 1 : 1, m = (n + stride - 1) / stride;
    float *s = malloc((size_t)m * sizeof *s);
    if (!s)
        return -1;
    for (int64_t i = 0; i < m; i++)
        s[i] = x[i * stride];
    qsort(s, (size_t)m, sizeof *s, cmp_float);
    *plo = s[(int64_t)(lo * (double)(m - 1))];
    *phi = s[(int64_t)(hi * (double)(m - 1))];
    free(s);
    return 0;
}

static void check_rate_and_length(const struct ecg_check_model *m, int64_t n, double fs, struct findings *f)
{
    double secs = (double)n / fs;
    if (fabs(fs - m->fs) > 1e-9 * m->fs)
        add(f, ECG_CHECK_RESAMPLED, ECG_CHECK_WARNING,
            "sampled at %g Hz; the model was trained at %g Hz, so the signal was resampled to %g Hz", fs,
            m->fs, m->fs);
    if (secs < m->min_s)
        add(f, ECG_CHECK_TOO_SHORT, ECG_CHECK_ERROR,
            "%.2f s long; the model needs at least %g s, so the record was not classified", secs, m->min_s);
    else if (m->beats && secs < m->window_s / SHORT_FRACTION)
        add(f, ECG_CHECK_SHORT, ECG_CHECK_WARNING,
            "%.2f s long, under twice the model's %g s beat window; beats too close to either end for a whole "
            "window are left out, so few beats are classified",
            secs, m->window_s);
    else if (!m->beats && secs < SHORT_FRACTION * m->window_s)
        add(f, ECG_CHECK_SHORT, ECG_CHECK_WARNING,
            "%.2f s long, %.0f%% of the model's %g s window; the rest is %s, so the result rests on few beats",
            secs, 100.0 * secs / m->window_s, m->window_s, m->fill ? m->fill : "zero padding");
    if (m->max_s > 0 && secs > m->max_s)
        add(f, ECG_CHECK_TOO_LONG, ECG_CHECK_WARNING,
            "%.1f s long, longer than any training recording (%g s); the result averages all windows, so a "
            "brief "
            "episode may be diluted",
            secs, m->max_s);
}

/* The longest run of (nearly) equal consecutive samples. */
static void check_flat_segment(const float *x, int64_t n, double fs, struct findings *f)
{
    int64_t best = 0, best_at = 0, run = 1;
    for (int64_t i = 1; i < n; i++) {
        run = fabsf(x[i] - x[i - 1]) <= 1e-6f ? run + 1 : 1;
        if (run > best) {
            best = run;
            best_at = i - run + 1;
        }
    }
    if ((double)best >= FLAT_SEGMENT_S * fs)
        add(f, ECG_CHECK_FLAT_SEGMENT, ECG_CHECK_WARNING,
            "the signal is constant for %.1f s from %.1f s: a lead may have come off", (double)best / fs,
            (double)best_at / fs);
}

/* Samples pinned at the record's maximum or minimum in runs of three or more. */
static void check_clipping(const float *x, int64_t n, struct findings *f)
{
    float hi = x[0], lo = x[0];
    for (int64_t i = 1; i < n; i++) {
        hi = x[i] > hi ? x[i] : hi;
        lo = x[i] < lo ? x[i] : lo;
    }
    float eps = 1e-6f * (hi - lo);
    int64_t pinned = 0, run_hi = 0, run_lo = 0;
    for (int64_t i = 0; i <= n; i++) {
        int at_hi = i < n && x[i] >= hi - eps, at_lo = i < n && x[i] <= lo + eps;
        if (!at_hi && run_hi) {
            pinned += run_hi >= 3 ? run_hi : 0;
            run_hi = 0;
        }
        if (!at_lo && run_lo) {
            pinned += run_lo >= 3 ? run_lo : 0;
            run_lo = 0;
        }
        run_hi += at_hi;
        run_lo += at_lo;
    }
    if ((double)pinned >= CLIP_FRACTION * (double)n)
        add(f, ECG_CHECK_CLIPPING, ECG_CHECK_WARNING,
            "%.1f%% of samples sit at the extremes %.3g / %.3g mV in flat runs: the amplifier saturated "
            "(clipping)",
            100.0 * (double)pinned / (double)n, hi, lo);
}

static void check_amplitude(const float *x, int64_t n, struct findings *f)
{
    double lo, hi;
    if (percentiles(x, n, 0.001, 0.999, &lo, &hi))
        return;
    double range = hi - lo;
    if (range > AMPLITUDE_HIGH_MV)
        add(f, ECG_CHECK_AMPLITUDE_HIGH, ECG_CHECK_WARNING,
            "peak-to-peak amplitude %.4g, implausible for millivolts (ECG is ~0.5-5 mV): raw ADC counts or "
            "microvolts? Convert to mV",
            range);
    else if (range < AMPLITUDE_LOW_MV)
        add(f, ECG_CHECK_AMPLITUDE_LOW, ECG_CHECK_WARNING,
            "peak-to-peak amplitude %.3g, implausible for millivolts (ECG is ~0.5-5 mV): volts? Convert to "
            "mV",
            range);
}

/* Compares the typical largest upward and downward deflection per 2 s block after removing the baseline. */
static void check_polarity(const float *x, int64_t n, double fs, struct findings *f)
{
    int64_t half = (int64_t)(0.3 * fs), block = (int64_t)(2.0 * fs), nblocks = block > 0 ? n / block : 0;
    if (half < 1 || nblocks < 3)
        return;
    double *cum = malloc((size_t)(n + 1) * sizeof *cum);
    float *up = malloc((size_t)nblocks * sizeof *up), *down = malloc((size_t)nblocks * sizeof *down);
    if (cum && up && down) {
        cum[0] = 0;
        for (int64_t i = 0; i < n; i++)
            cum[i + 1] = cum[i] + x[i];
        for (int64_t b = 0; b < nblocks; b++) {
            float u = 0, d = 0;
            for (int64_t i = b * block; i < (b + 1) * block; i++) {
                int64_t a = i - half < 0 ? 0 : i - half, e = i + half + 1 > n ? n : i + half + 1;
                float hp = x[i] - (float)((cum[e] - cum[a]) / (double)(e - a));
                u = hp > u ? hp : u;
                d = -hp > d ? -hp : d;
            }
            up[b] = u;
            down[b] = d;
        }
        qsort(up, (size_t)nblocks, sizeof *up, cmp_float);
        qsort(down, (size_t)nblocks, sizeof *down, cmp_float);
        double mu = up[nblocks / 2], md = down[nblocks / 2];
        if (md > INVERT_MIN_MV && md > INVERT_RATIO * mu)
            add(f, ECG_CHECK_INVERTED, ECG_CHECK_WARNING,
                "the largest deflections point down (typically %.2f mV down vs %.2f mV up): leads reversed "
                "or the "
                "polarity inverted? The model was trained on upright QRS complexes",
                md, mu);
    }
    free(cum);
    free(up);
    free(down);
}

int ecg_checks_run(const float *x, int64_t n, double fs, const struct ecg_check_model *m,
                   struct ecg_check *out, int cap)
{
    struct findings f = {out, cap, 0};
    int64_t bad = 0, first = -1;
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            bad++;
            first = first < 0 ? i : first;
        }
    if (bad) {
        add(&f, ECG_CHECK_NOT_FINITE, ECG_CHECK_ERROR,
            "%lld samples are NaN or infinite (the first at %.3f s): missing data; the record was not "
            "classified",
            (long long)bad, (double)first / fs);
        return f.count < cap ? f.count : cap;
    }
    check_rate_and_length(m, n, fs, &f);
    if (n < 2)
        return f.count < cap ? f.count : cap;
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double)n;
    for (int64_t i = 0; i < n; i++)
        sq += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(sq / (double)n);
    if (sd <= FLAT_STD_MV) {
        add(&f, ECG_CHECK_FLAT, ECG_CHECK_ERROR,
            "flat line: standard deviation %.3g mV, no ECG in it (lead off or an empty channel); not "
            "classified",
            sd);
        return f.count < cap ? f.count : cap;
    }
    check_flat_segment(x, n, fs, &f);
    check_clipping(x, n, &f);
    check_amplitude(x, n, &f);
    check_polarity(x, n, fs, &f);
    return f.count < cap ? f.count : cap;
}

const char *ecg_check_name(enum ecg_check_code code)
{
    static const char *const names[ECG_CHECK_COUNT] = {
        "resampled",    "too_short", "short",          "too_long",      "not_finite", "flat",
        "flat_segment", "clipping",  "amplitude_high", "amplitude_low", "inverted"};
    return (unsigned)code < ECG_CHECK_COUNT ? names[code] : "unknown";
}

int ecg_checks_fatal(const struct ecg_check *c, int count)
{
    for (int i = 0; i < count; i++)
        if (c[i].severity == ECG_CHECK_ERROR)
            return 1;
    return 0;
}
