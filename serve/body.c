/* A request body to records, by its Content-Type: multipart uploads, a JSON signal, or CSV samples. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve/upload.h"

static int has_type(const char *ct, const char *type)
{
    size_t n = strlen(type);
    return ct && strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int ecg_serve_body_records(const char *content_type, const unsigned char *body, size_t size,
                           const struct ecg_serve_upload_limits *lim, size_t max_part_bytes,
                           struct ecg_serve_params *params, struct ecg_serve_records *out, char *file,
                           size_t file_cap, struct ecg_error *err)
{
    file[0] = '\0';
    if (has_type(content_type, "multipart/form-data")) {
        char boundary[80];
        ECG_TRY(ecg_multipart_boundary(content_type, boundary, sizeof boundary, err));
        struct ecg_multipart_limits ml = {4 * lim->max_records, max_part_bytes};
        struct ecg_multipart_part *parts;
        int32_t n;
        ECG_TRY(ecg_multipart_parse(body, size, boundary, &ml, &parts, &n, err));
        int rc = ecg_serve_records_from_parts(parts, n, lim, params, out, file, file_cap, err);
        free(parts);
        return rc;
    }
    struct ecg_serve_record rec = {0};
    snprintf(rec.name, sizeof rec.name, "%s", params->record[0] ? params->record : "signal");
    int rc;
    if (has_type(content_type, "application/json")) {
        rc = ecg_serve_json_signal((const char *)body, size, lim->max_samples, params, &rec.signal,
                                   &rec.length, err);
        if (!rc && params->record[0])
            snprintf(rec.name, sizeof rec.name, "%s", params->record);
    } else {
        rc = ecg_serve_csv_signal("body", (const char *)body, size, lim->max_samples, &params->fs,
                                  &rec.signal, &rec.length, err);
    }
    rec.fs = params->fs;
    return rc ? rc : ecg_serve_records_push(out, &rec, lim->max_records, err);
}
