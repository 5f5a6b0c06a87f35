/* Learning-rate schedule: linear warmup over the first fraction of the steps, then a half
 * cosine from the base rate down to a final fraction of it at the last step. */
#ifndef UFO_TRAIN_SCHEDULE_H
#define UFO_TRAIN_SCHEDULE_H

struct train_schedule {
    double base_lr;
    double final_lr;     /* final_fraction × base_lr */
    long iterations;
    long warmup_steps;   /* round(warmup_fraction × iterations) */
};

/* Fractions in [0, 1], iterations >= 1. */
void train_schedule_init(struct train_schedule *s, double base_lr, double warmup_fraction,
                         double final_fraction, long iterations);

/* The rate of 0-based `step`. Warmup step k of W gives base × (k + 1) / W, so the first step
 * already moves and step W - 1 reaches the base rate; the cosine then runs over steps
 * W .. iterations - 1, reaching exactly final_lr at the last one (and staying there after). */
double train_schedule_lr(const struct train_schedule *s, long step);

#endif
