/* Cost of an architecture: multiply-accumulates per image and parameter counts. */
#include "config.h"

#include "model/flops.h"

ufo_status ufo_arch_macs(const struct ufo_space *s, const struct ufo_arch *a, int task,
                         enum ufo_count_mode mode, int with_heads, uint64_t *macs) {
    ufo_status st = ufo_arch_validate(s, a);
    if (st != UFO_OK)
        return st;
    if (task < 0 || task >= s->n_tasks)
        return ufo_fail(UFO_ERR_INVALID, "macs: task %d out of range 0..%d", task,
                        s->n_tasks - 1);
    uint64_t C = (uint64_t)s->embed_dim;
    uint64_t N = (uint64_t)ufo_space_tokens(s);
    uint64_t P = N - 1;
    uint64_t p = (uint64_t)s->patch;
    uint64_t total = P * C * 3 * p * p;

    for (int b = 0; b < a->n_blocks; b++) {
        const struct ufo_block_arch *blk = &a->block[b];
        if (!blk->kept)
            continue;
        uint64_t att = (uint64_t)blk->heads * (uint64_t)s->head_dim;
        uint64_t f = (uint64_t)ufo_space_hidden(s, blk->mlp_ratio);
        total += N * C;           /* norm1 */
        total += N * C * 3 * att; /* qkv */
        total += 2 * N * N * att; /* scores and weighted values */
        total += N * att * C;     /* projection */
        total += N * C;           /* norm2 */
        int paths = mode == UFO_COUNT_SUPERNET || blk->path[task] == UFO_PATH_BOTH ? 2 : 1;
        total += (uint64_t)paths * 2 * N * C * f;
        if (paths == 2)
            total += N * C; /* blend */
    }
    total += C; /* final norm on the cls token */
    if (with_heads)
        total += C + (uint64_t)s->tasks[task].classes * C;
    *macs = total;
    return UFO_OK;
}

ufo_status ufo_arch_params(const struct ufo_space *s, const struct ufo_arch *a,
                           enum ufo_count_mode mode, int with_heads, uint64_t *params) {
    ufo_status st = ufo_arch_validate(s, a);
    if (st != UFO_OK)
        return st;
    uint64_t C = (uint64_t)s->embed_dim;
    uint64_t N = (uint64_t)ufo_space_tokens(s);
    uint64_t p = (uint64_t)s->patch;
    uint64_t total = C * 3 * p * p + C + C + N * C;

    for (int b = 0; b < a->n_blocks; b++) {
        const struct ufo_block_arch *blk = &a->block[b];
        if (!blk->kept)
            continue;
        uint64_t att = (uint64_t)blk->heads * (uint64_t)s->head_dim;
        uint64_t f = (uint64_t)ufo_space_hidden(s, blk->mlp_ratio);
        uint64_t ffn = 2 * C * f + f + C;
        total += 4 * C + 3 * att * C + 3 * att + att * C + C;

        /* which FFN paths and gates the model holds */
        int shared = mode == UFO_COUNT_SUPERNET;
        for (int t = 0; t < s->n_tasks; t++) {
            enum ufo_path g = blk->path[t];
            if (g != UFO_PATH_TASK)
                shared = 1;
            if (mode == UFO_COUNT_SUPERNET || g != UFO_PATH_SHARED)
                total += ffn;
            if (mode == UFO_COUNT_SUPERNET || g == UFO_PATH_BOTH)
                total += 2;
        }
        if (shared)
            total += ffn;
    }
    total += 2 * C;
    if (with_heads)
        for (int t = 0; t < s->n_tasks; t++)
            total += 2 * C + (uint64_t)s->tasks[t].classes * C;
    *params = total;
    return UFO_OK;
}
