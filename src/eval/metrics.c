/* Retrieval metrics from rank positions: re-identification, SOP and VehicleID. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <Random123/philox.h>

#include "core/log.h"
#include "eval/metrics.h"

static const size_t cmc_ranks[] = {1, 5, 10};
static const size_t sop_ranks[] = {1, 10, 100, 1000};

double eval_ap(const uint32_t *position, size_t n) {
    double sum = 0;
    for (size_t k = 0; k < n; k++) sum += (double)(k + 1) / position[k];
    return n ? sum / (double)n : 0;
}

/* The Market-1501 evaluation code averages the precision just before and at each hit, where
 * "just before" is the precision at the previous ranked item (1 before the first item). */
double eval_ap_market(const uint32_t *position, size_t n) {
    double sum = 0;
    for (size_t k = 0; k < n; k++) {
        double before = position[k] == 1 ? 1.0 : (double)k / (position[k] - 1);
        sum += 0.5 * (before + (double)(k + 1) / position[k]);
    }
    return n ? sum / (double)n : 0;
}

double eval_inp(const uint32_t *position, size_t n) {
    return n ? (double)n / position[n - 1] : 0;
}

size_t eval_clamp_ranks(const size_t *wanted, size_t n_wanted, size_t limit, size_t *out) {
    size_t n = 0;
    for (size_t i = 0; i < n_wanted; i++) {
        size_t r = wanted[i] < limit ? wanted[i] : limit;
        if (r >= 1 && (n == 0 || out[n - 1] != r)) out[n++] = r;
    }
    return n;
}

ufo_status eval_reid_report(const struct eval_ranking *rk, size_t n_gallery, int official,
                            struct eval_report *out) {
    size_t ranks[3];
    size_t n_ranks = eval_clamp_ranks(cmc_ranks, 3, n_gallery, ranks);
    if (n_ranks < 3)
        log_warn("gallery of %zu items is smaller than rank %zu; CMC reported up to rank %zu",
                 n_gallery, cmc_ranks[2], n_gallery);

    /* per-query scores, summed over the queries that have a true match */
    size_t hits[3] = {0}, valid = 0;
    double ap_sum = 0, inp_sum = 0;
    for (size_t q = 0; q < rk->n_query; q++) {
        const uint32_t *pos = rk->position + rk->offset[q];
        size_t n = rk->offset[q + 1] - rk->offset[q];
        if (n == 0) continue;
        valid++;
        for (size_t i = 0; i < n_ranks; i++) hits[i] += pos[0] <= ranks[i];
        ap_sum += official ? eval_ap_market(pos, n) : eval_ap(pos, n);
        inp_sum += eval_inp(pos, n);
    }
    size_t skipped = rk->n_query - valid;
    if (valid == 0)
        return ufo_fail(UFO_ERR_INVALID, "none of the %zu queries has a true match in the "
                        "gallery (check the identities, cameras and splits in the labels)",
                        rk->n_query);
    if (skipped) log_warn("%zu of %zu queries have no true match in the gallery: skipped",
                          skipped, rk->n_query);

    eval_report_add(out, "queries", (double)valid, EVAL_COUNT);
    eval_report_add(out, "skipped queries", (double)skipped, EVAL_COUNT);
    eval_report_add(out, "gallery", (double)n_gallery, EVAL_COUNT);
    for (size_t i = 0; i < n_ranks; i++) {
        char name[32];
        snprintf(name, sizeof name, "rank-%zu", ranks[i]);
        eval_report_add(out, name, (double)hits[i] / (double)valid, EVAL_FRACTION);
    }
    eval_report_add(out, "mAP", ap_sum / (double)valid, EVAL_FRACTION);
    if (!official) eval_report_add(out, "mINP", inp_sum / (double)valid, EVAL_FRACTION);
    return UFO_OK;
}

ufo_status eval_reid(const struct eval_scorer *scorer, const struct eval_rank_task *task,
                     int official, struct eval_report *out) {
    eval_report_init(out, official ? "market-official" : "reid", official
                     ? "official Market-1501 code: junk (identity -1, same identity and camera) "
                       "ignored, trapezoid AP"
                     : "same identity and camera removed, non-interpolated AP, mINP",
                     task->distance);
    struct eval_rank_task t = *task;
    t.drop_same_camera = 1;
    t.first_only = 0;
    struct eval_ranking rk;
    ufo_status st = eval_rank(scorer, &t, &rk);
    if (st != UFO_OK) return st;
    st = eval_reid_report(&rk, t.n_gallery, official, out);
    eval_ranking_free(&rk);
    return st;
}

ufo_status eval_sop(const struct eval_scorer *scorer, const float *features, size_t n,
                    size_t dim, const int64_t *class_id, struct eval_report *out) {
    eval_report_init(out, "sop", "each image queries all others (itself excluded), "
                     "Recall@K on cosine similarity", EVAL_COSINE);
    if (n < 2) return ufo_fail(UFO_ERR_INVALID, "SOP needs at least 2 images, got %zu", n);
    int64_t *self = malloc(n * sizeof *self);
    if (!self) return ufo_fail(UFO_ERR_NOMEM, "no memory for %zu images", n);
    for (size_t i = 0; i < n; i++) self[i] = (int64_t)i;

    struct eval_rank_task t = {
        .query = features, .gallery = features, .n_query = n, .n_gallery = n, .dim = dim,
        .query_id = class_id, .gallery_id = class_id, .query_self = self,
        .distance = EVAL_COSINE, .first_only = 1,
    };
    struct eval_ranking rk;
    ufo_status st = eval_rank(scorer, &t, &rk);
    free(self);
    if (st != UFO_OK) return st;

    /* recall: the first true match within the top K; an image with none is a miss */
    size_t ranks[4], hits[4] = {0}, alone = 0;
    size_t n_ranks = eval_clamp_ranks(sop_ranks, 4, n - 1, ranks);
    for (size_t q = 0; q < n; q++) {
        if (rk.offset[q + 1] == rk.offset[q]) {
            alone++;
            continue;
        }
        uint32_t first = rk.position[rk.offset[q]];
        for (size_t i = 0; i < n_ranks; i++) hits[i] += first <= ranks[i];
    }
    eval_ranking_free(&rk);
    if (alone) log_warn("%zu of %zu images have no other image of their class: counted as "
                        "misses", alone, n);
    eval_report_add(out, "images", (double)n, EVAL_COUNT);
    eval_report_add(out, "without a match", (double)alone, EVAL_COUNT);
    for (size_t i = 0; i < n_ranks; i++) {
        char name[32];
        snprintf(name, sizeof name, "recall@%zu", ranks[i]);
        eval_report_add(out, name, (double)hits[i] / (double)n, EVAL_FRACTION);
    }
    return UFO_OK;
}

size_t eval_vehicleid_pick(uint64_t seed, unsigned draw, size_t ident, size_t count) {
    philox4x32_key_t key = {{(uint32_t)seed, (uint32_t)(seed >> 32)}};
    philox4x32_ctr_t ctr = {{(uint32_t)ident, (uint32_t)((uint64_t)ident >> 32), draw, 0}};
    philox4x32_ctr_t r = philox4x32(ctr, key);
    /* multiply-shift maps 32 random bits onto [0, count) */
    return (size_t)(((uint64_t)r.v[0] * count) >> 32);
}

/* Rows ordered by (identity, row): identities become contiguous runs. */
static const int64_t *vid_sort_ids;

static int vid_cmp(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    if (vid_sort_ids[x] != vid_sort_ids[y]) return vid_sort_ids[x] < vid_sort_ids[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

ufo_status eval_vehicleid(const struct eval_scorer *scorer, const float *features, size_t n,
                          size_t dim, const int64_t *id, enum eval_distance distance,
                          unsigned draws, uint64_t seed, struct eval_report *out) {
    char protocol[200];
    snprintf(protocol, sizeof protocol, "one random gallery image per identity, the rest "
             "queries; mean over %u draws (Philox, seed %llu)", draws, (unsigned long long)seed);
    eval_report_init(out, "vehicleid", protocol, distance);
    if (draws == 0) return ufo_fail(UFO_ERR_INVALID, "VehicleID needs at least one draw");

    /* identities as runs of rows */
    size_t *order = malloc(n * sizeof *order + 1);
    size_t *run = malloc((n + 1) * sizeof *run);
    float *qf = malloc(n * dim * sizeof *qf + 1), *gf = malloc(n * dim * sizeof *gf + 1);
    int64_t *qid = malloc(n * sizeof *qid + 1), *gid = malloc(n * sizeof *gid + 1);
    ufo_status st = UFO_OK;
    if (!order || !run || !qf || !gf || !qid || !gid) {
        st = ufo_fail(UFO_ERR_NOMEM, "no memory for %zu VehicleID images", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) order[i] = i;
    vid_sort_ids = id;
    qsort(order, n, sizeof *order, vid_cmp);
    size_t n_ident = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || id[order[i]] != id[order[i - 1]]) run[n_ident++] = i;
    run[n_ident] = n;
    if (id[order[0]] < 0) {
        st = ufo_fail(UFO_ERR_INVALID, "VehicleID labels hold a negative identity (%lld)",
                      (long long)id[order[0]]);
        goto done;
    }

    /* per draw: split, rank, score; then the mean over draws */
    size_t ranks[3];
    size_t n_ranks = eval_clamp_ranks(cmc_ranks, 3, n_ident, ranks);
    double cmc_sum[3] = {0}, map_sum = 0;
    size_t n_query = 0;
    for (unsigned d = 0; d < draws && st == UFO_OK; d++) {
        n_query = 0;
        for (size_t k = 0; k < n_ident; k++) {
            size_t count = run[k + 1] - run[k];
            size_t pick = eval_vehicleid_pick(seed, d, k, count);
            for (size_t j = 0; j < count; j++) {
                size_t row = order[run[k] + j];
                if (j == pick) {
                    memcpy(gf + k * dim, features + row * dim, dim * sizeof *gf);
                    gid[k] = id[row];
                } else {
                    memcpy(qf + n_query * dim, features + row * dim, dim * sizeof *qf);
                    qid[n_query++] = id[row];
                }
            }
        }
        if (n_query == 0) {
            st = ufo_fail(UFO_ERR_INVALID, "every VehicleID identity has a single image: "
                          "no queries");
            break;
        }
        struct eval_rank_task t = {
            .query = qf, .gallery = gf, .n_query = n_query, .n_gallery = n_ident, .dim = dim,
            .query_id = qid, .gallery_id = gid, .distance = distance,
        };
        struct eval_ranking rk;
        st = eval_rank(scorer, &t, &rk);
        if (st != UFO_OK) break;
        size_t hits[3] = {0};
        double ap = 0;
        for (size_t q = 0; q < n_query; q++) {
            const uint32_t *pos = rk.position + rk.offset[q];
            size_t m = rk.offset[q + 1] - rk.offset[q];
            for (size_t i = 0; i < n_ranks; i++) hits[i] += pos[0] <= ranks[i];
            ap += eval_ap(pos, m);
        }
        eval_ranking_free(&rk);
        for (size_t i = 0; i < n_ranks; i++) cmc_sum[i] += (double)hits[i] / (double)n_query;
        map_sum += ap / (double)n_query;
    }
    if (st != UFO_OK) goto done;

    eval_report_add(out, "draws", draws, EVAL_COUNT);
    eval_report_add(out, "queries", (double)n_query, EVAL_COUNT);
    eval_report_add(out, "gallery", (double)n_ident, EVAL_COUNT);
    for (size_t i = 0; i < n_ranks; i++) {
        char name[32];
        snprintf(name, sizeof name, "rank-%zu", ranks[i]);
        eval_report_add(out, name, cmc_sum[i] / draws, EVAL_FRACTION);
    }
    eval_report_add(out, "mAP", map_sum / draws, EVAL_FRACTION);

done:
    free(order);
    free(run);
    free(qf);
    free(gf);
    free(qid);
    free(gid);
    return st;
}
