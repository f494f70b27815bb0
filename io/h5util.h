/* Thin helpers over the HDF5 C API that report failures as one ecg_error message. */
#ifndef ECG_IO_H5UTIL_H
#define ECG_IO_H5UTIL_H

#include <hdf5.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "core/strlist.h"

/*
 * Error contract: every fallible helper returns an ecg_status and fills
 * `err` with one message that names the file and the object, e.g.
 *   "weights.h5: dataset '/stem_conv/stem_conv/kernel:0': expected a float
 *    dataset, found string"
 * HDF5's own error stack is never printed: ecg_h5_init() turns off its
 * automatic printing, and the innermost HDF5 description (such as
 * "file signature not found" or "truncated file") is appended in
 * parentheses when HDF5 reported the failure.
 *
 * Names in messages come from the open handles (H5Fget_name/H5Iget_name),
 * so the helpers take no path arguments for context.
 *
 * Strings: attributes may hold fixed-length or variable-length strings,
 * as a scalar or a 1-D array; the readers accept every combination.
 * Writers always produce fixed-length, null-padded ASCII strings, the form
 * Keras writes for `layer_names` and `weight_names`.
 *
 * Threads: Debian's serial HDF5 library is not thread-safe; call these
 * (and io/ as a whole) from one thread at a time.
 */

#define ECG_H5_MAX_DIMS 8

/* Turns off HDF5's automatic error printing (idempotent, process-wide). */
void ecg_h5_init(void);

/* Fills err with "<fmt...> (<innermost HDF5 error>)" and clears the HDF5
 * error stack; returns code.  Use right after an HDF5 call failed. */
int ecg_h5_fail(struct ecg_error *err, enum ecg_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "<file>: <object path>" of an open handle, into buf; returns buf. */
const char *ecg_h5_where(hid_t obj, char *buf, int bufsize);

/* True when path is a regular, readable file in HDF5's format (for probes: it prints nothing and never opens
 * a FIFO or a device, which could block). */
bool ecg_h5_is_file(const char *path);

/* Opens an existing file read-only; a missing, unreadable, truncated or
 * non-HDF5 file is ECG_ERR_IO / ECG_ERR_FORMAT with the path. */
int ecg_h5_open_read(const char *path, hid_t *file, struct ecg_error *err);

/* Creates (truncates) a file for writing. */
int ecg_h5_create(const char *path, hid_t *file, struct ecg_error *err);

/* Closes any HDF5 handle (file, group, dataset, ...); negative ids are ignored. */
void ecg_h5_close(hid_t id);

/* True when `obj` has an attribute `name` / a link `name`. */
bool ecg_h5_has_attr(hid_t obj, const char *name);
bool ecg_h5_has_link(hid_t loc, const char *name);

/* Appends the strings of string attribute `name` (scalar or 1-D, fixed or
 * variable length) to `out`.  Missing attribute: ECG_ERR_FORMAT. */
int ecg_h5_attr_strings(hid_t obj, const char *name, struct ecg_strlist *out,
                        struct ecg_error *err);

/* Reads a scalar (or one-element) string attribute into buf (truncated to
 * bufsize - 1). */
int ecg_h5_attr_string(hid_t obj, const char *name, char *buf, int bufsize, struct ecg_error *err);

/* Reads a scalar (or one-element) numeric attribute, converted to double / int64. */
int ecg_h5_attr_double(hid_t obj, const char *name, double *out, struct ecg_error *err);
int ecg_h5_attr_int64(hid_t obj, const char *name, int64_t *out, struct ecg_error *err);

/* Rank and extents of dataset `name` under `loc` (a scalar has ndim 0).
 * Also reports its type class (H5T_FLOAT, H5T_INTEGER, ...) when cls != NULL. */
int ecg_h5_dataset_shape(hid_t loc, const char *name, int *ndim, int64_t shape[ECG_H5_MAX_DIMS],
                         H5T_class_t *cls, struct ecg_error *err);

/*
 * Reads a numeric dataset of exactly `count` elements, converting from its
 * stored type (float16/32/64 or integer for the typed readers below).
 * The float reader accepts only floating-point datasets.  A size other than
 * `count` is ECG_ERR_SHAPE.
 */
int ecg_h5_read_floats(hid_t loc, const char *name, float *out, int64_t count,
                       struct ecg_error *err);
int ecg_h5_read_doubles(hid_t loc, const char *name, double *out, int64_t count,
                        struct ecg_error *err);
int ecg_h5_read_int64(hid_t loc, const char *name, int64_t *out, int64_t count,
                      struct ecg_error *err);
int ecg_h5_read_uint64(hid_t loc, const char *name, uint64_t *out, int64_t count,
                       struct ecg_error *err);

/* Reads a scalar string dataset (fixed or variable length) into a malloc'd
 * string the caller frees. */
int ecg_h5_read_string(hid_t loc, const char *name, char **out, struct ecg_error *err);

/*
 * Writers.  `name` may contain '/' (intermediate groups are created, as
 * h5py does for Keras' "stem_conv/kernel:0").  ndim 0 writes a scalar.
 */
int ecg_h5_write_floats(hid_t loc, const char *name, int ndim, const int64_t *shape,
                        const float *data, struct ecg_error *err);
int ecg_h5_write_doubles(hid_t loc, const char *name, int ndim, const int64_t *shape,
                         const double *data, struct ecg_error *err);
int ecg_h5_write_int64(hid_t loc, const char *name, int ndim, const int64_t *shape,
                       const int64_t *data, struct ecg_error *err);
int ecg_h5_write_uint64(hid_t loc, const char *name, int ndim, const int64_t *shape,
                        const uint64_t *data, struct ecg_error *err);
/* A scalar fixed-length string dataset. */
int ecg_h5_write_string(hid_t loc, const char *name, const char *text, struct ecg_error *err);

/* Attributes: a 1-D fixed-length string array (count may be 0), a scalar
 * fixed-length string, a scalar double, a scalar int64.  An existing
 * attribute of the same name is replaced. */
int ecg_h5_write_attr_strings(hid_t obj, const char *name, const char *const *items, int count,
                              struct ecg_error *err);
int ecg_h5_write_attr_string(hid_t obj, const char *name, const char *text, struct ecg_error *err);
int ecg_h5_write_attr_double(hid_t obj, const char *name, double value, struct ecg_error *err);
int ecg_h5_write_attr_int64(hid_t obj, const char *name, int64_t value, struct ecg_error *err);

/* Creates group `name` (with intermediate groups); returns its id in *group. */
int ecg_h5_create_group(hid_t loc, const char *name, hid_t *group, struct ecg_error *err);
/* Opens an existing group; a missing one is ECG_ERR_FORMAT naming it. */
int ecg_h5_open_group(hid_t loc, const char *name, hid_t *group, struct ecg_error *err);

#endif
