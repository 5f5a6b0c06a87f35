/* ufo-eval: score features with a benchmark's metric, or evaluate a supernet on a task's
 * evaluation datasets; prints a table, optionally writes JSON. */
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
#include "eval/model_eval.h"
#include "io/labels.h"
#include "io/npy.h"
#include "model/checkpoint.h"
#include "model/vit.h"
#include "train/signals.h"
#include "train/train_config.h"
#include "train/train_eval.h"

static const char *usage =
    "usage: ufo-eval --metric METRIC --features F.npy [--labels L.txt] [options]\n"
    "       ufo-eval --model SUPERNET.safetensors --config RUN.ini --task NAME [options]\n"
    "Score precomputed features with a benchmark's metric, or evaluate a supernet.\n"
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
    "\n"
    "Evaluating a model (features through the supernet, then the metric of each dataset):\n"
    "  --model FILE              a supernet from ufo-train (supernet.safetensors or a\n"
    "                            checkpoint); its search space and tasks come from the file\n"
    "  --config RUN.ini          the run's configuration: [task.NAME] eval_datasets and their\n"
    "                            [dataset.X] sections say which data (query/gallery, test split\n"
    "                            or verification pairs) is evaluated\n"
    "  --task NAME               the task whose paths and BN-neck give the features\n"
    "  --arch ARCH               largest (default), smallest, an arch .json file or a CVPR\n"
    "                            track 2 string\n"
    "  --paths shared|task|both  FFN paths of a CVPR string's blocks (default both)\n"
    "  --dataset NAME            only this one of the task's eval_datasets\n"
    "  --batch N                 images per forward pass (default 64)\n"
    "  --flip                    verification: add the mirrored images' features\n"
    "  --save-features F.npy     also write the features, F.labels.txt (and for verification\n"
    "                            F.pairs.txt, F.flip.npy), to re-score them with --features;\n"
    "                            with several datasets F gets the dataset's name: F.NAME.npy\n"
    "  The metric follows the dataset: pairs -> verify, vehicleid -> vehicleid, query and\n"
    "  gallery -> reid, anything else (sop, a test split) -> every image queries the others\n"
    "  (sop). Undecodable images are left out and counted (\"skipped images\").\n"
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
    const char *config, *task, *arch, *dataset, *save_features;
    enum ufo_path paths;
    size_t batch;
    int flip_images;
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
    o->paths = UFO_PATH_BOTH;
    o->batch = 64;
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
        if (strcmp(a, "--flip") == 0) {
            o->flip_images = 1;
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
        else if (strcmp(a, "--config") == 0) o->config = v;
        else if (strcmp(a, "--task") == 0) o->task = v;
        else if (strcmp(a, "--arch") == 0) o->arch = v;
        else if (strcmp(a, "--dataset") == 0) o->dataset = v;
        else if (strcmp(a, "--save-features") == 0) o->save_features = v;
        else if (strcmp(a, "--paths") == 0) {
            if (strcmp(v, "shared") == 0) o->paths = UFO_PATH_SHARED;
            else if (strcmp(v, "task") == 0) o->paths = UFO_PATH_TASK;
            else if (strcmp(v, "both") == 0) o->paths = UFO_PATH_BOTH;
            else {
                fprintf(stderr, "ufo-eval: --paths must be shared, task or both, got '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--batch") == 0) {
            if (!parse_count(a, v, &n)) return 2;
            if (n == 0 || n > 65536) {
                fprintf(stderr, "ufo-eval: --batch must be between 1 and 65536\n");
                return 2;
            }
            o->batch = (size_t)n;
        } else if (strcmp(a, "--distance") == 0) {
            if (strcmp(v, "cosine") == 0) o->distance = EVAL_COSINE;
            else if (strcmp(v, "euclidean") == 0) o->distance = EVAL_EUCLIDEAN;
            else {
                fprintf(stderr, "ufo-eval: --distance must be cosine or euclidean, got '%s'\n",
                        v);
                return 2;
            }
        } else if (strcmp(a, "--draws") == 0) {
            if (!parse_count(a, v, &n)) return 2;
            if (n == 0 || n > 100000) {
                fprintf(stderr, "ufo-eval: --draws must be between 1 and 100000, got '%s'\n", v);
                return 2;
            }
            o->draws = (unsigned)n;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_count(a, v, &n)) return 2;
            o->seed = n;
        } else if (strcmp(a, "--folds") == 0) {
            if (!parse_count(a, v, &n)) return 2;
            if (n < 2 || n > 64) {
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
        if (o->metric || o->features) {
            fprintf(stderr, "ufo-eval: --model takes its metric from the data; leave out "
                    "--metric and --features\n");
            return 2;
        }
        if (!o->config || !o->task) {
            fprintf(stderr, "ufo-eval: --model needs --config RUN.ini and --task NAME (see "
                    "--help)\n");
            return 2;
        }
        return -1;
    }
    if (o->config || o->task || o->arch || o->dataset || o->save_features) {
        fprintf(stderr, "ufo-eval: --config, --task, --arch, --dataset and --save-features "
                "go with --model\n");
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
static ufo_status load_set(const char *fpath, const char *lpath, const char *lflag, float **x,
                           size_t *n, size_t *dim, struct io_labels *labels) {
    ufo_status st = io_npy_read_matrix(fpath, x, n, dim);
    if (st != UFO_OK) return st;
    if (!lpath) {
        free(*x);
        *x = NULL;
        return ufo_fail(UFO_ERR_INVALID, "%s: this metric needs %s for it", fpath, lflag);
    }
    st = io_labels_read(lpath, labels);
    if (st == UFO_OK && labels->n != *n)
        st = ufo_fail(UFO_ERR_FORMAT, "%s: %zu labels for %zu feature rows in %s", lpath,
                      labels->n, *n, fpath);
    if (st != UFO_OK) {
        free(*x);
        *x = NULL;
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
    ufo_status st = load_set(o->features, o->labels, "--labels", &x, &n, &dim, &l);
    if (st != UFO_OK) return st;
    if (o->gallery_features) {
        st = load_set(o->gallery_features, o->gallery_labels, "--gallery-labels", &gx, &gn,
                      &gdim, &gl);
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
    ufo_status st = load_set(o->features, o->labels, "--labels", &x, &n, &dim, &l);
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

/* F.npy for a single dataset, F.NAME.npy when there are several. */
static void features_path(const char *base, const char *set, int several, char *buf,
                          size_t size) {
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".npy") == 0) n -= 4;
    if (several) snprintf(buf, size, "%.*s.%s.npy", (int)n, base, set);
    else snprintf(buf, size, "%.*s.npy", (int)n, base);
}

/* The supernet of `path` on `dev` with its parameters, for batches of `batch` images. */
static ufo_status load_model(ufo_device *dev, const char *path, const struct ufo_space *space,
                             size_t batch, struct vit **out) {
    ufo_status st = vit_create(dev, space, batch, out);
    if (st != UFO_OK) return st;
    const struct ufo_layout *L = vit_layout(*out);
    float *params = malloc(L->total * sizeof *params);
    if (!params) st = ufo_fail(UFO_ERR_NOMEM, "no memory for the %zu parameters", L->total);
    if (st == UFO_OK) st = ufo_params_load(L, params, path);
    if (st == UFO_OK) st = vit_upload(*out, params);
    free(params);
    if (st != UFO_OK) {
        vit_destroy(*out);
        *out = NULL;
    }
    return st;
}

/* --model: a task's eval_datasets through one architecture of the supernet, each scored. */
static int run_model(const struct options *o) {
    struct ufo_space space;
    struct ufo_arch arch;
    struct train_config *tc = NULL;
    struct train_eval_set *sets = NULL;
    size_t n_sets = 0;
    ufo_device *dev = NULL;
    struct vit *vit = NULL;
    struct eval_report *reps = NULL;
    const char **names = NULL;
    size_t n_reps = 0;
    int rc = 1;
    ufo_status st = UFO_OK;
#define TRY(call) do { if ((st = (call)) != UFO_OK) goto done; } while (0)

    /* the model's space and task, the architecture, the configuration's data */
    TRY(ufo_space_from_file(o->model, &space));
    int task = ufo_space_task_index(&space, o->task);
    if (task < 0) {
        char known[512] = "";
        for (int t = 0; t < space.n_tasks; t++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", t ? ", " : "",
                     space.tasks[t].name);
        st = ufo_fail(UFO_ERR_INVALID, "%s: the model has no task \"%s\" (its tasks: %s)",
                      o->model, o->task, known);
        goto done;
    }
    const char *arch_text = o->arch ? o->arch : "largest";
    TRY(eval_arch_parse(&space, arch_text, o->paths, &arch));
    TRY(train_config_load(&tc, o->config, NULL, 0));
    TRY(train_eval_open(tc, &o->task, 1, &sets, &n_sets));
    size_t wanted = 0;
    for (size_t i = 0; i < n_sets; i++)
        wanted += !o->dataset || strcmp(sets[i].name, o->dataset) == 0;
    if (wanted == 0) {
        st = ufo_fail(UFO_ERR_INVALID, "%s: [task.%s] eval_datasets has no \"%s\"", o->config,
                      o->task, o->dataset);
        goto done;
    }

    /* the device and the supernet's parameters */
    TRY(ufo_device_open(o->device, &dev));
    const struct ufo_device_caps *caps = ufo_device_caps(dev);
    log_info("device %s (%s)", caps->spec, caps->name);
    TRY(load_model(dev, o->model, &space, o->batch, &vit));
    char summary[64];
    eval_arch_summary(&arch, summary, sizeof summary);
    log_info("model %s, task %s, architecture %s (%s)", o->model, o->task, arch_text, summary);

    /* each dataset: features, metric, files */
    reps = calloc(wanted, sizeof *reps);
    names = calloc(wanted, sizeof *names);
    if (!reps || !names) {
        st = ufo_fail(UFO_ERR_NOMEM, "out of memory");
        goto done;
    }
    struct eval_model_options mo;
    eval_model_options_default(&mo);
    mo.batch = o->batch;
    mo.flip = o->flip_images;
    mo.distance = o->distance;
    mo.draws = o->draws;
    mo.seed = o->seed;
    mo.folds = o->folds;
    mo.stop = train_stop_requested;
    TRY(train_signals_install());
    struct eval_scorer sc = {o->host ? NULL : dev, o->block_queries, o->block_gallery};
    for (size_t i = 0; i < n_sets; i++) {
        const struct train_eval_set *s = &sets[i];
        if (o->dataset && strcmp(s->name, o->dataset) != 0) continue;
        struct eval_features f;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        TRY(eval_model(vit, &arch, task, &s->data, &sc, &mo, &reps[n_reps], &f));
        clock_gettime(CLOCK_MONOTONIC, &t1);
        log_info("dataset %s: %zu images in %.2f s", s->name, f.n + f.skipped,
                 (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
        names[n_reps] = s->name;
        if (o->save_features) {
            char path[4096];
            features_path(o->save_features, s->name, wanted > 1, path, sizeof path);
            st = eval_features_save(path, &s->data, s->protocol, &f);
            if (st == UFO_OK) log_info("features of %s written to %s", s->name, path);
        }
        eval_features_free(&f);
        if (st != UFO_OK) goto done;
        printf("task %s, dataset %s, architecture %s (%s)\n", o->task, s->name, arch_text,
               summary);
        eval_report_print(stdout, &reps[n_reps]);
        n_reps++;
    }
    if (o->json) {
        const char *meta[] = {"model", o->model, "task", o->task, "arch", arch_text,
                              "arch_summary", summary};
        TRY(eval_reports_write_json(o->json, meta, 4, names, reps, n_reps));
    }
    rc = 0;
#undef TRY
done:
    if (rc != 0) fail(ufo_last_error());
    if (rc != 0 && st == UFO_ERR_INTERRUPTED) rc = 130;
    train_signals_restore();
    free(reps);
    free(names);
    vit_destroy(vit);
    if (dev) ufo_device_close(dev);
    train_eval_close(sets, n_sets);
    train_config_free(tc);
    return rc;
}

int main(int argc, char **argv) {
    struct options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    if (o.model) return run_model(&o);

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
