/* The search space: defaults, validation, extreme and random architectures, counter RNG. */
#include "config.h"

#include <math.h>
#include <string.h>

#include <Random123/philox.h>

#include "model/space.h"

void ufo_space_default(struct ufo_space *space) {
    memset(space, 0, sizeof *space);
    space->embed_dim = 768;
    space->head_dim = 64;
    space->max_heads = 12;
    space->depth = 12;
    space->patch = 16;
    space->image_size = 256;
    space->mlp_ratio_max = 4.0;
    space->n_heads_choices = 3;
    space->heads_choices[0] = 10;
    space->heads_choices[1] = 11;
    space->heads_choices[2] = 12;
    space->n_mlp_choices = 3;
    space->mlp_ratio_choices[0] = 3.0;
    space->mlp_ratio_choices[1] = 3.5;
    space->mlp_ratio_choices[2] = 4.0;
    space->min_depth = 10;
    space->n_tasks = 1;
    strcpy(space->tasks[0].name, "task0");
    space->tasks[0].classes = 1000;
    space->tasks[0].cosface_scale = 30.0;
    space->tasks[0].cosface_margin = 0.25;
    space->tasks[0].loss_weight = 1.0;
}

int ufo_space_tokens(const struct ufo_space *space) {
    int grid = space->image_size / space->patch;
    return grid * grid + 1;
}

int ufo_space_hidden(const struct ufo_space *space, double mlp_ratio) {
    return (int)lround(mlp_ratio * space->embed_dim);
}

int ufo_space_task_index(const struct ufo_space *space, const char *name) {
    for (int t = 0; t < space->n_tasks; t++)
        if (strcmp(space->tasks[t].name, name) == 0)
            return t;
    return -1;
}

/* Task names become parts of tensor names, so keep them to one safe alphabet. */
static int space_name_ok(const char *name) {
    size_t n = strnlen(name, UFO_TASK_NAME_MAX);
    if (n == 0 || n == UFO_TASK_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* A ratio must give a whole number of hidden units. */
static int space_ratio_whole(const struct ufo_space *space, double ratio) {
    double hidden = ratio * space->embed_dim;
    return ratio > 0 && fabs(hidden - lround(hidden)) < 1e-9;
}

ufo_status ufo_space_validate(const struct ufo_space *s) {
    if (s->embed_dim < 1 || s->embed_dim > 65536)
        return ufo_fail(UFO_ERR_CONFIG, "space: embed_dim %d out of range 1..65536",
                        s->embed_dim);
    if (s->head_dim < 1 || s->max_heads < 1 || (long)s->head_dim * s->max_heads > 65536)
        return ufo_fail(UFO_ERR_CONFIG, "space: head_dim %d × max_heads %d out of range",
                        s->head_dim, s->max_heads);
    if (s->depth < 1 || s->depth > UFO_MAX_BLOCKS)
        return ufo_fail(UFO_ERR_CONFIG, "space: depth %d out of range 1..%d", s->depth,
                        UFO_MAX_BLOCKS);
    if (s->patch < 1 || s->image_size < s->patch || s->image_size % s->patch != 0 ||
        s->image_size > 8192)
        return ufo_fail(UFO_ERR_CONFIG,
                        "space: image_size %d is not a positive multiple of patch %d",
                        s->image_size, s->patch);
    if (!space_ratio_whole(s, s->mlp_ratio_max) || s->mlp_ratio_max > 64)
        return ufo_fail(UFO_ERR_CONFIG, "space: mlp_ratio_max %g × embed_dim %d is not whole",
                        s->mlp_ratio_max, s->embed_dim);
    if (s->min_depth < 1 || s->min_depth > s->depth)
        return ufo_fail(UFO_ERR_CONFIG, "space: min_depth %d out of range 1..%d",
                        s->min_depth, s->depth);

    if (s->n_heads_choices < 1 || s->n_heads_choices > UFO_MAX_CHOICES)
        return ufo_fail(UFO_ERR_CONFIG, "space: %d heads choices, need 1..%d",
                        s->n_heads_choices, UFO_MAX_CHOICES);
    for (int i = 0; i < s->n_heads_choices; i++) {
        int h = s->heads_choices[i];
        if (h < 1 || h > s->max_heads || (i > 0 && h <= s->heads_choices[i - 1]))
            return ufo_fail(UFO_ERR_CONFIG,
                            "space: heads choice %d (%d) must be in 1..%d and increasing", i,
                            h, s->max_heads);
    }
    if (s->heads_choices[s->n_heads_choices - 1] != s->max_heads)
        return ufo_fail(UFO_ERR_CONFIG, "space: largest heads choice %d is not max_heads %d",
                        s->heads_choices[s->n_heads_choices - 1], s->max_heads);

    if (s->n_mlp_choices < 1 || s->n_mlp_choices > UFO_MAX_CHOICES)
        return ufo_fail(UFO_ERR_CONFIG, "space: %d mlp ratio choices, need 1..%d",
                        s->n_mlp_choices, UFO_MAX_CHOICES);
    for (int i = 0; i < s->n_mlp_choices; i++) {
        double m = s->mlp_ratio_choices[i];
        if (!space_ratio_whole(s, m) || m > s->mlp_ratio_max ||
            (i > 0 && m <= s->mlp_ratio_choices[i - 1]))
            return ufo_fail(UFO_ERR_CONFIG,
                            "space: mlp ratio choice %d (%g) must give whole hidden units, be "
                            "at most %g and increase", i, m, s->mlp_ratio_max);
    }
    if (s->mlp_ratio_choices[s->n_mlp_choices - 1] != s->mlp_ratio_max)
        return ufo_fail(UFO_ERR_CONFIG, "space: largest mlp ratio %g is not mlp_ratio_max %g",
                        s->mlp_ratio_choices[s->n_mlp_choices - 1], s->mlp_ratio_max);

    if (s->n_tasks < 1 || s->n_tasks > UFO_MAX_TASKS)
        return ufo_fail(UFO_ERR_CONFIG, "space: %d tasks, need 1..%d", s->n_tasks,
                        UFO_MAX_TASKS);
    for (int t = 0; t < s->n_tasks; t++) {
        const struct ufo_task *task = &s->tasks[t];
        if (!space_name_ok(task->name))
            return ufo_fail(UFO_ERR_CONFIG,
                            "space: task %d name \"%.*s\" must be 1..%d of [A-Za-z0-9_]", t,
                            UFO_TASK_NAME_MAX, task->name, UFO_TASK_NAME_MAX - 1);
        for (int u = 0; u < t; u++)
            if (strcmp(s->tasks[u].name, task->name) == 0)
                return ufo_fail(UFO_ERR_CONFIG, "space: task name \"%s\" appears twice",
                                task->name);
        if (task->classes < 1 || task->classes > 100000000)
            return ufo_fail(UFO_ERR_CONFIG, "space: task %s classes %d out of range",
                            task->name, task->classes);
        if (!(task->cosface_scale > 0) || !isfinite(task->cosface_scale))
            return ufo_fail(UFO_ERR_CONFIG, "space: task %s cosface_scale %g must be > 0",
                            task->name, task->cosface_scale);
        if (!(task->cosface_margin >= 0 && task->cosface_margin < 2))
            return ufo_fail(UFO_ERR_CONFIG, "space: task %s cosface_margin %g not in [0, 2)",
                            task->name, task->cosface_margin);
        if (!(task->loss_weight >= 0) || !isfinite(task->loss_weight))
            return ufo_fail(UFO_ERR_CONFIG, "space: task %s loss_weight %g must be >= 0",
                            task->name, task->loss_weight);
    }
    return UFO_OK;
}

static int space_heads_index(const struct ufo_space *s, int heads) {
    for (int i = 0; i < s->n_heads_choices; i++)
        if (s->heads_choices[i] == heads)
            return i;
    return -1;
}

static int space_ratio_index(const struct ufo_space *s, double ratio) {
    for (int i = 0; i < s->n_mlp_choices; i++)
        if (fabs(s->mlp_ratio_choices[i] - ratio) < 1e-9)
            return i;
    return -1;
}

ufo_status ufo_arch_validate(const struct ufo_space *s, const struct ufo_arch *a) {
    if (a->n_blocks != s->depth)
        return ufo_fail(UFO_ERR_INVALID, "arch: %d blocks, the space has %d", a->n_blocks,
                        s->depth);
    if (a->n_tasks != s->n_tasks)
        return ufo_fail(UFO_ERR_INVALID, "arch: %d tasks, the space has %d", a->n_tasks,
                        s->n_tasks);
    for (int b = 0; b < a->n_blocks; b++) {
        const struct ufo_block_arch *blk = &a->block[b];
        if (blk->kept != 0 && blk->kept != 1)
            return ufo_fail(UFO_ERR_INVALID, "arch: block %d kept = %d, need 0 or 1", b,
                            blk->kept);
        if (!blk->kept && b < s->min_depth)
            return ufo_fail(UFO_ERR_INVALID,
                            "arch: block %d is dropped but the first %d blocks are always kept",
                            b, s->min_depth);
        if (space_heads_index(s, blk->heads) < 0)
            return ufo_fail(UFO_ERR_INVALID, "arch: block %d heads %d is not a choice of the "
                            "space", b, blk->heads);
        if (space_ratio_index(s, blk->mlp_ratio) < 0)
            return ufo_fail(UFO_ERR_INVALID, "arch: block %d mlp_ratio %g is not a choice of "
                            "the space", b, blk->mlp_ratio);
        for (int t = 0; t < a->n_tasks; t++)
            if (blk->path[t] != UFO_PATH_SHARED && blk->path[t] != UFO_PATH_TASK &&
                blk->path[t] != UFO_PATH_BOTH)
                return ufo_fail(UFO_ERR_INVALID, "arch: block %d task %s path %d unknown", b,
                                s->tasks[t].name, (int)blk->path[t]);
    }
    return UFO_OK;
}

int ufo_arch_depth(const struct ufo_arch *arch) {
    int d = 0;
    for (int b = 0; b < arch->n_blocks; b++)
        d += arch->block[b].kept != 0;
    return d;
}

/* Fill an arch with one choice everywhere. */
static void arch_fill(const struct ufo_space *s, struct ufo_arch *a, int heads, double ratio,
                      int kept_blocks, enum ufo_path path) {
    memset(a, 0, sizeof *a);
    a->n_blocks = s->depth;
    a->n_tasks = s->n_tasks;
    for (int b = 0; b < s->depth; b++) {
        a->block[b].heads = heads;
        a->block[b].mlp_ratio = ratio;
        a->block[b].kept = b < kept_blocks;
        for (int t = 0; t < s->n_tasks; t++)
            a->block[b].path[t] = path;
    }
}

void ufo_arch_largest(const struct ufo_space *s, struct ufo_arch *a) {
    arch_fill(s, a, s->max_heads, s->mlp_ratio_max, s->depth, UFO_PATH_BOTH);
}

void ufo_arch_smallest(const struct ufo_space *s, struct ufo_arch *a) {
    arch_fill(s, a, s->heads_choices[0], s->mlp_ratio_choices[0], s->min_depth,
              UFO_PATH_SHARED);
}

void ufo_philox(uint64_t seed, uint64_t step, uint32_t purpose, uint64_t index,
                uint32_t out[4]) {
    philox4x32_ctr_t ctr = {{(uint32_t)index, (uint32_t)(index >> 32), (uint32_t)step,
                             purpose}};
    philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    philox4x32_ctr_t r = philox4x32(ctr, key);
    for (int i = 0; i < 4; i++)
        out[i] = r.v[i];
}

double ufo_uniform01(uint32_t hi, uint32_t lo) {
    /* 53 bits, then shift by half a step so neither end is reachable */
    uint64_t bits = ((uint64_t)hi << 21) ^ (lo >> 11);
    bits &= (1ull << 53) - 1;
    return ((double)bits + 0.5) / 9007199254740992.0;
}

/* A uniform integer in [0, n) from one 32-bit word; the bias is below 2^-24 for n < 256. */
static int space_pick(uint32_t word, int n) {
    return (int)(((uint64_t)word * (uint64_t)n) >> 32);
}

void ufo_arch_sample(const struct ufo_space *s, uint64_t seed, uint64_t step,
                     struct ufo_arch *a) {
    memset(a, 0, sizeof *a);
    a->n_blocks = s->depth;
    a->n_tasks = s->n_tasks;

    /* the depth first, uniform over min_depth..depth: kept blocks are always a prefix, as
     * in the challenge's arch strings, so "depth d" means the first d blocks */
    uint32_t d[4];
    ufo_philox(seed, step, UFO_RNG_ARCH, (uint64_t)s->depth * 2, d);
    int depth = s->min_depth + (int)space_pick(d[0], s->depth - s->min_depth + 1);

    /* one Philox call per block: heads, ratio, and per task paths from a second call */
    for (int b = 0; b < s->depth; b++) {
        uint32_t r[4], p[4];
        ufo_philox(seed, step, UFO_RNG_ARCH, (uint64_t)b * 2, r);
        struct ufo_block_arch *blk = &a->block[b];
        blk->heads = s->heads_choices[space_pick(r[0], s->n_heads_choices)];
        blk->mlp_ratio = s->mlp_ratio_choices[space_pick(r[1], s->n_mlp_choices)];
        blk->kept = b < depth;
        for (int t = 0; t < s->n_tasks; t++) {
            if (t % 4 == 0)
                ufo_philox(seed, step, UFO_RNG_ARCH,
                           (uint64_t)b * 2 + 1 + ((uint64_t)(t / 4) << 32), p);
            blk->path[t] = (enum ufo_path)space_pick(p[t % 4], 3);
        }
    }
}

const char *ufo_path_name(enum ufo_path path) {
    switch (path) {
    case UFO_PATH_SHARED: return "shared";
    case UFO_PATH_TASK: return "task";
    case UFO_PATH_BOTH: return "both";
    }
    return "?";
}
