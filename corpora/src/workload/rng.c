/* rng.c - deterministic xorshift64* generator; same sequence on every platform. */
#include "workload.h"

void rng_seed(Rng *r, uint64_t seed)
{
    r->state = seed ? seed : 0x9E3779B97F4A7C15ull;
}

uint32_t rng_next(Rng *r)
{
    uint64_t x = r->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Uniform in [0, bound) by rejection, so there is no modulo bias. */
uint32_t rng_below(Rng *r, uint32_t bound)
{
    uint32_t limit, v;
    if (bound <= 1)
        return 0;
    limit = UINT32_MAX - UINT32_MAX % bound;
    do {
        v = rng_next(r);
    } while (v >= limit);
    return v % bound;
}

/* A double in [0, 1) with 32 bits of randomness: exact, so portable. */
double rng_unit(Rng *r)
{
    return (double)rng_next(r) / 4294967296.0;
}
