/* Supernet files: save and load the parameter layout, initialise from a timm ViT. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"

ufo_status ufo_params_save(const struct ufo_layout *l, const float *params, const char *path,
                           const char *const *extra, size_t n_extra) {
    char *space_json;
    ufo_status st = ufo_space_to_json(&l->space, &space_json);
    if (st != UFO_OK)
        return st;
    struct ufo_st_out *outs = calloc((size_t)l->n, sizeof *outs);
    const char **meta = calloc(2 * (n_extra + 2), sizeof *meta);
    if (!outs || !meta) {
        free(outs);
        free(meta);
        free(space_json);
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
    }
    for (int i = 0; i < l->n; i++) {
        const struct ufo_param *p = &l->params[i];
        outs[i].name = p->name;
        outs[i].ndim = p->ndim;
        for (int d = 0; d < p->ndim; d++)
            outs[i].shape[d] = p->shape[d];
        outs[i].data = params + p->offset;
    }
    meta[0] = UFO_META_FORMAT;
    meta[1] = "ufo-supernet-1";
    meta[2] = UFO_META_SPACE;
    meta[3] = space_json;
    for (size_t i = 0; i < 2 * n_extra; i++)
        meta[4 + i] = extra[i];
    st = ufo_st_write(path, outs, (size_t)l->n, meta, n_extra + 2);
    free(outs);
    free(meta);
    free(space_json);
    return st;
}

/* Does the file's tensor have exactly the layout tensor's shape? */
static int ckpt_same_shape(const struct ufo_param *p, const struct ufo_st_tensor *t) {
    if (p->ndim != t->ndim)
        return 0;
    for (int d = 0; d < p->ndim; d++)
        if (p->shape[d] != t->shape[d])
            return 0;
    return 1;
}

static void ckpt_file_shape_str(const struct ufo_st_tensor *t, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < t->ndim && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? ", " : "",
                              (long long)t->shape[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
}

/* The failure for a tensor whose shape differs from the layout's. */
static ufo_status ckpt_shape_error(const char *path, const struct ufo_param *p,
                                   const struct ufo_st_tensor *t) {
    char want[96], got[96];
    ufo_param_shape_str(p, want, sizeof want);
    ckpt_file_shape_str(t, got, sizeof got);
    return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" has shape %s, the model needs %s", path,
                    p->name, got, want);
}

ufo_status ufo_params_load(const struct ufo_layout *l, float *params, const char *path) {
    return ufo_params_load_ignoring(l, params, path, NULL);
}

ufo_status ufo_params_load_ignoring(const struct ufo_layout *l, float *params, const char *path,
                                    const char *ignore) {
    ufo_st_file *f;
    ufo_status st = ufo_st_open(path, &f);
    if (st != UFO_OK)
        return st;

    /* every layout tensor, in layout order, then anything left over */
    for (int i = 0; i < l->n && st == UFO_OK; i++) {
        const struct ufo_param *p = &l->params[i];
        const struct ufo_st_tensor *t = ufo_st_find(f, p->name);
        if (!t)
            st = ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" is missing", path, p->name);
        else if (strcmp(t->dtype, "F32") != 0)
            st = ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" is %s, the model needs F32", path,
                          p->name, t->dtype);
        else if (!ckpt_same_shape(p, t))
            st = ckpt_shape_error(path, p, t);
    }
    for (int i = 0; i < ufo_st_count(f) && st == UFO_OK; i++) {
        const struct ufo_st_tensor *t = ufo_st_tensor_at(f, i);
        int skip = ignore && strncmp(t->name, ignore, strlen(ignore)) == 0;
        if (!skip && ufo_layout_find(l, t->name) < 0)
            st = ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" is not part of this model (another "
                          "search space or task list?)", path, t->name);
    }

    /* data */
    if (st == UFO_OK)
        memset(params, 0, l->total * sizeof *params);
    for (int i = 0; i < l->n && st == UFO_OK; i++) {
        const struct ufo_param *p = &l->params[i];
        st = ufo_st_read_f32(f, ufo_st_find(f, p->name), params + p->offset);
    }
    ufo_st_close(f);
    return st;
}

ufo_status ufo_space_from_file(const char *path, struct ufo_space *space) {
    ufo_st_file *f;
    ufo_status st = ufo_st_open(path, &f);
    if (st != UFO_OK)
        return st;
    const char *text = ufo_st_metadata(f, UFO_META_SPACE);
    if (!text)
        st = ufo_fail(UFO_ERR_FORMAT, "%s: no \"%s\" in the metadata; not a ufo supernet file",
                      path, UFO_META_SPACE);
    else {
        char where[512];
        snprintf(where, sizeof where, "%s: metadata %s", path, UFO_META_SPACE);
        st = ufo_space_from_json(text, where, space);
    }
    ufo_st_close(f);
    return st;
}

/* PyTorch's antialiased cubic kernel (a = -0.5). */
static double ckpt_cubic(double x) {
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* Taps of output index i when resizing n_in to n_out: first input index and up to 64
 * normalised weights. Returns the number of taps. */
static int ckpt_taps(int i, int n_in, int n_out, int *first, double *w) {
    double scale = (double)n_in / n_out;
    double support = scale >= 1.0 ? 2.0 * scale : 2.0;
    double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
    double center = scale * (i + 0.5);
    long lo = (long)(center - support + 0.5);
    long hi = (long)(center + support + 0.5);
    if (lo < 0)
        lo = 0;
    if (hi > n_in)
        hi = n_in;
    int n = (int)(hi - lo);
    if (n > 64)
        n = 64;
    double total = 0;
    for (int j = 0; j < n; j++) {
        w[j] = ckpt_cubic((j + lo - center + 0.5) * invscale);
        total += w[j];
    }
    if (total != 0)
        for (int j = 0; j < n; j++)
            w[j] /= total;
    *first = (int)lo;
    return n;
}

void ufo_pos_embed_resize(const float *src, int sg, float *dst, int dg, int C) {
    memcpy(dst, src, (size_t)C * sizeof *dst);
    /* width pass: [sg, sg, C] -> [sg, dg, C] in doubles, then height pass */
    double *mid = calloc((size_t)sg * dg * C, sizeof *mid);
    if (!mid)
        return;
    double w[64];
    const float *grid = src + C;
    for (int x = 0; x < dg; x++) {
        int first, n = ckpt_taps(x, sg, dg, &first, w);
        for (int y = 0; y < sg; y++)
            for (int j = 0; j < n; j++)
                for (int c = 0; c < C; c++)
                    mid[((size_t)y * dg + x) * C + c] +=
                        w[j] * grid[((size_t)y * sg + first + j) * C + c];
    }
    for (int y = 0; y < dg; y++) {
        int first, n = ckpt_taps(y, sg, dg, &first, w);
        for (int x = 0; x < dg; x++)
            for (int c = 0; c < C; c++) {
                double acc = 0;
                for (int j = 0; j < n; j++)
                    acc += w[j] * mid[((size_t)(first + j) * dg + x) * C + c];
                dst[C + ((size_t)y * dg + x) * C + c] = (float)acc;
            }
    }
    free(mid);
}

/* Side of a square grid with n cells, or -1. */
static int ckpt_grid_side(int64_t n) {
    int64_t s = (int64_t)llround(sqrt((double)n));
    return s * s == n && s > 0 ? (int)s : -1;
}

/* Read timm tensor `name` into the layout tensor `dst` (same shape required). */
static ufo_status ckpt_copy(ufo_st_file *f, const struct ufo_layout *l, const char *name,
                            int dst, float *params) {
    const struct ufo_param *p = &l->params[dst];
    const struct ufo_st_tensor *t = ufo_st_find(f, name);
    if (!t)
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" is missing (not a timm ViT with %d "
                        "blocks?)", ufo_st_path(f), name, l->space.depth);
    if (!ckpt_same_shape(p, t)) {
        char want[96], got[96];
        ufo_param_shape_str(p, want, sizeof want);
        ckpt_file_shape_str(t, got, sizeof got);
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" has shape %s, the supernet's %s needs "
                        "%s", ufo_st_path(f), name, got, p->name, want);
    }
    return ufo_st_read_f32(f, t, params + p->offset);
}

/* pos_embed from the file, resized when its grid differs. */
static ufo_status ckpt_pos_embed(ufo_st_file *f, const struct ufo_layout *l, float *params) {
    const char *path = ufo_st_path(f);
    const struct ufo_param *p = &l->params[l->pos_embed];
    const struct ufo_st_tensor *t = ufo_st_find(f, "pos_embed");
    if (!t)
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"pos_embed\" is missing", path);
    int C = l->space.embed_dim;
    int sg = t->ndim == 3 && t->shape[0] == 1 && t->shape[2] == C ? ckpt_grid_side(t->shape[1] - 1)
                                                                  : -1;
    if (sg < 0)
        return ckpt_shape_error(path, p, t);
    int dg = l->space.image_size / l->space.patch;
    if (sg == dg)
        return ufo_st_read_f32(f, t, params + p->offset);
    float *src = malloc((size_t)t->numel * sizeof *src);
    if (!src)
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
    ufo_status st = ufo_st_read_f32(f, t, src);
    if (st == UFO_OK) {
        ufo_pos_embed_resize(src, sg, params + p->offset, dg, C);
        log_info("%s: pos_embed resized from a %dx%d to a %dx%d patch grid", path, sg, sg, dg,
                 dg);
    }
    free(src);
    return st;
}

ufo_status ufo_params_init_timm(const struct ufo_layout *l, float *params, const char *path) {
    ufo_st_file *f;
    ufo_status st = ufo_st_open(path, &f);
    if (st != UFO_OK)
        return st;
    char name[UFO_PARAM_NAME_MAX];

    /* embedding, final norm */
    if ((st = ckpt_copy(f, l, "patch_embed.proj.weight", l->patch_w, params)) != UFO_OK ||
        (st = ckpt_copy(f, l, "patch_embed.proj.bias", l->patch_b, params)) != UFO_OK ||
        (st = ckpt_copy(f, l, "cls_token", l->cls_token, params)) != UFO_OK ||
        (st = ckpt_pos_embed(f, l, params)) != UFO_OK ||
        (st = ckpt_copy(f, l, "norm.weight", l->norm_w, params)) != UFO_OK ||
        (st = ckpt_copy(f, l, "norm.bias", l->norm_b, params)) != UFO_OK)
        goto done;

    /* blocks: the shared tensors by their own names; each task FFN from the shared FFN */
    for (int b = 0; b < l->space.depth; b++) {
        const struct ufo_block_index *ix = &l->block[b];
        const int shared[] = {ix->norm1_w, ix->norm1_b, ix->qkv_w, ix->qkv_b, ix->proj_w,
                              ix->proj_b, ix->norm2_w, ix->norm2_b, ix->shared.fc1_w,
                              ix->shared.fc1_b, ix->shared.fc2_w, ix->shared.fc2_b};
        for (size_t k = 0; k < sizeof shared / sizeof shared[0]; k++)
            if ((st = ckpt_copy(f, l, l->params[shared[k]].name, shared[k], params)) != UFO_OK)
                goto done;
        static const char *const parts[] = {"fc1.weight", "fc1.bias", "fc2.weight",
                                            "fc2.bias"};
        for (int t = 0; t < l->space.n_tasks; t++) {
            const int dst[] = {ix->task[t].fc1_w, ix->task[t].fc1_b, ix->task[t].fc2_w,
                               ix->task[t].fc2_b};
            for (int k = 0; k < 4; k++) {
                snprintf(name, sizeof name, "blocks.%d.mlp.%s", b, parts[k]);
                if ((st = ckpt_copy(f, l, name, dst[k], params)) != UFO_OK)
                    goto done;
            }
        }
    }

    /* say what was left out, so a wrong checkpoint is noticed */
    int unused = 0;
    for (int i = 0; i < ufo_st_count(f); i++) {
        const char *n = ufo_st_tensor_at(f, i)->name;
        if (ufo_layout_find(l, n) < 0) {
            if (unused < 4)
                log_info("%s: tensor %s not used by the supernet", path, n);
            unused++;
        }
    }
    if (unused > 4)
        log_info("%s: %d more tensors not used", path, unused - 4);
done:
    ufo_st_close(f);
    return st;
}
