/* The supernet's forward and backward passes on the device, written as straight lists of op
 * calls over one parameter buffer and one activation arena (tensor shapes beside each call).
 *
 * Notation: B images, T = P + 1 tokens, R = B·T rows, C width, hd head width, H max heads,
 * A = H·hd, F = widest FFN hidden width; h heads and hid hidden units in the block at hand. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "device/device.h"
#include "model/vit.h"
#include "ops/ops.h"

#define TRY(call)                                                                          \
    do {                                                                                   \
        ufo_status st_ = (call);                                                           \
        if (st_ != UFO_OK) return st_;                                                     \
    } while (0)

/* Offsets (floats) of one block's saved activations in the arena. */
struct block_acts {
    size_t ln1, mean1, rstd1, q, k, v, probs, merged, x_mid, ln2, mean2, rstd2;
    size_t h1s, g1s, outs, h1t, g1t, outt, gate_w, gate_soft;
};

struct vit {
    ufo_device *dev;
    struct ufo_layout layout;
    struct vit_options opt;
    size_t max_batch, tokens, patches, patch_cols, hidden_max, attn_max, classes_max;
    cl_mem params, grads, momentum, act, labels;
    size_t act_floats;

    /* arena offsets: inputs, embedding, residual streams, blocks, heads, backward scratch */
    size_t images, cols, emb, gumbel, drop;
    size_t stream[UFO_MAX_BLOCKS + 1];
    struct block_acts blk[UFO_MAX_BLOCKS];
    size_t qkv, heads_out, branch, mix;
    size_t feat, feat_mean, feat_rstd, neck, bn_mean, bn_rstd, yn, yn_norm, wn, wn_norm, cos;
    size_t row_loss, losses, trip_work, check;
    size_t dx, dbranch, dln, dg1, dmerged, dheads, dq, dk, dv, dprobs, dqkv, dshared, dtask;
    size_t dweights, demb, dfeat, dneck, dyn, dwn;
    int last_stream[UFO_MAX_BLOCKS + 1]; /* stream slot after each block (for tests) */
};

/* Views into the arena, the parameters and the gradients. */
static struct ufo_matrix A(const struct vit *m, size_t off, size_t ld) {
    return ops_mat(m->act, off, ld);
}
static struct ufo_matrix P(const struct vit *m, int idx, size_t extra, size_t ld) {
    return ops_mat(m->params, m->layout.params[idx].offset + extra, ld);
}
static struct ufo_matrix G(const struct vit *m, int idx, size_t extra, size_t ld) {
    return ops_mat(m->grads, m->layout.params[idx].offset + extra, ld);
}
static const struct ufo_matrix NONE = {NULL, 0, 0};

static size_t bump(size_t *top, size_t floats) {
    size_t at = *top;
    *top += (floats + 15) / 16 * 16; /* 64-byte aligned */
    return at;
}

/* Lay out the arena for the largest architecture at max_batch. */
static void plan_arena(struct vit *m) {
    const struct ufo_space *s = &m->layout.space;
    size_t B = m->max_batch, T = m->tokens, R = B * T, C = (size_t)s->embed_dim;
    size_t H = (size_t)s->max_heads, Aw = m->attn_max, F = m->hidden_max;
    size_t D = (size_t)s->depth, top = 0;

    m->images = bump(&top, B * 3 * (size_t)s->image_size * (size_t)s->image_size);
    m->cols = bump(&top, B * m->patches * m->patch_cols);
    m->emb = bump(&top, B * m->patches * C);
    m->gumbel = bump(&top, D * B * 2);
    m->drop = bump(&top, D * B);
    for (size_t i = 0; i <= D; i++) m->stream[i] = bump(&top, R * C);
    for (size_t i = 0; i < D; i++) {
        struct block_acts *b = &m->blk[i];
        b->ln1 = bump(&top, R * C);
        b->mean1 = bump(&top, R);
        b->rstd1 = bump(&top, R);
        b->q = bump(&top, R * Aw);
        b->k = bump(&top, R * Aw);
        b->v = bump(&top, R * Aw);
        b->probs = bump(&top, B * H * T * T);
        b->merged = bump(&top, R * Aw);
        b->x_mid = bump(&top, R * C);
        b->ln2 = bump(&top, R * C);
        b->mean2 = bump(&top, R);
        b->rstd2 = bump(&top, R);
        b->h1s = bump(&top, R * F);
        b->g1s = bump(&top, R * F);
        b->outs = bump(&top, R * C);
        b->h1t = bump(&top, R * F);
        b->g1t = bump(&top, R * F);
        b->outt = bump(&top, R * C);
        b->gate_w = bump(&top, B * 2);
        b->gate_soft = bump(&top, B * 2);
    }
    m->qkv = bump(&top, R * 3 * Aw);
    m->heads_out = bump(&top, R * Aw);
    m->branch = bump(&top, R * C);
    m->mix = bump(&top, R * C);

    size_t K = m->classes_max, NT = (size_t)s->n_tasks;
    m->feat = bump(&top, B * C);
    m->feat_mean = bump(&top, B);
    m->feat_rstd = bump(&top, B);
    m->neck = bump(&top, B * C);
    m->bn_mean = bump(&top, NT * C);
    m->bn_rstd = bump(&top, NT * C);
    m->yn = bump(&top, B * C);
    m->yn_norm = bump(&top, B);
    m->wn = bump(&top, K * C);
    m->wn_norm = bump(&top, K);
    m->cos = bump(&top, B * K);
    m->row_loss = bump(&top, B);
    m->losses = bump(&top, 2 * UFO_MAX_TASKS);
    m->trip_work = bump(&top, ops_triplet_work_floats(B));
    m->check = bump(&top, OPS_REDUCE_FLOATS);

    m->dx = bump(&top, R * C);
    m->dbranch = bump(&top, R * C);
    m->dln = bump(&top, R * C);
    m->dg1 = bump(&top, R * F);
    m->dmerged = bump(&top, R * Aw);
    m->dheads = bump(&top, R * Aw);
    m->dq = bump(&top, R * Aw);
    m->dk = bump(&top, R * Aw);
    m->dv = bump(&top, R * Aw);
    m->dprobs = bump(&top, B * H * T * T);
    m->dqkv = bump(&top, R * 3 * Aw);
    m->dshared = bump(&top, R * C);
    m->dtask = bump(&top, R * C);
    m->dweights = bump(&top, B * 2);
    m->demb = bump(&top, B * m->patches * C);
    m->dfeat = bump(&top, B * C);
    m->dneck = bump(&top, B * C);
    m->dyn = bump(&top, B * C);
    m->dwn = bump(&top, K * C);
    m->act_floats = top;
}

ufo_status vit_create(ufo_device *dev, const struct ufo_space *space, size_t max_batch,
                      struct vit **out) {
    *out = NULL;
    if (max_batch == 0) return ufo_fail(UFO_ERR_INVALID, "vit: a batch needs at least one image");
    struct vit *m = calloc(1, sizeof *m);
    if (!m) return ufo_fail(UFO_ERR_NOMEM, "out of memory creating the supernet");
    ufo_status st = ufo_layout_create(space, &m->layout);
    if (st != UFO_OK) {
        free(m);
        return st;
    }
    const struct ufo_space *s = &m->layout.space;
    m->dev = dev;
    m->max_batch = max_batch;
    m->tokens = (size_t)ufo_space_tokens(s);
    m->patches = m->tokens - 1;
    m->patch_cols = 3 * (size_t)s->patch * (size_t)s->patch;
    m->hidden_max = (size_t)ufo_space_hidden(s, s->mlp_ratio_max);
    m->attn_max = (size_t)s->max_heads * (size_t)s->head_dim;
    for (int t = 0; t < s->n_tasks; t++)
        if ((size_t)s->tasks[t].classes > m->classes_max) m->classes_max = (size_t)s->tasks[t].classes;
    m->opt.gumbel_tau = 5.0f;
    m->opt.bn_eps = 1e-5f;
    m->opt.bn_momentum = 0.1f;
    for (int t = 0; t < UFO_MAX_TASKS; t++) m->opt.triplet_weight[t] = 1.0f;
    plan_arena(m);

    size_t pbytes = m->layout.total * sizeof(float), abytes = m->act_floats * sizeof(float);
    const struct ufo_device_caps *caps = ufo_device_caps(dev);
    if (abytes > caps->max_alloc || pbytes > caps->max_alloc) {
        vit_destroy(m);
        return ufo_fail(UFO_ERR_INVALID, "vit: activations for batch %zu need %.2f GB, above "
                        "the device's largest buffer (%.2f GB); use a smaller batch",
                        max_batch, abytes / 1e9, caps->max_alloc / 1e9);
    }
    if ((st = device_alloc(dev, pbytes, "parameters", &m->params)) ||
        (st = device_alloc(dev, pbytes, "gradients", &m->grads)) ||
        (st = device_alloc(dev, pbytes, "momentum", &m->momentum)) ||
        (st = device_alloc(dev, abytes, "activations", &m->act)) ||
        (st = device_alloc(dev, max_batch * sizeof(int32_t), "labels", &m->labels))) {
        vit_destroy(m);
        return st;
    }
    float zero = 0.0f;
    cl_int err = CL_SUCCESS;
    cl_mem zeroed[] = {m->params, m->grads, m->momentum, m->act};
    size_t sizes[] = {pbytes, pbytes, pbytes, abytes};
    for (int i = 0; i < 4 && err == CL_SUCCESS; i++)
        err = clEnqueueFillBuffer(dev->queue, zeroed[i], &zero, sizeof zero, 0, sizes[i], 0,
                                  NULL, NULL);
    if (err != CL_SUCCESS) {
        vit_destroy(m);
        return device_cl_fail(err, "clEnqueueFillBuffer", "supernet buffers");
    }
    log_info("supernet: %zu parameters (%.1f MB each for weights, gradients, momentum), "
             "activations %.1f MB for batch %zu", ufo_layout_trainable(&m->layout),
             pbytes / 1e6, abytes / 1e6, max_batch);
    *out = m;
    return UFO_OK;
}

void vit_destroy(struct vit *m) {
    if (!m) return;
    cl_mem bufs[] = {m->params, m->grads, m->momentum, m->act, m->labels};
    for (int i = 0; i < 5; i++)
        if (bufs[i]) clReleaseMemObject(bufs[i]);
    ufo_layout_free(&m->layout);
    free(m);
}

const struct ufo_layout *vit_layout(const struct vit *m) {
    return &m->layout;
}
size_t vit_max_batch(const struct vit *m) {
    return m->max_batch;
}
struct vit_options *vit_options(struct vit *m) {
    return &m->opt;
}
cl_mem vit_params(const struct vit *m) {
    return m->params;
}
cl_mem vit_grads(const struct vit *m) {
    return m->grads;
}
cl_mem vit_momentum(const struct vit *m) {
    return m->momentum;
}

ufo_status vit_upload(struct vit *m, const float *params) {
    return device_write(m->dev, m->params, 0, m->layout.total * sizeof(float), params);
}

ufo_status vit_download(struct vit *m, float *params) {
    return device_read(m->dev, m->params, 0, m->layout.total * sizeof(float), params);
}

static ufo_status fill_zero(struct vit *m, cl_mem buf, size_t offset, size_t floats) {
    float zero = 0.0f;
    if (floats == 0) return UFO_OK;
    cl_int err = clEnqueueFillBuffer(m->dev->queue, buf, &zero, sizeof zero,
                                     offset * sizeof(float), floats * sizeof(float), 0, NULL,
                                     NULL);
    return err == CL_SUCCESS ? UFO_OK : device_cl_fail(err, "clEnqueueFillBuffer", "zero");
}

static ufo_status copy_act(struct vit *m, size_t from, size_t to, size_t floats) {
    cl_int err = clEnqueueCopyBuffer(m->dev->queue, m->act, m->act, from * sizeof(float),
                                     to * sizeof(float), floats * sizeof(float), 0, NULL, NULL);
    return err == CL_SUCCESS ? UFO_OK : device_cl_fail(err, "clEnqueueCopyBuffer", "stream");
}

/* Check the batch against the model and the architecture against the space. */
static ufo_status check_batch(const struct vit *m, const struct ufo_arch *arch,
                              const struct vit_batch *b, int training) {
    const struct ufo_space *s = &m->layout.space;
    TRY(ufo_arch_validate(s, arch));
    if (b->size == 0 || b->size > m->max_batch)
        return ufo_fail(UFO_ERR_INVALID, "vit: batch of %zu images; this model takes 1 to %zu",
                        b->size, m->max_batch);
    if (b->task_begin[0] != 0 || b->task_begin[s->n_tasks] != b->size)
        return ufo_fail(UFO_ERR_INVALID, "vit: task ranges do not cover the batch of %zu",
                        b->size);
    for (int t = 0; t < s->n_tasks; t++)
        if (b->task_begin[t + 1] < b->task_begin[t])
            return ufo_fail(UFO_ERR_INVALID, "vit: task %s has a negative range",
                            s->tasks[t].name);
    if (training) {
        if (!b->labels || !b->gumbel)
            return ufo_fail(UFO_ERR_INVALID, "vit: a training batch needs labels and gate noise");
        for (int t = 0; t < s->n_tasks; t++)
            for (size_t i = b->task_begin[t]; i < b->task_begin[t + 1]; i++)
                if (b->labels[i] < 0 || b->labels[i] >= s->tasks[t].classes)
                    return ufo_fail(UFO_ERR_INVALID, "vit: label %d of sample %zu is outside "
                                    "task %s's %d classes", (int)b->labels[i], i,
                                    s->tasks[t].name, s->tasks[t].classes);
    }
    return UFO_OK;
}

/* Upload the images (and for training the labels, gate noise and drop-path masks, both
 * transposed to [depth, B] so a block's rows of one task are contiguous). */
static ufo_status upload_batch(struct vit *m, const struct vit_batch *b, int training) {
    const struct ufo_space *s = &m->layout.space;
    size_t B = b->size, D = (size_t)s->depth, S = (size_t)s->image_size;
    TRY(device_write(m->dev, m->act, m->images * 4, B * 3 * S * S * 4, b->images));
    if (!training) return UFO_OK;
    TRY(device_write(m->dev, m->labels, 0, B * 4, b->labels));
    float *tmp = malloc(D * B * 2 * sizeof *tmp);
    if (!tmp) return ufo_fail(UFO_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < B; i++)
        for (size_t d = 0; d < D; d++) {
            tmp[(d * B + i) * 2 + 0] = b->gumbel[(i * D + d) * 2 + 0];
            tmp[(d * B + i) * 2 + 1] = b->gumbel[(i * D + d) * 2 + 1];
        }
    ufo_status st = device_write(m->dev, m->act, m->gumbel * 4, D * B * 2 * 4, tmp);
    if (st == UFO_OK && b->drop_mask) {
        for (size_t i = 0; i < B; i++)
            for (size_t d = 0; d < D; d++) tmp[d * B + i] = b->drop_mask[i * D + d];
        st = device_write(m->dev, m->act, m->drop * 4, D * B * 4, tmp);
    }
    free(tmp);
    return st;
}

/* Drop-path of block i: the mask view and 1/(1 - rate_i), or no mask. */
static void drop_path(const struct vit *m, const struct vit_batch *b, int i,
                      struct ufo_matrix *mask, float *keep_scale) {
    int depth = m->layout.space.depth;
    *mask = NONE;
    *keep_scale = 1.0f;
    if (!b->drop_mask || b->drop_path_rate <= 0.0f) return;
    float rate = depth > 1 ? b->drop_path_rate * (float)i / (float)(depth - 1) : 0.0f;
    *mask = A(m, m->drop + (size_t)i * b->size, 0);
    *keep_scale = 1.0f / (1.0f - rate);
}

static enum ops_gate_mode gate_mode(enum ufo_path p) {
    return p == UFO_PATH_SHARED ? OPS_GATE_SHARED : p == UFO_PATH_TASK ? OPS_GATE_TASK
                                                                        : OPS_GATE_BOTH;
}

/* fc2(GELU(fc1(u))) over `rows` rows starting at `row0`: u = ln2 [rows, C] -> out [rows, C],
 * keeping h1 (pre-GELU) and g1 (post-GELU) [rows, hid] for the backward pass. */
static ufo_status ffn_forward(struct vit *m, const struct ufo_ffn_index *f, size_t ln2,
                              size_t h1, size_t g1, size_t out, size_t row0, size_t rows,
                              size_t hid) {
    size_t C = (size_t)m->layout.space.embed_dim, F = m->hidden_max;
    TRY(ops_linear_forward(m->dev, A(m, ln2 + row0 * C, C), P(m, f->fc1_w, 0, C),
                           P(m, f->fc1_b, 0, 0), rows, C, hid, A(m, h1 + row0 * F, F)));
    TRY(ops_gelu_forward(m->dev, A(m, h1 + row0 * F, F), rows, hid, A(m, g1 + row0 * F, F)));
    return ops_linear_forward(m->dev, A(m, g1 + row0 * F, F), P(m, f->fc2_w, 0, F),
                              P(m, f->fc2_b, 0, 0), rows, hid, C, A(m, out + row0 * C, C));
}

/* The FFN's backward: dout [rows, C] -> dln2 rows (overwritten, or += when accumulate), with
 * the weight and bias gradients accumulated. */
static ufo_status ffn_backward(struct vit *m, const struct ufo_ffn_index *f, size_t ln2,
                               size_t h1, size_t g1, size_t dout, size_t row0, size_t rows,
                               size_t hid, int accumulate) {
    size_t C = (size_t)m->layout.space.embed_dim, F = m->hidden_max;
    struct ufo_matrix dg1 = A(m, m->dg1 + row0 * F, F);
    TRY(ops_linear_backward(m->dev, A(m, g1 + row0 * F, F), P(m, f->fc2_w, 0, F),
                            A(m, dout + row0 * C, C), rows, hid, C, dg1, 0,
                            G(m, f->fc2_w, 0, F), G(m, f->fc2_b, 0, 0)));
    TRY(ops_gelu_backward(m->dev, A(m, h1 + row0 * F, F), dg1, rows, hid, dg1));
    return ops_linear_backward(m->dev, A(m, ln2 + row0 * C, C), P(m, f->fc1_w, 0, C), dg1,
                               rows, C, hid, A(m, m->dln + row0 * C, C), accumulate,
                               G(m, f->fc1_w, 0, C), G(m, f->fc1_b, 0, 0));
}

/* One block's forward: stream `in` -> stream `out` [R, C]. */
static ufo_status block_forward(struct vit *m, const struct ufo_arch *arch,
                                const struct vit_batch *b, int i, size_t in, size_t out,
                                int training) {
    const struct ufo_space *s = &m->layout.space;
    const struct ufo_block_index *ix = &m->layout.block[i];
    const struct block_acts *a = &m->blk[i];
    const struct ufo_block_arch *ba = &arch->block[i];
    size_t B = b->size, T = m->tokens, R = B * T, C = (size_t)s->embed_dim;
    size_t hd = (size_t)s->head_dim, h = (size_t)ba->heads, Aw = m->attn_max;
    size_t hid = (size_t)ufo_space_hidden(s, ba->mlp_ratio);
    float eps = 1e-6f, scale = 1.0f / sqrtf((float)hd), keep;
    struct ufo_matrix mask;
    drop_path(m, b, i, &mask, &keep);
    if (!training) mask = NONE, keep = 1.0f;

    /* attention: x_mid = x + proj(attn(LN1(x))) */
    TRY(ops_layernorm_forward(m->dev, A(m, in, C), P(m, ix->norm1_w, 0, 0),
                              P(m, ix->norm1_b, 0, 0), R, C, eps, A(m, a->ln1, C),
                              A(m, a->mean1, 0), A(m, a->rstd1, 0)));
    for (size_t sec = 0; sec < 3; sec++) /* q, k, v: h heads of each section */
        TRY(ops_linear_forward(m->dev, A(m, a->ln1, C), P(m, ix->qkv_w, sec * Aw * C, C),
                               P(m, ix->qkv_b, sec * Aw, 0), R, C, h * hd,
                               A(m, m->qkv + sec * Aw, 3 * Aw)));
    TRY(ops_heads_split(m->dev, A(m, m->qkv, 3 * Aw), Aw, B, T, h, hd, A(m, a->q, 0),
                        A(m, a->k, 0), A(m, a->v, 0)));
    TRY(ops_attention_forward(m->dev, A(m, a->q, 0), A(m, a->k, 0), A(m, a->v, 0), B * h, T,
                              hd, scale, A(m, a->probs, 0), A(m, m->heads_out, 0)));
    TRY(ops_heads_merge(m->dev, A(m, m->heads_out, 0), B, T, h, hd, A(m, a->merged, Aw)));
    TRY(ops_linear_forward(m->dev, A(m, a->merged, Aw), P(m, ix->proj_w, 0, Aw),
                           P(m, ix->proj_b, 0, 0), R, h * hd, C, A(m, m->branch, C)));
    TRY(copy_act(m, in, a->x_mid, R * C));
    TRY(ops_residual_add(m->dev, A(m, a->x_mid, C), A(m, m->branch, C), R, C, T, mask, keep));

    /* FFN paths: out = x_mid + p0·shared(LN2(x_mid)) + p1·task(LN2(x_mid)) */
    TRY(ops_layernorm_forward(m->dev, A(m, a->x_mid, C), P(m, ix->norm2_w, 0, 0),
                              P(m, ix->norm2_b, 0, 0), R, C, eps, A(m, a->ln2, C),
                              A(m, a->mean2, 0), A(m, a->rstd2, 0)));
    for (int t = 0; t < s->n_tasks; t++) {
        size_t s0 = b->task_begin[t], n = b->task_begin[t + 1] - s0;
        if (n == 0) continue;
        enum ops_gate_mode mode = training ? OPS_GATE_GUMBEL : gate_mode(ba->path[t]);
        int run_shared = mode != OPS_GATE_TASK, run_task = mode != OPS_GATE_SHARED;
        if (run_shared)
            TRY(ffn_forward(m, &ix->shared, a->ln2, a->h1s, a->g1s, a->outs, s0 * T, n * T, hid));
        if (run_task)
            TRY(ffn_forward(m, &ix->task[t], a->ln2, a->h1t, a->g1t, a->outt, s0 * T, n * T,
                            hid));
        struct ufo_matrix noise = training ? A(m, m->gumbel + ((size_t)i * B + s0) * 2, 0) : NONE;
        TRY(ops_gate_weights(m->dev, P(m, ix->gate[t], 0, 0), noise, n, m->opt.gumbel_tau,
                             mode, A(m, a->gate_w + s0 * 2, 0), A(m, a->gate_soft + s0 * 2, 0)));
        TRY(ops_gate_mix_forward(m->dev, run_shared ? A(m, a->outs + s0 * T * C, C) : NONE,
                                 run_task ? A(m, a->outt + s0 * T * C, C) : NONE,
                                 A(m, a->gate_w + s0 * 2, 0), n, T, C,
                                 A(m, m->mix + s0 * T * C, C)));
    }
    TRY(copy_act(m, a->x_mid, out, R * C));
    return ops_residual_add(m->dev, A(m, out, C), A(m, m->mix, C), R, C, T, mask, keep);
}

/* One block's backward: the stream gradient dx [R, C] (w.r.t. its output) becomes the
 * gradient w.r.t. its input, in place; parameter gradients accumulate. */
static ufo_status block_backward(struct vit *m, const struct ufo_arch *arch,
                                 const struct vit_batch *b, int i, size_t in) {
    const struct ufo_space *s = &m->layout.space;
    const struct ufo_block_index *ix = &m->layout.block[i];
    const struct block_acts *a = &m->blk[i];
    const struct ufo_block_arch *ba = &arch->block[i];
    size_t B = b->size, T = m->tokens, R = B * T, C = (size_t)s->embed_dim;
    size_t hd = (size_t)s->head_dim, h = (size_t)ba->heads, Aw = m->attn_max;
    size_t hid = (size_t)ufo_space_hidden(s, ba->mlp_ratio);
    float scale = 1.0f / sqrtf((float)hd), keep;
    struct ufo_matrix mask, dx = A(m, m->dx, C);
    drop_path(m, b, i, &mask, &keep);

    /* FFN paths: dmix = f·dx; both paths ran for every sample, gates straight-through */
    TRY(ops_residual_backward(m->dev, dx, R, C, T, mask, keep, A(m, m->dbranch, C)));
    for (int t = 0; t < s->n_tasks; t++) {
        size_t s0 = b->task_begin[t], n = b->task_begin[t + 1] - s0, r0 = s0 * T;
        if (n == 0) continue;
        TRY(ops_gate_mix_backward(m->dev, A(m, a->outs + r0 * C, C), A(m, a->outt + r0 * C, C),
                                  A(m, a->gate_w + s0 * 2, 0), A(m, a->gate_soft + s0 * 2, 0),
                                  A(m, m->dbranch + r0 * C, C), n, T, C, m->opt.gumbel_tau,
                                  OPS_GATE_GUMBEL, A(m, m->dshared + r0 * C, C),
                                  A(m, m->dtask + r0 * C, C), A(m, m->dweights, 0),
                                  G(m, ix->gate[t], 0, 0)));
    }
    TRY(ffn_backward(m, &ix->shared, a->ln2, a->h1s, a->g1s, m->dshared, 0, R, hid, 0));
    for (int t = 0; t < s->n_tasks; t++) {
        size_t s0 = b->task_begin[t], n = b->task_begin[t + 1] - s0;
        if (n == 0) continue;
        TRY(ffn_backward(m, &ix->task[t], a->ln2, a->h1t, a->g1t, m->dtask, s0 * T, n * T, hid,
                         1));
    }
    TRY(ops_layernorm_backward(m->dev, A(m, a->x_mid, C), P(m, ix->norm2_w, 0, 0),
                               A(m, a->mean2, 0), A(m, a->rstd2, 0), A(m, m->dln, C), R, C, dx,
                               1, G(m, ix->norm2_w, 0, 0), G(m, ix->norm2_b, 0, 0)));

    /* attention */
    TRY(ops_residual_backward(m->dev, dx, R, C, T, mask, keep, A(m, m->dbranch, C)));
    TRY(ops_linear_backward(m->dev, A(m, a->merged, Aw), P(m, ix->proj_w, 0, Aw),
                            A(m, m->dbranch, C), R, h * hd, C, A(m, m->dmerged, Aw), 0,
                            G(m, ix->proj_w, 0, Aw), G(m, ix->proj_b, 0, 0)));
    TRY(ops_heads_merge_backward(m->dev, A(m, m->dmerged, Aw), B, T, h, hd,
                                 A(m, m->dheads, 0)));
    TRY(ops_attention_backward(m->dev, A(m, a->q, 0), A(m, a->k, 0), A(m, a->v, 0),
                               A(m, a->probs, 0), A(m, m->dheads, 0), B * h, T, hd, scale,
                               A(m, m->dprobs, 0), A(m, m->dq, 0), A(m, m->dk, 0),
                               A(m, m->dv, 0)));
    TRY(ops_heads_split_backward(m->dev, A(m, m->dq, 0), A(m, m->dk, 0), A(m, m->dv, 0), Aw, B,
                                 T, h, hd, A(m, m->dqkv, 3 * Aw)));
    for (size_t sec = 0; sec < 3; sec++)
        TRY(ops_linear_backward(m->dev, A(m, a->ln1, C), P(m, ix->qkv_w, sec * Aw * C, C),
                                A(m, m->dqkv + sec * Aw, 3 * Aw), R, C, h * hd,
                                A(m, m->dln, C), sec > 0, G(m, ix->qkv_w, sec * Aw * C, C),
                                G(m, ix->qkv_b, sec * Aw, 0)));
    return ops_layernorm_backward(m->dev, A(m, in, C), P(m, ix->norm1_w, 0, 0),
                                  A(m, a->mean1, 0), A(m, a->rstd1, 0), A(m, m->dln, C), R, C,
                                  dx, 1, G(m, ix->norm1_w, 0, 0), G(m, ix->norm1_b, 0, 0));
}

/* Patch embedding, tokens, the kept blocks and the final LN of the cls tokens -> feat [B, C].
 * Returns the slot of the last stream in *last. */
static ufo_status trunk_forward(struct vit *m, const struct ufo_arch *arch,
                                const struct vit_batch *b, int training) {
    const struct ufo_space *s = &m->layout.space;
    size_t B = b->size, T = m->tokens, C = (size_t)s->embed_dim, Pn = m->patches;
    size_t K = m->patch_cols, S = (size_t)s->image_size;
    const struct ufo_layout *L = &m->layout;

    /* patches -> embedding [B·P, C] -> tokens [B·T, C] */
    TRY(ops_im2col(m->dev, A(m, m->images, 0), B, 3, S, S, (size_t)s->patch, A(m, m->cols, K)));
    TRY(ops_linear_forward(m->dev, A(m, m->cols, K), P(m, L->patch_w, 0, K),
                           P(m, L->patch_b, 0, 0), B * Pn, K, C, A(m, m->emb, C)));
    TRY(ops_tokens_forward(m->dev, A(m, m->emb, C), P(m, L->cls_token, 0, 0),
                           P(m, L->pos_embed, 0, C), B, Pn, C, A(m, m->stream[0], C)));

    /* blocks: a dropped block leaves the stream where it is */
    int cur = 0;
    m->last_stream[0] = 0;
    for (int i = 0; i < s->depth; i++) {
        if (arch->block[i].kept) {
            TRY(block_forward(m, arch, b, i, m->stream[cur], m->stream[i + 1], training));
            cur = i + 1;
        }
        m->last_stream[i + 1] = cur;
    }

    /* the feature: final LN of each image's cls token (rows T·C apart in the stream) */
    return ops_layernorm_forward(m->dev, A(m, m->stream[cur], T * C), P(m, L->norm_w, 0, 0),
                                 P(m, L->norm_b, 0, 0), B, C, 1e-6f, A(m, m->feat, C),
                                 A(m, m->feat_mean, 0), A(m, m->feat_rstd, 0));
}

/* A task's heads, forward and backward at once: BN-neck, CosFace and triplet on its rows
 * [s0, s0 + n) of feat; dfeat rows are written, losses[2t], losses[2t + 1] set. */
static ufo_status task_head(struct vit *m, int t, size_t s0, size_t n) {
    const struct ufo_space *s = &m->layout.space;
    const struct ufo_task *task = &s->tasks[t];
    const struct ufo_head_index *hx = &m->layout.head[t];
    size_t C = (size_t)s->embed_dim, K = (size_t)task->classes;
    float w = (float)task->loss_weight;
    struct ufo_matrix feat = A(m, m->feat + s0 * C, C), dfeat = A(m, m->dfeat + s0 * C, C);
    struct ufo_matrix neck = A(m, m->neck + s0 * C, C), yn = A(m, m->yn + s0 * C, C);
    struct ufo_matrix labels = ops_vec(m->labels, s0);

    /* BN-neck on the task's batch statistics, then CosFace on normalised features/classes */
    TRY(ops_bnneck_forward(m->dev, feat, P(m, hx->bn_w, 0, 0), P(m, hx->bn_b, 0, 0),
                           P(m, hx->bn_mean, 0, 0), P(m, hx->bn_var, 0, 0), n, C,
                           m->opt.bn_eps, m->opt.bn_momentum, 1, neck,
                           A(m, m->bn_mean + (size_t)t * C, 0), A(m, m->bn_rstd + (size_t)t * C, 0)));
    TRY(ops_l2norm_forward(m->dev, neck, n, C, yn, A(m, m->yn_norm + s0, 0)));
    TRY(ops_l2norm_forward(m->dev, P(m, hx->cosface_w, 0, C), K, C, A(m, m->wn, C),
                           A(m, m->wn_norm, 0)));
    TRY(ufo_gemm(m->dev, UFO_NO_TRANS, UFO_TRANS, n, K, C, 1.0f, yn, A(m, m->wn, C), 0.0f,
                 A(m, m->cos, K)));
    TRY(ops_cosface_loss(m->dev, A(m, m->cos, K), labels, n, K, (float)task->cosface_scale,
                         (float)task->cosface_margin, w, A(m, m->row_loss, 0),
                         A(m, m->losses + 2 * (size_t)t, 0), A(m, m->cos, K)));

    /* back through the cosines to the neck and the class weights */
    TRY(ufo_gemm(m->dev, UFO_NO_TRANS, UFO_NO_TRANS, n, C, K, 1.0f, A(m, m->cos, K),
                 A(m, m->wn, C), 0.0f, A(m, m->dyn, C)));
    TRY(ufo_gemm(m->dev, UFO_TRANS, UFO_NO_TRANS, K, C, n, 1.0f, A(m, m->cos, K), yn, 0.0f,
                 A(m, m->dwn, C)));
    TRY(ops_l2norm_backward(m->dev, A(m, m->wn, C), A(m, m->wn_norm, 0), A(m, m->dwn, C), K, C,
                            G(m, hx->cosface_w, 0, C), 1));
    TRY(ops_l2norm_backward(m->dev, yn, A(m, m->yn_norm + s0, 0), A(m, m->dyn, C), n, C,
                            A(m, m->dneck, C), 0));
    TRY(ops_bnneck_backward(m->dev, feat, P(m, hx->bn_w, 0, 0),
                            A(m, m->bn_mean + (size_t)t * C, 0),
                            A(m, m->bn_rstd + (size_t)t * C, 0), A(m, m->dneck, C), n, C, dfeat,
                            0, G(m, hx->bn_w, 0, 0)));

    /* batch-hard triplet on the pre-neck feature */
    if (task->triplet)
        return ops_triplet(m->dev, feat, labels, n, C, w * m->opt.triplet_weight[t],
                           A(m, m->trip_work, 0), A(m, m->losses + 2 * (size_t)t + 1, 0), dfeat,
                           1);
    return fill_zero(m, m->act, m->losses + 2 * (size_t)t + 1, 1);
}

ufo_status vit_train_step(struct vit *m, const struct ufo_arch *arch, const struct vit_batch *b,
                          int accumulate, struct vit_losses *losses) {
    const struct ufo_space *s = &m->layout.space;
    const struct ufo_layout *L = &m->layout;
    TRY(check_batch(m, arch, b, 1));
    TRY(upload_batch(m, b, 1));
    if (!accumulate) TRY(fill_zero(m, m->grads, 0, L->total));
    size_t B = b->size, T = m->tokens, C = (size_t)s->embed_dim, K = m->patch_cols;

    /* forward through the trunk, then every task's heads (forward and backward) */
    TRY(trunk_forward(m, arch, b, 1));
    for (int t = 0; t < s->n_tasks; t++) {
        size_t s0 = b->task_begin[t], n = b->task_begin[t + 1] - s0;
        if (n > 0) TRY(task_head(m, t, s0, n));
        else TRY(fill_zero(m, m->act, m->losses + 2 * (size_t)t, 2));
    }

    /* final LN of the cls rows: the stream gradient is zero elsewhere */
    int cur = m->last_stream[s->depth];
    TRY(fill_zero(m, m->act, m->dx, B * T * C));
    TRY(ops_layernorm_backward(m->dev, A(m, m->stream[cur], T * C), P(m, L->norm_w, 0, 0),
                               A(m, m->feat_mean, 0), A(m, m->feat_rstd, 0), A(m, m->dfeat, C),
                               B, C, A(m, m->dx, T * C), 0, G(m, L->norm_w, 0, 0),
                               G(m, L->norm_b, 0, 0)));

    /* blocks in reverse; each reads the stream that entered it */
    for (int i = s->depth - 1; i >= 0; i--)
        if (arch->block[i].kept)
            TRY(block_backward(m, arch, b, i, m->stream[m->last_stream[i]]));

    /* tokens and patch embedding */
    TRY(ops_tokens_backward(m->dev, A(m, m->dx, C), B, m->patches, C, A(m, m->demb, C),
                            G(m, L->cls_token, 0, 0), G(m, L->pos_embed, 0, C)));
    TRY(ops_linear_backward(m->dev, A(m, m->cols, K), P(m, L->patch_w, 0, K), A(m, m->demb, C),
                            B * m->patches, K, C, NONE, 0, G(m, L->patch_w, 0, K),
                            G(m, L->patch_b, 0, 0)));

    /* the losses come back to the host */
    float host[2 * UFO_MAX_TASKS];
    TRY(device_read(m->dev, m->act, m->losses * 4, 2 * (size_t)s->n_tasks * 4, host));
    memset(losses, 0, sizeof *losses);
    for (int t = 0; t < s->n_tasks; t++) {
        float w = (float)s->tasks[t].loss_weight;
        /* the ops fold the loss weight in; report each loss unweighted */
        losses->cosface[t] = w != 0.0f ? host[2 * t] / w : 0.0f;
        losses->triplet[t] = w != 0.0f && s->tasks[t].triplet
                                 ? host[2 * t + 1] / (w * m->opt.triplet_weight[t]) : 0.0f;
        losses->total += host[2 * t] + host[2 * t + 1];
    }
    return UFO_OK;
}

ufo_status vit_eval_forward(struct vit *m, const struct ufo_arch *arch, const struct vit_batch *b,
                            float *features, float *neck) {
    const struct ufo_space *s = &m->layout.space;
    TRY(check_batch(m, arch, b, 0));
    TRY(upload_batch(m, b, 0));
    TRY(trunk_forward(m, arch, b, 0));
    size_t C = (size_t)s->embed_dim;
    for (int t = 0; t < s->n_tasks; t++) {
        const struct ufo_head_index *hx = &m->layout.head[t];
        size_t s0 = b->task_begin[t], n = b->task_begin[t + 1] - s0;
        if (n == 0) continue;
        TRY(ops_bnneck_forward(m->dev, A(m, m->feat + s0 * C, C), P(m, hx->bn_w, 0, 0),
                               P(m, hx->bn_b, 0, 0), P(m, hx->bn_mean, 0, 0),
                               P(m, hx->bn_var, 0, 0), n, C, m->opt.bn_eps,
                               m->opt.bn_momentum, 0, A(m, m->neck + s0 * C, C),
                               A(m, m->bn_mean, 0), A(m, m->bn_rstd, 0)));
    }
    return vit_read_features(m, b->size, features, neck);
}

ufo_status vit_read_features(struct vit *m, size_t batch, float *features, float *neck) {
    size_t C = (size_t)m->layout.space.embed_dim;
    if (batch > m->max_batch) return ufo_fail(UFO_ERR_INVALID, "vit: batch %zu", batch);
    if (features) TRY(device_read(m->dev, m->act, m->feat * 4, batch * C * 4, features));
    if (neck) TRY(device_read(m->dev, m->act, m->neck * 4, batch * C * 4, neck));
    return UFO_OK;
}

ufo_status vit_read_stream(struct vit *m, int block, size_t batch, float *out) {
    const struct ufo_space *s = &m->layout.space;
    if (block < -1 || block >= s->depth)
        return ufo_fail(UFO_ERR_INVALID, "vit: no block %d", block);
    size_t slot = (size_t)m->last_stream[block + 1];
    return device_read(m->dev, m->act, m->stream[slot] * 4,
                       batch * m->tokens * (size_t)s->embed_dim * 4, out);
}
