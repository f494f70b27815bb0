/* Temperature scaling, reliability bins, ECE, and their JSON, text, SVG and HTML forms (eval/calibration.h). */
#include "eval/calibration.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void ecg_calibration_softmax(float *out, const float *logits, int k, double t)
{
    float mx = logits[0];
    for (int j = 1; j < k; j++)
        mx = fmaxf(mx, logits[j]);
    double sum = 0;
    for (int j = 0; j < k; j++)
        sum += exp((double)(logits[j] - mx) / t);
    for (int j = 0; j < k; j++)
        out[j] = (float)(exp((double)(logits[j] - mx) / t) / sum);
}

/* Scratch of the record probabilities at one temperature, allocated once for the ~120 of a fit. */
struct cal_work {
    float *probs;    /* (nrec, k) */
    int64_t *counts; /* (nrec) windows per record */
};

static int work_init(struct cal_work *w, int64_t nrec, int k, bool want_probs, struct ecg_error *err)
{
    size_t n = (size_t)(nrec > 0 ? nrec : 1);
    w->probs = want_probs ? malloc(n * (size_t)k * sizeof *w->probs) : NULL;
    w->counts = malloc(n * sizeof *w->counts);
    if ((want_probs && !w->probs) || !w->counts) {
        free(w->probs);
        free(w->counts);
        return ecg_error_set(err, ECG_ERR_NOMEM, "calibration: out of memory for %lld records", (long long)nrec);
    }
    return ECG_OK;
}

static void work_free(struct cal_work *w)
{
    free(w->probs);
    free(w->counts);
}

static void record_probs(float *probs, int64_t *counts, const float *logits, const int64_t *row, int64_t nwin,
                         int64_t nrec, int k, double t)
{
    float p[256];
    ECG_ASSERT(k >= 1 && k <= 256);
    memset(probs, 0, (size_t)(nrec * k) * sizeof *probs);
    memset(counts, 0, (size_t)nrec * sizeof *counts);
    for (int64_t w = 0; w < nwin; w++) {
        ecg_calibration_softmax(p, logits + w * k, k, t);
        for (int j = 0; j < k; j++)
            probs[row[w] * k + j] += p[j];
        counts[row[w]]++;
    }
    for (int64_t r = 0; r < nrec; r++)
        for (int j = 0; j < k && counts[r] > 0; j++)
            probs[r * k + j] /= (float)counts[r];
}

int ecg_calibration_record_probs(float *probs, const float *logits, const int64_t *row, int64_t nwin, int64_t nrec,
                                 int k, double t, struct ecg_error *err)
{
    struct cal_work w;
    ECG_TRY(work_init(&w, nrec, k, false, err));
    record_probs(probs, w.counts, logits, row, nwin, nrec, k, t);
    work_free(&w);
    return ECG_OK;
}

static double nll(struct cal_work *w, const float *logits, const int64_t *row, int64_t nwin, const int *truth,
                  int64_t nrec, int k, double t)
{
    record_probs(w->probs, w->counts, logits, row, nwin, nrec, k, t);
    double sum = 0;
    int64_t n = 0;
    for (int64_t r = 0; r < nrec; r++) {
        if (truth[r] < 0)
            continue;
        sum -= log(fmax((double)w->probs[r * k + truth[r]], 1e-12));
        n++;
    }
    return n ? sum / (double)n : NAN;
}

int ecg_calibration_nll(const float *logits, const int64_t *row, int64_t nwin, const int *truth, int64_t nrec, int k,
                        double t, double *out, struct ecg_error *err)
{
    struct cal_work w;
    ECG_TRY(work_init(&w, nrec, k, true, err));
    *out = nll(&w, logits, row, nwin, truth, nrec, k, t);
    work_free(&w);
    return ECG_OK;
}

int ecg_calibration_fit_temperature(const float *logits, const int64_t *row, int64_t nwin, const int *truth,
                                    int64_t nrec, int k, double *t, struct ecg_error *err)
{
    *t = 1.0;
    struct cal_work w;
    ECG_TRY(work_init(&w, nrec, k, true, err));
#define NLL(u) nll(&w, logits, row, nwin, truth, nrec, k, exp(u))
    const double lo = log(ECG_CAL_T_MIN), hi = log(ECG_CAL_T_MAX);
    enum { GRID = 61 };
    const double step = (hi - lo) / (GRID - 1);
    int best = 0;
    double best_v = INFINITY;
    for (int i = 0; i < GRID; i++) {
        double v = NLL(lo + i * step);
        if (isnan(v)) {
            work_free(&w);
            return ecg_error_set(err, ECG_ERR_VALUE, "temperature scaling: no record of the fitting split has a label");
        }
        if (v < best_v) {
            best_v = v;
            best = i;
        }
    }
    /* Golden-section search on the grid cell on either side of the best point. */
    double a = lo + (best > 0 ? best - 1 : 0) * step, b = lo + (best < GRID - 1 ? best + 1 : GRID - 1) * step;
    const double g = 0.6180339887498949;
    double c = b - g * (b - a), d = a + g * (b - a), fc = NLL(c), fd = NLL(d);
    for (int it = 0; it < 60 && b - a > 1e-10; it++) {
        if (fc < fd) {
            b = d, d = c, fd = fc;
            c = b - g * (b - a), fc = NLL(c);
        } else {
            a = c, c = d, fc = fd;
            d = a + g * (b - a), fd = NLL(d);
        }
    }
    double u = 0.5 * (a + b), v = NLL(u);
    *t = v <= best_v ? exp(u) : exp(lo + best * step);
#undef NLL
    work_free(&w);
    return ECG_OK;
}

void ecg_reliability_compute(struct ecg_reliability *r, const float *probs, const int *truth, int64_t n, int k)
{
    memset(r, 0, sizeof *r);
    double conf_sum[ECG_CAL_BINS] = {0}, nll = 0;
    int64_t correct[ECG_CAL_BINS] = {0};
    for (int64_t i = 0; i < n; i++) {
        if (truth[i] < 0)
            continue;
        const float *p = probs + i * k;
        int arg = 0;
        for (int j = 1; j < k; j++)
            if (p[j] > p[arg])
                arg = j;
        int b = (int)ceil((double)p[arg] * ECG_CAL_BINS) - 1;
        b = b < 0 ? 0 : b >= ECG_CAL_BINS ? ECG_CAL_BINS - 1 : b;
        r->count[b]++;
        conf_sum[b] += p[arg];
        correct[b] += arg == truth[i];
        nll -= log(fmax((double)p[truth[i]], 1e-12));
        r->n++;
    }
    for (int b = 0; b < ECG_CAL_BINS; b++) {
        r->confidence[b] = r->count[b] ? conf_sum[b] / (double)r->count[b] : NAN;
        r->accuracy[b] = r->count[b] ? (double)correct[b] / (double)r->count[b] : NAN;
        if (r->count[b])
            r->ece += (double)r->count[b] / (double)r->n * fabs(r->accuracy[b] - r->confidence[b]);
    }
    r->nll = r->n ? nll / (double)r->n : NAN;
    if (!r->n)
        r->ece = NAN;
}

/* ---- report forms ---- */

static void json_reliability(struct ecg_json *j, const struct ecg_reliability *r)
{
    ecg_json_begin_object(j);
    ecg_json_key(j, "bins");
    ecg_json_int(j, ECG_CAL_BINS);
    ecg_json_key(j, "count");
    ecg_json_begin_array(j, true);
    for (int b = 0; b < ECG_CAL_BINS; b++)
        ecg_json_int(j, r->count[b]);
    ecg_json_end_array(j);
    for (int pass = 0; pass < 2; pass++) {
        ecg_json_key(j, pass ? "accuracy" : "confidence");
        ecg_json_begin_array(j, true);
        for (int b = 0; b < ECG_CAL_BINS; b++)
            ecg_json_number(j, pass ? r->accuracy[b] : r->confidence[b]);
        ecg_json_end_array(j);
    }
    ecg_json_end_object(j);
}

void ecg_calibration_write_json(struct ecg_json *j, const struct ecg_calibration *c)
{
    ecg_json_begin_object(j);
    ecg_json_key(j, "temperature");
    ecg_json_number(j, c->temperature);
    ecg_json_key(j, "fitted_on");
    if (c->fitted_on)
        ecg_json_string(j, c->fitted_on);
    else
        ecg_json_null(j);
    ecg_json_key(j, "fit_records");
    ecg_json_int(j, c->fit_records);
    ecg_json_key(j, "rr_fusion");
    ecg_json_bool(j, c->rr_fusion);
    ecg_json_key(j, "ece");
    ecg_json_number(j, c->after.ece);
    ecg_json_key(j, "nll");
    ecg_json_number(j, c->after.nll);
    ecg_json_key(j, "ece_uncalibrated");
    ecg_json_number(j, c->has_before ? c->before.ece : NAN);
    ecg_json_key(j, "nll_uncalibrated");
    ecg_json_number(j, c->has_before ? c->before.nll : NAN);
    ecg_json_key(j, "reliability");
    json_reliability(j, &c->after);
    if (c->has_before) {
        ecg_json_key(j, "reliability_uncalibrated");
        json_reliability(j, &c->before);
    }
    ecg_json_end_object(j);
}

void ecg_calibration_write_text(FILE *f, const struct ecg_calibration *c)
{
    fprintf(f, "\ncalibration (%d confidence bins): temperature %.4f", ECG_CAL_BINS, c->temperature);
    if (c->fitted_on)
        fprintf(f, " (fitted on the %s split, %lld records)", c->fitted_on, (long long)c->fit_records);
    if (c->rr_fusion)
        fprintf(f, ", then the RR fusion fitted on the same records");
    fputc('\n', f);
    if (c->has_before)
        fprintf(f, "  before: ECE %.4f, NLL %.4f\n", c->before.ece, c->before.nll);
    fprintf(f, "  %s ECE %.4f, NLL %.4f\n", c->has_before ? "after: " : "", c->after.ece, c->after.nll);
}

#define FONT "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""

/* Bin accuracies as bars (after) or as a dashed line of points (before). */
static void reliability_series(FILE *f, const struct ecg_reliability *r, double x0, double y0, double size, bool bars)
{
    double w = size / ECG_CAL_BINS;
    if (!bars)
        fputs("<polyline fill=\"none\" stroke=\"#7f7f7f\" stroke-width=\"2\" stroke-dasharray=\"5,3\" points=\"", f);
    for (int b = 0; b < ECG_CAL_BINS; b++) {
        if (!r->count[b])
            continue;
        double acc = r->accuracy[b];
        if (bars)
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f77b4\" fill-opacity=\"0.75\" "
                    "stroke=\"#fff\"><title>%d: %lld records, confidence %.3f, accuracy %.3f</title></rect>\n",
                    x0 + b * w, y0 + size * (1 - acc), w, size * acc, b, (long long)r->count[b], r->confidence[b],
                    acc);
        else
            fprintf(f, "%.1f,%.1f ", x0 + size * r->confidence[b], y0 + size * (1 - acc));
    }
    if (!bars)
        fputs("\"/>\n", f);
}

void ecg_calibration_svg(FILE *f, const struct ecg_calibration *c)
{
    const double x0 = 60, y0 = 30, size = 360;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"460\" height=\"460\" viewBox=\"0 0 460 460\">\n");
    fprintf(f, "<rect width=\"460\" height=\"460\" fill=\"#fff\"/>\n");
    fprintf(f, "<text x=\"230\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" %s>Reliability (T = %.3f, ECE %.4f)</text>\n",
            FONT, c->temperature, c->after.ece);
    for (int i = 0; i <= 5; i++) {
        double v = i / 5.0;
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", x0, y0 + size * (1 - v),
                x0 + size, y0 + size * (1 - v));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" %s>%.1f</text>\n", x0 - 6,
                y0 + size * (1 - v) + 4, FONT, v);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" %s>%.1f</text>\n",
                x0 + size * v, y0 + size + 16, FONT, v);
    }
    reliability_series(f, &c->after, x0, y0, size, true);
    if (c->has_before)
        reliability_series(f, &c->before, x0, y0, size, false);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" stroke-width=\"1.5\"/>\n", x0,
            y0 + size, x0 + size, y0);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n", x0, y0,
            size, size);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" %s>confidence</text>\n",
            x0 + size / 2, y0 + size + 34, FONT);
    fprintf(f, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 16 %.1f)\" "
               "%s>accuracy</text>\n", y0 + size / 2, y0 + size / 2, FONT);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" %s fill=\"#1f77b4\">bars: calibrated</text>\n", x0 + 8,
            y0 + 16, FONT);
    if (c->has_before)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" %s fill=\"#7f7f7f\">dashed: T = 1</text>\n", x0 + 8,
                y0 + 30, FONT);
    fputs("</svg>\n", f);
}

void ecg_calibration_write_html(FILE *f, const struct ecg_calibration *c)
{
    fputs("<h2>Calibration</h2>\n<table>\n<thead><tr><th></th><th>ECE</th><th>NLL</th></tr></thead>\n<tbody>\n", f);
    if (c->has_before)
        fprintf(f, "<tr><td>T = 1</td><td>%.4f</td><td>%.4f</td></tr>\n", c->before.ece, c->before.nll);
    fprintf(f, "<tr><td>T = %.4f%s</td><td>%.4f</td><td>%.4f</td></tr>\n</tbody>\n</table>\n", c->temperature,
            c->fitted_on ? " (fitted)" : "", c->after.ece, c->after.nll);
    ecg_calibration_svg(f, c);
}
