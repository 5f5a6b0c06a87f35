/* Parameter layout: names, shapes, offsets, counts against ufo_arch_params, seeded init. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/flops.h"
#include "model/params.h"

static int failures;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (failures++ < 20) {                                                           \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
                fprintf(stderr, __VA_ARGS__);                                                \
                fprintf(stderr, "\n");                                                       \
            }                                                                                \
        }                                                                                    \
    } while (0)

static void check_shape(const struct ufo_layout *l, const char *name, const char *want) {
    int i = ufo_layout_find(l, name);
    char got[96] = "(missing)";
    if (i >= 0)
        ufo_param_shape_str(&l->params[i], got, sizeof got);
    CHECK(strcmp(got, want) == 0, "%s: shape %s, want %s", name, got, want);
}

static void test_vit_b(void) {
    struct ufo_space s;
    ufo_space_default(&s);
    struct ufo_layout l;
    CHECK(ufo_layout_create(&s, &l) == UFO_OK, "layout: %s", ufo_last_error());

    /* timm names and PyTorch shapes for the shared path */
    check_shape(&l, "patch_embed.proj.weight", "[768, 3, 16, 16]");
    check_shape(&l, "cls_token", "[1, 1, 768]");
    check_shape(&l, "pos_embed", "[1, 257, 768]");
    check_shape(&l, "blocks.0.attn.qkv.weight", "[2304, 768]");
    check_shape(&l, "blocks.11.attn.proj.weight", "[768, 768]");
    check_shape(&l, "blocks.5.mlp.fc1.weight", "[3072, 768]");
    check_shape(&l, "blocks.5.mlp.fc2.weight", "[768, 3072]");
    check_shape(&l, "blocks.5.task_mlp.task0.fc2.bias", "[768]");
    check_shape(&l, "blocks.5.gate.task0", "[2]");
    check_shape(&l, "norm.bias", "[768]");
    check_shape(&l, "heads.task0.cosface.weight", "[1000, 768]");
    check_shape(&l, "heads.task0.bnneck.running_var", "[768]");
    CHECK(ufo_layout_find(&l, "blocks.12.norm1.weight") < 0, "block 12 exists");

    /* offsets: aligned, increasing, disjoint, inside total */
    size_t end = 0;
    for (int i = 0; i < l.n; i++) {
        const struct ufo_param *p = &l.params[i];
        CHECK(p->offset % UFO_LAYOUT_ALIGN == 0 && p->offset >= end, "%s offset %zu", p->name,
              p->offset);
        end = p->offset + p->numel;
    }
    CHECK(end <= l.total && l.total - end < UFO_LAYOUT_ALIGN, "total %zu end %zu", l.total, end);
    CHECK(l.params[l.block[3].qkv_w].numel == 2304 * 768, "block index qkv");
    CHECK(strcmp(l.params[l.block[7].task[0].fc1_b].name, "blocks.7.task_mlp.task0.fc1.bias") ==
          0, "block index task fc1 bias");
    ufo_layout_free(&l);
}

static void test_counts_and_init(void) {
    struct ufo_space s;
    ufo_space_default(&s);
    s.embed_dim = 64, s.head_dim = 16, s.max_heads = 4, s.depth = 4, s.patch = 8;
    s.image_size = 32, s.mlp_ratio_max = 2.0, s.min_depth = 2;
    s.heads_choices[0] = 2, s.heads_choices[1] = 3, s.heads_choices[2] = 4;
    s.mlp_ratio_choices[0] = 1, s.mlp_ratio_choices[1] = 1.5, s.mlp_ratio_choices[2] = 2;
    s.n_tasks = 3;
    s.tasks[1] = s.tasks[2] = s.tasks[0];
    strcpy(s.tasks[0].name, "face");
    strcpy(s.tasks[1].name, "person");
    strcpy(s.tasks[2].name, "product");
    s.tasks[0].classes = 3, s.tasks[1].classes = 5, s.tasks[2].classes = 4;
    struct ufo_layout l;
    CHECK(ufo_layout_create(&s, &l) == UFO_OK, "small layout: %s", ufo_last_error());
    CHECK(l.n == 6 + 4 * (12 + 5 * 3) + 5 * 3, "%d tensors", l.n);

    /* trainable + frozen tensors are exactly what ufo_arch_params counts for the largest
     * supernet with heads; the buffers are the 2·C running statistics per task */
    struct ufo_arch a;
    ufo_arch_largest(&s, &a);
    uint64_t count = 0;
    CHECK(ufo_arch_params(&s, &a, UFO_COUNT_SUPERNET, 1, &count) == UFO_OK, "count");
    size_t frozen = 0, buffers = 0;
    for (int i = 0; i < l.n; i++) {
        frozen += l.params[i].kind == UFO_PARAM_FROZEN ? l.params[i].numel : 0;
        buffers += l.params[i].kind == UFO_PARAM_BUFFER ? l.params[i].numel : 0;
    }
    CHECK(ufo_layout_trainable(&l) + frozen == count, "layout %zu + %zu, counted %llu",
          ufo_layout_trainable(&l), frozen, (unsigned long long)count);
    CHECK(buffers == 3 * 2 * 64 && frozen == 3 * 64, "buffers %zu frozen %zu", buffers, frozen);

    /* init: reproducible, seed-dependent, the documented values per kind */
    float *p1 = malloc(l.total * sizeof *p1), *p2 = malloc(l.total * sizeof *p2);
    ufo_layout_init(&l, 5, p1);
    ufo_layout_init(&l, 5, p2);
    CHECK(memcmp(p1, p2, l.total * sizeof *p1) == 0, "init not reproducible");
    ufo_layout_init(&l, 6, p2);
    CHECK(memcmp(p1, p2, l.total * sizeof *p1) != 0, "seeds 5 and 6 agree");

    const struct ufo_param *w = &l.params[l.block[1].shared.fc1_w];
    double sum = 0, sq = 0, maxabs = 0;
    for (size_t j = 0; j < w->numel; j++) {
        double v = p1[w->offset + j];
        sum += v, sq += v * v;
        maxabs = fmax(maxabs, fabs(v));
    }
    double mean = sum / w->numel, sd = sqrt(sq / w->numel - mean * mean);
    /* a normal truncated at ±2 std keeps 0.880 of its std */
    CHECK(fabs(mean) < 0.002 && fabs(sd - 0.0176) < 0.0015 && maxabs <= 0.04 + 1e-7,
          "fc1 init mean %g sd %g max %g", mean, sd, maxabs);
    CHECK(p1[l.params[l.block[2].norm1_w].offset + 5] == 1.0f, "norm1 weight");
    CHECK(p1[l.params[l.block[2].qkv_b].offset + 5] == 0.0f, "qkv bias");
    CHECK(p1[l.params[l.block[2].gate[1]].offset + 1] == 0.0f, "gate");
    CHECK(p1[l.params[l.head[2].bn_var].offset + 63] == 1.0f, "running var");
    CHECK(p1[l.params[l.head[2].bn_mean].offset + 63] == 0.0f, "running mean");
    CHECK(fabs(p1[l.params[l.cls_token].offset]) < 1e-5, "cls token");
    /* padding after a 2-float gate stays zero */
    const struct ufo_param *g = &l.params[l.block[0].gate[0]];
    CHECK(p1[g->offset + 2] == 0.0f && p1[g->offset + UFO_LAYOUT_ALIGN - 1] == 0.0f, "padding");
    free(p1);
    free(p2);
    ufo_layout_free(&l);

    /* an invalid space is refused */
    s.image_size = 30;
    CHECK(ufo_layout_create(&s, &l) == UFO_ERR_CONFIG, "image 30 accepted");
}

int main(void) {
    test_vit_b();
    test_counts_and_init();
    if (failures)
        return 1;
    printf("test_params: ok\n");
    return 0;
}
