/* The prediction line ecgpredict prints and ecgeval writes per record, so the two compare line for line. */
#include "tools/predict_json.h"

#include <math.h>

#include "eval/json.h"

static void probability_object(struct ecg_json *j, const char *const *names, int k, const float *p)
{
    ecg_json_begin_object(j);
    for (int c = 0; c < k; c++) {
        ecg_json_key(j, names[c]);
        ecg_json_number(j, round((double)p[c] * 1e6) / 1e6); /* six decimals are plenty */
    }
    ecg_json_end_object(j);
}

static void cam_member(struct ecg_json *j, const struct ecg_predict_cams *c, long long windows)
{
    const long long per = c->height * c->width;
    ecg_json_key(j, "gradcam");
    ecg_json_begin_object(j);
    ecg_json_key(j, "height");
    ecg_json_int(j, c->height);
    ecg_json_key(j, "width");
    ecg_json_int(j, c->width);
    ecg_json_key(j, "windows");
    ecg_json_begin_array(j, true);
    for (long long w = 0; w < windows; w++) {
        ecg_json_begin_array(j, true);
        for (long long p = 0; p < per; p++)
            ecg_json_number(j, round((double)c->maps[w * per + p] * 1e3) / 1e3);
        ecg_json_end_array(j);
    }
    ecg_json_end_array(j);
    ecg_json_end_object(j);
}

void ecg_predict_json_line(FILE *f, const char *file, const char *record, const char *const *names, int k,
                           const float *probs, const float *window_probs, long long windows)
{
    ecg_predict_json_line_cams(f, file, record, names, k, probs, window_probs, windows, NULL);
}

void ecg_predict_json_line_cams(FILE *f, const char *file, const char *record, const char *const *names, int k,
                                const float *probs, const float *window_probs, long long windows,
                                const struct ecg_predict_cams *cams)
{
    int best = 0;
    for (int c = 1; c < k; c++)
        if (probs[c] > probs[best])
            best = c;
    struct ecg_json j;
    ecg_json_init(&j, f, -1);
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "file");
    ecg_json_string(&j, file);
    ecg_json_key(&j, "record");
    ecg_json_string(&j, record);
    ecg_json_key(&j, "class");
    ecg_json_string(&j, names[best]);
    ecg_json_key(&j, "probabilities");
    probability_object(&j, names, k, probs);
    if (window_probs) {
        ecg_json_key(&j, "windows");
        ecg_json_begin_array(&j, true);
        for (long long w = 0; w < windows; w++)
            probability_object(&j, names, k, window_probs + w * k);
        ecg_json_end_array(&j);
    }
    if (cams)
        cam_member(&j, cams, windows);
    ecg_json_end_object(&j);
    fputc('\n', f);
}

void ecg_predict_json_beat(FILE *f, const char *record, long long sample, double fs, const char *const *names, int k,
                           const float *probs, int best)
{
    struct ecg_json j;
    ecg_json_init(&j, f, -1);
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "record");
    ecg_json_string(&j, record);
    ecg_json_key(&j, "sample");
    ecg_json_int(&j, sample);
    ecg_json_key(&j, "time_s");
    ecg_json_number(&j, round((double)sample / fs * 1e4) / 1e4);
    ecg_json_key(&j, "class");
    ecg_json_string(&j, names[best]);
    ecg_json_key(&j, "probabilities");
    probability_object(&j, names, k, probs);
    ecg_json_end_object(&j);
    fputc('\n', f);
}

void ecg_predict_json_beat_summary(FILE *f, const char *record, long long beats, const char *source,
                                   long long left_out, const char *const *names, int k, const long long *counts)
{
    struct ecg_json j;
    ecg_json_init(&j, f, -1);
    ecg_json_begin_object(&j);
    ecg_json_key(&j, "record");
    ecg_json_string(&j, record);
    ecg_json_key(&j, "beats");
    ecg_json_int(&j, beats);
    ecg_json_key(&j, "source");
    ecg_json_string(&j, source);
    ecg_json_key(&j, "left_out");
    ecg_json_int(&j, left_out);
    ecg_json_key(&j, "counts");
    ecg_json_begin_object(&j);
    for (int c = 0; c < k; c++) {
        ecg_json_key(&j, names[c]);
        ecg_json_int(&j, counts[c]);
    }
    ecg_json_end_object(&j);
    ecg_json_end_object(&j);
    fputc('\n', f);
}
