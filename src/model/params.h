/* The supernet's parameter layout: every tensor (name, shape, offset) in one float array, so
 * parameters, gradients and optimizer state are each one buffer of ufo_layout.total floats.
 *
 * Order of the tensors in the array (offsets rounded up to UFO_LAYOUT_ALIGN floats, padding
 * is zero), C = embed_dim, A = max_heads·head_dim, F = mlp_ratio_max·C, T = tokens:
 *   patch_embed.proj.weight [C, 3, p, p]   patch_embed.proj.bias [C]
 *   cls_token [1, 1, C]                    pos_embed [1, T, C]
 *   per block N = 0..depth-1:
 *     blocks.N.norm1.weight [C]  blocks.N.norm1.bias [C]
 *     blocks.N.attn.qkv.weight [3A, C]  blocks.N.attn.qkv.bias [3A]
 *         rows: q heads 0..H-1, then k heads, then v heads, head_dim rows each
 *     blocks.N.attn.proj.weight [C, A]  blocks.N.attn.proj.bias [C]
 *     blocks.N.norm2.weight [C]  blocks.N.norm2.bias [C]
 *     blocks.N.mlp.fc1.weight [F, C]  blocks.N.mlp.fc1.bias [F]
 *     blocks.N.mlp.fc2.weight [C, F]  blocks.N.mlp.fc2.bias [C]
 *     per task TASK: blocks.N.task_mlp.TASK.fc1.weight [F, C], .fc1.bias [F],
 *                    .fc2.weight [C, F], .fc2.bias [C]
 *     per task TASK: blocks.N.gate.TASK [2]   (logit 0: shared path, logit 1: task path;
 *                    the tasks' gates of a block are adjacent, UFO_LAYOUT_ALIGN apart)
 *   norm.weight [C]  norm.bias [C]
 *   per task TASK: heads.TASK.bnneck.weight [C], .bnneck.bias [C] (frozen),
 *                  .bnneck.running_mean [C], .bnneck.running_var [C] (buffers),
 *                  heads.TASK.cosface.weight [classes, C]
 * Elastic widths are leading slices: h heads use rows s·A + [0, h·head_dim) of qkv for
 * s = q, k, v and columns [0, h·head_dim) of proj; expansion m uses rows [0, m·C) of fc1 and
 * columns [0, m·C) of fc2 (leading dimension F). */
#ifndef UFO_MODEL_PARAMS_H
#define UFO_MODEL_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "model/space.h"

#define UFO_LAYOUT_ALIGN 16 /* floats (64 bytes) */
#define UFO_PARAM_NAME_MAX 96

/* How the optimizer treats a tensor. */
enum ufo_param_kind {
    UFO_PARAM_DECAY,    /* a matrix: trained, with weight decay */
    UFO_PARAM_NO_DECAY, /* biases, norms, cls, pos, gates: trained, no weight decay */
    UFO_PARAM_FROZEN,   /* BN-neck bias: never updated, gradient not computed */
    UFO_PARAM_BUFFER,   /* BN-neck running statistics: updated by the forward pass */
};

struct ufo_param {
    char name[UFO_PARAM_NAME_MAX];
    int ndim;
    int64_t shape[4];
    size_t offset; /* floats from the start of the array */
    size_t numel;
    enum ufo_param_kind kind;
};

/* Indices into ufo_layout.params of one FFN path. */
struct ufo_ffn_index {
    int fc1_w, fc1_b, fc2_w, fc2_b;
};

struct ufo_block_index {
    int norm1_w, norm1_b, qkv_w, qkv_b, proj_w, proj_b, norm2_w, norm2_b;
    struct ufo_ffn_index shared;
    struct ufo_ffn_index task[UFO_MAX_TASKS];
    int gate[UFO_MAX_TASKS];
};

struct ufo_head_index {
    int bn_w, bn_b, bn_mean, bn_var, cosface_w;
};

struct ufo_layout {
    struct ufo_space space;
    int n;                   /* tensors */
    struct ufo_param *params;
    size_t total;            /* floats, padding included */
    int patch_w, patch_b, cls_token, pos_embed, norm_w, norm_b;
    struct ufo_block_index block[UFO_MAX_BLOCKS];
    struct ufo_head_index head[UFO_MAX_TASKS];
};

/* Lay out every tensor of the supernet of `space` (validated first). */
ufo_status ufo_layout_create(const struct ufo_space *space, struct ufo_layout *layout);
void ufo_layout_free(struct ufo_layout *layout);

/* Index of a tensor by name, or -1. */
int ufo_layout_find(const struct ufo_layout *layout, const char *name);

/* "[768, 3, 16, 16]" into buf. */
void ufo_param_shape_str(const struct ufo_param *p, char *buf, size_t size);

/* Fill `params` (layout->total floats) with a fresh supernet, seeded:
 * matrices (patch, qkv, proj, fc1, fc2 of every path, CosFace) and pos_embed: normal with
 * std 0.02 truncated at ±2 std; cls_token: normal std 1e-6; biases 0; layer norms weight 1,
 * bias 0; gate logits 0; BN-neck weight 1, bias 0, running mean 0, running var 1; padding 0.
 * Tensor i draws from Philox (seed, step i, UFO_RNG_INIT), element j from counter index j
 * (+ attempt << 40 when a draw is rejected), so a tensor's values do not depend on others. */
void ufo_layout_init(const struct ufo_layout *layout, uint64_t seed, float *params);

/* Log one line: tensors, trainable parameters, floats and MiB of each whole-model buffer. */
void ufo_layout_log(const struct ufo_layout *layout);

/* Trainable-parameter count (kinds DECAY and NO_DECAY), padding excluded. */
size_t ufo_layout_trainable(const struct ufo_layout *layout);

#endif
