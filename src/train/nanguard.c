/* The skip-or-stop policy for non-finite steps. */
#include "config.h"

#include <math.h>

#include "core/log.h"
#include "train/nanguard.h"

void train_nanguard_init(struct train_nanguard *g, long max_in_row) {
    g->max_in_row = max_in_row < 1 ? 1 : max_in_row;
    g->in_row = 0;
    g->skipped = 0;
    g->last_bad = -1;
}

enum train_step_verdict train_nanguard_step(struct train_nanguard *g, long step, bool finite,
                                            const char *what) {
    if (finite) {
        g->in_row = 0;
        return TRAIN_STEP_APPLY;
    }
    g->in_row++;
    g->skipped++;
    g->last_bad = step;
    if (!what) what = "loss or gradient";
    if (g->in_row >= g->max_in_row) {
        ufo_fail(UFO_ERR_NUMERIC, "step %ld: non-finite %s, %ld step(s) in a row (limit "
                 "train.max_bad_steps = %ld): stopping; lower train.base_lr or check the data",
                 step, what, g->in_row, g->max_in_row);
        return TRAIN_STEP_STOP;
    }
    log_warn("step %ld: non-finite %s, step skipped (%ld in a row, the run stops at %ld)", step,
             what, g->in_row, g->max_in_row);
    return TRAIN_STEP_SKIP;
}

bool train_all_finite(const float *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return false;
    return true;
}
