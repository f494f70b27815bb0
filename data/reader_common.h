/* Helpers shared by the dataset readers: the bad-record policy, record checks, small file and text utilities.
 */
#ifndef ECG_DATA_READER_COMMON_H
#define ECG_DATA_READER_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "data/readers.h"
#include "data/record.h"

/* Applies the bad-record policy to a failure already described in `err`:
 * with ECG_BAD_SKIP logs it as a warning, counts ds->skipped, clears err and
 * returns ECG_OK; otherwise returns `status`. */
int ecg_reader_bad(const struct ecg_read_options *opt, struct ecg_dataset *ds, int status,
                   struct ecg_error *err);

/* Checks a finished record against the options: finite samples, at least
 * opt->min_seconds long, not flat.  The message names nothing; callers
 * prefix the file/record. */
/* The end of reading one record: pushes it when `bad` is ECG_OK, otherwise frees its signal and
 * applies the skip policy (ecg_reader_bad). */
int ecg_reader_keep(const struct ecg_read_options *opt, struct ecg_dataset *ds, struct ecg_record *rec, int bad,
                    struct ecg_error *err);

/* opt itself, or the defaults written into *storage when opt is NULL. */
const struct ecg_read_options *ecg_read_options_or_default(const struct ecg_read_options *opt,
                                                           struct ecg_read_options *storage);

int ecg_reader_check(const struct ecg_read_options *opt, const struct ecg_record *rec, struct ecg_error *err);

/* Reads a whole file into a malloc'd buffer (NUL-terminated, *size excludes the NUL). */
int ecg_read_file(const char *path, char **buf, int64_t *size, struct ecg_error *err);

/* 1 when a regular file / directory exists at path. */
int ecg_path_is_file(const char *path);
int ecg_path_is_dir(const char *path);

/* snprintf into a path buffer; ECG_ERR_RANGE naming the start of the path when it does not fit. */
int ecg_pathf(char *out, size_t cap, struct ecg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copies at most cap-1 bytes and terminates. */
void ecg_strlcpy(char *dst, const char *src, size_t cap);

#endif
