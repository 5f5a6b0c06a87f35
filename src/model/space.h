/* The search space of the elastic multi-task ViT supernet, its architectures (one choice per
 * block), validation, sampling, and the text forms (JSON and the CVPR 2022 track 2 string). */
#ifndef UFO_MODEL_SPACE_H
#define UFO_MODEL_SPACE_H

#include <stdint.h>

#include <ufo/status.h>

#define UFO_MAX_BLOCKS 32
#define UFO_MAX_TASKS 8
#define UFO_MAX_CHOICES 8
#define UFO_TASK_NAME_MAX 32

/* One task: its head and loss settings. The name appears in tensor names and in JSON. */
struct ufo_task {
    char name[UFO_TASK_NAME_MAX]; /* [A-Za-z0-9_], not empty */
    int classes;                  /* CosFace classes (identities) */
    int triplet;                  /* retrieval task: add the batch-hard soft-margin triplet loss */
    double cosface_scale;         /* s */
    double cosface_margin;        /* m, subtracted from the target cosine */
    double loss_weight;           /* weight of this task's losses in the total */
};

/* The supernet's shape and the per-block choices. Heads and expansions are listed in
 * increasing order; the largest of each must equal max_heads and mlp_ratio_max. */
struct ufo_space {
    int embed_dim;     /* C */
    int head_dim;      /* width of one attention head */
    int max_heads;     /* qkv has 3 · max_heads · head_dim rows */
    int depth;         /* blocks of the supernet */
    int patch;         /* patch side p */
    int image_size;    /* input side; (image_size / patch)^2 patches + 1 cls token */
    double mlp_ratio_max;
    int n_heads_choices;
    int heads_choices[UFO_MAX_CHOICES];
    int n_mlp_choices;
    double mlp_ratio_choices[UFO_MAX_CHOICES];
    int min_depth;     /* the first min_depth blocks are always kept */
    int n_tasks;
    struct ufo_task tasks[UFO_MAX_TASKS];
};

/* FFN paths of one task in one block (evaluation and extracted models; training gates both). */
enum ufo_path { UFO_PATH_SHARED = 0, UFO_PATH_TASK = 1, UFO_PATH_BOTH = 2 };

struct ufo_block_arch {
    int heads;        /* uses heads 0..heads-1 */
    double mlp_ratio; /* uses hidden units 0..mlp_ratio·C-1 */
    int kept;         /* 0: the block is skipped entirely */
    enum ufo_path path[UFO_MAX_TASKS];
};

/* One architecture of a space: a choice per block of the supernet (depth blocks). */
struct ufo_arch {
    int n_blocks; /* = space depth */
    int n_tasks;  /* = space n_tasks */
    struct ufo_block_arch block[UFO_MAX_BLOCKS];
};

/* ViT-B defaults: C 768, head width 64, 12 heads, 12 blocks, patch 16, 256×256 input,
 * expansion up to 4, heads {10, 11, 12}, expansion {3, 3.5, 4}, first 10 blocks kept, and
 * one task "task0" (1000 classes, CosFace s 30 m 0.25, weight 1). */
void ufo_space_default(struct ufo_space *space);

/* Check every field; the message names the first bad one and its value. */
ufo_status ufo_space_validate(const struct ufo_space *space);

/* Tokens per image: patches + 1 (cls). */
int ufo_space_tokens(const struct ufo_space *space);

/* FFN hidden width of an expansion ratio (ratio · C, which validation requires be whole). */
int ufo_space_hidden(const struct ufo_space *space, double mlp_ratio);

/* Index of a task by name, or -1. */
int ufo_space_task_index(const struct ufo_space *space, const char *name);

/* Check an architecture against its space: block and task counts, heads and ratio among
 * the choices, the first min_depth blocks kept. */
ufo_status ufo_arch_validate(const struct ufo_space *space, const struct ufo_arch *arch);

/* Number of kept blocks. */
int ufo_arch_depth(const struct ufo_arch *arch);

/* Largest: every block kept, most heads, widest FFN, both paths. Smallest: only the first
 * min_depth blocks, fewest heads, narrowest FFN, shared path only. */
void ufo_arch_largest(const struct ufo_space *space, struct ufo_arch *arch);
void ufo_arch_smallest(const struct ufo_space *space, struct ufo_arch *arch);

/* A uniform draw: the depth uniform over min_depth..depth (the first `depth` blocks kept),
 * per block heads, ratio and path (per task) uniform over their choices. The draws come from
 * Philox keyed by (seed, step, UFO_RNG_ARCH), so the same arguments give the same arch. */
void ufo_arch_sample(const struct ufo_space *space, uint64_t seed, uint64_t step,
                     struct ufo_arch *arch);

/* Purposes of random streams (the last word of the Philox counter). */
enum ufo_rng_purpose {
    UFO_RNG_INIT = 1,    /* parameter initialisation */
    UFO_RNG_ARCH = 2,    /* architecture sampling */
    UFO_RNG_GUMBEL = 3,  /* gate noise */
    UFO_RNG_DROPPATH = 4,
    UFO_RNG_DATA = 5,
};

/* 4 random 32-bit words of Philox4x32-10 with key (seed low, seed high) and counter
 * (index low, index high, step, purpose). */
void ufo_philox(uint64_t seed, uint64_t step, uint32_t purpose, uint64_t index,
                uint32_t out[4]);

/* A uniform double in (0, 1) from one 32-bit word pair (never 0 or 1). */
double ufo_uniform01(uint32_t hi, uint32_t lo);

/* Path names "shared", "task", "both". */
const char *ufo_path_name(enum ufo_path path);

/* JSON text forms (jansson). The arch JSON is
 *   {"blocks": [{"heads": 12, "mlp_ratio": 4, "kept": true,
 *                "paths": {"face": "shared", ...}}, ...]}
 * with one entry per supernet block and one path per task of the space. The space JSON holds
 * every field of struct ufo_space with the same names, tasks as a list of objects.
 * Writers return a malloc'ed string (free it). `where` names the source in messages. */
ufo_status ufo_arch_to_json(const struct ufo_space *space, const struct ufo_arch *arch,
                            char **out);
ufo_status ufo_arch_from_json(const struct ufo_space *space, const char *text,
                              const char *where, struct ufo_arch *arch);
ufo_status ufo_arch_load(const struct ufo_space *space, const char *path, struct ufo_arch *arch);
ufo_status ufo_arch_save(const struct ufo_space *space, const struct ufo_arch *arch,
                         const char *path);
ufo_status ufo_space_to_json(const struct ufo_space *space, char **out);
ufo_status ufo_space_from_json(const char *text, const char *where, struct ufo_space *space);

/* The CVPR 2022 lightweight NAS track 2 string: one letter for the depth ('a' + depth - 1, so
 * j/k/l = 10/11/12), then per supernet block three digits (heads, mlp ratio, embedding
 * width), digit 1 naming the largest choice, 2 the next, ...; "000" for blocks past the
 * depth. The width digit is always 1 (the space has one width). Only prefix depths can be
 * written (kept blocks 0..d-1). Paths are not in the string: reading sets every path to
 * `path`. `out` needs 2 + 3·depth bytes. */
ufo_status ufo_arch_to_cvpr(const struct ufo_space *space, const struct ufo_arch *arch,
                            char *out, int out_size);
ufo_status ufo_arch_from_cvpr(const struct ufo_space *space, const char *text,
                              enum ufo_path path, struct ufo_arch *arch);

#endif
