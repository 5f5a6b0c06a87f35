/* Time of the non-GEMM ops of one ViT block on the benchmark shapes (issue 3's small and large
 * training configurations), forward and backward, and their sum per training step.
 * Usage: bench/ops [device spec]; with UFO_TRACE=1 each configuration's line is followed by the
 * device time per kernel, per block (src/device/trace.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "device/device.h"
#include "device/trace.h"
#include "ops/ops.h"

struct config {
    const char *name;
    size_t batch, width, tokens, heads, hidden, blocks;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(ufo_status st, const char *what) {
    fprintf(stderr, "bench/ops: %s: %s: %s\n", what, ufo_status_name(st), ufo_last_error());
    exit(1);
}

#define RUN(what, call)                                                                       \
    do {                                                                                      \
        ufo_status st_ = (call);                                                              \
        if (st_ != UFO_OK)                                                                    \
            die(st_, what);                                                                   \
    } while (0)

/* One block's element-wise, normalisation and softmax work, forward then backward. */
static void block_ops(ufo_device *dev, const struct config *c, cl_mem big, cl_mem small) {
    size_t rows = c->batch * c->tokens, att_rows = c->batch * c->heads * c->tokens;
    size_t C = c->width, F = c->hidden, T = c->tokens;
    struct ufo_matrix x = ops_mat(big, 0, C), y = ops_mat(big, rows * F, C);
    struct ufo_matrix h = ops_mat(big, 2 * rows * F, F), g = ops_mat(big, 3 * rows * F, F);
    struct ufo_matrix p = ops_mat(big, 4 * rows * F, T);
    struct ufo_matrix gam = ops_vec(small, 0), bet = ops_vec(small, F);
    struct ufo_matrix mean = ops_vec(small, 2 * F), rstd = ops_vec(small, 2 * F + rows);
    struct ufo_matrix dg = ops_vec(small, 2 * F + 2 * rows), db = ops_vec(small, 3 * F + 2 * rows);
    struct ufo_matrix none = {NULL, 0, 0};

    /* forward: two layer norms, softmax, GELU, four bias adds, two residual adds */
    RUN("layernorm", ops_layernorm_forward(dev, x, gam, bet, rows, C, 1e-6f, y, mean, rstd));
    RUN("layernorm", ops_layernorm_forward(dev, x, gam, bet, rows, C, 1e-6f, y, mean, rstd));
    RUN("softmax", ops_softmax_forward(dev, p, att_rows, T, 0.125f, p));
    RUN("bias", ops_bias_add(dev, h, bet, rows, F));
    RUN("gelu", ops_gelu_forward(dev, h, rows, F, h));
    RUN("bias", ops_bias_add(dev, y, bet, rows, C));
    RUN("bias", ops_bias_add(dev, h, bet, rows, 3 * C));
    RUN("bias", ops_bias_add(dev, y, bet, rows, C));
    RUN("residual", ops_residual_add(dev, x, y, rows, C, T, none, 1.0f));
    RUN("residual", ops_residual_add(dev, x, y, rows, C, T, none, 1.0f));

    /* backward */
    RUN("layernorm", ops_layernorm_backward(dev, x, gam, mean, rstd, y, rows, C, x, 1, dg, db));
    RUN("layernorm", ops_layernorm_backward(dev, x, gam, mean, rstd, y, rows, C, x, 1, dg, db));
    RUN("softmax", ops_softmax_backward(dev, p, p, att_rows, T, 0.125f, p));
    RUN("gelu", ops_gelu_backward(dev, h, g, rows, F, g));
    RUN("bias", ops_bias_backward(dev, g, rows, F, db));
    RUN("bias", ops_bias_backward(dev, y, rows, C, db));
    RUN("residual", ops_residual_backward(dev, x, rows, C, T, none, 1.0f, y));
}

int main(int argc, char **argv) {
    ufo_device *dev;
    ufo_status st = ufo_device_open(argc > 1 ? argv[1] : NULL, &dev);
    if (st != UFO_OK)
        die(st, "device");
    printf("device: %s\n", ufo_device_caps(dev)->name);
    const struct config configs[] = {
        {"small", 64, 192, 17, 3, 768, 6},
        {"large", 32, 384, 65, 6, 1536, 6},
    };
    for (size_t i = 0; i < sizeof configs / sizeof *configs; i++) {
        const struct config *c = &configs[i];
        size_t rows = c->batch * c->tokens;
        size_t big_floats = 4 * rows * c->hidden + c->batch * c->heads * c->tokens * c->tokens;
        size_t small_floats = 4 * c->hidden + 2 * rows;
        cl_mem big, small;
        RUN("alloc", device_alloc(dev, big_floats * 4, "bench", &big));
        RUN("alloc", device_alloc(dev, small_floats * 4, "bench", &small));
        float zero = 0.0f;
        cl_int err = clEnqueueFillBuffer(ufo_device_queue(dev), big, &zero, 4, 0, big_floats * 4,
                                         0, NULL, NULL);
        err |= clEnqueueFillBuffer(ufo_device_queue(dev), small, &zero, 4, 0, small_floats * 4,
                                   0, NULL, NULL);
        if (err != CL_SUCCESS)
            die(UFO_ERR_OPENCL, "fill");

        /* the first round builds the kernels: not timed */
        block_ops(dev, c, big, small);
        RUN("finish", ufo_device_finish(dev));
        if (dev->trace) device_trace_reset(dev->trace);
        int reps = 0;
        double t0 = now(), t;
        do {
            block_ops(dev, c, big, small);
            RUN("finish", ufo_device_finish(dev));
            reps++;
            t = now() - t0;
        } while (t < 2.0 && reps < 1000);
        double per_block = t / reps;
        printf("%s (batch %zu, width %zu, %zu tokens): non-GEMM ops %.3f ms per block, "
               "%.1f ms per step of %zu blocks\n", c->name, c->batch, c->width, c->tokens,
               1e3 * per_block, 1e3 * per_block * (double)c->blocks, c->blocks);
        if (dev->trace) device_trace_report(dev->trace, dev->queue, stdout, reps);
        clReleaseMemObject(big);
        clReleaseMemObject(small);
    }
    ufo_device_close(dev);
    return 0;
}
