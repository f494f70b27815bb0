/* Hand-written SVG charts: learning curves and the confusion-matrix heat map. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "eval/report.h"
#include "eval/utf8.h"

#define FONT "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\""
#define TRAIN_COLOUR "#1f77b4"
#define VAL_COLOUR "#d62728"

/* XML 1.0's Char production: what may appear in a document at all. */
static int xml_allowed(uint32_t cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
}

void ecg_xml_escape(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t cp;
        int len = ecg_utf8_decode(p, &cp);
        if (len == 0 || !xml_allowed(cp)) { /* not UTF-8, or no XML character: U+FFFD */
            fputs("&#xFFFD;", f);
            p += len ? len : 1;
            continue;
        }
        switch (cp) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\r': fputs("&#13;", f); break; /* a raw one would be read as a line end */
        default: fwrite(p, 1, (size_t)len, f);
        }
        p += len;
    }
}

/* ---- learning curves ---- */

/* A step of 1, 2 or 5 times a power of ten giving about `target` intervals. */
static double nice_step(double range, int target)
{
    if (!(range > 0))
        return 1.0;
    double raw = range / target;
    double mag = pow(10.0, floor(log10(raw)));
    double r = raw / mag;
    double step = r <= 1.0 ? 1.0 : r <= 2.0 ? 2.0 : r <= 5.0 ? 5.0 : 10.0;
    return step * mag;
}

static int step_decimals(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

/* The series a panel can draw. */
enum series_field { TRAIN_LOSS, VAL_LOSS, TRAIN_F1, VAL_F1 };

static double field_value(const struct ecg_epoch_row *r, enum series_field f)
{
    switch (f) {
    case TRAIN_LOSS: return r->train_loss;
    case VAL_LOSS: return r->val_loss;
    case TRAIN_F1: return r->train_macro_f1;
    case VAL_F1: return r->val_macro_f1;
    }
    return NAN;
}

struct panel {
    double x, y, w, h;          /* plot area in pixels */
    double x0, x1, y0, y1;      /* data range          */
};

static double px(const struct panel *p, double v) { return p->x + (v - p->x0) / (p->x1 - p->x0) * p->w; }
static double py(const struct panel *p, double v) { return p->y + p->h - (v - p->y0) / (p->y1 - p->y0) * p->h; }

static void series(FILE *f, const struct panel *p, const struct ecg_epoch_row *rows, int64_t n,
                   enum series_field field, const char *colour, bool dashed)
{
    /* polyline segments between consecutive finite points, plus markers */
    bool open = false;
    for (int64_t i = 0; i < n; i++) {
        double v = field_value(&rows[i], field);
        if (!isfinite(v)) {
            if (open)
                fputs("\"/>\n", f);
            open = false;
            continue;
        }
        if (!open) {
            fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s points=\"", colour,
                    dashed ? " stroke-dasharray=\"6 3\"" : "");
            open = true;
        } else {
            fputc(' ', f);
        }
        fprintf(f, "%.2f,%.2f", px(p, (double)rows[i].epoch), py(p, v));
    }
    if (open)
        fputs("\"/>\n", f);
    for (int64_t i = 0; i < n; i++) {
        double v = field_value(&rows[i], field);
        if (isfinite(v))
            fprintf(f, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n",
                    px(p, (double)rows[i].epoch), py(p, v), colour);
    }
}

/* The range of two series' finite values (lo..hi) and of their epochs (emin..emax); returns how many. */
struct extent {
    double lo, hi, emin, emax;
};

static int64_t series_extent(const struct ecg_epoch_row *rows, int64_t n, enum series_field a, enum series_field b,
                             struct extent *x)
{
    *x = (struct extent){INFINITY, -INFINITY, INFINITY, -INFINITY};
    int64_t points = 0;
    for (int64_t i = 0; i < n; i++) {
        const enum series_field fields[2] = {a, b};
        for (int s = 0; s < 2; s++) {
            double v = field_value(&rows[i], fields[s]);
            if (!isfinite(v))
                continue;
            x->lo = fmin(x->lo, v);
            x->hi = fmax(x->hi, v);
            x->emin = fmin(x->emin, (double)rows[i].epoch);
            x->emax = fmax(x->emax, (double)rows[i].epoch);
            points++;
        }
    }
    return points;
}

/* The panel's axis ranges from the data's extent: y padded by 5% on round steps (within [0, 1] for a unit
 * range, not below 0 for padding alone), x one epoch wider; returns the y step. */
static double set_ranges(struct panel *p, struct extent x, bool unit_range)
{
    double lo = x.lo, hi = x.hi;
    double pad = (hi - lo) * 0.05;
    if (pad == 0)
        pad = fabs(hi) * 0.1 + 0.05;
    lo -= pad;
    hi += pad;
    if (unit_range) {
        lo = fmax(lo, 0.0);
        hi = fmin(hi, 1.0);
    } else if (lo < 0 && x.emin >= 0 && hi > 0 && lo > -pad * 2) {
        lo = 0; /* losses are not negative: do not draw a negative axis for padding */
    }
    double ystep = nice_step(hi - lo, 5);
    p->y0 = floor(lo / ystep) * ystep;
    p->y1 = ceil(hi / ystep) * ystep;
    if (p->y1 <= p->y0)
        p->y1 = p->y0 + ystep;
    p->x0 = x.emin - 0.5;
    p->x1 = x.emax + 0.5;
    return ystep;
}

/* Grid lines and ticks of both axes, the frame and the axis labels. */
static void axes(FILE *f, const struct panel *p, struct extent x, double ystep, double ox, const char *ylabel)
{
    int yd = step_decimals(ystep);
    for (double v = p->y0; v <= p->y1 + ystep * 1e-6; v += ystep) {
        double y = py(p, v);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#e3e3e3\"/>\n", p->x, y,
                p->x + p->w, y);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#333\"/>\n", p->x - 5, y,
                p->x, y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.2f\" font-size=\"12\" text-anchor=\"end\">%.*f</text>\n",
                p->x - 8, y + 4, yd, fabs(v) < ystep * 1e-6 ? 0.0 : v);
    }
    double xstep = nice_step(x.emax - x.emin + 1, 8);
    if (xstep < 1)
        xstep = 1;
    double first = ceil(x.emin / xstep) * xstep;
    for (double e = first; e <= x.emax + 1e-9; e += xstep) {
        double ex = px(p, e);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#333\"/>\n", ex,
                p->y + p->h, ex, p->y + p->h + 5);
        fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%.0f</text>\n", ex,
                p->y + p->h + 19, e);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
            p->x, p->y, p->w, p->h);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\">epoch</text>\n",
            p->x + p->w / 2, p->y + p->h + 38);
    fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">",
            ox + 16, p->y + p->h / 2);
    ecg_xml_escape(f, ylabel);
    fputs("</text>\n", f);
}

/* The legend, inside the plot at the right, where curves usually are not. */
static void legend(FILE *f, const struct panel *p, bool bottom)
{
    double lx = p->x + p->w - 118, ly = bottom ? p->y + p->h - 52 : p->y + 8;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"110\" height=\"44\" fill=\"#fff\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n",
            lx, ly);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>\n",
            lx + 8, ly + 14, lx + 34, ly + 14, TRAIN_COLOUR);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">train</text>\n", lx + 40, ly + 18);
    fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n",
            lx + 8, ly + 32, lx + 34, ly + 32, VAL_COLOUR);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">validation</text>\n", lx + 40, ly + 36);
}

static void panel(FILE *f, double ox, double oy, double width, double height, const char *title,
                  const char *ylabel, const struct ecg_epoch_row *rows, int64_t n,
                  enum series_field train_field, enum series_field val_field, bool unit_range, bool legend_bottom)
{
    struct panel p = {ox + 62, oy + 34, width - 62 - 16, height - 34 - 50, 0, 1, 0, 1};
    struct extent x;
    int64_t points = series_extent(rows, n, train_field, val_field, &x);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"15\" font-weight=\"bold\" text-anchor=\"middle\">",
            p.x + p.w / 2, oy + 20);
    ecg_xml_escape(f, title);
    fputs("</text>\n", f);
    if (points == 0) {
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n",
                p.x, p.y, p.w, p.h);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" fill=\"#666\" text-anchor=\"middle\">no data</text>\n",
                p.x + p.w / 2, p.y + p.h / 2);
        return;
    }
    double ystep = set_ranges(&p, x, unit_range);
    axes(f, &p, x, ystep, ox, ylabel);
    series(f, &p, rows, n, train_field, TRAIN_COLOUR, false);
    series(f, &p, rows, n, val_field, VAL_COLOUR, true);
    legend(f, &p, legend_bottom);
}

void ecg_svg_curves(FILE *f, const struct ecg_epoch_row *rows, int64_t n)
{
    const double w = 900, h = 340;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" " FONT ">\n",
            w, h, w, h);
    fprintf(f, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", w, h);
    panel(f, 0, 0, w / 2, h, "Loss", "loss", rows, n, TRAIN_LOSS, VAL_LOSS, false, false);
    panel(f, w / 2, 0, w / 2, h, "Macro-F1", "macro-F1", rows, n,
          TRAIN_F1, VAL_F1, true, true);
    fputs("</svg>\n", f);
}

/* ---- confusion matrix ---- */

/* White to dark blue, by v in [0, 1]. */
static void cell_colour(double v, int rgb[3])
{
    static const int lo[3] = {247, 251, 255}, mid[3] = {107, 174, 214}, hi[3] = {8, 48, 107};
    if (!(v >= 0))
        v = 0;
    if (v > 1)
        v = 1;
    for (int i = 0; i < 3; i++)
        rgb[i] = v < 0.5 ? (int)lround(lo[i] + (mid[i] - lo[i]) * (v / 0.5))
                         : (int)lround(mid[i] + (hi[i] - mid[i]) * ((v - 0.5) / 0.5));
}

void ecg_svg_confusion(FILE *f, const struct ecg_metrics *m)
{
    const int k = m->k;
    double cell = 420.0 / k;
    cell = cell > 110 ? 110 : cell < 34 ? 34 : cell;
    size_t longest = 1;
    for (int c = 0; c < k; c++)
        if (strlen(m->names[c]) > longest)
            longest = strlen(m->names[c]);
    double label_w = 16 + 8.0 * (double)(longest < 24 ? longest : 24);
    double left = 40 + label_w, top = 50, grid = cell * k;
    double width = left + grid + 90, height = top + grid + 70;
    double count_font = cell >= 60 ? 15 : cell >= 44 ? 12 : 10;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" " FONT ">\n",
            width, height, width, height);
    fputs("<defs><linearGradient id=\"cmscale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">", f);
    for (int s = 0; s <= 4; s++) {
        int rgb[3];
        cell_colour(s / 4.0, rgb);
        fprintf(f, "<stop offset=\"%d%%\" stop-color=\"rgb(%d,%d,%d)\"/>", s * 25, rgb[0], rgb[1], rgb[2]);
    }
    fputs("</linearGradient></defs>\n", f);
    fprintf(f, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", width, height);
    fprintf(f, "<text x=\"%.1f\" y=\"24\" font-size=\"15\" font-weight=\"bold\" text-anchor=\"middle\">"
               "Confusion matrix (n = %" PRId64 ", colour = row %%)</text>\n",
            left + grid / 2, m->n);
    for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++) {
            double v = m->cm_norm[(int64_t)t * k + p];
            int rgb[3];
            cell_colour(v, rgb);
            double x = left + p * cell, y = top + t * cell;
            const char *ink = v > 0.45 ? "#fff" : "#111";
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"rgb(%d,%d,%d)\" stroke=\"#fff\"/>\n",
                    x, y, cell, cell, rgb[0], rgb[1], rgb[2]);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" font-weight=\"bold\" text-anchor=\"middle\" fill=\"%s\">%" PRId64 "</text>\n",
                    x + cell / 2, y + cell / 2 + (cell >= 44 ? -1 : 4), count_font, ink,
                    m->cm[(int64_t)t * k + p]);
            if (cell >= 44)
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" text-anchor=\"middle\" fill=\"%s\">%.1f%%</text>\n",
                        x + cell / 2, y + cell / 2 + count_font, count_font - 3, ink, 100.0 * v);
        }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n",
            left, top, grid, grid);
    for (int c = 0; c < k; c++) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"end\">", left - 8,
                top + c * cell + cell / 2 + 4);
        ecg_xml_escape(f, m->names[c]);
        fputs("</text>\n", f);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\">",
                left + c * cell + cell / 2, top + grid + 18);
        ecg_xml_escape(f, m->names[c]);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\">Predicted class</text>\n",
            left + grid / 2, top + grid + 44);
    fprintf(f, "<text transform=\"translate(20 %.1f) rotate(-90)\" font-size=\"14\" text-anchor=\"middle\">True class</text>\n",
            top + grid / 2);
    /* colour scale */
    double bx = left + grid + 24;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"16\" height=\"%.1f\" fill=\"url(#cmscale)\" stroke=\"#333\"/>\n",
            bx, top, grid);
    for (int s = 0; s <= 4; s++)
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">%d%%</text>\n", bx + 20,
                top + grid - grid * s / 4.0 + 4, s * 25);
    fputs("</svg>\n", f);
}

/* ---- ECG trace, with the spectrogram under it ---- */

/* Ticks, grid and numbers of one axis: vertical (left) when `vertical`, else along the bottom. */
static void axis(FILE *f, const struct panel *p, bool vertical, bool grid, const char *label)
{
    double lo = vertical ? p->y0 : p->x0, hi = vertical ? p->y1 : p->x1;
    double step = nice_step(hi - lo, vertical ? 4 : 10);
    int d = step_decimals(step);
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-6; v += step) {
        double value = fabs(v) < step * 1e-6 ? 0.0 : v;
        if (vertical) {
            double y = py(p, v);
            if (grid)
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#e3e3e3\"/>\n", p->x, y,
                        p->x + p->w, y);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"#333\"/>\n", p->x - 5, y,
                    p->x, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.2f\" font-size=\"12\" text-anchor=\"end\">%.*f</text>\n", p->x - 6,
                    y + 4, d, value);
        } else {
            double x = px(p, v);
            fprintf(f, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x, p->y + p->h, x,
                    p->y + p->h + 5);
            fprintf(f, "<text x=\"%.2f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%.*f</text>\n", x,
                    p->y + p->h + 19, d, value);
        }
    }
    if (vertical) {
        fprintf(f, "<text transform=\"translate(%.1f %.1f) rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">",
                p->x - 48, p->y + p->h / 2);
    } else {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"middle\">", p->x + p->w / 2,
                p->y + p->h + 36);
    }
    ecg_xml_escape(f, label);
    fputs("</text>\n", f);
}

/* The trace as one polyline; long signals keep each pixel column's first, minimum and maximum sample. */
static void trace_line(FILE *f, const struct panel *p, const struct ecg_svg_trace *t)
{
    fputs("<polyline fill=\"none\" stroke=\"#1f1f1f\" stroke-width=\"1\" stroke-linejoin=\"round\" points=\"", f);
    int64_t columns = (int64_t)p->w, per = t->n / (columns > 0 ? columns : 1);
    for (int64_t i = 0; i < t->n;) {
        int64_t end = per > 2 ? i + per : i + 1;
        end = end > t->n ? t->n : end;
        int64_t lo = i, hi = i;
        for (int64_t j = i; j < end; j++) {
            lo = t->x[j] < t->x[lo] ? j : lo;
            hi = t->x[j] > t->x[hi] ? j : hi;
        }
        int64_t order[3] = {i, lo < hi ? lo : hi, lo < hi ? hi : lo};
        for (int k = 0; k < (end - i > 2 ? 3 : 1); k++)
            fprintf(f, "%.2f,%.2f ", px(p, t->t0 + (double)order[k] / t->fs), py(p, (double)t->x[order[k]]));
        i = end;
    }
    fputs("\"/>\n", f);
}

void ecg_svg_trace(FILE *f, const struct ecg_svg_trace *t)
{
    const double width = 960, left = 78, right = 20, trace_h = 200, gap = 62, spec_h = t->image_href ? 260 : 0;
    const double height = 44 + trace_h + 50 + (t->image_href ? gap + spec_h + 50 : 0);
    double t1 = t->t0 + (double)t->n / t->fs;
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < t->n; i++) {
        lo = fminf(lo, t->x[i]);
        hi = fmaxf(hi, t->x[i]);
    }
    double pad = hi > lo ? 0.05 * (hi - lo) : 0.5;
    struct panel p = {left, 44, width - left - right, trace_h, t->t0, t1, (double)lo - pad, (double)hi + pad};
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" " FONT ">\n",
            width, height, width, height);
    fprintf(f, "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", width, height);
    fprintf(f, "<text x=\"%.1f\" y=\"24\" font-size=\"15\" font-weight=\"bold\">", left);
    ecg_xml_escape(f, t->title ? t->title : "");
    fputs("</text>\n", f);
    if (t->shade_to > t->shade_from)
        fprintf(f, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" fill=\"#fde9c8\"/>\n",
                px(&p, fmax(t->shade_from, p.x0)), p.y, px(&p, fmin(t->shade_to, p.x1)) - px(&p, fmax(t->shade_from, p.x0)),
                p.h);
    axis(f, &p, true, true, t->unit ? t->unit : "");
    axis(f, &p, false, false, "time (s)");
    trace_line(f, &p, t);
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n", p.x, p.y,
            p.w, p.h);
    if (t->image_href) {
        /* The image on the trace's time scale: its columns span img_t0..img_t1, rows img_f1 (top)..img_f0. */
        struct panel s = {left, 44 + trace_h + 50 + gap, p.w, spec_h, t->t0, t1, t->img_f0, t->img_f1};
        fprintf(f, "<image x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" preserveAspectRatio=\"none\" "
                   "style=\"image-rendering:pixelated\" href=\"",
                px(&s, t->img_t0), s.y, px(&s, t->img_t1) - px(&s, t->img_t0), s.h);
        ecg_xml_escape(f, t->image_href);
        fputs("\"/>\n", f);
        axis(f, &s, true, false, "frequency (Hz)");
        axis(f, &s, false, false, "time (s)");
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#333\"/>\n", s.x,
                s.y, s.w, s.h);
    }
    fputs("</svg>\n", f);
}
