/* The device ranking path against the host path on random sets: the rank positions of every
 * true match must agree, with blocks smaller than the sets (several query and gallery blocks,
 * a ragged last block) and with the default blocks. Integer features make the Euclidean cases
 * exact and full of ties, which the two paths must break the same way. */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "check.h"
#include "eval/metrics.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

/* Rank one task on the host and on the device with the given blocks; compare positions. */
static void compare(ufo_device *dev, const struct eval_rank_task *t, size_t bq, size_t bg,
                    const char *what) {
    struct eval_scorer host = {0}, device = {dev, bq, bg};
    struct eval_ranking a, b;
    REQUIRE_OK(eval_rank(&host, t, &a));
    REQUIRE_OK(eval_rank(&device, t, &b));
    int shown = 0;
    size_t wrong = 0;
    for (size_t q = 0; q < t->n_query; q++) {
        EXPECT(a.offset[q + 1] - a.offset[q] == b.offset[q + 1] - b.offset[q],
               "%s: query %zu has %zu matches on the host, %zu on the device", what, q,
               a.offset[q + 1] - a.offset[q], b.offset[q + 1] - b.offset[q]);
        if (a.offset[q] != b.offset[q] || a.offset[q + 1] != b.offset[q + 1]) continue;
        for (size_t i = a.offset[q]; i < a.offset[q + 1]; i++)
            if (a.position[i] != b.position[i]) {
                wrong++;
                if (shown++ < 5)
                    fprintf(stderr, "%s: query %zu match %zu: position %u on the host, %u on "
                            "the device\n", what, q, i - a.offset[q], a.position[i],
                            b.position[i]);
            }
    }
    EXPECT(wrong == 0, "%s: %zu positions differ", what, wrong);
    eval_ranking_free(&a);
    eval_ranking_free(&b);
}

int main(void) {
    ufo_device *dev = test_open_device();
    for (int trial = 0; trial < 4; trial++) {
        int euclid = trial % 2 == 1, sop = trial >= 2;
        size_t nq = 150 + rnd() % 50, ng = sop ? nq : 700 + rnd() % 300, dim = 5 + rnd() % 40;
        float *q = malloc(nq * dim * sizeof *q), *g = malloc(ng * dim * sizeof *g);
        int64_t *qid = malloc(nq * 8), *qcam = malloc(nq * 8), *self = malloc(nq * 8);
        int64_t *gid = malloc(ng * 8), *gcam = malloc(ng * 8);
        for (size_t i = 0; i < nq * dim; i++)
            q[i] = euclid ? (float)(rnd() % 3) - 1 : (float)(rnd() % 2001) / 1000 - 1;
        for (size_t i = 0; i < ng * dim; i++)
            g[i] = euclid ? (float)(rnd() % 3) - 1 : (float)(rnd() % 2001) / 1000 - 1;
        for (size_t i = 0; i < nq; i++) qid[i] = rnd() % 40, qcam[i] = rnd() % 3, self[i] = i;
        for (size_t i = 0; i < ng; i++)
            gid[i] = rnd() % 12 == 0 ? -1 : (int64_t)(rnd() % 40), gcam[i] = rnd() % 3;
        struct eval_rank_task t = {
            .query = q, .gallery = sop ? q : g, .n_query = nq, .n_gallery = ng, .dim = dim,
            .query_id = qid, .query_camera = qcam, .gallery_id = sop ? qid : gid,
            .gallery_camera = sop ? NULL : gcam, .query_self = sop ? self : NULL,
            .distance = euclid ? EVAL_EUCLIDEAN : EVAL_COSINE,
            .drop_same_camera = !sop, .first_only = sop,
        };
        char what[64];
        snprintf(what, sizeof what, "%s %s, small blocks", sop ? "sop" : "reid",
                 euclid ? "euclidean" : "cosine");
        compare(dev, &t, 17, 97, what);
        snprintf(what, sizeof what, "%s %s, default blocks", sop ? "sop" : "reid",
                 euclid ? "euclidean" : "cosine");
        compare(dev, &t, 0, 0, what);
        free(q);
        free(g);
        free(qid);
        free(qcam);
        free(self);
        free(gid);
        free(gcam);
    }

    /* through a metric: a device report equals the host report */
    size_t n = 300, dim = 16;
    float *x = malloc(n * dim * sizeof *x);
    int64_t *cls = malloc(n * 8);
    for (size_t i = 0; i < n * dim; i++) x[i] = (float)(rnd() % 1001) / 500 - 1;
    for (size_t i = 0; i < n; i++) cls[i] = rnd() % 60;
    struct eval_scorer host = {0}, device = {dev, 64, 128};
    struct eval_report a, b;
    REQUIRE_OK(eval_sop(&host, x, n, dim, cls, &a));
    REQUIRE_OK(eval_sop(&device, x, n, dim, cls, &b));
    EXPECT(a.n_entries == b.n_entries, "sop: %zu vs %zu values", a.n_entries, b.n_entries);
    for (size_t i = 0; i < a.n_entries && i < b.n_entries; i++)
        EXPECT(a.entry[i].value == b.entry[i].value, "sop %s: host %g, device %g",
               a.entry[i].name, a.entry[i].value, b.entry[i].value);
    REQUIRE_OK(eval_vehicleid(&host, x, n, dim, cls, EVAL_EUCLIDEAN, 2, 3, &a));
    REQUIRE_OK(eval_vehicleid(&device, x, n, dim, cls, EVAL_EUCLIDEAN, 2, 3, &b));
    for (size_t i = 0; i < a.n_entries && i < b.n_entries; i++)
        EXPECT(fabs(a.entry[i].value - b.entry[i].value) < 1e-12, "vehicleid %s: host %g, "
               "device %g", a.entry[i].name, a.entry[i].value, b.entry[i].value);
    free(x);
    free(cls);
    ufo_device_close(dev);
    return test_finish("test_eval_device");
}
