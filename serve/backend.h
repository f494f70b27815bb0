/* The interface between the HTTP server and a loaded model: what the server needs to classify records. */
#ifndef ECG_SERVE_BACKEND_H
#define ECG_SERVE_BACKEND_H

#include <stdint.h>

#include "core/error.h"

/*
 * The server never touches a model directly.  It calls a backend in two
 * steps, so that windows of concurrent requests can share one forward pass:
 *
 *   prepare   (request threads, many at once): one record's samples in mV at
 *             rate fs -> the model inputs of its windows, plus the
 *             preprocessed signal for display;
 *   classify  (the batching thread, one at a time): a batch of window inputs,
 *             possibly from several requests -> per-window probabilities and,
 *             when the backend can, a Grad-CAM heat map per window.
 *
 * A record's probabilities are the mean of its windows' probabilities (or what
 * the backend's record_probs makes of them and the record).  A beat
 * model (info.beats) instead prepares one window per heartbeat that the QRS
 * detector finds, each with its R peak and `context_c` context values (its beat
 * features, when the model reads any); the server then answers per beat, not per record.
 *
 * Threads: `model` is shared read-only by every call; each call gets its own
 * context from context_new (the server keeps a pool and never lets two
 * threads use one context at once).  Arrays a backend returns in
 * struct ecg_serve_prepared are malloc'd and freed by the server with free().
 */

/* What the server needs to know about the model (filled by the backend, constant while serving). */
struct ecg_serve_model_info {
    const char *name;               /* e.g. the weight file's base name */
    int32_t nclass;                 /* number of classes */
    const char *const *class_names; /* nclass names, in the model's output order */
    double fs;                      /* sampling rate the model was trained at (Hz) */
    double window_s;                /* seconds of signal per window (shorter records are padded into one) */
    const char *window_fill;        /* what fills the rest of a shorter record's window; NULL: zeros */
    double min_s; /* the shortest record prepare accepts (s); shorter ones are not classified */
    double max_s; /* longest recording of the training data (s); longer ones get a warning */
    int64_t input_h, input_w, input_c; /* one window's input: (h, w, c) float32, channels fastest; row 0 is
                                          the highest frequency, column 0 the earliest time */
    int64_t cam_h, cam_w;              /* Grad-CAM map per window (row-major, same orientation); 0 = none */
    const char *card_json;             /* the model card as one JSON object (classes, preprocessing, training
                                          data, metrics), served at /v1/model */
    int beats;         /* 1: a beat model (one window per detected heartbeat); 0: a rhythm model */
    int64_t context_c; /* context values per window that classify reads beside the inputs; 0: none */
};

/* One record prepared for the model. */
struct ecg_serve_prepared {
    int64_t windows;        /* number of windows (>= 1 on success) */
    float *inputs;          /* windows * input_h * input_w * input_c floats */
    double *window_start_s; /* windows start times in seconds of the preprocessed signal; NULL for beats */
    float *signal;          /* the preprocessed signal the windows were cut from */
    int64_t signal_length;
    double signal_fs; /* its rate (the model's rate) */
    float *context;       /* windows * context_c floats (each window's record features, data/record.h), NULL when
                             context_c is 0 */
    /* beat models: */
    int64_t *beat_sample; /* (windows) each beat's R peak, in samples of the uploaded signal */
    int64_t left_out;     /* beats too close to either end of the record for their window */
};

struct ecg_serve_backend {
    void *model;
    struct ecg_serve_model_info info;
    /* A fresh per-thread context; NULL when out of memory. */
    void *(*context_new)(void *model);
    void (*context_free)(void *ctx);
    /* Record -> windows.  A user-caused problem (too short, not finite, ...) is a
     * status with a message naming what is wrong; `out` is zeroed on entry and
     * left empty on failure. */
    int (*prepare)(void *model, void *ctx, const float *mv, int64_t length, double fs,
                   struct ecg_serve_prepared *out, struct ecg_error *err);
    /* count window inputs (end to end), with their context (count * context_c, NULL when
     * context_c is 0) -> probs (count * nclass) and, when info.cam_h > 0 and `cam` is not
     * NULL, cam (count * cam_h * cam_w, each map scaled to 0..1). */
    int (*classify)(void *model, void *ctx, const float *inputs, const float *context, int64_t count, float *probs,
                    float *cam, struct ecg_error *err);
    /* A rhythm record's probabilities (nclass) from its windows' (prep->windows * nclass) and its prepared record
     * (the model may combine them with the signal's RR features); NULL: the mean of the windows'.  Errors: out of
     * memory. */
    int (*record_probs)(void *model, const float *window_probs, const struct ecg_serve_prepared *prep, float *probs,
                        struct ecg_error *err);
};

/* Frees the arrays of a prepared record and zeroes it; a zeroed one is a no-op. */
void ecg_serve_prepared_free(struct ecg_serve_prepared *p);

#endif
