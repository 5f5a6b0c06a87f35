/* Helpers shared by the ops tests: seeded random fills and mismatch reports. */
#ifndef UFO_TESTS_OPS_CHECK_H
#define UFO_TESTS_OPS_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A small xorshift generator so every run sees the same numbers. */
static uint64_t check_state = 0x9e3779b97f4a7c15ull;

static inline double check_uniform(void) {
    check_state ^= check_state << 13;
    check_state ^= check_state >> 7;
    check_state ^= check_state << 17;
    return (double)(check_state >> 11) / 9007199254740992.0;
}

/* Fill x [n] with uniform values in [lo, hi). */
static inline void check_fill(double *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * check_uniform();
}

static inline double *check_alloc(size_t n) {
    double *p = calloc(n ? n : 1, sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    return p;
}

/* Compare got [n] with want [n]: |got - want| <= atol + rtol·|want|. Prints the first few
 * mismatches with their indices; returns the number of mismatches. */
static inline size_t check_close(const char *what, const double *got, const double *want,
                                 size_t n, double atol, double rtol) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs(got[i] - want[i]);
        if (!(err <= atol + rtol * fabs(want[i]))) {
            if (bad < 5)
                fprintf(stderr, "%s: [%zu] got %.9g want %.9g (error %.3g)\n", what, i, got[i],
                        want[i], err);
            bad++;
        }
    }
    if (bad)
        fprintf(stderr, "%s: %zu of %zu values differ\n", what, bad, n);
    return bad;
}

#endif
