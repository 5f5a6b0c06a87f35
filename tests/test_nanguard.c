/* The skip-or-stop policy for non-finite steps. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "train/nanguard.h"

int main(void) {
    int failures = 0;
    log_set_level(LOG_QUIET);

    /* max 3 in a row: bad bad good resets; then bad bad bad stops on the third */
    struct train_nanguard g;
    train_nanguard_init(&g, 3);
    static const struct { bool finite; enum train_step_verdict want; long in_row; } seq[] = {
        {true, TRAIN_STEP_APPLY, 0}, {false, TRAIN_STEP_SKIP, 1}, {false, TRAIN_STEP_SKIP, 2},
        {true, TRAIN_STEP_APPLY, 0}, {false, TRAIN_STEP_SKIP, 1}, {false, TRAIN_STEP_SKIP, 2},
        {false, TRAIN_STEP_STOP, 3},
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        enum train_step_verdict v = train_nanguard_step(&g, (long)i + 100, seq[i].finite,
                                                        "loss of task face");
        if (v != seq[i].want || g.in_row != seq[i].in_row) {
            fprintf(stderr, "step %zu: verdict %d in_row %ld, want %d %ld\n", i, v, g.in_row,
                    seq[i].want, seq[i].in_row);
            failures++;
        }
    }
    if (g.skipped != 5 || g.last_bad != 106) {
        fprintf(stderr, "skipped %ld last_bad %ld, want 5 106\n", g.skipped, g.last_bad);
        failures++;
    }
    const char *msg = ufo_last_error();
    if (!strstr(msg, "step 106: non-finite loss of task face, 3 step(s) in a row") ||
        !strstr(msg, "train.max_bad_steps = 3")) {
        fprintf(stderr, "stop message: %s\n", msg);
        failures++;
    }

    /* max 1: the first bad step stops */
    train_nanguard_init(&g, 1);
    if (train_nanguard_step(&g, 0, false, NULL) != TRAIN_STEP_STOP) {
        fprintf(stderr, "max 1 did not stop at once\n");
        failures++;
    }

    /* finiteness of arrays */
    float v[5] = {0, -1, 3.5f, 1e30f, -0.0f};
    if (!train_all_finite(v, 5)) failures++, fprintf(stderr, "finite array reported bad\n");
    v[3] = NAN;
    if (train_all_finite(v, 5)) failures++, fprintf(stderr, "NaN at 3 missed\n");
    v[3] = 1;
    v[4] = -INFINITY;
    if (train_all_finite(v, 5)) failures++, fprintf(stderr, "-Inf at 4 missed\n");
    if (!train_all_finite(v, 4)) failures++, fprintf(stderr, "n is not respected\n");
    return failures ? 1 : 0;
}
