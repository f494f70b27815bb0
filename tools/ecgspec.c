/* ecgspec: shows what a record becomes on the inference path: its spectrogram as PNG, the trace as SVG, both as HDF5. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/blas.h"
#include "train/config.h"
#include "core/log.h"
#include "data/loader.h"
#include "data/png.h"
#include "data/readers.h"
#include "eval/report.h"
#include "infer/infer.h"
#include "io/h5util.h"
#include "tools/cli.h"
#include "train/train.h"

static const char usage_text[] =
    "usage: ecgspec [options] INPUT [key=value ...]\n"
    "       ecgspec --help | --version\n"
    "\n"
    "Shows one window of one record exactly as the model sees it, through the same\n"
    "preprocessing, windows and spectrogram as ecgtrain, ecgeval and ecgpredict:\n"
    "  PREFIX.png  the spectrogram image (channel 0, viridis; row 0 = highest frequency)\n"
    "  PREFIX.svg  the window's preprocessed trace (s, mV) above the spectrogram (s, Hz),\n"
    "              the PNG embedded: one self-contained file\n"
    "  PREFIX.h5   dataset 'spectrogram', float32 (height, width, channels): the network's\n"
    "              input before its model.input_norm scaling; dataset 'signal', the window;\n"
    "              the options and the resolved configuration as attributes\n"
    "\n"
    "INPUT is a CinC 2017 record (A00001.mat with its .hea; the label comes from\n"
    "REFERENCE.csv beside it or one folder up), a CACHET-CADB short file (.h5), samples\n"
    "in mV (.csv or .txt: one column, or time,value; - reads them from standard input)\n"
    "with --fs, or, with --format, a dataset from which --index or --id picks the record.\n"
    "The options are those of the default run configuration, of --config FILE, or of the\n"
    "checkpoint given with --model; key=value arguments and the options below override them.\n"
    "\n"
    "  --model CKPT        use the run configuration of a checkpoint and classify the record\n"
    "  --config FILE       use a run configuration (YAML)\n"
    "  --format NAME       dataset format: cinc2017, cachet_short, cachet_full, mitdb,\n"
    "                      kaggle_csv; or csv for samples\n"
    "  --fs HZ             sampling rate of csv samples (default: from a time column)\n"
    "  --index N           record index in the file or dataset (default 0)\n"
    "  --id ID             record id in the file or dataset\n"
    "  --window K          evaluation window K of the record (default 0)\n"
    "  --out PREFIX        output prefix (default: the record id)\n"
    "  --trace             also write PREFIX_trace.svg: the whole record, the window shaded\n"
    "  --seconds S         data.window_seconds       --windows K   eval.windows\n"
    "  --stft NAME         data.spectrogram.window   --win S       data.spectrogram.window_seconds\n"
    "  --hop S             data.spectrogram.hop_seconds\n"
    "  --fmin HZ, --fmax HZ  data.spectrogram.fmin, fmax\n"
    "  --size HxW          data.spectrogram.height, width\n"
    "  --channels C        data.spectrogram.channels\n"
    "  --floor P           data.spectrogram.log_floor\n"
    "  --resample HZ       data.sample_rate\n"
    "  --bandpass LO,HI    data.band_low_hz, data.band_high_hz\n"
    "  --quiet             only errors on stderr\n"
    "  -h, --help          print this text\n"
    "  -V, --version       print the version\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n";

struct args {
    int trace, quiet;
    const char *format, *id, *out, *input, *config, *model;
    long long index, window;
    double fs;
    char **overrides; /* the options as key=value, then the user's; owned strings */
    int noverrides;
};

/* ---- argument parsing ---- */

/* Appends "key=value" (copied). */
static int add_override(struct args *a, const char *key, const char *value, struct ecg_error *err)
{
    size_t n = strlen(key) + strlen(value) + 2;
    char *s = malloc(n);
    if (!s)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    snprintf(s, n, "%s=%s", key, value);
    a->overrides[a->noverrides++] = s;
    return ECG_OK;
}

/* The options that are configuration keys under another name. */
static const struct {
    const char *option, *key;
} key_options[] = {
    {"seconds", "data.window_seconds"}, {"windows", "eval.windows"},
    {"stft", "data.spectrogram.window"}, {"win", "data.spectrogram.window_seconds"},
    {"hop", "data.spectrogram.hop_seconds"}, {"fmin", "data.spectrogram.fmin"},
    {"fmax", "data.spectrogram.fmax"}, {"channels", "data.spectrogram.channels"},
    {"floor", "data.spectrogram.log_floor"}, {"resample", "data.sample_rate"},
};
enum { KEY_OPTIONS = sizeof key_options / sizeof key_options[0], OPT_KEY = 1000, OPT_SIZE = 2000, OPT_BANDPASS };

/* A configuration error in an option's value reads as the option's. */
static int option_value(struct args *a, int which, const char *v, struct ecg_error *err)
{
    if (which == OPT_SIZE) {
        long long h, w;
        char tail, hs[32], ws[32];
        if (sscanf(v, "%lldx%lld%c", &h, &w, &tail) != 2 || h < 1 || w < 1 || h > 4096 || w > 4096)
            return ecg_error_set(err, ECG_ERR_USAGE, "--size '%s': expected HEIGHTxWIDTH, 1..4096 each", v);
        snprintf(hs, sizeof hs, "%lld", h);
        snprintf(ws, sizeof ws, "%lld", w);
        ECG_TRY(add_override(a, "data.spectrogram.height", hs, err));
        return add_override(a, "data.spectrogram.width", ws, err);
    }
    if (which == OPT_BANDPASS) {
        double lo, hi;
        char tail, los[64], his[64];
        if (sscanf(v, "%lf,%lf%c", &lo, &hi, &tail) != 2 || !(lo >= 0) || !(hi > lo))
            return ecg_error_set(err, ECG_ERR_USAGE, "--bandpass '%s': expected LO,HI in Hz with LO < HI", v);
        snprintf(los, sizeof los, "%.17g", lo);
        snprintf(his, sizeof his, "%.17g", hi);
        ECG_TRY(add_override(a, "data.band_low_hz", los, err));
        return add_override(a, "data.band_high_hz", his, err);
    }
    return add_override(a, key_options[which - OPT_KEY].key, v, err);
}

/* Returns ECG_OK, an error, or -1 after printing help or the version. */
static int parse_args(int argc, char **argv, struct args *a, struct ecg_error *err)
{
    struct option options[64] = {ECG_CLI_COMMON,
                                 {"trace", no_argument, NULL, 't'},
                                 {"quiet", no_argument, NULL, 'q'},
                                 {"format", required_argument, NULL, 'f'},
                                 {"fs", required_argument, NULL, 's'},
                                 {"id", required_argument, NULL, 'i'},
                                 {"index", required_argument, NULL, 'n'},
                                 {"window", required_argument, NULL, 'w'},
                                 {"out", required_argument, NULL, 'o'},
                                 {"config", required_argument, NULL, 'c'},
                                 {"model", required_argument, NULL, 'm'},
                                 {"size", required_argument, NULL, OPT_SIZE},
                                 {"bandpass", required_argument, NULL, OPT_BANDPASS}};
    int used = 13;
    for (int k = 0; k < KEY_OPTIONS; k++)
        options[used++] = (struct option){key_options[k].option, required_argument, NULL, OPT_KEY + k};
    memset(a, 0, sizeof *a);
    a->overrides = calloc((size_t)argc * 2, sizeof *a->overrides);
    if (!a->overrides)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    int c;
    while ((c = getopt_long(argc, argv, ECG_CLI_SHORT, options, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage_text, stdout); return -1;
        case 'V': ecg_cli_print_version("ecgspec"); return -1;
        case 't': a->trace = 1; break;
        case 'q': a->quiet = 1; break;
        case 'f': a->format = optarg; break;
        case 'i': a->id = optarg; break;
        case 'o': a->out = optarg; break;
        case 'c': a->config = optarg; break;
        case 'm': a->model = optarg; break;
        case 's': ECG_TRY(ecg_cli_parse_double("--fs", optarg, &a->fs, err)); break;
        case 'n': ECG_TRY(ecg_cli_parse_int("--index", optarg, 0, INT64_MAX, &a->index, err)); break;
        case 'w': ECG_TRY(ecg_cli_parse_int("--window", optarg, 0, 999, &a->window, err)); break;
        case '?':
        case ':': return ecg_cli_option_error(c, argv, err);
        default: ECG_TRY(option_value(a, c, optarg, err)); break;
        }
    }
    for (int i = optind; i < argc; i++) {
        if (ecg_cli_is_override(argv[i])) {
            size_t eq = strcspn(argv[i], "=");
            char key[256];
            snprintf(key, sizeof key, "%.*s", (int)(eq < 255 ? eq : 255), argv[i]);
            ECG_TRY(add_override(a, key, argv[i] + eq + 1, err));
        } else if (!a->input)
            a->input = argv[i];
        else
            return ecg_error_set(err, ECG_ERR_USAGE, "unexpected argument '%s' (one INPUT only)", argv[i]);
    }
    if (!a->input)
        return ecg_error_set(err, ECG_ERR_USAGE, "missing INPUT (see --help)");
    return ECG_OK;
}

/* ---- the record through the inference path ---- */

struct view {
    const struct ecg_infer_model *m;
    struct ecg_infer_result r; /* the picked record */
    int task;
    struct ecg_loader_opts lo; /* the model's window and spectrogram options */
    struct ecg_spec_geom geom;
    int64_t k;                 /* the window shown */
    float *win;                /* (r.window_samples) that window of the preprocessed signal */
    const float *img;          /* its image in r.images */
    double ta, tb, fa, fb;     /* extents of the image: seconds of its columns, Hz of its rows */
};

/* Keeps the record --index/--id picks among a file's records. */
struct picker {
    const struct args *a;
    int64_t seen, found;
    struct ecg_infer_result *out;
};

static int pick(void *user, struct ecg_infer_result *r, struct ecg_error *err)
{
    (void)err;
    struct picker *p = user;
    bool match = p->a->id ? strcmp(r->record, p->a->id) == 0 : p->seen == p->a->index;
    p->seen++;
    if (match && !p->found) {
        *p->out = *r;
        memset(r, 0, sizeof *r);
        p->found = 1;
    }
    return ECG_OK;
}

static int not_found(const struct args *a, int64_t count, struct ecg_error *err)
{
    if (a->id)
        return ecg_error_set(err, ECG_ERR_RANGE, "%s: no record with id '%s' among %lld records", a->input, a->id,
                             (long long)count);
    return ecg_error_set(err, ECG_ERR_RANGE, "%s: --index %lld outside the %lld records", a->input, a->index,
                         (long long)count);
}

/* A dataset read by format: the picked raw record goes through the path alone. */
static int from_dataset(const struct args *a, struct ecg_infer_context *ctx, struct view *v, struct ecg_error *err)
{
    struct ecg_dataset ds = {0};
    struct ecg_read_options opt; /* as the model's run read its data: a beat's window is the model's */
    ecg_read_options_of_config(ecg_infer_model_config(v->m), &opt);
    opt.skip_bad = ECG_BAD_SKIP;
    opt.records = NULL; /* --index and --id count every record of the input */
    int rc = ecg_dataset_read(a->format, a->input, &opt, &ds, err);
    int64_t ri = a->id ? 0 : a->index;
    for (; !rc && a->id && ri < ds.count && strcmp(ds.records[ri].id, a->id) != 0; ri++)
        ;
    if (!rc && ri >= ds.count)
        rc = not_found(a, ds.count, err);
    if (!rc) {
        const struct ecg_record *rec = &ds.records[ri];
        v->task = ds.task;
        rc = ctx ? ecg_infer_classify_samples(ctx, rec->signal, rec->length, rec->fs, rec->id, &v->r, err)
                 : ecg_infer_prepare_samples(v->m, rec->signal, rec->length, rec->fs, rec->id, &v->r, err);
        v->r.label = rec->label;
    }
    ecg_dataset_free(&ds);
    return rc;
}

/* A record file (or standard input): every record through the path, the picked one kept. */
static int from_file(const struct args *a, struct ecg_infer_context *ctx, struct view *v, struct ecg_error *err)
{
    struct picker p = {a, 0, 0, &v->r};
    const char *format = a->format ? a->format : strcmp(a->input, "-") == 0 ? "csv" : NULL;
    v->task = ECG_TASK_RHYTHM;
    int rc;
    if (ctx) {
        rc = ecg_infer_classify_file_each(ctx, a->input, format, a->fs, pick, &p, err);
    } else {
        struct ecg_infer_result *res = NULL;
        int64_t n = 0;
        rc = ecg_infer_prepare_file(v->m, a->input, format, a->fs, &res, &n, err);
        for (int64_t i = 0; i < n && !rc; i++)
            rc = pick(&p, &res[i], err);
        ecg_infer_results_free(res, n);
    }
    return !rc && !p.found ? not_found(a, p.seen, err) : rc;
}

/* The window shown and the extents of its image: half a hop / half a bin beyond the first and last centres. */
static int locate_window(const struct args *a, struct view *v, struct ecg_error *err)
{
    const struct ecg_infer_result *r = &v->r;
    if (a->window >= r->windows)
        return ecg_error_set(err, ECG_ERR_RANGE, "record '%s': --window %lld: the record has %lld evaluation windows "
                             "(0..%lld)", r->record, a->window, (long long)r->windows, (long long)r->windows - 1);
    v->k = a->window;
    v->img = r->images + v->k * r->height * r->width * r->channels;
    ECG_TRY(ecg_spec_geometry(&v->lo.spec, r->fs, r->window_samples, &v->geom, err));
    if (!(v->win = malloc((size_t)r->window_samples * sizeof *v->win)))
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    ecg_window_extract(&v->lo.window, r->signal, r->length, r->starts[v->k], r->window_samples, v->win);
    double t0 = (double)r->starts[v->k] / r->fs, hop = (double)v->geom.hop / r->fs, df = r->fs / (double)v->geom.nfft;
    v->ta = t0 + (double)v->geom.nperseg / 2.0 / r->fs - hop / 2.0;
    v->tb = v->ta + (double)v->geom.nseg * hop;
    v->fa = ((double)v->geom.bin_lo - 0.5) * df;
    v->fb = ((double)v->geom.bin_hi - 0.5) * df;
    return ECG_OK;
}

/* ---- outputs ---- */

/* Viridis, sampled at 9 points and interpolated linearly. */
static void viridis(double v, uint8_t rgb[3])
{
    static const uint8_t pts[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
                                      {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
    v = v > 0 ? (v < 1 ? v : 1) : 0;
    double t = v * 8;
    int i = t >= 8 ? 7 : (int)t;
    double f = t - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lround(pts[i][c] + f * (pts[i + 1][c] - pts[i][c]));
}

/* Channel 0 of the image, its min..max on viridis, each pixel repeated until both sides are at least 512 pixels. */
static int write_png(const struct view *v, const char *path, struct ecg_error *err)
{
    const int64_t H = v->r.height, W = v->r.width, C = v->r.channels;
    const int64_t sx = (512 + W - 1) / W, sy = (512 + H - 1) / H;
    uint8_t *px = malloc((size_t)(H * sy * W * sx * 3));
    if (!px)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: cannot allocate the picture", path);
    float mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < H * W; i++) {
        mn = fminf(mn, v->img[i * C]);
        mx = fmaxf(mx, v->img[i * C]);
    }
    for (int64_t y = 0; y < H * sy; y++)
        for (int64_t x = 0; x < W * sx; x++)
            viridis(mx > mn ? (v->img[((y / sy) * W + x / sx) * C] - mn) / (mx - mn) : 0.0,
                    px + (y * W * sx + x) * 3);
    int rc = ecg_png_write(path, px, H * sy, W * sx, 3, err);
    free(px);
    return rc;
}

/* The PNG at `path` as a data: URI, so the SVG is one self-contained file; NULL when out of memory. */
static char *png_data_uri(const char *path, struct ecg_error *err)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char head[] = "data:image/png;base64,";
    char *text = NULL;
    unsigned char *bytes = NULL;
    FILE *f = fopen(path, "rb");
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (bytes = malloc((size_t)n + 3)) && fread(bytes, 1, (size_t)n, f) == (size_t)n)
        text = malloc(sizeof head + ((size_t)n + 2) / 3 * 4);
    if (f)
        fclose(f);
    if (!text) {
        free(bytes);
        ecg_error_set(err, ECG_ERR_IO, "%s: cannot read it back for the SVG", path);
        return NULL;
    }
    memset(bytes + n, 0, 3);
    char *o = text + sizeof head - 1;
    memcpy(text, head, sizeof head - 1);
    for (long i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8 | bytes[i + 2];
        for (int k = 0; k < 4; k++)
            *o++ = i + k - 1 < n ? digits[(v >> (18 - 6 * k)) & 63] : '=';
    }
    *o = '\0';
    free(bytes);
    return text;
}

static const char *label_name(const struct view *v)
{
    return v->r.label >= 0 ? ecg_task_class_name((enum ecg_task)v->task, v->r.label) : "";
}

/* The trace of the window with the PNG (embedded) under it; `whole`: the whole record with the window shaded. */
static int write_svg(const struct view *v, const char *path, const char *png, bool whole, struct ecg_error *err)
{
    char *uri = whole ? NULL : png_data_uri(png, err);
    if (!whole && !uri)
        return err ? err->code : ECG_ERR_IO;
    FILE *f = fopen(path, "w");
    if (!f) {
        free(uri);
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    }
    const struct ecg_infer_result *r = &v->r;
    const char *const *names;
    ecg_infer_model_classes(v->m, &names);
    char title[512];
    int used = snprintf(title, sizeof title, "%s%s%s, %g Hz, window %lld of %lld (%lld x %lld x %lld)", r->record,
                        *label_name(v) ? " " : "", label_name(v), r->fs, (long long)v->k + 1, (long long)r->windows,
                        (long long)r->height, (long long)r->width, (long long)r->channels);
    if (r->best >= 0 && used > 0 && (size_t)used < sizeof title)
        snprintf(title + used, sizeof title - (size_t)used, "; model: %s %.3f", names[r->best],
                 (double)r->probs[r->best]);
    double w0 = (double)r->starts[v->k] / r->fs, w1 = w0 + (double)r->window_samples / r->fs;
    /* Normalised signals are no longer in mV. */
    char norm[64] = "";
    const struct ecg_config_key *key = ecg_config_find("data.normalize");
    if (key)
        ecg_config_format_value(ecg_infer_model_config(v->m), key, norm, sizeof norm);
    char unit[96];
    snprintf(unit, sizeof unit, strcmp(norm, "none") == 0 ? "mV" : "mV, data.normalize: %s", norm);
    struct ecg_svg_trace t = {.title = title, .unit = unit, .fs = r->fs};
    if (whole) {
        t.x = r->signal, t.n = r->length, t.shade_from = w0, t.shade_to = w1;
    } else {
        t.x = v->win, t.n = r->window_samples, t.t0 = w0;
        t.image_href = uri;
        t.img_t0 = v->ta, t.img_t1 = v->tb, t.img_f0 = v->fa, t.img_f1 = v->fb;
    }
    ecg_svg_trace(f, &t);
    free(uri);
    if (fclose(f) != 0)
        return ecg_error_set(err, ECG_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return ECG_OK;
}

static int write_attrs(const struct view *v, hid_t d, struct ecg_error *err)
{
    const struct ecg_infer_result *r = &v->r;
    const struct ecg_spec_opts *sp = &v->lo.spec;
    char *yaml = ecg_config_to_string(ecg_infer_model_config(v->m), err);
    if (!yaml)
        return err && err->code ? err->code : ECG_ERR_NOMEM;
    int rc = ecg_h5_write_attr_string(d, "record", r->record, err);
    rc = rc ? rc : ecg_h5_write_attr_string(d, "label", label_name(v), err);
    rc = rc ? rc : ecg_h5_write_attr_double(d, "fs", r->fs, err);
    rc = rc ? rc : ecg_h5_write_attr_double(d, "window_start_s", (double)r->starts[v->k] / r->fs, err);
    rc = rc ? rc : ecg_h5_write_attr_double(d, "window_length_s", v->lo.window.length_s, err);
    rc = rc ? rc : ecg_h5_write_attr_int64(d, "window_index", v->k, err);
    rc = rc ? rc : ecg_h5_write_attr_string(d, "stft_window", ecg_spec_window_name(sp->window), err);
    rc = rc ? rc : ecg_h5_write_attr_double(d, "window_seconds", sp->window_seconds, err);
    rc = rc ? rc : ecg_h5_write_attr_double(d, "hop_seconds", sp->hop_seconds, err);
    rc = rc ? rc : ecg_h5_write_attr_int64(d, "nperseg", v->geom.nperseg, err);
    rc = rc ? rc : ecg_h5_write_attr_int64(d, "hop", v->geom.hop, err);
    rc = rc ? rc : ecg_h5_write_attr_double(d, "floor", sp->log_floor, err);
    rc = rc ? rc : ecg_h5_write_attr_double(d, "fmin", v->fa, err);
    rc = rc ? rc : ecg_h5_write_attr_double(d, "fmax", v->fb, err);
    rc = rc ? rc : ecg_h5_write_attr_string(d, "norm", ecg_spec_norm_name(sp->norm), err);
    rc = rc ? rc : ecg_h5_write_attr_string(d, "orientation", "row 0 = highest frequency; column 0 = earliest", err);
    rc = rc ? rc : ecg_h5_write_attr_string(d, "config", yaml, err);
    free(yaml);
    return rc;
}

static int write_h5(const struct view *v, const char *path, struct ecg_error *err)
{
    const struct ecg_infer_result *r = &v->r;
    hid_t f = -1, d = -1;
    ECG_TRY(ecg_h5_create(path, &f, err));
    int64_t shape[3] = {r->height, r->width, r->channels}, slen[1] = {r->window_samples}, k[1] = {r->classes};
    int rc = ecg_h5_write_floats(f, "spectrogram", 3, shape, v->img, err);
    if (!rc)
        rc = ecg_h5_write_floats(f, "signal", 1, slen, v->win, err);
    if (!rc && r->probs)
        rc = ecg_h5_write_floats(f, "probabilities", 1, k, r->probs, err);
    if (!rc && (d = H5Dopen2(f, "spectrogram", H5P_DEFAULT)) < 0)
        rc = ecg_error_set(err, ECG_ERR_IO, "cannot reopen dataset 'spectrogram'");
    if (!rc)
        rc = write_attrs(v, d, err);
    if (d >= 0)
        H5Dclose(d);
    ecg_h5_close(f);
    return rc ? ecg_error_prefix(err, rc, "%s", path) : ECG_OK;
}

static int write_outputs(const struct args *a, const struct view *v, struct ecg_error *err)
{
    char prefix[2048], png[2100], path[2100];
    snprintf(prefix, sizeof prefix, "%s", a->out ? a->out : v->r.record);
    if (!a->out) /* record ids may hold '/' or ':' ("P1/m1/s1:1024") */
        for (char *p = prefix; *p; p++)
            if (*p == '/' || *p == ':')
                *p = '_';
    snprintf(png, sizeof png, "%s.png", prefix);
    ECG_TRY(write_png(v, png, err));
    snprintf(path, sizeof path, "%s.svg", prefix);
    ECG_TRY(write_svg(v, path, png, false, err));
    if (!a->quiet)
        printf("%s\n%s\n", png, path);
    snprintf(path, sizeof path, "%s.h5", prefix);
    ECG_TRY(write_h5(v, path, err));
    if (!a->quiet)
        printf("%s\n", path);
    if (a->trace) {
        snprintf(path, sizeof path, "%s_trace.svg", prefix);
        ECG_TRY(write_svg(v, path, png, true, err));
        if (!a->quiet)
            printf("%s\n", path);
    }
    return ECG_OK;
}

static int run(const struct args *a, struct ecg_error *err)
{
    struct view v = {0};
    struct ecg_infer_model *m = NULL;
    struct ecg_infer_context *ctx = NULL;
    int rc = ecg_infer_model_load(a->model, a->config, a->noverrides, a->overrides, &m, err);
    if (rc)
        return rc;
    v.m = m;
    ecg_loader_opts_from_config(ecg_infer_model_config(m), 0, &v.lo);
    if (a->model)
        rc = ecg_infer_context_init(m, &ctx, err);
    bool dataset = a->format && strcmp(a->format, "csv") != 0 && strcmp(a->format, "cachet_short") != 0;
    if (!rc)
        rc = dataset ? from_dataset(a, ctx, &v, err) : from_file(a, ctx, &v, err);
    if (!rc && !(rc = locate_window(a, &v, err)))
        rc = write_outputs(a, &v, err);
    free(v.win);
    ecg_infer_result_free(&v.r);
    ecg_infer_context_free(ctx);
    ecg_infer_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    ecg_process_tune(argv);
    struct args a;
    struct ecg_error err = {0};
    int rc = parse_args(argc, argv, &a, &err), status = 0;
    if (rc > 0) {
        status = ecg_cli_parse_failed("ecgspec", usage_text, rc, &err);
    } else if (rc == 0) {
        if (a.quiet)
            ecg_log_set_level(ECG_LOG_ERROR);
        if ((rc = run(&a, &err))) {
            fprintf(stderr, "ecgspec: %s\n", err.msg);
            status = ecg_status_exit_code((enum ecg_status)rc);
        }
    }
    for (int i = 0; i < a.noverrides; i++)
        free(a.overrides[i]);
    free(a.overrides);
    return status;
}
