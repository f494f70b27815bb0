/* HDF5 helpers: error-stack translation, string/numeric attributes, typed dataset I/O. */
#include "io/h5util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


void ecg_h5_init(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

struct walk_state {
    char desc[256];
    bool found;
};

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    struct walk_state *w = data;
    if (!w->found && e->desc && e->desc[0]) {
        snprintf(w->desc, sizeof w->desc, "%s", e->desc);
        w->found = true;
    }
    return 0;
}

int ecg_h5_fail(struct ecg_error *err, enum ecg_status code, const char *fmt, ...)
{
    char head[ECG_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    /* Walking upward starts at the most specific (innermost) failure. */
    struct walk_state w = {.found = false};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, &w);
    H5Eclear2(H5E_DEFAULT);
    if (w.found)
        return ecg_error_set(err, code, "%s (%s)", head, w.desc);
    return ecg_error_set(err, code, "%s", head);
}

const char *ecg_h5_where(hid_t obj, char *buf, int bufsize)
{
    char file[512] = "?", name[512] = "?";
    if (H5Fget_name(obj, file, sizeof file) < 0)
        snprintf(file, sizeof file, "?");
    if (H5Iget_name(obj, name, sizeof name) < 0)
        snprintf(name, sizeof name, "?");
    H5Eclear2(H5E_DEFAULT);
    snprintf(buf, (size_t)bufsize, "%s: '%s'", file, name);
    return buf;
}

/* The file name of an open handle, for messages. */
static const char *file_of(hid_t obj, char *buf, size_t size)
{
    if (H5Fget_name(obj, buf, size) < 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(buf, size, "?");
    }
    return buf;
}

/* "<file>: '<object>/<name>'" for a link or attribute under obj. */
static const char *where_child(hid_t obj, const char *name, char *buf, size_t size)
{
    char file[512], path[512];
    file_of(obj, file, sizeof file);
    if (H5Iget_name(obj, path, sizeof path) < 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(path, sizeof path, "?");
    }
    const char *sep = strcmp(path, "/") == 0 ? "" : "/";
    snprintf(buf, size, "%s: '%s%s%s'", file, path, sep, name);
    return buf;
}

bool ecg_h5_is_file(const char *path)
{
    struct stat st;
    ecg_h5_init();
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0 && H5Fis_hdf5(path) > 0;
}

int ecg_h5_open_read(const char *path, hid_t *file, struct ecg_error *err)
{
    ecg_h5_init();
    *file = H5I_INVALID_HID;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ecg_error_set(err, ECG_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    fclose(f);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return ecg_error_set(err, ECG_ERR_IO, "%s: is a directory, expected an HDF5 file", path);
    hid_t id = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (id < 0)
        return ecg_h5_fail(err, ECG_ERR_FORMAT,
                           "%s: not a readable HDF5 file", path);
    *file = id;
    return ECG_OK;
}

int ecg_h5_create(const char *path, hid_t *file, struct ecg_error *err)
{
    ecg_h5_init();
    *file = H5I_INVALID_HID;
    hid_t id = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (id < 0)
        return ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot create HDF5 file", path);
    *file = id;
    return ECG_OK;
}

void ecg_h5_close(hid_t id)
{
    if (id <= 0)
        return;
    switch (H5Iget_type(id)) {
    case H5I_FILE: H5Fclose(id); break;
    case H5I_GROUP: H5Gclose(id); break;
    case H5I_DATASET: H5Dclose(id); break;
    case H5I_ATTR: H5Aclose(id); break;
    case H5I_DATATYPE: H5Tclose(id); break;
    case H5I_DATASPACE: H5Sclose(id); break;
    case H5I_GENPROP_LST: H5Pclose(id); break;
    default: break;
    }
    H5Eclear2(H5E_DEFAULT);
}

/* ---- existence ---- */

bool ecg_h5_has_attr(hid_t obj, const char *name)
{
    htri_t r = H5Aexists(obj, name);
    H5Eclear2(H5E_DEFAULT);
    return r > 0;
}

bool ecg_h5_has_link(hid_t loc, const char *name)
{
    /* H5Lexists needs every intermediate link to exist: check each prefix. */
    char buf[1024];
    size_t n = strlen(name);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, name, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char c = buf[i];
        buf[i] = '\0';
        htri_t r = H5Lexists(loc, buf, H5P_DEFAULT);
        buf[i] = c;
        if (r <= 0) {
            H5Eclear2(H5E_DEFAULT);
            return false;
        }
    }
    return true;
}

/* ---- attributes ---- */

static const char *class_name(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "vlen";
    case H5T_OPAQUE: return "opaque";
    case H5T_REFERENCE: return "reference";
    case H5T_BITFIELD: return "bitfield";
    case H5T_TIME: return "time";
    default: return "unknown";
    }
}

/* The number of strings of an attribute or dataset into *n: a scalar or 1-D array of strings, or an empty
 * array of any type (Keras stores an empty list as an empty float64 array). */
static int string_count(hid_t ftype, hid_t space, const char *what, hssize_t *n, struct ecg_error *err)
{
    if (ftype < 0 || space < 0)
        return ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot read its type", what);
    *n = H5Sget_simple_extent_npoints(space);
    if (*n < 0)
        return ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot read its extent", what);
    if (*n == 0)
        return ECG_OK;
    H5T_class_t cls = H5Tget_class(ftype);
    if (cls != H5T_STRING)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected strings, found %s values", what, class_name(cls));
    if (H5Sget_simple_extent_ndims(space) > 1)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected a scalar or 1-D string array, found rank %d", what,
                             H5Sget_simple_extent_ndims(space));
    return ECG_OK;
}

static herr_t read_all(hid_t obj, bool is_attr, hid_t mtype, void *buf)
{
    return is_attr ? H5Aread(obj, mtype, buf) : H5Dread(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

/* n variable-length strings, read as mtype. */
static int read_vlen_strings(hid_t obj, bool is_attr, hid_t mtype, hssize_t n, const char *what,
                             struct ecg_strlist *out, struct ecg_error *err)
{
    char *small[64]; /* a layer's weight names: a weight file has hundreds of them */
    char **vlen = n <= 64 ? memset(small, 0, sizeof small) : calloc((size_t)n, sizeof *vlen);
    if (!vlen)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", what);
    H5Tset_size(mtype, H5T_VARIABLE);
    int rc = ECG_OK;
    if (read_all(obj, is_attr, mtype, vlen) < 0)
        rc = ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot read variable-length strings", what);
    for (hssize_t i = 0; i < n && rc == ECG_OK; i++)
        rc = ecg_strlist_push(out, vlen[i] ? vlen[i] : "", err);
    for (hssize_t i = 0; i < n; i++)
        if (vlen[i])
            H5free_memory(vlen[i]);
    if (vlen != small)
        free(vlen);
    return rc;
}

/* n fixed-length strings of ftype, read as mtype; space padding is dropped as NUL padding is. */
static int read_fixed_strings(hid_t obj, bool is_attr, hid_t ftype, hid_t mtype, hssize_t n, const char *what,
                              struct ecg_strlist *out, struct ecg_error *err)
{
    char small[4096]; /* a layer's weight names, as above */
    size_t size = H5Tget_size(ftype);
    H5Tset_size(mtype, size);
    H5Tset_strpad(mtype, H5T_STR_NULLPAD);
    char *fixed = size > 0 && (size_t)n <= sizeof small / size ? small : calloc((size_t)n, size + 1);
    if (!fixed)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", what);
    int rc = ECG_OK;
    if (read_all(obj, is_attr, mtype, fixed) < 0)
        rc = ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot read fixed-length strings", what);
    bool spacepad = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    for (hssize_t i = 0; i < n && rc == ECG_OK; i++) {
        const char *one = fixed + (size_t)i * size;
        size_t len = strnlen(one, size);
        while (spacepad && len > 0 && one[len - 1] == ' ')
            len--;
        rc = ecg_strlist_push_n(out, one, len, err);
    }
    if (fixed != small)
        free(fixed);
    return rc;
}

/* Reads every string of an attribute or dataset (selected by `is_attr`). */
static int read_strings(hid_t obj, bool is_attr, const char *what, struct ecg_strlist *out,
                        struct ecg_error *err)
{
    hid_t ftype = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mtype = H5I_INVALID_HID;
    hssize_t n = 0;
    int rc = string_count(ftype, space, what, &n, err);
    if (rc == ECG_OK && n > 0) {
        mtype = H5Tcopy(H5T_C_S1);
        H5Tset_cset(mtype, H5Tget_cset(ftype));
        rc = H5Tis_variable_str(ftype) > 0 ? read_vlen_strings(obj, is_attr, mtype, n, what, out, err)
                                           : read_fixed_strings(obj, is_attr, ftype, mtype, n, what, out, err);
    }
    ecg_h5_close(mtype);
    ecg_h5_close(space);
    ecg_h5_close(ftype);
    return rc;
}

static int open_attr(hid_t obj, const char *name, hid_t *attr, char *what, size_t wsize,
                     struct ecg_error *err)
{
    char where[1600];
    char path[512];
    char file[512];
    file_of(obj, file, sizeof file);
    if (H5Iget_name(obj, path, sizeof path) < 0) {
        H5Eclear2(H5E_DEFAULT);
        snprintf(path, sizeof path, "?");
    }
    snprintf(where, sizeof where, "%s: '%s' attribute '%s'", file, path, name);
    snprintf(what, wsize, "%s", where);
    if (!ecg_h5_has_attr(obj, name))
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: missing", where);
    *attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (*attr < 0)
        return ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot open", where);
    return ECG_OK;
}

int ecg_h5_attr_strings(hid_t obj, const char *name, struct ecg_strlist *out,
                        struct ecg_error *err)
{
    char what[1600];
    hid_t attr = H5I_INVALID_HID;
    int rc = open_attr(obj, name, &attr, what, sizeof what, err);
    if (rc == ECG_OK)
        rc = read_strings(attr, true, what, out, err);
    ecg_h5_close(attr);
    return rc;
}

int ecg_h5_attr_string(hid_t obj, const char *name, char *buf, int bufsize, struct ecg_error *err)
{
    struct ecg_strlist l = {0};
    char what[1600];
    hid_t attr = H5I_INVALID_HID;
    int rc = open_attr(obj, name, &attr, what, sizeof what, err);
    if (rc == ECG_OK)
        rc = read_strings(attr, true, what, &l, err);
    if (rc == ECG_OK && l.count != 1)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected one string, found %d", what, l.count);
    if (rc == ECG_OK)
        snprintf(buf, (size_t)bufsize, "%s", l.items[0]);
    ecg_strlist_free(&l);
    ecg_h5_close(attr);
    return rc;
}

static int attr_scalar(hid_t obj, const char *name, hid_t mtype, void *out, struct ecg_error *err)
{
    char what[1600];
    hid_t attr = H5I_INVALID_HID, ftype = H5I_INVALID_HID, space = H5I_INVALID_HID;
    int rc = open_attr(obj, name, &attr, what, sizeof what, err);
    if (rc)
        goto done;
    ftype = H5Aget_type(attr);
    space = H5Aget_space(attr);
    H5T_class_t cls = H5Tget_class(ftype);
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected a number, found %s", what,
                           class_name(cls));
        goto done;
    }
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n != 1) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected one number, found %lld", what,
                           (long long)n);
        goto done;
    }
    if (H5Aread(attr, mtype, out) < 0)
        rc = ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot read", what);
done:
    ecg_h5_close(space);
    ecg_h5_close(ftype);
    ecg_h5_close(attr);
    return rc;
}

int ecg_h5_attr_double(hid_t obj, const char *name, double *out, struct ecg_error *err)
{
    return attr_scalar(obj, name, H5T_NATIVE_DOUBLE, out, err);
}

int ecg_h5_attr_int64(hid_t obj, const char *name, int64_t *out, struct ecg_error *err)
{
    return attr_scalar(obj, name, H5T_NATIVE_INT64, out, err);
}

/* ---- datasets ---- */

static int open_dataset(hid_t loc, const char *name, hid_t *ds, char *what, size_t wsize,
                        struct ecg_error *err)
{
    char where[1600];
    where_child(loc, name, where, sizeof where);
    snprintf(what, wsize, "%s", where);
    if (!ecg_h5_has_link(loc, name))
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: dataset missing", where);
    *ds = H5Dopen2(loc, name, H5P_DEFAULT);
    if (*ds < 0)
        return ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot open as a dataset", where);
    return ECG_OK;
}

int ecg_h5_dataset_shape(hid_t loc, const char *name, int *ndim, int64_t shape[ECG_H5_MAX_DIMS],
                         H5T_class_t *cls, struct ecg_error *err)
{
    char what[1700];
    hid_t ds = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int rc = open_dataset(loc, name, &ds, what, sizeof what, err);
    if (rc)
        goto done;
    space = H5Dget_space(ds);
    type = H5Dget_type(ds);
    int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (nd < 0 || type < 0) {
        rc = ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot read its shape", what);
        goto done;
    }
    if (nd > ECG_H5_MAX_DIMS) {
        rc = ecg_error_set(err, ECG_ERR_SHAPE, "%s: rank %d, at most %d supported", what, nd,
                           ECG_H5_MAX_DIMS);
        goto done;
    }
    hsize_t dims[ECG_H5_MAX_DIMS];
    H5Sget_simple_extent_dims(space, dims, NULL);
    for (int i = 0; i < nd; i++)
        shape[i] = (int64_t)dims[i];
    *ndim = nd;
    if (cls)
        *cls = H5Tget_class(type);
done:
    ecg_h5_close(type);
    ecg_h5_close(space);
    ecg_h5_close(ds);
    return rc;
}

/* Reads `count` elements of dataset `name` as memory type `mtype`; `want`
 * restricts the stored type class (H5T_NO_CLASS: any number). */
static int read_numeric(hid_t loc, const char *name, hid_t mtype, H5T_class_t want, void *out,
                        int64_t count, struct ecg_error *err)
{
    char what[1700];
    hid_t ds = H5I_INVALID_HID, space = H5I_INVALID_HID, type = H5I_INVALID_HID;
    int rc = open_dataset(loc, name, &ds, what, sizeof what, err);
    if (rc)
        goto done;
    space = H5Dget_space(ds);
    type = H5Dget_type(ds);
    H5T_class_t cls = H5Tget_class(type);
    bool numeric = cls == H5T_FLOAT || cls == H5T_INTEGER;
    if (!numeric || (want != H5T_NO_CLASS && cls != want)) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected %s values, found %s", what,
                           want == H5T_FLOAT ? "float" : want == H5T_INTEGER ? "integer" : "numeric",
                           class_name(cls));
        goto done;
    }
    hssize_t n = H5Sget_simple_extent_npoints(space);
    if (n != count) {
        rc = ecg_error_set(err, ECG_ERR_SHAPE, "%s: expected %lld values, found %lld", what,
                           (long long)count, (long long)n);
        goto done;
    }
    if (count > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        rc = ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot read its data", what);
done:
    ecg_h5_close(type);
    ecg_h5_close(space);
    ecg_h5_close(ds);
    return rc;
}

int ecg_h5_read_floats(hid_t loc, const char *name, float *out, int64_t count,
                       struct ecg_error *err)
{
    return read_numeric(loc, name, H5T_NATIVE_FLOAT, H5T_FLOAT, out, count, err);
}

int ecg_h5_read_doubles(hid_t loc, const char *name, double *out, int64_t count,
                        struct ecg_error *err)
{
    return read_numeric(loc, name, H5T_NATIVE_DOUBLE, H5T_NO_CLASS, out, count, err);
}

int ecg_h5_read_int64(hid_t loc, const char *name, int64_t *out, int64_t count,
                      struct ecg_error *err)
{
    return read_numeric(loc, name, H5T_NATIVE_INT64, H5T_INTEGER, out, count, err);
}

int ecg_h5_read_uint64(hid_t loc, const char *name, uint64_t *out, int64_t count,
                       struct ecg_error *err)
{
    return read_numeric(loc, name, H5T_NATIVE_UINT64, H5T_INTEGER, out, count, err);
}

int ecg_h5_read_string(hid_t loc, const char *name, char **out, struct ecg_error *err)
{
    char what[1700];
    struct ecg_strlist l = {0};
    hid_t ds = H5I_INVALID_HID;
    *out = NULL;
    int rc = open_dataset(loc, name, &ds, what, sizeof what, err);
    if (rc == ECG_OK)
        rc = read_strings(ds, false, what, &l, err);
    if (rc == ECG_OK && l.count != 1)
        rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: expected one string, found %d", what, l.count);
    if (rc == ECG_OK && !(*out = strdup(l.items[0])))
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", what);
    ecg_strlist_free(&l);
    ecg_h5_close(ds);
    return rc;
}

/* ---- writers ---- */

static int write_numeric(hid_t loc, const char *name, int ndim, const int64_t *shape,
                         hid_t ftype, hid_t mtype, const void *data, struct ecg_error *err)
{
    char what[1700];
    where_child(loc, name, what, sizeof what);
    ECG_ASSERT(ndim >= 0 && ndim <= ECG_H5_MAX_DIMS);
    hsize_t dims[ECG_H5_MAX_DIMS];
    for (int i = 0; i < ndim; i++)
        dims[i] = (hsize_t)shape[i];
    int rc = ECG_OK;
    hid_t space = ndim == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(ndim, dims, NULL);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    hid_t ds = H5I_INVALID_HID;
    H5Pset_create_intermediate_group(lcpl, 1);
    ds = H5Dcreate2(loc, name, ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0) {
        rc = ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot create dataset", what);
        goto done;
    }
    if (H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        rc = ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot write dataset", what);
done:
    ecg_h5_close(ds);
    ecg_h5_close(lcpl);
    ecg_h5_close(space);
    return rc;
}

int ecg_h5_write_floats(hid_t loc, const char *name, int ndim, const int64_t *shape,
                        const float *data, struct ecg_error *err)
{
    return write_numeric(loc, name, ndim, shape, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data, err);
}

int ecg_h5_write_doubles(hid_t loc, const char *name, int ndim, const int64_t *shape,
                         const double *data, struct ecg_error *err)
{
    return write_numeric(loc, name, ndim, shape, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, data, err);
}

int ecg_h5_write_int64(hid_t loc, const char *name, int ndim, const int64_t *shape,
                       const int64_t *data, struct ecg_error *err)
{
    return write_numeric(loc, name, ndim, shape, H5T_STD_I64LE, H5T_NATIVE_INT64, data, err);
}

int ecg_h5_write_uint64(hid_t loc, const char *name, int ndim, const int64_t *shape,
                        const uint64_t *data, struct ecg_error *err)
{
    return write_numeric(loc, name, ndim, shape, H5T_STD_U64LE, H5T_NATIVE_UINT64, data, err);
}

/* A fixed-length, null-padded ASCII string type of `size` bytes (at least 1). */
static hid_t fixed_string_type(size_t size)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, size > 0 ? size : 1);
    H5Tset_strpad(t, H5T_STR_NULLPAD);
    H5Tset_cset(t, H5T_CSET_ASCII);
    return t;
}

int ecg_h5_write_string(hid_t loc, const char *name, const char *text, struct ecg_error *err)
{
    char what[1700];
    where_child(loc, name, what, sizeof what);
    int rc = ECG_OK;
    hid_t type = fixed_string_type(strlen(text));
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t ds = H5Dcreate2(loc, name, type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (ds < 0) {
        rc = ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot create dataset", what);
        goto done;
    }
    /* An empty string still needs one (null) byte to write from. */
    if (H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, text[0] ? text : "\0") < 0)
        rc = ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot write dataset", what);
done:
    ecg_h5_close(ds);
    ecg_h5_close(lcpl);
    ecg_h5_close(space);
    ecg_h5_close(type);
    return rc;
}

/* Creates attribute `name` (replacing an existing one) and writes `data`. */
static int write_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hid_t space,
                      const void *data, struct ecg_error *err)
{
    char what[1700];
    where_child(obj, name, what, sizeof what);
    if (ecg_h5_has_attr(obj, name) && H5Adelete(obj, name) < 0)
        return ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot replace attribute", what);
    hid_t attr = H5Acreate2(obj, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0)
        return ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot create attribute", what);
    int rc = ECG_OK;
    if (H5Awrite(attr, mtype, data) < 0)
        rc = ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot write attribute", what);
    ecg_h5_close(attr);
    return rc;
}

int ecg_h5_write_attr_strings(hid_t obj, const char *name, const char *const *items, int count,
                              struct ecg_error *err)
{
    size_t size = 1;
    for (int i = 0; i < count; i++)
        if (strlen(items[i]) > size)
            size = strlen(items[i]);
    char small[4096]; /* most lists (a layer's weight names) are short: no allocation */
    size_t bytes = (count > 0 ? (size_t)count : 1) * size;
    char *buf = bytes <= sizeof small ? memset(small, 0, bytes) : calloc(count > 0 ? (size_t)count : 1, size);
    if (!buf)
        return ecg_error_set(err, ECG_ERR_NOMEM, "attribute '%s': out of memory", name);
    for (int i = 0; i < count; i++)
        memcpy(buf + (size_t)i * size, items[i], strlen(items[i]));
    hsize_t dim = (hsize_t)count;
    hid_t type = fixed_string_type(size);
    hid_t space = H5Screate_simple(1, &dim, NULL);
    int rc = write_attr(obj, name, type, type, space, buf, err);
    ecg_h5_close(space);
    ecg_h5_close(type);
    if (buf != small)
        free(buf);
    return rc;
}

int ecg_h5_write_attr_string(hid_t obj, const char *name, const char *text, struct ecg_error *err)
{
    hid_t type = fixed_string_type(strlen(text));
    hid_t space = H5Screate(H5S_SCALAR);
    int rc = write_attr(obj, name, type, type, space, text[0] ? text : "\0", err);
    ecg_h5_close(space);
    ecg_h5_close(type);
    return rc;
}

int ecg_h5_write_attr_double(hid_t obj, const char *name, double value, struct ecg_error *err)
{
    hid_t space = H5Screate(H5S_SCALAR);
    int rc = write_attr(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, space, &value, err);
    ecg_h5_close(space);
    return rc;
}

int ecg_h5_write_attr_int64(hid_t obj, const char *name, int64_t value, struct ecg_error *err)
{
    hid_t space = H5Screate(H5S_SCALAR);
    int rc = write_attr(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, space, &value, err);
    ecg_h5_close(space);
    return rc;
}

int ecg_h5_create_group(hid_t loc, const char *name, hid_t *group, struct ecg_error *err)
{
    char what[1700];
    where_child(loc, name, what, sizeof what);
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    *group = H5Gcreate2(loc, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    ecg_h5_close(lcpl);
    if (*group < 0)
        return ecg_h5_fail(err, ECG_ERR_IO, "%s: cannot create group", what);
    return ECG_OK;
}

int ecg_h5_open_group(hid_t loc, const char *name, hid_t *group, struct ecg_error *err)
{
    char what[1700];
    where_child(loc, name, what, sizeof what);
    *group = H5I_INVALID_HID;
    if (!ecg_h5_has_link(loc, name))
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: group missing", what);
    *group = H5Gopen2(loc, name, H5P_DEFAULT);
    if (*group < 0)
        return ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot open as a group", what);
    return ECG_OK;
}
