/* Writes classification results (probabilities, windows, checks, optional trace, images, heat maps) as JSON.
 */
#include "serve/respond.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "eval/json.h"
#include "eval/metrics.h"
#include "serve/input.h"

void ecg_serve_result_free(struct ecg_serve_result *r)
{
    ecg_serve_prepared_free(&r->prep);
    free(r->record_probs);
    r->record_probs = NULL;
    r->probs = r->cam = NULL;
}

void ecg_serve_result_finish(const struct ecg_serve_backend *be, struct ecg_serve_result *r)
{
    const int k = be->info.nclass;
    if (be->info.beats || r->error[0] || !r->probs || r->prep.windows < 1 || r->record_probs)
        return;
    if (!(r->record_probs = malloc((size_t)k * sizeof *r->record_probs))) {
        snprintf(r->error, sizeof r->error, "out of memory for the record's probabilities");
        return;
    }
    struct ecg_error err = {0};
    if (be->record_probs) {
        if (be->record_probs(be->model, r->probs, &r->prep, r->record_probs, &err)) {
            snprintf(r->error, sizeof r->error, "%s", err.msg);
            free(r->record_probs);
            r->record_probs = NULL;
        }
        return;
    }
    for (int c = 0; c < k; c++)
        r->record_probs[c] = 0;
    for (int64_t w = 0; w < r->prep.windows; w++)
        for (int c = 0; c < k; c++)
            r->record_probs[c] += r->probs[w * k + c] / (float)r->prep.windows;
}

void ecg_serve_base64(char *out, const unsigned char *p, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        unsigned v =
            (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *out++ = a[v >> 18 & 63];
        *out++ = a[v >> 12 & 63];
        *out++ = i + 1 < n ? a[v >> 6 & 63] : '=';
        *out++ = i + 2 < n ? a[v & 63] : '=';
    }
    *out = '\0';
}

static double six(double p)
{
    return round(p * 1e6) / 1e6; /* six decimals are plenty, and equal ecgpredict's */
}

static void probabilities(struct ecg_json *j, const struct ecg_serve_model_info *info, const float *p)
{
    ecg_json_begin_object(j);
    for (int c = 0; c < info->nclass; c++) {
        ecg_json_key(j, info->class_names[c]);
        ecg_json_number(j, six(p[c]));
    }
    ecg_json_end_object(j);
}

/* An image of values scaled to 0..255 between lo and hi, base64 in "data". */
static void image(struct ecg_json *j, const float *v, int64_t h, int64_t w, int64_t stride, float lo,
                  float hi)
{
    if (h <= 0 || w <= 0) {
        ecg_json_null(j);
        return;
    }
    unsigned char *px = malloc((size_t)(h * w));
    char *b64 = malloc((size_t)(h * w + 2) / 3 * 4 + 1);
    if (!px || !b64) {
        free(px);
        free(b64);
        ecg_json_null(j);
        return;
    }
    float span = hi > lo ? hi - lo : 1.0f;
    for (int64_t i = 0; i < h * w; i++) {
        float t = (v[i * stride] - lo) / span;
        px[i] = (unsigned char)lrintf(255.0f * (t < 0 ? 0 : t > 1 ? 1 : t));
    }
    ecg_json_begin_object(j);
    ecg_json_key(j, "height");
    ecg_json_int(j, h);
    ecg_json_key(j, "width");
    ecg_json_int(j, w);
    ecg_json_key(j, "min");
    ecg_json_number(j, lo);
    ecg_json_key(j, "max");
    ecg_json_number(j, hi);
    ecg_json_key(j, "encoding");
    ecg_json_string(j, "u8-base64");
    ecg_json_key(j, "data");
    ecg_serve_base64(b64, px, (size_t)(h * w));
    ecg_json_string(j, b64);
    ecg_json_end_object(j);
    free(px);
    free(b64);
}

/* The window's model input, channel 0, as an image; the page draws it as the spectrogram. */
static void spectrogram(struct ecg_json *j, const struct ecg_serve_model_info *info, const float *in)
{
    int64_t n = info->input_h * info->input_w;
    float lo = in[0], hi = in[0];
    for (int64_t i = 0; i < n; i++) {
        float v = in[i * info->input_c];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    image(j, in, info->input_h, info->input_w, info->input_c, lo, hi);
}

static void windows(struct ecg_json *j, const struct ecg_serve_model_info *info,
                    const struct ecg_serve_result *r, unsigned include)
{
    int64_t size = info->input_h * info->input_w * info->input_c, cs = info->cam_h * info->cam_w;
    ecg_json_begin_array(j, false);
    for (int64_t w = 0; r->probs && w < r->prep.windows; w++) {
        const float *p = r->probs + w * info->nclass;
        ecg_json_begin_object(j);
        ecg_json_key(j, "start_s");
        ecg_json_number(j, round(r->prep.window_start_s[w] * 1e3) / 1e3);
        ecg_json_key(j, "class");
        ecg_json_string(j, info->class_names[ecg_argmax(p, info->nclass)]);
        ecg_json_key(j, "probabilities");
        probabilities(j, info, p);
        if (include & ECG_INCLUDE_SPECTROGRAM) {
            ecg_json_key(j, "spectrogram");
            spectrogram(j, info, r->prep.inputs + w * size);
        }
        if ((include & ECG_INCLUDE_GRADCAM) && r->cam && cs > 0) {
            ecg_json_key(j, "gradcam");
            image(j, r->cam + w * cs, info->cam_h, info->cam_w, 1, 0.0f, 1.0f);
        }
        ecg_json_end_object(j);
    }
    ecg_json_end_array(j);
}

/* A beat model's answer: "beats" [{sample, time_s, class, probabilities}] in time order (as ecgpredict
 * prints them), "counts" per class and "left_out". */
static void beats(struct ecg_json *j, const struct ecg_serve_model_info *info, const struct ecg_serve_result *r)
{
    const int k = info->nclass;
    const bool ok = !r->error[0] && (r->probs || r->prep.windows == 0); /* no beats found: empty, not null */
    ecg_json_key(j, "beats");
    ecg_json_begin_array(j, false);
    for (int64_t w = 0; ok && w < r->prep.windows; w++) {
        const float *p = r->probs + w * k;
        ecg_json_begin_object(j);
        ecg_json_key(j, "sample");
        ecg_json_int(j, r->prep.beat_sample[w]);
        ecg_json_key(j, "time_s");
        ecg_json_number(j, round((double)r->prep.beat_sample[w] / r->rec->fs * 1e4) / 1e4);
        ecg_json_key(j, "class");
        ecg_json_string(j, info->class_names[ecg_argmax(p, k)]);
        ecg_json_key(j, "probabilities");
        probabilities(j, info, p);
        ecg_json_end_object(j);
    }
    ecg_json_end_array(j);
    ecg_json_key(j, "counts");
    if (!ok) {
        ecg_json_null(j);
    } else {
        ecg_json_begin_object(j);
        for (int c = 0; c < k; c++) {
            int64_t n = 0;
            for (int64_t w = 0; w < r->prep.windows; w++)
                n += ecg_argmax(r->probs + w * k, k) == c;
            ecg_json_key(j, info->class_names[c]);
            ecg_json_int(j, n);
        }
        ecg_json_end_object(j);
    }
    ecg_json_key(j, "left_out");
    ecg_json_int(j, r->prep.left_out);
    if (r->error[0]) {
        ecg_json_key(j, "error");
        ecg_json_string(j, r->error);
    }
}

static void checks(struct ecg_json *j, const struct ecg_serve_result *r)
{
    ecg_json_begin_array(j, false);
    for (int c = 0; c < r->nchecks; c++) {
        ecg_json_begin_object(j);
        ecg_json_key(j, "code");
        ecg_json_string(j, ecg_check_name(r->checks[c].code));
        ecg_json_key(j, "severity");
        ecg_json_string(j, r->checks[c].severity == ECG_CHECK_ERROR ? "error" : "warning");
        ecg_json_key(j, "message");
        ecg_json_string(j, r->checks[c].message);
        ecg_json_end_object(j);
    }
    ecg_json_end_array(j);
}

static void trace(struct ecg_json *j, const struct ecg_serve_result *r)
{
    int64_t n = r->prep.signal_length, step = (n + ECG_SERVE_TRACE_MAX - 1) / ECG_SERVE_TRACE_MAX;
    step = step < 1 ? 1 : step;
    ecg_json_begin_object(j);
    ecg_json_key(j, "fs");
    ecg_json_number(j, r->prep.signal_fs / (double)step);
    ecg_json_key(j, "values");
    ecg_json_begin_array(j, true);
    for (int64_t i = 0; i < n; i += step)
        ecg_json_number(j, round((double)r->prep.signal[i] * 1e4) / 1e4);
    ecg_json_end_array(j);
    ecg_json_end_object(j);
}

/* A rhythm model's answer: the record's probabilities (ecg_serve_result_finish), its class, and the windows. */
static void rhythm(struct ecg_json *j, const struct ecg_serve_model_info *info, const struct ecg_serve_result *r,
                   unsigned include)
{
    const float *p = r->error[0] ? NULL : r->record_probs;
    ecg_json_key(j, "class");
    if (p)
        ecg_json_string(j, info->class_names[ecg_argmax(p, info->nclass)]);
    else
        ecg_json_null(j);
    ecg_json_key(j, "probabilities");
    if (p)
        probabilities(j, info, p);
    else
        ecg_json_null(j);
    if (r->error[0]) {
        ecg_json_key(j, "error");
        ecg_json_string(j, r->error);
    }
    ecg_json_key(j, "windows");
    windows(j, info, r, include);
}

static void record(struct ecg_json *j, const struct ecg_serve_model_info *info,
                   const struct ecg_serve_result *r, unsigned include)
{
    const struct ecg_serve_record *rec = r->rec;
    ecg_json_begin_object(j);
    ecg_json_key(j, "record");
    ecg_json_string(j, rec->name);
    if (rec->file[0]) {
        ecg_json_key(j, "file");
        ecg_json_string(j, rec->file);
    }
    ecg_json_key(j, "fs");
    ecg_json_number(j, rec->fs);
    ecg_json_key(j, "seconds");
    ecg_json_number(j, round((double)rec->length / rec->fs * 1e3) / 1e3);
    if (info->beats)
        beats(j, info, r);
    else
        rhythm(j, info, r, include);
    ecg_json_key(j, "checks");
    checks(j, r);
    if ((include & ECG_INCLUDE_SIGNAL) && r->prep.signal && r->prep.signal_length > 0) {
        ecg_json_key(j, "signal");
        trace(j, r);
    }
    ecg_json_end_object(j);
}

void ecg_serve_json_model_members(struct ecg_json *j, const struct ecg_serve_model_info *info)
{
    ecg_json_key(j, "name");
    ecg_json_string(j, info->name);
    ecg_json_key(j, "classes");
    ecg_json_begin_array(j, true);
    for (int c = 0; c < info->nclass; c++)
        ecg_json_string(j, info->class_names[c]);
    ecg_json_end_array(j);
}

void ecg_serve_write_results(FILE *f, const struct ecg_serve_model_info *info,
                             const struct ecg_serve_result *res, int32_t n, unsigned include)
{
    struct ecg_json j;
    ecg_json_init(&j, f, -1);
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "model");
    ecg_json_begin_object(&j);
    ecg_serve_json_model_members(&j, info);
    ecg_json_end_object(&j);
    ecg_json_key(&j, "records");
    ecg_json_begin_array(&j, false);
    for (int32_t i = 0; i < n; i++)
        record(&j, info, &res[i], include);
    ecg_json_end_array(&j);
    ecg_json_end_object(&j);
}

void ecg_serve_write_error(FILE *f, const char *msg, const char *file)
{
    struct ecg_json j;
    ecg_json_init(&j, f, -1);
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "error");
    ecg_json_string(&j, msg);
    if (file && file[0]) {
        ecg_json_key(&j, "file");
        ecg_json_string(&j, file);
    }
    ecg_json_end_object(&j);
}
