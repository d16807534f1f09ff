/* rng.h: the pseudo-random generator cbag uses wherever it needs one
 * (random_sample, the accounts generator): xoshiro256** seeded through
 * splitmix64. Small, fast, and the same on every machine, so a seed gives
 * the same numbers everywhere. */
#ifndef CBAG_RNG_H
#define CBAG_RNG_H

#include <stdint.h>

static inline uint64_t cbag__splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static inline uint64_t cbag__rotl64(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

/* The next 64 bits of the xoshiro256** state s. */
static inline uint64_t cbag__xoshiro(uint64_t s[4]) {
    uint64_t r = cbag__rotl64(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = cbag__rotl64(s[3], 45);
    return r;
}

/* A double uniform in [0, 1) from 53 random bits. */
static inline double cbag__uniform(uint64_t s[4]) {
    return (double)(cbag__xoshiro(s) >> 11) * 0x1.0p-53;
}

#endif
