/* What to do after a step whose loss or gradient is not finite: skip it, or stop the run once
 * too many come in a row (the last good checkpoint stays as it is). */
#ifndef UFO_TRAIN_NANGUARD_H
#define UFO_TRAIN_NANGUARD_H

#include <stdbool.h>
#include <stddef.h>

#include <ufo/status.h>

enum train_step_verdict {
    TRAIN_STEP_APPLY, /* finite: apply the update */
    TRAIN_STEP_SKIP,  /* not finite: drop the update, keep going */
    TRAIN_STEP_STOP,  /* max_in_row bad steps in a row: stop with an error */
};

struct train_nanguard {
    long max_in_row;  /* bad steps in a row that stop the run (>= 1) */
    long in_row;      /* current run of bad steps */
    long skipped;     /* bad steps in total */
    long last_bad;    /* step of the last bad one, -1 before any */
};

void train_nanguard_init(struct train_nanguard *g, long max_in_row);

/* Record step `step` (`finite`: loss and every gradient finite; `what` names the culprit for the
 * message, "loss of task face"). A skip logs a warning; a stop records a UFO_ERR_NUMERIC message
 * (ufo_last_error()) saying how many steps were bad and that the last checkpoint is intact. */
enum train_step_verdict train_nanguard_step(struct train_nanguard *g, long step, bool finite,
                                            const char *what);

/* Whether all n values are finite (no NaN, no ±Inf). */
bool train_all_finite(const float *v, size_t n);

#endif
