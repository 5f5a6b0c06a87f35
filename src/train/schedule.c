/* Warmup then cosine decay of the learning rate. */
#include "config.h"

#include <math.h>

#include "train/schedule.h"

void train_schedule_init(struct train_schedule *s, double base_lr, double warmup_fraction,
                         double final_fraction, long iterations) {
    s->base_lr = base_lr;
    s->final_lr = final_fraction * base_lr;
    s->iterations = iterations;
    s->warmup_steps = (long)floor(warmup_fraction * (double)iterations + 0.5);
    if (s->warmup_steps > iterations) s->warmup_steps = iterations;
}

double train_schedule_lr(const struct train_schedule *s, long step) {
    if (step < 0) step = 0;
    if (step < s->warmup_steps) return s->base_lr * (double)(step + 1) / (double)s->warmup_steps;

    /* the decay span excludes its first step, so the last step lands on final_lr */
    long span = s->iterations - 1 - s->warmup_steps;
    if (span <= 0) return s->base_lr;
    double t = (double)(step - s->warmup_steps) / (double)span;
    if (t > 1) t = 1;
    const double pi = 3.14159265358979323846;
    return s->final_lr + (s->base_lr - s->final_lr) * 0.5 * (1 + cos(pi * t));
}
