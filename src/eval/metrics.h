/* Benchmark metrics as their communities compute them: re-identification (CMC, mAP, mINP, and
 * the official Market-1501 variant), VehicleID, Stanford Online Products Recall@K and face
 * verification accuracy. Results go into a report that prints as a table or JSON. */
#ifndef UFO_EVAL_METRICS_H
#define UFO_EVAL_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "eval/rank.h"

enum eval_kind { EVAL_FRACTION, EVAL_COUNT, EVAL_NUMBER };

#define EVAL_MAX_ENTRIES 64

/* One metric run: which metric, the protocol variant in words, and named values. */
struct eval_report {
    char metric[32];
    char protocol[256];
    char distance[16];
    size_t n_entries;
    struct eval_entry {
        char name[32];
        double value;
        enum eval_kind kind;  /* fractions print as percentages, counts as integers */
    } entry[EVAL_MAX_ENTRIES];
};

void eval_report_init(struct eval_report *r, const char *metric, const char *protocol,
                      enum eval_distance distance);
void eval_report_add(struct eval_report *r, const char *name, double value, enum eval_kind kind);

/* The value called `name`, or NaN when the report has none. */
double eval_report_get(const struct eval_report *r, const char *name);

void eval_report_print(FILE *f, const struct eval_report *r);
ufo_status eval_report_write_json(const char *path, const struct eval_report *r);

/* Several reports in one JSON object: the `n_meta` string pairs meta[2i]: meta[2i + 1] (model,
 * task, ...), then "results": one object per report with "set": sets[i] and the fields
 * eval_report_write_json writes. */
ufo_status eval_reports_write_json(const char *path, const char *const *meta, size_t n_meta,
                                   const char *const *sets, const struct eval_report *r,
                                   size_t n);

/* Per-query scores from the 1-based positions of the n true matches, ascending. */
double eval_ap(const uint32_t *position, size_t n);        /* mean of precision at each hit */
double eval_ap_market(const uint32_t *position, size_t n); /* trapezoid, official Market code */
double eval_inp(const uint32_t *position, size_t n);       /* n / position of the last hit */

/* The ranks at which CMC or Recall@K is reported: the wanted ranks clamped to `limit`
 * (the gallery size), without repeats. Returns how many were written to `out`. */
size_t eval_clamp_ranks(const size_t *wanted, size_t n_wanted, size_t limit, size_t *out);

/* Re-identification metrics from a ranking with all true matches: CMC at ranks 1/5/10 clamped
 * to n_gallery, mAP and mINP (official: the Market-1501 trapezoid AP, no mINP). Queries with no
 * true match are skipped and counted; if every query is skipped, that is an error. */
ufo_status eval_reid_report(const struct eval_ranking *ranking, size_t n_gallery, int official,
                            struct eval_report *out);

/* Re-identification of queries against a gallery (labels with cameras). */
ufo_status eval_reid(const struct eval_scorer *scorer, const struct eval_rank_task *task,
                     int official, struct eval_report *out);

/* Stanford Online Products: each of n images queries the other n-1 by cosine similarity;
 * Recall@1/10/100/1000 (clamped to n-1). An image alone in its class counts as a miss. */
ufo_status eval_sop(const struct eval_scorer *scorer, const float *features, size_t n,
                    size_t dim, const int64_t *class_id, struct eval_report *out);

/* VehicleID: per draw, one image of each identity (chosen with Philox keyed by seed and draw)
 * is the gallery and the rest are queries; CMC at 1/5/10 and mAP averaged over `draws`. */
ufo_status eval_vehicleid(const struct eval_scorer *scorer, const float *features, size_t n,
                          size_t dim, const int64_t *id, enum eval_distance distance,
                          unsigned draws, uint64_t seed, struct eval_report *out);

/* The gallery row chosen for identity number `ident` (0-based, identities in increasing id
 * order) among `count` images in draw `draw`. */
size_t eval_vehicleid_pick(uint64_t seed, unsigned draw, size_t ident, size_t count);

/* One verification pair: two feature rows and whether they show the same person. */
struct eval_pair {
    size_t a, b;
    int same;
};

/* Face verification: rows are L2-normalised (after adding the mirrored image's feature when
 * `flip` is given), pairs compared by squared Euclidean distance, thresholds 0.00..3.99 step
 * 0.01, `folds` contiguous folds (sizes as scikit-learn's KFold without shuffling): the best
 * threshold on the other folds (the smallest on ties) is applied to each fold. Reports mean
 * accuracy, its standard deviation over folds (population) and the mean threshold. */
ufo_status eval_verify(const float *features, const float *flip, size_t n, size_t dim,
                       const struct eval_pair *pairs, size_t n_pairs, int folds,
                       struct eval_report *out);

#endif
