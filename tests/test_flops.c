/* Multiply-accumulates and parameter counts against values worked out by hand.
 *
 * Architecture 1. Space: C = 64, head width 16, 4 heads, 4 blocks, patch 8, 32×32 input
 * (P = 16 patches, N = 17 tokens), expansion {1, 1.5, 2} (f = 64, 96, 128), tasks t0 (3
 * classes) and t1 (5 classes). Blocks:
 *   0: h 4 (a = 64), f 128, paths t0 shared, t1 both
 *   1: h 3 (a = 48), f 64,  paths t0 both,   t1 task
 *   2: dropped
 *   3: h 2 (a = 32), f 96,  paths t0 task,   t1 shared
 * MACs of one image (norm N·C = 17·64 = 1088 each):
 *   patch embedding 16·64·(3·8·8) = 196608
 *   block 0: norm1 1088, qkv 17·64·192 = 208896, scores + values 2·17·17·64 = 36992,
 *            proj 17·64·64 = 69632, norm2 1088 -> 317696 before the FFN;
 *            one FFN path 2·17·64·128 = 278528
 *   block 1: 1088 + 17·64·144 = 156672 + 2·289·48 = 27744 + 17·48·64 = 52224 + 1088
 *            -> 237904; one FFN path 2·17·64·64 = 139264
 *   block 3: 1088 + 17·64·96 = 104448 + 2·289·32 = 18496 + 17·32·64 = 34816 + 1088
 *            -> 159936; one FFN path 2·17·64·96 = 208896
 *   final norm (cls token) 64; blend of two paths N·C = 1088
 *   t0 extracted: 196608 + (317696 + 278528) + (237904 + 2·139264 + 1088)
 *                 + (159936 + 208896) + 64 = 1680160; with heads + 64 + 3·64 = 1680416
 *   t1 extracted: 196608 + (317696 + 2·278528 + 1088) + (237904 + 139264)
 *                 + (159936 + 208896) + 64 = 1819424
 *   t0 supernet (two paths and a blend everywhere): 196608 + 875840 + 518432
 *                 + (159936 + 417792 + 1088) + 64 = 2169760
 * Parameters:
 *   embedding 64·192 + 64 = 12352, cls 64, pos 17·64 = 1088 -> 13504; final norm 128
 *   block 0: norms 256, qkv 192·64 + 192 = 12480, proj 64·64 + 64 = 4160 -> 16896;
 *            FFN path 2·64·128 + 128 + 64 = 16576
 *   block 1: 256 + (144·64 + 144 = 9360) + (48·64 + 64 = 3136) = 12752; path 8320
 *   block 3: 256 + (96·64 + 96 = 6240) + (32·64 + 64 = 2112) = 8608; path 12448
 *   extracted: block 0 shared + t1 path + t1 gate = 16896 + 2·16576 + 2 = 50050;
 *              block 1 shared + t0 + t1 paths + t0 gate = 12752 + 3·8320 + 2 = 37714;
 *              block 3 t0 path + shared = 8608 + 2·12448 = 33504;
 *              total 13504 + 50050 + 37714 + 33504 + 128 = 134900;
 *              heads: t0 2·64 + 3·64 = 320, t1 2·64 + 5·64 = 448 -> 135668
 *   supernet: every kept block 3 paths + 4 gate logits: 66628 + 37716 + 45956
 *             -> 13504 + 150300 + 128 = 163932
 *
 * Architecture 2. ViT-B/16 at 224×224 (N = 197), one task, largest choices, shared path,
 * extracted, no heads. Parameters: timm's vit_base_patch16_224 has 86,567,656 including its
 * 1000-class head (768·1000 + 1000 = 769,000), so 85,798,656. MACs: patch 196·768·768 =
 * 115,605,504; per block norms 2·197·768 = 302,592, qkv 197·768·2304 = 348,585,984, scores
 * and values 2·197·197·768 = 59,610,624, proj 197·768·768 = 116,195,328, FFN
 * 2·197·768·3072 = 929,562,624 -> 1,454,257,152; ×12 = 17,451,085,824; + final norm 768 ->
 * 17,566,692,096 (the usual "17.6 GFLOPs" of ViT-B/16). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "model/flops.h"

static int failures;

static void expect(const char *what, ufo_status st, uint64_t got, uint64_t want) {
    if (st != UFO_OK || got != want) {
        fprintf(stderr, "FAIL %s: got %llu, want %llu (%s)\n", what, (unsigned long long)got,
                (unsigned long long)want, st == UFO_OK ? "ok" : ufo_last_error());
        failures++;
    }
}

static void small_space(struct ufo_space *s) {
    ufo_space_default(s);
    s->embed_dim = 64;
    s->head_dim = 16;
    s->max_heads = 4;
    s->depth = 4;
    s->patch = 8;
    s->image_size = 32;
    s->mlp_ratio_max = 2.0;
    s->heads_choices[0] = 2;
    s->heads_choices[1] = 3;
    s->heads_choices[2] = 4;
    s->mlp_ratio_choices[0] = 1.0;
    s->mlp_ratio_choices[1] = 1.5;
    s->mlp_ratio_choices[2] = 2.0;
    s->min_depth = 2;
    s->n_tasks = 2;
    s->tasks[1] = s->tasks[0];
    strcpy(s->tasks[0].name, "t0");
    strcpy(s->tasks[1].name, "t1");
    s->tasks[0].classes = 3;
    s->tasks[1].classes = 5;
}

int main(void) {
    struct ufo_space s;
    struct ufo_arch a;
    uint64_t v = 0;
    ufo_status st;

    /* architecture 1 */
    small_space(&s);
    ufo_arch_largest(&s, &a);
    a.block[0].heads = 4, a.block[0].mlp_ratio = 2.0;
    a.block[0].path[0] = UFO_PATH_SHARED, a.block[0].path[1] = UFO_PATH_BOTH;
    a.block[1].heads = 3, a.block[1].mlp_ratio = 1.0;
    a.block[1].path[0] = UFO_PATH_BOTH, a.block[1].path[1] = UFO_PATH_TASK;
    a.block[2].kept = 0;
    a.block[3].heads = 2, a.block[3].mlp_ratio = 1.5;
    a.block[3].path[0] = UFO_PATH_TASK, a.block[3].path[1] = UFO_PATH_SHARED;

    st = ufo_arch_macs(&s, &a, 0, UFO_COUNT_EXTRACTED, 0, &v);
    expect("arch 1 t0 extracted MACs", st, v, 1680160);
    st = ufo_arch_macs(&s, &a, 0, UFO_COUNT_EXTRACTED, 1, &v);
    expect("arch 1 t0 extracted MACs with heads", st, v, 1680416);
    st = ufo_arch_macs(&s, &a, 1, UFO_COUNT_EXTRACTED, 0, &v);
    expect("arch 1 t1 extracted MACs", st, v, 1819424);
    st = ufo_arch_macs(&s, &a, 0, UFO_COUNT_SUPERNET, 0, &v);
    expect("arch 1 t0 supernet MACs", st, v, 2169760);
    st = ufo_arch_params(&s, &a, UFO_COUNT_EXTRACTED, 0, &v);
    expect("arch 1 extracted params", st, v, 134900);
    st = ufo_arch_params(&s, &a, UFO_COUNT_EXTRACTED, 1, &v);
    expect("arch 1 extracted params with heads", st, v, 135668);
    st = ufo_arch_params(&s, &a, UFO_COUNT_SUPERNET, 0, &v);
    expect("arch 1 supernet params", st, v, 163932);
    if (ufo_arch_macs(&s, &a, 2, UFO_COUNT_EXTRACTED, 0, &v) != UFO_ERR_INVALID) {
        fprintf(stderr, "FAIL task 2 of 2 accepted\n");
        failures++;
    }

    /* architecture 2: ViT-B/16 at 224 */
    ufo_space_default(&s);
    s.image_size = 224;
    ufo_arch_largest(&s, &a);
    a.block[0].path[0] = UFO_PATH_SHARED;
    for (int b = 0; b < 12; b++)
        a.block[b].path[0] = UFO_PATH_SHARED;
    st = ufo_arch_params(&s, &a, UFO_COUNT_EXTRACTED, 0, &v);
    expect("ViT-B/16 params", st, v, 85798656);
    st = ufo_arch_macs(&s, &a, 0, UFO_COUNT_EXTRACTED, 0, &v);
    expect("ViT-B/16 MACs", st, v, 17566692096ull);

    if (failures)
        return 1;
    printf("test_flops: ok\n");
    return 0;
}
