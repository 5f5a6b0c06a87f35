/* Supernet files: the parameter layout saved to and loaded from safetensors, and a supernet
 * initialised from a timm ViT checkpoint. */
#ifndef UFO_MODEL_CHECKPOINT_H
#define UFO_MODEL_CHECKPOINT_H

#include <stddef.h>

#include "model/params.h"

/* Metadata keys every supernet file carries. */
#define UFO_META_FORMAT "ufo.format" /* "ufo-supernet-1" */
#define UFO_META_SPACE "ufo.space"   /* the search space and tasks as JSON (ufo_space_to_json) */

/* Save every tensor of the layout (buffers included, padding excluded) with the space in the
 * metadata, plus `n_extra` more key/value pairs (extra[2i], extra[2i+1]), atomically. */
ufo_status ufo_params_save(const struct ufo_layout *layout, const float *params,
                           const char *path, const char *const *extra, size_t n_extra);

/* Load a supernet saved for the same layout: every tensor of the layout must be there with
 * its shape and dtype F32, and no other; the first difference (in layout order) fails by
 * name. `params` holds layout->total floats; padding is zeroed. */
ufo_status ufo_params_load(const struct ufo_layout *layout, float *params, const char *path);

/* The same, but tensors whose names start with `ignore` may also be in the file (the PyTorch
 * reference keeps its inputs and outputs beside the parameters under "ref."). */
ufo_status ufo_params_load_ignoring(const struct ufo_layout *layout, float *params,
                                    const char *path, const char *ignore);

/* The search space stored in a supernet file's metadata. */
ufo_status ufo_space_from_file(const char *path, struct ufo_space *space);

/* Overwrite the shared path of `params` from a timm ViT safetensors file, and copy the
 * checkpoint's blocks.N.mlp.* into every task FFN of block N too. Every shared-path tensor
 * must be in the file with the layout's shape, except pos_embed, whose patch grid may
 * differ: it is resized (see ufo_pos_embed_resize), the cls slot copied as is. Gates and
 * heads keep their values; tensors of the file the supernet has no use for (the classifier)
 * are ignored with a log line. */
ufo_status ufo_params_init_timm(const struct ufo_layout *layout, float *params,
                                const char *path);

/* Resize a position embedding on its patch grid: src [1 + sg·sg, C] to dst [1 + dg·dg, C],
 * row 0 (cls) copied. Bicubic as timm does it (PyTorch interpolate, bicubic,
 * align_corners false, antialias true): cubic kernel with a = -0.5, widened by the scale
 * when shrinking, weights normalised, taps outside the grid dropped; width first, then
 * height. */
void ufo_pos_embed_resize(const float *src, int sg, float *dst, int dg, int C);

#endif
