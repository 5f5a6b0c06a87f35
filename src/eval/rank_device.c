/* The device path of eval_rank: score blocks from ufo_gemm, reduced on the device by
 * cl/eval.cl to the scores of the true matches and the counts of items ranked ahead of them.
 * The score matrix never exists whole; one block of at most block_queries × block_gallery
 * floats lives on the device at a time. Both passes (scores, then counts) walk the same
 * blocks, so a pair's score is bit-identical to the one it is compared against. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ufo/gemm.h>

#include "core/log.h"
#include "device/device.h"
#include "device/kernels.h"
#include "eval/rank.h"

/* Everything the passes share: buffers, block sizes, kernels. */
struct dev_rank {
    ufo_device *dev;
    const struct eval_problem *p;
    size_t bq, bg, wg;
    cl_mem query, gallery, gallery_sq, scores;
    cl_mem qid, qcam, qself, gid, gcam;
    cl_mem pair_query, pair_gallery, pair_score, pair_count;
    cl_kernel gather, count;
};

static void dev_rank_release(struct dev_rank *r) {
    cl_mem *bufs[] = {&r->query, &r->gallery, &r->gallery_sq, &r->scores, &r->qid, &r->qcam,
                      &r->qself, &r->gid, &r->gcam, &r->pair_query, &r->pair_gallery,
                      &r->pair_score, &r->pair_count};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
        if (*bufs[i]) clReleaseMemObject(*bufs[i]);
}

/* Upload `bytes` from `src` into a new buffer. */
static ufo_status dev_upload(struct dev_rank *r, const void *src, size_t bytes, const char *what,
                             cl_mem *out) {
    ufo_status st = device_alloc(r->dev, bytes ? bytes : 4, what, out);
    if (st == UFO_OK && bytes) st = device_write(r->dev, *out, 0, bytes, src);
    return st;
}

/* A label column, or -1 everywhere when the task has none. */
static ufo_status dev_upload_labels(struct dev_rank *r, const int64_t *col, size_t n,
                                    const char *what, cl_mem *out) {
    if (col) return dev_upload(r, col, n * sizeof *col, what, out);
    int64_t *fill = malloc(n * sizeof *fill + 1);
    if (!fill) return ufo_fail(UFO_ERR_NOMEM, "no memory for %s", what);
    for (size_t i = 0; i < n; i++) fill[i] = -1;
    ufo_status st = dev_upload(r, fill, n * sizeof *fill, what, out);
    free(fill);
    return st;
}

/* Block sizes: what the scorer asks for, else a score block of at most 256 MiB (and a
 * quarter of the device memory, and the largest allocation). */
static void dev_block_sizes(struct dev_rank *r, const struct eval_scorer *s) {
    const struct ufo_device_caps *caps = ufo_device_caps(r->dev);
    const struct eval_rank_task *t = r->p->task;
    size_t budget = (size_t)256 << 20;
    if (caps->max_alloc && caps->max_alloc < budget) budget = (size_t)caps->max_alloc;
    if (caps->global_mem && caps->global_mem / 4 < budget) budget = (size_t)caps->global_mem / 4;
    r->bg = s->block_gallery ? s->block_gallery : 16384;
    if (r->bg > t->n_gallery) r->bg = t->n_gallery;
    r->bq = s->block_queries ? s->block_queries : budget / 4 / r->bg;
    if (r->bq < 1) r->bq = 1;
    if (r->bq > t->n_query) r->bq = t->n_query;
}

/* Upload features, labels and pairs; build the kernels. */
static ufo_status dev_setup(struct dev_rank *r) {
    const struct eval_problem *p = r->p;
    const struct eval_rank_task *t = p->task;
    const struct ufo_device_caps *caps = ufo_device_caps(r->dev);
    size_t qbytes = t->n_query * t->dim * sizeof(float);
    size_t gbytes = t->n_gallery * t->dim * sizeof(float);
    /* TODO: stream feature blocks too when a feature set exceeds one device allocation. */
    if (caps->max_alloc && (qbytes > caps->max_alloc || gbytes > caps->max_alloc))
        return ufo_fail(UFO_ERR_UNSUPPORTED, "features of %zu + %zu bytes exceed the device's "
                        "largest allocation (%llu bytes)", qbytes, gbytes, caps->max_alloc);

    ufo_status st = dev_upload(r, p->query, qbytes, "query features", &r->query);
    if (st == UFO_OK) st = dev_upload(r, p->gallery, gbytes, "gallery features", &r->gallery);
    if (st == UFO_OK) {
        float *sq = p->gallery_sq;
        float *zero = sq ? NULL : calloc(t->n_gallery, sizeof *zero);
        if (!sq && !zero) return ufo_fail(UFO_ERR_NOMEM, "no memory for gallery norms");
        st = dev_upload(r, sq ? sq : zero, t->n_gallery * sizeof(float), "gallery norms",
                        &r->gallery_sq);
        free(zero);
    }
    if (st == UFO_OK) st = dev_upload_labels(r, t->query_id, t->n_query, "query ids", &r->qid);
    if (st == UFO_OK)
        st = dev_upload_labels(r, t->query_camera, t->n_query, "query cameras", &r->qcam);
    if (st == UFO_OK)
        st = dev_upload_labels(r, t->query_self, t->n_query, "query rows", &r->qself);
    if (st == UFO_OK)
        st = dev_upload_labels(r, t->gallery_id, t->n_gallery, "gallery ids", &r->gid);
    if (st == UFO_OK)
        st = dev_upload_labels(r, t->gallery_camera, t->n_gallery, "gallery cameras", &r->gcam);
    size_t np = p->n_pairs;
    if (st == UFO_OK)
        st = dev_upload(r, p->pair_query, np * 4, "pair queries", &r->pair_query);
    if (st == UFO_OK)
        st = dev_upload(r, p->pair_gallery, np * 4, "pair matches", &r->pair_gallery);
    if (st == UFO_OK) st = device_alloc(r->dev, np * 4, "pair scores", &r->pair_score);
    if (st == UFO_OK) st = dev_upload(r, p->pair_count, np * 4, "pair counts", &r->pair_count);
    if (st == UFO_OK)
        st = device_alloc(r->dev, r->bq * r->bg * sizeof(float), "score block", &r->scores);
    if (st != UFO_OK) return st;

    /* kernels: the work-group size is the largest power of two up to 256 the device takes */
    r->wg = 256;
    while (r->wg > 1 && r->wg > caps->max_work_group) r->wg /= 2;
    char options[96];
    snprintf(options, sizeof options, "-DEVAL_WG=%zu -DEVAL_EUCLIDEAN=%d", r->wg,
             t->distance == EVAL_EUCLIDEAN);
    st = kernels_get(r->dev, "eval.cl", "eval_gather", options, &r->gather);
    if (st == UFO_OK) st = kernels_get(r->dev, "eval.cl", "eval_count", options, &r->count);
    return st;
}

/* The score block of queries [q0, q0 + nq) × gallery [g0, g0 + ng), leading dimension bg. */
static ufo_status dev_score_block(struct dev_rank *r, size_t q0, size_t nq, size_t g0,
                                  size_t ng) {
    size_t d = r->p->task->dim;
    struct ufo_matrix a = {r->query, q0 * d, d}, b = {r->gallery, g0 * d, d};
    struct ufo_matrix c = {r->scores, 0, r->bg};
    return ufo_gemm(r->dev, UFO_NO_TRANS, UFO_TRANS, nq, ng, d, 1.0f, a, b, 0.0f, c);
}

/* One pass over all blocks: gather scores (count = 0) or count items ahead (count = 1). */
static ufo_status dev_pass(struct dev_rank *r, int count) {
    const struct eval_problem *p = r->p;
    const struct eval_rank_task *t = p->task;
    cl_uint ld = (cl_uint)r->bg;
    cl_int drop = t->drop_same_camera;
    for (size_t q0 = 0; q0 < t->n_query; q0 += r->bq) {
        size_t nq = t->n_query - q0 < r->bq ? t->n_query - q0 : r->bq;
        size_t pa = p->pair_offset[q0], pb = p->pair_offset[q0 + nq];
        if (pa == pb) continue;
        cl_uint uq0 = (cl_uint)q0, up0 = (cl_uint)pa, unp = (cl_uint)(pb - pa);
        for (size_t g0 = 0; g0 < t->n_gallery; g0 += r->bg) {
            size_t ng = t->n_gallery - g0 < r->bg ? t->n_gallery - g0 : r->bg;
            cl_uint ug0 = (cl_uint)g0, ung = (cl_uint)ng;
            ufo_status st = dev_score_block(r, q0, nq, g0, ng);
            if (st != UFO_OK) return st;
            cl_kernel k = count ? r->count : r->gather;
            int a = 0;
            st = kernels_arg(k, a++, sizeof(cl_mem), &r->scores);
            if (st == UFO_OK) st = kernels_arg(k, a++, sizeof ld, &ld);
            if (st == UFO_OK) st = kernels_arg(k, a++, sizeof uq0, &uq0);
            if (st == UFO_OK) st = kernels_arg(k, a++, sizeof ug0, &ug0);
            if (st == UFO_OK) st = kernels_arg(k, a++, sizeof ung, &ung);
            if (st == UFO_OK) st = kernels_arg(k, a++, sizeof(cl_mem), &r->pair_query);
            if (st == UFO_OK) st = kernels_arg(k, a++, sizeof(cl_mem), &r->pair_gallery);
            if (!count) {
                if (st == UFO_OK) st = kernels_arg(k, a++, sizeof up0, &up0);
                if (st == UFO_OK) st = kernels_arg(k, a++, sizeof unp, &unp);
                if (st == UFO_OK) st = kernels_arg(k, a++, sizeof(cl_mem), &r->gallery_sq);
                if (st == UFO_OK) st = kernels_arg(k, a++, sizeof(cl_mem), &r->pair_score);
                size_t global = kernels_round_up(pb - pa, 64);
                if (st == UFO_OK) st = kernels_run(r->dev, k, 1, &global, NULL);
            } else {
                cl_mem bufs[] = {r->pair_score};
                if (st == UFO_OK) st = kernels_arg(k, a++, sizeof(cl_mem), &bufs[0]);
                if (st == UFO_OK) st = kernels_arg(k, a++, sizeof up0, &up0);
                cl_mem labels[] = {r->qid, r->qcam, r->qself, r->gid, r->gcam, r->gallery_sq};
                for (int i = 0; i < 6 && st == UFO_OK; i++)
                    st = kernels_arg(k, a++, sizeof(cl_mem), &labels[i]);
                if (st == UFO_OK) st = kernels_arg(k, a++, sizeof drop, &drop);
                if (st == UFO_OK) st = kernels_arg(k, a++, sizeof(cl_mem), &r->pair_count);
                size_t global = (pb - pa) * r->wg, local = r->wg;
                if (st == UFO_OK) st = kernels_run(r->dev, k, 1, &global, &local);
            }
            if (st != UFO_OK) return st;
        }
    }
    return ufo_device_finish(r->dev);
}

ufo_status eval_device_run(const struct eval_scorer *s, struct eval_problem *p) {
    const struct eval_rank_task *t = p->task;
    struct dev_rank r = {.dev = s->dev, .p = p};
    dev_block_sizes(&r, s);
    log_debug("ranking %zu queries against %zu gallery items in blocks of %zu x %zu",
              t->n_query, t->n_gallery, r.bq, r.bg);
    ufo_status st = dev_setup(&r);

    /* pass 1: the scores of the true matches */
    if (st == UFO_OK) st = dev_pass(&r, 0);
    if (st == UFO_OK)
        st = device_read(r.dev, r.pair_score, 0, p->n_pairs * sizeof(float), p->pair_score);

    /* first match only: keep the best pair of each query, on both sides */
    if (st == UFO_OK && t->first_only) {
        eval_keep_best(p);
        size_t np = p->n_pairs;
        st = device_write(r.dev, r.pair_query, 0, np * 4, p->pair_query);
        if (st == UFO_OK) st = device_write(r.dev, r.pair_gallery, 0, np * 4, p->pair_gallery);
        if (st == UFO_OK) st = device_write(r.dev, r.pair_score, 0, np * 4, p->pair_score);
        if (st == UFO_OK) st = device_write(r.dev, r.pair_count, 0, np * 4, p->pair_count);
    }

    /* pass 2: how many valid items rank ahead of each pair's match */
    if (st == UFO_OK && p->n_pairs > 0) st = dev_pass(&r, 1);
    if (st == UFO_OK && p->n_pairs > 0)
        st = device_read(r.dev, r.pair_count, 0, p->n_pairs * sizeof(uint32_t), p->pair_count);
    dev_rank_release(&r);
    return st;
}
