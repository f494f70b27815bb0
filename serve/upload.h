/* From uploaded parts to records: grouping .hea with .mat/.dat, CACHET .h5, CSV; readers run on private
 * copies. */
#ifndef ECG_SERVE_UPLOAD_H
#define ECG_SERVE_UPLOAD_H

#include <stdint.h>

#include "core/error.h"
#include "serve/input.h"
#include "serve/multipart.h"
#include "serve/sandbox.h"

/* One record to classify: samples in mV as uploaded (before preprocessing). */
struct ecg_serve_record {
    char name[ECG_SERVE_RECORD_MAX];   /* "A00001", "seg0003", "signal" */
    char file[ECG_MULTIPART_NAME_MAX]; /* the uploaded file it came from ("" for a raw body) */
    double fs;
    int64_t length;
    float *signal;
};

struct ecg_serve_records {
    struct ecg_serve_record *items;
    int32_t count;
};

struct ecg_serve_upload_limits {
    int32_t max_records;            /* per request */
    int64_t max_samples;            /* per record */
    struct ecg_sandbox_limits hdf5; /* the child process that parses .h5 uploads */
};

/* Defaults: 64 records, 10 million samples each; HDF5 child 10 s wall, 10 s CPU, 1 GiB (none under a
 * sanitizer), 512 MiB of output. */
void ecg_serve_upload_limits_default(struct ecg_serve_upload_limits *lim);

/*
 * Turns multipart parts into records.  Fields without a file name are
 * parameters (fs, include, record: ecg_serve_param_set into `params`); file
 * parts must be named "file" and are grouped by the stem of their file name:
 *   X.hea + X.mat  a CinC 2017 / WFDB-with-MATLAB record;  X.mat alone: CinC defaults (300 Hz, gain 1000)
 *   X.hea + X.dat  a WFDB record (formats 212 and 16; its first signal)
 *   X.h5 / .hdf5   CACHET-CADB short format, every 10 s segment a record ("X:seg0003"), parsed in a child
 * process X.csv / .txt   samples (ecg_serve_csv_signal), rate from the fs field or a time column The readers
 * of data/ read files, so the bytes of a record are written to a private directory (mkdtemp, mode 0700) under
 * names this function makes up
 * ("r.hea", "r.mat", ...), never names from the request, and removed before
 * it returns.  On failure `file` gets the name of the uploaded file at fault
 * ("" when none) and the message names it too.  The caller frees `out` with
 * ecg_serve_records_free, also after a failure.
 */
int ecg_serve_records_from_parts(const struct ecg_multipart_part *parts, int32_t nparts,
                                 const struct ecg_serve_upload_limits *lim, struct ecg_serve_params *params,
                                 struct ecg_serve_records *out, char *file, size_t file_cap,
                                 struct ecg_error *err);

/*
 * The records of a request body by its Content-Type: multipart/form-data
 * (each part at most `max_part_bytes`; ecg_serve_records_from_parts),
 * application/json (ecg_serve_json_signal, one record named by the body's or
 * the query's "record", else "signal"), anything else samples as CSV
 * (ecg_serve_csv_signal).  `params` holds the query's parameters on entry and
 * receives the body's.  On failure `file` names the uploaded file at fault
 * ("" when none); the caller frees `out` with ecg_serve_records_free.
 */
int ecg_serve_body_records(const char *content_type, const unsigned char *body, size_t size,
                           const struct ecg_serve_upload_limits *lim, size_t max_part_bytes,
                           struct ecg_serve_params *params, struct ecg_serve_records *out, char *file,
                           size_t file_cap, struct ecg_error *err);

/* Appends a record (taking ownership of rec->signal, freed on failure). */
int ecg_serve_records_push(struct ecg_serve_records *r, struct ecg_serve_record *rec, int32_t max_records,
                           struct ecg_error *err);
void ecg_serve_records_free(struct ecg_serve_records *r);

#endif
