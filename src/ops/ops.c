/* Host launchers of the ops kernels in cl/ops_*.cl: check shapes, set arguments, enqueue. */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/device.h"
#include "device/kernels.h"
#include "ops/ops.h"

/* Work-group sizes fixed in the kernels (reqd_work_group_size); the sums' order depends on
 * them, so they never vary by device. */
#define OPS_ROW_WG 64
#define OPS_COL_TILE 16
#define OPS_COL_LANES 16
#define OPS_COL_VEC 8
#define OPS_TRIPLET_INFO 5

/* A kernel being prepared: its arguments are set one after the other and the first failure
 * is kept, so a launcher reads as a list of arguments and one check at the end. */
struct ops_call {
    cl_kernel kernel;
    const char *name;
    cl_uint next;
    ufo_status status;
    int items; /* built for OPS_LAYOUT_ITEMS */
};

static enum ops_layout ops_forced_layout = OPS_LAYOUT_AUTO;

void ops_set_layout(enum ops_layout layout) {
    ops_forced_layout = layout;
}

/* Whether reductions run an item per row here: where local memory is ordinary memory (CPUs),
 * work-groups and barriers only add cost. */
static int ops_items(ufo_device *dev) {
    if (ops_forced_layout != OPS_LAYOUT_AUTO)
        return ops_forced_layout == OPS_LAYOUT_ITEMS;
    const struct ufo_device_caps *caps = ufo_device_caps(dev);
    return caps->local_mem_is_global || caps->type == UFO_DEVICE_CPU;
}

/* Look the kernel up in the cache (built on first use, per layout). */
static ufo_status ops_begin(ufo_device *dev, const char *file, const char *name,
                            struct ops_call *call) {
    call->name = name;
    call->next = 0;
    call->status = UFO_OK;
    call->items = ops_items(dev);
    return kernels_get(dev, file, name, call->items ? "-D ROW_WG=1 -D COL_LANES=1" : NULL,
                       &call->kernel);
}

static void ops_arg(struct ops_call *call, size_t size, const void *value) {
    if (call->status == UFO_OK)
        call->status = kernels_arg(call->kernel, call->next, size, value);
    call->next++;
}

/* A count, offset or leading dimension; kernels index with 32-bit unsigned counts. */
static void ops_arg_uint(struct ops_call *call, size_t value) {
    if (value > UINT_MAX) {
        if (call->status == UFO_OK)
            call->status = ufo_fail(UFO_ERR_UNSUPPORTED, "%s: argument %u is %zu, above the "
                                    "32-bit limit of the ops kernels", call->name, call->next,
                                    value);
        call->next++;
        return;
    }
    cl_uint v = (cl_uint)value;
    ops_arg(call, sizeof v, &v);
}

static void ops_arg_float(struct ops_call *call, float value) {
    ops_arg(call, sizeof value, &value);
}

/* A vector: buffer and first element. */
static void ops_arg_vec(struct ops_call *call, struct ufo_matrix v) {
    ops_arg(call, sizeof v.buf, &v.buf);
    ops_arg_uint(call, v.offset);
}

/* A matrix: buffer, first element, leading dimension. */
static void ops_arg_mat(struct ops_call *call, struct ufo_matrix m) {
    ops_arg_vec(call, m);
    ops_arg_uint(call, m.ld);
}

/* Enqueue over a global range; local NULL lets the driver choose. */
static ufo_status ops_run(ufo_device *dev, struct ops_call *call, cl_uint dims,
                          const size_t *global, const size_t *local) {
    if (call->status != UFO_OK)
        return call->status;
    return kernels_run(dev, call->kernel, dims, global, local);
}

/* Work-groups of an element-wise range on CPUs: rows of up to OPS_EW_COLS columns, stacked to
 * about OPS_EW_ITEMS items. PoCL's own choice for [768, 4160] was 24 × 1 (133 120 groups),
 * whose per-group cost outweighed the element work. */
#define OPS_EW_COLS 256
#define OPS_EW_ITEMS 1024

/* A [rows, cols] element-wise range: dim 0 = column, dim 1 = row. The kernels return for items
 * past (cols, rows), so CPUs may round the range up to whole work-groups. */
static ufo_status ops_run_2d(ufo_device *dev, struct ops_call *call, size_t cols, size_t rows) {
    size_t global[2] = {cols, rows};
    if (!call->items || cols == 0 || rows == 0)
        return ops_run(dev, call, 2, global, NULL);
    size_t local[2];
    local[0] = cols < OPS_EW_COLS ? kernels_round_up(cols, 8) : OPS_EW_COLS;
    local[1] = OPS_EW_ITEMS / local[0];
    if (local[1] > rows) local[1] = rows;
    if (local[1] == 0) local[1] = 1;
    global[0] = kernels_round_up(cols, local[0]);
    global[1] = kernels_round_up(rows, local[1]);
    return ops_run(dev, call, 2, global, local);
}

/* One work-group of OPS_ROW_WG items per row, or one item per row. */
static ufo_status ops_run_rows(ufo_device *dev, struct ops_call *call, size_t rows) {
    if (call->items)
        return ops_run(dev, call, 1, &rows, NULL);
    size_t global = rows * OPS_ROW_WG, local = OPS_ROW_WG;
    return ops_run(dev, call, 1, &global, &local);
}

/* Column tiles of OPS_COL_TILE columns × OPS_COL_LANES lanes, or one item per OPS_COL_VEC
 * columns. */
static ufo_status ops_run_columns(ufo_device *dev, struct ops_call *call, size_t cols) {
    if (call->items) {
        size_t items = (cols + OPS_COL_VEC - 1) / OPS_COL_VEC;
        return ops_run(dev, call, 1, &items, NULL);
    }
    size_t global[2] = {kernels_round_up(cols, OPS_COL_TILE), OPS_COL_LANES};
    size_t local[2] = {OPS_COL_TILE, OPS_COL_LANES};
    return ops_run(dev, call, 2, global, local);
}

/* A matrix whose rows must hold `cols` floats. */
static ufo_status ops_check_ld(const char *op, const char *what, struct ufo_matrix m,
                               size_t cols) {
    if (!m.buf)
        return ufo_fail(UFO_ERR_INVALID, "%s: %s has no buffer", op, what);
    if (m.ld < cols)
        return ufo_fail(UFO_ERR_INVALID, "%s: %s leading dimension %zu is below its %zu columns",
                        op, what, m.ld, cols);
    return UFO_OK;
}

static ufo_status ops_check_buf(const char *op, const char *what, struct ufo_matrix v) {
    if (!v.buf)
        return ufo_fail(UFO_ERR_INVALID, "%s: %s has no buffer", op, what);
    return UFO_OK;
}

/* A per-sample pair matrix [samples, 2]: ld 0 means contiguous pairs. */
static ufo_status ops_pairs(const char *op, const char *what, struct ufo_matrix *m) {
    if (m->ld == 0)
        m->ld = 2;
    if (m->ld < 2)
        return ufo_fail(UFO_ERR_INVALID, "%s: %s leading dimension %zu is below 2", op, what,
                        m->ld);
    return UFO_OK;
}

#define OPS_TRY(expr)                                                                         \
    do {                                                                                      \
        ufo_status ops_try_status = (expr);                                                   \
        if (ops_try_status != UFO_OK)                                                         \
            return ops_try_status;                                                            \
    } while (0)

/* ---- patch embedding and tokens ---- */

ufo_status ops_im2col(ufo_device *dev, struct ufo_matrix image, size_t batch, size_t channels,
                      size_t height, size_t width, size_t patch, struct ufo_matrix cols) {
    if (patch == 0 || height % patch || width % patch)
        return ufo_fail(UFO_ERR_INVALID, "ops_im2col: image %zux%zu is not a whole number of "
                        "%zu-pixel patches", height, width, patch);
    size_t kk = channels * patch * patch, rows = batch * (height / patch) * (width / patch);
    OPS_TRY(ops_check_buf("ops_im2col", "image", image));
    OPS_TRY(ops_check_ld("ops_im2col", "cols", cols, kk));
    if (rows == 0 || kk == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_embed.cl", "im2col", &call));
    ops_arg_vec(&call, image);
    ops_arg_uint(&call, channels);
    ops_arg_uint(&call, height);
    ops_arg_uint(&call, width);
    ops_arg_uint(&call, patch);
    ops_arg_uint(&call, rows);
    ops_arg_mat(&call, cols);
    return ops_run_2d(dev, &call, kk, rows);
}

ufo_status ops_tokens_forward(ufo_device *dev, struct ufo_matrix emb, struct ufo_matrix cls,
                              struct ufo_matrix pos, size_t batch, size_t patches, size_t width,
                              struct ufo_matrix x) {
    OPS_TRY(ops_check_ld("ops_tokens_forward", "emb", emb, width));
    OPS_TRY(ops_check_buf("ops_tokens_forward", "cls", cls));
    OPS_TRY(ops_check_ld("ops_tokens_forward", "pos", pos, width));
    OPS_TRY(ops_check_ld("ops_tokens_forward", "x", x, width));
    if (batch == 0 || width == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_embed.cl", "tokens_forward", &call));
    ops_arg_mat(&call, emb);
    ops_arg_vec(&call, cls);
    ops_arg_mat(&call, pos);
    ops_arg_uint(&call, batch);
    ops_arg_uint(&call, patches);
    ops_arg_uint(&call, width);
    ops_arg_mat(&call, x);
    return ops_run_2d(dev, &call, width, batch * (patches + 1));
}

ufo_status ops_tokens_backward(ufo_device *dev, struct ufo_matrix dx, size_t batch,
                               size_t patches, size_t width, struct ufo_matrix demb,
                               struct ufo_matrix dcls, struct ufo_matrix dpos) {
    OPS_TRY(ops_check_ld("ops_tokens_backward", "dx", dx, width));
    OPS_TRY(ops_check_buf("ops_tokens_backward", "dcls", dcls));
    OPS_TRY(ops_check_ld("ops_tokens_backward", "dpos", dpos, width));
    if (batch == 0 || width == 0)
        return UFO_OK;
    struct ops_call call;
    if (demb.buf && patches) {
        OPS_TRY(ops_check_ld("ops_tokens_backward", "demb", demb, width));
        OPS_TRY(ops_begin(dev, "ops_embed.cl", "tokens_backward_emb", &call));
        ops_arg_mat(&call, dx);
        ops_arg_uint(&call, batch);
        ops_arg_uint(&call, patches);
        ops_arg_uint(&call, width);
        ops_arg_mat(&call, demb);
        OPS_TRY(ops_run_2d(dev, &call, width, batch * patches));
    }
    OPS_TRY(ops_begin(dev, "ops_embed.cl", "tokens_backward_params", &call));
    ops_arg_mat(&call, dx);
    ops_arg_uint(&call, batch);
    ops_arg_uint(&call, patches);
    ops_arg_uint(&call, width);
    ops_arg_vec(&call, dcls);
    ops_arg_mat(&call, dpos);
    return ops_run_2d(dev, &call, width, patches + 1);
}

/* ---- linear layers ---- */

ufo_status ops_linear_forward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix w,
                              struct ufo_matrix b, size_t rows, size_t in, size_t out,
                              struct ufo_matrix y) {
    OPS_TRY(ops_check_ld("ops_linear_forward", "x", x, in));
    OPS_TRY(ops_check_ld("ops_linear_forward", "w", w, in));
    OPS_TRY(ops_check_ld("ops_linear_forward", "y", y, out));
    if (rows == 0 || out == 0)
        return UFO_OK;
    OPS_TRY(ufo_gemm(dev, UFO_NO_TRANS, UFO_TRANS, rows, out, in, 1.0f, x, w, 0.0f, y));
    if (!b.buf)
        return UFO_OK;
    return ops_bias_add(dev, y, b, rows, out);
}

ufo_status ops_linear_backward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix w,
                               struct ufo_matrix dy, size_t rows, size_t in, size_t out,
                               struct ufo_matrix dx, int accumulate, struct ufo_matrix dw,
                               struct ufo_matrix db) {
    OPS_TRY(ops_check_ld("ops_linear_backward", "x", x, in));
    OPS_TRY(ops_check_ld("ops_linear_backward", "w", w, in));
    OPS_TRY(ops_check_ld("ops_linear_backward", "dy", dy, out));
    OPS_TRY(ops_check_ld("ops_linear_backward", "dw", dw, in));
    if (rows == 0)
        return UFO_OK;
    if (dx.buf) {
        OPS_TRY(ops_check_ld("ops_linear_backward", "dx", dx, in));
        OPS_TRY(ufo_gemm(dev, UFO_NO_TRANS, UFO_NO_TRANS, rows, in, out, 1.0f, dy, w,
                         accumulate ? 1.0f : 0.0f, dx));
    }
    OPS_TRY(ufo_gemm(dev, UFO_TRANS, UFO_NO_TRANS, out, in, rows, 1.0f, dy, x, 1.0f, dw));
    if (!db.buf)
        return UFO_OK;
    return ops_bias_backward(dev, dy, rows, out, db);
}

ufo_status ops_bias_add(ufo_device *dev, struct ufo_matrix y, struct ufo_matrix b, size_t rows,
                        size_t cols) {
    OPS_TRY(ops_check_ld("ops_bias_add", "y", y, cols));
    OPS_TRY(ops_check_buf("ops_bias_add", "b", b));
    if (rows == 0 || cols == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_elementwise.cl", "bias_add", &call));
    ops_arg_mat(&call, y);
    ops_arg_vec(&call, b);
    ops_arg_uint(&call, rows);
    ops_arg_uint(&call, cols);
    return ops_run_2d(dev, &call, cols, rows);
}

ufo_status ops_bias_backward(ufo_device *dev, struct ufo_matrix dy, size_t rows, size_t cols,
                             struct ufo_matrix db) {
    OPS_TRY(ops_check_ld("ops_bias_backward", "dy", dy, cols));
    OPS_TRY(ops_check_buf("ops_bias_backward", "db", db));
    if (cols == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_elementwise.cl", "column_sums", &call));
    ops_arg_mat(&call, dy);
    ops_arg_uint(&call, rows);
    ops_arg_uint(&call, cols);
    ops_arg_vec(&call, db);
    return ops_run_columns(dev, &call, cols);
}

/* ---- layer norm ---- */

ufo_status ops_layernorm_forward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix gamma,
                                 struct ufo_matrix beta, size_t rows, size_t cols, float eps,
                                 struct ufo_matrix y, struct ufo_matrix mean,
                                 struct ufo_matrix rstd) {
    OPS_TRY(ops_check_ld("ops_layernorm_forward", "x", x, cols));
    OPS_TRY(ops_check_ld("ops_layernorm_forward", "y", y, cols));
    OPS_TRY(ops_check_buf("ops_layernorm_forward", "gamma", gamma));
    OPS_TRY(ops_check_buf("ops_layernorm_forward", "beta", beta));
    OPS_TRY(ops_check_buf("ops_layernorm_forward", "mean", mean));
    OPS_TRY(ops_check_buf("ops_layernorm_forward", "rstd", rstd));
    if (cols == 0)
        return ufo_fail(UFO_ERR_INVALID, "ops_layernorm_forward: rows of 0 columns");
    if (rows == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_norm.cl", "layernorm_forward", &call));
    ops_arg_mat(&call, x);
    ops_arg_vec(&call, gamma);
    ops_arg_vec(&call, beta);
    ops_arg_uint(&call, cols);
    ops_arg_float(&call, eps);
    ops_arg_mat(&call, y);
    ops_arg_vec(&call, mean);
    ops_arg_vec(&call, rstd);
    return ops_run_rows(dev, &call, rows);
}

ufo_status ops_layernorm_backward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix gamma,
                                  struct ufo_matrix mean, struct ufo_matrix rstd,
                                  struct ufo_matrix dy, size_t rows, size_t cols,
                                  struct ufo_matrix dx, int accumulate, struct ufo_matrix dgamma,
                                  struct ufo_matrix dbeta) {
    OPS_TRY(ops_check_ld("ops_layernorm_backward", "x", x, cols));
    OPS_TRY(ops_check_ld("ops_layernorm_backward", "dy", dy, cols));
    OPS_TRY(ops_check_ld("ops_layernorm_backward", "dx", dx, cols));
    OPS_TRY(ops_check_buf("ops_layernorm_backward", "gamma", gamma));
    OPS_TRY(ops_check_buf("ops_layernorm_backward", "mean", mean));
    OPS_TRY(ops_check_buf("ops_layernorm_backward", "rstd", rstd));
    OPS_TRY(ops_check_buf("ops_layernorm_backward", "dgamma", dgamma));
    OPS_TRY(ops_check_buf("ops_layernorm_backward", "dbeta", dbeta));
    if (rows == 0 || cols == 0)
        return UFO_OK;

    /* input gradient, one group per row */
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_norm.cl", "layernorm_backward_dx", &call));
    ops_arg_mat(&call, x);
    ops_arg_vec(&call, gamma);
    ops_arg_vec(&call, mean);
    ops_arg_vec(&call, rstd);
    ops_arg_mat(&call, dy);
    ops_arg_uint(&call, cols);
    ops_arg_mat(&call, dx);
    ops_arg_uint(&call, accumulate ? 1 : 0);
    OPS_TRY(ops_run_rows(dev, &call, rows));

    /* parameter gradients, column tiles */
    OPS_TRY(ops_begin(dev, "ops_norm.cl", "layernorm_backward_params", &call));
    ops_arg_mat(&call, x);
    ops_arg_vec(&call, mean);
    ops_arg_vec(&call, rstd);
    ops_arg_mat(&call, dy);
    ops_arg_uint(&call, rows);
    ops_arg_uint(&call, cols);
    ops_arg_vec(&call, dgamma);
    ops_arg_vec(&call, dbeta);
    return ops_run_columns(dev, &call, cols);
}

/* ---- GELU ---- */

/* Columns per item of the GELU kernels (GELU_VEC in ops_elementwise.cl): 16 in the items
 * layout, one otherwise. */
static size_t ops_gelu_items(const struct ops_call *call, size_t cols) {
    return call->items ? (cols + 15) / 16 : cols;
}

ufo_status ops_gelu_forward(ufo_device *dev, struct ufo_matrix x, size_t rows, size_t cols,
                            struct ufo_matrix y) {
    OPS_TRY(ops_check_ld("ops_gelu_forward", "x", x, cols));
    OPS_TRY(ops_check_ld("ops_gelu_forward", "y", y, cols));
    if (rows == 0 || cols == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_elementwise.cl", "gelu_forward", &call));
    ops_arg_mat(&call, x);
    ops_arg_uint(&call, rows);
    ops_arg_uint(&call, cols);
    ops_arg_mat(&call, y);
    return ops_run_2d(dev, &call, ops_gelu_items(&call, cols), rows);
}

ufo_status ops_gelu_backward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix dy,
                             size_t rows, size_t cols, struct ufo_matrix dx) {
    OPS_TRY(ops_check_ld("ops_gelu_backward", "x", x, cols));
    OPS_TRY(ops_check_ld("ops_gelu_backward", "dy", dy, cols));
    OPS_TRY(ops_check_ld("ops_gelu_backward", "dx", dx, cols));
    if (rows == 0 || cols == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_elementwise.cl", "gelu_backward", &call));
    ops_arg_mat(&call, x);
    ops_arg_mat(&call, dy);
    ops_arg_uint(&call, rows);
    ops_arg_uint(&call, cols);
    ops_arg_mat(&call, dx);
    return ops_run_2d(dev, &call, ops_gelu_items(&call, cols), rows);
}

/* ---- attention ---- */

/* Shared checks of the split/merge launchers. */
static ufo_status ops_check_heads(const char *op, size_t heads, size_t head_dim) {
    if (heads == 0 || head_dim == 0)
        return ufo_fail(UFO_ERR_INVALID, "%s: %zu heads of width %zu", op, heads, head_dim);
    return UFO_OK;
}

ufo_status ops_heads_split(ufo_device *dev, struct ufo_matrix qkv, size_t section, size_t batch,
                           size_t tokens, size_t heads, size_t head_dim, struct ufo_matrix q,
                           struct ufo_matrix k, struct ufo_matrix v) {
    OPS_TRY(ops_check_heads("ops_heads_split", heads, head_dim));
    if (section < heads * head_dim)
        return ufo_fail(UFO_ERR_INVALID, "ops_heads_split: sections %zu columns apart cannot "
                        "hold %zu heads of %zu", section, heads, head_dim);
    OPS_TRY(ops_check_ld("ops_heads_split", "qkv", qkv, 2 * section + heads * head_dim));
    OPS_TRY(ops_check_buf("ops_heads_split", "q", q));
    OPS_TRY(ops_check_buf("ops_heads_split", "k", k));
    OPS_TRY(ops_check_buf("ops_heads_split", "v", v));
    if (batch == 0 || tokens == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_attention.cl", "heads_split", &call));
    ops_arg_mat(&call, qkv);
    ops_arg_uint(&call, section);
    ops_arg_uint(&call, batch);
    ops_arg_uint(&call, tokens);
    ops_arg_uint(&call, heads);
    ops_arg_uint(&call, head_dim);
    ops_arg_vec(&call, q);
    ops_arg_vec(&call, k);
    ops_arg_vec(&call, v);
    return ops_run_2d(dev, &call, heads * head_dim, batch * tokens);
}

ufo_status ops_heads_split_backward(ufo_device *dev, struct ufo_matrix dq, struct ufo_matrix dk,
                                    struct ufo_matrix dv, size_t section, size_t batch,
                                    size_t tokens, size_t heads, size_t head_dim,
                                    struct ufo_matrix dqkv) {
    OPS_TRY(ops_check_heads("ops_heads_split_backward", heads, head_dim));
    if (section < heads * head_dim)
        return ufo_fail(UFO_ERR_INVALID, "ops_heads_split_backward: sections %zu columns apart "
                        "cannot hold %zu heads of %zu", section, heads, head_dim);
    OPS_TRY(ops_check_ld("ops_heads_split_backward", "dqkv", dqkv,
                         2 * section + heads * head_dim));
    OPS_TRY(ops_check_buf("ops_heads_split_backward", "dq", dq));
    OPS_TRY(ops_check_buf("ops_heads_split_backward", "dk", dk));
    OPS_TRY(ops_check_buf("ops_heads_split_backward", "dv", dv));
    if (batch == 0 || tokens == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_attention.cl", "heads_split_backward", &call));
    ops_arg_vec(&call, dq);
    ops_arg_vec(&call, dk);
    ops_arg_vec(&call, dv);
    ops_arg_uint(&call, section);
    ops_arg_uint(&call, batch);
    ops_arg_uint(&call, tokens);
    ops_arg_uint(&call, heads);
    ops_arg_uint(&call, head_dim);
    ops_arg_mat(&call, dqkv);
    return ops_run_2d(dev, &call, heads * head_dim, batch * tokens);
}

ufo_status ops_heads_merge(ufo_device *dev, struct ufo_matrix o, size_t batch, size_t tokens,
                           size_t heads, size_t head_dim, struct ufo_matrix out) {
    OPS_TRY(ops_check_heads("ops_heads_merge", heads, head_dim));
    OPS_TRY(ops_check_buf("ops_heads_merge", "o", o));
    OPS_TRY(ops_check_ld("ops_heads_merge", "out", out, heads * head_dim));
    if (batch == 0 || tokens == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_attention.cl", "heads_merge", &call));
    ops_arg_vec(&call, o);
    ops_arg_uint(&call, batch);
    ops_arg_uint(&call, tokens);
    ops_arg_uint(&call, heads);
    ops_arg_uint(&call, head_dim);
    ops_arg_mat(&call, out);
    return ops_run_2d(dev, &call, heads * head_dim, batch * tokens);
}

ufo_status ops_heads_merge_backward(ufo_device *dev, struct ufo_matrix dout, size_t batch,
                                    size_t tokens, size_t heads, size_t head_dim,
                                    struct ufo_matrix dheads) {
    OPS_TRY(ops_check_heads("ops_heads_merge_backward", heads, head_dim));
    OPS_TRY(ops_check_ld("ops_heads_merge_backward", "dout", dout, heads * head_dim));
    OPS_TRY(ops_check_buf("ops_heads_merge_backward", "dheads", dheads));
    if (batch == 0 || tokens == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_attention.cl", "heads_merge_backward", &call));
    ops_arg_mat(&call, dout);
    ops_arg_uint(&call, batch);
    ops_arg_uint(&call, tokens);
    ops_arg_uint(&call, heads);
    ops_arg_uint(&call, head_dim);
    ops_arg_vec(&call, dheads);
    return ops_run_2d(dev, &call, heads * head_dim, batch * tokens);
}

ufo_status ops_softmax_forward(ufo_device *dev, struct ufo_matrix s, size_t rows, size_t n,
                               float scale, struct ufo_matrix p) {
    OPS_TRY(ops_check_ld("ops_softmax_forward", "s", s, n));
    OPS_TRY(ops_check_ld("ops_softmax_forward", "p", p, n));
    if (rows == 0 || n == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_attention.cl", "softmax_forward", &call));
    ops_arg_mat(&call, s);
    ops_arg_uint(&call, n);
    ops_arg_float(&call, scale);
    ops_arg_mat(&call, p);
    return ops_run_rows(dev, &call, rows);
}

ufo_status ops_softmax_backward(ufo_device *dev, struct ufo_matrix p, struct ufo_matrix dp,
                                size_t rows, size_t n, float scale, struct ufo_matrix ds) {
    OPS_TRY(ops_check_ld("ops_softmax_backward", "p", p, n));
    OPS_TRY(ops_check_ld("ops_softmax_backward", "dp", dp, n));
    OPS_TRY(ops_check_ld("ops_softmax_backward", "ds", ds, n));
    if (rows == 0 || n == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_attention.cl", "softmax_backward", &call));
    ops_arg_mat(&call, p);
    ops_arg_mat(&call, dp);
    ops_arg_uint(&call, n);
    ops_arg_float(&call, scale);
    ops_arg_mat(&call, ds);
    return ops_run_rows(dev, &call, rows);
}

ufo_status ops_attention_forward(ufo_device *dev, struct ufo_matrix q, struct ufo_matrix k,
                                 struct ufo_matrix v, size_t bh, size_t tokens, size_t head_dim,
                                 float scale, struct ufo_matrix probs, struct ufo_matrix o) {
    size_t tt = tokens * tokens, td = tokens * head_dim;
    if (bh == 0 || tokens == 0 || head_dim == 0)
        return UFO_OK;
    q.ld = k.ld = v.ld = o.ld = head_dim;
    probs.ld = tokens;

    /* scores into probs, softmax in place, then probs · v */
    OPS_TRY(ufo_gemm_batched(dev, UFO_NO_TRANS, UFO_TRANS, tokens, tokens, head_dim, 1.0f,
                             q, td, k, td, 0.0f, probs, tt, bh));
    OPS_TRY(ops_softmax_forward(dev, probs, bh * tokens, tokens, scale, probs));
    return ufo_gemm_batched(dev, UFO_NO_TRANS, UFO_NO_TRANS, tokens, head_dim, tokens, 1.0f,
                            probs, tt, v, td, 0.0f, o, td, bh);
}

ufo_status ops_attention_backward(ufo_device *dev, struct ufo_matrix q, struct ufo_matrix k,
                                  struct ufo_matrix v, struct ufo_matrix probs,
                                  struct ufo_matrix dout, size_t bh, size_t tokens,
                                  size_t head_dim, float scale, struct ufo_matrix dprobs,
                                  struct ufo_matrix dq, struct ufo_matrix dk,
                                  struct ufo_matrix dv) {
    size_t tt = tokens * tokens, td = tokens * head_dim;
    if (bh == 0 || tokens == 0 || head_dim == 0)
        return UFO_OK;
    q.ld = k.ld = v.ld = dout.ld = dq.ld = dk.ld = dv.ld = head_dim;
    probs.ld = dprobs.ld = tokens;

    /* dprobs = dout · v^T and dv = probs^T · dout */
    OPS_TRY(ufo_gemm_batched(dev, UFO_NO_TRANS, UFO_TRANS, tokens, tokens, head_dim, 1.0f,
                             dout, td, v, td, 0.0f, dprobs, tt, bh));
    OPS_TRY(ufo_gemm_batched(dev, UFO_TRANS, UFO_NO_TRANS, tokens, head_dim, tokens, 1.0f,
                             probs, tt, dout, td, 0.0f, dv, td, bh));

    /* through the softmax (in place), then dq = ds · k and dk = ds^T · q */
    OPS_TRY(ops_softmax_backward(dev, probs, dprobs, bh * tokens, tokens, scale, dprobs));
    OPS_TRY(ufo_gemm_batched(dev, UFO_NO_TRANS, UFO_NO_TRANS, tokens, head_dim, tokens, 1.0f,
                             dprobs, tt, k, td, 0.0f, dq, td, bh));
    return ufo_gemm_batched(dev, UFO_TRANS, UFO_NO_TRANS, tokens, head_dim, tokens, 1.0f,
                            dprobs, tt, q, td, 0.0f, dk, td, bh);
}

/* ---- residual stream and drop-path ---- */

ufo_status ops_residual_add(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix y,
                            size_t rows, size_t cols, size_t rows_per_sample,
                            struct ufo_matrix mask, float keep_scale) {
    OPS_TRY(ops_check_ld("ops_residual_add", "x", x, cols));
    OPS_TRY(ops_check_ld("ops_residual_add", "y", y, cols));
    if (mask.buf && rows_per_sample == 0)
        return ufo_fail(UFO_ERR_INVALID, "ops_residual_add: a drop-path mask needs rows per "
                        "sample");
    if (rows == 0 || cols == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_elementwise.cl", "residual_add", &call));
    ops_arg_mat(&call, x);
    ops_arg_mat(&call, y);
    ops_arg_uint(&call, rows);
    ops_arg_uint(&call, cols);
    ops_arg_uint(&call, rows_per_sample ? rows_per_sample : 1);
    ops_arg_uint(&call, mask.buf != NULL);
    ops_arg_vec(&call, mask);
    ops_arg_float(&call, keep_scale);
    return ops_run_2d(dev, &call, cols, rows);
}

ufo_status ops_residual_backward(ufo_device *dev, struct ufo_matrix dx, size_t rows, size_t cols,
                                 size_t rows_per_sample, struct ufo_matrix mask,
                                 float keep_scale, struct ufo_matrix dy) {
    OPS_TRY(ops_check_ld("ops_residual_backward", "dx", dx, cols));
    OPS_TRY(ops_check_ld("ops_residual_backward", "dy", dy, cols));
    if (mask.buf && rows_per_sample == 0)
        return ufo_fail(UFO_ERR_INVALID, "ops_residual_backward: a drop-path mask needs rows "
                        "per sample");
    if (rows == 0 || cols == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_elementwise.cl", "residual_backward", &call));
    ops_arg_mat(&call, dx);
    ops_arg_uint(&call, rows);
    ops_arg_uint(&call, cols);
    ops_arg_uint(&call, rows_per_sample ? rows_per_sample : 1);
    ops_arg_uint(&call, mask.buf != NULL);
    ops_arg_vec(&call, mask);
    ops_arg_float(&call, keep_scale);
    ops_arg_mat(&call, dy);
    return ops_run_2d(dev, &call, cols, rows);
}

/* ---- FFN path gates ---- */

ufo_status ops_gate_weights(ufo_device *dev, struct ufo_matrix logits, struct ufo_matrix noise,
                            size_t samples, float tau, enum ops_gate_mode mode,
                            struct ufo_matrix weights, struct ufo_matrix soft) {
    OPS_TRY(ops_check_buf("ops_gate_weights", "logits", logits));
    OPS_TRY(ops_check_buf("ops_gate_weights", "weights", weights));
    OPS_TRY(ops_check_buf("ops_gate_weights", "soft", soft));
    if (mode == OPS_GATE_GUMBEL)
        OPS_TRY(ops_check_buf("ops_gate_weights", "noise", noise));
    OPS_TRY(ops_pairs("ops_gate_weights", "noise", &noise));
    OPS_TRY(ops_pairs("ops_gate_weights", "weights", &weights));
    OPS_TRY(ops_pairs("ops_gate_weights", "soft", &soft));
    if (!(tau > 0.0f))
        return ufo_fail(UFO_ERR_INVALID, "ops_gate_weights: temperature %g is not positive",
                        (double)tau);
    if (samples == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_gate.cl", "gate_weights", &call));
    ops_arg_vec(&call, logits);
    ops_arg_mat(&call, noise);
    ops_arg_uint(&call, samples);
    ops_arg_float(&call, tau);
    ops_arg_uint(&call, (size_t)mode);
    ops_arg_mat(&call, weights);
    ops_arg_mat(&call, soft);
    return ops_run(dev, &call, 1, &samples, NULL);
}

ufo_status ops_gate_mix_forward(ufo_device *dev, struct ufo_matrix shared, struct ufo_matrix task,
                                struct ufo_matrix weights, size_t samples,
                                size_t rows_per_sample, size_t cols, struct ufo_matrix out) {
    if (shared.buf)
        OPS_TRY(ops_check_ld("ops_gate_mix_forward", "shared", shared, cols));
    if (task.buf)
        OPS_TRY(ops_check_ld("ops_gate_mix_forward", "task", task, cols));
    OPS_TRY(ops_check_buf("ops_gate_mix_forward", "weights", weights));
    OPS_TRY(ops_pairs("ops_gate_mix_forward", "weights", &weights));
    OPS_TRY(ops_check_ld("ops_gate_mix_forward", "out", out, cols));
    if (samples == 0 || rows_per_sample == 0 || cols == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_gate.cl", "gate_mix_forward", &call));
    ops_arg_mat(&call, shared);
    ops_arg_uint(&call, shared.buf != NULL);
    ops_arg_mat(&call, task);
    ops_arg_uint(&call, task.buf != NULL);
    ops_arg_mat(&call, weights);
    ops_arg_uint(&call, samples * rows_per_sample);
    ops_arg_uint(&call, rows_per_sample);
    ops_arg_uint(&call, cols);
    ops_arg_mat(&call, out);
    return ops_run_2d(dev, &call, cols, samples * rows_per_sample);
}

ufo_status ops_gate_mix_backward(ufo_device *dev, struct ufo_matrix shared,
                                 struct ufo_matrix task, struct ufo_matrix weights,
                                 struct ufo_matrix soft, struct ufo_matrix dout, size_t samples,
                                 size_t rows_per_sample, size_t cols, float tau,
                                 enum ops_gate_mode mode, struct ufo_matrix dshared,
                                 struct ufo_matrix dtask, struct ufo_matrix dweights,
                                 struct ufo_matrix dlogits) {
    int want_logits = mode == OPS_GATE_GUMBEL || mode == OPS_GATE_BOTH;
    OPS_TRY(ops_check_ld("ops_gate_mix_backward", "dout", dout, cols));
    OPS_TRY(ops_check_buf("ops_gate_mix_backward", "weights", weights));
    OPS_TRY(ops_pairs("ops_gate_mix_backward", "weights", &weights));
    OPS_TRY(ops_pairs("ops_gate_mix_backward", "soft", &soft));
    OPS_TRY(ops_pairs("ops_gate_mix_backward", "dweights", &dweights));
    if (dshared.buf)
        OPS_TRY(ops_check_ld("ops_gate_mix_backward", "dshared", dshared, cols));
    if (dtask.buf)
        OPS_TRY(ops_check_ld("ops_gate_mix_backward", "dtask", dtask, cols));
    if (want_logits) {
        OPS_TRY(ops_check_ld("ops_gate_mix_backward", "shared", shared, cols));
        OPS_TRY(ops_check_ld("ops_gate_mix_backward", "task", task, cols));
        OPS_TRY(ops_check_buf("ops_gate_mix_backward", "soft", soft));
        OPS_TRY(ops_check_buf("ops_gate_mix_backward", "dweights", dweights));
        OPS_TRY(ops_check_buf("ops_gate_mix_backward", "dlogits", dlogits));
        if (!(tau > 0.0f))
            return ufo_fail(UFO_ERR_INVALID, "ops_gate_mix_backward: temperature %g is not "
                            "positive", (double)tau);
    }
    if (samples == 0 || rows_per_sample == 0 || cols == 0)
        return UFO_OK;

    /* the paths' gradients */
    struct ops_call call;
    if (dshared.buf || dtask.buf) {
        OPS_TRY(ops_begin(dev, "ops_gate.cl", "gate_mix_backward_paths", &call));
        ops_arg_mat(&call, dout);
        ops_arg_mat(&call, weights);
        ops_arg_uint(&call, samples * rows_per_sample);
        ops_arg_uint(&call, rows_per_sample);
        ops_arg_uint(&call, cols);
        ops_arg_mat(&call, dshared);
        ops_arg_uint(&call, dshared.buf != NULL);
        ops_arg_mat(&call, dtask);
        ops_arg_uint(&call, dtask.buf != NULL);
        OPS_TRY(ops_run_2d(dev, &call, cols, samples * rows_per_sample));
    }
    if (!want_logits)
        return UFO_OK;

    /* per-sample weight gradients, then the logits' through the soft probabilities */
    OPS_TRY(ops_begin(dev, "ops_gate.cl", "gate_dweights", &call));
    ops_arg_mat(&call, dout);
    ops_arg_mat(&call, shared);
    ops_arg_uint(&call, 1);
    ops_arg_mat(&call, task);
    ops_arg_uint(&call, 1);
    ops_arg_uint(&call, rows_per_sample);
    ops_arg_uint(&call, cols);
    ops_arg_mat(&call, dweights);
    OPS_TRY(ops_run_rows(dev, &call, samples));
    OPS_TRY(ops_begin(dev, "ops_gate.cl", "gate_dlogits", &call));
    ops_arg_mat(&call, soft);
    ops_arg_mat(&call, dweights);
    ops_arg_uint(&call, samples);
    ops_arg_float(&call, tau);
    ops_arg_vec(&call, dlogits);
    size_t one = 1;
    return ops_run(dev, &call, 1, &one, NULL);
}

/* ---- heads and losses ---- */

ufo_status ops_bnneck_forward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix gamma,
                              struct ufo_matrix beta, struct ufo_matrix running_mean,
                              struct ufo_matrix running_var, size_t n, size_t c, float eps,
                              float momentum, int training, struct ufo_matrix y,
                              struct ufo_matrix mean, struct ufo_matrix rstd) {
    OPS_TRY(ops_check_ld("ops_bnneck_forward", "x", x, c));
    OPS_TRY(ops_check_ld("ops_bnneck_forward", "y", y, c));
    OPS_TRY(ops_check_buf("ops_bnneck_forward", "gamma", gamma));
    OPS_TRY(ops_check_buf("ops_bnneck_forward", "beta", beta));
    OPS_TRY(ops_check_buf("ops_bnneck_forward", "running_mean", running_mean));
    OPS_TRY(ops_check_buf("ops_bnneck_forward", "running_var", running_var));
    if (training) {
        OPS_TRY(ops_check_buf("ops_bnneck_forward", "mean", mean));
        OPS_TRY(ops_check_buf("ops_bnneck_forward", "rstd", rstd));
        if (n < 2)
            return ufo_fail(UFO_ERR_INVALID, "ops_bnneck_forward: batch statistics need at "
                            "least 2 samples, got %zu", n);
    }
    if (n == 0 || c == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_norm.cl", "bnneck_forward", &call));
    ops_arg_mat(&call, x);
    ops_arg_vec(&call, gamma);
    ops_arg_vec(&call, beta);
    ops_arg_vec(&call, running_mean);
    ops_arg_vec(&call, running_var);
    ops_arg_uint(&call, n);
    ops_arg_uint(&call, c);
    ops_arg_float(&call, eps);
    ops_arg_float(&call, momentum);
    ops_arg_uint(&call, training ? 1 : 0);
    ops_arg_mat(&call, y);
    ops_arg_vec(&call, mean);
    ops_arg_vec(&call, rstd);
    return ops_run(dev, &call, 1, &c, NULL);
}

ufo_status ops_bnneck_backward(ufo_device *dev, struct ufo_matrix x, struct ufo_matrix gamma,
                               struct ufo_matrix mean, struct ufo_matrix rstd,
                               struct ufo_matrix dy, size_t n, size_t c, struct ufo_matrix dx,
                               int accumulate, struct ufo_matrix dgamma) {
    OPS_TRY(ops_check_ld("ops_bnneck_backward", "x", x, c));
    OPS_TRY(ops_check_ld("ops_bnneck_backward", "dy", dy, c));
    OPS_TRY(ops_check_ld("ops_bnneck_backward", "dx", dx, c));
    OPS_TRY(ops_check_buf("ops_bnneck_backward", "gamma", gamma));
    OPS_TRY(ops_check_buf("ops_bnneck_backward", "mean", mean));
    OPS_TRY(ops_check_buf("ops_bnneck_backward", "rstd", rstd));
    OPS_TRY(ops_check_buf("ops_bnneck_backward", "dgamma", dgamma));
    if (n == 0 || c == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_norm.cl", "bnneck_backward", &call));
    ops_arg_mat(&call, x);
    ops_arg_vec(&call, gamma);
    ops_arg_vec(&call, mean);
    ops_arg_vec(&call, rstd);
    ops_arg_mat(&call, dy);
    ops_arg_uint(&call, n);
    ops_arg_uint(&call, c);
    ops_arg_mat(&call, dx);
    ops_arg_uint(&call, accumulate ? 1 : 0);
    ops_arg_vec(&call, dgamma);
    return ops_run(dev, &call, 1, &c, NULL);
}

ufo_status ops_l2norm_forward(ufo_device *dev, struct ufo_matrix x, size_t rows, size_t cols,
                              struct ufo_matrix y, struct ufo_matrix norm) {
    OPS_TRY(ops_check_ld("ops_l2norm_forward", "x", x, cols));
    OPS_TRY(ops_check_ld("ops_l2norm_forward", "y", y, cols));
    OPS_TRY(ops_check_buf("ops_l2norm_forward", "norm", norm));
    if (rows == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_norm.cl", "l2norm_forward", &call));
    ops_arg_mat(&call, x);
    ops_arg_uint(&call, cols);
    ops_arg_mat(&call, y);
    ops_arg_vec(&call, norm);
    return ops_run_rows(dev, &call, rows);
}

ufo_status ops_l2norm_backward(ufo_device *dev, struct ufo_matrix y, struct ufo_matrix norm,
                               struct ufo_matrix dy, size_t rows, size_t cols,
                               struct ufo_matrix dx, int accumulate) {
    OPS_TRY(ops_check_ld("ops_l2norm_backward", "y", y, cols));
    OPS_TRY(ops_check_ld("ops_l2norm_backward", "dy", dy, cols));
    OPS_TRY(ops_check_ld("ops_l2norm_backward", "dx", dx, cols));
    OPS_TRY(ops_check_buf("ops_l2norm_backward", "norm", norm));
    if (rows == 0 || cols == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_norm.cl", "l2norm_backward", &call));
    ops_arg_mat(&call, y);
    ops_arg_vec(&call, norm);
    ops_arg_mat(&call, dy);
    ops_arg_uint(&call, cols);
    ops_arg_mat(&call, dx);
    ops_arg_uint(&call, accumulate ? 1 : 0);
    return ops_run_rows(dev, &call, rows);
}

ufo_status ops_cosface_loss(ufo_device *dev, struct ufo_matrix cos, struct ufo_matrix labels,
                            size_t n, size_t k, float s, float m, float loss_weight,
                            struct ufo_matrix row_loss, struct ufo_matrix loss,
                            struct ufo_matrix dcos) {
    OPS_TRY(ops_check_ld("ops_cosface_loss", "cos", cos, k));
    OPS_TRY(ops_check_ld("ops_cosface_loss", "dcos", dcos, k));
    OPS_TRY(ops_check_buf("ops_cosface_loss", "labels", labels));
    OPS_TRY(ops_check_buf("ops_cosface_loss", "row_loss", row_loss));
    OPS_TRY(ops_check_buf("ops_cosface_loss", "loss", loss));
    if (n == 0 || k == 0)
        return ufo_fail(UFO_ERR_INVALID, "ops_cosface_loss: %zu samples of %zu classes", n, k);
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_loss.cl", "cosface_rows", &call));
    ops_arg_mat(&call, cos);
    ops_arg_vec(&call, labels);
    ops_arg_uint(&call, n);
    ops_arg_uint(&call, k);
    ops_arg_float(&call, s);
    ops_arg_float(&call, m);
    ops_arg_float(&call, loss_weight);
    ops_arg_vec(&call, row_loss);
    ops_arg_mat(&call, dcos);
    OPS_TRY(ops_run_rows(dev, &call, n));
    OPS_TRY(ops_begin(dev, "ops_loss.cl", "ordered_mean", &call));
    ops_arg_vec(&call, row_loss);
    ops_arg_uint(&call, 1);
    ops_arg_uint(&call, n);
    ops_arg_float(&call, loss_weight);
    ops_arg_vec(&call, loss);
    size_t one = 1;
    return ops_run(dev, &call, 1, &one, NULL);
}

/* Carve `floats` floats off the front of a scratch view; `ld` as given. */
static struct ufo_matrix ops_carve(struct ufo_matrix *work, size_t floats, size_t ld) {
    struct ufo_matrix m = {work->buf, work->offset, ld};
    work->offset += floats;
    return m;
}

ufo_status ops_cosface(ufo_device *dev, struct ufo_matrix feat, struct ufo_matrix weight,
                       struct ufo_matrix labels, size_t n, size_t k, size_t c, float s, float m,
                       float loss_weight, struct ufo_matrix work, struct ufo_matrix loss,
                       struct ufo_matrix dfeat, int accumulate, struct ufo_matrix dweight) {
    OPS_TRY(ops_check_ld("ops_cosface", "feat", feat, c));
    OPS_TRY(ops_check_ld("ops_cosface", "weight", weight, c));
    OPS_TRY(ops_check_ld("ops_cosface", "dfeat", dfeat, c));
    OPS_TRY(ops_check_ld("ops_cosface", "dweight", dweight, c));
    OPS_TRY(ops_check_buf("ops_cosface", "work", work));
    if (n == 0 || k == 0 || c == 0)
        return ufo_fail(UFO_ERR_INVALID, "ops_cosface: %zu samples, %zu classes, width %zu", n,
                        k, c);
    struct ufo_matrix cos = ops_carve(&work, n * k, k), dcos = ops_carve(&work, n * k, k);
    struct ufo_matrix fn = ops_carve(&work, n * c, c), fnorm = ops_carve(&work, n, 0);
    struct ufo_matrix wn = ops_carve(&work, k * c, c), wnorm = ops_carve(&work, k, 0);
    struct ufo_matrix dfn = ops_carve(&work, n * c, c), dwn = ops_carve(&work, k * c, c);
    struct ufo_matrix row_loss = ops_carve(&work, n, 0);

    /* cos = normalised features · normalised class weights^T, then the loss */
    OPS_TRY(ops_l2norm_forward(dev, feat, n, c, fn, fnorm));
    OPS_TRY(ops_l2norm_forward(dev, weight, k, c, wn, wnorm));
    OPS_TRY(ufo_gemm(dev, UFO_NO_TRANS, UFO_TRANS, n, k, c, 1.0f, fn, wn, 0.0f, cos));
    OPS_TRY(ops_cosface_loss(dev, cos, labels, n, k, s, m, loss_weight, row_loss, loss, dcos));

    /* back through the product and both normalisations */
    OPS_TRY(ufo_gemm(dev, UFO_NO_TRANS, UFO_NO_TRANS, n, c, k, 1.0f, dcos, wn, 0.0f, dfn));
    OPS_TRY(ufo_gemm(dev, UFO_TRANS, UFO_NO_TRANS, k, c, n, 1.0f, dcos, fn, 0.0f, dwn));
    OPS_TRY(ops_l2norm_backward(dev, fn, fnorm, dfn, n, c, dfeat, accumulate));
    return ops_l2norm_backward(dev, wn, wnorm, dwn, k, c, dweight, 1);
}

ufo_status ops_triplet(ufo_device *dev, struct ufo_matrix feat, struct ufo_matrix labels,
                       size_t n, size_t c, float loss_weight, struct ufo_matrix work,
                       struct ufo_matrix loss, struct ufo_matrix dfeat, int accumulate) {
    OPS_TRY(ops_check_ld("ops_triplet", "feat", feat, c));
    OPS_TRY(ops_check_ld("ops_triplet", "dfeat", dfeat, c));
    OPS_TRY(ops_check_buf("ops_triplet", "labels", labels));
    OPS_TRY(ops_check_buf("ops_triplet", "work", work));
    OPS_TRY(ops_check_buf("ops_triplet", "loss", loss));
    if (n == 0 || c == 0)
        return ufo_fail(UFO_ERR_INVALID, "ops_triplet: %zu samples of width %zu", n, c);
    if (n >= (1u << 24))
        return ufo_fail(UFO_ERR_UNSUPPORTED, "ops_triplet: %zu samples (indices are kept as "
                        "floats)", n);
    struct ufo_matrix dist = work, info = work;
    info.offset += n * n;

    /* distances, per-anchor choices and losses, then the gathered gradients */
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_loss.cl", "triplet_distances", &call));
    ops_arg_mat(&call, feat);
    ops_arg_uint(&call, n);
    ops_arg_uint(&call, c);
    ops_arg_vec(&call, dist);
    OPS_TRY(ops_run_2d(dev, &call, n, n));
    OPS_TRY(ops_begin(dev, "ops_loss.cl", "triplet_anchors", &call));
    ops_arg_vec(&call, dist);
    ops_arg_vec(&call, labels);
    ops_arg_uint(&call, n);
    ops_arg_float(&call, loss_weight);
    ops_arg_vec(&call, info);
    OPS_TRY(ops_run(dev, &call, 1, &n, NULL));
    OPS_TRY(ops_begin(dev, "ops_loss.cl", "triplet_gradient", &call));
    ops_arg_mat(&call, feat);
    ops_arg_uint(&call, n);
    ops_arg_uint(&call, c);
    ops_arg_vec(&call, dist);
    ops_arg_vec(&call, info);
    ops_arg_mat(&call, dfeat);
    ops_arg_uint(&call, accumulate ? 1 : 0);
    OPS_TRY(ops_run_2d(dev, &call, c, n));
    struct ufo_matrix losses = info;
    losses.offset += 3;
    OPS_TRY(ops_begin(dev, "ops_loss.cl", "ordered_mean", &call));
    ops_arg_vec(&call, losses);
    ops_arg_uint(&call, OPS_TRIPLET_INFO);
    ops_arg_uint(&call, n);
    ops_arg_float(&call, loss_weight);
    ops_arg_vec(&call, loss);
    size_t one = 1;
    return ops_run(dev, &call, 1, &one, NULL);
}

/* ---- optimizer and checks ---- */

/* out[0] = Σ x² (mode 0) or the count of non-finite values (mode 1). */
static ufo_status ops_reduce(ufo_device *dev, const char *op, struct ufo_matrix x, size_t n,
                             unsigned mode, struct ufo_matrix out) {
    OPS_TRY(ops_check_buf(op, "x", x));
    OPS_TRY(ops_check_buf(op, "out", out));
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_optim.cl", "reduce_partial", &call));
    ops_arg_vec(&call, x);
    ops_arg_uint(&call, n);
    ops_arg_uint(&call, mode);
    ops_arg_vec(&call, out);
    size_t width = call.items ? 1 : OPS_ROW_WG, global = OPS_REDUCE_GROUPS * width;
    OPS_TRY(ops_run(dev, &call, 1, &global, &width));
    OPS_TRY(ops_begin(dev, "ops_optim.cl", "reduce_finish", &call));
    ops_arg_vec(&call, out);
    global = 1;
    return ops_run(dev, &call, 1, &global, NULL);
}

ufo_status ops_sum_squares(ufo_device *dev, struct ufo_matrix x, size_t n, struct ufo_matrix out) {
    return ops_reduce(dev, "ops_sum_squares", x, n, 0, out);
}

ufo_status ops_count_nonfinite(ufo_device *dev, struct ufo_matrix x, size_t n,
                               struct ufo_matrix out) {
    return ops_reduce(dev, "ops_count_nonfinite", x, n, 1, out);
}

ufo_status ops_check_finite(ufo_device *dev, struct ufo_matrix x, size_t n,
                            struct ufo_matrix work, const char *what) {
    OPS_TRY(ops_count_nonfinite(dev, x, n, work));
    float count = 0;
    cl_int err = clEnqueueReadBuffer(ufo_device_queue(dev), work.buf, CL_TRUE,
                                     work.offset * sizeof(float), sizeof count, &count, 0, NULL,
                                     NULL);
    if (err != CL_SUCCESS)
        return ufo_fail(UFO_ERR_OPENCL, "ops_check_finite: clEnqueueReadBuffer: %s",
                        ufo_cl_error_name(err));
    if (count != 0)
        return ufo_fail(UFO_ERR_NUMERIC, "%s: %.0f of %zu values are NaN or Inf", what,
                        (double)count, n);
    return UFO_OK;
}

ufo_status ops_sgd(ufo_device *dev, struct ufo_matrix w, struct ufo_matrix g,
                   struct ufo_matrix v, size_t n, float lr, float momentum, float weight_decay,
                   float clip_norm, struct ufo_matrix norm_work) {
    OPS_TRY(ops_check_buf("ops_sgd", "w", w));
    OPS_TRY(ops_check_buf("ops_sgd", "g", g));
    OPS_TRY(ops_check_buf("ops_sgd", "v", v));
    if (clip_norm > 0.0f) {
        OPS_TRY(ops_check_buf("ops_sgd", "norm_work", norm_work));
        OPS_TRY(ops_sum_squares(dev, g, n, norm_work));
    }
    if (n == 0)
        return UFO_OK;
    struct ops_call call;
    OPS_TRY(ops_begin(dev, "ops_optim.cl", "sgd_step", &call));
    ops_arg_vec(&call, w);
    ops_arg_vec(&call, g);
    ops_arg_vec(&call, v);
    ops_arg_uint(&call, n);
    ops_arg_float(&call, lr);
    ops_arg_float(&call, momentum);
    ops_arg_float(&call, weight_decay);
    ops_arg_float(&call, clip_norm);
    ops_arg_vec(&call, norm_work);
    return ops_run(dev, &call, 1, &n, NULL);
}

/* The multi-tensor kernels take one chunk count for the update (any count gives the same
 * floats: the update is element-wise); the norms keep OPS_REDUCE_GROUPS. */
#define OPS_SGD_CHUNKS 16

ufo_status ops_sgd_multi(ufo_device *dev, struct ufo_matrix w, struct ufo_matrix g,
                         struct ufo_matrix v, const struct ops_sgd_tensor *tensors,
                         size_t count, float momentum, float clip_norm, struct ufo_matrix work) {
    OPS_TRY(ops_check_buf("ops_sgd_multi", "w", w));
    OPS_TRY(ops_check_buf("ops_sgd_multi", "g", g));
    OPS_TRY(ops_check_buf("ops_sgd_multi", "v", v));
    OPS_TRY(ops_check_buf("ops_sgd_multi", "work", work));
    if (count == 0)
        return UFO_OK;
    if (count > UINT_MAX / (4 + OPS_REDUCE_FLOATS) / OPS_REDUCE_GROUPS)
        return ufo_fail(UFO_ERR_UNSUPPORTED, "ops_sgd_multi: %zu tensors are too many", count);

    /* the table: first element, length, rate, weight decay */
    cl_uint *table = malloc(count * 4 * sizeof *table);
    if (!table)
        return ufo_fail(UFO_ERR_NOMEM, "ops_sgd_multi: out of memory for %zu tensors", count);
    for (size_t e = 0; e < count; e++) {
        if (tensors[e].offset > UINT_MAX || tensors[e].n > UINT_MAX ||
            tensors[e].offset + tensors[e].n > UINT_MAX) {
            free(table);
            return ufo_fail(UFO_ERR_UNSUPPORTED, "ops_sgd_multi: tensor %zu (offset %zu, %zu "
                            "elements) is past the 32-bit limit of the kernels", e,
                            tensors[e].offset, tensors[e].n);
        }
        table[4 * e] = (cl_uint)tensors[e].offset;
        table[4 * e + 1] = (cl_uint)tensors[e].n;
        memcpy(&table[4 * e + 2], &tensors[e].lr, sizeof(float));
        memcpy(&table[4 * e + 3], &tensors[e].weight_decay, sizeof(float));
    }
    ufo_status st = device_write(dev, work.buf, work.offset * sizeof(float),
                                 count * 4 * sizeof *table, table);
    free(table);
    OPS_TRY(st);
    struct ufo_matrix tab = work, part = ops_vec(work.buf, work.offset + 4 * count);

    /* each tensor's squared norm, split and summed as ops_sum_squares does it */
    struct ops_call call;
    if (clip_norm > 0.0f) {
        OPS_TRY(ops_begin(dev, "ops_optim.cl", "multi_sumsq_partial", &call));
        ops_arg_vec(&call, g);
        ops_arg_vec(&call, tab);
        ops_arg_vec(&call, part);
        size_t width = call.items ? 1 : OPS_ROW_WG;
        size_t global = count * OPS_REDUCE_GROUPS * width;
        OPS_TRY(ops_run(dev, &call, 1, &global, call.items ? NULL : &width));
        OPS_TRY(ops_begin(dev, "ops_optim.cl", "multi_sumsq_finish", &call));
        ops_arg_vec(&call, part);
        ops_arg_uint(&call, count);
        OPS_TRY(ops_run(dev, &call, 1, &count, NULL));
    }

    /* the update */
    OPS_TRY(ops_begin(dev, "ops_optim.cl", "multi_sgd_step", &call));
    ops_arg_vec(&call, w);
    ops_arg_vec(&call, g);
    ops_arg_vec(&call, v);
    ops_arg_vec(&call, tab);
    ops_arg_vec(&call, part);
    ops_arg_uint(&call, OPS_SGD_CHUNKS);
    ops_arg_float(&call, momentum);
    ops_arg_float(&call, clip_norm);
    size_t global[2] = {OPS_SGD_CHUNKS, count};
    return ops_run(dev, &call, 2, global, NULL);
}
