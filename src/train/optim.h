/* The optimiser step of ufo-train: which tensors a step trains, at what rate, and the update
 * itself (per-tensor gradient-norm clip, then SGD with momentum and weight decay). */
#ifndef UFO_TRAIN_OPTIM_H
#define UFO_TRAIN_OPTIM_H

#include <stdbool.h>

#include <ufo/device.h>
#include <ufo/status.h>

#include "model/params.h"
#include "model/space.h"
#include "model/vit.h"
#include "ops/ops.h"
#include "train/train_config.h"

/* What the update needs besides the gradients: the [train] section's momentum, weight_decay,
 * grad_clip and bias_lr_factor, and each task's lr_scale (indexed like space->tasks). */
struct train_optim {
    const struct train_loop_config *loop;
    const double *task_lr_scale;            /* [space->n_tasks] */
    const struct ufo_space *space;
};

/* The block a tensor belongs to ("blocks.N."), or -1. */
int train_optim_tensor_block(const char *name);

/* The task whose own tensor this is (its task FFN, gate or heads), or -1 for a shared one. */
int train_optim_tensor_task(const struct ufo_space *space, const char *name);

/* Whether a step of rate `lr` updates tensor `p`, and at what *rate. It leaves alone frozen
 * tensors, buffers, and the tensors of blocks that no architecture of the step kept (kept
 * [depth], the union of the architectures' block[].kept): their gradient is zero, and PyTorch,
 * seeing no gradient, would leave both them and their momentum as they are. The rate is lr,
 * × bias_lr_factor for a ".bias", × the task's lr_scale for a task's own tensor. */
bool train_optim_tensor_rate(const struct train_optim *o, const struct ufo_param *p, double lr,
                             const int *kept, double *rate);

/* Update every tensor the step trains, one tensor at a time, with the rate above:
 *   c = min(1, grad_clip / (|g| + 1e-6)) (1 when grad_clip is 0), |g| that tensor's L2 norm,
 *   g' = c·g + wd·w (wd = weight_decay for UFO_PARAM_DECAY tensors, else 0),
 *   v = momentum·v + g',  w -= rate·v,
 * on vit's parameter, gradient and momentum buffers, in one ops_sgd_multi (bit for bit the
 * per-tensor ops_sgd); norm_work holds train_optim_work_floats() floats.
 * This is torch.nn.utils.clip_grad_norm_ called on each tensor alone, followed by
 * torch.optim.SGD (dampening 0, no Nesterov) with one parameter group per rate. */
/* Floats of train_optim_step's work buffer for a layout (at least OPS_REDUCE_FLOATS). */
static inline size_t train_optim_work_floats(const struct ufo_layout *L) {
    return OPS_SGD_WORK_FLOATS((size_t)L->n);
}

ufo_status train_optim_step(ufo_device *dev, struct vit *vit, const struct train_optim *o,
                            double lr, const int *kept, cl_mem norm_work);

#endif
