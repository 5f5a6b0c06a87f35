/* The committed PyTorch reference (tests/reference/supernet_ref.safetensors) against a plain
 * C forward pass in double written from the conventions at the top of supernet_ref.py, on
 * the parameter layout of src/model/params.h. It checks that the conventions, the layout and
 * the file agree: every intermediate, feature, loss and evaluation output within 1e-5, and
 * the stored gradients against central differences of this forward (gate logits through
 * the straight-through rule, from differences taken on the gate weights themselves). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "model/checkpoint.h"

static int failures;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (failures++ < 30) {                                                           \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
                fprintf(stderr, __VA_ARGS__);                                                \
                fprintf(stderr, "\n");                                                       \
            }                                                                                \
        }                                                                                    \
    } while (0)

#define MAXB 32
#define TAU 5.0
#define BN_EPS 1e-5
#define LN_EPS 1e-6

/* Everything the forward pass needs. */
static struct ufo_space S;
static struct ufo_layout L;
static struct ufo_arch ARCH;
static int B, C, T, HD, A, FMAX, GRID, P;
static int task_of[MAXB], label[MAXB];
static double *images, *gumbel; /* [B, 3, S, S], [B, depth, 2] */

/* Outputs of one pass. */
struct outs {
    double *embed;                /* [B, T, C] */
    double *block[UFO_MAX_BLOCKS]; /* [B, T, C] after kept blocks */
    double probs[MAXB][UFO_MAX_BLOCKS][2];
    double soft[MAXB][UFO_MAX_BLOCKS][2];
    double *feature, *neck;       /* [B, C] */
    double *logits[UFO_MAX_TASKS];
    double *run_mean[UFO_MAX_TASKS], *run_var[UFO_MAX_TASKS];
    double cosface[UFO_MAX_TASKS], triplet[UFO_MAX_TASKS], total;
};

static double *W(const double *params, int index) {
    return (double *)params + L.params[index].offset;
}

/* y[n, o] = Σ_i x[n, i]·w[o·ldw + i] + b[o], for o < out, i < in. */
static void linear(const double *x, int n, int in, const double *w, int ldw, const double *b,
                   int out, double *y) {
    for (int r = 0; r < n; r++)
        for (int o = 0; o < out; o++) {
            double acc = b[o];
            for (int i = 0; i < in; i++)
                acc += x[(size_t)r * in + i] * w[(size_t)o * ldw + i];
            y[(size_t)r * out + o] = acc;
        }
}

static void layer_norm(const double *x, int n, const double *w, const double *b, double *y) {
    for (int r = 0; r < n; r++) {
        const double *v = x + (size_t)r * C;
        double mean = 0, var = 0;
        for (int c = 0; c < C; c++)
            mean += v[c];
        mean /= C;
        for (int c = 0; c < C; c++)
            var += (v[c] - mean) * (v[c] - mean);
        var /= C;
        for (int c = 0; c < C; c++)
            y[(size_t)r * C + c] = (v[c] - mean) / sqrt(var + LN_EPS) * w[c] + b[c];
    }
}

/* fc2(GELU(fc1(u))) of one FFN path over n rows, hidden width f. */
static void ffn(const double *prm, const struct ufo_ffn_index *ix, const double *u, int n,
                int f, double *y) {
    double *h = malloc((size_t)n * f * sizeof *h);
    linear(u, n, C, W(prm, ix->fc1_w), C, W(prm, ix->fc1_b), f, h);
    for (size_t i = 0; i < (size_t)n * f; i++)
        h[i] = 0.5 * h[i] * (1.0 + erf(h[i] / sqrt(2.0)));
    linear(h, n, f, W(prm, ix->fc2_w), FMAX, W(prm, ix->fc2_b), C, y);
    free(h);
}

/* x += proj(attention(u)) with h heads, per image. */
static void attention(const double *prm, const struct ufo_block_index *ix, const double *u,
                      int h, double *x) {
    int a = h * HD;
    size_t rows = (size_t)B * T;
    double *q = malloc(rows * a * sizeof *q), *k = malloc(rows * a * sizeof *k);
    double *v = malloc(rows * a * sizeof *v), *o = malloc(rows * a * sizeof *o);
    double *y = malloc(rows * C * sizeof *y), s[64 * 64];
    const double *w = W(prm, ix->qkv_w), *bias = W(prm, ix->qkv_b);
    linear(u, (int)rows, C, w, C, bias, a, q);
    linear(u, (int)rows, C, w + (size_t)A * C, C, bias + A, a, k);
    linear(u, (int)rows, C, w + (size_t)2 * A * C, C, bias + 2 * A, a, v);
    for (int img = 0; img < B; img++)
        for (int hh = 0; hh < h; hh++) {
            for (int i = 0; i < T; i++) {
                double mx = -1e300, sum = 0;
                for (int j = 0; j < T; j++) {
                    double acc = 0;
                    for (int d = 0; d < HD; d++)
                        acc += q[((size_t)img * T + i) * a + hh * HD + d] *
                               k[((size_t)img * T + j) * a + hh * HD + d];
                    s[j] = acc / sqrt((double)HD);
                    mx = fmax(mx, s[j]);
                }
                for (int j = 0; j < T; j++)
                    sum += s[j] = exp(s[j] - mx);
                for (int d = 0; d < HD; d++) {
                    double acc = 0;
                    for (int j = 0; j < T; j++)
                        acc += s[j] / sum * v[((size_t)img * T + j) * a + hh * HD + d];
                    o[((size_t)img * T + i) * a + hh * HD + d] = acc;
                }
            }
        }
    linear(o, (int)rows, a, W(prm, ix->proj_w), A, W(prm, ix->proj_b), C, y);
    for (size_t i = 0; i < rows * C; i++)
        x[i] += y[i];
    free(q), free(k), free(v), free(o), free(y);
}

/* Rows [first, first + n) of the batch belong to task t. */
static void task_rows(int t, int *first, int *n) {
    *first = -1, *n = 0;
    for (int b = 0; b < B; b++)
        if (task_of[b] == t) {
            if (*first < 0)
                *first = b;
            (*n)++;
        }
}

/* Heads and losses of task t on features f (pre-neck), writing necks. */
static void heads(const double *prm, int t, int train, struct outs *o) {
    int first, n;
    task_rows(t, &first, &n);
    const struct ufo_head_index *hx = &L.head[t];
    const double *f = o->feature + (size_t)first * C;
    double *nk = o->neck + (size_t)first * C;
    const double *bw = W(prm, hx->bn_w), *bb = W(prm, hx->bn_b);
    for (int c = 0; c < C; c++) {
        double mean = 0, var = 0;
        if (train) {
            for (int r = 0; r < n; r++)
                mean += f[(size_t)r * C + c];
            mean /= n;
            for (int r = 0; r < n; r++)
                var += (f[(size_t)r * C + c] - mean) * (f[(size_t)r * C + c] - mean);
            var /= n;
            o->run_mean[t][c] = 0.9 * W(prm, hx->bn_mean)[c] + 0.1 * mean;
            o->run_var[t][c] = 0.9 * W(prm, hx->bn_var)[c] + 0.1 * var * n / (n - 1);
        } else {
            mean = W(prm, hx->bn_mean)[c];
            var = W(prm, hx->bn_var)[c];
        }
        for (int r = 0; r < n; r++)
            nk[(size_t)r * C + c] = (f[(size_t)r * C + c] - mean) / sqrt(var + BN_EPS) * bw[c] +
                                    bb[c];
    }
    if (!train)
        return;

    /* CosFace */
    const struct ufo_task *task = &S.tasks[t];
    const double *cw = W(prm, hx->cosface_w);
    double ce = 0;
    for (int r = 0; r < n; r++) {
        double nn = 0, mx = -1e300, sum = 0;
        for (int c = 0; c < C; c++)
            nn += nk[(size_t)r * C + c] * nk[(size_t)r * C + c];
        nn = fmax(sqrt(nn), 1e-12);
        double *lg = o->logits[t] + (size_t)r * task->classes;
        for (int k = 0; k < task->classes; k++) {
            double wn = 0, dot = 0;
            for (int c = 0; c < C; c++) {
                wn += cw[(size_t)k * C + c] * cw[(size_t)k * C + c];
                dot += nk[(size_t)r * C + c] * cw[(size_t)k * C + c];
            }
            double cosv = dot / nn / fmax(sqrt(wn), 1e-12);
            lg[k] = task->cosface_scale *
                    (cosv - (k == label[first + r] ? task->cosface_margin : 0.0));
            mx = fmax(mx, lg[k]);
        }
        for (int k = 0; k < task->classes; k++)
            sum += exp(lg[k] - mx);
        ce += -(lg[label[first + r]] - mx - log(sum));
    }
    o->cosface[t] = ce / n;

    /* batch-hard soft-margin triplet on the pre-neck feature */
    o->triplet[t] = 0;
    if (task->triplet) {
        double tr = 0;
        for (int i = 0; i < n; i++) {
            double dap = -1e300, dan = 1e300;
            for (int j = 0; j < n; j++) {
                double d = 0;
                for (int c = 0; c < C; c++)
                    d += (f[(size_t)i * C + c] - f[(size_t)j * C + c]) *
                         (f[(size_t)i * C + c] - f[(size_t)j * C + c]);
                d = sqrt(fmax(d, 1e-12));
                if (label[first + i] == label[first + j] && i != j)
                    dap = fmax(dap, d);
                else if (label[first + i] != label[first + j])
                    dan = fmin(dan, d);
            }
            tr += log1p(exp(dap - dan));
        }
        o->triplet[t] = tr / n;
    }
}

/* One pass. `pert` (or NULL) is added to the training gate weights p[b][block][i], so that
 * differences in it give dL/dp for the straight-through gate gradient. */
static void forward(const double *prm, int train, const double (*pert)[UFO_MAX_BLOCKS][2],
                    struct outs *o) {
    size_t rows = (size_t)B * T;
    double *x = o->embed, *u = malloc(rows * C * sizeof *u);
    double *sh = malloc(rows * C * sizeof *sh), *tk = malloc(rows * C * sizeof *tk);

    /* patch embedding, cls, pos */
    const double *pw = W(prm, L.patch_w), *pb = W(prm, L.patch_b);
    const double *cls = W(prm, L.cls_token), *pos = W(prm, L.pos_embed);
    int side = GRID * P;
    for (int b = 0; b < B; b++) {
        for (int c = 0; c < C; c++)
            x[((size_t)b * T) * C + c] = cls[c] + pos[c];
        for (int py = 0; py < GRID; py++)
            for (int px = 0; px < GRID; px++) {
                int tok = 1 + py * GRID + px;
                for (int c = 0; c < C; c++) {
                    double acc = pb[c];
                    for (int ch = 0; ch < 3; ch++)
                        for (int ky = 0; ky < P; ky++)
                            for (int kx = 0; kx < P; kx++)
                                acc += pw[((size_t)(c * 3 + ch) * P + ky) * P + kx] *
                                       images[(((size_t)b * 3 + ch) * side + py * P + ky) * side +
                                              px * P + kx];
                    x[((size_t)b * T + tok) * C + c] = acc + pos[(size_t)tok * C + c];
                }
            }
    }
    double *cur = malloc(rows * C * sizeof *cur);
    memcpy(cur, x, rows * C * sizeof *cur);
    memset(o->probs, 0, sizeof o->probs);
    memset(o->soft, 0, sizeof o->soft);

    for (int n = 0; n < S.depth; n++) {
        const struct ufo_block_arch *blk = &ARCH.block[n];
        const struct ufo_block_index *ix = &L.block[n];
        if (!blk->kept)
            continue;
        int f = ufo_space_hidden(&S, blk->mlp_ratio);
        layer_norm(cur, (int)rows, W(prm, ix->norm1_w), W(prm, ix->norm1_b), u);
        attention(prm, ix, u, blk->heads, cur);
        layer_norm(cur, (int)rows, W(prm, ix->norm2_w), W(prm, ix->norm2_b), u);
        ffn(prm, &ix->shared, u, (int)rows, f, sh);
        for (int t = 0; t < S.n_tasks; t++) {
            int first, cnt;
            task_rows(t, &first, &cnt);
            ffn(prm, &ix->task[t], u + (size_t)first * T * C, cnt * T, f,
                tk + (size_t)first * T * C);
        }
        for (int b = 0; b < B; b++) {
            const double *lg = W(prm, ix->gate[task_of[b]]);
            double p0, p1;
            if (train) {
                double z0 = (lg[0] + gumbel[(b * S.depth + n) * 2]) / TAU;
                double z1 = (lg[1] + gumbel[(b * S.depth + n) * 2 + 1]) / TAU;
                double m = fmax(z0, z1);
                double e0 = exp(z0 - m), e1 = exp(z1 - m);
                o->soft[b][n][0] = e0 / (e0 + e1);
                o->soft[b][n][1] = e1 / (e0 + e1);
                p0 = z1 > z0 ? 0.0 : 1.0;
                p1 = 1.0 - p0;
            } else {
                enum ufo_path g = blk->path[task_of[b]];
                double e0 = exp(lg[0] / TAU), e1 = exp(lg[1] / TAU);
                p0 = g == UFO_PATH_SHARED ? 1.0 : g == UFO_PATH_TASK ? 0.0 : e0 / (e0 + e1);
                p1 = g == UFO_PATH_SHARED ? 0.0 : g == UFO_PATH_TASK ? 1.0 : e1 / (e0 + e1);
            }
            o->probs[b][n][0] = p0;
            o->probs[b][n][1] = p1;
            if (pert)
                p0 += pert[b][n][0], p1 += pert[b][n][1];
            for (size_t i = (size_t)b * T * C; i < (size_t)(b + 1) * T * C; i++)
                cur[i] += p0 * sh[i] + p1 * tk[i];
        }
        memcpy(o->block[n], cur, rows * C * sizeof *cur);
    }

    /* feature, heads, total */
    for (int b = 0; b < B; b++)
        layer_norm(cur + (size_t)b * T * C, 1, W(prm, L.norm_w), W(prm, L.norm_b),
                   o->feature + (size_t)b * C);
    o->total = 0;
    for (int t = 0; t < S.n_tasks; t++) {
        heads(prm, t, train, o);
        if (train)
            o->total += S.tasks[t].loss_weight * (o->cosface[t] + o->triplet[t]);
    }
    free(u), free(sh), free(tk), free(cur);
}

static void outs_alloc(struct outs *o) {
    memset(o, 0, sizeof *o);
    size_t rows = (size_t)B * T;
    o->embed = malloc(rows * C * sizeof(double));
    for (int n = 0; n < S.depth; n++)
        o->block[n] = malloc(rows * C * sizeof(double));
    o->feature = malloc((size_t)B * C * sizeof(double));
    o->neck = malloc((size_t)B * C * sizeof(double));
    for (int t = 0; t < S.n_tasks; t++) {
        o->logits[t] = malloc((size_t)B * S.tasks[t].classes * sizeof(double));
        o->run_mean[t] = malloc((size_t)C * sizeof(double));
        o->run_var[t] = malloc((size_t)C * sizeof(double));
    }
}

static void outs_free(struct outs *o) {
    free(o->embed);
    for (int n = 0; n < S.depth; n++)
        free(o->block[n]);
    free(o->feature), free(o->neck);
    for (int t = 0; t < S.n_tasks; t++)
        free(o->logits[t]), free(o->run_mean[t]), free(o->run_var[t]);
}

/* A reference tensor as doubles (NULL and a failure when absent or mis-sized). */
static double *ref_get(ufo_st_file *f, const char *name, size_t numel) {
    const struct ufo_st_tensor *t = ufo_st_find(f, name);
    CHECK(t && t->numel == numel, "%s: missing or %llu elements, want %zu", name,
          t ? (unsigned long long)t->numel : 0ull, numel);
    if (!t || t->numel != numel)
        return NULL;
    float *tmp = malloc(numel * sizeof *tmp);
    double *out = malloc(numel * sizeof *out);
    if (ufo_st_read_f32(f, t, tmp) != UFO_OK)
        CHECK(0, "%s: %s", name, ufo_last_error());
    for (size_t i = 0; i < numel; i++)
        out[i] = tmp[i];
    free(tmp);
    return out;
}

/* Compare n values with |got − want| <= tol·(1 + |want|); print the first mismatches. */
static void compare(ufo_st_file *f, const char *name, const double *got, size_t n, double tol) {
    double *want = ref_get(f, name, n);
    if (!want)
        return;
    int bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs(got[i] - want[i]) / (1.0 + fabs(want[i]));
        worst = fmax(worst, err);
        if (err > tol && bad++ < 3)
            fprintf(stderr, "  %s[%zu]: C %.9g, PyTorch %.9g\n", name, i, got[i], want[i]);
    }
    CHECK(bad == 0, "%s: %d of %zu values off (worst %.3g, tolerance %.1g)", name, bad, n, worst,
          tol);
    free(want);
}

/* The gradient outside a kept block's slices (heads past h, hidden units past f) is exactly
 * zero. */
static void check_unused_zero(const struct ufo_param *q, int blk, const double *g,
                              const char *name) {
    int a = ARCH.block[blk].heads * HD, f = ufo_space_hidden(&S, ARCH.block[blk].mlp_ratio);
    int64_t rows = q->shape[0], cols = q->ndim == 2 ? q->shape[1] : 1;
    const char *dot = strrchr(q->name, '.');
    int is_w = strcmp(dot, ".weight") == 0;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            int unused = 0;
            if (strstr(q->name, "attn.qkv"))
                unused = r % A >= a;
            else if (strstr(q->name, "attn.proj") && is_w)
                unused = c >= a;
            else if (strstr(q->name, "fc1"))
                unused = r >= f;
            else if (strstr(q->name, "fc2") && is_w)
                unused = c >= f;
            double v = g[r * cols + c];
            CHECK(!unused || v == 0.0, "%s[%lld, %lld] = %g outside the slice", name,
                  (long long)r, (long long)c, v);
        }
}

int main(void) {
    char path[4096];
    const char *data = getenv("UFO_TEST_DATA");
    snprintf(path, sizeof path, "%s/reference/supernet_ref.safetensors", data ? data : "tests");
    if (ufo_space_from_file(path, &S) != UFO_OK || ufo_layout_create(&S, &L) != UFO_OK) {
        fprintf(stderr, "FAIL %s\n", ufo_last_error());
        return 1;
    }
    C = S.embed_dim, T = ufo_space_tokens(&S), HD = S.head_dim, A = S.max_heads * HD;
    FMAX = ufo_space_hidden(&S, S.mlp_ratio_max), P = S.patch, GRID = S.image_size / P;
    float *pf = malloc(L.total * sizeof *pf);
    double *prm = malloc(L.total * sizeof *prm);
    if (ufo_params_load_ignoring(&L, pf, path, "ref.") != UFO_OK) {
        fprintf(stderr, "FAIL %s\n", ufo_last_error());
        return 1;
    }
    for (size_t i = 0; i < L.total; i++)
        prm[i] = pf[i];
    ufo_st_file *f;
    if (ufo_st_open(path, &f) != UFO_OK ||
        ufo_arch_from_json(&S, ufo_st_metadata(f, "ufo.reference.arch"), "arch", &ARCH) !=
            UFO_OK) {
        fprintf(stderr, "FAIL %s\n", ufo_last_error());
        return 1;
    }
    const struct ufo_st_tensor *lt = ufo_st_find(f, "ref.input.labels");
    B = lt ? (int)lt->numel : 0;
    if (B < 2 || B > MAXB) {
        fprintf(stderr, "FAIL batch %d\n", B);
        return 1;
    }
    double *lab = ref_get(f, "ref.input.labels", (size_t)B);
    double *tsk = ref_get(f, "ref.input.task", (size_t)B);
    for (int b = 0; b < B; b++)
        label[b] = (int)lab[b], task_of[b] = (int)tsk[b];
    free(lab), free(tsk);
    images = ref_get(f, "ref.input.images", (size_t)B * 3 * S.image_size * S.image_size);
    gumbel = ref_get(f, "ref.input.gumbel", (size_t)B * S.depth * 2);

    /* training pass: every intermediate */
    struct outs o;
    outs_alloc(&o);
    forward(prm, 1, NULL, &o);
    size_t btc = (size_t)B * T * C;
    compare(f, "ref.out.embed", o.embed, btc, 1e-5);
    char name[160];
    for (int n = 0; n < S.depth; n++) {
        if (!ARCH.block[n].kept)
            continue;
        snprintf(name, sizeof name, "ref.out.block.%d", n);
        compare(f, name, o.block[n], btc, 1e-5);
    }
    double probs[MAXB * UFO_MAX_BLOCKS * 2], soft[MAXB * UFO_MAX_BLOCKS * 2];
    for (int b = 0; b < B; b++)
        for (int n = 0; n < S.depth; n++)
            for (int i = 0; i < 2; i++) {
                probs[(b * S.depth + n) * 2 + i] = o.probs[b][n][i] * ARCH.block[n].kept;
                soft[(b * S.depth + n) * 2 + i] = o.soft[b][n][i];
            }
    compare(f, "ref.out.gate_probs", probs, (size_t)B * S.depth * 2, 0);
    compare(f, "ref.out.gate_soft", soft, (size_t)B * S.depth * 2, 1e-6);
    compare(f, "ref.out.feature", o.feature, (size_t)B * C, 1e-5);
    compare(f, "ref.out.neck", o.neck, (size_t)B * C, 1e-5);
    for (int t = 0; t < S.n_tasks; t++) {
        int first, n;
        task_rows(t, &first, &n);
        const char *tn = S.tasks[t].name;
        snprintf(name, sizeof name, "ref.out.logits.%s", tn);
        compare(f, name, o.logits[t], (size_t)n * S.tasks[t].classes, 1e-5);
        snprintf(name, sizeof name, "ref.out.running_mean.%s", tn);
        compare(f, name, o.run_mean[t], (size_t)C, 1e-5);
        snprintf(name, sizeof name, "ref.out.running_var.%s", tn);
        compare(f, name, o.run_var[t], (size_t)C, 1e-5);
        snprintf(name, sizeof name, "ref.loss.cosface.%s", tn);
        compare(f, name, &o.cosface[t], 1, 1e-6);
        if (S.tasks[t].triplet) {
            snprintf(name, sizeof name, "ref.loss.triplet.%s", tn);
            compare(f, name, &o.triplet[t], 1, 1e-6);
        }
    }
    compare(f, "ref.loss.total", &o.total, 1, 1e-6);

    /* evaluation pass */
    struct outs e;
    outs_alloc(&e);
    forward(prm, 0, NULL, &e);
    compare(f, "ref.eval.feature", e.feature, (size_t)B * C, 1e-5);
    compare(f, "ref.eval.neck", e.neck, (size_t)B * C, 1e-5);
    outs_free(&e);

    /* gradients by central differences, a few elements of every trainable tensor, including
     * slices an architecture leaves unused (their gradient must be 0) */
    const double eps = 1e-5;
    struct outs d;
    outs_alloc(&d);
    int checked = 0;
    for (int i = 0; i < L.n; i++) {
        const struct ufo_param *q = &L.params[i];
        if ((q->kind != UFO_PARAM_DECAY && q->kind != UFO_PARAM_NO_DECAY) ||
            strstr(q->name, ".gate."))
            continue;
        snprintf(name, sizeof name, "ref.grad.%s", q->name);
        double *g = ref_get(f, name, q->numel);
        if (!g)
            continue;
        int blk = -1;
        sscanf(q->name, "blocks.%d.", &blk);
        if (blk >= 0 && !ARCH.block[blk].kept) {
            /* a dropped block's gradient is exactly zero; no differences needed */
            for (size_t j = 0; j < q->numel; j++)
                CHECK(g[j] == 0.0, "%s[%zu] = %g in a dropped block", name, j, g[j]);
            free(g);
            continue;
        }
        if (blk >= 0)
            check_unused_zero(q, blk, g, name);
        size_t picks[2] = {0, q->numel / 2 + 1};
        for (int k = 0; k < 2; k++) {
            size_t j = picks[k] % q->numel;
            double keep = prm[q->offset + j];
            prm[q->offset + j] = keep + eps;
            forward(prm, 1, NULL, &d);
            double up = d.total;
            prm[q->offset + j] = keep - eps;
            forward(prm, 1, NULL, &d);
            prm[q->offset + j] = keep;
            double fd = (up - d.total) / (2 * eps);
            CHECK(fabs(fd - g[j]) <= 1e-4 * fmax(fabs(fd), fabs(g[j])) + 2e-6,
                  "%s[%zu]: PyTorch %.8g, differences %.8g", name, j, g[j], fd);
            checked++;
        }
        free(g);
    }

    /* gate logits: dL/dl_i = Σ over the task's samples of Σ_k dL/dp_k · y_k(δ_ki − y_i)/τ */
    for (int n = 0; n < S.depth; n++) {
        if (!ARCH.block[n].kept)
            continue;
        for (int t = 0; t < S.n_tasks; t++) {
            double grad[2] = {0, 0};
            static double pert[MAXB][UFO_MAX_BLOCKS][2];
            for (int b = 0; b < B; b++) {
                if (task_of[b] != t)
                    continue;
                double dp[2];
                for (int k = 0; k < 2; k++) {
                    memset(pert, 0, sizeof pert);
                    pert[b][n][k] = eps;
                    forward(prm, 1, (const double(*)[UFO_MAX_BLOCKS][2])pert, &d);
                    double up = d.total;
                    pert[b][n][k] = -eps;
                    forward(prm, 1, (const double(*)[UFO_MAX_BLOCKS][2])pert, &d);
                    dp[k] = (up - d.total) / (2 * eps);
                }
                for (int i = 0; i < 2; i++)
                    for (int k = 0; k < 2; k++)
                        grad[i] += dp[k] * o.soft[b][n][k] * ((k == i) - o.soft[b][n][i]) / TAU;
            }
            snprintf(name, sizeof name, "ref.grad.blocks.%d.gate.%s", n, S.tasks[t].name);
            double *g = ref_get(f, name, 2);
            for (int i = 0; g && i < 2; i++)
                CHECK(fabs(grad[i] - g[i]) <= 1e-4 * fmax(fabs(grad[i]), fabs(g[i])) + 2e-6,
                      "%s[%d]: PyTorch %.8g, differences %.8g", name, i, g[i], grad[i]);
            free(g);
            checked += 2;
        }
    }
    outs_free(&d);
    outs_free(&o);
    ufo_st_close(f);
    free(images), free(gumbel), free(pf), free(prm);
    ufo_layout_free(&L);
    if (failures) {
        fprintf(stderr, "test_supernet_host: %d failures\n", failures);
        return 1;
    }
    printf("test_supernet_host: ok (%d gradient elements checked)\n", checked);
    return 0;
}
