/* The evaluation a run configuration describes: each task's eval_datasets opened for their
 * evaluation part, and all of them scored on one architecture of the supernet (ufo-train's
 * [eval] interval and at_end, and ufo-eval --model). */
#ifndef UFO_TRAIN_TRAIN_EVAL_H
#define UFO_TRAIN_TRAIN_EVAL_H

#include <stddef.h>

#include <ufo/status.h>

#include "data/dataset.h"
#include "eval/model_eval.h"
#include "train/runlog.h"
#include "train/train_config.h"

/* The reader spec of a configured dataset for `parts` (strings point into `d`). */
void train_dataset_spec(const struct train_dataset *d, unsigned parts, struct data_spec *out);

/* One opened evaluation dataset of one task. */
struct train_eval_set {
    long task;               /* index of the task in the configuration */
    const char *task_name;   /* the configuration's */
    const char *name;        /* [dataset.NAME], or the root of an inline format:root */
    enum eval_protocol protocol;
    struct data_set data;
};

/* Open the eval_datasets of `tasks` (names; n 0: the config's eval.tasks, or when that is
 * empty every task with eval_datasets), in task order. An explicitly named task without
 * eval_datasets, or an unknown one, is an error naming it and the config. */
ufo_status train_eval_open(const struct train_config *tc, const char *const *tasks, size_t n,
                           struct train_eval_set **sets, size_t *n_sets);
void train_eval_close(struct train_eval_set *sets, size_t n_sets);

/* Score every set on `arch` (described as `arch_text` in the log) at `step`: one log line per
 * set with the headline metrics, and an "eval" record per set in `log` when not NULL. The
 * task of a set is looked up by name in the supernet's space. */
ufo_status train_eval_run(const struct train_eval_set *sets, size_t n_sets, struct vit *vit,
                          const struct ufo_arch *arch, const char *arch_text,
                          const struct eval_scorer *scorer, const struct eval_model_options *o,
                          long step, struct runlog *log);

#endif
