/* Parameter store: registration, one-shot allocation, lookup. */
#include "core/params.h"

#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/tensor.h"

#define FLOATS_PER_ALIGN (ECG_ARENA_ALIGN / (int64_t)sizeof(float))

int ecg_params_add(struct ecg_params *p, const char *name, int ndim, const int64_t *shape,
                   unsigned flags, int *index, struct ecg_error *err)
{
    if (p->values)
        return ecg_error_set(err, ECG_ERR_USAGE, "parameter '%s': store is already bound", name);
    if (strlen(name) >= ECG_PARAM_NAME_MAX)
        return ecg_error_set(err, ECG_ERR_RANGE, "parameter name '%s' longer than %d characters",
                             name, ECG_PARAM_NAME_MAX - 1);
    if (ndim < 0 || ndim > 4)
        return ecg_error_set(err, ECG_ERR_SHAPE, "parameter '%s': rank %d, expected 0 to 4", name, ndim);
    if (ecg_params_find(p, name) >= 0)
        return ecg_error_set(err, ECG_ERR_USAGE, "parameter '%s' registered twice", name);
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0 || !ecg_size_mul(numel, shape[i], &numel)) {
            char buf[96];
            return ecg_error_set(err, ECG_ERR_SHAPE, "parameter '%s': invalid shape %s", name,
                                 ecg_shape_str(buf, sizeof buf, ndim, shape));
        }
    }
    if (p->count == p->cap) {
        int cap = p->cap ? p->cap * 2 : 64;
        struct ecg_param *items = realloc(p->items, (size_t)cap * sizeof *items);
        if (!items)
            return ecg_error_set(err, ECG_ERR_NOMEM, "parameter store: out of memory growing to %d entries", cap);
        p->items = items;
        p->cap = cap;
    }
    struct ecg_param *it = &p->items[p->count];
    memset(it, 0, sizeof *it);
    strcpy(it->name, name);
    it->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        it->shape[i] = shape[i];
    it->numel = numel;
    it->flags = flags & ((1u << ECG_PARAM_INIT_SHIFT) - 1);
    it->init = (enum ecg_param_init)(flags >> ECG_PARAM_INIT_SHIFT);
    it->offset = p->total;
    int64_t padded = (numel + FLOATS_PER_ALIGN - 1) / FLOATS_PER_ALIGN * FLOATS_PER_ALIGN;
    if (!ecg_size_add(p->total, padded, &p->total))
        return ecg_error_set(err, ECG_ERR_NOMEM, "parameter store: size overflow at '%s'", name);
    if (index)
        *index = p->count;
    p->count++;
    return ECG_OK;
}

int ecg_params_bind_shared(struct ecg_params *p, float *shared_values, struct ecg_error *err)
{
    ECG_ASSERT(!p->values);
    int64_t n = p->total > 0 ? p->total : 1;
    p->values = shared_values ? shared_values : ecg_aligned_calloc(n, sizeof(float));
    p->grads = ecg_aligned_calloc(n, sizeof(float));
    p->shared_values = shared_values != NULL;
    if (!p->values || !p->grads) {
        if (!p->shared_values)
            ecg_aligned_free(p->values);
        ecg_aligned_free(p->grads);
        p->values = p->grads = NULL;
        p->shared_values = false;
        return ecg_error_set(err, ECG_ERR_NOMEM, "parameter store: cannot allocate %d x %.1f MiB",
                             shared_values ? 1 : 2, (double)n * 4.0 / (1024.0 * 1024.0));
    }
    return ECG_OK;
}

int ecg_params_bind(struct ecg_params *p, struct ecg_error *err)
{
    return ecg_params_bind_shared(p, NULL, err);
}

void ecg_params_free(struct ecg_params *p)
{
    free(p->items);
    if (!p->shared_values)
        ecg_aligned_free(p->values);
    ecg_aligned_free(p->grads);
    memset(p, 0, sizeof *p);
}

int ecg_params_find(const struct ecg_params *p, const char *name)
{
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->items[i].name, name) == 0)
            return i;
    return -1;
}

int ecg_params_at_offset(const struct ecg_params *p, int64_t offset)
{
    for (int i = 0; i < p->count; i++)
        if (offset >= p->items[i].offset && offset < p->items[i].offset + p->items[i].numel)
            return i;
    return -1;
}

float *ecg_params_value(const struct ecg_params *p, int index)
{
    ECG_ASSERT(p->values && index >= 0 && index < p->count);
    return p->values + p->items[index].offset;
}

float *ecg_params_grad(const struct ecg_params *p, int index)
{
    ECG_ASSERT(p->grads && index >= 0 && index < p->count);
    return p->grads + p->items[index].offset;
}

void ecg_params_zero_grad(struct ecg_params *p)
{
    if (p->grads)
        memset(p->grads, 0, (size_t)p->total * sizeof(float));
}

int64_t ecg_params_count(const struct ecg_params *p, unsigned exclude_flags)
{
    int64_t n = 0;
    for (int i = 0; i < p->count; i++)
        if (!(p->items[i].flags & exclude_flags))
            n += p->items[i].numel;
    return n;
}

int ecg_params_set_flags(struct ecg_params *p, const char *prefix, unsigned flags, bool on)
{
    size_t len = strlen(prefix);
    int matched = 0;
    for (int i = 0; i < p->count; i++) {
        if (strncmp(p->items[i].name, prefix, len) != 0)
            continue;
        if (on)
            p->items[i].flags |= flags;
        else
            p->items[i].flags &= ~flags;
        matched++;
    }
    return matched;
}
