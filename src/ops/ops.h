/* Forward and backward launchers of the supernet's operations on the device.
 *
 * Operands are views (tensor.h): a matrix is (buffer, first element, leading dimension), all in
 * floats; vectors ignore ld; labels are int vectors. Shapes are given beside each argument.
 * Parameter gradients accumulate (+=); activation gradients overwrite, except where a flag
 * `accumulate` says (the residual stream, and features fed by two heads). Every reduction is
 * deterministic: fixed work-group sizes, fixed summation order, no atomics. Launchers only
 * enqueue; nothing waits unless it says so. */
#ifndef UFO_OPS_OPS_H
#define UFO_OPS_OPS_H

#include <stddef.h>

#include <ufo/device.h>
#include <ufo/gemm.h>

#include "ops/tensor.h"

/* A norm or check writes its per-group partial sums after its result: give it a vector of
 * OPS_REDUCE_FLOATS floats; element 0 is the result. */
#define OPS_REDUCE_GROUPS 64
#define OPS_REDUCE_FLOATS (1 + OPS_REDUCE_GROUPS)

/* How the row and column reductions spread over work-items: a work-group per row (GPUs) or an
 * item per row (CPUs, where a work-group costs more than a short row). AUTO decides from the
 * device's capabilities; either way a device adds in one fixed order. */
enum ops_layout { OPS_LAYOUT_AUTO = 0, OPS_LAYOUT_GROUPS, OPS_LAYOUT_ITEMS };

/* Force a layout for every launch that follows, on every device (tests and benchmarks). */
void ops_set_layout(enum ops_layout layout);

/* How an FFN gate weighs the shared path (index 0) and the task path (index 1). */
enum ops_gate_mode {
    OPS_GATE_GUMBEL = 0, /* training: one-hot of argmax((logits + noise) / tau); the backward
                            pass goes through softmax((logits + noise) / tau) (straight-through) */
    OPS_GATE_SHARED,     /* (1, 0) */
    OPS_GATE_TASK,       /* (0, 1) */
    OPS_GATE_BOTH,       /* softmax(logits / tau) */
};

/* ---- patch embedding and tokens ---- */

/* image [B, channels, H, W] (contiguous) -> cols [B·P, channels·p·p] (ld), P = (H/p)·(W/p)
 * patches in row-major grid order, columns in the PyTorch [C, channels, p, p] weight order, so
 * the embedding is cols · weight^T (ops_linear_forward). */
ufo_status ops_im2col(ufo_device *dev, struct ufo_matrix image, size_t batch, size_t channels,
                      size_t height, size_t width, size_t patch, struct ufo_matrix cols);

/* x [B·T, C] (T = P + 1): cls + pos[0] then emb [B·P, C] + pos[1..P]; cls [C]; pos [T, C]. */
ufo_status ops_tokens_forward(ufo_device *dev, struct ufo_matrix emb, struct ufo_matrix cls,
                              struct ufo_matrix pos, size_t batch, size_t patches, size_t width,
                              struct ufo_matrix x);
/* demb [B·P, C] overwrite (buf NULL: skipped); dcls [C] += and dpos [T, C] += sums over B. */
ufo_status ops_tokens_backward(ufo_device *dev, struct ufo_matrix dx, size_t batch,
                               size_t patches, size_t width, struct ufo_matrix demb,
                               struct ufo_matrix dcls, struct ufo_matrix dpos);

/* ---- linear layers ---- */

/* y [rows, out] = x [rows, in] · w^T + b; w [out, in] (a leading slice of a larger weight:
 * ld = the full row length); b [out] (buf NULL: no bias). */
ufo_status ops_linear_forward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix w,
                              struct ufo_matrix b, size_t rows, size_t in, size_t out,
                              struct ufo_matrix y);
/* dx [rows, in] = dy · w (accumulate: +=; buf NULL: skipped); dw [out, in] += dy^T · x;
 * db [out] += column sums of dy (buf NULL: skipped). */
ufo_status ops_linear_backward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix w,
                               struct ufo_matrix dy, size_t rows, size_t in, size_t out,
                               struct ufo_matrix dx, int accumulate, struct ufo_matrix dw,
                               struct ufo_matrix db);

/* y [rows, cols] += b [cols] (in place). */
ufo_status ops_bias_add(ufo_device *dev, struct ufo_matrix y, struct ufo_matrix b, size_t rows,
                        size_t cols);
/* db [cols] += column sums of dy [rows, cols]. */
ufo_status ops_bias_backward(ufo_device *dev, struct ufo_matrix dy, size_t rows, size_t cols,
                             struct ufo_matrix db);

/* ---- layer norm ---- */

/* y [rows, cols] = (x - mean) · rstd · gamma + beta over each row; mean, rstd [rows] are saved
 * for the backward pass. y may be x. */
ufo_status ops_layernorm_forward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix gamma,
                                 struct ufo_matrix beta, size_t rows, size_t cols, float eps,
                                 struct ufo_matrix y, struct ufo_matrix mean,
                                 struct ufo_matrix rstd);
/* dx [rows, cols] = (or += when accumulate) the input gradient; dgamma, dbeta [cols] +=.
 * dx must not alias x or dy. */
ufo_status ops_layernorm_backward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix gamma,
                                  struct ufo_matrix mean, struct ufo_matrix rstd,
                                  struct ufo_matrix dy, size_t rows, size_t cols,
                                  struct ufo_matrix dx, int accumulate, struct ufo_matrix dgamma,
                                  struct ufo_matrix dbeta);

/* ---- GELU (exact, erf) ---- */

/* y [rows, cols] = gelu(x); y may be x. */
ufo_status ops_gelu_forward(ufo_device *dev, struct ufo_matrix x, size_t rows, size_t cols,
                            struct ufo_matrix y);
/* dx = dy · gelu'(x); dx may be dy. */
ufo_status ops_gelu_backward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix dy,
                             size_t rows, size_t cols, struct ufo_matrix dx);

/* ---- attention ---- */

/* qkv [B·T, ld] holds q, k and v `section` columns apart (C for the supernet's full qkv output),
 * each as heads of head_dim columns; h heads use heads 0..h-1. q, k, v: contiguous
 * [B, h, T, head_dim] (ld ignored). */
ufo_status ops_heads_split(ufo_device *dev, struct ufo_matrix qkv, size_t section, size_t batch,
                           size_t tokens, size_t heads, size_t head_dim, struct ufo_matrix q,
                           struct ufo_matrix k, struct ufo_matrix v);
/* dqkv's 3 × heads·head_dim used columns overwritten from dq, dk, dv [B, h, T, head_dim]. */
ufo_status ops_heads_split_backward(ufo_device *dev, struct ufo_matrix dq, struct ufo_matrix dk,
                                    struct ufo_matrix dv, size_t section, size_t batch,
                                    size_t tokens, size_t heads, size_t head_dim,
                                    struct ufo_matrix dqkv);
/* o [B, h, T, head_dim] (contiguous) -> out [B·T, h·head_dim] (ld). */
ufo_status ops_heads_merge(ufo_device *dev, struct ufo_matrix o, size_t batch, size_t tokens,
                           size_t heads, size_t head_dim, struct ufo_matrix out);
/* dout [B·T, h·head_dim] (ld) -> do [B, h, T, head_dim] (contiguous, overwrite). */
ufo_status ops_heads_merge_backward(ufo_device *dev, struct ufo_matrix dout, size_t batch,
                                    size_t tokens, size_t heads, size_t head_dim,
                                    struct ufo_matrix dheads);

/* p [rows, n] = softmax(scale · s) per row; p may be s. */
ufo_status ops_softmax_forward(ufo_device *dev, struct ufo_matrix s, size_t rows, size_t n,
                               float scale, struct ufo_matrix p);
/* ds = scale · p · (dp - Σ p·dp); ds may be dp. */
ufo_status ops_softmax_backward(ufo_device *dev, struct ufo_matrix p, struct ufo_matrix dp,
                                size_t rows, size_t n, float scale, struct ufo_matrix ds);

/* Attention of bh = B·h heads, all contiguous: probs [bh, T, T] = softmax(scale · q · k^T) is
 * kept for the backward pass, o [bh, T, hd] = probs · v. */
ufo_status ops_attention_forward(ufo_device *dev, struct ufo_matrix q, struct ufo_matrix k,
                                 struct ufo_matrix v, size_t bh, size_t tokens, size_t head_dim,
                                 float scale, struct ufo_matrix probs, struct ufo_matrix o);
/* dq, dk, dv [bh, T, hd] overwrite; dprobs [bh, T, T] is scratch. */
ufo_status ops_attention_backward(ufo_device *dev, struct ufo_matrix q, struct ufo_matrix k,
                                  struct ufo_matrix v, struct ufo_matrix probs,
                                  struct ufo_matrix dout, size_t bh, size_t tokens,
                                  size_t head_dim, float scale, struct ufo_matrix dprobs,
                                  struct ufo_matrix dq, struct ufo_matrix dk,
                                  struct ufo_matrix dv);

/* ---- residual stream and drop-path ---- */

/* x [rows, cols] += f · y, f = mask[r / rows_per_sample] · keep_scale (drop-path: mask of 0/1
 * per sample, keep_scale = 1 / (1 - rate)); mask buf NULL: f = 1. */
ufo_status ops_residual_add(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix y,
                            size_t rows, size_t cols, size_t rows_per_sample,
                            struct ufo_matrix mask, float keep_scale);
/* dy = f · dx (overwrite); the stream's dx is unchanged (it flows on to the block input). */
ufo_status ops_residual_backward(ufo_device *dev, struct ufo_matrix dx, size_t rows, size_t cols,
                                 size_t rows_per_sample, struct ufo_matrix mask,
                                 float keep_scale, struct ufo_matrix dy);

/* ---- FFN path gates ---- */

/* weights, soft [samples, 2] from logits [2] (0 shared, 1 task), noise [samples, 2] (gumbel
 * draws, used in OPS_GATE_GUMBEL only; buf may be NULL otherwise) and tau. Every per-sample
 * pair matrix here and below may have a leading dimension (ld 0 = 2, contiguous pairs), so
 * noise can be read straight from a [B, depth, 2] array (offset 2·block, ld 2·depth). */
ufo_status ops_gate_weights(ufo_device *dev, struct ufo_matrix logits, struct ufo_matrix noise,
                            size_t samples, float tau, enum ops_gate_mode mode,
                            struct ufo_matrix weights, struct ufo_matrix soft);
/* out [samples·rps, cols] = w0 · shared + w1 · task per sample; a NULL buf stands for a path
 * that did not run (its weight must be 0). out may be shared or task. */
ufo_status ops_gate_mix_forward(ufo_device *dev, struct ufo_matrix shared, struct ufo_matrix task,
                                struct ufo_matrix weights, size_t samples,
                                size_t rows_per_sample, size_t cols, struct ufo_matrix out);
/* dshared = w0 · dout, dtask = w1 · dout (overwrite; NULL buf: skipped); in modes GUMBEL and
 * BOTH dlogits [2] += the gradient through soft; dweights [samples, 2] is scratch. */
ufo_status ops_gate_mix_backward(ufo_device *dev, struct ufo_matrix shared,
                                 struct ufo_matrix task, struct ufo_matrix weights,
                                 struct ufo_matrix soft, struct ufo_matrix dout, size_t samples,
                                 size_t rows_per_sample, size_t cols, float tau,
                                 enum ops_gate_mode mode, struct ufo_matrix dshared,
                                 struct ufo_matrix dtask, struct ufo_matrix dweights,
                                 struct ufo_matrix dlogits);

/* ---- heads and losses ---- */

/* BN-neck y [n, c] from x [n, c]: training uses the batch statistics (biased variance), saves
 * mean, rstd [c] and updates running_mean, running_var [c] (unbiased variance) with momentum;
 * otherwise the running statistics are used. */
ufo_status ops_bnneck_forward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix gamma,
                              struct ufo_matrix beta, struct ufo_matrix running_mean,
                              struct ufo_matrix running_var, size_t n, size_t c, float eps,
                              float momentum, int training, struct ufo_matrix y,
                              struct ufo_matrix mean, struct ufo_matrix rstd);
/* Training-mode backward: dx = (or += when accumulate); dgamma [c] +=; beta is frozen. */
ufo_status ops_bnneck_backward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix gamma,
                               struct ufo_matrix mean, struct ufo_matrix rstd,
                               struct ufo_matrix dy, size_t n, size_t c, struct ufo_matrix dx,
                               int accumulate, struct ufo_matrix dgamma);

/* y [rows, cols] = x / max(|x|, 1e-12) per row; norm [rows] keeps the divisor. */
ufo_status ops_l2norm_forward(ufo_device *dev, struct ufo_matrix x, size_t rows, size_t cols,
                              struct ufo_matrix y, struct ufo_matrix norm);
/* dx = (dy - y · Σ y·dy) / norm, overwrite or += when accumulate; dx must not alias y. */
ufo_status ops_l2norm_backward(ufo_device *dev, struct ufo_matrix y, struct ufo_matrix norm,
                               struct ufo_matrix dy, size_t rows, size_t cols,
                               struct ufo_matrix dx, int accumulate);

/* CosFace from cosines cos [n, k] = l2norm(feat) · l2norm(weight)^T (the caller's GEMM):
 * logits s · (cos - m · onehot(label)), cross-entropy; row_loss [n] per sample, loss [1] =
 * loss_weight · mean; dcos [n, k] = d(loss)/d(cos) (overwrite, may be cos). labels: int [n]
 * in [0, k); a label out of range gives a NaN loss. */
ufo_status ops_cosface_loss(ufo_device *dev, struct ufo_matrix cos, struct ufo_matrix labels,
                            size_t n, size_t k, float s, float m, float loss_weight,
                            struct ufo_matrix row_loss, struct ufo_matrix loss,
                            struct ufo_matrix dcos);

/* Floats of scratch ops_cosface needs for n samples, k classes, width c. */
static inline size_t ops_cosface_work_floats(size_t n, size_t k, size_t c) {
    return 2 * (n * c + k * c + n * k) + 2 * n + k;
}
/* The whole CosFace head on feat [n, c] (the BN-neck output) and class weights weight [k, c]:
 * normalise both, cos = product, ops_cosface_loss, and back through the product and both
 * normalisations. loss [1] = loss_weight · mean cross-entropy; dfeat [n, c] = (or +=);
 * dweight [k, c] +=. work: ops_cosface_work_floats(n, k, c) floats; after the call it starts
 * with the cosines [n, k] (the logits are s · (cos - m · onehot)). */
ufo_status ops_cosface(ufo_device *dev, struct ufo_matrix feat, struct ufo_matrix weight,
                       struct ufo_matrix labels, size_t n, size_t k, size_t c, float s, float m,
                       float loss_weight, struct ufo_matrix work, struct ufo_matrix loss,
                       struct ufo_matrix dfeat, int accumulate, struct ufo_matrix dweight);

/* Floats of scratch ops_triplet needs for n samples. */
static inline size_t ops_triplet_work_floats(size_t n) {
    return n * n + 5 * n;
}
/* Batch-hard soft-margin triplet loss on feat [n, c], labels int [n]: loss [1] =
 * loss_weight · mean over anchors of log(1 + exp(d_ap - d_an)), d = Euclidean distance with
 * the squared distance floored at 1e-12, d_ap the largest to another sample of the anchor's
 * label, d_an the smallest to another label (an anchor without either adds 0 but counts in the
 * mean); dfeat [n, c] = (or +=). work: ops_triplet_work_floats(n) floats of scratch. */
ufo_status ops_triplet(ufo_device *dev, struct ufo_matrix feat, struct ufo_matrix labels,
                       size_t n, size_t c, float loss_weight, struct ufo_matrix work,
                       struct ufo_matrix loss, struct ufo_matrix dfeat, int accumulate);

/* ---- optimizer and checks ---- */

/* out[0] = Σ x² over x [n] (partials in out[1..]). */
ufo_status ops_sum_squares(ufo_device *dev, struct ufo_matrix x, size_t n, struct ufo_matrix out);
/* out[0] = the number of NaN and Inf values in x [n] (partials in out[1..]). */
ufo_status ops_count_nonfinite(ufo_device *dev, struct ufo_matrix x, size_t n,
                               struct ufo_matrix out);
/* Blocks until out[0] of ops_count_nonfinite is read; UFO_ERR_NUMERIC naming `what` when
 * x [n] holds a NaN or Inf. */
ufo_status ops_check_finite(ufo_device *dev, struct ufo_matrix x, size_t n,
                            struct ufo_matrix work, const char *what);

/* SGD with momentum and weight decay on one tensor w, g, v [n]: g' = clip · g + wd · w,
 * v = momentum · v + g', w -= lr · v; with clip_norm > 0, clip = min(1, clip_norm /
 * (|g| + 1e-6)) from the tensor's own gradient norm (computed into norm_work
 * [OPS_REDUCE_FLOATS]). */
ufo_status ops_sgd(ufo_device *dev, struct ufo_matrix w, struct ufo_matrix g,
                   struct ufo_matrix v, size_t n, float lr, float momentum, float weight_decay,
                   float clip_norm, struct ufo_matrix norm_work);

/* One tensor of ops_sgd_multi: elements [offset, offset + n) of w, g and v. */
struct ops_sgd_tensor {
    size_t offset, n;
    float lr, weight_decay;
};

/* Floats of the work buffer of ops_sgd_multi over `tensors` tensors: a table of 4 per tensor,
 * then OPS_REDUCE_FLOATS per tensor (never below OPS_REDUCE_FLOATS). */
#define OPS_SGD_WORK_FLOATS(tensors) ((tensors) * (4 + OPS_REDUCE_FLOATS) + OPS_REDUCE_FLOATS)

/* ops_sgd on each of tensors[0..count) of the buffers w, g, v, in three launches; results are
 * bit for bit those of ops_sgd called per tensor. The table goes to `work` [OPS_SGD_WORK_FLOATS
 * (count)] by a blocking write, so the call waits for the queue. */
ufo_status ops_sgd_multi(ufo_device *dev, struct ufo_matrix w, struct ufo_matrix g,
                         struct ufo_matrix v, const struct ops_sgd_tensor *tensors,
                         size_t count, float momentum, float clip_norm, struct ufo_matrix work);

#endif
