/* QRS detector: band-pass, derivative, squaring, integration, adaptive thresholds with search-back. */
#include "data/qrs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/signal.h"

void ecg_qrs_opts_default(struct ecg_qrs_opts *o)
{
    o->low_hz = 5.0;
    o->high_hz = 15.0;
    o->order = 2;
    o->window_s = 0.15;
    o->refractory_s = 0.2;
    o->twave_s = 0.36;
    o->learn_s = 2.0;
    o->searchback = 1.66;
    o->threshold = 0.1;
}

int ecg_qrs_work_init(struct ecg_qrs_work *w, int64_t capacity, struct ecg_error *err)
{
    memset(w, 0, sizeof *w);
    if (capacity < 1)
        return ecg_error_set(err, ECG_ERR_VALUE, "QRS detector: workspace for %lld samples, expected >= 1",
                             (long long)capacity);
    w->band = malloc((size_t)capacity * sizeof *w->band);
    w->slope = malloc((size_t)capacity * sizeof *w->slope);
    w->energy = malloc((size_t)capacity * sizeof *w->energy);
    w->candidate = malloc((size_t)(capacity / 2 + 1) * sizeof *w->candidate);
    if (!w->band || !w->slope || !w->energy || !w->candidate) {
        ecg_qrs_work_free(w);
        return ecg_error_set(err, ECG_ERR_NOMEM, "QRS detector: no memory for a workspace of %lld samples",
                             (long long)capacity);
    }
    w->capacity = capacity;
    return ECG_OK;
}

void ecg_qrs_work_free(struct ecg_qrs_work *w)
{
    free(w->band);
    free(w->slope);
    free(w->energy);
    free(w->candidate);
    memset(w, 0, sizeof *w);
}

/* Samples in `s` seconds at fs, at least 1; saturating far below INT64_MAX, so that sums of a few stay
 * defined before check_opts has refused the rate. */
static int64_t samples_of(double s, double fs)
{
    const double v = s * fs;
    if (!(v < 0x1p60))
        return INT64_C(1) << 60;
    int64_t n = (int64_t)llround(v);
    return n < 1 ? 1 : n;
}

int64_t ecg_qrs_max_beats(int64_t length, double fs, const struct ecg_qrs_opts *o)
{
    struct ecg_qrs_opts d;
    if (!o) {
        ecg_qrs_opts_default(&d);
        o = &d;
    }
    return length / samples_of(o->refractory_s, fs) + 1;
}

static int check_opts(const struct ecg_qrs_opts *o, double fs, struct ecg_error *err)
{
    if (!(fs > 0 && fs <= ECG_FS_MAX))
        return ecg_error_set(err, ECG_ERR_RANGE, "QRS detector: sampling rate %g Hz, expected > 0 and at most %g",
                             fs, ECG_FS_MAX);
    if (!(o->low_hz > 0 && o->low_hz < o->high_hz))
        return ecg_error_set(err, ECG_ERR_RANGE, "QRS detector: band %g..%g Hz, expected 0 < low < high",
                             o->low_hz, o->high_hz);
    if (!(fs > 2.0 * o->high_hz))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "QRS detector: sampling rate %g Hz cannot hold the %g Hz band edge (expected "
                             "> %g Hz)",
                             fs, o->high_hz, 2.0 * o->high_hz);
    if (!(o->window_s > 0 && o->refractory_s > 0 && o->twave_s >= 0 && o->learn_s > 0 && o->searchback > 1))
        return ecg_error_set(err, ECG_ERR_RANGE,
                             "QRS detector: window %g s, refractory %g s, T-wave %g s, learning %g s, "
                             "search-back %g: expected positive durations and search-back > 1",
                             o->window_s, o->refractory_s, o->twave_s, o->learn_s, o->searchback);
    if (!(o->threshold > 0 && o->threshold < 1))
        return ecg_error_set(err, ECG_ERR_RANGE, "QRS detector: threshold %g, expected in (0, 1)",
                             o->threshold);
    return ECG_OK;
}

/* Stages 2-3: w->slope = five-point derivative of w->band (per second), w->energy its square
 * integrated over a centred window of 2*half+1 samples (running sum in double). */
static void derive_and_integrate(struct ecg_qrs_work *w, int64_t n, double fs, int64_t half)
{
    const float *b = w->band;
    for (int64_t i = 0; i < n; i++) {
        /* Edges repeat the end samples, so the derivative is defined everywhere. */
        float m2 = b[i >= 2 ? i - 2 : 0], m1 = b[i >= 1 ? i - 1 : 0];
        float p1 = b[i + 1 < n ? i + 1 : n - 1], p2 = b[i + 2 < n ? i + 2 : n - 1];
        w->slope[i] = (float)((2.0 * p2 + p1 - m1 - 2.0 * m2) * fs / 8.0);
    }
    double sum = 0;
    for (int64_t i = 0; i < half && i < n; i++)
        sum += (double)w->slope[i] * w->slope[i];
    double inv = 1.0 / (double)(2 * half + 1);
    for (int64_t i = 0; i < n; i++) {
        if (i + half < n)
            sum += (double)w->slope[i + half] * w->slope[i + half];
        if (i - half - 1 >= 0)
            sum -= (double)w->slope[i - half - 1] * w->slope[i - half - 1];
        w->energy[i] = (float)(sum > 0 ? sum * inv : 0.0);
    }
}

/* Stage 4: maxima of the energy that are the largest within +-dist (the first of equal ones). */
static int64_t find_candidates(const struct ecg_qrs_work *w, int64_t n, int64_t dist)
{
    const float *e = w->energy;
    int64_t m = 0;
    for (int64_t i = 1; i + 1 < n; i++) {
        if (!(e[i] > e[i - 1] && e[i] >= e[i + 1]))
            continue;
        int64_t lo = i - dist < 0 ? 0 : i - dist, hi = i + dist >= n ? n - 1 : i + dist;
        int best = 1;
        for (int64_t k = lo; k <= hi && best; k++)
            best = k < i ? e[k] < e[i] : e[k] <= e[i];
        if (best) {
            w->candidate[m++] = i;
            i += dist; /* nothing within dist can be another candidate */
        }
    }
    return m;
}

/* One candidate, measured: its beat position, its heights and its steepest slope. */
struct cand {
    int64_t pos;
    double energy, band, slope;
};

static struct cand measure(const struct ecg_qrs_work *w, int64_t n, int64_t at, int64_t half)
{
    struct cand c = {at, w->energy[at], 0, 0};
    int64_t lo = at - half < 0 ? 0 : at - half, hi = at + half >= n ? n - 1 : at + half;
    for (int64_t k = lo; k <= hi; k++) {
        double a = fabs((double)w->band[k]);
        if (a > c.band) {
            c.band = a;
            c.pos = k;
        }
        double s = fabs((double)w->slope[k]);
        if (s > c.slope)
            c.slope = s;
    }
    return c;
}

/* Running levels of stage 5 and the RR history behind search-back. */
struct levels {
    double spki, npki, spkf, npkf;
    double rr1[8], rr2[8]; /* the last 8 intervals; the last 8 regular ones */
    int n1, n2, misses;
    double avg1, avg2; /* their means, in samples */
    int64_t last;      /* position of the last beat, -1 before the first */
    double last_slope;
};

static double mean8(const double *v, int n)
{
    double s = 0;
    int k = n < 8 ? n : 8;
    for (int i = 0; i < k; i++)
        s += v[i];
    return s / k;
}

static void accept(struct levels *L, const struct cand *c, double weight)
{
    L->spki = weight * c->energy + (1 - weight) * L->spki;
    L->spkf = weight * c->band + (1 - weight) * L->spkf;
    if (L->last >= 0) {
        double rr = (double)(c->pos - L->last);
        L->rr1[L->n1++ % 8] = rr;
        L->avg1 = mean8(L->rr1, L->n1);
        /* Intervals within 92-116 % of the regular average feed it; after 8 misses in a row the
         * rhythm has changed and the regular average restarts from the recent one. */
        if (L->n2 == 0 || (rr > 0.92 * L->avg2 && rr < 1.16 * L->avg2)) {
            L->rr2[L->n2++ % 8] = rr;
            L->avg2 = mean8(L->rr2, L->n2);
            L->misses = 0;
        } else if (++L->misses >= 8) {
            memcpy(L->rr2, L->rr1, sizeof L->rr2);
            L->n2 = 8;
            L->avg2 = L->avg1;
            L->misses = 0;
        }
    }
    L->last = c->pos;
    L->last_slope = c->slope;
}

static void reject(struct levels *L, const struct cand *c)
{
    L->npki = 0.125 * c->energy + 0.875 * L->npki;
    L->npkf = 0.125 * c->band + 0.875 * L->npkf;
}

/* Whether c passes `scale` x the thresholds, which sit `fraction` of the way from the noise
 * to the signal levels, on both the integrated and the band-passed signal. */
static int above_thresholds(const struct levels *L, const struct cand *c, double fraction, double scale)
{
    double thi = L->npki + fraction * (L->spki - L->npki), thf = L->npkf + fraction * (L->spkf - L->npkf);
    return c->energy > scale * thi && c->band > scale * thf;
}

/* The largest candidate of [from, k) that passes half the thresholds and lies at least a
 * refractory period from the last beat and from the current candidate c; its index (and
 * *best), or -1. */
static int64_t search_back(const struct ecg_qrs_work *w, int64_t n, int64_t from, int64_t k,
                           const struct cand *c, const struct levels *L, double fraction, int64_t refr,
                           int64_t half, struct cand *best)
{
    int64_t found = -1;
    memset(best, 0, sizeof *best);
    for (int64_t j = from; j < k; j++) {
        struct cand t = measure(w, n, w->candidate[j], half);
        if (t.pos - L->last >= refr && c->pos - t.pos >= refr && above_thresholds(L, &t, fraction, 0.5) &&
            t.energy > best->energy) {
            found = j;
            *best = t;
        }
    }
    return found;
}

/* After a search-back that found nothing even at half the thresholds: the signal has shrunk (a
 * loose electrode, a change of lead) and its beats, taken for noise, have pulled the noise
 * levels to their own height; every level halves until a search-back finds them. */
static void halve_levels(struct levels *L)
{
    L->spki *= 0.5;
    L->npki *= 0.5;
    L->spkf *= 0.5;
    L->npkf *= 0.5;
}

/* Initial levels: the largest and the mean of the first learn samples. */
static void learn(struct levels *L, const struct ecg_qrs_work *w, int64_t learn_n, double fs)
{
    memset(L, 0, sizeof *L);
    double emax = 0, esum = 0, bmax = 0, bsum = 0;
    for (int64_t i = 0; i < learn_n; i++) {
        double e = w->energy[i], b = fabs((double)w->band[i]);
        emax = e > emax ? e : emax;
        bmax = b > bmax ? b : bmax;
        esum += e;
        bsum += b;
    }
    L->spki = emax;
    L->npki = esum / (double)learn_n;
    L->spkf = bmax;
    L->npkf = bsum / (double)learn_n;
    L->last = -1;
    L->avg1 = L->avg2 = fs; /* 60 beats per minute until there are intervals */
}

int ecg_qrs_detect_into(const float *x, int64_t length, double fs, const struct ecg_qrs_opts *o,
                        struct ecg_qrs_work *w, int64_t *peaks, int64_t *count, struct ecg_error *err)
{
    struct ecg_qrs_opts defaults;
    if (!o) {
        ecg_qrs_opts_default(&defaults);
        o = &defaults;
    }
    *count = 0;
    if (length < 1)
        return ecg_error_set(err, ECG_ERR_VALUE, "QRS detector: empty signal");
    ECG_TRY(check_opts(o, fs, err));
    int64_t learn_n = samples_of(o->learn_s, fs);
    if (length < learn_n)
        return ecg_error_set(err, ECG_ERR_VALUE,
                             "QRS detector: signal of %lld samples (%.3g s at %g Hz), expected at least %g s",
                             (long long)length, (double)length / fs, fs, o->learn_s);
    if (w->capacity < length)
        return ecg_error_set(err, ECG_ERR_RANGE, "QRS detector: workspace for %lld samples, signal has %lld",
                             (long long)w->capacity, (long long)length);
    ECG_TRY(ecg_signal_check_finite(x, length, err));
    memcpy(w->band, x, (size_t)length * sizeof *x);
    int rc = ecg_signal_bandpass(w->band, length, fs, o->order, o->low_hz, o->high_hz, err);
    if (rc)
        return ecg_error_prefix(err, rc, "QRS detector");
    int64_t half = samples_of(o->window_s / 2, fs), refr = samples_of(o->refractory_s, fs);
    int64_t twave = samples_of(o->twave_s, fs);
    derive_and_integrate(w, length, fs, half);
    int64_t m = find_candidates(w, length, refr);
    struct levels L;
    learn(&L, w, learn_n, fs);
    /* searched: candidates before it were looked at by a search-back that found nothing. */
    int64_t nb = 0, first_after_last = 0, searched = 0;
    for (int64_t k = 0; k < m; k++) {
        struct cand c = measure(w, length, w->candidate[k], half);
        /* Search-back: too long since the last beat (against the regular or, when shorter, the
         * recent RR average: bigeminy keeps the regular one long). */
        double avg = L.avg1 < L.avg2 ? L.avg1 : L.avg2;
        if (L.last >= 0 && (double)(c.pos - L.last) > o->searchback * avg) {
            struct cand bc;
            int64_t from = first_after_last > searched ? first_after_last : searched;
            int64_t best = search_back(w, length, from, k, &c, &L, o->threshold, refr, half, &bc);
            if (best >= 0) { /* a beat was missed: take it and go on from there */
                accept(&L, &bc, 0.25);
                peaks[nb++] = bc.pos;
                first_after_last = searched = best + 1;
                k = best;
                continue;
            }
            searched = k;
            halve_levels(&L);
        }
        int beat = above_thresholds(&L, &c, o->threshold, 1.0);
        if (beat && L.last >= 0) {
            int64_t rr = c.pos - L.last;
            if (rr < refr || (rr < twave && c.slope < 0.5 * L.last_slope))
                beat = 0; /* too early, or a T wave */
        }
        if (beat) {
            accept(&L, &c, 0.125);
            peaks[nb++] = c.pos;
            first_after_last = k + 1;
        } else
            reject(&L, &c);
    }
    *count = nb;
    return ECG_OK;
}

int ecg_qrs_detect(const float *x, int64_t length, double fs, const struct ecg_qrs_opts *o, int64_t **peaks,
                   int64_t *count, struct ecg_error *err)
{
    *peaks = NULL;
    *count = 0;
    struct ecg_qrs_work w = {0};
    ECG_TRY(ecg_qrs_work_init(&w, length < 1 ? 1 : length, err));
    int64_t cap = ecg_qrs_max_beats(length, fs > 0 && isfinite(fs) ? fs : 1, o);
    int64_t *p = malloc((size_t)cap * sizeof *p);
    int rc;
    if (!p)
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "QRS detector: no memory for %lld beats", (long long)cap);
    else
        rc = ecg_qrs_detect_into(x, length, fs, o, &w, p, count, err);
    ecg_qrs_work_free(&w);
    if (rc || *count == 0) {
        free(p);
        p = NULL;
    }
    *peaks = p;
    return rc;
}
