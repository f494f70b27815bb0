/* Parsers of the request inputs other than multipart: query parameters, a JSON signal, a CSV of samples. */
#ifndef ECG_SERVE_INPUT_H
#define ECG_SERVE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* What ?include= asks to add to each record of a response. */
enum ecg_serve_include {
    ECG_INCLUDE_SIGNAL = 1,      /* the preprocessed signal (decimated for display) */
    ECG_INCLUDE_SPECTROGRAM = 2, /* each window's model input as an 8-bit image */
    ECG_INCLUDE_GRADCAM = 4,     /* each window's Grad-CAM map, when the model has one */
};

#define ECG_SERVE_FS_MIN 1.0
#define ECG_SERVE_FS_MAX 100000.0
#define ECG_SERVE_RECORD_MAX 64

/* The parameters a request may give in its query string (or as multipart fields). */
struct ecg_serve_params {
    double fs; /* 0 = not given */
    unsigned include;
    char record[ECG_SERVE_RECORD_MAX]; /* a name for a raw-body record; "" = "signal" */
};

/* Sets one parameter from its decoded value: fs (a number of Hz in 1..100000),
 * include (a comma list of signal, spectrogram, gradcam, or "all"), record (a
 * name of 1..63 printable characters).  An unknown key or a bad value is
 * ECG_ERR_VALUE naming the key, what was expected and what was found. */
int ecg_serve_param_set(struct ecg_serve_params *p, const char *key, const char *value,
                        struct ecg_error *err);

/* Parses a raw query string ("fs=300&include=all", without the '?'):
 * percent-decoding, '+' as space, each pair through ecg_serve_param_set. */
int ecg_serve_query_parse(const char *query, struct ecg_serve_params *p, struct ecg_error *err);

/* Limit of the text parsers. */
#define ECG_SERVE_SAMPLE_ABS_MAX 1e7 /* |sample| above this is not an ECG in any unit */

/* A JSON body {"fs": number, "signal": [numbers...], "record": "name"}
 * ("record" optional; fs may instead come from the query, which `p` holds on
 * entry and the body overrides).  Strict RFC 8259 numbers; no NaN or
 * Infinity; any nesting other than this shape (an array or object where a
 * number is due), unknown or duplicate keys, trailing data, samples beyond
 * +-ECG_SERVE_SAMPLE_ABS_MAX and more than max_samples samples are errors
 * naming the byte offset and key.  *signal is malloc'd. */
int ecg_serve_json_signal(const char *text, size_t size, int64_t max_samples, struct ecg_serve_params *p,
                          float **signal, int64_t *length, struct ecg_error *err);

/* A CSV/text file of samples: one value per line, or "time,value" (comma,
 * semicolon, tab or spaces between them); an optional header line of
 * non-numbers.  When the rate is not given (*fs == 0) and a time column
 * exists, the rate comes from its steps (seconds, uniform within 1%).
 * `name` prefixes messages ("A.csv:12: ..."). */
int ecg_serve_csv_signal(const char *name, const char *text, size_t size, int64_t max_samples, double *fs,
                         float **signal, int64_t *length, struct ecg_error *err);

#endif
