/* Keras HDF5 weight files: scanning, name mapping, staged all-or-nothing loading, and writing. */
#include "io/keras_h5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/tensor.h"
#include "io/h5_atomic.h"
#include "io/h5util.h"

/* One weight dataset of the file. */
struct kweight {
    char layer[128];
    char wname[160];                /* as listed in weight_names */
    char dset[300];                 /* "<layer>/<wname>", relative to the Keras root group */
    char param[300]; /* "<layer>/<canonical short name>" */
    int ndim;
    int64_t shape[ECG_H5_MAX_DIMS];
    H5T_class_t cls;
    bool is_norm; /* belongs to the input normalization layer */
    bool used;
};

struct kfile {
    const char *path;
    hid_t root; /* the group holding layer_names (file root or /model_weights) */
    struct kweight *w;
    int n, cap;
    struct ecg_keras_info info;
};

static void kfile_free(struct kfile *kf)
{
    if (kf->root > 0)
        ecg_h5_close(kf->root);
    free(kf->w);
    memset(kf, 0, sizeof *kf);
}

static void upper(const char *arch, char out[8])
{
    int i = 0;
    for (; arch[i] && i < 7; i++)
        out[i] = (char)(arch[i] >= 'a' && arch[i] <= 'z' ? arch[i] - 'a' + 'A' : arch[i]);
    out[i] = '\0';
}

/* The canonical short name of weight `wname`: after the last '/', without a ":<digits>" suffix. */
static void canonical_name(const char *wname, char *out, size_t size)
{
    const char *slash = strrchr(wname, '/');
    const char *s = slash ? slash + 1 : wname;
    snprintf(out, size, "%s", s);
    char *colon = strrchr(out, ':');
    if (colon && colon[1]) {
        char *q = colon + 1;
        while (*q >= '0' && *q <= '9')
            q++;
        if (*q == '\0')
            *colon = '\0';
    }
}

static int kfile_push(struct kfile *kf, struct kweight *w, struct ecg_error *err)
{
    if (kf->n == kf->cap) {
        int cap = kf->cap ? kf->cap * 2 : 256;
        struct kweight *nw = realloc(kf->w, (size_t)cap * sizeof *nw);
        if (!nw)
            return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory listing weights", kf->path);
        kf->w = nw;
        kf->cap = cap;
    }
    kf->w[kf->n++] = *w;
    return ECG_OK;
}

/* Reads layer_names, or the chunks layer_names0, layer_names1, ... */
static int read_layer_names(struct kfile *kf, struct ecg_strlist *names, struct ecg_error *err)
{
    if (ecg_h5_has_attr(kf->root, "layer_names"))
        return ecg_h5_attr_strings(kf->root, "layer_names", names, err);
    for (int chunk = 0;; chunk++) {
        char attr[32];
        snprintf(attr, sizeof attr, "layer_names%d", chunk);
        if (!ecg_h5_has_attr(kf->root, attr))
            break;
        ECG_TRY(ecg_h5_attr_strings(kf->root, attr, names, err));
    }
    return ECG_OK;
}

/* An informational string attribute: a malformed value is not worth refusing the weights and reads as "",
 * but running out of memory is not a malformed value. */
static int read_info_string(hid_t root, const char *name, char *buf, int size, struct ecg_error *err)
{
    if (!ecg_h5_has_attr(root, name))
        return ECG_OK;
    struct ecg_error why;
    int rc = ecg_h5_attr_string(root, name, buf, size, &why);
    if (rc == ECG_ERR_NOMEM) {
        if (err)
            *err = why;
        return rc;
    }
    if (rc)
        buf[0] = '\0';
    return ECG_OK;
}

/* Reads the optional ecg_* attributes and Keras' backend/keras_version. */
static int read_root_attrs(struct kfile *kf, struct ecg_error *err)
{
    struct ecg_keras_info *info = &kf->info;
    hid_t root = kf->root;
    if (ecg_h5_has_attr(root, "ecg_bn_epsilon")) {
        ECG_TRY(ecg_h5_attr_double(root, "ecg_bn_epsilon", &info->bn_eps, err));
        if (!(info->bn_eps > 0 && info->bn_eps < 1))
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s: attribute 'ecg_bn_epsilon': expected a value in (0, 1), found %g",
                                 kf->path, info->bn_eps);
        info->has_bn_eps = true;
    }
    if (ecg_h5_has_attr(root, "ecg_padding")) {
        char pad[64];
        ECG_TRY(ecg_h5_attr_string(root, "ecg_padding", pad, sizeof pad, err));
        if (strcmp(pad, "same") != 0 && strcmp(pad, "symmetric") != 0)
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s: attribute 'ecg_padding': expected \"same\" or \"symmetric\", found \"%s\"",
                                 kf->path, pad);
        snprintf(info->padding, sizeof info->padding, "%.15s", pad);
        info->has_padding = true;
    }
    if (ecg_h5_has_attr(root, "ecg_arch")) {
        char arch[64];
        ECG_TRY(ecg_h5_attr_string(root, "ecg_arch", arch, sizeof arch, err));
        if (strlen(arch) != 2 || arch[0] != 'b' || arch[1] < '0' || arch[1] > '7')
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s: attribute 'ecg_arch': expected \"b0\" to \"b7\", found \"%s\"",
                                 kf->path, arch);
        snprintf(info->arch, sizeof info->arch, "%.7s", arch);
        info->has_arch = true;
    }
    ECG_TRY(read_info_string(root, "keras_version", info->keras_version, sizeof info->keras_version, err));
    return read_info_string(root, "backend", info->backend, sizeof info->backend, err);
}

/* Reads the normalization layer's mean/variance/count into info. */
static int read_normalization(struct kfile *kf, int first, int last, struct ecg_error *err)
{
    struct ecg_keras_info *info = &kf->info;
    for (int i = first; i < last; i++) {
        struct kweight *w = &kf->w[i];
        const char *s = w->param + strlen(w->layer) + 1;
        if (strcmp(s, "count") == 0) {
            int64_t n = 1;
            for (int d = 0; d < w->ndim; d++)
                n *= w->shape[d];
            if (n != 1)
                return ecg_error_set(err, ECG_ERR_SHAPE, "%s: layer '%s' weight 'count': expected one value, found %lld",
                                     kf->path, w->layer, (long long)n);
            double c;
            ECG_TRY(ecg_h5_read_doubles(kf->root, w->dset, &c, 1, err));
            info->norm_count = (int64_t)c;
            continue;
        }
        int64_t n = w->ndim == 1 ? w->shape[0] : w->ndim == 0 ? 1 : -1;
        /* Keras keeps the broadcast shape of the statistics: (C,) or (1, 1, 1, C). */
        if (w->ndim > 1) {
            n = 1;
            for (int d = 0; d < w->ndim; d++)
                n *= w->shape[d];
            if (n != w->shape[w->ndim - 1])
                n = -1;
        }
        if (n < 1 || n > 4)
            return ecg_error_set(err, ECG_ERR_SHAPE,
                                 "%s: layer '%s' weight '%s': expected 1 to 4 channel values, found %lld",
                                 kf->path, w->layer, s, (long long)n);
        double v[4];
        ECG_TRY(ecg_h5_read_doubles(kf->root, w->dset, v, n, err));
        float *dst = strcmp(s, "mean") == 0 ? info->norm_mean : info->norm_std;
        for (int64_t c = 0; c < n; c++)
            dst[c] = (float)v[c];
        info->norm_channels = (int)n;
    }
    info->has_normalization = true;
    return ECG_OK;
}

/* True when a layer's weights are exactly Keras' Normalization state. */
static bool is_normalization(const struct kfile *kf, int first, int last)
{
    bool mean = false, var = false;
    for (int i = first; i < last; i++) {
        const char *s = kf->w[i].param + strlen(kf->w[i].layer) + 1;
        if (strcmp(s, "mean") == 0)
            mean = true;
        else if (strcmp(s, "variance") == 0)
            var = true;
        else if (strcmp(s, "count") != 0)
            return false;
    }
    return mean && var;
}

/* Finds the group holding layer_names: the file's root, or /model_weights of a whole-model file. */
static int open_keras_root(struct kfile *kf, hid_t file, struct ecg_error *err)
{
    bool has_names = ecg_h5_has_attr(file, "layer_names") || ecg_h5_has_attr(file, "layer_names0");
    if (!has_names && ecg_h5_has_link(file, "model_weights")) {
        ECG_TRY(ecg_h5_open_group(file, "model_weights", &kf->root, err));
        has_names = ecg_h5_has_attr(kf->root, "layer_names") || ecg_h5_has_attr(kf->root, "layer_names0");
    } else {
        kf->root = H5Gopen2(file, "/", H5P_DEFAULT);
        if (kf->root < 0)
            return ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot open the root group", kf->path);
    }
    if (!has_names)
        return ecg_error_set(err, ECG_ERR_FORMAT,
                             "%s: not a Keras weight file (no 'layer_names' attribute at the root "
                             "or in /model_weights)", kf->path);
    return ECG_OK;
}

/* The parameter name of weight `wname` of `layer`.  Keras 3 calls a depthwise kernel "kernel":
 * when `store` has "<layer>/depthwise_kernel" and no "<layer>/kernel", that is what it is. */
static void param_name(const char *layer, const char *wname, const struct ecg_params *store, char *out,
                       size_t size)
{
    char s[160], alt[ECG_PARAM_NAME_MAX + 64];
    canonical_name(wname, s, sizeof s);
    if (store && strcmp(s, "kernel") == 0) {
        snprintf(alt, sizeof alt, "%s/kernel", layer);
        if (ecg_params_find(store, alt) < 0) {
            snprintf(alt, sizeof alt, "%s/depthwise_kernel", layer);
            if (ecg_params_find(store, alt) >= 0)
                snprintf(s, sizeof s, "depthwise_kernel");
        }
    }
    snprintf(out, size, "%s/%s", layer, s);
}

/* Lists the weights of one layer group (names from weight_names, shapes from the datasets); `wnames` is
 * scratch for the names, reused from layer to layer. */
static int scan_layer(struct kfile *kf, hid_t group, const char *layer, const struct ecg_params *store,
                      struct ecg_strlist *wnames, struct ecg_error *err)
{
    ecg_strlist_clear(wnames);
    int rc = ecg_h5_attr_strings(group, "weight_names", wnames, err);
    int first = kf->n;
    for (int k = 0; k < wnames->count && rc == ECG_OK; k++) {
        struct kweight w;
        memset(&w, 0, sizeof w);
        if (strlen(wnames->items[k]) >= sizeof w.wname) {
            rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: layer '%s': weight name too long", kf->path, layer);
            break;
        }
        snprintf(w.layer, sizeof w.layer, "%s", layer);
        snprintf(w.wname, sizeof w.wname, "%s", wnames->items[k]);
        snprintf(w.dset, sizeof w.dset, "%s/%s", layer, w.wname);
        param_name(layer, w.wname, store, w.param, sizeof w.param);
        for (int j = first; j < kf->n && rc == ECG_OK; j++)
            if (strcmp(kf->w[j].param, w.param) == 0)
                rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: layer '%s' has two weights named '%s' ('%s' and '%s')",
                                   kf->path, layer, w.param + strlen(layer) + 1, kf->w[j].wname, w.wname);
        if (rc == ECG_OK && !ecg_h5_has_link(group, w.wname))
            rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: layer '%s' lists weight '%s' but has no such dataset",
                               kf->path, layer, w.wname);
        if (rc == ECG_OK)
            rc = ecg_h5_dataset_shape(group, w.wname, &w.ndim, w.shape, &w.cls, err);
        if (rc == ECG_OK)
            rc = kfile_push(kf, &w, err);
    }
    if (rc || kf->n == first)
        return rc;
    kf->info.layers++;
    if (!is_normalization(kf, first, kf->n))
        return ECG_OK;
    for (int j = first; j < kf->n; j++)
        kf->w[j].is_norm = true;
    return read_normalization(kf, first, kf->n, err);
}

/* Counts the weights and lets the model say what they are (architecture, input channels, classes). */
static int describe_weights(struct kfile *kf, const struct ecg_keras_model *model, struct ecg_error *err)
{
    struct ecg_keras_weight *view = malloc(((size_t)kf->n + 1) * sizeof *view);
    if (!view)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory listing weights", kf->path);
    int n = 0;
    for (int i = 0; i < kf->n; i++)
        if (!kf->w[i].is_norm)
            view[n++] = (struct ecg_keras_weight){kf->w[i].param, kf->w[i].ndim, kf->w[i].shape};
    kf->info.weights = n;
    if (model && model->describe)
        model->describe(view, n, &kf->info);
    free(view);
    return ECG_OK;
}

/* Opens `path` and lists every weight of every layer named in layer_names.  `store` (may be
 * NULL) resolves Keras 3 depthwise names; `model` (may be NULL) describes the weights. */
static int kfile_scan(struct kfile *kf, hid_t file, const char *path, const struct ecg_params *store,
                      const struct ecg_keras_model *model, struct ecg_error *err)
{
    memset(kf, 0, sizeof *kf);
    kf->path = path;
    kf->root = H5I_INVALID_HID;
    struct ecg_strlist layers = {0}, wnames = {0};
    int rc = open_keras_root(kf, file, err);
    if (rc == ECG_OK)
        rc = read_layer_names(kf, &layers, err);
    if (rc == ECG_OK)
        rc = read_root_attrs(kf, err);
    for (int l = 0; l < layers.count && rc == ECG_OK; l++) {
        const char *layer = layers.items[l];
        hid_t group = H5I_INVALID_HID;
        if (strlen(layer) >= sizeof kf->w[0].layer)
            rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: layer name '%.60s...' too long", path, layer);
        else if (!ecg_h5_has_link(kf->root, layer))
            rc = ecg_error_set(err, ECG_ERR_FORMAT,
                               "%s: layer_names lists '%s' but the file has no group of that name "
                               "(truncated or edited file?)", path, layer);
        else if ((rc = ecg_h5_open_group(kf->root, layer, &group, err)) == ECG_OK) {
            rc = scan_layer(kf, group, layer, store, &wnames, err);
            ecg_h5_close(group);
        }
    }
    ecg_strlist_free(&layers);
    ecg_strlist_free(&wnames);
    return rc ? rc : describe_weights(kf, model, err);
}

int ecg_keras_probe(const char *path, const struct ecg_keras_model *model, struct ecg_keras_info *info,
                    struct ecg_error *err)
{
    memset(info, 0, sizeof *info);
    hid_t file;
    ECG_TRY(ecg_h5_open_read(path, &file, err));
    struct kfile kf;
    int rc = kfile_scan(&kf, file, path, NULL, model, err);
    if (rc == ECG_OK)
        *info = kf.info;
    kfile_free(&kf);
    ecg_h5_close(file);
    return rc;
}

bool ecg_keras_file_probe(const char *path)
{
    struct ecg_keras_info info;
    struct ecg_error quiet = {0};
    return ecg_h5_is_file(path) && ecg_keras_probe(path, NULL, &info, &quiet) == ECG_OK;
}

static bool has_prefix(const char *name, const char *const *prefixes, int n)
{
    for (int i = 0; i < n; i++)
        if (prefixes[i] && strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* Appends ", name" to a growing list string (best effort; truncates). */
static void list_add(char *buf, size_t size, int *count, const char *name)
{
    size_t len = strlen(buf);
    if (len + 8 < size)
        snprintf(buf + len, size - len, "%s%s", *count ? ", " : "", name);
    if (strlen(buf) + 8 >= size && len + 8 < size)
        snprintf(buf + len, size - len, "%s...", *count ? ", " : "");
    (*count)++;
}

enum plan_kind { PLAN_KEEP, PLAN_COPY, PLAN_ADAPT };

/* A load in progress: what each parameter takes from the file, and the two lists of the warnings. */
struct load {
    const char *path;
    const struct ecg_keras_load_opts *opts;
    struct ecg_params *params;
    struct kfile kf;
    int *plan, *match; /* per parameter: enum plan_kind, index into kf.w or -1 */
    char kept[2048], unused[2048];
    int n_kept, n_unused;
};

/* Weights of another architecture of the same family: one message before any per-layer one. */
static int check_arch(const struct load *L, struct ecg_error *err)
{
    const struct ecg_keras_model *model = L->opts->model;
    if (!model || !model->store_arch)
        return ECG_OK;
    char march[8], farch[8], mu[8], fu[8];
    model->store_arch(L->params, march);
    snprintf(farch, sizeof farch, "%s", L->kf.info.inferred_arch[0] ? L->kf.info.inferred_arch : L->kf.info.arch);
    if (!march[0] || !farch[0] || strcmp(march, farch) == 0)
        return ECG_OK;
    upper(march, mu);
    upper(farch, fu);
    return ecg_error_set(err, ECG_ERR_SHAPE, "%s: looks like %s-%s weights, the model is %s", L->path,
                         model->family ? model->family : "model", fu, mu);
}

/* The message for a parameter the file does not have: its layer is missing, or only the weight. */
static int missing_weight(const struct load *L, const char *name, struct ecg_error *err)
{
    const char *slash = strrchr(name, '/');
    int layer_len = slash ? (int)(slash - name) : (int)strlen(name);
    for (int j = 0; j < L->kf.n; j++)
        if ((int)strlen(L->kf.w[j].layer) == layer_len && strncmp(L->kf.w[j].layer, name, (size_t)layer_len) == 0)
            return ecg_error_set(err, ECG_ERR_FORMAT,
                                 "%s: layer '%.*s' has no weight '%s' (needed by model parameter '%s')", L->path,
                                 layer_len, name, slash ? slash + 1 : name, name);
    return ecg_error_set(err, ECG_ERR_FORMAT, "%s: missing layer '%.*s' (needed by model parameter '%s')", L->path,
                         layer_len, name, name);
}

/* Decides what parameter i takes from the file: its weight as is, adapted by the model, or nothing. */
static int plan_param(struct load *L, int i, struct ecg_error *err)
{
    const struct ecg_param *p = &L->params->items[i];
    const struct ecg_keras_load_opts *o = L->opts;
    L->plan[i] = PLAN_KEEP;
    L->match[i] = -1;
    if (has_prefix(p->name, o->skip, o->n_skip)) {
        list_add(L->kept, sizeof L->kept, &L->n_kept, p->name);
        return ECG_OK;
    }
    bool allowed = has_prefix(p->name, o->allow_missing, o->n_allow_missing);
    int k = -1;
    for (int j = 0; j < L->kf.n && k < 0; j++)
        if (!L->kf.w[j].is_norm && strcmp(L->kf.w[j].param, p->name) == 0)
            k = j;
    if (k < 0) {
        if (!allowed)
            return missing_weight(L, p->name, err);
        list_add(L->kept, sizeof L->kept, &L->n_kept, p->name);
        return ECG_OK;
    }
    struct kweight *w = &L->kf.w[k];
    const char *wshort = strrchr(p->name, '/') ? strrchr(p->name, '/') + 1 : p->name;
    w->used = true;
    L->match[i] = k;
    if (w->cls != H5T_FLOAT)
        return ecg_error_set(err, ECG_ERR_FORMAT, "%s: layer '%s' weight '%s': expected floating-point values, found another type",
                             L->path, w->layer, wshort);
    bool same = w->ndim == p->ndim;
    for (int d = 0; same && d < p->ndim; d++)
        same = w->shape[d] == p->shape[d];
    const struct ecg_keras_model *model = o->model;
    if (same || (!o->strict && model && model->adapts && model->adapts(p, w->ndim, w->shape))) {
        L->plan[i] = same ? PLAN_COPY : PLAN_ADAPT;
        return ECG_OK;
    }
    char shp[2][128];
    int64_t fshape[4] = {0};
    int fnd = w->ndim <= 4 ? w->ndim : 4;
    for (int d = 0; d < fnd; d++)
        fshape[d] = w->shape[d];
    ecg_shape_str(shp[0], sizeof shp[0], p->ndim, p->shape);
    ecg_shape_str(shp[1], sizeof shp[1], fnd, fshape);
    if (!allowed)
        return ecg_error_set(err, ECG_ERR_SHAPE, "%s: layer '%s' weight '%s': expected %s, found %s", L->path,
                             w->layer, wshort, shp[0], shp[1]);
    char note[ECG_PARAM_NAME_MAX + 300];
    snprintf(note, sizeof note, "%s (file has %s, model %s)", p->name, shp[1], shp[0]);
    list_add(L->kept, sizeof L->kept, &L->n_kept, note);
    L->plan[i] = PLAN_KEEP;
    return ECG_OK;
}

/* File weights no parameter took: an error for a strict load, else listed for the warning. */
static int check_unused(struct load *L, struct ecg_error *err)
{
    for (int j = 0; j < L->kf.n; j++) {
        const struct kweight *w = &L->kf.w[j];
        if (w->is_norm || w->used)
            continue;
        if (L->opts->strict)
            return ecg_error_set(err, ECG_ERR_FORMAT, "%s: layer '%s' weight '%s' is not a parameter of the model",
                                 L->path, w->layer, w->wname);
        list_add(L->unused, sizeof L->unused, &L->n_unused, w->param);
    }
    return ECG_OK;
}

/* Reads parameter i's planned weight into dst (its slice of the staging copy). */
static int read_param(const struct load *L, int i, float *dst, struct ecg_error *err)
{
    const struct ecg_param *p = &L->params->items[i];
    const struct kweight *w = &L->kf.w[L->match[i]];
    if (L->plan[i] == PLAN_COPY)
        return ecg_h5_read_floats(L->kf.root, w->dset, dst, p->numel, err);
    int64_t n = 1;
    for (int d = 0; d < w->ndim; d++)
        n *= w->shape[d];
    float *src = malloc((size_t)n * sizeof(float));
    if (!src)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", L->path);
    int rc = ecg_h5_read_floats(L->kf.root, w->dset, src, n, err);
    if (rc == ECG_OK)
        L->opts->model->adapt(p, w->shape, src, dst);
    free(src);
    return rc;
}

/* Values no model can use: non-finite ones, and a negative batch-norm variance. */
static int check_values(const struct load *L, int i, const float *v, struct ecg_error *err)
{
    const struct ecg_param *p = &L->params->items[i];
    const char *layer = L->kf.w[L->match[i]].layer;
    int64_t bad = 0, first_bad = -1;
    for (int64_t e = 0; e < p->numel; e++)
        if (!isfinite(v[e]) && bad++ == 0)
            first_bad = e;
    if (bad)
        return ecg_error_set(err, ECG_ERR_VALUE, "%s: layer '%s' weight '%s': %lld non-finite values (first at flat index %lld: %g)",
                             L->path, layer, strrchr(p->name, '/') ? strrchr(p->name, '/') + 1 : p->name,
                             (long long)bad, (long long)first_bad, (double)v[first_bad]);
    size_t nl = strlen(p->name);
    if (nl > 16 && strcmp(p->name + nl - 16, "/moving_variance") == 0)
        for (int64_t e = 0; e < p->numel; e++)
            if (v[e] < 0)
                return ecg_error_set(err, ECG_ERR_VALUE,
                                     "%s: layer '%s' weight 'moving_variance': negative variance %g at index %lld",
                                     L->path, layer, (double)v[e], (long long)e);
    return ECG_OK;
}

/* Reads every planned weight into a copy of the values; the store changes only when all succeeded. */
static int stage_and_commit(struct load *L, struct ecg_error *err)
{
    struct ecg_params *params = L->params;
    float *stage = ecg_aligned_calloc(params->total > 0 ? params->total : 1, sizeof(float));
    if (!stage)
        return ecg_error_set(err, ECG_ERR_NOMEM, "%s: cannot allocate %.1f MiB to stage the weights", L->path,
                             (double)params->total * 4.0 / 1048576.0);
    memcpy(stage, params->values, (size_t)params->total * sizeof(float));
    int rc = ECG_OK;
    for (int i = 0; i < params->count && rc == ECG_OK; i++) {
        if (L->plan[i] == PLAN_KEEP)
            continue;
        float *dst = stage + params->items[i].offset;
        if ((rc = read_param(L, i, dst, err)) == ECG_OK)
            rc = check_values(L, i, dst, err);
    }
    if (rc == ECG_OK)
        memcpy(params->values, stage, (size_t)params->total * sizeof(float));
    ecg_aligned_free(stage);
    return rc;
}

int ecg_keras_load_open(hid_t file, const char *path, struct ecg_params *params,
                        const struct ecg_keras_load_opts *opts, struct ecg_keras_info *info,
                        struct ecg_error *err)
{
    static const struct ecg_keras_load_opts defaults = {0};
    ECG_ASSERT(params->values);
    struct load L = {.path = path, .opts = opts ? opts : &defaults, .params = params};
    int rc = kfile_scan(&L.kf, file, path, params, L.opts->model, err);
    if (rc == ECG_OK)
        rc = check_arch(&L, err);
    if (rc == ECG_OK) {
        L.plan = calloc((size_t)params->count + 1, sizeof *L.plan);
        L.match = calloc((size_t)params->count + 1, sizeof *L.match);
        if (!L.plan || !L.match)
            rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; rc == ECG_OK && i < params->count; i++)
        rc = plan_param(&L, i, err);
    if (rc == ECG_OK && (rc = check_unused(&L, err)) == ECG_OK && (rc = stage_and_commit(&L, err)) == ECG_OK) {
        if (!L.opts->quiet && L.n_unused)
            ecg_warn("%s: %d weight%s in the file not used by the model: %s", path, L.n_unused,
                     L.n_unused == 1 ? "" : "s", L.unused);
        if (!L.opts->quiet && L.n_kept)
            ecg_warn("%s: %d model parameter%s not loaded (kept at initialisation): %s", path, L.n_kept,
                     L.n_kept == 1 ? "" : "s", L.kept);
        if (info)
            *info = L.kf.info;
    }
    free(L.plan);
    free(L.match);
    kfile_free(&L.kf);
    return rc;
}

int ecg_keras_load(const char *path, struct ecg_params *params,
                   const struct ecg_keras_load_opts *opts, struct ecg_keras_info *info,
                   struct ecg_error *err)
{
    hid_t file;
    ECG_TRY(ecg_h5_open_read(path, &file, err));
    int rc = ecg_keras_load_open(file, path, params, opts, info, err);
    ecg_h5_close(file);
    return rc;
}

/* ---- writer ---- */

/* Keras' weight order within a layer: trainable (kernel, bias, gamma, beta)
 * then non-trainable (moving statistics). */
static int weight_rank(const char *s)
{
    static const char *const order[] = {"kernel", "depthwise_kernel", "bias", "gamma",
                                        "beta", "moving_mean", "moving_variance"};
    for (int i = 0; i < 7; i++)
        if (strcmp(s, order[i]) == 0)
            return i <= 1 ? 0 : i - 1;
    return 7;
}

static int write_normalization(hid_t root, const struct ecg_keras_info *a, struct ecg_error *err)
{
    hid_t g;
    ECG_TRY(ecg_h5_create_group(root, "normalization", &g, err));
    int64_t c = a->norm_channels;
    int rc = ecg_h5_write_floats(g, "normalization/mean:0", 1, &c, a->norm_mean, err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_floats(g, "normalization/variance:0", 1, &c, a->norm_std, err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_int64(g, "normalization/count:0", 0, NULL, &a->norm_count, err);
    const char *names[] = {"normalization/mean:0", "normalization/variance:0", "normalization/count:0"};
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_strings(g, "weight_names", names, 3, err);
    ecg_h5_close(g);
    return rc;
}

/* The layer names of params' '<layer>/<weight>' names in order of first appearance, after "normalization"
 * when the file has one. */
static int collect_layers(const struct ecg_params *params, bool norm, struct ecg_strlist *layers,
                          struct ecg_error *err)
{
    if (norm)
        ECG_TRY(ecg_strlist_push(layers, "normalization", err));
    for (int i = 0; i < params->count; i++) {
        const char *name = params->items[i].name;
        const char *slash = strrchr(name, '/');
        if (!slash || slash == name || !slash[1])
            return ecg_error_set(err, ECG_ERR_USAGE,
                                 "parameter '%s': expected a '<layer>/<weight>' name to write a Keras file", name);
        char layer[ECG_PARAM_NAME_MAX];
        snprintf(layer, sizeof layer, "%.*s", (int)(slash - name), name);
        if (ecg_strlist_find(layers, layer) < 0)
            ECG_TRY(ecg_strlist_push(layers, layer, err));
    }
    return ECG_OK;
}

/* The file's attributes: Keras' own (layer_names, backend, keras_version) and ecgtrain's. */
static int write_file_attrs(hid_t file, const struct ecg_strlist *layers, const struct ecg_keras_info *attrs,
                            struct ecg_error *err)
{
    ECG_TRY(ecg_h5_write_attr_strings(file, "layer_names", (const char *const *)layers->items, layers->count, err));
    ECG_TRY(ecg_h5_write_attr_string(file, "backend", "tensorflow", err));
    /* The Keras 2 layout version this file follows (Keras reads it only to
     * special-case Keras 1 files). */
    ECG_TRY(ecg_h5_write_attr_string(file, "keras_version", "2.13.1", err));
    ECG_TRY(ecg_h5_write_attr_string(file, "ecg_writer", "ecgtrain " ECG_VERSION, err));
    if (attrs && attrs->has_bn_eps)
        ECG_TRY(ecg_h5_write_attr_double(file, "ecg_bn_epsilon", attrs->bn_eps, err));
    if (attrs && attrs->has_padding)
        ECG_TRY(ecg_h5_write_attr_string(file, "ecg_padding", attrs->padding, err));
    if (attrs && attrs->has_arch)
        ECG_TRY(ecg_h5_write_attr_string(file, "ecg_arch", attrs->arch, err));
    return ECG_OK;
}

/* One layer's group: its weights in Keras' order and their weight_names.  order (params->count) is
 * scratch; wnames holds the names written. */
static int write_layer(hid_t file, const struct ecg_params *params, const char *layer, int *order,
                       struct ecg_strlist *wnames, struct ecg_error *err)
{
    size_t ll = strlen(layer);
    int n = 0;
    for (int i = 0; i < params->count; i++) {
        const char *name = params->items[i].name;
        if (strncmp(name, layer, ll) == 0 && name[ll] == '/' && !strchr(name + ll + 1, '/'))
            order[n++] = i;
    }
    /* Stable insertion sort by Keras rank. */
    for (int a = 1; a < n; a++) {
        int v = order[a], b = a;
        int rv = weight_rank(params->items[v].name + ll + 1);
        while (b > 0 && weight_rank(params->items[order[b - 1]].name + ll + 1) > rv) {
            order[b] = order[b - 1];
            b--;
        }
        order[b] = v;
    }
    hid_t group;
    ECG_TRY(ecg_h5_create_group(file, layer, &group, err));
    ecg_strlist_clear(wnames);
    int rc = ECG_OK;
    for (int a = 0; a < n && rc == ECG_OK; a++) {
        const struct ecg_param *p = &params->items[order[a]];
        char wname[ECG_PARAM_NAME_MAX + 8];
        snprintf(wname, sizeof wname, "%s:0", p->name);
        rc = ecg_strlist_push(wnames, wname, err);
        if (rc == ECG_OK)
            rc = ecg_h5_write_floats(group, wname, p->ndim, p->shape, params->values + p->offset, err);
    }
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_strings(group, "weight_names", (const char *const *)wnames->items, wnames->count,
                                       err);
    ecg_h5_close(group);
    return rc;
}

int ecg_keras_write_open(hid_t file, const struct ecg_params *params,
                         const struct ecg_keras_info *attrs, struct ecg_error *err)
{
    ECG_ASSERT(params->values);
    struct ecg_strlist layers = {0}, wnames = {0};
    int *order = NULL;
    bool norm = attrs && attrs->has_normalization && attrs->norm_channels > 0 &&
                attrs->norm_channels <= 4;
    int rc = collect_layers(params, norm, &layers, err);
    if (rc)
        goto done;
    order = malloc(((size_t)params->count + 1) * sizeof *order);
    if (!order) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory writing a weight file");
        goto done;
    }
    rc = write_file_attrs(file, &layers, attrs, err);
    if (rc == ECG_OK && norm)
        rc = write_normalization(file, attrs, err);
    for (int l = norm ? 1 : 0; l < layers.count && rc == ECG_OK; l++)
        rc = write_layer(file, params, layers.items[l], order, &wnames, err);
done:
    free(order);
    ecg_strlist_free(&layers);
    ecg_strlist_free(&wnames);
    return rc;
}

int ecg_keras_save(const char *path, const struct ecg_params *params,
                   const struct ecg_keras_info *attrs, struct ecg_error *err)
{
    struct ecg_h5_atomic a;
    ECG_TRY(ecg_h5_atomic_begin(&a, path, (size_t)params->total * sizeof(float), err));
    int rc = ecg_keras_write_open(a.file, params, attrs, err);
    if (rc == ECG_OK)
        return ecg_h5_atomic_commit(&a, err);
    ecg_h5_atomic_abort(&a);
    return rc;
}
