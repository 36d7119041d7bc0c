/*
 * sim_rng.c - xoshiro256** seeded with splitmix64; see sim.h
 *
 * Our own generator rather than random(3): the C library's generators
 * differ between systems, and a --seed must give the same month of mail
 * everywhere.
 */
#include "autoconf.h"

#include "sim/sim.h"

/* sim_splitmix64 - one step of splitmix64 (Steele, Lea, Flood 2014) */
uint64_t sim_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* sim_rng_seed - a stream keyed by the seed and up to three numbers */
void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t k1, uint64_t k2, uint64_t k3)
{
    uint64_t x = seed;
    x ^= sim_splitmix64(&x) ^ k1;
    x ^= sim_splitmix64(&x) ^ k2;
    x ^= sim_splitmix64(&x) ^ k3;
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix64(&x);
}

/* rotl - rotate left */
static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* sim_rng_next - xoshiro256** (Blackman, Vigna 2018) */
uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* sim_rng_below - uniform in [0, n) without modulo bias */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = sim_rng_next(r);
    while (x >= limit);
    return x % n;
}

/* sim_rng_unit - uniform double in [0, 1) from the top 53 bits */
double sim_rng_unit(struct sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
