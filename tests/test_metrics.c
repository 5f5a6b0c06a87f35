/* Metrics on the host path: hand-computed cases, edge cases, and random cases checked against
 * straightforward implementations written here (full sort of the gallery in double). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/metrics.h"

static int failures;

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            if (failures++ < 20) {                                               \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);             \
                fprintf(stderr, __VA_ARGS__);                                    \
                fprintf(stderr, "\n");                                           \
            }                                                                    \
        }                                                                        \
    } while (0)

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))

static const struct eval_scorer host = {0};

/* a small deterministic generator for the random cases */
static uint64_t rng_state = 88172645463325252ULL;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}
static double rnd_unit(void) {
    return rnd() / 2147483648.0 - 1.0;
}

/* Reference ranking of query q: valid gallery items sorted by score (ties by index). */
struct ref_item {
    double score;
    size_t g;
};
static int ref_cmp(const void *a, const void *b) {
    const struct ref_item *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->g < y->g ? -1 : 1;
}

/* Score in double: cosine on rows normalised here, or minus the squared distance. */
static double ref_score(const float *q, const float *g, size_t dim, int cosine) {
    double dot = 0, qq = 0, gg = 0, d2 = 0;
    for (size_t k = 0; k < dim; k++) {
        dot += (double)q[k] * g[k];
        qq += (double)q[k] * q[k];
        gg += (double)g[k] * g[k];
        d2 += ((double)q[k] - g[k]) * ((double)q[k] - g[k]);
    }
    if (!cosine) return -d2;
    return dot / (fmax(sqrt(qq), 1e-12) * fmax(sqrt(gg), 1e-12));
}

/* Reference re-id metrics the way the usual evaluation loop does them, including the official
 * Market-1501 loop over the full ranking with junk skipped. */
struct ref_reid {
    double cmc[10], map, map_market, minp;
    size_t valid;
};
static void ref_reid(const struct eval_rank_task *t, struct ref_reid *out) {
    memset(out, 0, sizeof *out);
    struct ref_item *items = malloc(t->n_gallery * sizeof *items);
    for (size_t q = 0; q < t->n_query; q++) {
        for (size_t g = 0; g < t->n_gallery; g++) {
            items[g].score = ref_score(t->query + q * t->dim, t->gallery + g * t->dim, t->dim,
                                       t->distance == EVAL_COSINE);
            items[g].g = g;
        }
        qsort(items, t->n_gallery, sizeof *items, ref_cmp);

        /* torchreid style: drop junk, relevance vector, cumulative sums */
        size_t n_good = 0, seen = 0, hits = 0, first = 0, last = 0;
        double ap = 0;
        for (size_t i = 0; i < t->n_gallery; i++) {
            size_t g = items[i].g;
            int same = t->gallery_id[g] == t->query_id[q];
            int junk = t->gallery_id[g] < 0 ||
                       (same && t->gallery_camera[g] == t->query_camera[q]);
            if (junk) continue;
            seen++;
            if (same) {
                hits++;
                if (!first) first = seen;
                last = seen;
                ap += (double)hits / seen;
            }
        }
        n_good = hits;
        if (n_good == 0 || t->query_id[q] < 0) continue;
        out->valid++;
        for (size_t r = 0; r < 10; r++) out->cmc[r] += first <= r + 1;
        out->map += ap / n_good;
        out->minp += (double)n_good / last;

        /* the official loop: trapezoids, junk skipped without moving the position */
        double old_recall = 0, old_precision = 1, apm = 0;
        size_t j = 0, inter = 0;
        for (size_t i = 0; i < t->n_gallery; i++) {
            size_t g = items[i].g;
            int same = t->gallery_id[g] == t->query_id[q];
            int junk = t->gallery_id[g] < 0 ||
                       (same && t->gallery_camera[g] == t->query_camera[q]);
            if (junk) continue;
            if (same) inter++;
            double recall = (double)inter / n_good, precision = (double)inter / (j + 1);
            apm += (recall - old_recall) * (old_precision + precision) / 2;
            old_recall = recall;
            old_precision = precision;
            j++;
            if (inter == n_good) break;
        }
        out->map_market += apm;
    }
    free(items);
    if (out->valid) {
        for (size_t r = 0; r < 10; r++) out->cmc[r] /= out->valid;
        out->map /= out->valid;
        out->map_market /= out->valid;
        out->minp /= out->valid;
    }
}

static void test_hand_ap(void) {
    uint32_t a[] = {1, 3, 6}, b[] = {2}, c[] = {3, 4};
    CHECK(NEAR(eval_ap(a, 3), (1.0 + 2.0 / 3 + 0.5) / 3, 1e-15), "AP 101001 = %.17g",
          eval_ap(a, 3));
    CHECK(NEAR(eval_ap(a, 3), 0.7222222222222222, 1e-15), "AP 101001");
    CHECK(NEAR(eval_ap(b, 1), 0.5, 1e-15), "AP 01 = %g", eval_ap(b, 1));
    CHECK(NEAR(eval_ap(c, 2), 0.4166666666666667, 1e-15), "AP 0011 = %g", eval_ap(c, 2));
    CHECK(NEAR(eval_inp(a, 3), 0.5, 1e-15), "INP 101001 = %g", eval_inp(a, 3));
    CHECK(NEAR(eval_inp(c, 2), 0.5, 1e-15), "INP 0011 = %g", eval_inp(c, 2));
    /* official trapezoid by hand: (1+1)/2, (1/2+2/3)/2, (2/5+3/6)/2, mean of the three */
    double m = ((1.0 + 1.0) / 2 + (0.5 + 2.0 / 3) / 2 + (0.4 + 0.5) / 2) / 3;
    CHECK(NEAR(eval_ap_market(a, 3), m, 1e-15), "Market AP 101001 = %.17g, expected %.17g",
          eval_ap_market(a, 3), m);
    CHECK(NEAR(eval_ap_market(b, 1), 0.25, 1e-15), "Market AP 01 = %g", eval_ap_market(b, 1));

    size_t wanted[] = {1, 5, 10}, got[3];
    size_t n = eval_clamp_ranks(wanted, 3, 3, got);
    CHECK(n == 2 && got[0] == 1 && got[1] == 3, "clamp to 3: %zu ranks", n);
    n = eval_clamp_ranks(wanted, 3, 100, got);
    CHECK(n == 3 && got[2] == 10, "no clamp: %zu ranks", n);
}

/* A hand-made re-id case in one dimension with Euclidean distance (scores are exact). */
static void test_hand_reid(void) {
    /* gallery positions on a line; the query sits at 0 */
    float gallery[] = {3, 1, 1, 2, 5, 4, 0.5f};
    int64_t gid[] = {7, 7, 9, 7, -1, 8, 7};
    int64_t gcam[] = {1, 2, 1, 1, 1, 1, 5};
    float query[] = {0, 100};
    int64_t qid[] = {7, 3}, qcam[] = {5, 1};
    /* query 0: item 6 (same id, same camera 5) is removed; ranking of the rest by distance:
     * item 1 (1, id 7), item 2 (1, id 9: tie, higher index), item 3 (2, id 7), item 0 (3, id 7),
     * item 5 (4), item 4 junk. Relevance 1 0 1 1 0 -> positions 1, 3, 4.
     * query 1 has no identity 3 in the gallery: skipped. */
    struct eval_rank_task t = {
        .query = query, .gallery = gallery, .n_query = 2, .n_gallery = 7, .dim = 1,
        .query_id = qid, .query_camera = qcam, .gallery_id = gid, .gallery_camera = gcam,
        .distance = EVAL_EUCLIDEAN,
    };
    struct eval_report r;
    CHECK(eval_reid(&host, &t, 0, &r) == UFO_OK, "hand reid: %s", ufo_last_error());
    double ap = (1.0 + 2.0 / 3 + 3.0 / 4) / 3;
    CHECK(NEAR(eval_report_get(&r, "mAP"), ap, 1e-12), "hand mAP %.15g, expected %.15g",
          eval_report_get(&r, "mAP"), ap);
    CHECK(NEAR(eval_report_get(&r, "mINP"), 0.75, 1e-12), "hand mINP %g",
          eval_report_get(&r, "mINP"));
    CHECK(eval_report_get(&r, "rank-1") == 1.0, "hand rank-1 %g", eval_report_get(&r, "rank-1"));
    CHECK(eval_report_get(&r, "skipped queries") == 1, "skipped %g",
          eval_report_get(&r, "skipped queries"));
    CHECK(eval_report_get(&r, "queries") == 1, "queries %g", eval_report_get(&r, "queries"));
    CHECK(eval_report_get(&r, "rank-5") == 1.0 && eval_report_get(&r, "rank-7") == 1.0,
          "gallery of 7: rank-5 %g, rank-7 %g", eval_report_get(&r, "rank-5"),
          eval_report_get(&r, "rank-7"));
    CHECK(isnan(eval_report_get(&r, "rank-10")), "rank-10 reported for a gallery of 7");

    /* with the tie the other way round: the true match at index 2 beats a stranger at 1 */
    int64_t gid2[] = {7, 9, 7, 7, -1, 8, 7};
    t.gallery_id = gid2;
    CHECK(eval_reid(&host, &t, 0, &r) == UFO_OK, "tie case: %s", ufo_last_error());
    ap = (1.0 + 2.0 / 3 + 3.0 / 4) / 3; /* 1 0 1 1 again: item 0 at 1, item 1 stranger */
    /* ranking: item 1 (d1, id 9), item 2 (d1, id 7) -> 0 1 1 1 (items 1, 2, 3, 0) */
    ap = (1.0 / 2 + 2.0 / 3 + 3.0 / 4) / 3;
    CHECK(NEAR(eval_report_get(&r, "mAP"), ap, 1e-12), "tie mAP %.15g, expected %.15g",
          eval_report_get(&r, "mAP"), ap);
    CHECK(eval_report_get(&r, "rank-1") == 0.0, "tie rank-1 %g", eval_report_get(&r, "rank-1"));

    /* official variant on the first case: positions 1, 3, 4 */
    t.gallery_id = gid;
    CHECK(eval_reid(&host, &t, 1, &r) == UFO_OK, "official: %s", ufo_last_error());
    double apm = ((1.0 + 1.0) / 2 + (0.5 + 2.0 / 3) / 2 + (2.0 / 3 + 3.0 / 4) / 2) / 3;
    CHECK(NEAR(eval_report_get(&r, "mAP"), apm, 1e-12), "official mAP %.15g, expected %.15g",
          eval_report_get(&r, "mAP"), apm);
    CHECK(strcmp(r.metric, "market-official") == 0, "official label '%s'", r.metric);

    /* every query without a match: an error */
    int64_t qid3[] = {3, 4};
    t.query_id = qid3;
    CHECK(eval_reid(&host, &t, 0, &r) == UFO_ERR_INVALID, "all skipped was accepted");

    /* gallery smaller than rank 5: CMC clamped to rank 2 */
    int64_t qid4[] = {7, 9};
    t.query_id = qid4;
    t.n_gallery = 2;
    CHECK(eval_reid(&host, &t, 0, &r) == UFO_OK, "small gallery: %s", ufo_last_error());
    CHECK(eval_report_get(&r, "rank-2") == 1.0 && isnan(eval_report_get(&r, "rank-5")),
          "small gallery ranks: rank-2 %g", eval_report_get(&r, "rank-2"));
}

/* Random re-id sets against the reference loop, on both distances; integer features make the
 * Euclidean case full of exact ties. */
static void test_random_reid(void) {
    for (int trial = 0; trial < 6; trial++) {
        size_t nq = 30 + rnd() % 20, ng = 100 + rnd() % 150, dim = 3 + rnd() % 12;
        int euclid = trial % 2;
        float *q = malloc(nq * dim * sizeof *q), *g = malloc(ng * dim * sizeof *g);
        int64_t *qid = malloc(nq * 8), *qcam = malloc(nq * 8);
        int64_t *gid = malloc(ng * 8), *gcam = malloc(ng * 8);
        for (size_t i = 0; i < nq * dim; i++)
            q[i] = euclid ? (float)(rnd() % 5) - 2 : (float)rnd_unit();
        for (size_t i = 0; i < ng * dim; i++)
            g[i] = euclid ? (float)(rnd() % 5) - 2 : (float)rnd_unit();
        for (size_t i = 0; i < nq; i++) qid[i] = rnd() % 25, qcam[i] = rnd() % 4;
        for (size_t i = 0; i < ng; i++) {
            gid[i] = rnd() % 10 == 0 ? -1 : (int64_t)(rnd() % 25);
            gcam[i] = rnd() % 4;
        }
        struct eval_rank_task t = {
            .query = q, .gallery = g, .n_query = nq, .n_gallery = ng, .dim = dim,
            .query_id = qid, .query_camera = qcam, .gallery_id = gid, .gallery_camera = gcam,
            .distance = euclid ? EVAL_EUCLIDEAN : EVAL_COSINE,
        };
        struct ref_reid ref;
        ref_reid(&t, &ref);
        struct eval_report r, ro;
        CHECK(eval_reid(&host, &t, 0, &r) == UFO_OK, "trial %d: %s", trial, ufo_last_error());
        CHECK(eval_reid(&host, &t, 1, &ro) == UFO_OK, "trial %d: %s", trial, ufo_last_error());
        CHECK(eval_report_get(&r, "queries") == ref.valid, "trial %d: %g valid queries, "
              "expected %zu", trial, eval_report_get(&r, "queries"), ref.valid);
        CHECK(NEAR(eval_report_get(&r, "mAP"), ref.map, 1e-12), "trial %d: mAP %.15g vs %.15g",
              trial, eval_report_get(&r, "mAP"), ref.map);
        CHECK(NEAR(eval_report_get(&r, "mINP"), ref.minp, 1e-12), "trial %d: mINP %.15g vs "
              "%.15g", trial, eval_report_get(&r, "mINP"), ref.minp);
        CHECK(NEAR(eval_report_get(&ro, "mAP"), ref.map_market, 1e-12), "trial %d: official "
              "mAP %.15g vs %.15g", trial, eval_report_get(&ro, "mAP"), ref.map_market);
        const int ranks[] = {1, 5, 10};
        for (int i = 0; i < 3; i++) {
            char name[16];
            snprintf(name, sizeof name, "rank-%d", ranks[i]);
            CHECK(NEAR(eval_report_get(&r, name), ref.cmc[ranks[i] - 1], 1e-12),
                  "trial %d: %s %g vs %g", trial, name, eval_report_get(&r, name),
                  ref.cmc[ranks[i] - 1]);
        }
        free(q);
        free(g);
        free(qid);
        free(qcam);
        free(gid);
        free(gcam);
    }
}

/* SOP Recall@K against a full sort per query, itself excluded. */
static void test_random_sop(void) {
    size_t n = 180, dim = 6;
    float *x = malloc(n * dim * sizeof *x);
    int64_t *cls = malloc(n * sizeof *cls);
    for (size_t i = 0; i < n * dim; i++) x[i] = (float)rnd_unit();
    for (size_t i = 0; i < n; i++) cls[i] = rnd() % 50; /* some classes have one image */
    struct eval_report r;
    CHECK(eval_sop(&host, x, n, dim, cls, &r) == UFO_OK, "sop: %s", ufo_last_error());

    size_t hits[4] = {0}, ks[4] = {1, 10, 100, 179};
    struct ref_item *items = malloc(n * sizeof *items);
    for (size_t q = 0; q < n; q++) {
        size_t m = 0;
        for (size_t g = 0; g < n; g++) {
            if (g == q) continue;
            items[m].score = ref_score(x + q * dim, x + g * dim, dim, 1);
            items[m++].g = g;
        }
        qsort(items, m, sizeof *items, ref_cmp);
        for (int k = 0; k < 4; k++)
            for (size_t i = 0; i < ks[k]; i++)
                if (cls[items[i].g] == cls[q]) {
                    hits[k]++;
                    break;
                }
    }
    const char *names[] = {"recall@1", "recall@10", "recall@100", "recall@179"};
    for (int k = 0; k < 4; k++)
        CHECK(NEAR(eval_report_get(&r, names[k]), (double)hits[k] / n, 1e-12),
              "%s %g vs %g", names[k], eval_report_get(&r, names[k]), (double)hits[k] / n);
    CHECK(isnan(eval_report_get(&r, "recall@1000")), "recall@1000 reported for 180 images");
    free(items);
    free(x);
    free(cls);
}

/* VehicleID: picks in range and varying by draw; metrics against a reference over the same
 * splits. */
static void test_vehicleid(void) {
    size_t n = 120, dim = 5, draws = 3;
    float *x = malloc(n * dim * sizeof *x);
    int64_t *id = malloc(n * sizeof *id);
    for (size_t i = 0; i < n * dim; i++) x[i] = (float)rnd_unit();
    for (size_t i = 0; i < n; i++) id[i] = 100 + rnd() % 30;

    size_t differ = 0;
    for (size_t k = 0; k < 50; k++) {
        size_t a = eval_vehicleid_pick(7, 0, k, 5), b = eval_vehicleid_pick(7, 1, k, 5);
        CHECK(a < 5 && b < 5, "pick out of range: %zu %zu", a, b);
        CHECK(a == eval_vehicleid_pick(7, 0, k, 5), "pick is not deterministic");
        differ += a != b;
    }
    CHECK(differ > 20, "draws 0 and 1 agree on %zu of 50 picks", 50 - differ);

    struct eval_report r;
    CHECK(eval_vehicleid(&host, x, n, dim, id, EVAL_COSINE, (unsigned)draws, 7, &r) == UFO_OK,
          "vehicleid: %s", ufo_last_error());

    /* reference: identities in increasing order, rows in file order within each */
    double r1 = 0, r5 = 0, map = 0;
    int64_t ids[30];
    size_t n_ids = 0;
    for (int64_t v = 100; v < 130; v++)
        for (size_t i = 0; i < n; i++)
            if (id[i] == v) {
                ids[n_ids++] = v;
                break;
            }
    for (size_t d = 0; d < draws; d++) {
        size_t gal[30];
        for (size_t k = 0; k < n_ids; k++) {
            size_t count = 0;
            for (size_t i = 0; i < n; i++) count += id[i] == ids[k];
            size_t pick = eval_vehicleid_pick(7, (unsigned)d, k, count), j = 0;
            for (size_t i = 0; i < n; i++)
                if (id[i] == ids[k] && j++ == pick) gal[k] = i;
        }
        size_t nq = 0, h1 = 0, h5 = 0;
        double ap = 0;
        for (size_t i = 0; i < n; i++) {
            int is_gal = 0;
            for (size_t k = 0; k < n_ids; k++) is_gal |= gal[k] == i;
            if (is_gal) continue;
            nq++;
            double s = 0;
            size_t k_true = 0;
            for (size_t k = 0; k < n_ids; k++)
                if (ids[k] == id[i]) k_true = k;
            s = ref_score(x + i * dim, x + gal[k_true] * dim, dim, 1);
            size_t rank = 1;
            for (size_t k = 0; k < n_ids; k++) {
                double o = ref_score(x + i * dim, x + gal[k] * dim, dim, 1);
                if (k != k_true && (o > s || (o == s && k < k_true))) rank++;
            }
            h1 += rank <= 1;
            h5 += rank <= 5;
            ap += 1.0 / rank;
        }
        r1 += (double)h1 / nq / draws;
        r5 += (double)h5 / nq / draws;
        map += ap / nq / draws;
    }
    CHECK(NEAR(eval_report_get(&r, "rank-1"), r1, 1e-12), "vehicleid rank-1 %g vs %g",
          eval_report_get(&r, "rank-1"), r1);
    CHECK(NEAR(eval_report_get(&r, "rank-5"), r5, 1e-12), "vehicleid rank-5 %g vs %g",
          eval_report_get(&r, "rank-5"), r5);
    CHECK(NEAR(eval_report_get(&r, "mAP"), map, 1e-12), "vehicleid mAP %g vs %g",
          eval_report_get(&r, "mAP"), map);
    free(x);
    free(id);
}

/* Verification: a hand-made case whose folds are worked out by hand, and random distances
 * against a plain re-implementation. */
static void put_unit(float *row, double cosine) {
    row[0] = (float)cosine;
    row[1] = (float)sqrt(1 - cosine * cosine);
}

static void test_verify(void) {
    /* 20 pairs, 10 folds of 2: same pairs at squared distance 0.955, different ones at 3.005,
     * except pair 0 (same) at 2.005. Fold 1 trains on clean folds (threshold 0.96) and gets
     * pair 0 wrong; the others learn 2.01 and get everything right. */
    size_t np = 20;
    float *x = calloc(4 * np, sizeof *x), *half = calloc(4 * np, sizeof *half);
    struct eval_pair pairs[20];
    for (size_t i = 0; i < np; i++) {
        int same = i % 2 == 0;
        double d = i == 0 ? 2.005 : same ? 0.955 : 3.005;
        put_unit(x + 4 * i, 1);
        put_unit(x + 4 * i + 2, 1 - d / 2);
        pairs[i] = (struct eval_pair){2 * i, 2 * i + 1, same};
    }
    struct eval_report r;
    CHECK(eval_verify(x, NULL, 2 * np, 2, pairs, np, 10, &r) == UFO_OK, "verify: %s",
          ufo_last_error());
    CHECK(NEAR(eval_report_get(&r, "accuracy"), 0.95, 1e-12), "accuracy %.15g",
          eval_report_get(&r, "accuracy"));
    CHECK(NEAR(eval_report_get(&r, "accuracy std"), 0.15, 1e-12), "std %.15g",
          eval_report_get(&r, "accuracy std"));
    CHECK(NEAR(eval_report_get(&r, "threshold"), 1.905, 1e-12), "threshold %.15g",
          eval_report_get(&r, "threshold"));
    CHECK(eval_report_get(&r, "fold-1 accuracy") == 0.5, "fold 1 %g",
          eval_report_get(&r, "fold-1 accuracy"));

    /* mirrored features: the sum, not either half, decides (halves scaled differently) */
    for (size_t i = 0; i < 4 * np; i++) {
        half[i] = 0.25f * x[i] + (i % 2 ? 0.3f : -0.3f);
        x[i] = 0.75f * x[i] - (i % 2 ? 0.3f : -0.3f);
    }
    CHECK(eval_verify(x, half, 2 * np, 2, pairs, np, 10, &r) == UFO_OK, "flip: %s",
          ufo_last_error());
    CHECK(NEAR(eval_report_get(&r, "accuracy"), 0.95, 1e-6) &&
          NEAR(eval_report_get(&r, "threshold"), 1.905, 1e-9), "flip: accuracy %g, "
          "threshold %g", eval_report_get(&r, "accuracy"), eval_report_get(&r, "threshold"));
    free(x);
    free(half);

    /* random: 103 pairs (uneven folds) against a plain k-fold loop */
    size_t n = 206, dim = 4, npr = 103;
    float *f = malloc(n * dim * sizeof *f);
    struct eval_pair *pr = malloc(npr * sizeof *pr);
    for (size_t i = 0; i < n * dim; i++) f[i] = (float)rnd_unit();
    for (size_t i = 0; i < npr; i++) pr[i] = (struct eval_pair){2 * i, 2 * i + 1, rnd() % 2};
    for (size_t i = 0; i < npr; i++)
        if (pr[i].same) /* pull same pairs closer so the threshold matters */
            for (size_t k = 0; k < dim; k++)
                f[(2 * i + 1) * dim + k] = 0.8f * f[2 * i * dim + k] + 0.2f * f[(2 * i + 1) * dim + k];
    CHECK(eval_verify(f, NULL, n, dim, pr, npr, 10, &r) == UFO_OK, "random verify: %s",
          ufo_last_error());
    double dist[103];
    for (size_t i = 0; i < npr; i++) {
        double s = ref_score(f + pr[i].a * dim, f + pr[i].b * dim, dim, 1);
        dist[i] = 2 - 2 * s;
    }
    size_t bounds[11] = {0};
    for (int k = 0; k < 10; k++) bounds[k + 1] = bounds[k] + (k < 3 ? 11 : 10);
    double accs[10], mean = 0, thr = 0;
    for (int k = 0; k < 10; k++) {
        int best = -1;
        size_t best_right = 0;
        for (int ti = 0; ti < 400; ti++) {
            size_t right = 0;
            for (size_t i = 0; i < npr; i++)
                if (i < bounds[k] || i >= bounds[k + 1])
                    right += (dist[i] < ti * 0.01) == pr[i].same;
            if (best < 0 || right > best_right) best = ti, best_right = right;
        }
        size_t right = 0;
        for (size_t i = bounds[k]; i < bounds[k + 1]; i++)
            right += (dist[i] < best * 0.01) == pr[i].same;
        accs[k] = (double)right / (bounds[k + 1] - bounds[k]);
        mean += accs[k] / 10;
        thr += best * 0.01 / 10;
    }
    double var = 0;
    for (int k = 0; k < 10; k++) var += (accs[k] - mean) * (accs[k] - mean) / 10;
    CHECK(NEAR(eval_report_get(&r, "accuracy"), mean, 1e-12), "random accuracy %g vs %g",
          eval_report_get(&r, "accuracy"), mean);
    CHECK(NEAR(eval_report_get(&r, "accuracy std"), sqrt(var), 1e-9), "random std %g vs %g",
          eval_report_get(&r, "accuracy std"), sqrt(var));
    CHECK(NEAR(eval_report_get(&r, "threshold"), thr, 1e-12), "random threshold %g vs %g",
          eval_report_get(&r, "threshold"), thr);

    /* bad arguments */
    pr[5].b = n;
    CHECK(eval_verify(f, NULL, n, dim, pr, npr, 10, &r) == UFO_ERR_INVALID,
          "pair beyond the features accepted");
    CHECK(eval_verify(f, NULL, n, dim, pr, 5, 10, &r) == UFO_ERR_INVALID,
          "5 pairs in 10 folds accepted");
    free(f);
    free(pr);
}

int main(void) {
    test_hand_ap();
    test_hand_reid();
    test_random_reid();
    test_random_sop();
    test_vehicleid();
    test_verify();
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
