/* Metric scoring at benchmark scale on the chosen device: SOP Recall@K over 60,502 × 768
 * features and Market-1501-sized re-id mAP (3,368 queries, 15,913 gallery items). Features are
 * synthetic (identity centres plus noise), written out with --save so that bench/eval_peer.py
 * scores the same arrays with numpy and prints the ratio.
 *
 *   make bench && bench/eval [--device SPEC] [--sop N] [--market NQ NG] [--dim D] [--save DIR]
 *   bench/eval_run.sh [same options]    (this program, then the numpy peer, then the ratio) */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <Random123/philox.h>

#include <ufo/ufo.h>
#include <ufo/device.h>

#include "eval/metrics.h"
#include "io/labels.h"
#include "io/npy.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A standard normal draw for (stream, index), Box-Muller on two Philox words. */
static float normal(uint32_t stream, uint64_t index) {
    philox4x32_key_t key = {{stream, 0x5eed}};
    philox4x32_ctr_t ctr = {{(uint32_t)index, (uint32_t)(index >> 32), 0, 0}};
    philox4x32_ctr_t r = philox4x32(ctr, key);
    double u1 = (r.v[0] + 1.0) / 4294967297.0, u2 = r.v[1] / 4294967296.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

/* Row i = centre of its identity + 3 × noise, so that ranks spread over the gallery. */
static float *make_features(uint32_t stream, size_t n, size_t dim, const int64_t *id) {
    float *x = malloc(n * dim * sizeof *x);
    if (!x) return NULL;
    for (size_t i = 0; i < n; i++) {
        int64_t c = id[i] < 0 ? (int64_t)(1000000 + i) : id[i];
        for (size_t k = 0; k < dim; k++)
            x[i * dim + k] = normal(1, (uint64_t)c * dim + k) +
                             3.0f * normal(stream, (uint64_t)i * dim + k);
    }
    return x;
}

static int save(const char *dir, const char *name, const float *x, size_t n, size_t dim,
                const int64_t *id, const int64_t *cam) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    if (io_npy_write_matrix(path, x, n, dim) != UFO_OK) return 0;
    unsigned char *split = calloc(n, 1);
    int64_t *nocam = malloc(n * sizeof *nocam);
    for (size_t i = 0; i < n; i++) nocam[i] = -1;
    struct io_labels l = {n, (int64_t *)id, cam ? (int64_t *)cam : nocam, split};
    snprintf(path, sizeof path, "%s/%s.txt", dir, name);
    ufo_status st = io_labels_write(path, &l);
    free(split);
    free(nocam);
    return st == UFO_OK;
}

int main(int argc, char **argv) {
    const char *spec = NULL, *dir = NULL;
    size_t n_sop = 60502, nq = 3368, ng = 15913, dim = 768;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) spec = argv[++i];
        else if (strcmp(argv[i], "--save") == 0 && i + 1 < argc) dir = argv[++i];
        else if (strcmp(argv[i], "--sop") == 0 && i + 1 < argc) n_sop = strtoul(argv[++i], 0, 10);
        else if (strcmp(argv[i], "--dim") == 0 && i + 1 < argc) dim = strtoul(argv[++i], 0, 10);
        else if (strcmp(argv[i], "--market") == 0 && i + 2 < argc) {
            nq = strtoul(argv[++i], 0, 10);
            ng = strtoul(argv[++i], 0, 10);
        } else {
            fprintf(stderr, "usage: bench/eval [--device SPEC] [--sop N] [--market NQ NG] "
                    "[--dim D] [--save DIR]\n");
            return 2;
        }
    }
    ufo_device *dev;
    if (ufo_device_open(spec, &dev) != UFO_OK) {
        fprintf(stderr, "bench/eval: %s\n", ufo_last_error());
        return 1;
    }
    const struct ufo_device_caps *caps = ufo_device_caps(dev);
    printf("device %s (%s)\n", caps->spec, caps->name);
    struct eval_scorer sc = {dev, 0, 0};
    struct eval_report rep;

    /* synthetic sets: SOP ~5.3 images per class; Market 751 identities, 6 cameras, junk */
    int64_t *sop_id = malloc(n_sop * sizeof *sop_id);
    for (size_t i = 0; i < n_sop; i++) sop_id[i] = (int64_t)(i * 11316 / 60502);
    int64_t *qid = malloc(nq * 8), *qcam = malloc(nq * 8), *gid = malloc(ng * 8);
    int64_t *gcam = malloc(ng * 8);
    for (size_t i = 0; i < nq; i++) qid[i] = (int64_t)(i % 750), qcam[i] = (int64_t)(i % 6);
    for (size_t i = 0; i < ng; i++) {
        gid[i] = i % 50 == 7 ? -1 : (int64_t)((i * 7919) % 751);
        gcam[i] = (int64_t)((i / 3) % 6);
    }
    double t0 = now();
    float *sop = make_features(2, n_sop, dim, sop_id);
    float *q = make_features(3, nq, dim, qid), *g = make_features(4, ng, dim, gid);
    printf("generated features in %.1f s\n", now() - t0);
    if (dir && (!save(dir, "sop", sop, n_sop, dim, sop_id, NULL) ||
                !save(dir, "query", q, nq, dim, qid, qcam) ||
                !save(dir, "gallery", g, ng, dim, gid, gcam))) {
        fprintf(stderr, "bench/eval: %s\n", ufo_last_error());
        return 1;
    }

    /* warm-up on a small slice so kernel builds stay out of the timings */
    struct eval_rank_task w = {.query = q, .gallery = g, .n_query = 16, .n_gallery = 64,
                               .dim = dim, .query_id = qid, .query_camera = qcam,
                               .gallery_id = gid, .gallery_camera = gcam};
    struct eval_ranking rk;
    if (eval_rank(&sc, &w, &rk) == UFO_OK) eval_ranking_free(&rk);
    w.distance = EVAL_EUCLIDEAN;
    if (eval_rank(&sc, &w, &rk) == UFO_OK) eval_ranking_free(&rk);

    /* SOP */
    t0 = now();
    if (eval_sop(&sc, sop, n_sop, dim, sop_id, &rep) != UFO_OK) {
        fprintf(stderr, "bench/eval: sop: %s\n", ufo_last_error());
        return 1;
    }
    double t_sop = now() - t0;
    eval_report_print(stdout, &rep);
    printf("sop %zu x %zu: %.3f s\n", n_sop, dim, t_sop);

    /* Market */
    struct eval_rank_task t = {.query = q, .gallery = g, .n_query = nq, .n_gallery = ng,
                               .dim = dim, .query_id = qid, .query_camera = qcam,
                               .gallery_id = gid, .gallery_camera = gcam};
    t0 = now();
    if (eval_reid(&sc, &t, 0, &rep) != UFO_OK) {
        fprintf(stderr, "bench/eval: reid: %s\n", ufo_last_error());
        return 1;
    }
    double t_market = now() - t0;
    eval_report_print(stdout, &rep);
    printf("market %zu x %zu x %zu: %.3f s\n", nq, ng, dim, t_market);
    printf("SECONDS sop=%.4f market=%.4f\n", t_sop, t_market);

    free(sop);
    free(q);
    free(g);
    free(sop_id);
    free(qid);
    free(qcam);
    free(gid);
    free(gcam);
    ufo_device_close(dev);
    return 0;
}
