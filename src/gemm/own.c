/* ufo's own GEMM kernels (cl/gemm.cl), three of them as the settings choose: the simple
 * register-blocked gemm_nn, the K-blocked gemm_kb, and gemm_packed, which first packs both
 * operands into panels in the scratch buffer. The first two take a transposed B through
 * scratch too. */
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

/* Pack each batch's operand x into scratch from float `dst_off` on, as panels of `width`
 * rows of op(x) (rows × k), each k × width, zero-padded: `k_major` when x is stored k × rows.
 * The packed operand takes rows_pad · k floats per batch. A k-major x goes through `pack_runs`
 * (PACK_KR values of k per work-item, by vectors) when the settings ask for it (own_pack =
 * runs), anything else through `pack`, one float per work-item. */
#define PACK_KR 16
static ufo_status pack_into_scratch(ufo_device *dev, size_t rows, size_t k, int width,
                                    int k_major, struct ufo_matrix x, size_t stride,
                                    size_t batch, size_t dst_off) {
    const int runs = k_major && dev->gemm->settings.own_pack == GEMM_PACK_RUNS;
    char options[64];
    if (runs) snprintf(options, sizeof options, "-D W=%d -D KR=%d", width, PACK_KR);
    else snprintf(options, sizeof options, "-D W=%d%s", width, k_major ? " -D K_MAJOR" : "");
    cl_kernel kern;
    ufo_status st = kernels_get(dev, "gemm.cl", runs ? "pack_runs" : "pack", options, &kern);
    if (st != UFO_OK) return st;
    size_t rows_pad = kernels_round_up(rows, (size_t)width);
    cl_int irows = (cl_int)rows, ik = (cl_int)k, ld = (cl_int)x.ld;
    cl_ulong off = x.offset, sstride = stride, dstride = rows_pad * k;
    cl_ulong doff = dst_off;
    cl_mem dst = dev->gemm->scratch;
    if ((st = kernels_arg(kern, 0, sizeof irows, &irows)) ||
        (st = kernels_arg(kern, 1, sizeof ik, &ik)) ||
        (st = kernels_arg(kern, 2, sizeof x.buf, &x.buf)) ||
        (st = kernels_arg(kern, 3, sizeof off, &off)) ||
        (st = kernels_arg(kern, 4, sizeof ld, &ld)) ||
        (st = kernels_arg(kern, 5, sizeof sstride, &sstride)) ||
        (st = kernels_arg(kern, 6, sizeof dst, &dst)) ||
        (st = kernels_arg(kern, 7, sizeof doff, &doff)) ||
        (st = kernels_arg(kern, 8, sizeof dstride, &dstride)))
        return st;
    size_t w = (size_t)width;
    if (runs) {
        /* one work-item per panel × KR values of k */
        size_t global[3] = {rows_pad / w, (k + PACK_KR - 1) / PACK_KR, batch};
        return kernels_run(dev, kern, 3, global, NULL);
    }
    /* an explicit work-group of one panel's width × 16 k: left to PoCL, the pack did not
     * spread over both cores and cost as much as the product at width 192 */
    size_t kk = kernels_round_up(k, 16);
    size_t global[3] = {k_major ? rows_pad : kk, k_major ? kk : rows_pad, batch};
    size_t local[3] = {k_major ? w : 16, k_major ? 16 : w, 1};
    return kernels_run(dev, kern, 3, global, local);
}

/* The packed path: A and B packed into scratch (A's panels first), then gemm_packed. */
static ufo_status gemm_own_packed(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb,
                                  size_t m, size_t n, size_t k, float alpha,
                                  struct ufo_matrix a, size_t stride_a, struct ufo_matrix b,
                                  size_t stride_b, float beta, struct ufo_matrix c,
                                  size_t stride_c, size_t batch) {
    const struct gemm_settings *s = &dev->gemm->settings;
    const int tm = s->own_tm, tn = s->own_vw * s->own_nv;
    /* packing A costs a pass over it (read, write, read again) for every 2·n FLOPs per
     * element: at n = 192 a third of the product's time; read in place it costs nothing */
    const int pack_a = s->own_pack_a == GEMM_PACK_A_ALWAYS ||
                       (s->own_pack_a == GEMM_PACK_A_TRANSPOSED && ta == UFO_TRANS);
    size_t a_floats = pack_a ? kernels_round_up(m, (size_t)tm) * k : 0;
    size_t b_floats = kernels_round_up(n, (size_t)tn) * k;
    ufo_status st = scratch_reserve(dev, (a_floats + b_floats) * batch * sizeof(float));
    if (st != UFO_OK) return st;
    /* A is m × k row-major unless transposed; B is k × n (k-major) unless transposed */
    if ((pack_a &&
         (st = pack_into_scratch(dev, m, k, tm, ta == UFO_TRANS, a, stride_a, batch, 0))) ||
        (st = pack_into_scratch(dev, n, k, tn, tb == UFO_NO_TRANS, b, stride_b, batch,
                                a_floats * batch)))
        return st;

    char options[128];
    snprintf(options, sizeof options, "-D TM=%d -D VW=%d -D NV=%d -D KB=%d%s%s", tm, s->own_vw,
             s->own_nv, s->own_kb, pack_a ? "" : " -D A_DIRECT",
             !pack_a && ta == UFO_TRANS ? " -D TRANS_A" : "");
    cl_kernel kern;
    if ((st = kernels_get(dev, "gemm.cl", "gemm_packed", options, &kern)) != UFO_OK) return st;
    cl_int im = (cl_int)m, in = (cl_int)n, ik = (cl_int)k, ldc = (cl_int)c.ld;
    cl_int lda = pack_a ? tm : (cl_int)a.ld;
    cl_ulong ao = pack_a ? 0 : a.offset, sa = pack_a ? a_floats : stride_a;
    cl_ulong bo = a_floats * batch, sb = b_floats, co = c.offset, sc = stride_c;
    cl_mem p = dev->gemm->scratch, ap = pack_a ? p : a.buf;
    if ((st = kernels_arg(kern, 0, sizeof im, &im)) ||
        (st = kernels_arg(kern, 1, sizeof in, &in)) ||
        (st = kernels_arg(kern, 2, sizeof ik, &ik)) ||
        (st = kernels_arg(kern, 3, sizeof alpha, &alpha)) ||
        (st = kernels_arg(kern, 4, sizeof ap, &ap)) ||
        (st = kernels_arg(kern, 5, sizeof ao, &ao)) ||
        (st = kernels_arg(kern, 6, sizeof lda, &lda)) ||
        (st = kernels_arg(kern, 7, sizeof sa, &sa)) ||
        (st = kernels_arg(kern, 8, sizeof p, &p)) ||
        (st = kernels_arg(kern, 9, sizeof bo, &bo)) ||
        (st = kernels_arg(kern, 10, sizeof sb, &sb)) ||
        (st = kernels_arg(kern, 11, sizeof beta, &beta)) ||
        (st = kernels_arg(kern, 12, sizeof c.buf, &c.buf)) ||
        (st = kernels_arg(kern, 13, sizeof co, &co)) ||
        (st = kernels_arg(kern, 14, sizeof ldc, &ldc)) ||
        (st = kernels_arg(kern, 15, sizeof sc, &sc)))
        return st;
    size_t wg0 = s->own_wg0, wg1 = s->own_wg1;
    size_t global[3] = {kernels_round_up((n + (size_t)tn - 1) / (size_t)tn, wg0),
                        kernels_round_up((m + (size_t)tm - 1) / (size_t)tm, wg1), batch};
    size_t local[3] = {wg0, wg1, 1};
    return kernels_run(dev, kern, 3, global, local);
}

ufo_status gemm_own(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb, size_t m, size_t n,
                    size_t k, float alpha, struct ufo_matrix a, size_t stride_a,
                    struct ufo_matrix b, size_t stride_b, float beta, struct ufo_matrix c,
                    size_t stride_c, size_t batch) {
    const struct gemm_settings *s = &dev->gemm->settings;
    enum gemm_own_kernel which = batch > 1 ? s->own_kernel_batched : s->own_kernel;
    if (which == GEMM_OWN_PACKED && k > 0)
        return gemm_own_packed(dev, ta, tb, m, n, k, alpha, a, stride_a, b, stride_b, beta, c,
                               stride_c, batch);
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
        which = GEMM_OWN_SIMPLE;
    }

    /* gemm_kb keeps NV vectors per row and needs the work-group shape; gemm_nn one vector */
    const int blocked = which == GEMM_OWN_KBLOCKED, nv = blocked ? s->own_nv : 1;
    char options[128];
    snprintf(options, sizeof options, "-D TM=%d -D VW=%d -D NV=%d -D KB=%d%s", s->own_tm,
             s->own_vw, nv, s->own_kb, ta == UFO_TRANS ? " -D TRANS_A" : "");
    cl_kernel kern;
    if ((st = kernels_get(dev, "gemm.cl", blocked ? "gemm_kb" : "gemm_nn", options, &kern)) !=
        UFO_OK)
        return st;
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

    /* one work-item per TM × NV·VW tile; the work-group shape comes from the settings */
    size_t wg0 = s->own_wg0, wg1 = s->own_wg1;
    size_t cols = (size_t)s->own_vw * (size_t)nv;
    size_t global[3] = {(n + cols - 1) / cols,
                        (m + (size_t)s->own_tm - 1) / (size_t)s->own_tm, batch};
    if (wg0 && wg1) {
        global[0] = kernels_round_up(global[0], wg0);
        global[1] = kernels_round_up(global[1], wg1);
        size_t local[3] = {wg0, wg1, 1};
        return kernels_run(dev, kern, 3, global, local);
    }
    return kernels_run(dev, kern, 3, global, NULL);
}
