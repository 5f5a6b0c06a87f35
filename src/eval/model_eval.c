/* Evaluating a model on a dataset: which items, their features through the supernet, the
 * metric of the dataset's protocol, and the files that let ufo-eval re-score the features. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include "core/log.h"
#include "data/augment.h"
#include "data/image.h"
#include "eval/model_eval.h"
#include "io/labels.h"
#include "io/npy.h"

/* Undecodable images are named in a warning up to this many per extraction, then counted. */
#define EVAL_WARN_LIMIT 5

/* Decoding threads of one extraction at most. */
#define EVAL_MAX_THREADS 64

const char *eval_protocol_name(enum eval_protocol protocol) {
    switch (protocol) {
    case EVAL_PROTOCOL_REID: return "reid";
    case EVAL_PROTOCOL_VEHICLEID: return "vehicleid";
    case EVAL_PROTOCOL_SOP: return "sop";
    case EVAL_PROTOCOL_VERIFY: return "verify";
    }
    return "?";
}

enum eval_protocol eval_protocol_of(const struct data_set *ds) {
    if (ds->pairs.count) return EVAL_PROTOCOL_VERIFY;
    if (ds->format && strcmp(ds->format, "vehicleid") == 0) return EVAL_PROTOCOL_VEHICLEID;
    if (ds->report.images[DATA_QUERY] && ds->report.images[DATA_GALLERY])
        return EVAL_PROTOCOL_REID;
    return EVAL_PROTOCOL_SOP;
}

void eval_model_options_default(struct eval_model_options *o) {
    memset(o, 0, sizeof *o);
    o->distance = EVAL_COSINE;
    o->draws = 10;
    o->seed = 0;
    o->folds = 10;
}

void eval_features_free(struct eval_features *f) {
    if (!f) return;
    free(f->x);
    free(f->flip);
    free(f->item);
    memset(f, 0, sizeof *f);
}

ufo_status eval_select_items(const struct data_set *ds, enum eval_protocol protocol,
                             size_t **items, size_t *n) {
    *items = malloc((ds->count ? ds->count : 1) * sizeof **items);
    *n = 0;
    if (!*items) return ufo_fail(UFO_ERR_NOMEM, "dataset %s: no memory for %zu items", ds->name,
                                 ds->count);
    size_t eval_items = ds->count - ds->report.images[DATA_TRAIN];
    for (size_t i = 0; i < ds->count; i++) {
        enum data_split s = ds->items[i].split;
        int take = protocol == EVAL_PROTOCOL_VERIFY ? 1
                   : protocol == EVAL_PROTOCOL_REID ? s == DATA_QUERY || s == DATA_GALLERY
                   : eval_items ? s != DATA_TRAIN : 1;
        if (take) (*items)[(*n)++] = i;
    }
    if (*n == 0) {
        free(*items);
        *items = NULL;
        return ufo_fail(UFO_ERR_INVALID, "dataset %s: no image to evaluate", ds->name);
    }
    return UFO_OK;
}

/* Mirror an RGB image left to right in place. */
static void eval_mirror(struct data_image *img) {
    for (int y = 0; y < img->height; y++) {
        uint8_t *row = img->pixels + (size_t)y * img->width * 3;
        for (int a = 0, b = img->width - 1; a < b; a++, b--)
            for (int c = 0; c < 3; c++) {
                uint8_t t = row[3 * a + c];
                row[3 * a + c] = row[3 * b + c];
                row[3 * b + c] = t;
            }
    }
}

/* One forward pass of `count` images of task `task` (every other task's range empty); the
 * BN-neck rows go to `neck`. */
static ufo_status eval_forward(struct vit *vit, const struct ufo_arch *arch, int task,
                               const float *images, size_t count, float *neck) {
    struct vit_batch vb = {.size = count, .images = images};
    for (int t = 0; t <= UFO_MAX_TASKS; t++) vb.task_begin[t] = t <= task ? 0 : count;
    return vit_eval_forward(vit, arch, &vb, NULL, neck);
}

/* Decoding threads of an extraction: each takes the slots j ≡ id (mod n) of the batch being
 * filled and leaves each slot's status, and its error message, for the caller to act on in
 * item order. */
struct eval_decode_job {
    const struct data_set *ds;
    const struct data_transform *tf;
    const size_t *items;            /* the batch's dataset items */
    size_t count, chw;
    float *images, *mirrored;       /* count × chw each; mirrored NULL without flips */
    ufo_status *status;             /* count */
    char (*message)[256];           /* count: the error of a failed slot */
};

struct eval_decode_worker {
    const struct eval_decode_job *job;
    struct data_decoder *dec;
    size_t id, n;
};

static void *eval_decode_run(void *arg) {
    struct eval_decode_worker *w = arg;
    const struct eval_decode_job *job = w->job;
    for (size_t j = w->id; j < job->count; j += w->n) {
        struct data_image img = {0};
        int side = job->tf->width;
        ufo_status st = data_decode_item(w->dec, job->ds, &job->ds->items[job->items[j]], side,
                                         side, &img);
        if (st == UFO_OK) st = data_transform_eval(job->tf, &img, job->images + j * job->chw);
        if (st == UFO_OK && job->mirrored) {
            eval_mirror(&img);
            st = data_transform_eval(job->tf, &img, job->mirrored + j * job->chw);
        }
        data_image_free(&img);
        job->status[j] = st;
        if (st != UFO_OK) snprintf(job->message[j], sizeof job->message[j], "%s", ufo_last_error());
    }
    return NULL;
}

/* Decode a batch's slots on `n` threads (slot 0.. on this one when n is 1). */
static ufo_status eval_decode_batch(const struct eval_decode_job *job,
                                    struct eval_decode_worker *workers, size_t n) {
    pthread_t thread[EVAL_MAX_THREADS];
    size_t started = 0;
    for (size_t t = 1; t < n; t++) {
        workers[t].job = job;
        if (pthread_create(&thread[t], NULL, eval_decode_run, &workers[t]) != 0) break;
        started = t;
    }
    /* slots of threads that did not start are this thread's */
    workers[0].job = job;
    size_t running = started + 1;
    for (size_t t = 0; t < n; t++) workers[t].n = running;
    eval_decode_run(&workers[0]);
    for (size_t t = 1; t <= started; t++) pthread_join(thread[t], NULL);
    return UFO_OK;
}

ufo_status eval_extract(struct vit *vit, const struct ufo_arch *arch, int task,
                        const struct data_set *ds, const size_t *items, size_t n_items,
                        const struct eval_model_options *o, struct eval_features *out) {
    memset(out, 0, sizeof *out);
    const struct ufo_space *s = &vit_layout(vit)->space;
    if (task < 0 || task >= s->n_tasks)
        return ufo_fail(UFO_ERR_INVALID, "eval: task index %d, the model has %d tasks", task,
                        s->n_tasks);
    ufo_status st = ufo_arch_validate(s, arch);
    if (st != UFO_OK) return st;
    size_t max_batch = vit_max_batch(vit);
    size_t batch = o->batch && o->batch < max_batch ? o->batch : max_batch;
    size_t side = (size_t)s->image_size, chw = 3 * side * side, C = (size_t)s->embed_dim;
    struct data_transform tf;
    data_transform_defaults(&tf, (int)side, (int)side);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n_threads = o->workers > 0 ? (size_t)o->workers : cores > 0 ? (size_t)cores : 1;
    if (n_threads > EVAL_MAX_THREADS) n_threads = EVAL_MAX_THREADS;
    if (n_threads > batch) n_threads = batch;

    /* room for every row; rows of images that fail to decode are never filled */
    float *images = malloc(batch * chw * sizeof *images);
    float *mirrored = o->flip ? malloc(batch * chw * sizeof *mirrored) : NULL;
    ufo_status *status = malloc(batch * sizeof *status);
    char (*message)[256] = malloc(batch * sizeof *message);
    struct eval_decode_worker workers[EVAL_MAX_THREADS] = {{0}};
    out->x = malloc(n_items * C * sizeof *out->x);
    out->flip = o->flip ? malloc(n_items * C * sizeof *out->flip) : NULL;
    out->item = malloc(n_items * sizeof *out->item);
    out->dim = C;
    if (!images || !status || !message || !out->x || !out->item ||
        (o->flip && (!mirrored || !out->flip))) {
        st = ufo_fail(UFO_ERR_NOMEM, "dataset %s: no memory for %zu features of %zu", ds->name,
                      n_items, C);
        goto done;
    }
    for (size_t t = 0; t < n_threads; t++) {
        workers[t].id = t;
        if ((st = data_decoder_new(&workers[t].dec)) != UFO_OK) goto done;
    }

    /* decode a batch on the threads, drop what did not decode (in item order), run the rest.
     * TODO: overlap the decoding of the next batch with the device's pass over this one. */
    for (size_t next = 0; next < n_items;) {
        if (o->stop && o->stop()) {
            st = ufo_fail(UFO_ERR_INTERRUPTED, "dataset %s: evaluation stopped after %zu of %zu "
                          "images", ds->name, next, n_items);
            goto done;
        }
        size_t want = n_items - next < batch ? n_items - next : batch;
        struct eval_decode_job job = {.ds = ds, .tf = &tf, .items = items + next, .count = want,
                                      .chw = chw, .images = images, .mirrored = mirrored,
                                      .status = status, .message = message};
        if ((st = eval_decode_batch(&job, workers, n_threads)) != UFO_OK) goto done;
        size_t count = 0;
        for (size_t j = 0; j < want; j++) {
            if (status[j] == UFO_ERR_FORMAT || status[j] == UFO_ERR_IO) {
                if (out->skipped++ < EVAL_WARN_LIMIT)
                    log_warn("dataset %s: skipping an undecodable image: %s", ds->name,
                             message[j]);
                continue;
            }
            if (status[j] != UFO_OK) {
                st = ufo_fail(status[j], "%s", message[j]);
                goto done;
            }
            if (count != j) {
                memmove(images + count * chw, images + j * chw, chw * sizeof *images);
                if (mirrored)
                    memmove(mirrored + count * chw, mirrored + j * chw, chw * sizeof *mirrored);
            }
            out->item[out->n + count++] = items[next + j];
        }
        next += want;
        if (count == 0) continue;
        if ((st = eval_forward(vit, arch, task, images, count, out->x + out->n * C)) != UFO_OK)
            goto done;
        if (o->flip && (st = eval_forward(vit, arch, task, mirrored, count,
                                          out->flip + out->n * C)) != UFO_OK)
            goto done;
        out->n += count;
    }
    if (out->skipped)
        log_warn("dataset %s: %zu of %zu images undecodable, left out of the evaluation",
                 ds->name, out->skipped, n_items);
    if (out->n == 0)
        st = ufo_fail(UFO_ERR_FORMAT, "dataset %s: none of the %zu images decoded", ds->name,
                      n_items);
done:
    for (size_t t = 0; t < n_threads; t++) data_decoder_free(workers[t].dec);
    free(images);
    free(mirrored);
    free(status);
    free(message);
    if (st != UFO_OK) eval_features_free(out);
    return st;
}

ufo_status eval_feature_labels(const struct data_set *ds, const struct eval_features *f,
                               int64_t **id, int64_t **camera, unsigned char **split) {
    size_t n = f->n ? f->n : 1;
    *id = malloc(n * sizeof **id);
    *camera = malloc(n * sizeof **camera);
    *split = malloc(n);
    if (!*id || !*camera || !*split) {
        free(*id);
        free(*camera);
        free(*split);
        *id = *camera = NULL;
        *split = NULL;
        return ufo_fail(UFO_ERR_NOMEM, "dataset %s: no memory for %zu labels", ds->name, f->n);
    }
    for (size_t r = 0; r < f->n; r++) {
        const struct data_item *it = &ds->items[f->item[r]];
        (*split)[r] = it->split == DATA_QUERY     ? IO_SPLIT_QUERY
                      : it->split == DATA_GALLERY ? IO_SPLIT_GALLERY
                                                  : IO_SPLIT_NONE;
        (*id)[r] = it->label >= 0 || it->split != DATA_GALLERY ? it->label : ds->n_labels;
        (*camera)[r] = it->camera >= 0 ? it->camera : -2 - (int64_t)r;
    }
    return UFO_OK;
}

/* Re-identification: rows split into queries and gallery. Queries without an identity cannot
 * be scored and are left out. */
static ufo_status eval_score_reid(const struct eval_scorer *sc, const struct eval_features *f,
                                  const int64_t *id, const int64_t *cam,
                                  const unsigned char *split, enum eval_distance distance,
                                  struct eval_report *out) {
    size_t nq = 0, ng = 0, C = f->dim, no_id = 0;
    for (size_t r = 0; r < f->n; r++) {
        if (split[r] == IO_SPLIT_QUERY && id[r] < 0) no_id++;
        else nq += split[r] == IO_SPLIT_QUERY;
        ng += split[r] == IO_SPLIT_GALLERY;
    }
    if (no_id) log_warn("%zu queries without an identity left out", no_id);
    if (nq == 0 || ng == 0)
        return ufo_fail(UFO_ERR_INVALID, "re-identification needs queries and a gallery; %zu "
                        "and %zu images decoded", nq, ng);
    float *qf = malloc(nq * C * sizeof *qf), *gf = malloc(ng * C * sizeof *gf);
    int64_t *cols = malloc(2 * (nq + ng) * sizeof *cols);
    ufo_status st = UFO_OK;
    if (!qf || !gf || !cols) {
        st = ufo_fail(UFO_ERR_NOMEM, "no memory to split %zu features", f->n);
        goto done;
    }
    int64_t *qid = cols, *qcam = cols + nq, *gid = cols + 2 * nq, *gcam = gid + ng;
    size_t iq = 0, ig = 0;
    for (size_t r = 0; r < f->n; r++) {
        if (split[r] == IO_SPLIT_QUERY && id[r] >= 0) {
            memcpy(qf + iq * C, f->x + r * C, C * sizeof *qf);
            qid[iq] = id[r];
            qcam[iq++] = cam[r];
        } else if (split[r] == IO_SPLIT_GALLERY) {
            memcpy(gf + ig * C, f->x + r * C, C * sizeof *gf);
            gid[ig] = id[r];
            gcam[ig++] = cam[r];
        }
    }
    struct eval_rank_task t = {
        .query = qf, .gallery = gf, .n_query = nq, .n_gallery = ng, .dim = C,
        .query_id = qid, .query_camera = qcam, .gallery_id = gid, .gallery_camera = gcam,
        .distance = distance,
    };
    st = eval_reid(sc, &t, 0, out);
done:
    free(qf);
    free(gf);
    free(cols);
    return st;
}

/* Verification: the dataset's pairs over feature rows; a pair with an image left out is
 * dropped (and counted). */
static ufo_status eval_score_verify(const struct data_set *ds, const struct eval_features *f,
                                    int folds, struct eval_report *out) {
    size_t *row = malloc(ds->count * sizeof *row + 1);
    struct eval_pair *pairs = malloc(ds->pairs.count * sizeof *pairs + 1);
    if (!row || !pairs) {
        free(row);
        free(pairs);
        return ufo_fail(UFO_ERR_NOMEM, "no memory for %zu pairs", ds->pairs.count);
    }
    for (size_t i = 0; i < ds->count; i++) row[i] = SIZE_MAX;
    for (size_t r = 0; r < f->n; r++) row[f->item[r]] = r;
    size_t n = 0;
    for (size_t p = 0; p < ds->pairs.count; p++) {
        size_t a = row[ds->pairs.first[p]], b = row[ds->pairs.second[p]];
        if (a != SIZE_MAX && b != SIZE_MAX)
            pairs[n++] = (struct eval_pair){a, b, ds->pairs.same[p]};
    }
    if (n < ds->pairs.count)
        log_warn("dataset %s: %zu of %zu pairs dropped (an image did not decode)", ds->name,
                 ds->pairs.count - n, ds->pairs.count);
    ufo_status st = eval_verify(f->x, f->flip, f->n, f->dim, pairs, n, folds, out);
    if (st == UFO_OK) eval_report_add(out, "dropped pairs", (double)(ds->pairs.count - n),
                                      EVAL_COUNT);
    free(row);
    free(pairs);
    return st;
}

/* SOP and VehicleID rank images by class; rows without one (label -1) are left out. */
static ufo_status eval_score_classes(const struct eval_scorer *sc, const struct eval_features *f,
                                     const int64_t *id, enum eval_protocol protocol,
                                     const struct eval_model_options *o,
                                     struct eval_report *out) {
    size_t n = 0, C = f->dim;
    for (size_t r = 0; r < f->n; r++) n += id[r] >= 0;
    const float *x = f->x;
    const int64_t *ids = id;
    float *kept = NULL;
    int64_t *kept_id = NULL;
    if (n < f->n) {
        log_warn("%zu images without a class left out", f->n - n);
        kept = malloc(n * C * sizeof *kept + 1);
        kept_id = malloc(n * sizeof *kept_id + 1);
        if (!kept || !kept_id) {
            free(kept);
            free(kept_id);
            return ufo_fail(UFO_ERR_NOMEM, "no memory for %zu features", n);
        }
        for (size_t r = 0, k = 0; r < f->n; r++)
            if (id[r] >= 0) {
                memcpy(kept + k * C, f->x + r * C, C * sizeof *kept);
                kept_id[k++] = id[r];
            }
        x = kept;
        ids = kept_id;
    }
    ufo_status st = protocol == EVAL_PROTOCOL_SOP
                        ? eval_sop(sc, x, n, C, ids, out)
                        : eval_vehicleid(sc, x, n, C, ids, o->distance, o->draws, o->seed, out);
    free(kept);
    free(kept_id);
    return st;
}

ufo_status eval_score(const struct eval_scorer *scorer, const struct data_set *ds,
                      enum eval_protocol protocol, const struct eval_features *f,
                      const struct eval_model_options *o, struct eval_report *out) {
    ufo_status st;
    if (protocol == EVAL_PROTOCOL_VERIFY) {
        st = eval_score_verify(ds, f, o->folds, out);
    } else {
        int64_t *id, *cam;
        unsigned char *split;
        if ((st = eval_feature_labels(ds, f, &id, &cam, &split)) != UFO_OK) return st;
        st = protocol == EVAL_PROTOCOL_REID
                 ? eval_score_reid(scorer, f, id, cam, split, o->distance, out)
                 : eval_score_classes(scorer, f, id, protocol, o, out);
        free(id);
        free(cam);
        free(split);
    }
    if (st == UFO_OK) eval_report_add(out, "skipped images", (double)f->skipped, EVAL_COUNT);
    return st;
}

ufo_status eval_model(struct vit *vit, const struct ufo_arch *arch, int task,
                      const struct data_set *ds, const struct eval_scorer *scorer,
                      const struct eval_model_options *o, struct eval_report *out,
                      struct eval_features *keep) {
    enum eval_protocol protocol = eval_protocol_of(ds);
    struct eval_model_options mo = *o;
    if (protocol != EVAL_PROTOCOL_VERIFY) mo.flip = 0;
    size_t *items, n;
    struct eval_features f;
    ufo_status st = eval_select_items(ds, protocol, &items, &n);
    if (st != UFO_OK) return st;
    st = eval_extract(vit, arch, task, ds, items, n, &mo, &f);
    free(items);
    if (st != UFO_OK) return st;
    st = eval_score(scorer, ds, protocol, &f, &mo, out);
    if (st == UFO_OK && keep) *keep = f;
    else eval_features_free(&f);
    return st;
}

/* `npy` with ".npy" replaced by `suffix` (appended when the name has no ".npy"). */
static ufo_status eval_sibling(const char *npy, const char *suffix, char *buf, size_t size) {
    size_t n = strlen(npy);
    if (n > 4 && strcmp(npy + n - 4, ".npy") == 0) n -= 4;
    if ((size_t)snprintf(buf, size, "%.*s%s", (int)n, npy, suffix) >= size)
        return ufo_fail(UFO_ERR_INVALID, "%s: path too long", npy);
    return UFO_OK;
}

ufo_status eval_features_save(const char *npy, const struct data_set *ds,
                              enum eval_protocol protocol, const struct eval_features *f) {
    char path[4096];
    ufo_status st = io_npy_write_matrix(npy, f->x, f->n, f->dim);
    if (st != UFO_OK) return st;
    struct io_labels l = {.n = f->n};
    if ((st = eval_feature_labels(ds, f, &l.id, &l.camera, &l.split)) != UFO_OK) return st;
    if (protocol != EVAL_PROTOCOL_REID) memset(l.split, IO_SPLIT_NONE, f->n);
    if ((st = eval_sibling(npy, ".labels.txt", path, sizeof path)) == UFO_OK)
        st = io_labels_write(path, &l);
    io_labels_free(&l);
    if (st != UFO_OK || protocol != EVAL_PROTOCOL_VERIFY) return st;

    /* verification: the pairs over rows (pairs with a missing image left out), and the flips */
    size_t *row = malloc(ds->count * sizeof *row + 1);
    if (!row) return ufo_fail(UFO_ERR_NOMEM, "no memory for %zu items", ds->count);
    for (size_t i = 0; i < ds->count; i++) row[i] = SIZE_MAX;
    for (size_t r = 0; r < f->n; r++) row[f->item[r]] = r;
    FILE *out = NULL;
    if ((st = eval_sibling(npy, ".pairs.txt", path, sizeof path)) == UFO_OK &&
        !(out = fopen(path, "w")))
        st = ufo_fail(UFO_ERR_IO, "%s: cannot write it", path);
    for (size_t p = 0; st == UFO_OK && p < ds->pairs.count; p++) {
        size_t a = row[ds->pairs.first[p]], b = row[ds->pairs.second[p]];
        if (a != SIZE_MAX && b != SIZE_MAX) fprintf(out, "%zu %zu %d\n", a, b, ds->pairs.same[p]);
    }
    if (out && fclose(out) != 0 && st == UFO_OK)
        st = ufo_fail(UFO_ERR_IO, "%s: write error", path);
    free(row);
    if (st == UFO_OK && f->flip && (st = eval_sibling(npy, ".flip.npy", path, sizeof path)) ==
                                       UFO_OK)
        st = io_npy_write_matrix(path, f->flip, f->n, f->dim);
    return st;
}

ufo_status eval_arch_parse(const struct ufo_space *space, const char *text, enum ufo_path path,
                           struct ufo_arch *arch) {
    if (strcmp(text, "largest") == 0) {
        ufo_arch_largest(space, arch);
        return UFO_OK;
    }
    if (strcmp(text, "smallest") == 0) {
        ufo_arch_smallest(space, arch);
        return UFO_OK;
    }
    size_t n = strlen(text);
    struct stat sb;
    if ((n > 5 && strcmp(text + n - 5, ".json") == 0) || stat(text, &sb) == 0)
        return ufo_arch_load(space, text, arch);
    ufo_status st = ufo_arch_from_cvpr(space, text, path, arch);
    if (st != UFO_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", ufo_last_error());
        return ufo_fail(st, "architecture \"%.64s\" is not largest, smallest, an arch .json "
                        "file or a CVPR string: %s", text, why);
    }
    return UFO_OK;
}

void eval_arch_summary(const struct ufo_arch *a, char *buf, size_t size) {
    int d = 0;
    double h = 0, m = 0;
    for (int i = 0; i < a->n_blocks; i++)
        if (a->block[i].kept) d++, h += a->block[i].heads, m += a->block[i].mlp_ratio;
    snprintf(buf, size, "d%d h%.1f m%.2f", d, d ? h / d : 0, d ? m / d : 0);
}
