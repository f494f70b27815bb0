/* The backend ecgserve serves: a thin adapter from serve/backend.h to the inference path (infer/). */
#define _GNU_SOURCE /* open_memstream */
#include "serve/backend_infer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/paths.h"
#include "data/loader.h"
#include "data/readers.h"
#include "eval/json.h"
#include "infer/infer.h"
#include "io/model_file.h"
#include "serve/respond.h"
#include "train/config.h"

struct infer_backend {
    struct ecg_infer_model *model;
    bool beats; /* a beat model: one window per detected heartbeat */
    char name[256];
    char *card;
};

/* The longest recording of a training format (s): the too_long check warns beyond it.  CinC 2017's
 * longest of 8528 records has 18286 samples at 300 Hz; CACHET-CADB's short format has 10 s segments. */
static double longest_recording_s(const char *format)
{
    if (strcmp(format, "cinc2017") == 0)
        return 18286.0 / 300.0;
    if (strcmp(format, "cachet_short") == 0)
        return 10.0;
    return 0; /* unknown: no warning */
}

static void *context_new(void *model)
{
    struct ecg_infer_context *ctx = NULL;
    struct ecg_error err = {0};
    return ecg_infer_context_init(((struct infer_backend *)model)->model, &ctx, &err) ? NULL : ctx;
}

static void context_free(void *ctx)
{
    ecg_infer_context_free(ctx);
}

/* A beat model's windows: one per detected beat, images (and RR features when the model reads them) end
 * to end, each beat's R peak; the signal shown is the uploaded one.  The answer is per beat, so there are
 * no window start times. */
static int prepare_beats(const struct ecg_infer_model *m, const float *mv, int64_t length, double fs,
                         struct ecg_serve_prepared *out, struct ecg_error *err)
{
    struct ecg_infer_result *r = NULL;
    int64_t n = 0, *at = NULL;
    ECG_TRY(ecg_infer_prepare_beats(m, mv, length, fs, NULL, &r, &at, &n, &out->left_out, err));
    const struct ecg_config *c = ecg_infer_model_config(m);
    const struct ecg_spec_opts *s = &c->data.spectrogram;
    const int64_t per = s->height * s->width * s->channels, rows = n > 0 ? n : 1;
    /* every beat's whole feature vector when the model reads any of it: classify hands them to the inference
     * path, which picks the ones the model reads */
    const int nfeatures = ecg_config_context_features(c, NULL);
    out->inputs = malloc((size_t)(rows * per) * sizeof *out->inputs);
    out->context = nfeatures > 0 ? malloc((size_t)(rows * ECG_RECORD_FEATURES) * sizeof *out->context) : NULL;
    out->signal = malloc((size_t)length * sizeof *out->signal);
    if (!out->inputs || (nfeatures > 0 && !out->context) || !out->signal) {
        ecg_infer_results_free(r, n);
        free(at);
        ecg_serve_prepared_free(out);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for %lld beats", (long long)n);
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(out->inputs + i * per, r[i].images, (size_t)per * sizeof(float));
        if (nfeatures > 0)
            memcpy(out->context + i * ECG_RECORD_FEATURES, r[i].features, sizeof r[i].features);
    }
    memcpy(out->signal, mv, (size_t)length * sizeof *out->signal);
    out->windows = n;
    out->beat_sample = at;
    out->signal_length = length;
    out->signal_fs = fs;
    ecg_infer_results_free(r, n);
    return ECG_OK;
}

static int prepare(void *model, void *ctx, const float *mv, int64_t length, double fs,
                   struct ecg_serve_prepared *out, struct ecg_error *err)
{
    (void)ctx;
    memset(out, 0, sizeof *out);
    const struct infer_backend *b = model;
    if (b->beats)
        return prepare_beats(b->model, mv, length, fs, out, err);
    struct ecg_infer_result r;
    ECG_TRY(ecg_infer_prepare_samples(b->model, mv, length, fs, NULL, &r, err));
    /* a model that reads the record's rhythm features reads them beside each of its windows */
    const bool context = ecg_config_context_features(ecg_infer_model_config(b->model), NULL) > 0;
    out->window_start_s = malloc((size_t)r.windows * sizeof *out->window_start_s);
    out->context = context ? malloc((size_t)(r.windows * ECG_RECORD_FEATURES) * sizeof *out->context) : NULL;
    if (!out->window_start_s || (context && !out->context)) {
        ecg_infer_result_free(&r);
        ecg_serve_prepared_free(out);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for %lld windows", (long long)r.windows);
    }
    for (int64_t k = 0; k < r.windows; k++) {
        out->window_start_s[k] = (double)r.starts[k] / r.fs;
        if (context)
            memcpy(out->context + k * ECG_RECORD_FEATURES, r.features, sizeof r.features);
    }
    out->windows = r.windows;
    out->inputs = r.images;
    out->signal = r.signal;
    out->signal_length = r.length;
    out->signal_fs = r.fs;
    r.images = r.signal = NULL; /* moved */
    ecg_infer_result_free(&r);
    return ECG_OK;
}

static int classify(void *model, void *ctx, const float *inputs, const float *context, int64_t count, float *probs,
                    float *cam, struct ecg_error *err)
{
    (void)model;
    return ecg_infer_classify_windows(ctx, inputs, context, count, probs, cam, err);
}

static int record_probs(void *model, const float *window_probs, const struct ecg_serve_prepared *prep, float *probs,
                        struct ecg_error *err)
{
    return ecg_infer_record_probs(((struct infer_backend *)model)->model, window_probs, prep->windows, prep->signal,
                                  prep->signal_length, prep->signal_fs, probs, err);
}

/* "dir/name.h5" -> "name" */
static void base_name(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    snprintf(out, n, "%s", slash ? slash + 1 : path);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

/* The metrics file beside the weights (NAME.metrics.json), or NULL in *text when there is none. */
static int read_metrics_beside(const char *weights, char **text, struct ecg_error *err)
{
    *text = NULL;
    char path[4096];
    const char *dot = strrchr(weights, '.'), *slash = strrchr(weights, '/');
    int stem = dot && (!slash || dot > slash) ? (int)(dot - weights) : (int)strlen(weights);
    snprintf(path, sizeof path, "%.*s.metrics.json", stem, weights);
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? ECG_OK
                               : ecg_error_set(err, ECG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t size = 0;
    FILE *m = open_memstream(&buf, &size);
    char chunk[8192];
    size_t got;
    while (m && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, got, m);
    int bad = ferror(f);
    fclose(f);
    if (!m || fclose(m) || bad) {
        free(buf);
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot read", path);
    }
    size_t a = strspn(buf, " \t\r\n"), b = size;
    while (b > a && strchr(" \t\r\n", buf[b - 1]))
        b--;
    if (b - a < 2 || buf[a] != '{' || buf[b - 1] != '}') {
        free(buf);
        return ecg_error_set(err, ECG_ERR_VALUE, "%s: expected one JSON object (metrics), found other text",
                             path);
    }
    buf[b] = '\0';
    memmove(buf, buf + a, b - a + 1);
    *text = buf;
    return ECG_OK;
}

/* The model's metrics: those a model file carries (the shipped model's cross-validated ones), else the file
 * beside the weights; NULL in *text when there are neither.  `weights`: the path as found (installed or not). */
static int read_metrics(const char *weights, char **text, struct ecg_error *err)
{
    ECG_TRY(ecg_model_file_metrics(weights, text, err));
    return *text ? ECG_OK : read_metrics_beside(weights, text, err);
}

/* The configuration keys that shape what the model sees, as the run's YAML values. */
static bool preprocessing_key(const char *name)
{
    static const char *const prefixes[] = {"data.sample_rate",    "data.band_",       "data.normalize",
                                           "data.window_seconds", "data.pad",         "data.spectrogram.",
                                           "eval.windows",        "eval.hop_seconds", "model.input_norm"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* The model card (served at /v1/model): model, classes, preprocessing, training data, metrics. */
static int write_card(struct infer_backend *b, const char *weights, const struct ecg_serve_model_info *info,
                      struct ecg_error *err)
{
    char *metrics;
    ECG_TRY(read_metrics(weights, &metrics, err));
    const struct ecg_config *c = ecg_infer_model_config(b->model);
    size_t size;
    FILE *f = open_memstream(&b->card, &size);
    if (!f) {
        free(metrics);
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    }
    struct ecg_json j;
    ecg_json_init(&j, f, -1);
    ecg_json_begin_object(&j);
    ecg_serve_json_model_members(&j, info);
    ecg_json_key(&j, "preprocessing");
    ecg_json_begin_object(&j);
    int64_t nkeys;
    const struct ecg_config_key *keys = ecg_config_keys(&nkeys);
    for (int64_t i = 0; i < nkeys; i++) {
        char value[256];
        if (!preprocessing_key(keys[i].name))
            continue;
        ecg_config_format_value(c, &keys[i], value, sizeof value);
        ecg_json_key(&j, keys[i].name);
        ecg_json_string(&j, value);
    }
    ecg_json_end_object(&j);
    ecg_json_key(&j, "training_data");
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "format");
    ecg_json_string(&j, ecg_config_format_name(c));
    ecg_json_key(&j, "longest_record_s");
    ecg_json_number(&j, info->max_s);
    ecg_json_end_object(&j);
    if (!metrics) {
        ecg_json_key(&j, "metrics");
        ecg_json_null(&j);
    }
    ecg_json_end_object(&j);
    int bad = fclose(f);
    if (!bad && metrics) {
        /* the metrics object as written by the run's evaluation goes in verbatim, as the last member */
        char *card = malloc(size + strlen(metrics) + 16);
        if (card)
            sprintf(card, "%.*s,\"metrics\":%s}", (int)(size - 1), b->card, metrics);
        free(b->card);
        b->card = card;
        bad = !card;
    }
    free(metrics);
    if (bad) {
        free(b->card);
        b->card = NULL;
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory for the model card");
    }
    return ECG_OK;
}

/* What fills the rest of a shorter record's window, in words (data.pad). */
static const char *window_fill(enum ecg_pad_mode pad)
{
    return pad == ECG_PAD_TILE      ? "the record repeated"
           : pad == ECG_PAD_REFLECT ? "the record mirrored"
                                    : "zero padding";
}

static void fill_info(struct infer_backend *b, struct ecg_serve_model_info *info)
{
    const struct ecg_config *c = ecg_infer_model_config(b->model);
    struct ecg_loader_opts lo;
    ecg_loader_opts_from_config(c, 0, &lo);
    const char *const *names;
    info->name = b->name;
    info->nclass = ecg_infer_model_classes(b->model, &names);
    info->class_names = names;
    info->fs = ecg_infer_model_sample_rate(b->model);
    info->window_s = lo.window.length_s;
    info->window_fill = window_fill(lo.window.pad);
    /* a short record is padded into one window, so one sample is enough; otherwise a whole window */
    info->min_s = lo.window.short_policy == ECG_SHORT_PAD ? 1.0 / info->fs : lo.window.length_s;
    info->max_s = longest_recording_s(ecg_config_format_name(c));
    info->input_h = lo.spec.height;
    info->input_w = lo.spec.width;
    info->input_c = lo.spec.channels;
    info->cam_h = lo.spec.height;
    info->cam_w = lo.spec.width;
    info->beats = b->beats;
    info->context_c = ecg_config_context_features(c, NULL) > 0 ? ECG_RECORD_FEATURES : 0;
    if (b->beats) /* beats are answered with their classes, not with per-window heat maps */
        info->cam_h = info->cam_w = 0;
}

int ecg_serve_backend_infer_open(const char *weights, const char *config_path, int noverrides,
                                 char *const *overrides, struct ecg_serve_backend *be, struct ecg_error *err)
{
    memset(be, 0, sizeof *be);
    struct infer_backend *b = calloc(1, sizeof *b);
    if (!b)
        return ecg_error_set(err, ECG_ERR_NOMEM, "out of memory");
    be->model = b;
    char *found = NULL; /* the file the model was loaded from: the working directory's or the installed one */
    int rc = ecg_infer_model_load(weights, config_path, noverrides, overrides, &b->model, err);
    b->beats = !rc && ecg_format_task(ecg_config_format_name(ecg_infer_model_config(b->model))) == ECG_TASK_BEAT;
    if (!rc && !(rc = ecg_path_find_data(weights, &found, err))) {
        base_name(weights, b->name, sizeof b->name);
        fill_info(b, &be->info);
        rc = write_card(b, found, &be->info, err);
    }
    free(found);
    if (rc) {
        ecg_serve_backend_infer_close(be);
        return rc;
    }
    be->info.card_json = b->card;
    be->context_new = context_new;
    be->context_free = context_free;
    be->prepare = prepare;
    be->classify = classify;
    be->record_probs = record_probs;
    return ECG_OK;
}

struct ecg_infer_model *ecg_serve_backend_infer_model(const struct ecg_serve_backend *be)
{
    return ((const struct infer_backend *)be->model)->model;
}

void ecg_serve_backend_infer_close(struct ecg_serve_backend *be)
{
    struct infer_backend *b = be->model;
    if (b) {
        ecg_infer_model_free(b->model);
        free(b->card);
        free(b);
    }
    memset(be, 0, sizeof *be);
}
