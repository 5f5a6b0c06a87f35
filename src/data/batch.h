/* Heterogeneous training batches: every step holds a contiguous block of samples per task,
 * drawn deterministically from (seed, step), decoded and augmented by worker threads ahead of
 * the consumer.
 * The work stays on the host: a 256 × 256 training sample from a JPEG costs about 2.9 CPU ms
 * (bench/bench_augment on a 2-core Xeon, 1.7x less than PIL + torchvision), some 350 images/s
 * per core: eight cores keep ahead of one GPU training a ViT-B in float32.
 * TODO: move the per-pixel steps (resize onward) to the device for small models on fast GPUs
 * with few host cores, where the workers would starve the training step. */
#ifndef UFO_DATA_BATCH_H
#define UFO_DATA_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ufo/status.h>

#include "data/augment.h"
#include "data/dataset.h"

/* One task's share of each batch. Its training items are the DATA_TRAIN items with a label
 * of all `sets`, labels and cameras renumbered contiguously across the sets. */
struct data_task {
    const char *name;
    const struct data_set *const *sets;
    size_t n_sets;
    int batch;                 /* samples per step; 0: a share of the total by dataset size */
    bool retrieval;            /* P identities × K images; otherwise uniform draws */
    int k;                     /* images per identity; 0 means 4 */
    struct data_transform transform;  /* its width/height must be the batcher's */
};

struct data_batcher_config {
    const struct data_task *tasks;
    int n_tasks;
    int total_batch;           /* split over the tasks whose batch is 0 */
    int width, height;         /* network input */
    uint64_t seed;
    uint64_t start_step;       /* the first batch returned (a resumed run passes its step) */
    int workers;               /* decoding threads; 0: one per core */
    bool synchronous;          /* no threads: build each batch when asked (tests, debugging) */
    int depth;                 /* finished batches kept ready; 0 means 2 */
};

struct data_batch {
    uint64_t step;
    int size, height, width;
    float *images;             /* size × 3 × height × width, values in [-1, 1] */
    int32_t *labels;           /* label within the sample's task */
    int32_t *cameras;          /* camera within the task, -1 when its dataset has none */
    uint32_t *items;           /* index of the sample in its task's training items */
    int n_tasks;
    int *task_start, *task_size;  /* samples of task t: [task_start[t], + task_size[t]) */
};

struct data_batcher;

/* Index the tasks' items, size each task's share and start the workers. Fails with
 * UFO_ERR_CONFIG naming the task when a task has no usable items or the sizes do not add up. */
ufo_status data_batcher_new(const struct data_batcher_config *cfg, struct data_batcher **out);

/* The next batch in step order. It stays valid until the next call or data_batcher_free.
 * Undecodable images were replaced (identity sampling: by another image of the identity, or
 * of another identity when it has none); a failure here is fatal (the task has nearly nothing
 * decodable, or out of memory). */
ufo_status data_batcher_next(struct data_batcher *b, const struct data_batch **out);

/* Samples per step and number of classes (identities) of task `t`. */
int data_batcher_task_size(const struct data_batcher *b, int t);
int32_t data_batcher_task_classes(const struct data_batcher *b, int t);
size_t data_batcher_task_items(const struct data_batcher *b, int t);

/* Undecodable files found so far in task `t` (each counted once, including those met while
 * building batches ahead of the consumer) and how many samples were given a replacement. */
void data_batcher_skipped(struct data_batcher *b, int t, size_t *bad_files, size_t *replaced);

/* Stop the workers and free everything. */
void data_batcher_free(struct data_batcher *b);

/* Split `total` over tasks in proportion to `counts` (largest remainders, at least one each). */
ufo_status data_split_batch(int total, const size_t *counts, int n, int *sizes);

#endif
