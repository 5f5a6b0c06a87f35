/* Ranking a gallery for each query without materialising the score matrix: where each query's
 * true matches land among its valid gallery items, computed on the host or on the device. */
#ifndef UFO_EVAL_RANK_H
#define UFO_EVAL_RANK_H

#include <stddef.h>
#include <stdint.h>

#include <ufo/device.h>
#include <ufo/status.h>

enum eval_distance { EVAL_COSINE, EVAL_EUCLIDEAN };

/* Queries against a gallery. Features are raw (cosine normalises them itself). Gallery item g
 * is valid for query q unless its identity is negative (junk), it is the query itself
 * (query_self), or drop_same_camera is set and it shares the query's identity and camera.
 * The true matches of q are the valid items with q's identity (q's identity must be >= 0).
 * Items are ranked by decreasing similarity (cosine) or increasing Euclidean distance; equal
 * scores rank by gallery index. */
struct eval_rank_task {
    const float *query;          /* n_query × dim */
    const float *gallery;        /* n_gallery × dim */
    size_t n_query, n_gallery, dim;
    const int64_t *query_id, *query_camera;     /* n_query each; cameras may be NULL */
    const int64_t *gallery_id, *gallery_camera; /* n_gallery each */
    const int64_t *query_self;   /* gallery row of each query, -1 for none; NULL: none */
    enum eval_distance distance;
    int drop_same_camera;
    int first_only;              /* only the best-ranked true match of each query */
};

/* Where the true matches land: query q's positions (1-based among its valid gallery items,
 * ascending) are position[offset[q] .. offset[q+1]). A query with none has an empty range. */
struct eval_ranking {
    size_t n_query;
    size_t *offset;
    uint32_t *position;
};

/* Who computes the scores. With `dev` NULL, the host does, one query row at a time. On a
 * device, query × gallery score blocks of at most block_queries × block_gallery come from
 * ufo_gemm and are reduced there (0 picks sizes from the device's memory); only the scores
 * of the true matches and the counts of items ranked ahead of them return to the host. */
struct eval_scorer {
    ufo_device *dev;
    size_t block_queries, block_gallery;
};

/* Rank every query of `task`; `out` is filled with malloc'ed arrays (eval_ranking_free). */
ufo_status eval_rank(const struct eval_scorer *scorer, const struct eval_rank_task *task,
                     struct eval_ranking *out);

void eval_ranking_free(struct eval_ranking *ranking);

/* The inputs of a ranking after preparation, shared by the host and device paths. */
struct eval_problem {
    const struct eval_rank_task *task;
    float *query, *gallery;  /* L2-normalised copies for cosine, plain copies otherwise */
    float *gallery_sq;       /* squared norms of gallery rows (Euclidean only, else NULL) */
    size_t n_pairs;          /* (query, true match) pairs, grouped by query */
    size_t *pair_offset;     /* n_query + 1 */
    uint32_t *pair_query, *pair_gallery;
    float *pair_score;       /* score of each pair: similarity, or 2 q·g - |g|² */
    uint32_t *pair_count;    /* valid gallery items ranked ahead of the pair's match */
};

/* Whether gallery item g is valid for query q (see eval_rank_task). */
int eval_valid(const struct eval_rank_task *t, size_t q, size_t g);

/* Keep only the best-scored pair of each query (ties: the lower gallery index). */
void eval_keep_best(struct eval_problem *p);

/* Fill pair_score for every pair, reduce with eval_keep_best when the task asks for the first
 * match only, then fill pair_count: on the host, or on the scorer's device. */
ufo_status eval_host_run(struct eval_problem *p);
ufo_status eval_device_run(const struct eval_scorer *s, struct eval_problem *p);

#endif
