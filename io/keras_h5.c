/* Keras HDF5 weight files: scanning, name mapping, staged all-or-nothing loading, and writing. */
#include "io/keras_h5.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/tensor.h"
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

/* EfficientNet B0..B7: MBConv block count and top_conv width. */
static const struct {
    const char *name;
    int blocks;
    int64_t top;
} ARCHS[] = {
    {"b0", 16, 1280}, {"b1", 23, 1280}, {"b2", 23, 1408}, {"b3", 26, 1536},
    {"b4", 32, 1792}, {"b5", 39, 2048}, {"b6", 45, 2304}, {"b7", 55, 2560},
};

void ecg_keras_arch_from_layout(int blocks, int64_t top_channels, char out[8])
{
    out[0] = '\0';
    for (size_t i = 0; i < sizeof ARCHS / sizeof ARCHS[0]; i++)
        if (ARCHS[i].blocks == blocks && ARCHS[i].top == top_channels)
            snprintf(out, 8, "%s", ARCHS[i].name);
}

/* Length of a "block<digits><letter>" prefix followed by '_', or 0. */
static size_t block_prefix(const char *name)
{
    if (strncmp(name, "block", 5) != 0)
        return 0;
    size_t i = 5;
    if (name[i] < '0' || name[i] > '9')
        return 0;
    while (name[i] >= '0' && name[i] <= '9')
        i++;
    if (name[i] < 'a' || name[i] > 'z')
        return 0;
    i++;
    return name[i] == '_' ? i : 0;
}

/* Counts distinct block prefixes among names (each name from get(i)). */
struct name_iter {
    const char *(*get)(const void *ctx, int i);
    const void *ctx;
    int n;
};

static int count_blocks(struct name_iter it)
{
    struct ecg_strlist seen = {0};
    int blocks = 0;
    for (int i = 0; i < it.n; i++) {
        const char *name = it.get(it.ctx, i);
        size_t len = block_prefix(name);
        if (!len || len >= 32)
            continue;
        char pre[32];
        memcpy(pre, name, len);
        pre[len] = '\0';
        if (ecg_strlist_find(&seen, pre) < 0) {
            if (ecg_strlist_push(&seen, pre, NULL) != ECG_OK)
                break;
            blocks++;
        }
    }
    ecg_strlist_free(&seen);
    return blocks;
}

static const char *param_name_at(const void *ctx, int i)
{
    return ((const struct ecg_params *)ctx)->items[i].name;
}

static const char *kweight_name_at(const void *ctx, int i)
{
    return ((const struct kfile *)ctx)->w[i].param;
}

static void model_arch(const struct ecg_params *p, char out[8])
{
    int top = ecg_params_find(p, "top_conv/kernel");
    out[0] = '\0';
    if (top < 0 || p->items[top].ndim != 4)
        return;
    struct name_iter it = {param_name_at, p, p->count};
    ecg_keras_arch_from_layout(count_blocks(it), p->items[top].shape[3], out);
}

static void upper(const char *arch, char out[8])
{
    int i = 0;
    for (; arch[i] && i < 7; i++)
        out[i] = (char)(arch[i] >= 'a' && arch[i] <= 'z' ? arch[i] - 'a' + 'A' : arch[i]);
    out[i] = '\0';
}

/* The canonical short name of weight `wname` of layer `layer`: after the
 * last '/', without a ":<digits>" suffix; Keras 3 names a depthwise
 * kernel "kernel". */
static void canonical_name(const char *layer, const char *wname, char *out, size_t size)
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
    size_t ll = strlen(layer);
    if (strcmp(out, "kernel") == 0 && ll >= 7 && strcmp(layer + ll - 7, "_dwconv") == 0)
        snprintf(out, size, "depthwise_kernel");
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
    /* Informational only: a malformed value is not worth refusing the weights. */
    if (ecg_h5_has_attr(root, "keras_version") &&
        ecg_h5_attr_string(root, "keras_version", info->keras_version, sizeof info->keras_version, NULL))
        info->keras_version[0] = '\0';
    if (ecg_h5_has_attr(root, "backend") &&
        ecg_h5_attr_string(root, "backend", info->backend, sizeof info->backend, NULL))
        info->backend[0] = '\0';
    return ECG_OK;
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

/* Opens `path` and lists every weight of every layer named in layer_names.
 * `model` (may be NULL) resolves Keras 3 depthwise names in other layers. */
static int kfile_scan(struct kfile *kf, hid_t file, const char *path,
                      const struct ecg_params *model, struct ecg_error *err)
{
    memset(kf, 0, sizeof *kf);
    kf->path = path;
    kf->root = H5I_INVALID_HID;
    struct ecg_strlist layers = {0}, wnames = {0};
    hid_t group = H5I_INVALID_HID;
    int rc = ECG_OK;

    bool has_names = ecg_h5_has_attr(file, "layer_names") || ecg_h5_has_attr(file, "layer_names0");
    if (!has_names && ecg_h5_has_link(file, "model_weights")) {
        rc = ecg_h5_open_group(file, "model_weights", &kf->root, err);
        if (rc)
            goto done;
        has_names = ecg_h5_has_attr(kf->root, "layer_names") ||
                    ecg_h5_has_attr(kf->root, "layer_names0");
    } else {
        kf->root = H5Gopen2(file, "/", H5P_DEFAULT);
        if (kf->root < 0) {
            rc = ecg_h5_fail(err, ECG_ERR_FORMAT, "%s: cannot open the root group", path);
            goto done;
        }
    }
    if (!has_names) {
        rc = ecg_error_set(err, ECG_ERR_FORMAT,
                           "%s: not a Keras weight file (no 'layer_names' attribute at the root "
                           "or in /model_weights)", path);
        goto done;
    }
    rc = read_layer_names(kf, &layers, err);
    if (rc == ECG_OK)
        rc = read_root_attrs(kf, err);
    if (rc)
        goto done;

    for (int l = 0; l < layers.count; l++) {
        const char *layer = layers.items[l];
        if (strlen(layer) >= sizeof kf->w[0].layer) {
            rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: layer name '%.60s...' too long", path, layer);
            goto done;
        }
        if (!ecg_h5_has_link(kf->root, layer)) {
            rc = ecg_error_set(err, ECG_ERR_FORMAT,
                               "%s: layer_names lists '%s' but the file has no group of that name "
                               "(truncated or edited file?)", path, layer);
            goto done;
        }
        rc = ecg_h5_open_group(kf->root, layer, &group, err);
        if (rc)
            goto done;
        ecg_strlist_free(&wnames);
        rc = ecg_h5_attr_strings(group, "weight_names", &wnames, err);
        if (rc)
            goto done;
        int first = kf->n;
        for (int k = 0; k < wnames.count; k++) {
            struct kweight w;
            memset(&w, 0, sizeof w);
            if (strlen(wnames.items[k]) >= sizeof w.wname) {
                rc = ecg_error_set(err, ECG_ERR_FORMAT, "%s: layer '%s': weight name too long", path, layer);
                goto done;
            }
            snprintf(w.layer, sizeof w.layer, "%s", layer);
            snprintf(w.wname, sizeof w.wname, "%s", wnames.items[k]);
            snprintf(w.dset, sizeof w.dset, "%s/%s", layer, w.wname);
            char s[160];
            canonical_name(layer, w.wname, s, sizeof s);
            if (model && strcmp(s, "kernel") == 0) {
                char alt[ECG_PARAM_NAME_MAX + 64];
                snprintf(alt, sizeof alt, "%s/kernel", layer);
                if (ecg_params_find(model, alt) < 0) {
                    snprintf(alt, sizeof alt, "%s/depthwise_kernel", layer);
                    if (ecg_params_find(model, alt) >= 0)
                        snprintf(s, sizeof s, "depthwise_kernel");
                }
            }
            snprintf(w.param, sizeof w.param, "%s/%s", layer, s);
            for (int j = first; j < kf->n; j++) {
                if (strcmp(kf->w[j].param, w.param) == 0) {
                    rc = ecg_error_set(err, ECG_ERR_FORMAT,
                                       "%s: layer '%s' has two weights named '%s' ('%s' and '%s')",
                                       path, layer, s, kf->w[j].wname, w.wname);
                    goto done;
                }
            }
            if (!ecg_h5_has_link(group, w.wname)) {
                rc = ecg_error_set(err, ECG_ERR_FORMAT,
                                   "%s: layer '%s' lists weight '%s' but has no such dataset", path,
                                   layer, w.wname);
                goto done;
            }
            rc = ecg_h5_dataset_shape(group, w.wname, &w.ndim, w.shape, &w.cls, err);
            if (rc)
                goto done;
            rc = kfile_push(kf, &w, err);
            if (rc)
                goto done;
        }
        if (kf->n > first)
            kf->info.layers++;
        if (kf->n > first && is_normalization(kf, first, kf->n)) {
            for (int j = first; j < kf->n; j++)
                kf->w[j].is_norm = true;
            rc = read_normalization(kf, first, kf->n, err);
            if (rc)
                goto done;
        }
        ecg_h5_close(group);
        group = H5I_INVALID_HID;
    }

    /* What the layer set says. */
    struct ecg_keras_info *info = &kf->info;
    int64_t top = 0;
    for (int i = 0; i < kf->n; i++) {
        const struct kweight *w = &kf->w[i];
        if (strcmp(w->param, "stem_conv/kernel") == 0 && w->ndim == 4)
            info->stem_in_channels = w->shape[2];
        else if (strcmp(w->param, "top_conv/kernel") == 0 && w->ndim == 4)
            top = w->shape[3];
        else if (strcmp(w->param, "predictions/kernel") == 0 && w->ndim == 2)
            info->num_classes = w->shape[1];
        if (!w->is_norm)
            info->weights++;
    }
    struct name_iter it = {kweight_name_at, kf, kf->n};
    if (top > 0)
        ecg_keras_arch_from_layout(count_blocks(it), top, info->inferred_arch);
done:
    if (group > 0)
        ecg_h5_close(group);
    ecg_strlist_free(&layers);
    ecg_strlist_free(&wnames);
    return rc;
}

int ecg_keras_probe(const char *path, struct ecg_keras_info *info, struct ecg_error *err)
{
    memset(info, 0, sizeof *info);
    hid_t file;
    ECG_TRY(ecg_h5_open_read(path, &file, err));
    struct kfile kf;
    int rc = kfile_scan(&kf, file, path, NULL, err);
    if (rc == ECG_OK)
        *info = kf.info;
    kfile_free(&kf);
    ecg_h5_close(file);
    return rc;
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

enum plan_kind { PLAN_KEEP, PLAN_COPY, PLAN_ADAPT_STEM };

/* timm's adapt_input_conv on an HWIO kernel: src (kh, kw, 3, F) -> dst (kh, kw, C, F). */
static void adapt_stem(const float *src, float *dst, int64_t kh, int64_t kw, int64_t c, int64_t f)
{
    for (int64_t hw = 0; hw < kh * kw; hw++) {
        const float *s = src + hw * 3 * f;
        float *d = dst + hw * c * f;
        for (int64_t o = 0; o < f; o++) {
            if (c == 1) {
                d[o] = s[o] + s[f + o] + s[2 * f + o];
            } else {
                for (int64_t ci = 0; ci < c; ci++)
                    d[ci * f + o] = s[(ci % 3) * f + o] * (float)(3.0 / (double)c);
            }
        }
    }
}

int ecg_keras_load_open(hid_t file, const char *path, struct ecg_params *params,
                        const struct ecg_keras_load_opts *opts, struct ecg_keras_info *info,
                        struct ecg_error *err)
{
    static const struct ecg_keras_load_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    ECG_ASSERT(params->values);
    struct kfile kf;
    int *plan = NULL, *match = NULL;
    float *stage = NULL, *scratch = NULL;
    char kept[2048] = "", unused[2048] = "";
    int n_kept = 0, n_unused = 0;
    char shp[2][128];
    int rc = kfile_scan(&kf, file, path, params, err);
    if (rc)
        goto done;

    /* Another EfficientNet: say so before any per-layer message. */
    char march[8], farch[8], mu[8], fu[8];
    model_arch(params, march);
    snprintf(farch, sizeof farch, "%s", kf.info.inferred_arch[0] ? kf.info.inferred_arch : kf.info.arch);
    if (march[0] && farch[0] && strcmp(march, farch) != 0) {
        upper(march, mu);
        upper(farch, fu);
        rc = ecg_error_set(err, ECG_ERR_SHAPE, "%s: looks like EfficientNet-%s weights, the model is %s",
                           path, fu, mu);
        goto done;
    }

    plan = calloc((size_t)params->count + 1, sizeof *plan);
    match = calloc((size_t)params->count + 1, sizeof *match);
    if (!plan || !match) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    for (int i = 0; i < params->count; i++) {
        const struct ecg_param *p = &params->items[i];
        plan[i] = PLAN_KEEP;
        match[i] = -1;
        if (has_prefix(p->name, opts->skip, opts->n_skip)) {
            list_add(kept, sizeof kept, &n_kept, p->name);
            continue;
        }
        bool allowed = has_prefix(p->name, opts->allow_missing, opts->n_allow_missing);
        int k = -1;
        for (int j = 0; j < kf.n; j++)
            if (!kf.w[j].is_norm && strcmp(kf.w[j].param, p->name) == 0) {
                k = j;
                break;
            }
        const char *slash = strrchr(p->name, '/');
        int layer_len = slash ? (int)(slash - p->name) : (int)strlen(p->name);
        const char *wshort = slash ? slash + 1 : p->name;
        if (k < 0) {
            if (allowed) {
                list_add(kept, sizeof kept, &n_kept, p->name);
                continue;
            }
            bool layer_present = false;
            for (int j = 0; j < kf.n; j++)
                if ((int)strlen(kf.w[j].layer) == layer_len &&
                    strncmp(kf.w[j].layer, p->name, (size_t)layer_len) == 0)
                    layer_present = true;
            if (layer_present)
                rc = ecg_error_set(err, ECG_ERR_FORMAT,
                                   "%s: layer '%.*s' has no weight '%s' (needed by model parameter '%s')",
                                   path, layer_len, p->name, wshort, p->name);
            else
                rc = ecg_error_set(err, ECG_ERR_FORMAT,
                                   "%s: missing layer '%.*s' (needed by model parameter '%s')", path,
                                   layer_len, p->name, p->name);
            goto done;
        }
        struct kweight *w = &kf.w[k];
        w->used = true;
        match[i] = k;
        if (w->cls != H5T_FLOAT) {
            rc = ecg_error_set(err, ECG_ERR_FORMAT,
                               "%s: layer '%s' weight '%s': expected floating-point values, found another type",
                               path, w->layer, wshort);
            goto done;
        }
        bool same = w->ndim == p->ndim;
        for (int d = 0; same && d < p->ndim; d++)
            same = w->shape[d] == p->shape[d];
        if (same) {
            plan[i] = PLAN_COPY;
            continue;
        }
        if (!opts->strict && strcmp(p->name, "stem_conv/kernel") == 0 && w->ndim == 4 &&
            p->ndim == 4 && w->shape[2] == 3 && w->shape[0] == p->shape[0] &&
            w->shape[1] == p->shape[1] && w->shape[3] == p->shape[3]) {
            plan[i] = PLAN_ADAPT_STEM;
            continue;
        }
        ecg_shape_str(shp[0], sizeof shp[0], p->ndim, p->shape);
        int64_t fshape[4] = {0};
        int fnd = w->ndim <= 4 ? w->ndim : 4;
        for (int d = 0; d < fnd; d++)
            fshape[d] = w->shape[d];
        ecg_shape_str(shp[1], sizeof shp[1], fnd, fshape);
        if (allowed) {
            char note[ECG_PARAM_NAME_MAX + 300];
            snprintf(note, sizeof note, "%s (file has %s, model %s)", p->name, shp[1], shp[0]);
            list_add(kept, sizeof kept, &n_kept, note);
            continue;
        }
        rc = ecg_error_set(err, ECG_ERR_SHAPE, "%s: layer '%s' weight '%s': expected %s, found %s", path,
                           w->layer, wshort, shp[0], shp[1]);
        goto done;
    }
    for (int j = 0; j < kf.n; j++) {
        if (kf.w[j].is_norm || kf.w[j].used)
            continue;
        if (opts->strict) {
            rc = ecg_error_set(err, ECG_ERR_FORMAT,
                               "%s: layer '%s' weight '%s' is not a parameter of the model", path,
                               kf.w[j].layer, kf.w[j].wname);
            goto done;
        }
        list_add(unused, sizeof unused, &n_unused, kf.w[j].param);
    }

    /* Stage every value in a copy; the store changes only at the end. */
    stage = ecg_aligned_calloc(params->total > 0 ? params->total : 1, sizeof(float));
    if (!stage) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: cannot allocate %.1f MiB to stage the weights", path,
                           (double)params->total * 4.0 / 1048576.0);
        goto done;
    }
    memcpy(stage, params->values, (size_t)params->total * sizeof(float));
    for (int i = 0; i < params->count; i++) {
        if (plan[i] == PLAN_KEEP)
            continue;
        const struct ecg_param *p = &params->items[i];
        const struct kweight *w = &kf.w[match[i]];
        float *dst = stage + p->offset;
        if (plan[i] == PLAN_COPY) {
            rc = ecg_h5_read_floats(kf.root, w->dset, dst, p->numel, err);
        } else {
            int64_t n = w->shape[0] * w->shape[1] * 3 * w->shape[3];
            free(scratch);
            scratch = malloc((size_t)n * sizeof(float));
            if (!scratch) {
                rc = ecg_error_set(err, ECG_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            rc = ecg_h5_read_floats(kf.root, w->dset, scratch, n, err);
            if (rc == ECG_OK)
                adapt_stem(scratch, dst, p->shape[0], p->shape[1], p->shape[2], p->shape[3]);
        }
        if (rc)
            goto done;
        int64_t bad = 0, first_bad = -1;
        for (int64_t e = 0; e < p->numel; e++)
            if (!isfinite(dst[e]) && bad++ == 0)
                first_bad = e;
        if (bad) {
            rc = ecg_error_set(err, ECG_ERR_VALUE,
                               "%s: layer '%s' weight '%s': %lld non-finite values (first at flat index %lld: %g)",
                               path, w->layer, strrchr(p->name, '/') ? strrchr(p->name, '/') + 1 : p->name,
                               (long long)bad, (long long)first_bad, (double)dst[first_bad]);
            goto done;
        }
        size_t nl = strlen(p->name);
        if (nl > 16 && strcmp(p->name + nl - 16, "/moving_variance") == 0) {
            for (int64_t e = 0; e < p->numel; e++) {
                if (dst[e] < 0) {
                    rc = ecg_error_set(err, ECG_ERR_VALUE,
                                       "%s: layer '%s' weight 'moving_variance': negative variance %g at index %lld",
                                       path, w->layer, (double)dst[e], (long long)e);
                    goto done;
                }
            }
        }
    }
    memcpy(params->values, stage, (size_t)params->total * sizeof(float));
    if (!opts->quiet) {
        if (n_unused)
            ecg_warn("%s: %d weight%s in the file not used by the model: %s", path, n_unused,
                     n_unused == 1 ? "" : "s", unused);
        if (n_kept)
            ecg_warn("%s: %d model parameter%s not loaded (kept at initialisation): %s", path, n_kept,
                     n_kept == 1 ? "" : "s", kept);
    }
    if (info)
        *info = kf.info;
done:
    free(scratch);
    ecg_aligned_free(stage);
    free(plan);
    free(match);
    kfile_free(&kf);
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

int ecg_keras_write_open(hid_t file, const struct ecg_params *params,
                         const struct ecg_keras_info *attrs, struct ecg_error *err)
{
    ECG_ASSERT(params->values);
    struct ecg_strlist layers = {0}, wnames = {0};
    int *order = NULL;
    hid_t group = H5I_INVALID_HID;
    int rc = ECG_OK;
    bool norm = attrs && attrs->has_normalization && attrs->norm_channels > 0 &&
                attrs->norm_channels <= 4;

    if (norm)
        rc = ecg_strlist_push(&layers, "normalization", err);
    for (int i = 0; i < params->count && rc == ECG_OK; i++) {
        const char *name = params->items[i].name;
        const char *slash = strrchr(name, '/');
        if (!slash || slash == name || !slash[1]) {
            rc = ecg_error_set(err, ECG_ERR_USAGE,
                               "parameter '%s': expected a '<layer>/<weight>' name to write a Keras file", name);
            break;
        }
        char layer[ECG_PARAM_NAME_MAX];
        snprintf(layer, sizeof layer, "%.*s", (int)(slash - name), name);
        if (ecg_strlist_find(&layers, layer) < 0)
            rc = ecg_strlist_push(&layers, layer, err);
    }
    if (rc)
        goto done;
    order = malloc(((size_t)params->count + 1) * sizeof *order);
    if (!order) {
        rc = ecg_error_set(err, ECG_ERR_NOMEM, "out of memory writing a weight file");
        goto done;
    }
    rc = ecg_h5_write_attr_strings(file, "layer_names", (const char *const *)layers.items, layers.count, err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_string(file, "backend", "tensorflow", err);
    /* The Keras 2 layout version this file follows (Keras reads it only to
     * special-case Keras 1 files). */
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_string(file, "keras_version", "2.13.1", err);
    if (rc == ECG_OK)
        rc = ecg_h5_write_attr_string(file, "ecg_writer", "ecgtrain " ECG_VERSION, err);
    if (rc == ECG_OK && attrs && attrs->has_bn_eps)
        rc = ecg_h5_write_attr_double(file, "ecg_bn_epsilon", attrs->bn_eps, err);
    if (rc == ECG_OK && attrs && attrs->has_padding)
        rc = ecg_h5_write_attr_string(file, "ecg_padding", attrs->padding, err);
    if (rc == ECG_OK && attrs && attrs->has_arch)
        rc = ecg_h5_write_attr_string(file, "ecg_arch", attrs->arch, err);
    if (rc == ECG_OK && norm)
        rc = write_normalization(file, attrs, err);
    if (rc)
        goto done;

    for (int l = norm ? 1 : 0; l < layers.count; l++) {
        const char *layer = layers.items[l];
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
        rc = ecg_h5_create_group(file, layer, &group, err);
        if (rc)
            goto done;
        ecg_strlist_free(&wnames);
        for (int a = 0; a < n && rc == ECG_OK; a++) {
            const struct ecg_param *p = &params->items[order[a]];
            char wname[ECG_PARAM_NAME_MAX + 8];
            snprintf(wname, sizeof wname, "%s:0", p->name);
            rc = ecg_strlist_push(&wnames, wname, err);
            if (rc == ECG_OK)
                rc = ecg_h5_write_floats(group, wname, p->ndim, p->shape,
                                         params->values + p->offset, err);
        }
        if (rc == ECG_OK)
            rc = ecg_h5_write_attr_strings(group, "weight_names", (const char *const *)wnames.items,
                                           wnames.count, err);
        ecg_h5_close(group);
        group = H5I_INVALID_HID;
        if (rc)
            goto done;
    }
done:
    if (group > 0)
        ecg_h5_close(group);
    free(order);
    ecg_strlist_free(&layers);
    ecg_strlist_free(&wnames);
    return rc;
}

int ecg_keras_save(const char *path, const struct ecg_params *params,
                   const struct ecg_keras_info *attrs, struct ecg_error *err)
{
    struct ecg_h5_atomic a;
    ECG_TRY(ecg_h5_atomic_begin(&a, path, err));
    int rc = ecg_keras_write_open(a.file, params, attrs, err);
    if (rc == ECG_OK)
        return ecg_h5_atomic_commit(&a, err);
    ecg_h5_atomic_abort(&a);
    return rc;
}
