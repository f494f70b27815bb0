/* Arena allocation, overflow-checked sizes and aligned heap blocks. */
#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

bool ecg_size_mul(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0)
        return false;
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

bool ecg_size_add(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0)
        return false;
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

int64_t ecg_arena_round(int64_t bytes)
{
    ECG_ASSERT(bytes >= 0 && bytes <= INT64_MAX - ECG_ARENA_ALIGN);
    return (bytes + ECG_ARENA_ALIGN - 1) / ECG_ARENA_ALIGN * ECG_ARENA_ALIGN;
}

void ecg_arena_init_plan(struct ecg_arena *a)
{
    memset(a, 0, sizeof *a);
    a->planning = true;
}

int ecg_arena_init(struct ecg_arena *a, int64_t bytes, struct ecg_error *err)
{
    memset(a, 0, sizeof *a);
    if (bytes < 0 || bytes > INT64_MAX - ECG_ARENA_ALIGN)
        return ecg_error_set(err, ECG_ERR_NOMEM, "arena: invalid size %lld bytes", (long long)bytes);
    int64_t cap = ecg_arena_round(bytes > 0 ? bytes : ECG_ARENA_ALIGN);
    if ((uint64_t)cap > (uint64_t)SIZE_MAX)
        return ecg_error_set(err, ECG_ERR_NOMEM, "arena: %lld bytes exceed the address space", (long long)cap);
    void *p = aligned_alloc(ECG_ARENA_ALIGN, (size_t)cap);
    if (!p)
        return ecg_error_set(err, ECG_ERR_NOMEM, "arena: cannot allocate %.1f MiB",
                             (double)cap / (1024.0 * 1024.0));
    a->base = p;
    a->cap = cap;
    return ECG_OK;
}

void ecg_arena_free(struct ecg_arena *a)
{
    free(a->base);
    memset(a, 0, sizeof *a);
}

void *ecg_arena_alloc(struct ecg_arena *a, int64_t bytes)
{
    ECG_ASSERT(bytes >= 0);
    int64_t size = ecg_arena_round(bytes);
    int64_t end;
    bool fits = ecg_size_add(a->used, size, &end);
    ECG_ASSERT(fits); /* sizes come from a plan we made: overflow is our bug */
    void *p = NULL;
    if (!a->planning) {
        ECG_ASSERT(end <= a->cap); /* the plan was wrong: our bug */
        p = a->base + a->used;
    }
    a->used = end;
    if (end > a->high)
        a->high = end;
    return p;
}

float *ecg_arena_floats(struct ecg_arena *a, int64_t count)
{
    int64_t bytes;
    bool fits = ecg_size_mul(count, (int64_t)sizeof(float), &bytes);
    ECG_ASSERT(fits); /* sizes come from a plan we made: overflow is our bug */
    return ecg_arena_alloc(a, bytes);
}

int64_t ecg_arena_mark(const struct ecg_arena *a) { return a->used; }

void ecg_arena_rewind(struct ecg_arena *a, int64_t mark)
{
    ECG_ASSERT(mark >= 0 && mark <= a->used);
    a->used = mark;
}

void *ecg_aligned_calloc(int64_t count, int64_t size)
{
    int64_t bytes;
    if (!ecg_size_mul(count, size, &bytes) || bytes > INT64_MAX - ECG_ARENA_ALIGN)
        return NULL;
    int64_t cap = ecg_arena_round(bytes > 0 ? bytes : 1);
    if ((uint64_t)cap > (uint64_t)SIZE_MAX)
        return NULL;
    void *p = aligned_alloc(ECG_ARENA_ALIGN, (size_t)cap);
    if (p)
        memset(p, 0, (size_t)cap);
    return p;
}

void ecg_aligned_free(void *p) { free(p); }
