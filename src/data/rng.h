/* Counter-based random draws for the data pipeline: Philox4x32-10 keyed by the run seed, counted
 * by (step, sample, purpose, draw), so any sample of any step can be recomputed alone. */
#ifndef UFO_DATA_RNG_H
#define UFO_DATA_RNG_H

#include <math.h>
#include <stdint.h>

#include <Random123/philox.h>

/* What a stream of draws is for; two purposes never share a counter. */
enum data_purpose {
    DATA_RNG_SAMPLER = 1,   /* which items make up a task's part of a batch */
    DATA_RNG_REPLACE,       /* replacement draws for undecodable items */
    DATA_RNG_AUTOAUGMENT,
    DATA_RNG_CROP,
    DATA_RNG_FLIP,
    DATA_RNG_ERASE,
    DATA_RNG_ERASE_NOISE,
};

struct data_rng {
    philox4x32_key_t key;
    philox4x32_ctr_t ctr;    /* v[3] counts blocks of four draws */
    philox4x32_ctr_t out;
    int used;                /* draws taken from `out` */
};

/* Start the stream for (seed, step, sample, purpose). */
static inline void data_rng_init(struct data_rng *r, uint64_t seed, uint64_t step,
                                 uint32_t sample, uint32_t purpose) {
    r->key.v[0] = (uint32_t)seed;
    r->key.v[1] = (uint32_t)(seed >> 32);
    /* the step takes 40 bits, the purpose 24: plenty for both */
    r->ctr.v[0] = (uint32_t)step;
    r->ctr.v[1] = (uint32_t)(step >> 32 & 0xff) | purpose << 8;
    r->ctr.v[2] = sample;
    r->ctr.v[3] = 0;
    r->used = 4;
}

/* The next uniformly distributed 32-bit word. */
static inline uint32_t data_rng_u32(struct data_rng *r) {
    if (r->used == 4) {
        r->out = philox4x32(r->ctr, r->key);
        r->ctr.v[3]++;
        r->used = 0;
    }
    return r->out.v[r->used++];
}

/* Uniform in [0, 1) with 32 bits of resolution. */
static inline double data_rng_uniform(struct data_rng *r) {
    return data_rng_u32(r) * (1.0 / 4294967296.0);
}

/* Uniform in [lo, hi). */
static inline double data_rng_range(struct data_rng *r, double lo, double hi) {
    return lo + (hi - lo) * data_rng_uniform(r);
}

/* Uniform integer in [0, n) (n > 0); the modulo bias is below 2^-32 · n, negligible here. */
static inline uint32_t data_rng_below(struct data_rng *r, uint32_t n) {
    return (uint32_t)(((uint64_t)data_rng_u32(r) * n) >> 32);
}

/* Standard normal draw (Box-Muller; one of the pair is dropped to keep draws independent of
 * how many were asked for before). */
static inline float data_rng_normal(struct data_rng *r) {
    double u1 = (data_rng_u32(r) + 1.0) * (1.0 / 4294967297.0);
    double u2 = data_rng_uniform(r);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/* Two independent standard normal draws (both halves of one Box-Muller pair). */
static inline void data_rng_normal2(struct data_rng *r, float *a, float *b) {
    double u1 = (data_rng_u32(r) + 1.0) * (1.0 / 4294967297.0);
    double u2 = data_rng_uniform(r);
    double m = sqrt(-2.0 * log(u1)), t = 6.283185307179586 * u2;
    *a = (float)(m * cos(t));
    *b = (float)(m * sin(t));
}

#endif
