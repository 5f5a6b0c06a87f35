/* Checkpoint files in a run folder: their names (ckpt-00001000.safetensors, the step with at
 * least 8 digits), finding the newest for --resume, and keeping only the newest N. The contents
 * are the model's business; these functions only look at names. */
#ifndef UFO_TRAIN_CKPT_FILES_H
#define UFO_TRAIN_CKPT_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include <ufo/status.h>

/* "ckpt-%08ld.safetensors" into buf; the length it needs, as snprintf. */
int train_ckpt_name(char *buf, size_t size, long step);

/* "<run_dir>/ckpt-%08ld.safetensors" as a new string (free() it), or NULL without memory. */
char *train_ckpt_path(const char *run_dir, long step);

/* Whether `name` is exactly a name train_ckpt_name() makes; its step in *step. Temporary files
 * of an interrupted write ("….safetensors.tmp.123.4") are not checkpoints. */
bool train_ckpt_parse_name(const char *name, long *step);

/* Steps of every checkpoint in `run_dir`, ascending (free() *steps). A missing folder is an
 * I/O error naming it. */
ufo_status train_ckpt_list(const char *run_dir, long **steps, size_t *n);

/* The newest checkpoint: *step and *path (free() it), or *step = -1 and *path = NULL when the
 * folder holds none. */
ufo_status train_ckpt_latest(const char *run_dir, long *step, char **path);

/* Remove every checkpoint but the `keep` newest (keep 0: remove none) and temporary files left
 * by interrupted checkpoint writes; *removed (may be NULL) counts the files removed. */
ufo_status train_ckpt_rotate(const char *run_dir, long keep, size_t *removed);

#endif
