/* A multipart/form-data parser over a body held in memory (binary-safe, bounded). */
#ifndef ECG_SERVE_MULTIPART_H
#define ECG_SERVE_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define ECG_MULTIPART_NAME_MAX 128

/* One part: pointers into the caller's body (not copied, not NUL-terminated). */
struct ecg_multipart_part {
    char name[ECG_MULTIPART_NAME_MAX];         /* form field name ("file", "fs") */
    char filename[ECG_MULTIPART_NAME_MAX];     /* "" when the part is a plain field */
    char content_type[ECG_MULTIPART_NAME_MAX]; /* "" when absent */
    const unsigned char *data;
    size_t size;
};

struct ecg_multipart_limits {
    int32_t max_parts; /* more parts is ECG_ERR_RANGE */
    size_t max_part_bytes;
};

/* Extracts the boundary from a Content-Type value such as
 * `multipart/form-data; boundary="abc"`; ECG_ERR_FORMAT naming what is
 * missing or wrong (RFC 2046: 1..70 characters). */
int ecg_multipart_boundary(const char *content_type, char *boundary, size_t cap, struct ecg_error *err);

/* Splits `body` into parts (malloc'd array in *parts, *count; the caller frees
 * the array).  Every part must carry a Content-Disposition: form-data header
 * with a name.  Errors are ECG_ERR_FORMAT / ECG_ERR_RANGE with one message
 * naming the part number and what is wrong. */
int ecg_multipart_parse(const unsigned char *body, size_t size, const char *boundary,
                        const struct ecg_multipart_limits *lim, struct ecg_multipart_part **parts,
                        int32_t *count, struct ecg_error *err);

#endif
