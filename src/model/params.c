/* The supernet's parameter layout and its seeded initialisation. */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "model/params.h"

/* Append one tensor; returns its index. Capacity is computed up front, so no realloc. */
static int layout_add(struct ufo_layout *l, enum ufo_param_kind kind, int ndim,
                      const int64_t *shape, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int layout_add(struct ufo_layout *l, enum ufo_param_kind kind, int ndim,
                      const int64_t *shape, const char *fmt, ...) {
    struct ufo_param *p = &l->params[l->n];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->name, sizeof p->name, fmt, ap);
    va_end(ap);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) {
        p->shape[i] = shape[i];
        p->numel *= (size_t)shape[i];
    }
    p->kind = kind;
    p->offset = l->total;
    l->total += (p->numel + UFO_LAYOUT_ALIGN - 1) / UFO_LAYOUT_ALIGN * UFO_LAYOUT_ALIGN;
    return l->n++;
}

/* Shorthands for 1-, 2- and 4-d shapes. */
#define SHAPE1(a) 1, (const int64_t[]){(a)}
#define SHAPE2(a, b) 2, (const int64_t[]){(a), (b)}
#define SHAPE3(a, b, c) 3, (const int64_t[]){(a), (b), (c)}
#define SHAPE4(a, b, c, d) 4, (const int64_t[]){(a), (b), (c), (d)}

static void layout_add_ffn(struct ufo_layout *l, struct ufo_ffn_index *ix, const char *prefix,
                           int64_t C, int64_t F) {
    ix->fc1_w = layout_add(l, UFO_PARAM_DECAY, SHAPE2(F, C), "%s.fc1.weight", prefix);
    ix->fc1_b = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(F), "%s.fc1.bias", prefix);
    ix->fc2_w = layout_add(l, UFO_PARAM_DECAY, SHAPE2(C, F), "%s.fc2.weight", prefix);
    ix->fc2_b = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "%s.fc2.bias", prefix);
}

ufo_status ufo_layout_create(const struct ufo_space *space, struct ufo_layout *l) {
    memset(l, 0, sizeof *l);
    ufo_status st = ufo_space_validate(space);
    if (st != UFO_OK)
        return st;
    l->space = *space;
    int T = space->n_tasks;
    int cap = 6 + space->depth * (12 + 5 * T) + 5 * T;
    l->params = calloc((size_t)cap, sizeof *l->params);
    if (!l->params)
        return ufo_fail(UFO_ERR_NOMEM, "layout: out of memory for %d tensors", cap);

    int64_t C = space->embed_dim, p = space->patch;
    int64_t A = (int64_t)space->max_heads * space->head_dim;
    int64_t F = ufo_space_hidden(space, space->mlp_ratio_max);
    int64_t N = ufo_space_tokens(space);

    /* embedding */
    l->patch_w = layout_add(l, UFO_PARAM_DECAY, SHAPE4(C, 3, p, p), "patch_embed.proj.weight");
    l->patch_b = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "patch_embed.proj.bias");
    l->cls_token = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE3(1, 1, C), "cls_token");
    l->pos_embed = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE3(1, N, C), "pos_embed");

    /* blocks */
    for (int b = 0; b < space->depth; b++) {
        struct ufo_block_index *ix = &l->block[b];
        char prefix[UFO_PARAM_NAME_MAX];
        ix->norm1_w = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "blocks.%d.norm1.weight", b);
        ix->norm1_b = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "blocks.%d.norm1.bias", b);
        ix->qkv_w = layout_add(l, UFO_PARAM_DECAY, SHAPE2(3 * A, C), "blocks.%d.attn.qkv.weight",
                               b);
        ix->qkv_b = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(3 * A), "blocks.%d.attn.qkv.bias",
                               b);
        ix->proj_w = layout_add(l, UFO_PARAM_DECAY, SHAPE2(C, A), "blocks.%d.attn.proj.weight",
                                b);
        ix->proj_b = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "blocks.%d.attn.proj.bias", b);
        ix->norm2_w = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "blocks.%d.norm2.weight", b);
        ix->norm2_b = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "blocks.%d.norm2.bias", b);
        snprintf(prefix, sizeof prefix, "blocks.%d.mlp", b);
        layout_add_ffn(l, &ix->shared, prefix, C, F);
        for (int t = 0; t < T; t++) {
            snprintf(prefix, sizeof prefix, "blocks.%d.task_mlp.%s", b, space->tasks[t].name);
            layout_add_ffn(l, &ix->task[t], prefix, C, F);
        }
        for (int t = 0; t < T; t++)
            ix->gate[t] = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(2), "blocks.%d.gate.%s", b,
                                     space->tasks[t].name);
    }

    /* final norm and heads */
    l->norm_w = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "norm.weight");
    l->norm_b = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "norm.bias");
    for (int t = 0; t < T; t++) {
        struct ufo_head_index *h = &l->head[t];
        const char *name = space->tasks[t].name;
        h->bn_w = layout_add(l, UFO_PARAM_NO_DECAY, SHAPE1(C), "heads.%s.bnneck.weight", name);
        h->bn_b = layout_add(l, UFO_PARAM_FROZEN, SHAPE1(C), "heads.%s.bnneck.bias", name);
        h->bn_mean = layout_add(l, UFO_PARAM_BUFFER, SHAPE1(C), "heads.%s.bnneck.running_mean",
                                name);
        h->bn_var = layout_add(l, UFO_PARAM_BUFFER, SHAPE1(C), "heads.%s.bnneck.running_var",
                               name);
        h->cosface_w = layout_add(l, UFO_PARAM_DECAY, SHAPE2(space->tasks[t].classes, C),
                                  "heads.%s.cosface.weight", name);
    }
    if (l->n != cap) {
        ufo_layout_free(l);
        return ufo_fail(UFO_ERR_INVALID, "layout: internal count mismatch");
    }
    return UFO_OK;
}

void ufo_layout_free(struct ufo_layout *l) {
    free(l->params);
    l->params = NULL;
    l->n = 0;
}

int ufo_layout_find(const struct ufo_layout *l, const char *name) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->params[i].name, name) == 0)
            return i;
    return -1;
}

void ufo_param_shape_str(const struct ufo_param *p, char *buf, size_t size) {
    size_t n = 0;
    n += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < p->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "",
                              (long long)p->shape[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

size_t ufo_layout_trainable(const struct ufo_layout *l) {
    size_t n = 0;
    for (int i = 0; i < l->n; i++)
        if (l->params[i].kind == UFO_PARAM_DECAY || l->params[i].kind == UFO_PARAM_NO_DECAY)
            n += l->params[i].numel;
    return n;
}

void ufo_layout_log(const struct ufo_layout *l) {
    log_info("supernet: %d tensors, %zu trainable parameters; parameters, gradients and each "
             "optimizer state take %zu floats (%.1f MiB) apiece", l->n, ufo_layout_trainable(l),
             l->total, l->total * 4.0 / (1 << 20));
}

/* Element j of a normal(0, std) truncated at ±2 std, from tensor stream `step`. Box-Muller
 * on one Philox block gives two candidates; all-rejected blocks move to the next attempt. */
static float init_trunc_normal(uint64_t seed, uint64_t step, uint64_t j, double std,
                               int truncate) {
    for (uint64_t attempt = 0; attempt < 64; attempt++) {
        uint32_t r[4];
        ufo_philox(seed, step, UFO_RNG_INIT, j | (attempt << 40), r);
        double u1 = ufo_uniform01(r[0], r[1]), u2 = ufo_uniform01(r[2], r[3]);
        double rad = sqrt(-2.0 * log(u1));
        double z0 = rad * cos(2 * M_PI * u2), z1 = rad * sin(2 * M_PI * u2);
        if (!truncate || fabs(z0) <= 2.0)
            return (float)(z0 * std);
        if (fabs(z1) <= 2.0)
            return (float)(z1 * std);
    }
    return 0.0f; /* 64 rejections in a row: probability below 1e-160 */
}

static void init_fill(const struct ufo_param *p, float *params, float value) {
    for (size_t j = 0; j < p->numel; j++)
        params[p->offset + j] = value;
}

void ufo_layout_init(const struct ufo_layout *l, uint64_t seed, float *params) {
    memset(params, 0, l->total * sizeof *params);
    for (int i = 0; i < l->n; i++) {
        const struct ufo_param *p = &l->params[i];
        const char *name = p->name;
        size_t len = strlen(name);
        int is_bias = len >= 5 && strcmp(name + len - 5, ".bias") == 0;
        if (i == l->cls_token) {
            for (size_t j = 0; j < p->numel; j++)
                params[p->offset + j] = init_trunc_normal(seed, (uint64_t)i, j, 1e-6, 0);
        } else if (p->kind == UFO_PARAM_DECAY || i == l->pos_embed) {
            for (size_t j = 0; j < p->numel; j++)
                params[p->offset + j] = init_trunc_normal(seed, (uint64_t)i, j, 0.02, 1);
        } else if (p->kind == UFO_PARAM_BUFFER) {
            init_fill(p, params, strstr(name, "running_var") ? 1.0f : 0.0f);
        } else if (is_bias || strstr(name, ".gate.")) {
            init_fill(p, params, 0.0f);
        } else {
            init_fill(p, params, 1.0f); /* layer-norm and BN-neck weights */
        }
    }
}
