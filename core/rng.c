/* Counter-based RNG built on the SplitMix64 finaliser. */
#include "core/rng.h"

#include <math.h>

#include "core/error.h"

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t ecg_rng_hash(uint64_t seed, uint64_t stream, uint64_t counter)
{
    /* Two rounds of mixing keep nearby (stream, counter) pairs independent. */
    uint64_t key = mix64(seed + 0x9e3779b97f4a7c15ULL * (stream + 1));
    return mix64(key ^ mix64(counter + 0x632be59bd9b4e019ULL));
}

struct ecg_rng ecg_rng_init(uint64_t seed, uint64_t stream)
{
    struct ecg_rng r = {.seed = seed, .stream = stream, .counter = 0};
    return r;
}

struct ecg_rng ecg_rng_stream(const struct ecg_rng *parent, uint64_t id)
{
    struct ecg_rng r = {.seed = parent->seed,
                        .stream = ecg_rng_hash(parent->seed, parent->stream, ~id),
                        .counter = 0};
    return r;
}

uint64_t ecg_rng_u64(struct ecg_rng *r) { return ecg_rng_hash(r->seed, r->stream, r->counter++); }

float ecg_rng_uniform(struct ecg_rng *r)
{
    return (float)(ecg_rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

double ecg_rng_uniform_double(struct ecg_rng *r)
{
    return (double)(ecg_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

float ecg_rng_normal(struct ecg_rng *r)
{
    double u1 = 1.0 - ecg_rng_uniform_double(r); /* (0, 1]: log is finite */
    double u2 = ecg_rng_uniform_double(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint64_t ecg_rng_below(struct ecg_rng *r, uint64_t n)
{
    ECG_ASSERT(n > 0);
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the biased tail */
    uint64_t x;
    do
        x = ecg_rng_u64(r);
    while (x >= limit);
    return x % n;
}

void ecg_rng_shuffle(struct ecg_rng *r, int64_t *items, int64_t count)
{
    for (int64_t i = count - 1; i > 0; i--) {
        int64_t j = (int64_t)ecg_rng_below(r, (uint64_t)i + 1);
        int64_t t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
}
