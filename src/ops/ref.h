/* Plain double-precision references of every op in ops.h, forward and backward, on contiguous
 * row-major arrays. Tests compare the device launchers with these and check these against finite
 * differences. Same conventions as ops.h: parameter gradients accumulate (+=), activation
 * gradients overwrite unless a function says otherwise. */
#ifndef UFO_OPS_REF_H
#define UFO_OPS_REF_H

#include <stddef.h>

#include "ops/ops.h"

/* image [B, ch, H, W] -> cols [B·P, ch·p·p], P = (H/p)·(W/p) patches in row-major grid order,
 * columns in the [C, ch, p, p] weight order (channel, then kernel row, then kernel column). */
void ref_im2col(const double *image, size_t batch, size_t channels, size_t height, size_t width,
                size_t patch, double *cols);

/* x [B·T, C] with T = P + 1: row 0 of each sample is cls + pos[0], row 1 + i is
 * emb[b·P + i] + pos[1 + i]. emb [B·P, C], cls [C], pos [T, C]. */
void ref_tokens_forward(const double *emb, const double *cls, const double *pos, size_t batch,
                        size_t patches, size_t width, double *x);
/* demb = dx's patch rows (overwrite); dcls, dpos accumulate sums over the batch. */
void ref_tokens_backward(const double *dx, size_t batch, size_t patches, size_t width,
                         double *demb, double *dcls, double *dpos);

/* Layer norm over the last dim: x, y [rows, cols]; gamma, beta [cols]; mean, rstd [rows]. */
void ref_layernorm_forward(const double *x, const double *gamma, const double *beta, size_t rows,
                           size_t cols, double eps, double *y, double *mean, double *rstd);
void ref_layernorm_backward(const double *x, const double *gamma, const double *mean,
                            const double *rstd, const double *dy, size_t rows, size_t cols,
                            double *dx, double *dgamma, double *dbeta);

/* y [rows, cols] += b [cols]; db [cols] += column sums of dy. */
void ref_bias_add(double *y, const double *b, size_t rows, size_t cols);
void ref_bias_backward(const double *dy, size_t rows, size_t cols, double *db);

/* y = x [rows, in] · w^T + b, w [out, in], b [out] or NULL. Backward: dx overwrite (may be
 * NULL), dw, db accumulate (db may be NULL). */
void ref_linear_forward(const double *x, const double *w, const double *b, size_t rows,
                        size_t in, size_t out, double *y);
void ref_linear_backward(const double *x, const double *w, const double *dy, size_t rows,
                         size_t in, size_t out, double *dx, double *dw, double *db);

/* Exact GELU: y = x·Φ(x); dx = dy·(Φ(x) + x·φ(x)). n elements. */
void ref_gelu_forward(const double *x, size_t n, double *y);
void ref_gelu_backward(const double *x, const double *dy, size_t n, double *dx);

/* Row softmax of scale·s over rows of n; ds = scale·p·(dp - Σ p·dp). */
void ref_softmax_forward(const double *s, size_t rows, size_t n, double scale, double *p);
void ref_softmax_backward(const double *p, const double *dp, size_t rows, size_t n, double scale,
                          double *ds);

/* qkv [B·T, ld] holds q, k, v sections `section` columns apart, heads of `head_dim` columns
 * each; q, k, v [B, heads, T, head_dim]. */
void ref_heads_split(const double *qkv, size_t ld, size_t section, size_t batch, size_t tokens,
                     size_t heads, size_t head_dim, double *q, double *k, double *v);
/* dqkv's used columns (3 sections × heads·head_dim) overwritten from dq, dk, dv. */
void ref_heads_split_backward(const double *dq, const double *dk, const double *dv, size_t ld,
                              size_t section, size_t batch, size_t tokens, size_t heads,
                              size_t head_dim, double *dqkv);
/* o [B, heads, T, head_dim] -> out [B·T, heads·head_dim]; backward is the inverse copy. */
void ref_heads_merge(const double *o, size_t batch, size_t tokens, size_t heads, size_t head_dim,
                     double *out);
void ref_heads_merge_backward(const double *dout, size_t batch, size_t tokens, size_t heads,
                              size_t head_dim, double *dout_heads);

/* Attention of bh = B·heads independent heads: p = softmax(scale·q·k^T) [bh, T, T],
 * o = p·v [bh, T, hd]. Backward: dq, dk, dv overwrite. */
void ref_attention_forward(const double *q, const double *k, const double *v, size_t bh,
                           size_t tokens, size_t head_dim, double scale, double *p, double *o);
void ref_attention_backward(const double *q, const double *k, const double *v, const double *p,
                            const double *dout, size_t bh, size_t tokens, size_t head_dim,
                            double scale, double *dq, double *dk, double *dv);

/* Residual stream x [rows, cols] += f(r)·y where f(r) = mask[r / rows_per_sample]·keep_scale
 * (mask NULL: f = 1). Backward: dy = f(r)·dx (overwrite); dx itself passes through. */
void ref_residual_add(double *x, const double *y, size_t rows, size_t cols,
                      size_t rows_per_sample, const double *mask, double keep_scale);
void ref_residual_backward(const double *dx, size_t rows, size_t cols, size_t rows_per_sample,
                           const double *mask, double keep_scale, double *dy);

/* Per-sample gate weights [n, 2] (index 0 shared, 1 task) and soft probabilities [n, 2] from the
 * logits [2], noise [n, 2] (gumbel mode only) and tau; see enum ops_gate_mode. */
void ref_gate_weights(const double *logits, const double *noise, size_t samples, double tau,
                      enum ops_gate_mode mode, double *weights, double *soft);
/* out [n·rps, cols] = w0·shared + w1·task per sample (rps rows per sample). */
void ref_gate_mix_forward(const double *shared, const double *task, const double *weights,
                          size_t samples, size_t rows_per_sample, size_t cols, double *out);
/* dshared = w0·dout, dtask = w1·dout (overwrite); dlogits [2] += the straight-through gradient
 * through soft (modes GUMBEL and BOTH; nothing for SHARED and TASK). */
void ref_gate_mix_backward(const double *shared, const double *task, const double *weights,
                           const double *soft, const double *dout, size_t samples,
                           size_t rows_per_sample, size_t cols, double tau,
                           enum ops_gate_mode mode, double *dshared, double *dtask,
                           double *dlogits);

/* BN-neck over the batch: x, y [n, c]. Training uses batch statistics (biased variance), saves
 * mean and rstd [c] and updates running_mean/var (unbiased variance) with momentum; evaluation
 * uses the running statistics. */
void ref_bnneck_forward(const double *x, const double *gamma, const double *beta, size_t n,
                        size_t c, double eps, double momentum, int training, double *y,
                        double *mean, double *rstd, double *running_mean, double *running_var);
/* Training-mode backward: dx overwrite, dgamma accumulate (beta is frozen). */
void ref_bnneck_backward(const double *x, const double *gamma, const double *mean,
                         const double *rstd, const double *dy, size_t n, size_t c, double *dx,
                         double *dgamma);

/* Row L2 normalisation y = x / max(|x|, 1e-12); norm [rows] keeps the divisor. */
void ref_l2norm_forward(const double *x, size_t rows, size_t cols, double *y, double *norm);
void ref_l2norm_backward(const double *y, const double *norm, const double *dy, size_t rows,
                         size_t cols, double *dx);

/* CosFace from cosines cos [n, k]: mean over rows of cross-entropy of s·(cos - m·onehot).
 * dcos overwrite, scaled by loss_weight. Returns loss_weight · mean loss. */
double ref_cosface_loss(const double *cos, const int *labels, size_t n, size_t k, double s,
                        double m, double loss_weight, double *dcos);
/* The whole CosFace head: features [n, c], class weights [k, c]. dfeat overwrite, dweight
 * accumulate. Returns the loss. */
double ref_cosface(const double *feat, const double *weight, const int *labels, size_t n,
                   size_t k, size_t c, double s, double m, double loss_weight, double *dfeat,
                   double *dweight);

/* Batch-hard soft-margin triplet loss on features [n, c] (Euclidean distance clamped at 1e-6):
 * mean over anchors of log(1 + exp(d_ap - d_an)), the positive being another sample of the same
 * label; anchors without a positive or a negative add 0. dfeat accumulates. Returns
 * loss_weight · mean loss. */
double ref_triplet(const double *feat, const int *labels, size_t n, size_t c, double loss_weight,
                   double *dfeat);

/* One SGD step on n weights: g' = clip·g + wd·w, v = momentum·v + g', w -= lr·v, with
 * clip = min(1, clip_norm / (|g| + 1e-6)) when clip_norm > 0. */
void ref_sgd(double *w, const double *g, double *v, size_t n, double lr, double momentum,
             double weight_decay, double clip_norm);

/* Number of NaN and Inf values. */
size_t ref_count_nonfinite(const float *x, size_t n);

#endif
