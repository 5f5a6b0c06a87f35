/* The GEMM wrapper: argument checks, engine choice, and the engine's life cycle. */
#include "config.h"

#include <stdlib.h>

#include "core/log.h"
#include "device/device.h"
#include "gemm/engine.h"

ufo_status gemm_engine_create(ufo_device *dev, struct gemm_engine **out) {
    struct gemm_engine *e = calloc(1, sizeof *e);
    if (!e) return ufo_fail(UFO_ERR_NOMEM, "out of memory creating the GEMM engine");
    ufo_status st = gemm_settings_for(&dev->caps, &e->settings);
    if (st == UFO_OK) st = gemm_clblast_apply_settings(dev, &e->settings);
    if (st != UFO_OK) {
        free(e);
        return st;
    }
    log_debug("gemm: settings %s, engine %s, batched %s", e->settings.source,
              gemm_engine_name(e->settings.engine), gemm_engine_name(e->settings.engine_batched));
    *out = e;
    return UFO_OK;
}

void gemm_engine_destroy(struct gemm_engine *engine) {
    if (!engine) return;
    if (engine->scratch) clReleaseMemObject(engine->scratch);
    free(engine);
}

void ufo_gemm_set_engine(ufo_device *dev, enum ufo_gemm_engine engine) {
    dev->gemm->forced = engine;
}

const char *gemm_engine_name(enum ufo_gemm_engine engine) {
    switch (engine) {
    case UFO_GEMM_CLBLAST: return "clblast";
    case UFO_GEMM_OWN: return "own";
    case UFO_GEMM_AUTO: break;
    }
    return "auto";
}

/* Bytes a buffer must hold for the last element of a (batched) operand. */
static ufo_status check_operand(const char *name, struct ufo_matrix x, size_t rows, size_t cols,
                                size_t stride, size_t batch) {
    if (!x.buf) return ufo_fail(UFO_ERR_INVALID, "gemm: matrix %s has no buffer", name);
    if (x.ld < cols)
        return ufo_fail(UFO_ERR_INVALID, "gemm: leading dimension of %s is %zu, below its "
                        "width %zu", name, x.ld, cols);
    size_t last = x.offset + (batch - 1) * stride + (rows - 1) * x.ld + cols;
    size_t bytes = 0;
    clGetMemObjectInfo(x.buf, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
    if (last * sizeof(float) > bytes)
        return ufo_fail(UFO_ERR_INVALID, "gemm: matrix %s needs %zu floats but its buffer holds "
                        "%zu", name, last, bytes / sizeof(float));
    return UFO_OK;
}

ufo_status ufo_gemm_batched(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb, size_t m,
                            size_t n, size_t k, float alpha, struct ufo_matrix a,
                            size_t stride_a, struct ufo_matrix b, size_t stride_b, float beta,
                            struct ufo_matrix c, size_t stride_c, size_t batch) {
    if (m == 0 || n == 0 || batch == 0) return UFO_OK;
    if (k == 0) {
        /* C = beta · C: let the own engine do it with an empty sum */
        if (beta == 1.0f) return UFO_OK;
    }
    if (m > (size_t)1 << 30 || n > (size_t)1 << 30 || k > (size_t)1 << 30)
        return ufo_fail(UFO_ERR_INVALID, "gemm: size %zu × %zu × %zu is too large", m, n, k);
    ufo_status st;
    if (k > 0) {
        if ((st = check_operand("A", a, ta ? k : m, ta ? m : k, stride_a, batch)) != UFO_OK ||
            (st = check_operand("B", b, tb ? n : k, tb ? k : n, stride_b, batch)) != UFO_OK)
            return st;
    }
    if ((st = check_operand("C", c, m, n, stride_c, batch)) != UFO_OK) return st;

    struct gemm_engine *e = dev->gemm;
    enum ufo_gemm_engine which = e->forced != UFO_GEMM_AUTO ? e->forced
                               : batch > 1 ? e->settings.engine_batched : e->settings.engine;
    if (which == UFO_GEMM_CLBLAST && k > 0)
        return gemm_clblast(dev, ta, tb, m, n, k, alpha, a, stride_a, b, stride_b, beta, c,
                            stride_c, batch);
    return gemm_own(dev, ta, tb, m, n, k, alpha, a, stride_a, b, stride_b, beta, c, stride_c,
                    batch);
}

ufo_status ufo_gemm(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb, size_t m, size_t n,
                    size_t k, float alpha, struct ufo_matrix a, struct ufo_matrix b, float beta,
                    struct ufo_matrix c) {
    return ufo_gemm_batched(dev, ta, tb, m, n, k, alpha, a, 0, b, 0, beta, c, 0, 1);
}
