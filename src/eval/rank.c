/* From features and labels to the rank positions of every query's true matches. A position is
 * one plus the number of valid gallery items ranked ahead, so the metrics need no sort of the
 * whole gallery, only a count per true match. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/rank.h"

void eval_ranking_free(struct eval_ranking *r) {
    if (!r) return;
    free(r->offset);
    free(r->position);
    memset(r, 0, sizeof *r);
}

int eval_valid(const struct eval_rank_task *t, size_t q, size_t g) {
    if (t->gallery_id[g] < 0) return 0;
    if (t->query_self && t->query_self[q] == (int64_t)g) return 0;
    if (t->drop_same_camera && t->gallery_id[g] == t->query_id[q] &&
        t->query_camera && t->gallery_camera && t->gallery_camera[g] == t->query_camera[q])
        return 0;
    return 1;
}

static void problem_free(struct eval_problem *p) {
    free(p->query);
    free(p->gallery);
    free(p->gallery_sq);
    free(p->pair_offset);
    free(p->pair_query);
    free(p->pair_gallery);
    free(p->pair_score);
    free(p->pair_count);
}

/* Copy rows × dim features, L2-normalising each row when asked; NaN or Inf is an error. */
static ufo_status rank_copy_features(const float *src, size_t rows, size_t dim, int normalise,
                                     const char *what, float **out) {
    float *dst = malloc(rows * dim * sizeof *dst + 1);
    if (!dst) return ufo_fail(UFO_ERR_NOMEM, "no memory for %zu %s features", rows, what);
    for (size_t i = 0; i < rows; i++) {
        const float *x = src + i * dim;
        double ss = 0;
        for (size_t k = 0; k < dim; k++) {
            if (!isfinite(x[k])) {
                free(dst);
                return ufo_fail(UFO_ERR_NUMERIC, "%s feature %zu holds %g at column %zu",
                                what, i, (double)x[k], k);
            }
            ss += (double)x[k] * x[k];
        }
        /* a zero row stays zero, as torch's normalize does with its epsilon */
        double scale = normalise ? 1.0 / fmax(sqrt(ss), 1e-12) : 1.0;
        for (size_t k = 0; k < dim; k++) dst[i * dim + k] = (float)(x[k] * scale);
    }
    *out = dst;
    return UFO_OK;
}

/* Gallery rows ordered by (identity, row), for finding a query's matches by bisection. */
static const int64_t *rank_sort_ids;

static int rank_cmp_gallery(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (rank_sort_ids[x] != rank_sort_ids[y]) return rank_sort_ids[x] < rank_sort_ids[y] ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* List the (query, true match) pairs, grouped by query and by gallery row within a query. */
static ufo_status rank_build_pairs(struct eval_problem *p) {
    const struct eval_rank_task *t = p->task;
    uint32_t *order = malloc(t->n_gallery * sizeof *order + 1);
    p->pair_offset = calloc(t->n_query + 1, sizeof *p->pair_offset);
    if (!order || !p->pair_offset) {
        free(order);
        return ufo_fail(UFO_ERR_NOMEM, "no memory to list true matches");
    }
    for (size_t g = 0; g < t->n_gallery; g++) order[g] = (uint32_t)g;
    rank_sort_ids = t->gallery_id; /* qsort has no context argument in C11 */
    qsort(order, t->n_gallery, sizeof *order, rank_cmp_gallery);

    /* two sweeps: count, then fill */
    for (int fill = 0; fill < 2; fill++) {
        size_t n = 0;
        for (size_t q = 0; q < t->n_query; q++) {
            p->pair_offset[q] = n;
            int64_t id = t->query_id[q];
            if (id < 0) continue;
            size_t lo = 0, hi = t->n_gallery;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (t->gallery_id[order[mid]] < id) lo = mid + 1;
                else hi = mid;
            }
            for (size_t i = lo; i < t->n_gallery && t->gallery_id[order[i]] == id; i++) {
                if (!eval_valid(t, q, order[i])) continue;
                if (fill) {
                    p->pair_query[n] = (uint32_t)q;
                    p->pair_gallery[n] = order[i];
                }
                n++;
            }
        }
        p->pair_offset[t->n_query] = n;
        if (!fill) {
            p->n_pairs = n;
            p->pair_query = malloc(n * sizeof *p->pair_query + 1);
            p->pair_gallery = malloc(n * sizeof *p->pair_gallery + 1);
            p->pair_score = malloc(n * sizeof *p->pair_score + 1);
            p->pair_count = calloc(n + 1, sizeof *p->pair_count);
            if (!p->pair_query || !p->pair_gallery || !p->pair_score || !p->pair_count) {
                free(order);
                return ufo_fail(UFO_ERR_NOMEM, "no memory for %zu true-match pairs", n);
            }
        }
    }
    free(order);
    return UFO_OK;
}

void eval_keep_best(struct eval_problem *p) {
    size_t n = 0;
    for (size_t q = 0; q < p->task->n_query; q++) {
        size_t a = p->pair_offset[q], b = p->pair_offset[q + 1];
        p->pair_offset[q] = n;
        if (a == b) continue;
        size_t best = a;
        for (size_t i = a + 1; i < b; i++)
            if (p->pair_score[i] > p->pair_score[best] ||
                (p->pair_score[i] == p->pair_score[best] &&
                 p->pair_gallery[i] < p->pair_gallery[best]))
                best = i;
        p->pair_query[n] = p->pair_query[best];
        p->pair_gallery[n] = p->pair_gallery[best];
        p->pair_score[n] = p->pair_score[best];
        p->pair_count[n] = 0;
        n++;
    }
    p->pair_offset[p->task->n_query] = n;
    p->n_pairs = n;
}

static int rank_cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

ufo_status eval_rank(const struct eval_scorer *scorer, const struct eval_rank_task *t,
                     struct eval_ranking *out) {
    memset(out, 0, sizeof *out);
    if (t->n_query == 0 || t->n_gallery == 0 || t->dim == 0)
        return ufo_fail(UFO_ERR_INVALID, "nothing to rank: %zu queries, %zu gallery items, "
                        "dimension %zu", t->n_query, t->n_gallery, t->dim);
    if (t->n_gallery >= UINT32_MAX || t->n_query >= UINT32_MAX)
        return ufo_fail(UFO_ERR_UNSUPPORTED, "more than 2^32 - 1 queries or gallery items");

    /* features: normalised for cosine, squared gallery norms for Euclidean */
    struct eval_problem p = {.task = t};
    int cosine = t->distance == EVAL_COSINE;
    ufo_status st = rank_copy_features(t->query, t->n_query, t->dim, cosine, "query", &p.query);
    if (st == UFO_OK)
        st = rank_copy_features(t->gallery, t->n_gallery, t->dim, cosine, "gallery", &p.gallery);
    if (st == UFO_OK && !cosine) {
        p.gallery_sq = malloc(t->n_gallery * sizeof *p.gallery_sq);
        if (!p.gallery_sq) st = ufo_fail(UFO_ERR_NOMEM, "no memory for gallery norms");
        for (size_t g = 0; st == UFO_OK && g < t->n_gallery; g++) {
            double ss = 0;
            for (size_t k = 0; k < t->dim; k++) {
                double x = p.gallery[g * t->dim + k];
                ss += x * x;
            }
            p.gallery_sq[g] = (float)ss;
        }
    }

    /* the true matches, their scores and the counts ahead of them */
    if (st == UFO_OK) st = rank_build_pairs(&p);
    if (st == UFO_OK && p.n_pairs > 0)
        st = scorer && scorer->dev ? eval_device_run(scorer, &p) : eval_host_run(&p);
    if (st != UFO_OK) {
        problem_free(&p);
        return st;
    }

    /* positions, ascending per query */
    out->n_query = t->n_query;
    out->offset = p.pair_offset;
    out->position = p.pair_count;
    p.pair_offset = NULL;
    p.pair_count = NULL;
    for (size_t i = 0; i < p.n_pairs; i++) out->position[i] += 1;
    for (size_t q = 0; q < t->n_query; q++)
        qsort(out->position + out->offset[q], out->offset[q + 1] - out->offset[q],
              sizeof *out->position, rank_cmp_u32);
    problem_free(&p);
    return UFO_OK;
}
