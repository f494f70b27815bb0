/* Aligned bump allocation with overflow-checked sizes and a high-water mark. */
#ifndef ECG_CORE_ARENA_H
#define ECG_CORE_ARENA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/*
 * Memory model: plan first, then allocate once.
 *
 * An arena is used twice with the same code path.  In *planning* mode
 * (ecg_arena_init_plan) it has no memory: ecg_arena_alloc() only advances the
 * offset and returns NULL, so a caller computes the exact byte count of a
 * model for a given batch and input size.  In *bound* mode (ecg_arena_init)
 * it owns one aligned block of exactly that size and hands out pieces of it.
 * Training steps then run without malloc and cannot fail for lack of memory.
 *
 * Every allocation is aligned to ECG_ARENA_ALIGN bytes (a cache line, enough
 * for any SIMD width).  `high` is the high-water mark: the memory figure that
 * benchmarks report.
 */

#define ECG_ARENA_ALIGN 64

struct ecg_arena {
    unsigned char *base; /* NULL in planning mode */
    int64_t cap;         /* bytes owned (bound mode) */
    int64_t used;        /* bytes handed out so far */
    int64_t high;        /* largest `used` ever seen */
    bool planning;
};

/* A planning arena: counts bytes, owns nothing.  Cannot fail. */
void ecg_arena_init_plan(struct ecg_arena *a);

/* A bound arena of `bytes` (rounded up to the alignment). */
int ecg_arena_init(struct ecg_arena *a, int64_t bytes, struct ecg_error *err);

/* Frees the memory; a zeroed arena is a no-op.  Leaves the struct zeroed. */
void ecg_arena_free(struct ecg_arena *a);

/*
 * Reserves `bytes` (aligned).  Planning mode: returns NULL and counts.
 * Bound mode: returns the memory; running out is a bug in the plan and
 * aborts (a plan computed the size, so this cannot be caused by a user).
 */
void *ecg_arena_alloc(struct ecg_arena *a, int64_t bytes);

/* Typed helper: `count` floats, with the multiplication overflow-checked. */
float *ecg_arena_floats(struct ecg_arena *a, int64_t count);

/* Marks and rewinds, for scratch memory that is reused between layers. */
int64_t ecg_arena_mark(const struct ecg_arena *a);
void ecg_arena_rewind(struct ecg_arena *a, int64_t mark);

/* Rounds `bytes` up to the arena alignment. */
int64_t ecg_arena_round(int64_t bytes);

/* Overflow-checked arithmetic for extents: return false on overflow or negative input. */
bool ecg_size_mul(int64_t a, int64_t b, int64_t *out);
bool ecg_size_add(int64_t a, int64_t b, int64_t *out);

/* Aligned heap allocation outside arenas (parameter store, datasets).  Zero-filled.
 * Returns NULL on failure or overflow; release with ecg_aligned_free. */
void *ecg_aligned_calloc(int64_t count, int64_t size);
void ecg_aligned_free(void *p);

#endif
