/* The supernet on a device: parameters, gradients and momentum in one buffer each, an
 * activation arena sized for the largest architecture and batch, and the forward and backward
 * passes of any architecture over a heterogeneous batch (each task's samples contiguous). */
#ifndef UFO_MODEL_VIT_H
#define UFO_MODEL_VIT_H

#include <stddef.h>
#include <stdint.h>

#include <ufo/device.h>

#include "model/params.h"
#include "model/space.h"

/* A batch as the passes see it. Samples of task t are [task_begin[t], task_begin[t + 1]). */
struct vit_batch {
    size_t size;                            /* images B (at most the model's max_batch) */
    size_t task_begin[UFO_MAX_TASKS + 1];
    const float *images;                    /* [B, 3, S, S], normalised; host memory */
    const int32_t *labels;                  /* [B] class index within the sample's task */
    const float *gumbel;                    /* training: [B, depth, 2] gate noise; else NULL */
    const float *drop_mask;                 /* training: [B, depth] 1 keep / 0 drop; NULL none */
    float drop_path_rate;                   /* the last block's rate; block i gets i/(depth-1)
                                               of it (drop_mask must be drawn accordingly) */
};

/* What a training pass reports, per task. */
struct vit_losses {
    float cosface[UFO_MAX_TASKS];
    float triplet[UFO_MAX_TASKS];           /* 0 for tasks without triplet */
    float total;                            /* Σ_t loss_weight_t · (cosface_t + triplet_t) */
};

/* Hyper-parameters of the passes that are not part of the search space. */
struct vit_options {
    float gumbel_tau;       /* gate temperature (5) */
    float bn_eps;           /* BN-neck epsilon (1e-5) */
    float bn_momentum;      /* BN-neck running-statistics momentum (0.1) */
    float triplet_weight[UFO_MAX_TASKS]; /* weight of the triplet loss inside a task (1) */
};

struct vit;

/* Lay out the supernet of `space` on `dev` for batches of up to `max_batch` images and
 * allocate every buffer; sizes are logged. Parameters start at zero (use vit_upload). */
ufo_status vit_create(ufo_device *dev, const struct ufo_space *space, size_t max_batch,
                      struct vit **out);
void vit_destroy(struct vit *vit);

const struct ufo_layout *vit_layout(const struct vit *vit);
size_t vit_max_batch(const struct vit *vit); /* the largest batch the passes take */
struct vit_options *vit_options(struct vit *vit);

/* Device buffers of layout->total floats each. */
cl_mem vit_params(const struct vit *vit);
cl_mem vit_grads(const struct vit *vit);
cl_mem vit_momentum(const struct vit *vit);

/* Copy all parameters (layout->total floats) to or from the device. */
ufo_status vit_upload(struct vit *vit, const float *params);
ufo_status vit_download(struct vit *vit, float *params);

/* One training pass of `arch`: forward with gumbel gates (both FFN paths run), BN-neck on
 * batch statistics (running statistics updated), CosFace and triplet losses, and backward
 * into the gradient buffer, which this call zeroes first unless `accumulate` (the sandwich
 * rule sums several architectures' gradients). Losses come back to the host. */
ufo_status vit_train_step(struct vit *vit, const struct ufo_arch *arch,
                          const struct vit_batch *batch, int accumulate,
                          struct vit_losses *losses);

/* Evaluation forward of `arch`: the architecture's paths decide, only used paths run, BN-neck
 * on running statistics. Writes features [B, C] (the final LN's cls token) and neck [B, C]
 * (the BN-neck output, the evaluation feature) to host memory; either may be NULL. */
ufo_status vit_eval_forward(struct vit *vit, const struct ufo_arch *arch,
                            const struct vit_batch *batch, float *features, float *neck);

/* Read back the last pass's features [B, C] (final LN, cls token) and BN-neck output [B, C];
 * either may be NULL. */
ufo_status vit_read_features(struct vit *vit, size_t batch, float *features, float *neck);

/* Read back activations of the last pass for tests: the residual stream after kept block
 * `block` ([B, T, C]), or -1 for the tokens entering block 0. */
ufo_status vit_read_stream(struct vit *vit, int block, size_t batch, float *out);

#endif
