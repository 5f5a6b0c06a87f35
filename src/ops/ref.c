/* Double-precision references of the ops layer: the plain loops the device kernels must match. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ref.h"

#define REF_DIST_MIN 1e-12 /* squared-distance floor of the triplet loss */
#define REF_NORM_MIN 1e-12 /* divisor floor of the L2 normalisation */

void ref_im2col(const double *image, size_t batch, size_t channels, size_t height, size_t width,
                size_t patch, double *cols) {
    size_t gh = height / patch, gw = width / patch, kk = channels * patch * patch;
    for (size_t b = 0; b < batch; b++)
        for (size_t py = 0; py < gh; py++)
            for (size_t px = 0; px < gw; px++) {
                double *row = cols + ((b * gh + py) * gw + px) * kk;
                for (size_t ch = 0; ch < channels; ch++)
                    for (size_t ky = 0; ky < patch; ky++)
                        for (size_t kx = 0; kx < patch; kx++) {
                            size_t src = ((b * channels + ch) * height + py * patch + ky) * width
                                         + px * patch + kx;
                            row[(ch * patch + ky) * patch + kx] = image[src];
                        }
            }
}

void ref_tokens_forward(const double *emb, const double *cls, const double *pos, size_t batch,
                        size_t patches, size_t width, double *x) {
    size_t tokens = patches + 1;
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < tokens; t++)
            for (size_t c = 0; c < width; c++) {
                double v = t == 0 ? cls[c] : emb[(b * patches + t - 1) * width + c];
                x[(b * tokens + t) * width + c] = v + pos[t * width + c];
            }
}

void ref_tokens_backward(const double *dx, size_t batch, size_t patches, size_t width,
                         double *demb, double *dcls, double *dpos) {
    size_t tokens = patches + 1;
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < tokens; t++)
            for (size_t c = 0; c < width; c++) {
                double g = dx[(b * tokens + t) * width + c];
                dpos[t * width + c] += g;
                if (t == 0)
                    dcls[c] += g;
                else
                    demb[(b * patches + t - 1) * width + c] = g;
            }
}

void ref_layernorm_forward(const double *x, const double *gamma, const double *beta, size_t rows,
                           size_t cols, double eps, double *y, double *mean, double *rstd) {
    for (size_t r = 0; r < rows; r++) {
        const double *xr = x + r * cols;
        double mu = 0, var = 0;
        for (size_t c = 0; c < cols; c++)
            mu += xr[c];
        mu /= (double)cols;
        for (size_t c = 0; c < cols; c++)
            var += (xr[c] - mu) * (xr[c] - mu);
        var /= (double)cols;
        double rs = 1.0 / sqrt(var + eps);
        for (size_t c = 0; c < cols; c++)
            y[r * cols + c] = (xr[c] - mu) * rs * gamma[c] + beta[c];
        mean[r] = mu;
        rstd[r] = rs;
    }
}

void ref_layernorm_backward(const double *x, const double *gamma, const double *mean,
                            const double *rstd, const double *dy, size_t rows, size_t cols,
                            double *dx, double *dgamma, double *dbeta) {
    for (size_t r = 0; r < rows; r++) {
        const double *xr = x + r * cols, *gr = dy + r * cols;
        double sum_g = 0, sum_gx = 0;
        for (size_t c = 0; c < cols; c++) {
            double xhat = (xr[c] - mean[r]) * rstd[r];
            sum_g += gr[c] * gamma[c];
            sum_gx += gr[c] * gamma[c] * xhat;
            dgamma[c] += gr[c] * xhat;
            dbeta[c] += gr[c];
        }
        sum_g /= (double)cols;
        sum_gx /= (double)cols;
        for (size_t c = 0; c < cols; c++) {
            double xhat = (xr[c] - mean[r]) * rstd[r];
            dx[r * cols + c] = rstd[r] * (gr[c] * gamma[c] - sum_g - xhat * sum_gx);
        }
    }
}

void ref_bias_add(double *y, const double *b, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            y[r * cols + c] += b[c];
}

void ref_bias_backward(const double *dy, size_t rows, size_t cols, double *db) {
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            db[c] += dy[r * cols + c];
}

void ref_linear_forward(const double *x, const double *w, const double *b, size_t rows,
                        size_t in, size_t out, double *y) {
    for (size_t r = 0; r < rows; r++)
        for (size_t o = 0; o < out; o++) {
            double acc = b ? b[o] : 0;
            for (size_t i = 0; i < in; i++)
                acc += x[r * in + i] * w[o * in + i];
            y[r * out + o] = acc;
        }
}

void ref_linear_backward(const double *x, const double *w, const double *dy, size_t rows,
                         size_t in, size_t out, double *dx, double *dw, double *db) {
    for (size_t r = 0; r < rows; r++) {
        for (size_t i = 0; dx && i < in; i++) {
            double acc = 0;
            for (size_t o = 0; o < out; o++)
                acc += dy[r * out + o] * w[o * in + i];
            dx[r * in + i] = acc;
        }
        for (size_t o = 0; o < out; o++) {
            for (size_t i = 0; i < in; i++)
                dw[o * in + i] += dy[r * out + o] * x[r * in + i];
            if (db)
                db[o] += dy[r * out + o];
        }
    }
}

/* Φ(x) through erfc, which keeps its relative accuracy in the left tail where 1 + erf(x)
 * cancels to 0. */
static double ref_normal_cdf(double x) {
    return 0.5 * erfc(-x / sqrt(2.0));
}

void ref_gelu_forward(const double *x, size_t n, double *y) {
    for (size_t i = 0; i < n; i++)
        y[i] = x[i] * ref_normal_cdf(x[i]);
}

void ref_gelu_backward(const double *x, const double *dy, size_t n, double *dx) {
    for (size_t i = 0; i < n; i++) {
        double cdf = ref_normal_cdf(x[i]);
        double pdf = exp(-0.5 * x[i] * x[i]) / sqrt(2.0 * M_PI);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
    }
}

void ref_softmax_forward(const double *s, size_t rows, size_t n, double scale, double *p) {
    for (size_t r = 0; r < rows; r++) {
        const double *sr = s + r * n;
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < n; j++)
            mx = fmax(mx, scale * sr[j]);
        for (size_t j = 0; j < n; j++)
            sum += exp(scale * sr[j] - mx);
        for (size_t j = 0; j < n; j++)
            p[r * n + j] = exp(scale * sr[j] - mx) / sum;
    }
}

void ref_softmax_backward(const double *p, const double *dp, size_t rows, size_t n, double scale,
                          double *ds) {
    for (size_t r = 0; r < rows; r++) {
        double dot = 0;
        for (size_t j = 0; j < n; j++)
            dot += p[r * n + j] * dp[r * n + j];
        for (size_t j = 0; j < n; j++)
            ds[r * n + j] = scale * p[r * n + j] * (dp[r * n + j] - dot);
    }
}

/* Index of element (b, head, t, d) in a contiguous [B, heads, T, hd] tensor. */
static size_t ref_head_index(size_t b, size_t head, size_t t, size_t d, size_t heads,
                             size_t tokens, size_t head_dim) {
    return ((b * heads + head) * tokens + t) * head_dim + d;
}

void ref_heads_split(const double *qkv, size_t ld, size_t section, size_t batch, size_t tokens,
                     size_t heads, size_t head_dim, double *q, double *k, double *v) {
    double *dst[3] = {q, k, v};
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < tokens; t++)
            for (size_t s = 0; s < 3; s++)
                for (size_t h = 0; h < heads; h++)
                    for (size_t d = 0; d < head_dim; d++)
                        dst[s][ref_head_index(b, h, t, d, heads, tokens, head_dim)] =
                            qkv[(b * tokens + t) * ld + s * section + h * head_dim + d];
}

void ref_heads_split_backward(const double *dq, const double *dk, const double *dv, size_t ld,
                              size_t section, size_t batch, size_t tokens, size_t heads,
                              size_t head_dim, double *dqkv) {
    const double *src[3] = {dq, dk, dv};
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < tokens; t++)
            for (size_t s = 0; s < 3; s++)
                for (size_t h = 0; h < heads; h++)
                    for (size_t d = 0; d < head_dim; d++)
                        dqkv[(b * tokens + t) * ld + s * section + h * head_dim + d] =
                            src[s][ref_head_index(b, h, t, d, heads, tokens, head_dim)];
}

void ref_heads_merge(const double *o, size_t batch, size_t tokens, size_t heads, size_t head_dim,
                     double *out) {
    size_t width = heads * head_dim;
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < tokens; t++)
            for (size_t h = 0; h < heads; h++)
                for (size_t d = 0; d < head_dim; d++)
                    out[(b * tokens + t) * width + h * head_dim + d] =
                        o[ref_head_index(b, h, t, d, heads, tokens, head_dim)];
}

void ref_heads_merge_backward(const double *dout, size_t batch, size_t tokens, size_t heads,
                              size_t head_dim, double *dout_heads) {
    size_t width = heads * head_dim;
    for (size_t b = 0; b < batch; b++)
        for (size_t t = 0; t < tokens; t++)
            for (size_t h = 0; h < heads; h++)
                for (size_t d = 0; d < head_dim; d++)
                    dout_heads[ref_head_index(b, h, t, d, heads, tokens, head_dim)] =
                        dout[(b * tokens + t) * width + h * head_dim + d];
}

void ref_attention_forward(const double *q, const double *k, const double *v, size_t bh,
                           size_t tokens, size_t head_dim, double scale, double *p, double *o) {
    size_t tt = tokens * tokens, td = tokens * head_dim;
    double *s = malloc(tt * sizeof *s);
    for (size_t h = 0; h < bh; h++) {
        const double *qh = q + h * td, *kh = k + h * td, *vh = v + h * td;
        for (size_t i = 0; i < tokens; i++)
            for (size_t j = 0; j < tokens; j++) {
                double acc = 0;
                for (size_t d = 0; d < head_dim; d++)
                    acc += qh[i * head_dim + d] * kh[j * head_dim + d];
                s[i * tokens + j] = acc;
            }
        ref_softmax_forward(s, tokens, tokens, scale, p + h * tt);
        for (size_t i = 0; i < tokens; i++)
            for (size_t d = 0; d < head_dim; d++) {
                double acc = 0;
                for (size_t j = 0; j < tokens; j++)
                    acc += p[h * tt + i * tokens + j] * vh[j * head_dim + d];
                o[h * td + i * head_dim + d] = acc;
            }
    }
    free(s);
}

void ref_attention_backward(const double *q, const double *k, const double *v, const double *p,
                            const double *dout, size_t bh, size_t tokens, size_t head_dim,
                            double scale, double *dq, double *dk, double *dv) {
    size_t tt = tokens * tokens, td = tokens * head_dim;
    double *dp = malloc(tt * sizeof *dp), *ds = malloc(tt * sizeof *ds);
    for (size_t h = 0; h < bh; h++) {
        const double *qh = q + h * td, *kh = k + h * td, *vh = v + h * td;
        const double *ph = p + h * tt, *go = dout + h * td;

        /* dp = dout · v^T, dv = p^T · dout */
        for (size_t i = 0; i < tokens; i++)
            for (size_t j = 0; j < tokens; j++) {
                double acc = 0;
                for (size_t d = 0; d < head_dim; d++)
                    acc += go[i * head_dim + d] * vh[j * head_dim + d];
                dp[i * tokens + j] = acc;
            }
        for (size_t j = 0; j < tokens; j++)
            for (size_t d = 0; d < head_dim; d++) {
                double acc = 0;
                for (size_t i = 0; i < tokens; i++)
                    acc += ph[i * tokens + j] * go[i * head_dim + d];
                dv[h * td + j * head_dim + d] = acc;
            }

        /* through the softmax, then ds = dq·k^T products */
        ref_softmax_backward(ph, dp, tokens, tokens, scale, ds);
        for (size_t i = 0; i < tokens; i++)
            for (size_t d = 0; d < head_dim; d++) {
                double acc_q = 0, acc_k = 0;
                for (size_t j = 0; j < tokens; j++) {
                    acc_q += ds[i * tokens + j] * kh[j * head_dim + d];
                    acc_k += ds[j * tokens + i] * qh[j * head_dim + d];
                }
                dq[h * td + i * head_dim + d] = acc_q;
                dk[h * td + i * head_dim + d] = acc_k;
            }
    }
    free(dp);
    free(ds);
}

void ref_residual_add(double *x, const double *y, size_t rows, size_t cols,
                      size_t rows_per_sample, const double *mask, double keep_scale) {
    for (size_t r = 0; r < rows; r++) {
        double f = mask ? mask[r / rows_per_sample] * keep_scale : 1.0;
        for (size_t c = 0; c < cols; c++)
            x[r * cols + c] += f * y[r * cols + c];
    }
}

void ref_residual_backward(const double *dx, size_t rows, size_t cols, size_t rows_per_sample,
                           const double *mask, double keep_scale, double *dy) {
    for (size_t r = 0; r < rows; r++) {
        double f = mask ? mask[r / rows_per_sample] * keep_scale : 1.0;
        for (size_t c = 0; c < cols; c++)
            dy[r * cols + c] = f * dx[r * cols + c];
    }
}

void ref_gate_weights(const double *logits, const double *noise, size_t samples, double tau,
                      enum ops_gate_mode mode, double *weights, double *soft) {
    for (size_t i = 0; i < samples; i++) {
        double y0 = logits[0], y1 = logits[1];
        if (mode == OPS_GATE_GUMBEL) {
            y0 += noise[2 * i];
            y1 += noise[2 * i + 1];
        }
        y0 /= tau;
        y1 /= tau;
        double mx = fmax(y0, y1), e0 = exp(y0 - mx), e1 = exp(y1 - mx);
        soft[2 * i] = e0 / (e0 + e1);
        soft[2 * i + 1] = e1 / (e0 + e1);
        switch (mode) {
        case OPS_GATE_GUMBEL: /* ties go to index 0, as argmax does */
            weights[2 * i] = y0 >= y1 ? 1.0 : 0.0;
            weights[2 * i + 1] = y0 >= y1 ? 0.0 : 1.0;
            break;
        case OPS_GATE_SHARED:
            weights[2 * i] = 1.0;
            weights[2 * i + 1] = 0.0;
            break;
        case OPS_GATE_TASK:
            weights[2 * i] = 0.0;
            weights[2 * i + 1] = 1.0;
            break;
        case OPS_GATE_BOTH:
            weights[2 * i] = soft[2 * i];
            weights[2 * i + 1] = soft[2 * i + 1];
            break;
        }
    }
}

void ref_gate_mix_forward(const double *shared, const double *task, const double *weights,
                          size_t samples, size_t rows_per_sample, size_t cols, double *out) {
    for (size_t i = 0; i < samples; i++)
        for (size_t e = 0; e < rows_per_sample * cols; e++) {
            size_t at = i * rows_per_sample * cols + e;
            double a = shared ? shared[at] : 0.0, b = task ? task[at] : 0.0;
            out[at] = weights[2 * i] * a + weights[2 * i + 1] * b;
        }
}

void ref_gate_mix_backward(const double *shared, const double *task, const double *weights,
                           const double *soft, const double *dout, size_t samples,
                           size_t rows_per_sample, size_t cols, double tau,
                           enum ops_gate_mode mode, double *dshared, double *dtask,
                           double *dlogits) {
    size_t per = rows_per_sample * cols;
    for (size_t i = 0; i < samples; i++) {
        double dw0 = 0, dw1 = 0;
        for (size_t e = 0; e < per; e++) {
            size_t at = i * per + e;
            if (dshared)
                dshared[at] = weights[2 * i] * dout[at];
            if (dtask)
                dtask[at] = weights[2 * i + 1] * dout[at];
            if (shared)
                dw0 += dout[at] * shared[at];
            if (task)
                dw1 += dout[at] * task[at];
        }
        if (mode != OPS_GATE_GUMBEL && mode != OPS_GATE_BOTH)
            continue;

        /* straight-through: the hard weights' gradient is taken as the soft ones' */
        double s0 = soft[2 * i], s1 = soft[2 * i + 1];
        double dot = s0 * dw0 + s1 * dw1;
        dlogits[0] += s0 * (dw0 - dot) / tau;
        dlogits[1] += s1 * (dw1 - dot) / tau;
    }
}

void ref_bnneck_forward(const double *x, const double *gamma, const double *beta, size_t n,
                        size_t c, double eps, double momentum, int training, double *y,
                        double *mean, double *rstd, double *running_mean, double *running_var) {
    for (size_t j = 0; j < c; j++) {
        double mu, var;
        if (training) {
            mu = 0;
            var = 0;
            for (size_t i = 0; i < n; i++)
                mu += x[i * c + j];
            mu /= (double)n;
            for (size_t i = 0; i < n; i++)
                var += (x[i * c + j] - mu) * (x[i * c + j] - mu);
            var /= (double)n;
            double unbiased = n > 1 ? var * (double)n / (double)(n - 1) : var;
            running_mean[j] = (1 - momentum) * running_mean[j] + momentum * mu;
            running_var[j] = (1 - momentum) * running_var[j] + momentum * unbiased;
        } else {
            mu = running_mean[j];
            var = running_var[j];
        }
        double rs = 1.0 / sqrt(var + eps);
        for (size_t i = 0; i < n; i++)
            y[i * c + j] = (x[i * c + j] - mu) * rs * gamma[j] + beta[j];
        if (mean)
            mean[j] = mu;
        if (rstd)
            rstd[j] = rs;
    }
}

void ref_bnneck_backward(const double *x, const double *gamma, const double *mean,
                         const double *rstd, const double *dy, size_t n, size_t c, double *dx,
                         double *dgamma) {
    for (size_t j = 0; j < c; j++) {
        double sum_dy = 0, sum_dyx = 0;
        for (size_t i = 0; i < n; i++) {
            double xhat = (x[i * c + j] - mean[j]) * rstd[j];
            sum_dy += dy[i * c + j];
            sum_dyx += dy[i * c + j] * xhat;
        }
        dgamma[j] += sum_dyx;
        for (size_t i = 0; i < n; i++) {
            double xhat = (x[i * c + j] - mean[j]) * rstd[j];
            dx[i * c + j] = gamma[j] * rstd[j] *
                            (dy[i * c + j] - sum_dy / (double)n - xhat * sum_dyx / (double)n);
        }
    }
}

void ref_l2norm_forward(const double *x, size_t rows, size_t cols, double *y, double *norm) {
    for (size_t r = 0; r < rows; r++) {
        double ss = 0;
        for (size_t c = 0; c < cols; c++)
            ss += x[r * cols + c] * x[r * cols + c];
        double nr = fmax(sqrt(ss), REF_NORM_MIN);
        for (size_t c = 0; c < cols; c++)
            y[r * cols + c] = x[r * cols + c] / nr;
        norm[r] = nr;
    }
}

void ref_l2norm_backward(const double *y, const double *norm, const double *dy, size_t rows,
                         size_t cols, double *dx) {
    for (size_t r = 0; r < rows; r++) {
        double dot = 0;
        for (size_t c = 0; c < cols; c++)
            dot += y[r * cols + c] * dy[r * cols + c];
        for (size_t c = 0; c < cols; c++)
            dx[r * cols + c] = (dy[r * cols + c] - y[r * cols + c] * dot) / norm[r];
    }
}

double ref_cosface_loss(const double *cos, const int *labels, size_t n, size_t k, double s,
                        double m, double loss_weight, double *dcos) {
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        const double *ci = cos + i * k;
        size_t y = (size_t)labels[i];
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < k; j++)
            mx = fmax(mx, s * (ci[j] - (j == y ? m : 0.0)));
        for (size_t j = 0; j < k; j++)
            sum += exp(s * (ci[j] - (j == y ? m : 0.0)) - mx);
        total += log(sum) + mx - s * (ci[y] - m);
        for (size_t j = 0; j < k; j++) {
            double p = exp(s * (ci[j] - (j == y ? m : 0.0)) - mx) / sum;
            dcos[i * k + j] = loss_weight * s * (p - (j == y ? 1.0 : 0.0)) / (double)n;
        }
    }
    return loss_weight * total / (double)n;
}

double ref_cosface(const double *feat, const double *weight, const int *labels, size_t n,
                   size_t k, size_t c, double s, double m, double loss_weight, double *dfeat,
                   double *dweight) {
    double *fn = malloc(n * c * sizeof *fn), *fnorm = malloc(n * sizeof *fnorm);
    double *wn = malloc(k * c * sizeof *wn), *wnorm = malloc(k * sizeof *wnorm);
    double *cos = malloc(n * k * sizeof *cos), *dcos = malloc(n * k * sizeof *dcos);
    double *dfn = calloc(n * c, sizeof *dfn), *dwn = calloc(k * c, sizeof *dwn);
    double *dw = malloc(k * c * sizeof *dw);

    /* cos = normalised features · normalised class weights^T */
    ref_l2norm_forward(feat, n, c, fn, fnorm);
    ref_l2norm_forward(weight, k, c, wn, wnorm);
    ref_linear_forward(fn, wn, NULL, n, c, k, cos);
    double loss = ref_cosface_loss(cos, labels, n, k, s, m, loss_weight, dcos);

    /* back through the product and both normalisations */
    ref_linear_backward(fn, wn, dcos, n, c, k, dfn, dwn, NULL);
    ref_l2norm_backward(fn, fnorm, dfn, n, c, dfeat);
    ref_l2norm_backward(wn, wnorm, dwn, k, c, dw);
    for (size_t i = 0; i < k * c; i++)
        dweight[i] += dw[i];
    free(fn);
    free(fnorm);
    free(wn);
    free(wnorm);
    free(cos);
    free(dcos);
    free(dfn);
    free(dwn);
    free(dw);
    return loss;
}

/* Euclidean distance of rows i and j with the squared distance floored, and whether the floor
 * applied (then its gradient is zero). */
static double ref_distance(const double *feat, size_t c, size_t i, size_t j, int *floored) {
    double ss = 0;
    for (size_t e = 0; e < c; e++) {
        double d = feat[i * c + e] - feat[j * c + e];
        ss += d * d;
    }
    *floored = ss <= REF_DIST_MIN;
    return sqrt(fmax(ss, REF_DIST_MIN));
}

double ref_triplet(const double *feat, const int *labels, size_t n, size_t c, double loss_weight,
                   double *dfeat) {
    double total = 0;
    for (size_t a = 0; a < n; a++) {
        /* hardest positive (largest distance, the anchor itself excluded) and hardest
           negative (smallest); ties keep the first index */
        size_t pos = n, neg = n;
        double d_ap = -1, d_an = INFINITY;
        for (size_t j = 0; j < n; j++) {
            int fl;
            double d = ref_distance(feat, c, a, j, &fl);
            if (j != a && labels[j] == labels[a] && d > d_ap) {
                d_ap = d;
                pos = j;
            } else if (labels[j] != labels[a] && d < d_an) {
                d_an = d;
                neg = j;
            }
        }
        if (pos == n || neg == n)
            continue;
        double z = d_ap - d_an;
        total += z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
        double g = loss_weight / (double)n / (1.0 + exp(-z));

        /* d(d_ij)/d(f_i) = (f_i - f_j) / d_ij */
        int fl_p, fl_n;
        ref_distance(feat, c, a, pos, &fl_p);
        ref_distance(feat, c, a, neg, &fl_n);
        for (size_t e = 0; e < c; e++) {
            if (!fl_p) {
                double u = (feat[a * c + e] - feat[pos * c + e]) / d_ap;
                dfeat[a * c + e] += g * u;
                dfeat[pos * c + e] -= g * u;
            }
            if (!fl_n) {
                double u = (feat[a * c + e] - feat[neg * c + e]) / d_an;
                dfeat[a * c + e] -= g * u;
                dfeat[neg * c + e] += g * u;
            }
        }
    }
    return loss_weight * total / (double)n;
}

void ref_sgd(double *w, const double *g, double *v, size_t n, double lr, double momentum,
             double weight_decay, double clip_norm) {
    double coef = 1.0;
    if (clip_norm > 0) {
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += g[i] * g[i];
        coef = fmin(1.0, clip_norm / (sqrt(ss) + 1e-6));
    }
    for (size_t i = 0; i < n; i++) {
        double gi = coef * g[i] + weight_decay * w[i];
        v[i] = momentum * v[i] + gi;
        w[i] -= lr * v[i];
    }
}

size_t ref_count_nonfinite(const float *x, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += !isfinite(x[i]);
    return count;
}
