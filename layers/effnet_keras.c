/* EfficientNet's Keras weight files: architecture from block count and top width, stem adaptation. */
#include "layers/effnet_keras.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* EfficientNet B0..B7: MBConv block count and top_conv width. */
static const struct {
    const char *name;
    int blocks;
    int64_t top;
} ARCHS[] = {
    {"b0", 16, 1280}, {"b1", 23, 1280}, {"b2", 23, 1408}, {"b3", 26, 1536},
    {"b4", 32, 1792}, {"b5", 39, 2048}, {"b6", 45, 2304}, {"b7", 55, 2560},
};

void ecg_effnet_arch_from_layout(int blocks, int64_t top_channels, char out[8])
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

/* Names and shapes of a file's weights or of a store, alike. */
struct named_shapes {
    const char *(*name)(const void *ctx, int i, int *ndim, const int64_t **shape);
    const void *ctx;
    int n;
};

/* Distinct block prefixes among the names (more than any EfficientNet has count as none). */
static int count_blocks(struct named_shapes s)
{
    enum { MAX_BLOCKS = 128 };
    char seen[MAX_BLOCKS][32];
    int blocks = 0;
    for (int i = 0; i < s.n; i++) {
        int ndim;
        const int64_t *shape;
        const char *name = s.name(s.ctx, i, &ndim, &shape);
        size_t len = block_prefix(name);
        if (!len || len >= sizeof seen[0])
            continue;
        bool known = false;
        for (int b = blocks - 1; b >= 0 && !known; b--)
            known = strncmp(seen[b], name, len) == 0 && seen[b][len] == '\0';
        if (known)
            continue;
        if (blocks == MAX_BLOCKS)
            return 0;
        memcpy(seen[blocks], name, len);
        seen[blocks++][len] = '\0';
    }
    return blocks;
}

/* The arch of a layer set: its block count and top_conv width. */
static void arch_of(struct named_shapes s, char out[8])
{
    int64_t top = 0;
    for (int i = 0; i < s.n; i++) {
        int ndim;
        const int64_t *shape;
        if (strcmp(s.name(s.ctx, i, &ndim, &shape), "top_conv/kernel") == 0 && ndim == 4)
            top = shape[3];
    }
    out[0] = '\0';
    if (top > 0)
        ecg_effnet_arch_from_layout(count_blocks(s), top, out);
}

static const char *weight_at(const void *ctx, int i, int *ndim, const int64_t **shape)
{
    const struct ecg_keras_weight *w = (const struct ecg_keras_weight *)ctx + i;
    *ndim = w->ndim;
    *shape = w->shape;
    return w->param;
}

static const char *param_at(const void *ctx, int i, int *ndim, const int64_t **shape)
{
    const struct ecg_param *p = &((const struct ecg_params *)ctx)->items[i];
    *ndim = p->ndim;
    *shape = p->shape;
    return p->name;
}

static void describe(const struct ecg_keras_weight *w, int n, struct ecg_keras_info *info)
{
    for (int i = 0; i < n; i++) {
        if (strcmp(w[i].param, "stem_conv/kernel") == 0 && w[i].ndim == 4)
            info->stem_in_channels = w[i].shape[2];
        else if (strcmp(w[i].param, "predictions/kernel") == 0 && w[i].ndim == 2) {
            info->num_classes = w[i].shape[1];
            info->head_inputs = w[i].shape[0];
        }
    }
    arch_of((struct named_shapes){weight_at, w, n}, info->inferred_arch);
}

static void store_arch(const struct ecg_params *p, char out[8])
{
    arch_of((struct named_shapes){param_at, p, p->count}, out);
}

static bool adapts(const struct ecg_param *p, int ndim, const int64_t *f)
{
    return strcmp(p->name, "stem_conv/kernel") == 0 && ndim == 4 && p->ndim == 4 && f[2] == 3 &&
           f[0] == p->shape[0] && f[1] == p->shape[1] && f[3] == p->shape[3];
}

/* timm's adapt_input_conv on an HWIO kernel: src (kh, kw, 3, F) -> dst (kh, kw, C, F). */
static void adapt(const struct ecg_param *p, const int64_t *fshape, const float *src, float *dst)
{
    const int64_t kh = p->shape[0], kw = p->shape[1], c = p->shape[2], f = p->shape[3];
    (void)fshape;
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

const struct ecg_keras_model ecg_effnet_keras = {
    .family = "EfficientNet",
    .describe = describe,
    .store_arch = store_arch,
    .adapts = adapts,
    .adapt = adapt,
};
