/* ufo-eval: score features with a benchmark's metric; prints a table, optionally writes JSON. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ufo/ufo.h>
#include <ufo/device.h>

#include "core/log.h"
#include "eval/metrics.h"
#include "io/labels.h"
#include "io/npy.h"

static const char *usage =
    "usage: ufo-eval --metric METRIC --features F.npy [--labels L.txt] [options]\n"
    "Score precomputed features with a benchmark's metric.\n"
    "\n"
    "Metrics:\n"
    "  reid             re-identification: CMC rank-1/5/10, mAP, mINP; per query, gallery\n"
    "                   items of the same identity and camera are removed, queries without a\n"
    "                   true match are skipped (and counted)\n"
    "  market-official  re-identification as the official Market-1501 code scores it\n"
    "                   (trapezoid AP, junk ignored); no mINP\n"
    "  vehicleid        VehicleID: per draw one random image per identity is the gallery,\n"
    "                   the rest query it; CMC and mAP averaged over --draws\n"
    "  sop              Stanford Online Products: every image queries all others,\n"
    "                   Recall@1/10/100/1000 on cosine similarity\n"
    "  verify           face verification: pairs of rows, 10-fold accuracy with thresholds\n"
    "                   0.00..3.99 on the squared distance of L2-normalised features\n"
    "\n"
    "Inputs:\n"
    "  --features F.npy          N x D float32 features (C order)\n"
    "  --labels L.txt            one line per feature row: ID CAMERA SPLIT\n"
    "                              ID      integer identity or class; negative = junk image\n"
    "                                      (never a match, never ranked)\n"
    "                              CAMERA  integer camera, -1 when unknown\n"
    "                              SPLIT   query, gallery or - (reid takes queries and\n"
    "                                      gallery from it; vehicleid and sop ignore it)\n"
    "                            lines starting with '#' are comments\n"
    "  --gallery-features G.npy  re-id gallery in its own files; then every row of\n"
    "  --gallery-labels G.txt    --features is a query and SPLIT is ignored\n"
    "  --pairs P.txt             verify: one pair per line, A B SAME (0-based rows of\n"
    "                            --features, SAME 1 or 0), in the benchmark's order\n"
    "  --flip-features F.npy     verify: features of the mirrored images, added before\n"
    "                            normalising\n"
    "  --model FILE              evaluate a model on a dataset (not yet available)\n"
    "\n"
    "Options:\n"
    "  --distance cosine|euclidean  ranking distance for reid/vehicleid (default cosine)\n"
    "  --draws N                    vehicleid draws (default 10)\n"
    "  --seed N                     vehicleid seed (default 0)\n"
    "  --folds N                    verify folds (default 10)\n"
    "  --json FILE                  also write the results as JSON\n"
    "  --device SPEC                device for the distances (default: $UFO_DEVICE, else\n"
    "                               auto; see ufo-devices)\n"
    "  --host                       compute the distances on the host CPU instead (slow for\n"
    "                               large sets; no OpenCL needed)\n"
    "  --block-queries N, --block-gallery N  score block size on the device (default:\n"
    "                               from the device's memory)\n";

/* Everything the command line sets. */
struct options {
    const char *metric, *features, *labels, *gallery_features, *gallery_labels;
    const char *pairs, *flip, *model, *json, *device;
    enum eval_distance distance;
    int host;
    unsigned draws;
    unsigned long long seed;
    int folds;
    size_t block_queries, block_gallery;
};

static int fail(const char *what) {
    fprintf(stderr, "ufo-eval: %s\n", what);
    return 1;
}

/* A non-negative base-10 integer option value. */
static int parse_count(const char *name, const char *text, unsigned long long *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-') {
        fprintf(stderr, "ufo-eval: %s needs a non-negative integer, got '%s'\n", name, text);
        return 0;
    }
    *out = v;
    return 1;
}

/* Parse argv; returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct options *o) {
    memset(o, 0, sizeof *o);
    o->draws = 10;
    o->folds = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(a, "--host") == 0) {
            o->host = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            fprintf(stderr, "ufo-eval: unknown argument or missing value: '%s' (see --help)\n",
                    a);
            return 2;
        }
        const char *v = argv[++i];
        unsigned long long n;
        if (strcmp(a, "--metric") == 0) o->metric = v;
        else if (strcmp(a, "--features") == 0) o->features = v;
        else if (strcmp(a, "--labels") == 0) o->labels = v;
        else if (strcmp(a, "--gallery-features") == 0) o->gallery_features = v;
        else if (strcmp(a, "--gallery-labels") == 0) o->gallery_labels = v;
        else if (strcmp(a, "--pairs") == 0) o->pairs = v;
        else if (strcmp(a, "--flip-features") == 0) o->flip = v;
        else if (strcmp(a, "--model") == 0) o->model = v;
        else if (strcmp(a, "--json") == 0) o->json = v;
        else if (strcmp(a, "--device") == 0) o->device = v;
        else if (strcmp(a, "--distance") == 0) {
            if (strcmp(v, "cosine") == 0) o->distance = EVAL_COSINE;
            else if (strcmp(v, "euclidean") == 0) o->distance = EVAL_EUCLIDEAN;
            else {
                fprintf(stderr, "ufo-eval: --distance must be cosine or euclidean, got '%s'\n",
                        v);
                return 2;
            }
        } else if (strcmp(a, "--draws") == 0) {
            if (!parse_count(a, v, &n) || n == 0 || n > 100000) return 2;
            o->draws = (unsigned)n;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_count(a, v, &n)) return 2;
            o->seed = n;
        } else if (strcmp(a, "--folds") == 0) {
            if (!parse_count(a, v, &n) || n < 2 || n > 64) {
                fprintf(stderr, "ufo-eval: --folds must be between 2 and 64\n");
                return 2;
            }
            o->folds = (int)n;
        } else if (strcmp(a, "--block-queries") == 0) {
            if (!parse_count(a, v, &n)) return 2;
            o->block_queries = (size_t)n;
        } else if (strcmp(a, "--block-gallery") == 0) {
            if (!parse_count(a, v, &n)) return 2;
            o->block_gallery = (size_t)n;
        } else {
            fprintf(stderr, "ufo-eval: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (o->model) {
        /* TODO: extract features from a model (supernet + architecture, or an extracted
         * model) on a dataset in its native format, once the model and data layers exist. */
        fprintf(stderr, "ufo-eval: --model: evaluating a model is not yet available; extract "
                "features elsewhere and pass them with --features\n");
        return 2;
    }
    if (!o->metric) {
        fprintf(stderr, "ufo-eval: --metric is required (see --help)\n");
        return 2;
    }
    if (!o->features) {
        fprintf(stderr, "ufo-eval: --features is required (see --help)\n");
        return 2;
    }
    return -1;
}

/* Features and their labels, checked against each other. */
static ufo_status load_set(const char *fpath, const char *lpath, float **x, size_t *n,
                           size_t *dim, struct io_labels *labels) {
    ufo_status st = io_npy_read_matrix(fpath, x, n, dim);
    if (st != UFO_OK) return st;
    if (!lpath) {
        free(*x);
        return ufo_fail(UFO_ERR_INVALID, "%s: this metric needs --labels for it", fpath);
    }
    st = io_labels_read(lpath, labels);
    if (st == UFO_OK && labels->n != *n)
        st = ufo_fail(UFO_ERR_FORMAT, "%s: %zu labels for %zu feature rows in %s", lpath,
                      labels->n, *n, fpath);
    if (st != UFO_OK) {
        free(*x);
        io_labels_free(labels);
    }
    return st;
}

/* Re-identification, from one labelled set with a split column or from two sets. */
static ufo_status run_reid(const struct options *o, const struct eval_scorer *sc, int official,
                           struct eval_report *rep) {
    float *x = NULL, *gx = NULL, *qf = NULL, *gf = NULL;
    size_t n, dim, gn = 0, gdim = 0;
    struct io_labels l = {0}, gl = {0};
    int64_t *cols = NULL;
    ufo_status st = load_set(o->features, o->labels, &x, &n, &dim, &l);
    if (st != UFO_OK) return st;
    if (o->gallery_features) {
        st = load_set(o->gallery_features, o->gallery_labels, &gx, &gn, &gdim, &gl);
        if (st == UFO_OK && gdim != dim)
            st = ufo_fail(UFO_ERR_FORMAT, "%s: %zu columns, but the queries have %zu",
                          o->gallery_features, gdim, dim);
        if (st != UFO_OK) goto done;
        struct eval_rank_task t = {
            .query = x, .gallery = gx, .n_query = n, .n_gallery = gn, .dim = dim,
            .query_id = l.id, .query_camera = l.camera, .gallery_id = gl.id,
            .gallery_camera = gl.camera, .distance = o->distance,
        };
        st = eval_reid(sc, &t, official, rep);
        goto done;
    }

    /* split one set by its SPLIT column */
    size_t nq = 0, ng = 0;
    for (size_t i = 0; i < n; i++) {
        nq += l.split[i] == IO_SPLIT_QUERY;
        ng += l.split[i] == IO_SPLIT_GALLERY;
    }
    if (nq == 0 || ng == 0) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: %zu query and %zu gallery rows; re-id needs both "
                      "(or --gallery-features)", o->labels, nq, ng);
        goto done;
    }
    qf = malloc(nq * dim * sizeof *qf);
    gf = malloc(ng * dim * sizeof *gf);
    cols = malloc(2 * (nq + ng) * sizeof *cols);
    if (!qf || !gf || !cols) {
        st = ufo_fail(UFO_ERR_NOMEM, "no memory to split %zu features", n);
        goto done;
    }
    int64_t *qid = cols, *qcam = cols + nq, *gid = cols + 2 * nq, *gcam = gid + ng;
    size_t iq = 0, ig = 0;
    for (size_t i = 0; i < n; i++) {
        if (l.split[i] == IO_SPLIT_QUERY) {
            memcpy(qf + iq * dim, x + i * dim, dim * sizeof *qf);
            qid[iq] = l.id[i];
            qcam[iq++] = l.camera[i];
        } else if (l.split[i] == IO_SPLIT_GALLERY) {
            memcpy(gf + ig * dim, x + i * dim, dim * sizeof *gf);
            gid[ig] = l.id[i];
            gcam[ig++] = l.camera[i];
        }
    }
    struct eval_rank_task t = {
        .query = qf, .gallery = gf, .n_query = nq, .n_gallery = ng, .dim = dim,
        .query_id = qid, .query_camera = qcam, .gallery_id = gid, .gallery_camera = gcam,
        .distance = o->distance,
    };
    st = eval_reid(sc, &t, official, rep);
done:
    free(x);
    free(gx);
    free(qf);
    free(gf);
    free(cols);
    io_labels_free(&l);
    io_labels_free(&gl);
    return st;
}

/* SOP or VehicleID: one labelled set, the SPLIT column ignored. */
static ufo_status run_single(const struct options *o, const struct eval_scorer *sc, int sop,
                             struct eval_report *rep) {
    float *x;
    size_t n, dim;
    struct io_labels l;
    ufo_status st = load_set(o->features, o->labels, &x, &n, &dim, &l);
    if (st != UFO_OK) return st;
    if (sop) {
        if (o->distance != EVAL_COSINE) log_warn("sop is scored on cosine similarity only");
        st = eval_sop(sc, x, n, dim, l.id, rep);
    } else {
        st = eval_vehicleid(sc, x, n, dim, l.id, o->distance, o->draws, o->seed, rep);
    }
    free(x);
    io_labels_free(&l);
    return st;
}

/* Verification from features, optional mirrored features and a pair list. */
static ufo_status run_verify(const struct options *o, struct eval_report *rep) {
    if (!o->pairs) return ufo_fail(UFO_ERR_INVALID, "verify needs --pairs");
    float *x = NULL, *fx = NULL;
    size_t n, dim, fn, fdim;
    struct io_pair *pairs = NULL;
    struct eval_pair *ep = NULL;
    size_t np = 0;
    ufo_status st = io_npy_read_matrix(o->features, &x, &n, &dim);
    if (st == UFO_OK && o->flip) {
        st = io_npy_read_matrix(o->flip, &fx, &fn, &fdim);
        if (st == UFO_OK && (fn != n || fdim != dim))
            st = ufo_fail(UFO_ERR_FORMAT, "%s: %zu x %zu, but %s is %zu x %zu", o->flip, fn,
                          fdim, o->features, n, dim);
    }
    if (st == UFO_OK) st = io_pairs_read(o->pairs, &pairs, &np);
    if (st == UFO_OK) {
        ep = malloc(np * sizeof *ep);
        if (!ep) st = ufo_fail(UFO_ERR_NOMEM, "no memory for %zu pairs", np);
        for (size_t i = 0; st == UFO_OK && i < np; i++)
            ep[i] = (struct eval_pair){pairs[i].a, pairs[i].b, pairs[i].same};
    }
    if (st == UFO_OK) st = eval_verify(x, fx, n, dim, ep, np, o->folds, rep);
    free(x);
    free(fx);
    free(pairs);
    free(ep);
    return st;
}

int main(int argc, char **argv) {
    struct options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;

    int reid = strcmp(o.metric, "reid") == 0, official = strcmp(o.metric, "market-official") == 0;
    int sop = strcmp(o.metric, "sop") == 0, vid = strcmp(o.metric, "vehicleid") == 0;
    int verify = strcmp(o.metric, "verify") == 0;
    if (!reid && !official && !sop && !vid && !verify) {
        fprintf(stderr, "ufo-eval: unknown metric '%s' (reid, market-official, vehicleid, sop, "
                "verify)\n", o.metric);
        return 2;
    }

    /* the device for the distances (verification pairs are few: always on the host) */
    struct eval_scorer sc = {NULL, o.block_queries, o.block_gallery};
    if (!verify && !o.host) {
        if (ufo_device_open(o.device, &sc.dev) != UFO_OK) return fail(ufo_last_error());
        const struct ufo_device_caps *caps = ufo_device_caps(sc.dev);
        log_info("distances on %s (%s)", caps->spec, caps->name);
    }

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct eval_report rep;
    ufo_status st = verify ? run_verify(&o, &rep)
                    : reid || official ? run_reid(&o, &sc, official, &rep)
                    : run_single(&o, &sc, sop, &rep);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (sc.dev) ufo_device_close(sc.dev);
    if (st != UFO_OK) return fail(ufo_last_error());
    log_info("scored in %.2f s", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));

    eval_report_print(stdout, &rep);
    if (o.json && eval_report_write_json(o.json, &rep) != UFO_OK) return fail(ufo_last_error());
    return 0;
}
