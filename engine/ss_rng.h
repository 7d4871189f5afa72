/* ss_rng: the project's one seeded random generator (splitmix64 seeding a
 * xoshiro256** state). Every random choice in gen, replay and the Random
 * policy draws from one of these, seeded from the command line, so runs
 * repeat exactly. No rand(). */
#ifndef SS_RNG_H
#define SS_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} ss_rng_t;

void ss_rng_seed(ss_rng_t *r, uint64_t seed);
uint64_t ss_rng_next(ss_rng_t *r);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t ss_rng_below(ss_rng_t *r, uint64_t n);
/* Uniform double in [0, 1). */
double ss_rng_uniform(ss_rng_t *r);

#endif
