/* A counter-based random number generator: reproducible whatever the thread schedule. */
#ifndef ECG_CORE_RNG_H
#define ECG_CORE_RNG_H

#include <stdint.h>

/*
 * Each draw is a pure function of (seed, stream, counter): a stream is an
 * independent sequence, and the counter counts draws within it.  Work that
 * runs on several threads takes one stream per item (per sample, per record,
 * per epoch), derived with ecg_rng_stream(), so the numbers an item gets do
 * not depend on which thread ran it or in what order.  The whole state is
 * three integers, so a checkpoint saves it exactly.
 */

struct ecg_rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t counter;
};

/* Stateless: the 64-bit value at (seed, stream, counter). */
uint64_t ecg_rng_hash(uint64_t seed, uint64_t stream, uint64_t counter);

struct ecg_rng ecg_rng_init(uint64_t seed, uint64_t stream);

/* A child generator for item `id` of this one (independent of its counter). */
struct ecg_rng ecg_rng_stream(const struct ecg_rng *parent, uint64_t id);

uint64_t ecg_rng_u64(struct ecg_rng *r);
/* Uniform in [0, 1), 24 random bits. */
float ecg_rng_uniform(struct ecg_rng *r);
/* Uniform in [0, 1), 53 random bits. */
double ecg_rng_uniform_double(struct ecg_rng *r);
/* Standard normal (Box-Muller). */
float ecg_rng_normal(struct ecg_rng *r);
/* Uniform integer in [0, n), unbiased; n > 0. */
uint64_t ecg_rng_below(struct ecg_rng *r, uint64_t n);
/* Fisher-Yates shuffle. */
void ecg_rng_shuffle(struct ecg_rng *r, int64_t *items, int64_t count);

#endif
