/* Multiply-accumulates and parameter counts of an architecture, from the real tensor shapes. */
#ifndef UFO_MODEL_FLOPS_H
#define UFO_MODEL_FLOPS_H

#include <stdint.h>

#include "model/space.h"

/* SUPERNET: the sub-network as the supernet runs it in training (both FFN paths of every kept
 * block run for every sample, all task paths and gates exist). EXTRACTED: the trimmed model,
 * which holds and runs only the paths its tasks use. */
enum ufo_count_mode { UFO_COUNT_SUPERNET, UFO_COUNT_EXTRACTED };

/* Multiply-accumulates for one image of task `task`, N = tokens, P = patches, a = h·head_dim,
 * f = m·C:
 *   patch embedding P·C·3p²; per kept block: norm1 N·C, qkv N·C·3a, scores N·N·a,
 *   weighted values N·N·a, projection N·a·C, norm2 N·C, each FFN path that runs 2·N·C·f,
 *   and N·C for the gate blend when two paths run; final norm C (the cls token only);
 *   with heads: BN-neck C and CosFace classes·C.
 * A layer norm counts one MAC per element (the affine step); softmax, GELU, additions and
 * the loss are not counted. */
ufo_status ufo_arch_macs(const struct ufo_space *space, const struct ufo_arch *arch, int task,
                         enum ufo_count_mode mode, int with_heads, uint64_t *macs);

/* Trainable parameters (running statistics excluded): patch embedding C·3p² + C, cls C,
 * position N·C; per kept block norms 4C, qkv 3a·C + 3a, projection a·C + C, per FFN path
 * 2·C·f + f + C, two gate logits per task (SUPERNET: all paths and gates; EXTRACTED: the
 * shared path if a task uses it, a task's path if it uses it, gates of tasks using both);
 * final norm 2C; with heads, per task BN-neck 2C and CosFace classes·C. */
ufo_status ufo_arch_params(const struct ufo_space *space, const struct ufo_arch *arch,
                           enum ufo_count_mode mode, int with_heads, uint64_t *params);

#endif
