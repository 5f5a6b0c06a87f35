/* The learning-rate schedule against values worked out by hand. */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "train/schedule.h"

int main(void) {
    int failures = 0;

    /* 11 steps, warmup round(0.2 × 11) = 2, base 0.1, final 0.02 × 0.1 = 0.002; the cosine runs
     * over steps 2..10 (span 8): t = (step - 2) / 8, lr = 0.002 + 0.098 × (1 + cos(πt)) / 2.
     * cos(π/4) = 0.70710678118654752, cos(3π/8) = 0.38268343236508977. */
    struct train_schedule s;
    train_schedule_init(&s, 0.1, 0.2, 0.02, 11);
    static const struct { long step; double lr; } want[] = {
        {0, 0.05},                                  /* 0.1 × 1/2 */
        {1, 0.1},                                   /* 0.1 × 2/2 */
        {2, 0.1},                                   /* t = 0 */
        {3, 0.002 + 0.098 * (1 + 0.92387953251128676) / 2},  /* t = 1/8, cos(π/8) */
        {4, 0.002 + 0.098 * (1 + 0.70710678118654752) / 2},  /* t = 1/4 */
        {5, 0.002 + 0.098 * (1 + 0.38268343236508977) / 2},  /* t = 3/8 */
        {6, 0.051},                                 /* t = 1/2: halfway */
        {8, 0.002 + 0.098 * (1 - 0.70710678118654752) / 2},  /* t = 3/4 */
        {10, 0.002},                                /* last step: exactly the final rate */
        {11, 0.002},                                /* past the end: stays */
        {-3, 0.05},                                 /* before the start: the first step */
    };
    if (s.warmup_steps != 2) {
        fprintf(stderr, "warmup_steps %ld, want 2\n", s.warmup_steps);
        failures++;
    }
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        double got = train_schedule_lr(&s, want[i].step);
        if (fabs(got - want[i].lr) > 1e-15) {
            fprintf(stderr, "step %ld: lr %.17g, want %.17g\n", want[i].step, got, want[i].lr);
            failures++;
        }
    }

    /* the paper's recipe on 1000 steps: warmup 100, 1e-3 per step up to 0.1 */
    train_schedule_init(&s, 0.1, 0.1, 0.02, 1000);
    double a = train_schedule_lr(&s, 0), b = train_schedule_lr(&s, 49);
    double c = train_schedule_lr(&s, 99), d = train_schedule_lr(&s, 999);
    if (s.warmup_steps != 100 || fabs(a - 0.001) > 1e-15 || fabs(b - 0.05) > 1e-15 ||
        fabs(c - 0.1) > 1e-15 || fabs(d - 0.002) > 1e-15) {
        fprintf(stderr, "1000 steps: W %ld, lr %.17g %.17g %.17g %.17g\n", s.warmup_steps, a, b,
                c, d);
        failures++;
    }

    /* monotone: up during warmup, down after */
    for (long k = 1; k < 1000; k++) {
        double prev = train_schedule_lr(&s, k - 1), cur = train_schedule_lr(&s, k);
        if (k < 100 ? !(cur > prev) : !(cur <= prev)) {
            fprintf(stderr, "not monotone at step %ld: %.17g after %.17g\n", k, cur, prev);
            failures++;
            break;
        }
    }

    /* no warmup, one step: the base rate; all warmup: the last step reaches base */
    train_schedule_init(&s, 0.5, 0, 0.02, 1);
    if (train_schedule_lr(&s, 0) != 0.5) failures++, fprintf(stderr, "1 step: %g\n",
                                                              train_schedule_lr(&s, 0));
    train_schedule_init(&s, 0.5, 1, 0.02, 4);
    if (fabs(train_schedule_lr(&s, 0) - 0.125) > 1e-15 || train_schedule_lr(&s, 3) != 0.5)
        failures++, fprintf(stderr, "all warmup: %g %g\n", train_schedule_lr(&s, 0),
                            train_schedule_lr(&s, 3));
    return failures ? 1 : 0;
}
