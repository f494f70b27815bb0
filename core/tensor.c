/* Tensor shape helpers. */
#include "core/tensor.h"

#include <stdio.h>
#include <string.h>

struct ecg_tensor ecg_tensor_shape4(int64_t n, int64_t h, int64_t w, int64_t c)
{
    struct ecg_tensor t = {.data = NULL, .ndim = 4, .dims = {n, h, w, c}};
    return t;
}

struct ecg_tensor ecg_tensor_shape2(int64_t rows, int64_t cols)
{
    struct ecg_tensor t = {.data = NULL, .ndim = 2, .dims = {rows, cols, 0, 0}};
    return t;
}

int64_t ecg_tensor_numel(const struct ecg_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) {
        bool fits = ecg_size_mul(n, t->dims[i], &n);
        ECG_ASSERT(fits); /* shapes come from a plan we made: overflow is our bug */
    }
    return n;
}

void ecg_tensor_alloc(struct ecg_tensor *t, struct ecg_arena *a)
{
    t->data = ecg_arena_floats(a, ecg_tensor_numel(t));
}

int ecg_tensor_same_shape(const struct ecg_tensor *a, const struct ecg_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

char *ecg_shape_str(char *buf, int bufsize, int ndim, const int64_t *dims)
{
    int off = snprintf(buf, (size_t)bufsize, "(");
    for (int i = 0; i < ndim && off < bufsize; i++)
        off += snprintf(buf + off, (size_t)(bufsize - off), i ? ", %lld" : "%lld", (long long)dims[i]);
    if (ndim == 1 && off < bufsize)
        off += snprintf(buf + off, (size_t)(bufsize - off), ",");
    if (off < bufsize)
        snprintf(buf + off, (size_t)(bufsize - off), ")");
    return buf;
}
