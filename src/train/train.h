/* The training job behind ufo-train: heterogeneous batches -> architecture of the step ->
 * forward, losses, backward -> per-tensor clip and SGD -> schedule; checkpoints, logs, resume. */
#ifndef UFO_TRAIN_TRAIN_H
#define UFO_TRAIN_TRAIN_H

#include <stdbool.h>

#include <ufo/status.h>

#include "train/train_config.h"

struct train_request {
    const char *device;       /* overrides device.spec when not NULL */
    bool resume;              /* continue from the newest checkpoint in the run folder */
    long stop_after;          /* tests: stop (with a checkpoint) after this many steps; 0: off */
};

/* Run the whole job. The run folder receives config.ini (the effective configuration),
 * train.jsonl and the checkpoints. Returns UFO_ERR_INTERRUPTED after a SIGINT/SIGTERM (with a
 * checkpoint written) and UFO_ERR_NUMERIC when too many steps in a row were not finite. */
ufo_status train_run(const struct train_config *tc, const struct train_request *req);

#endif
