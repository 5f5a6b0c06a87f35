/* safetensors reading and writing, supernet files, timm initialisation, and the committed
 * PyTorch reference file's layout. Bad input: every truncation, flipped header bytes,
 * hand-made lying headers; each must fail with a message, never crash. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "model/checkpoint.h"

static int failures;
static char dir[64];

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (failures++ < 30) {                                                           \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
                fprintf(stderr, __VA_ARGS__);                                                \
                fprintf(stderr, " [%s]\n", ufo_last_error());                                \
            }                                                                                \
        }                                                                                    \
    } while (0)

static char *tmp_path(const char *name) {
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static int write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    int ok = fwrite(data, 1, n, f) == n;
    return (fclose(f) == 0) && ok;
}

static unsigned char *read_bytes(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)size + 1);
    *n = fread(buf, 1, (size_t)size, f);
    fclose(f);
    return buf;
}

/* A file from a header text and `data_len` bytes of data (values 0, 1, 2, ... as floats). */
static void make_file(const char *path, const char *header, size_t data_len, uint64_t hlen) {
    size_t h = strlen(header);
    if (hlen == 0)
        hlen = h;
    size_t total = 8 + h + data_len;
    unsigned char *buf = calloc(1, total);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + 8, header, h);
    for (size_t i = 0; i + 4 <= data_len; i += 4) {
        float v = (float)(i / 4);
        memcpy(buf + 8 + h + i, &v, 4);
    }
    write_bytes(path, buf, total);
    free(buf);
}

/* Open must fail with `status` and a message containing `needle`. */
static void expect_open_fail(const char *path, ufo_status status, const char *needle,
                             const char *what) {
    ufo_st_file *f = NULL;
    ufo_clear_error();
    ufo_status st = ufo_st_open(path, &f);
    CHECK(st == status && strstr(ufo_last_error(), needle) && f == NULL,
          "%s: status %s, want %s with \"%s\"", what, ufo_status_name(st),
          ufo_status_name(status), needle);
    ufo_st_close(f);
}

static void test_round_trip(void) {
    const char *path = tmp_path("a.safetensors");
    float a[6] = {1, -2, 3.5f, 4, 5, 6e-30f}, s = 7.25f;
    struct ufo_st_out t[3] = {
        {.name = "a.weight", .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "scalar", .ndim = 0, .data = &s},
        {.name = "empty", .ndim = 2, .shape = {0, 4}, .data = NULL},
    };
    const char *meta[] = {"k1", "v1", "json", "{\"x\": [1, 2]}"};
    CHECK(ufo_st_write(path, t, 3, meta, 2) == UFO_OK, "write");
    ufo_st_file *f;
    CHECK(ufo_st_open(path, &f) == UFO_OK, "open");
    if (!f)
        return;
    CHECK(ufo_st_count(f) == 3, "count %d", ufo_st_count(f));
    const struct ufo_st_tensor *ta = ufo_st_find(f, "a.weight");
    const struct ufo_st_tensor *ts = ufo_st_find(f, "scalar");
    CHECK(ta && ta->ndim == 2 && ta->shape[0] == 2 && ta->shape[1] == 3 &&
          strcmp(ta->dtype, "F32") == 0 && ta->numel == 6, "a.weight header");
    CHECK(ts && ts->ndim == 0 && ts->numel == 1, "scalar header");
    float back[6] = {0}, sb = 0;
    CHECK(ta && ufo_st_read_f32(f, ta, back) == UFO_OK && memcmp(back, a, sizeof a) == 0,
          "a.weight data");
    CHECK(ts && ufo_st_read_f32(f, ts, &sb) == UFO_OK && sb == 7.25f, "scalar data");
    CHECK(ufo_st_metadata(f, "k1") && strcmp(ufo_st_metadata(f, "k1"), "v1") == 0, "meta k1");
    CHECK(ufo_st_metadata(f, "json") && strcmp(ufo_st_metadata(f, "json"),
          "{\"x\": [1, 2]}") == 0, "meta json");
    CHECK(ufo_st_metadata(f, "nope") == NULL, "meta nope");
    ufo_st_close(f);

    /* the header is padded to 8 bytes; no temporary file is left behind */
    size_t n;
    unsigned char *bytes = read_bytes(path, &n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | bytes[i];
    CHECK(hlen % 8 == 0 && n == 8 + hlen + 28, "hlen %llu size %zu", (unsigned long long)hlen,
          n);
    free(bytes);
    CHECK(access(tmp_path("a.safetensors.tmp"), F_OK) != 0, "temporary file left");

    /* duplicate names are refused at write time */
    struct ufo_st_out dup[2] = {t[0], t[0]};
    CHECK(ufo_st_write(tmp_path("dup.safetensors"), dup, 2, NULL, 0) == UFO_ERR_INVALID,
          "duplicate names written");
    CHECK(ufo_st_write("/nonexistent-dir/x.safetensors", t, 1, NULL, 0) == UFO_ERR_IO,
          "write into a missing folder");
}

static void test_bad_files(void) {
    const char *good = tmp_path("a.safetensors");
    size_t n;
    unsigned char *bytes = read_bytes(good, &n);
    const char *bad = tmp_path("bad.safetensors");

    /* every truncation fails */
    for (size_t cut = 0; cut < n; cut++) {
        write_bytes(bad, bytes, cut);
        ufo_st_file *f = NULL;
        ufo_status st = ufo_st_open(bad, &f);
        CHECK(st == UFO_ERR_FORMAT && f == NULL, "truncated at %zu of %zu: %s", cut, n,
              ufo_status_name(st));
        ufo_st_close(f);
    }

    /* flipped header bytes: may still parse (a changed name), never crash; when it parses,
     * reading every tensor stays in bounds */
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | bytes[i];
    static const unsigned char flips[] = {0x01, 0x08, 0x20, 0x80, 0xff};
    int opened = 0, tried = 0;
    float buf[64];
    for (size_t pos = 0; pos < 8 + hlen; pos++)
        for (size_t k = 0; k < sizeof flips; k++) {
            bytes[pos] ^= flips[k];
            write_bytes(bad, bytes, n);
            bytes[pos] ^= flips[k];
            ufo_st_file *f = NULL;
            tried++;
            if (ufo_st_open(bad, &f) != UFO_OK) {
                CHECK(ufo_last_error()[0] != '\0', "flip at %zu: no message", pos);
                continue;
            }
            opened++;
            for (int i = 0; i < ufo_st_count(f); i++) {
                const struct ufo_st_tensor *t = ufo_st_tensor_at(f, i);
                CHECK(t->end - t->begin <= sizeof buf, "flip at %zu: tensor of %llu bytes", pos,
                      (unsigned long long)(t->end - t->begin));
                if (t->end - t->begin <= sizeof buf)
                    ufo_st_read_f32(f, t, buf);
            }
            ufo_st_close(f);
        }
    CHECK(opened < tried / 2, "%d of %d flipped files opened", opened, tried);
    free(bytes);

    /* hand-made lies */
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
              UINT64_MAX);
    expect_open_fail(bad, UFO_ERR_FORMAT, "header length", "header length 2^64-1");
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 4000);
    expect_open_fail(bad, UFO_ERR_FORMAT, "header length", "header length past the end");
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "overlap", "overlapping tensors");
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}", 20, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "gap", "gap between tensors");
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"b\":{\"dtype\":\"F32\",\"shape\":[1000],\"data_offsets\":[8,4008]}}", 16,
              0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "truncated", "tensor past the end");
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "need 12", "offsets disagree with shape");
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
                   "\"data_offsets\":[0,8]}}", 8, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "too large", "shape overflow");
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "shape[0]", "negative dimension");
    make_file(bad, "{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "Q7", "unknown dtype");
    make_file(bad, "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                   "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", 16, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "JSON", "duplicate name");
    make_file(bad, "{\"__metadata__\":{\"k\":3}}", 0, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "not a string", "metadata value not a string");
    make_file(bad, "[1,2]", 0, 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "object", "header not an object");
    write_bytes(bad, "", 0);
    expect_open_fail(bad, UFO_ERR_FORMAT, "too short", "empty file");
    write_bytes(bad, "garbage garbage garbage", 23);
    expect_open_fail(bad, UFO_ERR_FORMAT, "header length", "garbage");
    expect_open_fail(tmp_path("missing.safetensors"), UFO_ERR_IO, "missing.safetensors",
                     "missing file");

    /* F16 parses but cannot be read as F32 */
    make_file(bad, "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8, 0);
    ufo_st_file *f;
    CHECK(ufo_st_open(bad, &f) == UFO_OK, "F16 file");
    if (f) {
        float out[4];
        CHECK(ufo_st_read_f32(f, ufo_st_find(f, "h"), out) == UFO_ERR_UNSUPPORTED &&
              strstr(ufo_last_error(), "F16"), "F16 read as F32");
        ufo_st_close(f);
    }
}

static void small_space(struct ufo_space *s, int classes1) {
    ufo_space_default(s);
    s->embed_dim = 32, s->head_dim = 8, s->max_heads = 4, s->depth = 3, s->patch = 4;
    s->image_size = 16, s->mlp_ratio_max = 2.0, s->min_depth = 2;
    s->heads_choices[0] = 2, s->heads_choices[1] = 3, s->heads_choices[2] = 4;
    s->mlp_ratio_choices[0] = 1, s->mlp_ratio_choices[1] = 1.5, s->mlp_ratio_choices[2] = 2;
    s->n_tasks = 2;
    s->tasks[1] = s->tasks[0];
    strcpy(s->tasks[0].name, "a");
    strcpy(s->tasks[1].name, "b");
    s->tasks[0].classes = 3;
    s->tasks[1].classes = classes1;
    s->tasks[1].triplet = 1;
}

/* Save the layout's tensors except `skip`, with one `extra` tensor when given. */
static void save_edited(const struct ufo_layout *l, const float *p, const char *path,
                        const char *skip, const char *extra, const char *f16) {
    struct ufo_st_out *outs = calloc((size_t)l->n + 1, sizeof *outs);
    size_t n = 0;
    for (int i = 0; i < l->n; i++) {
        if (skip && strcmp(l->params[i].name, skip) == 0)
            continue;
        outs[n].name = l->params[i].name;
        outs[n].ndim = l->params[i].ndim;
        memcpy(outs[n].shape, l->params[i].shape, sizeof l->params[i].shape);
        outs[n].data = p + l->params[i].offset;
        n++;
    }
    if (extra)
        outs[n++] = (struct ufo_st_out){.name = extra, .ndim = 1, .shape = {2}, .data = p};
    ufo_st_write(path, outs, n, NULL, 0);
    free(outs);
    if (f16) {
        /* rewrite one tensor's dtype in place: F32 -> F16 halves its size, so double the
         * shape's last dimension to keep the byte count */
        size_t len;
        char *bytes = (char *)read_bytes(path, &len);
        char key[128];
        snprintf(key, sizeof key, "\"%s\":{\"dtype\":\"F32\",\"shape\":[2]", f16);
        char *at = memmem(bytes, len, key, strlen(key));
        if (at) {
            memcpy(at + strlen(key) - strlen("F32\",\"shape\":[2]"), "F16", 3);
            memcpy(at + strlen(key) - 2, "4", 1);
        }
        write_bytes(path, bytes, len);
        free(bytes);
    }
}

static void test_supernet_files(void) {
    struct ufo_space s, s2;
    small_space(&s, 5);
    struct ufo_layout l, l2;
    CHECK(ufo_layout_create(&s, &l) == UFO_OK, "layout");
    float *p = malloc(l.total * sizeof *p), *q = malloc(l.total * sizeof *q);
    ufo_layout_init(&l, 11, p);
    const char *path = tmp_path("supernet.safetensors");
    const char *extra[] = {"ufo.step", "1234"};
    CHECK(ufo_params_save(&l, p, path, extra, 1) == UFO_OK, "save");
    memset(q, 0x7f, l.total * sizeof *q);
    CHECK(ufo_params_load(&l, q, path) == UFO_OK && memcmp(p, q, l.total * sizeof *p) == 0,
          "load round trip");
    CHECK(ufo_space_from_file(path, &s2) == UFO_OK && s2.depth == 3 && s2.n_tasks == 2 &&
          s2.tasks[1].classes == 5 && s2.tasks[1].triplet, "space from metadata");

    /* another task list: the first mismatch is named */
    small_space(&s2, 6);
    ufo_layout_create(&s2, &l2);
    float *r = malloc(l2.total * sizeof *r);
    CHECK(ufo_params_load(&l2, r, path) == UFO_ERR_FORMAT &&
          strstr(ufo_last_error(), "heads.b.cosface.weight") &&
          strstr(ufo_last_error(), "[5, 32]") && strstr(ufo_last_error(), "[6, 32]"),
          "classes 5 vs 6");
    free(r);
    ufo_layout_free(&l2);

    const char *edited = tmp_path("edited.safetensors");
    save_edited(&l, p, edited, "blocks.1.gate.b", NULL, NULL);
    CHECK(ufo_params_load(&l, q, edited) == UFO_ERR_FORMAT &&
          strstr(ufo_last_error(), "\"blocks.1.gate.b\" is missing"), "missing tensor");
    save_edited(&l, p, edited, NULL, "blocks.1.gate.c", NULL);
    CHECK(ufo_params_load(&l, q, edited) == UFO_ERR_FORMAT &&
          strstr(ufo_last_error(), "blocks.1.gate.c"), "extra tensor");
    CHECK(ufo_params_load_ignoring(&l, q, edited, "blocks.1.gate.") == UFO_OK,
          "extra tensor under an ignored prefix");
    save_edited(&l, p, edited, NULL, NULL, "blocks.2.gate.a");
    CHECK(ufo_params_load(&l, q, edited) == UFO_ERR_FORMAT &&
          strstr(ufo_last_error(), "blocks.2.gate.a") && strstr(ufo_last_error(), "F16"),
          "F16 tensor");
    CHECK(ufo_space_from_file(edited, &s2) == UFO_ERR_FORMAT, "no space metadata");

    /* truncations of a real supernet file at a spread of lengths */
    size_t n;
    unsigned char *bytes = read_bytes(path, &n);
    for (size_t cut = 0; cut < n; cut += 1 + cut / 3) {
        write_bytes(edited, bytes, cut);
        CHECK(ufo_params_load(&l, q, edited) != UFO_OK, "truncated at %zu loaded", cut);
    }
    free(bytes);
    free(p);
    free(q);
    ufo_layout_free(&l);
}

/* A fake timm checkpoint with a 2×2 grid (8×8 input, patch 4) for the 4×4-grid space. */
static void test_timm_init(void) {
    struct ufo_space s;
    small_space(&s, 5);
    struct ufo_layout l;
    ufo_layout_create(&s, &l);
    float *p = malloc(l.total * sizeof *p), *t = malloc(l.total * sizeof *t);
    ufo_layout_init(&l, 1, p);
    for (size_t i = 0; i < l.total; i++)
        t[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;

    /* the file holds the shared path with timm names, a 5-token pos_embed and a head */
    struct ufo_st_out outs[64];
    int n = 0;
    float pos[5 * 32], head[10 * 32];
    for (int i = 0; i < 5 * 32; i++)
        pos[i] = (float)i / 100.0f;
    for (int i = 0; i < 10 * 32; i++)
        head[i] = 1.0f;
    for (int i = 0; i < l.n; i++) {
        const struct ufo_param *q = &l.params[i];
        if (strstr(q->name, "task_mlp") || strstr(q->name, "gate") || strstr(q->name, "heads."))
            continue;
        outs[n] = (struct ufo_st_out){.name = q->name, .ndim = q->ndim, .data = t + q->offset};
        memcpy(outs[n].shape, q->shape, sizeof q->shape);
        if (i == l.pos_embed) {
            outs[n].shape[1] = 5;
            outs[n].data = pos;
        }
        n++;
    }
    outs[n++] = (struct ufo_st_out){.name = "head.weight", .ndim = 2, .shape = {10, 32},
                                    .data = head};
    const char *path = tmp_path("timm.safetensors");
    CHECK(ufo_st_write(path, outs, (size_t)n, NULL, 0) == UFO_OK, "write timm file");
    float *before = malloc(l.total * sizeof *before);
    memcpy(before, p, l.total * sizeof *p);
    CHECK(ufo_params_init_timm(&l, p, path) == UFO_OK, "init from timm");

    for (int i = 0; i < l.n; i++) {
        const struct ufo_param *q = &l.params[i];
        const float *want = t + q->offset;
        const char *tm = strstr(q->name, "task_mlp.");
        char shared_name[UFO_PARAM_NAME_MAX];
        if (tm) {
            /* blocks.N.task_mlp.X.fc1.weight comes from blocks.N.mlp.fc1.weight */
            const char *part = strchr(tm + 9, '.');
            snprintf(shared_name, sizeof shared_name, "%.*smlp%s", (int)(tm - q->name), q->name,
                     part);
            want = t + l.params[ufo_layout_find(&l, shared_name)].offset;
        } else if (strstr(q->name, "gate") || strstr(q->name, "heads.")) {
            want = before + q->offset;
        } else if (i == l.pos_embed) {
            continue;
        }
        CHECK(memcmp(p + q->offset, want, q->numel * sizeof *p) == 0, "%s after timm init",
              q->name);
    }
    const float *pe = p + l.params[l.pos_embed].offset;
    CHECK(memcmp(pe, pos, 32 * sizeof *pe) == 0, "cls slot of pos_embed");
    /* the grid is the resize of the file's grid (checked against PyTorch in test_resize) */
    float *want_pe = malloc(17 * 32 * sizeof *want_pe);
    ufo_pos_embed_resize(pos, 2, want_pe, 4, 32);
    for (int i = 0; i < 17 * 32; i++)
        CHECK(pe[i] == want_pe[i], "pos_embed[%d] = %g, resize gives %g", i, pe[i], want_pe[i]);
    free(want_pe);

    /* a checkpoint missing a block fails by name */
    n = 0;
    for (int i = 0; i < l.n; i++) {
        const struct ufo_param *q = &l.params[i];
        if (strncmp(q->name, "blocks.2.", 9) == 0 || strstr(q->name, "task_mlp") ||
            strstr(q->name, "heads."))
            continue;
        outs[n] = (struct ufo_st_out){.name = q->name, .ndim = q->ndim, .data = t + q->offset};
        memcpy(outs[n].shape, q->shape, sizeof q->shape);
        n++;
    }
    ufo_st_write(path, outs, (size_t)n, NULL, 0);
    CHECK(ufo_params_init_timm(&l, p, path) == UFO_ERR_FORMAT &&
          strstr(ufo_last_error(), "blocks.2.norm1.weight"), "depth 2 checkpoint");
    free(before);
    free(p);
    free(t);
    ufo_layout_free(&l);
}

/* Resizes against PyTorch 1.13: F.interpolate(grid, size, mode="bicubic",
 * antialias=True, align_corners=False), input row i channel c = 0.1(i+1)(c+1) +
 * (-1)^i 0.05 i², C = 2. */
static void test_resize(void) {
    static const double up[50] = {
        0.11495194, 0.184763261, 0.0710011264, 0.178956632, 0.0632075472, 0.240566038,
        0.400992678, 0.647754154, 0.626308295, 0.911213955, -0.123563785, 0.0606800901,
        0.232941635, 0.455329695, 0.685447761, 0.977238806, 0.198758075, 0.559952105,
        -0.176534779, 0.222803436, -0.151886792, 0.240566038, 0.510820896, 0.94141791, 1.3,
        1.8, 0.0944029851, 0.66380597, -0.797169811, -0.189622642, 1.76210222, 2.36276401,
        0.708403876, 1.34720985, -0.56380597, 0.144402985, 1.25223324, 2.02984518, 2.60482259,
        3.42057871, 3.03698825, 3.75208259, 0.807779499, 1.56101802, -1.87264151, -1.05,
        2.0334624, 2.9255069, 4.93631185, 5.86650053};
    static const double down[8] = {0.593508659, 1.20757548, 0.783193243, 1.62590446,
                                   2.09039491, 3.84768369, 2.55431116, 4.54024433};
    struct {
        int sg, dg;
        const double *want;
    } cases[2] = {{3, 5, up}, {5, 2, down}};
    for (int k = 0; k < 2; k++) {
        int sg = cases[k].sg, dg = cases[k].dg;
        float src[2 * 26], dst[2 * 26];
        for (int c = 0; c < 2; c++)
            src[c] = 100.0f + c; /* cls */
        for (int i = 0; i < sg * sg; i++)
            for (int c = 0; c < 2; c++)
                src[2 + 2 * i + c] = (float)(0.1 * (i + 1) * (c + 1) +
                                             (i % 2 ? -1 : 1) * 0.05 * i * i);
        ufo_pos_embed_resize(src, sg, dst, dg, 2);
        CHECK(dst[0] == 100.0f && dst[1] == 101.0f, "cls slot %d->%d", sg, dg);
        for (int i = 0; i < 2 * dg * dg; i++)
            CHECK(fabs(dst[2 + i] - cases[k].want[i]) < 1e-5, "resize %d->%d [%d] = %.7g, "
                  "torch %.7g", sg, dg, i, dst[2 + i], cases[k].want[i]);
    }
}

/* The committed PyTorch reference: its parameters load into the layout of its own space, and
 * its architecture parses. */
static void test_reference_file(void) {
    char path[4096];
    const char *data = getenv("UFO_TEST_DATA");
    snprintf(path, sizeof path, "%s/reference/supernet_ref.safetensors", data ? data : "tests");
    struct ufo_space s;
    CHECK(ufo_space_from_file(path, &s) == UFO_OK, "reference space");
    struct ufo_layout l;
    if (ufo_layout_create(&s, &l) != UFO_OK)
        return;
    float *p = malloc(l.total * sizeof *p);
    CHECK(ufo_params_load_ignoring(&l, p, path, "ref.") == UFO_OK, "reference parameters");
    CHECK(ufo_params_load(&l, p, path) == UFO_ERR_FORMAT && strstr(ufo_last_error(), "ref."),
          "reference file accepted as a plain supernet");
    ufo_st_file *f;
    if (ufo_st_open(path, &f) == UFO_OK) {
        struct ufo_arch a;
        const char *text = ufo_st_metadata(f, "ufo.reference.arch");
        CHECK(text && ufo_arch_from_json(&s, text, "reference arch", &a) == UFO_OK &&
              ufo_arch_depth(&a) == 3 && !a.block[2].kept, "reference arch");
        /* a gradient for every trainable tensor, shaped like it */
        for (int i = 0; i < l.n; i++) {
            const struct ufo_param *q = &l.params[i];
            char name[160];
            snprintf(name, sizeof name, "ref.grad.%s", q->name);
            const struct ufo_st_tensor *g = ufo_st_find(f, name);
            int trained = q->kind == UFO_PARAM_DECAY || q->kind == UFO_PARAM_NO_DECAY;
            CHECK(trained ? g && g->numel == q->numel : g == NULL, "%s", name);
        }
        ufo_st_close(f);
    }
    free(p);
    ufo_layout_free(&l);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/ufo-test-st-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_round_trip();
    test_bad_files();
    test_supernet_files();
    test_timm_init();
    test_resize();
    test_reference_file();

    /* clean up the temporary folder */
    static const char *const files[] = {"a.safetensors", "bad.safetensors", "dup.safetensors",
                                        "supernet.safetensors", "edited.safetensors",
                                        "timm.safetensors"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(tmp_path(files[i]));
    rmdir(dir);
    if (failures) {
        fprintf(stderr, "test_safetensors: %d failures\n", failures);
        return 1;
    }
    printf("test_safetensors: ok\n");
    return 0;
}
