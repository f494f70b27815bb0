/* The prediction line ecgpredict prints and ecgeval writes per record, so the two compare line for line. */
#ifndef ECG_TOOLS_PREDICT_JSON_H
#define ECG_TOOLS_PREDICT_JSON_H

#include <stdio.h>

/* {"file", "record", "class", "probabilities": {name: p, ...}[, "windows": [[p, ...], ...]]} and a newline;
 * probabilities rounded to six decimals.  window_probs (windows x k) may be NULL. */
void ecg_predict_json_line(FILE *f, const char *file, const char *record, const char *const *names, int k,
                           const float *probs, const float *window_probs, long long windows);

/* One beat of a WFDB record: {"record", "sample", "time_s", "class", "probabilities": {name: p, ...}}. */
void ecg_predict_json_beat(FILE *f, const char *record, long long sample, double fs, const char *const *names, int k,
                           const float *probs, int best);

/* The record's summary after its beats: {"record", "beats", "source", "left_out", "counts": {name: n, ...}};
 * counts[k] per predicted class. */
void ecg_predict_json_beat_summary(FILE *f, const char *record, long long beats, const char *source,
                                   long long left_out, const char *const *names, int k, const long long *counts);

/* Grad-CAM maps of a record's windows (windows x height x width, in [0, 1]). */
struct ecg_predict_cams {
    const float *maps;
    long long height, width;
};

/* The same line with "gradcam": {"height": h, "width": w, "windows": [[v, ...], ...]} before its end: each
 * window's map row-major (row 0 the highest frequency, column 0 the earliest time), three decimals. */
void ecg_predict_json_line_cams(FILE *f, const char *file, const char *record, const char *const *names, int k,
                                const float *probs, const float *window_probs, long long windows,
                                const struct ecg_predict_cams *cams);

#endif
