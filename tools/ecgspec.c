/* ecgspec: shows what a record becomes: its spectrogram image as PNG (with the trace above) and HDF5. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/blas.h"
#include "train/config.h"
#include "core/error.h"
#include "core/log.h"
#include "data/loader.h"
#include "data/png.h"
#include "data/readers.h"
#include "data/signal.h"
#include "data/spectrogram.h"
#include "data/window.h"
#include "io/h5util.h"

static const char usage_text[] =
    "usage: ecgspec [options] INPUT\n"
    "       ecgspec --help | --version\n"
    "\n"
    "Writes the spectrogram image the model sees for one window of one record:\n"
    "PREFIX.png (the trace of the window above its spectrogram, for viewing) and\n"
    "PREFIX.h5 (dataset 'spectrogram', float32 (height, width, channels), the options\n"
    "as attributes, and dataset 'signal', the window in mV).\n"
    "\n"
    "INPUT is a CinC 2017 record file (A00001.mat with its .hea; the label comes from\n"
    "REFERENCE.csv in its folder or the one above), or, with --format, a dataset from\n"
    "which --index or --id picks the record.\n"
    "\n"
    "  --format NAME       dataset format: cinc2017, cachet_short, cachet_full, mitdb, kaggle_csv\n"
    "  --index N           record index in the dataset (default 0)\n"
    "  --id ID             record id in the dataset\n"
    "  --out PREFIX        output prefix (default: the record id)\n"
    "  --trace             also write PREFIX_trace.png: the whole record, the window shaded\n"
    "  --window K          evaluation window K of the record (default 0)\n"
    "  --config FILE       spectrogram, window and preprocessing options of a run config\n"
    "                      (data.*, eval.windows); KEY=VALUE arguments override its keys\n"
    "  --seconds S         window length (default 10)\n"
    "  --windows K         evaluation windows per record (default 3)\n"
    "  --pad zero|reflect  padding of records shorter than the window (default zero)\n"
    "  --stft NAME         STFT window: hann, hamming, tukey, boxcar, blackman (default hann)\n"
    "  --win S             STFT window length in seconds (default 0.5)\n"
    "  --hop S             STFT hop in seconds (default 0.05)\n"
    "  --fmin HZ, --fmax HZ  frequency band (default 0 and 50; fmax 0 = Nyquist)\n"
    "  --size HxW          image size (default 128x128)\n"
    "  --channels C        1 or 3 (default 3)\n"
    "  --norm NAME         none, zscore or range (default zscore)\n"
    "  --floor P           power floor in mV^2/Hz before the dB (default 1e-10)\n"
    "  --resample HZ       resample the record to HZ first (integer rates)\n"
    "  --bandpass LO,HI    zero-phase Butterworth band-pass (order 3) first\n"
    "  --quiet             only errors on stderr\n"
    "  --help, -h          print this text\n"
    "  --version           print the version\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error.\n";

struct args {
    int help, version, trace, quiet;
    const char *format, *id, *out, *input, *config;
    long long index, window;
    double resample, band_lo, band_hi;
    struct ecg_loader_opts lo;
    char **overrides;
    int noverrides;
};

/* ---- argument parsing ---- */

static int parse_double(const char *opt, const char *s, double *out, struct ecg_error *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return ecg_error_set(err, ECG_ERR_USAGE, "%s '%s': expected a number", opt, s);
    *out = v;
    return ECG_OK;
}

static int parse_int(const char *opt, const char *s, long long lo, long long hi, long long *out,
                     struct ecg_error *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi)
        return ecg_error_set(err, ECG_ERR_USAGE, "%s '%s': expected an integer in %lld..%lld", opt, s, lo, hi);
    *out = v;
    return ECG_OK;
}

/* Turns the config error just set into a usage error (same message). */
static int usage_error(struct ecg_error *err)
{
    if (err)
        err->code = ECG_ERR_USAGE;
    return ECG_ERR_USAGE;
}

static int parse_args(int argc, char **argv, struct args *a, struct ecg_error *err)
{
    memset(a, 0, sizeof *a);
    ecg_loader_opts_default(&a->lo);
    a->lo.train = 0;
    a->lo.shuffle = 0;
    a->lo.batch_size = 1;
    a->overrides = calloc((size_t)argc, sizeof *a->overrides);
    if (!a->overrides)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    static const char *const with_value[] = {"--format", "--index", "--id", "--out", "--window", "--config",
                                             "--seconds", "--windows", "--pad", "--stft", "--win", "--hop",
                                             "--fmin", "--fmax", "--size", "--channels", "--norm", "--floor",
                                             "--resample", "--bandpass", NULL};
    struct ecg_spec_opts *sp = &a->lo.spec;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int takes = 0;
        for (int k = 0; with_value[k]; k++)
            takes |= strcmp(s, with_value[k]) == 0;
        const char *v = takes ? (i + 1 < argc ? argv[++i] : NULL) : NULL;
        if (takes && !v)
            return ecg_error_set(err, ECG_ERR_USAGE, "%s needs a value", s);
        long long n;
        if (!strcmp(s, "--help") || !strcmp(s, "-h"))
            a->help = 1;
        else if (!strcmp(s, "--version"))
            a->version = 1;
        else if (!strcmp(s, "--trace"))
            a->trace = 1;
        else if (!strcmp(s, "--quiet"))
            a->quiet = 1;
        else if (!strcmp(s, "--format"))
            a->format = v;
        else if (!strcmp(s, "--id"))
            a->id = v;
        else if (!strcmp(s, "--out"))
            a->out = v;
        else if (!strcmp(s, "--config"))
            a->config = v;
        else if (!strcmp(s, "--index"))
            ECG_TRY(parse_int(s, v, 0, INT64_MAX, &a->index, err));
        else if (!strcmp(s, "--window"))
            ECG_TRY(parse_int(s, v, 0, 999, &a->window, err));
        else if (!strcmp(s, "--windows")) {
            ECG_TRY(parse_int(s, v, 1, 1000, &n, err));
            a->lo.window.eval_windows = n;
        } else if (!strcmp(s, "--seconds"))
            ECG_TRY(parse_double(s, v, &a->lo.window.length_s, err));
        else if (!strcmp(s, "--pad")) {
            if (!strcmp(v, "zero"))
                a->lo.window.pad = ECG_PAD_ZERO;
            else if (!strcmp(v, "reflect"))
                a->lo.window.pad = ECG_PAD_REFLECT;
            else
                return ecg_error_set(err, ECG_ERR_USAGE, "--pad '%s': expected zero or reflect", v);
        } else if (!strcmp(s, "--stft")) {
            if (ecg_spec_window_parse("--stft", v, &sp->window, err))
                return usage_error(err);
        } else if (!strcmp(s, "--norm")) {
            if (ecg_spec_norm_parse("--norm", v, &sp->norm, err))
                return usage_error(err);
        } else if (!strcmp(s, "--win"))
            ECG_TRY(parse_double(s, v, &sp->window_seconds, err));
        else if (!strcmp(s, "--hop"))
            ECG_TRY(parse_double(s, v, &sp->hop_seconds, err));
        else if (!strcmp(s, "--fmin"))
            ECG_TRY(parse_double(s, v, &sp->fmin, err));
        else if (!strcmp(s, "--fmax"))
            ECG_TRY(parse_double(s, v, &sp->fmax, err));
        else if (!strcmp(s, "--floor"))
            ECG_TRY(parse_double(s, v, &sp->log_floor, err));
        else if (!strcmp(s, "--resample"))
            ECG_TRY(parse_double(s, v, &a->resample, err));
        else if (!strcmp(s, "--channels")) {
            ECG_TRY(parse_int(s, v, 1, 3, &n, err));
            sp->channels = n;
        } else if (!strcmp(s, "--size")) {
            long long h, w;
            char tail;
            if (sscanf(v, "%lldx%lld%c", &h, &w, &tail) != 2 || h < 1 || w < 1 || h > 4096 || w > 4096)
                return ecg_error_set(err, ECG_ERR_USAGE, "--size '%s': expected HEIGHTxWIDTH, 1..4096 each", v);
            sp->height = h;
            sp->width = w;
        } else if (!strcmp(s, "--bandpass")) {
            char tail;
            if (sscanf(v, "%lf,%lf%c", &a->band_lo, &a->band_hi, &tail) != 2 || !(a->band_lo >= 0) ||
                !(a->band_hi > a->band_lo))
                return ecg_error_set(err, ECG_ERR_USAGE, "--bandpass '%s': expected LO,HI in Hz with LO < HI", v);
        } else if (s[0] == '-' && s[1] != '\0')
            return ecg_error_set(err, ECG_ERR_USAGE, "unknown option '%s' (see --help)", s);
        else if (strchr(s, '='))
            a->overrides[a->noverrides++] = argv[i]; /* KEY=VALUE for --config */
        else if (!a->input)
            a->input = s;
        else
            return ecg_error_set(err, ECG_ERR_USAGE, "unexpected argument '%s' (one INPUT only)", s);
    }
    if (a->help || a->version)
        return ECG_OK;
    if (!a->input)
        return ecg_error_set(err, ECG_ERR_USAGE, "missing INPUT (see --help)");
    if (a->noverrides && !a->config)
        return ecg_error_set(err, ECG_ERR_USAGE, "KEY=VALUE '%s' needs --config", a->overrides[0]);
    return ECG_OK;
}

/* ---- reading the record ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The CinC label of `name` from REFERENCE.csv in dir or its parent ("" when absent). */
static void cinc_label(const char *dir, const char *name, char *label, size_t cap)
{
    label[0] = '\0';
    const char *cands[2] = {"%s/REFERENCE.csv", "%s/../REFERENCE.csv"};
    for (int c = 0; c < 2 && !label[0]; c++) {
        char path[4096];
        snprintf(path, sizeof path, cands[c], dir);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        char line[256];
        size_t n = strlen(name);
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, name, n) && line[n] == ',') {
                char *v = line + n + 1;
                v[strcspn(v, "\r\n")] = '\0';
                snprintf(label, cap, "%s", v);
                break;
            }
        fclose(f);
    }
}

/* Reads one CinC record file through the dataset reader and a one-line label list. */
static int read_cinc_file(const char *path, struct ecg_dataset *ds, int *known_label, struct ecg_error *err)
{
    char dir[4096], name[256];
    const char *slash = strrchr(path, '/');
    if (slash) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        snprintf(name, sizeof name, "%s", slash + 1);
    } else {
        snprintf(dir, sizeof dir, ".");
        snprintf(name, sizeof name, "%s", path);
    }
    name[strlen(name) - 4] = '\0'; /* drop ".mat" */
    if (access(path, R_OK) != 0)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot read the record: %s", path, strerror(errno));
    char label[16];
    cinc_label(dir, name, label, sizeof label);
    *known_label = label[0] != '\0';
    char tmpl[] = "/tmp/ecgspec-labels-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return ecg_error_set(err, ECG_ERR_IO, "cannot create a temporary label file: %s", strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        remove(tmpl);
        return ecg_error_set(err, ECG_ERR_IO, "cannot write a temporary label file");
    }
    /* An unlisted record is read with a stand-in label that is then cleared to unknown. */
    fprintf(f, "%s,%s\n", name, *known_label ? label : "N");
    fclose(f);
    struct ecg_read_options opt;
    ecg_read_options_default(&opt);
    opt.label_file = tmpl;
    int rc = ecg_cinc2017_read(dir, &opt, ds, err);
    remove(tmpl);
    if (rc)
        return rc;
    if (!*known_label)
        for (int64_t i = 0; i < ds->count; i++)
            ds->records[i].label = -1;
    return ECG_OK;
}

/* ---- drawing ---- */

struct canvas {
    int64_t w, h;
    uint8_t *px; /* RGB */
};

static void put(struct canvas *c, int64_t x, int64_t y, const uint8_t rgb[3])
{
    if (x < 0 || y < 0 || x >= c->w || y >= c->h)
        return;
    memcpy(c->px + (y * c->w + x) * 3, rgb, 3);
}

static void fill_rect(struct canvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const uint8_t rgb[3])
{
    for (int64_t y = y0; y < y1; y++)
        for (int64_t x = x0; x < x1; x++)
            put(c, x, y, rgb);
}

/* A 3x5 pixel font: digits, upper-case letters and a little punctuation. */
static const struct {
    char ch;
    const char *rows; /* 15 characters, '#' set */
} font[] = {
    {'0', "####.##.##.####"}, {'1', ".#.##..#..#.###"}, {'2', "###..#####..###"}, {'3', "###..####..####"},
    {'4', "#.##.####..#..#"}, {'5', "####..###..####"}, {'6', "####..####.####"}, {'7', "###..#..#..#..#"},
    {'8', "####.#####.####"}, {'9', "####.####..####"}, {'A', ".#.#.#####.##.#"}, {'B', "##.#.###.#.###."},
    {'C', ".###..#..#...##"}, {'D', "##.#.##.##.###."}, {'E', "####..##.#..###"}, {'F', "####..##.#..#.."},
    {'G', ".###..#.##.#.##"}, {'H', "#.##.#####.##.#"}, {'I', "###.#..#..#.###"}, {'J', "..#..#..##.#.#."},
    {'K', "#.##.###.#.##.#"}, {'L', "#..#..#..#..###"}, {'M', "#.########.##.#"}, {'N', "##.#.##.##.##.#"},
    {'O', ".#.#.##.##.#.#."}, {'P', "##.#.###.#..#.."}, {'Q', ".#.#.##.####.##"}, {'R', "##.#.###.#.##.#"},
    {'S', ".###...#...###."}, {'T', "###.#..#..#..#."}, {'U', "#.##.##.##.####"}, {'V', "#.##.##.##.#.#."},
    {'W', "#.##.########.#"}, {'X', "#.##.#.#.#.##.#"}, {'Y', "#.##.#.#..#..#."}, {'Z', "###..#.#.#..###"},
    {'.', ".............#."}, {'-', "......###......"}, {':', "....#.....#...."}, {'/', "..#..#.#.#..#.."},
    {'(', "..#.#..#..#...#"}, {')', "#...#..#..#.#.."}, {'=', "...###...###..."}, {'_', "............###"},
    {',', "..........#.#.."}, {'~', "....####......."}, {'+', "....#.###.#...."}, {'^', ".#.#.#........."},
    {'%', "#.#..#.#.#..#.#"},
};

/* Draws text at (x, y) (top-left) with pixels of `scale`; returns the width drawn. */
static int64_t text(struct canvas *c, int64_t x, int64_t y, int scale, const uint8_t rgb[3], const char *s)
{
    int64_t x0 = x;
    for (; *s; s++) {
        char ch = (*s >= 'a' && *s <= 'z') ? (char)(*s - 'a' + 'A') : *s;
        const char *rows = NULL;
        for (size_t k = 0; k < sizeof font / sizeof font[0]; k++)
            if (font[k].ch == ch)
                rows = font[k].rows;
        if (rows)
            for (int r = 0; r < 5; r++)
                for (int q = 0; q < 3; q++)
                    if (rows[r * 3 + q] == '#')
                        fill_rect(c, x + q * scale, y + r * scale, x + (q + 1) * scale, y + (r + 1) * scale, rgb);
        x += 4 * scale;
    }
    return x - x0;
}

static int64_t text_width(const char *s, int scale) { return (int64_t)strlen(s) * 4 * scale; }

/* Viridis, sampled at 9 points and interpolated linearly. */
static void viridis(double v, uint8_t rgb[3])
{
    static const uint8_t pts[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                                      {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
    if (!(v > 0))
        v = 0;
    if (v > 1)
        v = 1;
    double t = v * 8;
    int i = (int)t;
    if (i > 7)
        i = 7;
    double a = t - i;
    for (int k = 0; k < 3; k++)
        rgb[k] = (uint8_t)lround(pts[i][k] + a * (pts[i + 1][k] - pts[i][k]));
}

static void line(struct canvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1, const uint8_t rgb[3])
{
    int64_t dx = llabs(x1 - x0), dy = -llabs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        put(c, x0, y0, rgb);
        if (x0 == x1 && y0 == y1)
            break;
        int64_t e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* A "nice" tick step (1, 2, 2.5 or 5 times a power of ten) for about `n` ticks over `span`. */
static double nice_step(double span, int n)
{
    double raw = span / n, p = pow(10, floor(log10(raw))), m = raw / p;
    return p * (m < 1.5 ? 1 : m < 2.25 ? 2 : m < 3.5 ? 2.5 : m < 7.5 ? 5 : 10);
}

static void fmt_num(char *buf, size_t n, double v, double step)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 3)
        dec = 3;
    snprintf(buf, n, "%.*f", dec, fabs(v) < step * 1e-6 ? 0.0 : v);
}

static const uint8_t black[3] = {20, 20, 20}, grey[3] = {150, 150, 150},
                     blue[3] = {24, 70, 160}, shade[3] = {222, 232, 248};

/*
 * Plots x[0..n) (sampled at fs, first sample at time t0) over the time range
 * [ta, tb] into the box (bx, by, bw, bh), with y labels in mV on the left.
 */
static void plot_trace(struct canvas *c, int64_t bx, int64_t by, int64_t bw, int64_t bh, const float *x, int64_t n,
                       double fs, double t0, double ta, double tb)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double t = t0 + (double)i / fs;
        if (t >= ta && t <= tb) {
            lo = x[i] < lo ? x[i] : lo;
            hi = x[i] > hi ? x[i] : hi;
        }
    }
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    double pad = 0.06 * (hi - lo);
    lo -= pad;
    hi += pad;
    line(c, bx, by + bh, bx + bw, by + bh, grey);
    line(c, bx, by, bx, by + bh, grey);
    double step = nice_step(hi - lo, 4);
    for (double v = ceil(lo / step) * step; v <= hi; v += step) {
        int64_t y = by + bh - (int64_t)llround((v - lo) / (hi - lo) * (double)bh);
        line(c, bx - 4, y, bx, y, grey);
        char buf[32];
        fmt_num(buf, sizeof buf, v, step);
        text(c, bx - 8 - text_width(buf, 2), y - 5, 2, black, buf);
    }
    text(c, bx + 6, by + 2, 2, black, "MV");
    /* Per pixel column: the min-max of its samples, joined to the previous column. */
    int64_t prev_y = -1;
    for (int64_t px = 0; px < bw; px++) {
        double ta_px = ta + (tb - ta) * (double)px / (double)bw, tb_px = ta + (tb - ta) * (double)(px + 1) / (double)bw;
        int64_t i0 = (int64_t)ceil((ta_px - t0) * fs), i1 = (int64_t)ceil((tb_px - t0) * fs);
        if (i0 < 0)
            i0 = 0;
        if (i1 > n)
            i1 = n;
        if (i1 <= i0)
            continue;
        double mn = x[i0], mx = x[i0];
        for (int64_t i = i0; i < i1; i++) {
            mn = x[i] < mn ? x[i] : mn;
            mx = x[i] > mx ? x[i] : mx;
        }
        int64_t y0 = by + bh - (int64_t)llround((mn - lo) / (hi - lo) * (double)bh);
        int64_t y1 = by + bh - (int64_t)llround((mx - lo) / (hi - lo) * (double)bh);
        int64_t yfirst = by + bh - (int64_t)llround((x[i0] - lo) / (hi - lo) * (double)bh);
        if (prev_y >= 0)
            line(c, bx + px - 1, prev_y, bx + px, yfirst, blue);
        line(c, bx + px, y0, bx + px, y1, blue);
        prev_y = by + bh - (int64_t)llround((x[i1 - 1] - lo) / (hi - lo) * (double)bh);
    }
}

/* Time ticks in seconds under a box spanning [ta, tb]. */
static void time_axis(struct canvas *c, int64_t bx, int64_t by, int64_t bw, double ta, double tb)
{
    double step = nice_step(tb - ta, 6);
    for (double t = ceil(ta / step) * step; t <= tb + 1e-9; t += step) {
        int64_t x = bx + (int64_t)llround((t - ta) / (tb - ta) * (double)bw);
        line(c, x, by, x, by + 4, grey);
        char buf[32];
        fmt_num(buf, sizeof buf, t, step);
        text(c, x - text_width(buf, 2) / 2, by + 8, 2, black, buf);
    }
    text(c, bx + bw - text_width("S", 2), by + 22, 2, black, "S");
}

/* ---- the program ---- */

struct view {
    const struct ecg_record *rec;
    const float *signal; /* the preprocessed record */
    int64_t length;
    double fs;
    int64_t start, len; /* the window */
    float *win;         /* the window's samples */
    float *img;         /* (h, w, c) */
    struct ecg_spec_geom geom;
    double ta, tb;      /* time span of the image columns, seconds from the record start */
    double fa, fb;      /* frequency span of the image rows (bottom, top edges) */
    int64_t k, count;   /* window k of count */
};

static int write_png_view(const struct args *a, const struct view *v, const char *path, struct ecg_error *err)
{
    const struct ecg_spec_opts *sp = &a->lo.spec;
    const int64_t H = sp->height, W = sp->width, C = sp->channels;
    int64_t sx = (720 + W - 1) / W, sy = (360 + H - 1) / H;
    const int64_t ml = 72, mr = 20, mt = 34, th = 150, gap = 56, mb = 40;
    const int64_t pw = W * sx, ph = H * sy;
    struct canvas c = {ml + pw + mr, mt + th + gap + ph + mb, NULL};
    c.px = malloc((size_t)(c.w * c.h * 3));
    if (!c.px)
        return ecg_error_set(err, ECG_ERR_NOMEM, "cannot allocate the picture");
    memset(c.px, 255, (size_t)(c.w * c.h * 3));
    char title[512];
    const char *cls = v->rec->label >= 0 ? ecg_task_class_name(ECG_TASK_RHYTHM, v->rec->label) : "unknown label";
    snprintf(title, sizeof title, "%s  %s  %g HZ  WINDOW %lld/%lld  %lldX%lldX%lld", v->rec->id, cls, v->fs,
             (long long)(v->k + 1), (long long)v->count, (long long)H, (long long)W, (long long)C);
    text(&c, ml, 8, 2, black, title);
    /* The trace over the same time span as the image columns. */
    int64_t ty = mt;
    plot_trace(&c, ml, ty, pw, th, v->win, v->len, v->fs, (double)v->start / v->fs, v->ta, v->tb);
    time_axis(&c, ml, ty + th, pw, v->ta, v->tb);
    /* The spectrogram: channel 0, min..max to viridis, row 0 (highest frequency) at the top. */
    int64_t sy0 = mt + th + gap;
    float mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < H * W; i++) {
        mn = v->img[i * C] < mn ? v->img[i * C] : mn;
        mx = v->img[i * C] > mx ? v->img[i * C] : mx;
    }
    for (int64_t y = 0; y < ph; y++)
        for (int64_t x = 0; x < pw; x++) {
            uint8_t rgb[3];
            float val = v->img[((y / sy) * W + x / sx) * C];
            viridis(mx > mn ? (val - mn) / (mx - mn) : 0.0, rgb);
            put(&c, ml + x, sy0 + y, rgb);
        }
    double step = nice_step(v->fb - v->fa, 5);
    for (double f = ceil(v->fa / step) * step; f <= v->fb + 1e-9; f += step) {
        int64_t y = sy0 + ph - (int64_t)llround((f - v->fa) / (v->fb - v->fa) * (double)ph);
        line(&c, ml - 4, y, ml - 1, y, grey);
        char buf[32];
        fmt_num(buf, sizeof buf, f, step);
        text(&c, ml - 8 - text_width(buf, 2), y - 5, 2, black, buf);
    }
    text(&c, ml - 8 - text_width("HZ", 2), sy0 - 22, 2, black, "HZ");
    time_axis(&c, ml, sy0 + ph, pw, v->ta, v->tb);
    int rc = ecg_png_write(path, c.px, c.h, c.w, 3, err);
    free(c.px);
    return rc;
}

static int write_trace_png(const struct view *v, const char *path, struct ecg_error *err)
{
    const int64_t ml = 72, mr = 20, mt = 34, th = 180, mb = 40, pw = 1200;
    struct canvas c = {ml + pw + mr, mt + th + mb, NULL};
    c.px = malloc((size_t)(c.w * c.h * 3));
    if (!c.px)
        return ecg_error_set(err, ECG_ERR_NOMEM, "cannot allocate the picture");
    memset(c.px, 255, (size_t)(c.w * c.h * 3));
    double dur = (double)v->length / v->fs;
    /* Shade the window (clipped to the record). */
    double wa = (double)v->start / v->fs, wb = (double)(v->start + v->len) / v->fs;
    int64_t xa = ml + (int64_t)llround((wa < 0 ? 0 : wa) / dur * (double)pw);
    int64_t xb = ml + (int64_t)llround((wb > dur ? dur : wb) / dur * (double)pw);
    fill_rect(&c, xa, mt, xb, mt + th, shade);
    char title[256];
    snprintf(title, sizeof title, "%s  %.1f S AT %g HZ  WINDOW %lld SHADED", v->rec->id, dur, v->fs,
             (long long)(v->k + 1));
    text(&c, ml, 8, 2, black, title);
    plot_trace(&c, ml, mt, pw, th, v->signal, v->length, v->fs, 0.0, 0.0, dur);
    time_axis(&c, ml, mt + th, pw, 0.0, dur);
    int rc = ecg_png_write(path, c.px, c.h, c.w, 3, err);
    free(c.px);
    return rc;
}

static int write_h5(const struct args *a, const struct view *v, const char *path, struct ecg_error *err)
{
    const struct ecg_spec_opts *sp = &a->lo.spec;
    hid_t f = -1, d = -1;
    ECG_TRY(ecg_h5_create(path, &f, err));
    int64_t shape[3] = {sp->height, sp->width, sp->channels}, slen[1] = {v->len};
    int rc = ecg_h5_write_floats(f, "spectrogram", 3, shape, v->img, err);
    if (!rc)
        rc = ecg_h5_write_floats(f, "signal", 1, slen, v->win, err);
    if (!rc && (d = H5Dopen2(f, "spectrogram", H5P_DEFAULT)) < 0)
        rc = ecg_error_set(err, ECG_ERR_IO, "%s: cannot reopen dataset 'spectrogram'", path);
    if (!rc) {
        const char *label = v->rec->label >= 0 ? ecg_task_class_name(ECG_TASK_RHYTHM, v->rec->label) : "";
        if (!rc)
            rc = ecg_h5_write_attr_string(d, "record", v->rec->id, err);
        if (!rc)
            rc = ecg_h5_write_attr_string(d, "label", label, err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "fs", v->fs, err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "window_start_s", (double)v->start / v->fs, err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "window_length_s", a->lo.window.length_s, err);
        if (!rc)
            rc = ecg_h5_write_attr_int64(d, "window_index", v->k, err);
        if (!rc)
            rc = ecg_h5_write_attr_string(d, "stft_window", ecg_spec_window_name(sp->window), err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "tukey_alpha", sp->tukey_alpha, err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "win_s", sp->window_seconds, err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "hop_s", sp->hop_seconds, err);
        if (!rc)
            rc = ecg_h5_write_attr_int64(d, "nperseg", v->geom.nperseg, err);
        if (!rc)
            rc = ecg_h5_write_attr_int64(d, "hop", v->geom.hop, err);
        if (!rc)
            rc = ecg_h5_write_attr_string(d, "detrend", ecg_spec_detrend_name(sp->detrend), err);
        if (!rc)
            rc = ecg_h5_write_attr_int64(d, "log_db", sp->log, err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "floor", sp->log_floor, err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "fmin", v->fa, err);
        if (!rc)
            rc = ecg_h5_write_attr_double(d, "fmax", v->fb, err);
        if (!rc)
            rc = ecg_h5_write_attr_string(d, "norm", ecg_spec_norm_name(sp->norm), err);
        if (!rc)
            rc = ecg_h5_write_attr_string(d, "orientation", "row 0 = highest frequency; column 0 = earliest", err);
    }
    if (d >= 0)
        H5Dclose(d);
    ecg_h5_close(f);
    if (rc)
        ecg_error_prefix(err, rc, "%s", path);
    return rc;
}

static int run(struct args *a, struct ecg_error *err)
{
    struct ecg_dataset ds = {0};
    struct ecg_spec spec = {0};
    struct view v = {0};
    float *resampled = NULL;
    int rc = ECG_OK, known = 1;
    if (a->config) {
        struct ecg_config cfg;
        if ((rc = ecg_config_resolve(&cfg, a->config, a->noverrides, a->overrides, err)))
            return rc;
        ecg_loader_opts_from_config(&cfg, 0, &a->lo);
        a->lo.batch_size = 1;
        if (!a->resample)
            a->resample = cfg.data.sample_rate;
        if (!(a->band_hi > 0) && cfg.data.band_high_hz > 0) {
            a->band_lo = cfg.data.band_low_hz;
            a->band_hi = cfg.data.band_high_hz;
        }
        ecg_config_free(&cfg);
    }
    if (!a->format && ends_with(a->input, ".mat")) {
        rc = read_cinc_file(a->input, &ds, &known, err);
    } else if (!a->format) {
        rc = ecg_error_set(err, ECG_ERR_USAGE, "%s: not a .mat record; give the dataset format with --format",
                           a->input);
    } else {
        struct ecg_read_options opt;
        ecg_read_options_default(&opt);
        opt.skip_bad = ECG_BAD_SKIP;
        rc = ecg_dataset_read(a->format, a->input, &opt, &ds, err);
    }
    if (rc)
        goto done;
    int64_t ri = a->index;
    if (a->id) {
        for (ri = 0; ri < ds.count && strcmp(ds.records[ri].id, a->id) != 0; ri++)
            ;
        if (ri == ds.count) {
            rc = ecg_error_set(err, ECG_ERR_RANGE, "%s: no record with id '%s' among %lld records", a->input, a->id,
                               (long long)ds.count);
            goto done;
        }
    } else if (ri >= ds.count) {
        rc = ecg_error_set(err, ECG_ERR_RANGE, "%s: --index %lld outside the %lld records", a->input,
                           (long long)ri, (long long)ds.count);
        goto done;
    }
    v.rec = &ds.records[ri];
    v.signal = v.rec->signal;
    v.length = v.rec->length;
    v.fs = v.rec->fs;
    if (a->resample > 0 && a->resample != v.fs) {
        int64_t n = 0;
        if ((rc = ecg_resample_rate(v.signal, v.length, v.fs, a->resample, &resampled, &n, err)))
            goto record_error;
        v.signal = resampled;
        v.length = n;
        v.fs = a->resample;
    }
    if (a->band_hi > 0) {
        if (!resampled) {
            resampled = malloc((size_t)v.length * sizeof *resampled);
            if (!resampled) {
                rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
                goto done;
            }
            memcpy(resampled, v.signal, (size_t)v.length * sizeof *resampled);
            v.signal = resampled;
        }
        if ((rc = ecg_signal_bandpass(resampled, v.length, v.fs, 3, a->band_lo, a->band_hi, err)))
            goto record_error;
    }
    const struct ecg_window_opts *wo = &a->lo.window;
    if ((rc = ecg_window_opts_check(wo, v.fs, err)))
        goto done;
    v.count = ecg_window_count(wo, v.length, v.fs, false);
    if (v.count == 0) {
        rc = ecg_error_set(err, ECG_ERR_VALUE, "record is shorter than the %g s window", wo->length_s);
        goto record_error;
    }
    if (a->window >= v.count) {
        rc = ecg_error_set(err, ECG_ERR_RANGE, "--window %lld: the record has %lld evaluation windows (0..%lld)",
                           a->window, (long long)v.count, (long long)v.count - 1);
        goto record_error;
    }
    v.k = a->window;
    v.len = ecg_window_samples(wo, v.fs);
    v.start = ecg_window_eval_start(wo, v.length, v.fs, v.k);
    const struct ecg_spec_opts *sp = &a->lo.spec;
    v.win = malloc((size_t)v.len * sizeof *v.win);
    v.img = malloc((size_t)(sp->height * sp->width * sp->channels) * sizeof *v.img);
    if (!v.win || !v.img) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
        goto done;
    }
    ecg_window_extract(wo, v.signal, v.length, v.start, v.len, v.win);
    if ((rc = ecg_spec_geometry(sp, v.fs, v.len, &v.geom, err)) || (rc = ecg_spec_init(&spec, sp, err)) ||
        (rc = ecg_spec_image(&spec, v.win, v.len, v.fs, v.img, err)))
        goto record_error;
    /* Extents of the image: half a hop / half a bin beyond the first and last centres. */
    double t0 = (double)v.start / v.fs, hop = (double)v.geom.hop / v.fs, df = v.fs / (double)v.geom.nfft;
    v.ta = t0 + (double)v.geom.nperseg / 2.0 / v.fs - hop / 2.0;
    v.tb = v.ta + (double)v.geom.nseg * hop;
    v.fa = ((double)v.geom.bin_lo - 0.5) * df;
    v.fb = ((double)v.geom.bin_hi - 0.5) * df;
    char prefix[2048], path[2100];
    snprintf(prefix, sizeof prefix, "%s", a->out ? a->out : v.rec->id);
    if (!a->out) /* record ids may hold '/' or ':' ("P1/m1/s1:1024") */
        for (char *p = prefix; *p; p++)
            if (*p == '/' || *p == ':')
                *p = '_';
    snprintf(path, sizeof path, "%s.png", prefix);
    if ((rc = write_png_view(a, &v, path, err)))
        goto done;
    if (!a->quiet)
        printf("%s\n", path);
    snprintf(path, sizeof path, "%s.h5", prefix);
    if ((rc = write_h5(a, &v, path, err)))
        goto done;
    if (!a->quiet)
        printf("%s\n", path);
    if (a->trace) {
        snprintf(path, sizeof path, "%s_trace.png", prefix);
        if ((rc = write_trace_png(&v, path, err)))
            goto done;
        if (!a->quiet)
            printf("%s\n", path);
    }
    if (!known)
        ecg_warn("%s: not listed in a REFERENCE.csv next to it: label unknown", a->input);
    goto done;
record_error:
    ecg_error_prefix(err, rc, "record '%s'", v.rec->id);
done:
    ecg_spec_free(&spec);
    free(v.win);
    free(v.img);
    free(resampled);
    ecg_dataset_free(&ds);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct args a;
    struct ecg_error err = {0};
    int rc = parse_args(argc, argv, &a, &err);
    if (!rc && a.help) {
        fputs(usage_text, stdout);
    } else if (!rc && a.version) {
        printf("ecgspec %s\n", ECG_VERSION);
    } else if (!rc) {
        if (a.quiet)
            ecg_log_set_level(ECG_LOG_ERROR);
        rc = run(&a, &err);
    }
    if (rc)
        fprintf(stderr, "ecgspec: %s\n", err.msg);
    free(a.overrides);
    return ecg_status_exit_code((enum ecg_status)rc);
}
