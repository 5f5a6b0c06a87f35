/* Heterogeneous batches. A step's content is a pure function of (seed, step): the plan (which
 * items) comes from the sampler stream of each task, each sample's augmentation from its own
 * streams, and an undecodable item is replaced by draws from the sample's replacement stream
 * (which of them is taken depends only on which files are bad, not on who found out first).
 * So worker threads may build samples in any order and a resumed run sees the same batches. */
#include "config.h"

#include "data/batch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "data/image.h"
#include "data/rng.h"

/* Replacement draws (identities, for identity sampling) tried for one sample before the batch
 * fails: only a task with nearly nothing decodable gets there (with 90% bad, 0.9^64 ≈ 0.1%). */
#define DATA_MAX_REPLACE 64

/* One training item of a task, with its task-wide label and camera. */
struct data_ref {
    const struct data_set *ds;
    const struct data_item *item;
    int32_t label, camera;
};

struct data_task_state {
    const char *name;
    struct data_transform transform;
    bool retrieval;
    int k, batch, start;
    struct data_ref *refs;
    size_t n;
    int32_t n_classes;
    uint32_t *by_label;        /* item indices grouped by label */
    size_t *label_start;       /* n_classes + 1 offsets into by_label */
    atomic_uchar *bad;         /* per item: found undecodable */
    atomic_uchar *dead;        /* per identity: every image found undecodable */
    size_t bad_files, replaced;  /* under the batcher's lock */
};

/* A batch being built or waiting for the consumer. */
struct data_slot {
    struct data_batch batch;
    uint64_t step;             /* UINT64_MAX when never planned */
    uint32_t *plan;            /* item index per sample */
    int claimed, done;
    ufo_status status;
    char error[512];
};

struct data_batcher {
    struct data_task_state *tasks;
    int n_tasks, size, width, height;
    uint64_t seed;
    int *sample_task;          /* task of each sample position */
    uint32_t *scratch;         /* the planner's chosen identities */

    struct data_slot *slots;
    int n_slots;
    uint64_t released;         /* steps before this are consumed; this one may be lent out */
    uint64_t fill;             /* the step workers are claiming samples of */
    bool lent, stop;
    pthread_mutex_t lock;
    pthread_cond_t work, ready;
    pthread_t *threads;
    int n_threads;
    struct data_decoder *dec;  /* synchronous mode */
};

ufo_status data_split_batch(int total, const size_t *counts, int n, int *sizes) {
    if (n <= 0)
        return UFO_OK;
    if (total < n)
        return ufo_fail(UFO_ERR_CONFIG, "batch: total %d is smaller than the %d tasks sharing it",
                        total, n);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)counts[i];
    int given = 0;
    double *rem = malloc(sizeof(double) * n);
    if (!rem)
        return ufo_fail(UFO_ERR_NOMEM, "batch: out of memory");
    for (int i = 0; i < n; i++) {
        double exact = sum > 0 ? total * (double)counts[i] / sum : (double)total / n;
        sizes[i] = (int)exact;
        rem[i] = exact - sizes[i];
        if (sizes[i] < 1) {
            sizes[i] = 1;
            rem[i] = -1;
        }
        given += sizes[i];
    }

    /* hand out what is left by largest remainder, or take back from the largest shares */
    while (given < total) {
        int best = 0;
        for (int i = 1; i < n; i++)
            best = rem[i] > rem[best] ? i : best;
        sizes[best]++;
        rem[best] = -2;
        given++;
    }
    while (given > total) {
        int best = 0;
        for (int i = 1; i < n; i++)
            best = sizes[i] > sizes[best] ? i : best;
        sizes[best]--;
        given--;
    }
    free(rem);
    return UFO_OK;
}

/* Collect a task's training items, renumber labels densely (in set order, then label order)
 * and cameras by offset, and group the items by label. */
static ufo_status data_task_index(struct data_task_state *ts, const struct data_task *spec) {
    size_t total = 0;
    for (size_t s = 0; s < spec->n_sets; s++)
        total += spec->sets[s]->count;
    ts->refs = malloc(sizeof *ts->refs * (total ? total : 1));
    if (!ts->refs)
        return ufo_fail(UFO_ERR_NOMEM, "task %s: out of memory", ts->name);

    int32_t label_base = 0, camera_base = 0;
    for (size_t s = 0; s < spec->n_sets; s++) {
        const struct data_set *ds = spec->sets[s];
        int32_t max_label = -1, max_camera = -1;
        for (size_t i = 0; i < ds->count; i++) {
            const struct data_item *it = &ds->items[i];
            max_camera = it->camera > max_camera ? it->camera : max_camera;
            if (it->split == DATA_TRAIN && it->label > max_label)
                max_label = it->label;
        }
        int32_t *dense = malloc(sizeof(int32_t) * (size_t)(max_label + 1 > 0 ? max_label + 1 : 1));
        if (!dense)
            return ufo_fail(UFO_ERR_NOMEM, "task %s: out of memory", ts->name);
        for (int32_t l = 0; l <= max_label; l++)
            dense[l] = -1;
        for (size_t i = 0; i < ds->count; i++) {
            const struct data_item *it = &ds->items[i];
            if (it->split == DATA_TRAIN && it->label >= 0)
                dense[it->label] = 0;
        }
        for (int32_t l = 0; l <= max_label; l++)
            if (dense[l] == 0)
                dense[l] = label_base++;
        for (size_t i = 0; i < ds->count; i++) {
            const struct data_item *it = &ds->items[i];
            if (it->split != DATA_TRAIN || it->label < 0)
                continue;
            ts->refs[ts->n++] = (struct data_ref){
                ds, it, dense[it->label], it->camera >= 0 ? camera_base + it->camera : -1};
        }
        free(dense);
        camera_base += max_camera + 1;
    }
    ts->n_classes = label_base;
    if (ts->n == 0)
        return ufo_fail(UFO_ERR_CONFIG,
                        "task %s: no labelled training images in its %zu dataset(s)", ts->name,
                        spec->n_sets);
    if (ts->n > UINT32_MAX)
        return ufo_fail(UFO_ERR_UNSUPPORTED, "task %s: more than 2^32 items", ts->name);

    /* group by label (counting sort) */
    ts->label_start = calloc((size_t)ts->n_classes + 1, sizeof(size_t));
    ts->by_label = malloc(sizeof(uint32_t) * ts->n);
    ts->bad = calloc(ts->n, sizeof(atomic_uchar));
    ts->dead = calloc((size_t)ts->n_classes, sizeof(atomic_uchar));
    if (!ts->label_start || !ts->by_label || !ts->bad || !ts->dead)
        return ufo_fail(UFO_ERR_NOMEM, "task %s: out of memory", ts->name);
    for (size_t i = 0; i < ts->n; i++)
        ts->label_start[ts->refs[i].label + 1]++;
    for (int32_t l = 0; l < ts->n_classes; l++)
        ts->label_start[l + 1] += ts->label_start[l];
    size_t *fill = malloc(sizeof(size_t) * ((size_t)ts->n_classes + 1));
    if (!fill)
        return ufo_fail(UFO_ERR_NOMEM, "task %s: out of memory", ts->name);
    memcpy(fill, ts->label_start, sizeof(size_t) * ((size_t)ts->n_classes + 1));
    for (size_t i = 0; i < ts->n; i++)
        ts->by_label[fill[ts->refs[i].label]++] = (uint32_t)i;
    free(fill);
    return UFO_OK;
}

/* Which items task `ts` contributes at `step`, written to plan[0 .. ts->batch). Retrieval
 * tasks take P = ceil(batch / K) distinct identities (fewer if the task has fewer) and K images
 * of each, distinct while the identity has enough; the last identity may get fewer. */
static void data_plan_task(struct data_batcher *b, int t, uint64_t step, uint32_t *plan) {
    struct data_task_state *ts = &b->tasks[t];
    struct data_rng rng;
    data_rng_init(&rng, b->seed, step, (uint32_t)t, DATA_RNG_SAMPLER);
    if (!ts->retrieval) {
        for (int i = 0; i < ts->batch; i++)
            plan[i] = data_rng_below(&rng, (uint32_t)ts->n);
        return;
    }
    int p = (ts->batch + ts->k - 1) / ts->k;
    p = p > ts->n_classes ? ts->n_classes : p;
    int per = (ts->batch + p - 1) / p;
    uint32_t *ids = b->scratch;
    for (int i = 0; i < p; i++) {
        uint32_t c;
        int again;
        do {
            c = data_rng_below(&rng, (uint32_t)ts->n_classes);
            again = 0;
            for (int j = 0; j < i && !again; j++)
                again = ids[j] == c;
        } while (again);
        ids[i] = c;
    }
    int filled = 0;
    for (int i = 0; i < p && filled < ts->batch; i++) {
        size_t first = ts->label_start[ids[i]];
        uint32_t count = (uint32_t)(ts->label_start[ids[i] + 1] - first);
        int q = ts->batch - filled < per ? ts->batch - filled : per;
        for (int j = 0; j < q; j++) {
            uint32_t item;
            int again;
            do {
                item = ts->by_label[first + data_rng_below(&rng, count)];
                again = 0;
                for (int m = 0; count >= (uint32_t)q && m < j && !again; m++)
                    again = plan[filled + m] == item;
            } while (again);
            plan[filled + j] = item;
        }
        filled += q;
    }
}

static void data_plan(struct data_batcher *b, uint64_t step, uint32_t *plan) {
    for (int t = 0; t < b->n_tasks; t++)
        data_plan_task(b, t, step, plan + b->tasks[t].start);
}

/* Decode item `item` of the task into img unless it is known or found undecodable; 1 when it
 * decoded, 0 when it is bad, -1 with *st set on another failure (out of memory). The first
 * thread to find a file bad warns and counts it; which thread that is does not matter, since
 * the answer for a file is the same whoever asks. */
static int data_try_item(struct data_batcher *b, struct data_decoder *dec,
                         struct data_task_state *ts, uint32_t item, struct data_image *img,
                         ufo_status *st) {
    if (atomic_load_explicit(&ts->bad[item], memory_order_relaxed))
        return 0;
    const struct data_ref *r = &ts->refs[item];
    *st = data_decode_item(dec, r->ds, r->item, b->width, b->height, img);
    if (*st == UFO_OK)
        return 1;
    if (*st != UFO_ERR_FORMAT && *st != UFO_ERR_IO)
        return -1;
    *st = UFO_OK;
    pthread_mutex_lock(&b->lock);
    if (!atomic_exchange(&ts->bad[item], 1)) {
        ts->bad_files++;
        log_warn("task %s: skipping an undecodable image: %s", ts->name, ufo_last_error());
    }
    pthread_mutex_unlock(&b->lock);
    return 0;
}

/* Walk identity `label` from a drawn start until an image decodes (1, its index in *item), or
 * every one is bad (0: the identity is then marked dead, with a warning the first time). The
 * start is drawn even for an identity already known dead, so the stream stays in step with a
 * run that has not found out yet. */
static int data_walk_identity(struct data_batcher *b, struct data_decoder *dec,
                              struct data_task_state *ts, int32_t label, struct data_rng *rng,
                              uint32_t *item, struct data_image *img, size_t *tried,
                              ufo_status *st) {
    size_t first = ts->label_start[label];
    uint32_t count = (uint32_t)(ts->label_start[label + 1] - first);
    uint32_t start = data_rng_below(rng, count);
    if (atomic_load_explicit(&ts->dead[label], memory_order_relaxed)) {
        *tried += count;
        return 0;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint32_t cand = ts->by_label[first + (start + i) % count];
        (*tried)++;
        int ok = data_try_item(b, dec, ts, cand, img, st);
        if (ok) {
            *item = cand;
            return ok;
        }
    }
    pthread_mutex_lock(&b->lock);
    if (!atomic_exchange(&ts->dead[label], 1)) {
        const struct data_ref *r = &ts->refs[ts->by_label[first]];
        log_warn("task %s: identity %d (dataset %s, %u images, the first %s) has no decodable "
                 "image; its samples now come from other identities",
                 ts->name, label, r->ds->name ? r->ds->name : r->ds->format, count,
                 r->item->path ? r->item->path : "in memory");
    }
    pthread_mutex_unlock(&b->lock);
    return 0;
}

/* Build sample j of `slot`: decode, replace while undecodable, augment. A retrieval sample is
 * replaced within its identity first (so P × K stays intact), then from other identities drawn
 * at random; a uniform sample by a draw over all items. Which replacement is taken depends only
 * on (seed, step, sample) and on which files are bad, never on what other threads found first:
 * knowing a file or identity is bad only saves decoding it again. */
static ufo_status data_make_sample(struct data_batcher *b, struct data_decoder *dec,
                                   struct data_slot *slot, int j) {
    int t = b->sample_task[j];
    struct data_task_state *ts = &b->tasks[t];
    struct data_batch *batch = &slot->batch;
    uint32_t item = slot->plan[j];
    struct data_rng rng;
    data_rng_init(&rng, b->seed, slot->step, (uint32_t)j, DATA_RNG_REPLACE);
    struct data_image img = {0};
    ufo_status st = UFO_OK;
    int ok = data_try_item(b, dec, ts, item, &img, &st);
    bool replace = ok == 0;
    size_t tried = ts->retrieval ? 0 : 1;  /* the identity walk visits the planned one again */
    int32_t label = ts->refs[item].label;
    for (int attempt = 0; ok == 0 && attempt < DATA_MAX_REPLACE; attempt++) {
        if (ts->retrieval) {
            if (attempt > 0)
                label = (int32_t)data_rng_below(&rng, (uint32_t)ts->n_classes);
            ok = data_walk_identity(b, dec, ts, label, &rng, &item, &img, &tried, &st);
        } else {
            item = data_rng_below(&rng, (uint32_t)ts->n);
            tried++;
            ok = data_try_item(b, dec, ts, item, &img, &st);
        }
    }
    if (ok < 0)
        return st;
    if (replace) {
        pthread_mutex_lock(&b->lock);
        ts->replaced++;
        pthread_mutex_unlock(&b->lock);
    }
    if (ok == 0) {
        const struct data_ref *r = &ts->refs[item];
        char where[160];
        if (ts->retrieval)
            snprintf(where, sizeof where, "%d identities drawn in a row (%zu images tried, of "
                     "%d identities)", DATA_MAX_REPLACE, tried, ts->n_classes);
        else
            snprintf(where, sizeof where, "%zu draws in a row (of %zu training images)", tried,
                     ts->n);
        return ufo_fail(UFO_ERR_FORMAT,
                        "task %s: sample %d of step %llu: no decodable image in %s; last: %s in "
                        "dataset %s, %s. Is that the right root?",
                        ts->name, j, (unsigned long long)slot->step, where,
                        r->item->path ? r->item->path : "an in-memory item",
                        r->ds->name ? r->ds->name : r->ds->format,
                        r->ds->root ? r->ds->root : "no root");
    }

    const struct data_ref *r = &ts->refs[item];
    size_t chw = (size_t)3 * b->width * b->height;
    st = data_transform_train(&ts->transform, &img, b->seed, slot->step, (uint32_t)j,
                              batch->images + chw * j);
    data_image_free(&img);
    batch->labels[j] = r->label;
    batch->cameras[j] = r->camera;
    batch->items[j] = item;
    return st;
}

static void data_slot_begin(struct data_batcher *b, struct data_slot *slot, uint64_t step) {
    slot->step = step;
    slot->batch.step = step;
    slot->claimed = slot->done = 0;
    slot->status = UFO_OK;
    slot->error[0] = 0;
    data_plan(b, step, slot->plan);
}

/* Worker: claim the next sample of the oldest unfinished step that has a free slot. */
static void *data_worker(void *arg) {
    struct data_batcher *b = arg;
    struct data_decoder *dec = NULL;
    ufo_status init = data_decoder_new(&dec);
    pthread_mutex_lock(&b->lock);
    while (!b->stop) {
        if (b->fill >= b->released + (uint64_t)b->n_slots) {
            pthread_cond_wait(&b->work, &b->lock);
            continue;
        }
        struct data_slot *slot = &b->slots[b->fill % (uint64_t)b->n_slots];
        if (slot->step != b->fill)
            data_slot_begin(b, slot, b->fill);
        int j = slot->claimed++;
        if (slot->claimed == b->size)
            b->fill++;
        pthread_mutex_unlock(&b->lock);

        ufo_status st = init ? init : data_make_sample(b, dec, slot, j);
        const char *msg = st ? ufo_last_error() : "";

        pthread_mutex_lock(&b->lock);
        if (st && !slot->status) {
            slot->status = st;
            snprintf(slot->error, sizeof slot->error, "%s", msg);
        }
        if (++slot->done == b->size)
            pthread_cond_broadcast(&b->ready);
    }
    pthread_mutex_unlock(&b->lock);
    data_decoder_free(dec);
    return NULL;
}

static ufo_status data_batch_alloc(struct data_batcher *b, struct data_batch *batch) {
    size_t chw = (size_t)3 * b->width * b->height;
    batch->size = b->size;
    batch->width = b->width;
    batch->height = b->height;
    batch->n_tasks = b->n_tasks;
    batch->images = malloc(sizeof(float) * chw * b->size);
    batch->labels = malloc(sizeof(int32_t) * b->size);
    batch->cameras = malloc(sizeof(int32_t) * b->size);
    batch->items = malloc(sizeof(uint32_t) * b->size);
    batch->task_start = malloc(sizeof(int) * b->n_tasks);
    batch->task_size = malloc(sizeof(int) * b->n_tasks);
    if (!batch->images || !batch->labels || !batch->cameras || !batch->items ||
        !batch->task_start || !batch->task_size)
        return ufo_fail(UFO_ERR_NOMEM, "batch: out of memory for %d samples of %dx%d", b->size,
                        b->width, b->height);
    for (int t = 0; t < b->n_tasks; t++) {
        batch->task_start[t] = b->tasks[t].start;
        batch->task_size[t] = b->tasks[t].batch;
    }
    return UFO_OK;
}

/* Check the configuration and size every task's share. */
static ufo_status data_batcher_setup(struct data_batcher *b, const struct data_batcher_config *c) {
    if (c->n_tasks <= 0 || c->width <= 0 || c->height <= 0)
        return ufo_fail(UFO_ERR_CONFIG, "batch: need at least one task and a positive input "
                                        "size (got %d tasks, %dx%d)",
                        c->n_tasks, c->width, c->height);
    b->n_tasks = c->n_tasks;
    b->width = c->width;
    b->height = c->height;
    b->seed = c->seed;
    b->tasks = calloc((size_t)c->n_tasks, sizeof *b->tasks);
    if (!b->tasks)
        return ufo_fail(UFO_ERR_NOMEM, "batch: out of memory");
    int given = 0, n_shared = 0;
    for (int t = 0; t < c->n_tasks; t++) {
        const struct data_task *spec = &c->tasks[t];
        struct data_task_state *ts = &b->tasks[t];
        ts->name = spec->name ? spec->name : "unnamed";
        ts->transform = spec->transform;
        ts->retrieval = spec->retrieval;
        ts->k = spec->k > 0 ? spec->k : 4;
        ts->batch = spec->batch;
        if (spec->batch < 0)
            return ufo_fail(UFO_ERR_CONFIG, "task %s: batch %d is negative", ts->name,
                            spec->batch);
        if (spec->transform.width != c->width || spec->transform.height != c->height)
            return ufo_fail(UFO_ERR_CONFIG, "task %s: transform size %dx%d is not the input "
                                            "size %dx%d",
                            ts->name, spec->transform.width, spec->transform.height, c->width,
                            c->height);
        ufo_status st = data_task_index(ts, spec);
        if (st)
            return st;
        given += spec->batch;
        n_shared += spec->batch == 0;
    }

    /* the tasks without a size share what the total leaves */
    if (n_shared) {
        size_t *counts = malloc(sizeof(size_t) * n_shared);
        int *sizes = malloc(sizeof(int) * n_shared);
        if (!counts || !sizes) {
            free(counts);
            free(sizes);
            return ufo_fail(UFO_ERR_NOMEM, "batch: out of memory");
        }
        for (int t = 0, i = 0; t < c->n_tasks; t++)
            if (b->tasks[t].batch == 0)
                counts[i++] = b->tasks[t].n;
        ufo_status st = data_split_batch(c->total_batch - given, counts, n_shared, sizes);
        for (int t = 0, i = 0; !st && t < c->n_tasks; t++)
            if (b->tasks[t].batch == 0)
                b->tasks[t].batch = sizes[i++];
        free(counts);
        free(sizes);
        if (st)
            return ufo_fail(st, "batch: total_batch %d leaves %d samples for %d tasks without "
                                "a batch size",
                            c->total_batch, c->total_batch - given, n_shared);
    }
    for (int t = 0; t < c->n_tasks; t++) {
        b->tasks[t].start = b->size;
        b->size += b->tasks[t].batch;
    }
    if (b->size <= 0)
        return ufo_fail(UFO_ERR_CONFIG, "batch: every task has batch size 0");
    b->sample_task = malloc(sizeof(int) * b->size);
    b->scratch = malloc(sizeof(uint32_t) * b->size);
    if (!b->sample_task || !b->scratch)
        return ufo_fail(UFO_ERR_NOMEM, "batch: out of memory");
    for (int t = 0; t < c->n_tasks; t++)
        for (int i = 0; i < b->tasks[t].batch; i++)
            b->sample_task[b->tasks[t].start + i] = t;
    return UFO_OK;
}

ufo_status data_batcher_new(const struct data_batcher_config *c, struct data_batcher **out) {
    *out = NULL;
    struct data_batcher *b = calloc(1, sizeof *b);
    if (!b)
        return ufo_fail(UFO_ERR_NOMEM, "batch: out of memory");
    pthread_mutex_init(&b->lock, NULL);
    pthread_cond_init(&b->work, NULL);
    pthread_cond_init(&b->ready, NULL);
    ufo_status st = data_batcher_setup(b, c);

    /* one slot lent to the consumer plus `depth` being filled */
    b->n_slots = c->synchronous ? 1 : (c->depth > 0 ? c->depth : 2) + 1;
    b->released = b->fill = c->start_step;
    if (!st) {
        b->slots = calloc((size_t)b->n_slots, sizeof *b->slots);
        if (!b->slots)
            st = ufo_fail(UFO_ERR_NOMEM, "batch: out of memory");
    }
    for (int s = 0; !st && s < b->n_slots; s++) {
        b->slots[s].step = UINT64_MAX;
        b->slots[s].plan = malloc(sizeof(uint32_t) * b->size);
        st = b->slots[s].plan ? data_batch_alloc(b, &b->slots[s].batch)
                              : ufo_fail(UFO_ERR_NOMEM, "batch: out of memory");
    }
    if (!st && c->synchronous)
        st = data_decoder_new(&b->dec);
    if (!st && !c->synchronous) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        int n = c->workers > 0 ? c->workers : (int)(cores > 0 ? cores : 1);
        b->threads = malloc(sizeof(pthread_t) * n);
        if (!b->threads)
            st = ufo_fail(UFO_ERR_NOMEM, "batch: out of memory");
        for (int i = 0; !st && i < n; i++) {
            if (pthread_create(&b->threads[i], NULL, data_worker, b) != 0)
                st = ufo_fail(UFO_ERR_NOMEM, "batch: cannot start worker thread %d", i);
            else
                b->n_threads++;
        }
    }
    if (st) {
        data_batcher_free(b);
        return st;
    }
    for (int t = 0; t < b->n_tasks; t++)
        log_info("task %s: %zu training images, %d classes, %d per batch%s", b->tasks[t].name,
                 b->tasks[t].n, b->tasks[t].n_classes, b->tasks[t].batch,
                 b->tasks[t].retrieval ? " (identity sampling)" : "");
    *out = b;
    return UFO_OK;
}

ufo_status data_batcher_next(struct data_batcher *b, const struct data_batch **out) {
    *out = NULL;
    if (b->dec) {
        struct data_slot *slot = &b->slots[0];
        data_slot_begin(b, slot, b->released++);
        for (int j = 0; j < b->size; j++) {
            ufo_status st = data_make_sample(b, b->dec, slot, j);
            if (st)
                return st;
        }
        *out = &slot->batch;
        return UFO_OK;
    }

    pthread_mutex_lock(&b->lock);
    if (b->lent) {
        b->released++;
        b->lent = false;
        pthread_cond_broadcast(&b->work);
    }
    struct data_slot *slot = &b->slots[b->released % (uint64_t)b->n_slots];
    while (!(slot->step == b->released && slot->done == b->size))
        pthread_cond_wait(&b->ready, &b->lock);
    ufo_status st = slot->status;
    char error[512];
    memcpy(error, slot->error, sizeof error);
    b->lent = true;
    pthread_mutex_unlock(&b->lock);
    if (st)
        return ufo_fail(st, "%s", error);
    *out = &slot->batch;
    return UFO_OK;
}

int data_batcher_task_size(const struct data_batcher *b, int t) {
    return b->tasks[t].batch;
}

int32_t data_batcher_task_classes(const struct data_batcher *b, int t) {
    return b->tasks[t].n_classes;
}

size_t data_batcher_task_items(const struct data_batcher *b, int t) {
    return b->tasks[t].n;
}

void data_batcher_skipped(struct data_batcher *b, int t, size_t *bad_files, size_t *replaced) {
    pthread_mutex_lock(&b->lock);
    *bad_files = b->tasks[t].bad_files;
    *replaced = b->tasks[t].replaced;
    pthread_mutex_unlock(&b->lock);
}

void data_batcher_free(struct data_batcher *b) {
    if (!b)
        return;
    pthread_mutex_lock(&b->lock);
    b->stop = true;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->lock);
    for (int i = 0; i < b->n_threads; i++)
        pthread_join(b->threads[i], NULL);
    free(b->threads);
    data_decoder_free(b->dec);
    for (int s = 0; b->slots && s < b->n_slots; s++) {
        struct data_batch *batch = &b->slots[s].batch;
        free(b->slots[s].plan);
        free(batch->images);
        free(batch->labels);
        free(batch->cameras);
        free(batch->items);
        free(batch->task_start);
        free(batch->task_size);
    }
    free(b->slots);
    for (int t = 0; b->tasks && t < b->n_tasks; t++) {
        struct data_task_state *ts = &b->tasks[t];
        if (ts->bad_files)
            log_info("task %s: %zu undecodable images found and skipped, %zu samples replaced",
                     ts->name, ts->bad_files, ts->replaced);
        free(ts->refs);
        free(ts->by_label);
        free(ts->label_start);
        free(ts->bad);
        free(ts->dead);
    }
    free(b->tasks);
    free(b->sample_task);
    free(b->scratch);
    pthread_mutex_destroy(&b->lock);
    pthread_cond_destroy(&b->work);
    pthread_cond_destroy(&b->ready);
    free(b);
}
