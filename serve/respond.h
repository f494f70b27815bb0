/* The JSON bodies of ecgserve's responses: classification results and errors. */
#ifndef ECG_SERVE_RESPOND_H
#define ECG_SERVE_RESPOND_H

#include <stdint.h>
#include <stdio.h>

#include "serve/backend.h"
#include "serve/checks.h"
#include "serve/upload.h"

/* One record's outcome. */
struct ecg_serve_result {
    const struct ecg_serve_record *rec;
    struct ecg_check checks[ECG_CHECK_COUNT];
    int nchecks;
    char error[ECG_ERROR_MAX]; /* non-empty: not classified, and why */
    struct ecg_serve_prepared prep;
    const float
        *probs; /* prep.windows * nclass (borrowed: the request's batch output), NULL until classified */
    const float *cam; /* prep.windows * cam_h * cam_w (borrowed), or NULL */
    float *record_probs; /* nclass: a rhythm record's probabilities (owned), NULL until ecg_serve_result_finish */
};

/* Frees the prepared arrays and record_probs (probs and cam are borrowed). */
void ecg_serve_result_free(struct ecg_serve_result *r);

/* A classified rhythm record's probabilities from its windows' (be->record_probs, else their mean) into
 * r->record_probs; a failure becomes r->error.  No-op for beat models, unclassified records and errors. */
void ecg_serve_result_finish(const struct ecg_serve_backend *be, struct ecg_serve_result *r);

/* The longest signal ?include=signal returns; longer ones are decimated by an integer step. */
#define ECG_SERVE_TRACE_MAX 6000

/* {"model": {"name", "classes"}, "records": [...]} as docs/serve.md describes. */
struct ecg_json;
/* The model's "name" and "classes" members into the open object of j (the response and the model card). */
void ecg_serve_json_model_members(struct ecg_json *j, const struct ecg_serve_model_info *info);

void ecg_serve_write_results(FILE *f, const struct ecg_serve_model_info *info,
                             const struct ecg_serve_result *res, int32_t n, unsigned include);
/* {"error": msg, "file": file} ("file" omitted when NULL or empty). */
void ecg_serve_write_error(FILE *f, const char *msg, const char *file);

/* Standard base64 (RFC 4648, with padding) of n bytes into out ((n + 2) / 3 * 4 + 1 bytes, NUL-terminated).
 */
void ecg_serve_base64(char *out, const unsigned char *p, size_t n);

#endif
