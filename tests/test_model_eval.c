/* Evaluating a model on a dataset: a tiny supernet with random parameters, saved and loaded
 * back, evaluated on a small Market-1501 tree and on a list-format query/gallery set, each
 * with one corrupt image. The features must equal vit_eval_forward on the same preprocessed
 * images one at a time, and the metrics those of the same features scored on the host
 * ranking path from labels worked out here. Then ufo-eval --model (its bad inputs, JSON and
 * saved features re-scored by ufo-eval --features), and ufo-train writing eval records. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <png.h>

#include "check.h"
#include "data/augment.h"
#include "data/image.h"
#include "eval/model_eval.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/vit.h"
#include "train/train.h"

static char dir[] = "/tmp/ufo-test-model-eval-XXXXXX";

/* An RGB PNG of identity `id` (its colour bands) with per-image noise from `seed`, so that
 * no two images are the same. */
static void write_png(const char *path, int w, int h, int id, unsigned seed) {
    png_byte *pixels = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                seed = seed * 1103515245u + 12345u;
                int v = ((y * 4 / h + c + id) % 4) * 60 + (int)((seed >> 16) % 50);
                pixels[((size_t)y * w + x) * 3 + c] = (png_byte)(v > 255 ? 255 : v);
            }
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, pixels + (size_t)y * w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(pixels);
    fclose(f);
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* A Market-1501 tree: persons 1-4 queried from camera 1, each with two gallery images from
 * camera 2 and one from camera 1 (removed as same-camera); person 5 queried without a gallery
 * image (a skipped query); two distractors (0000) and a junk box (-1); one corrupt file. */
static void write_market(const char *root) {
    char path[700];
    snprintf(path, sizeof path, "%s/query", root);
    mkdir(root, 0777);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/bounding_box_test", root);
    mkdir(path, 0777);
    unsigned seed = 1;
    for (int id = 1; id <= 5; id++) {
        snprintf(path, sizeof path, "%s/query/%04d_c1s1_000001_00.png", root, id);
        write_png(path, 12, 20, id, seed++);
        if (id == 5) continue;
        for (int k = 0; k < 3; k++) {
            snprintf(path, sizeof path, "%s/bounding_box_test/%04d_c%ds1_%06d_00.png", root, id,
                     k == 2 ? 1 : 2, 10 + k);
            write_png(path, 12 + 2 * k, 20, id, seed++);
        }
    }
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/bounding_box_test/0000_c3s1_%06d_00.png", root, 50 + k);
        write_png(path, 16, 16, 2 + k, seed++);
    }
    snprintf(path, sizeof path, "%s/bounding_box_test/-1_c3s1_000060_00.png", root);
    write_png(path, 16, 16, 1, seed++);
    snprintf(path, sizeof path, "%s/bounding_box_test/0003_c2s1_000099_00.png", root);
    write_text(path, "this is not an image");
}

/* A list set: training images of labels 0-3, queries and a gallery of labels 10-12 without a
 * camera column, one gallery file corrupt. */
static void write_list(const char *root) {
    char path[700], line[128];
    mkdir(root, 0777);
    static char train[4096], query[1024], gallery[2048];
    unsigned seed = 100;
    for (int i = 0; i < 16; i++) {
        snprintf(path, sizeof path, "%s/t%02d.png", root, i);
        write_png(path, 16, 16, i % 4, seed++);
        snprintf(line, sizeof line, "t%02d.png %d\n", i, i % 4);
        strcat(train, line);
    }
    for (int id = 10; id <= 12; id++) {
        snprintf(path, sizeof path, "%s/q%d.png", root, id);
        write_png(path, 20, 14, id, seed++);
        snprintf(line, sizeof line, "q%d.png %d\n", id, id);
        strcat(query, line);
        for (int k = 0; k < 2; k++) {
            snprintf(path, sizeof path, "%s/g%d_%d.png", root, id, k);
            write_png(path, 14, 20, id, seed++);
            snprintf(line, sizeof line, "g%d_%d.png %d\n", id, k, id);
            strcat(gallery, line);
        }
    }
    snprintf(path, sizeof path, "%s/broken.png", root);
    write_text(path, "\x89PNG\r\n\x1a\n truncated");
    strcat(gallery, "broken.png 11\n");
    snprintf(path, sizeof path, "%s/train.txt", root);
    write_text(path, train);
    snprintf(path, sizeof path, "%s/query.txt", root);
    write_text(path, query);
    snprintf(path, sizeof path, "%s/gallery.txt", root);
    write_text(path, gallery);
}

/* The supernet of the run config below with random parameters and BN-neck statistics. */
static void make_space(struct ufo_space *s) {
    memset(s, 0, sizeof *s);
    *s = (struct ufo_space){.embed_dim = 32, .head_dim = 16, .max_heads = 2, .depth = 3,
                            .patch = 8, .image_size = 16, .mlp_ratio_max = 2,
                            .n_heads_choices = 2, .heads_choices = {1, 2}, .n_mlp_choices = 2,
                            .mlp_ratio_choices = {1, 2}, .min_depth = 2, .n_tasks = 2};
    const char *names[] = {"people", "things"};
    for (int t = 0; t < 2; t++)
        s->tasks[t] = (struct ufo_task){.classes = 4, .cosface_scale = 16, .cosface_margin = 0.1,
                                        .loss_weight = 1};
    snprintf(s->tasks[0].name, sizeof s->tasks[0].name, "%s", names[0]);
    snprintf(s->tasks[1].name, sizeof s->tasks[1].name, "%s", names[1]);
}

static void save_model(const struct ufo_layout *L, const char *path) {
    float *p = malloc(L->total * sizeof *p);
    ufo_layout_init(L, 11, p);
    unsigned seed = 5;
    for (int t = 0; t < L->space.n_tasks; t++)
        for (int c = 0; c < L->space.embed_dim; c++) {
            seed = seed * 1103515245u + 12345u;
            p[L->params[L->head[t].bn_mean].offset + c] = (float)((seed >> 16) % 100) / 500.0f;
            p[L->params[L->head[t].bn_var].offset + c] = 0.5f + (float)((seed >> 8) % 100) / 100;
        }
    REQUIRE_OK(ufo_params_save(L, p, path, NULL, 0));
    free(p);
}

/* Features of each row again, one image per pass, straight through vit_eval_forward. */
static void check_features(struct vit *vit, const struct ufo_arch *arch, int task,
                           const struct data_set *ds, const struct eval_features *f,
                           const char *what) {
    int side = vit_layout(vit)->space.image_size;
    size_t C = f->dim;
    struct data_transform tf;
    data_transform_defaults(&tf, side, side);
    struct data_decoder *dec;
    REQUIRE_OK(data_decoder_new(&dec));
    float *img = malloc(3 * (size_t)side * side * sizeof *img), *neck = malloc(C * sizeof *neck);
    int bad = 0;
    double worst = 0;
    for (size_t r = 0; r < f->n; r++) {
        struct data_image im;
        REQUIRE_OK(data_decode_item(dec, ds, &ds->items[f->item[r]], side, side, &im));
        REQUIRE_OK(data_transform_eval(&tf, &im, img));
        data_image_free(&im);
        struct vit_batch b = {.size = 1, .images = img};
        for (int t = 0; t <= UFO_MAX_TASKS; t++) b.task_begin[t] = t <= task ? 0 : 1;
        REQUIRE_OK(vit_eval_forward(vit, arch, &b, NULL, neck));
        double scale = 0;
        for (size_t c = 0; c < C; c++) scale = fmax(scale, fabs(neck[c]));
        for (size_t c = 0; c < C; c++) {
            double err = fabs((double)f->x[r * C + c] - neck[c]);
            worst = fmax(worst, err / scale);
            if (!(err <= 1e-4 * scale + 1e-6) && bad++ < 4)
                fprintf(stderr, "  %s row %zu [%zu]: %.7g batched, %.7g alone\n", what, r, c,
                        f->x[r * C + c], neck[c]);
        }
    }
    EXPECT(bad == 0, "%s: %d feature values differ from a direct forward (worst rel %.2e)", what,
           bad, worst);
    free(img);
    free(neck);
    data_decoder_free(dec);
}

/* The same features scored on the host from labels taken straight from the items. */
static void check_metrics(const struct data_set *ds, const struct eval_features *f,
                          const struct eval_report *got, const char *what) {
    size_t C = f->dim, nq = 0, ng = 0;
    float *q = malloc(f->n * C * sizeof *q), *g = malloc(f->n * C * sizeof *g);
    int64_t *qid = malloc(f->n * 8), *gid = malloc(f->n * 8), *qc = malloc(f->n * 8),
            *gc = malloc(f->n * 8);
    for (size_t r = 0; r < f->n; r++) {
        const struct data_item *it = &ds->items[f->item[r]];
        int64_t cam = it->camera >= 0 ? it->camera : 1000 + (int64_t)r; /* unknown: unique */
        if (it->split == DATA_QUERY) {
            memcpy(q + nq * C, f->x + r * C, C * 4);
            qid[nq] = it->label;
            qc[nq++] = cam;
        } else {
            memcpy(g + ng * C, f->x + r * C, C * 4);
            gid[ng] = it->label >= 0 ? it->label : 999; /* a distractor: ranked, no match */
            gc[ng++] = cam;
        }
    }
    struct eval_rank_task t = {.query = q, .gallery = g, .n_query = nq, .n_gallery = ng,
                               .dim = C, .query_id = qid, .query_camera = qc, .gallery_id = gid,
                               .gallery_camera = gc, .distance = EVAL_COSINE};
    struct eval_scorer host = {0};
    struct eval_report want;
    REQUIRE_OK(eval_reid(&host, &t, 0, &want));
    for (size_t i = 0; i < want.n_entries; i++) {
        double a = eval_report_get(got, want.entry[i].name), b = want.entry[i].value;
        EXPECT(fabs(a - b) <= 1e-12, "%s: %s = %.6f, host scoring gives %.6f", what,
               want.entry[i].name, a, b);
    }
    free(q);
    free(g);
    free(qid);
    free(gid);
    free(qc);
    free(gc);
}

/* Verification pairs (CALFW style) over the list set's images, one pair naming the corrupt
 * file: the pair is dropped, the accuracy that of the same features scored here. */
static void test_verify(struct vit *vit, const struct ufo_arch *arch, const char *root) {
    char path[700];
    snprintf(path, sizeof path, "%s/verify.txt", root);
    write_text(path, "g10_0.png 1\ng10_1.png 1\ng11_0.png 0\ng12_0.png 0\n"
                     "g12_0.png 1\ng12_1.png 1\ng10_1.png 0\nq11.png 0\n"
                     "g11_0.png 1\ng11_1.png 1\nq10.png 0\ng12_1.png 0\n"
                     "broken.png 1\nbroken_2.png 1\n");
    snprintf(path, sizeof path, "%s/broken_2.png", root);
    write_png(path, 8, 8, 1, 9);
    struct data_spec spec = {.format = "pairs", .root = root, .file = "verify.txt",
                             .images = "."};
    struct data_set ds;
    REQUIRE_OK(data_open(&spec, &ds));
    EXPECT(eval_protocol_of(&ds) == EVAL_PROTOCOL_VERIFY, "pairs are scored as verify");
    struct eval_model_options o;
    eval_model_options_default(&o);
    o.flip = 1;
    o.folds = 2;
    struct eval_scorer host = {0};
    struct eval_report rep, want;
    struct eval_features f;
    REQUIRE_OK(eval_model(vit, arch, 0, &ds, &host, &o, &rep, &f));
    EXPECT(f.skipped == 1 && eval_report_get(&rep, "dropped pairs") == 1,
           "verify: the pair with the corrupt image dropped (%zu skipped, %g dropped)",
           f.skipped, eval_report_get(&rep, "dropped pairs"));
    check_features(vit, arch, 0, &ds, &f, "verify");
    int differ = 0;
    for (size_t i = 0; i < f.n * f.dim; i++) differ += f.x[i] != f.flip[i];
    EXPECT(differ > 0, "the mirrored images give other features");

    /* the pairs mapped to rows here, scored by eval_verify directly */
    struct eval_pair pairs[8];
    size_t n = 0;
    for (size_t p = 0; p < ds.pairs.count; p++) {
        size_t a = SIZE_MAX, b = SIZE_MAX;
        for (size_t r = 0; r < f.n; r++) {
            if (f.item[r] == ds.pairs.first[p]) a = r;
            if (f.item[r] == ds.pairs.second[p]) b = r;
        }
        if (a != SIZE_MAX && b != SIZE_MAX)
            pairs[n++] = (struct eval_pair){a, b, ds.pairs.same[p]};
    }
    EXPECT(n == 6, "6 usable pairs (%zu)", n);
    REQUIRE_OK(eval_verify(f.x, f.flip, f.n, f.dim, pairs, n, 2, &want));
    for (size_t i = 0; i < want.n_entries; i++)
        EXPECT(fabs(eval_report_get(&rep, want.entry[i].name) - want.entry[i].value) <= 1e-12,
               "verify: %s differs", want.entry[i].name);
    eval_features_free(&f);
    data_set_free(&ds);
}

/* A single list in the test split: every image queries the others (SOP's protocol), the
 * recall that of eval_sop on the same features with the labels read here. */
static int stop_now(void) { return 1; }

/* Items 0, 1, 2 of a dataset (for calls that take an item list). */
static const size_t *f_items(const struct data_set *ds) {
    static const size_t first[3] = {0, 1, 2};
    return ds->count >= 3 ? first : NULL;
}

static void test_single_list(struct vit *vit, const struct ufo_arch *arch, const char *root) {
    struct data_spec spec = {.format = "list", .root = root, .file = "gallery.txt",
                             .split = DATA_TEST, .parts = DATA_PART_EVAL};
    struct data_set ds;
    REQUIRE_OK(data_open(&spec, &ds));
    EXPECT(eval_protocol_of(&ds) == EVAL_PROTOCOL_SOP, "a test-split list is scored as sop");
    struct eval_model_options o;
    eval_model_options_default(&o);
    struct eval_report rep, want;
    struct eval_features f;
    struct eval_scorer host = {0};
    REQUIRE_OK(eval_model(vit, arch, 1, &ds, &host, &o, &rep, &f));
    int64_t id[16];
    for (size_t r = 0; r < f.n && r < 16; r++) id[r] = ds.items[f.item[r]].label;
    EXPECT(f.n == 6 && f.skipped == 1, "sop: 6 rows, 1 skipped (%zu, %zu)", f.n, f.skipped);
    REQUIRE_OK(eval_sop(&host, f.x, f.n, f.dim, id, &want));
    for (size_t i = 0; i < want.n_entries; i++)
        EXPECT(fabs(eval_report_get(&rep, want.entry[i].name) - want.entry[i].value) <= 1e-12,
               "sop: %s differs", want.entry[i].name);
    eval_features_free(&f);

    /* a stop request (Ctrl-C) ends the extraction at the next batch */
    o.stop = stop_now;
    ufo_status st = eval_extract(vit, arch, 1, &ds, f_items(&ds), 3, &o, &f);
    EXPECT(st == UFO_ERR_INTERRUPTED && strstr(ufo_last_error(), "stopped after 0 of 3"),
           "a stop request: %s: %s", ufo_status_name(st), ufo_last_error());
    EXPECT(f.x == NULL && f.n == 0, "a stopped extraction leaves no features");
    data_set_free(&ds);
}

/* Run a command; returns its exit status, its stderr in `err`. */
static int run(const char *cmd, char *err, size_t size) {
    char full[4096], path[700];
    snprintf(path, sizeof path, "%s/stderr.txt", dir);
    snprintf(full, sizeof full, "%s 2>'%s' >/dev/null", cmd, path);
    int rc = system(full);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(err, 1, size - 1, f) : 0;
    err[n] = '\0';
    if (f) fclose(f);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* values.NAME of results[0] (ufo-eval --model JSON) or of the root (--features JSON). */
static double json_value(const char *path, const char *name) {
    json_t *root = json_load_file(path, 0, NULL);
    if (!root) return NAN;
    json_t *r = json_object_get(root, "results");
    json_t *o = r ? json_array_get(r, 0) : root;
    json_t *v = json_object_get(json_object_get(o, "values"), name);
    double x = v ? json_number_value(v) : NAN;
    json_decref(root);
    return x;
}

/* A supernet file whose tensors are those of a narrower model than its metadata says. */
static void write_mismatched(const char *path) {
    struct ufo_space big, small;
    make_space(&big);
    make_space(&small);
    small.embed_dim = 16;
    struct ufo_layout L;
    REQUIRE_OK(ufo_layout_create(&small, &L));
    float *p = calloc(L.total, sizeof *p);
    struct ufo_st_out *outs = calloc((size_t)L.n, sizeof *outs);
    for (int i = 0; i < L.n; i++) {
        outs[i] = (struct ufo_st_out){.name = L.params[i].name, .ndim = L.params[i].ndim,
                                      .data = p + L.params[i].offset};
        memcpy(outs[i].shape, L.params[i].shape, sizeof L.params[i].shape);
    }
    char *json;
    REQUIRE_OK(ufo_space_to_json(&big, &json));
    const char *meta[] = {UFO_META_FORMAT, "ufo-supernet-1", UFO_META_SPACE, json};
    REQUIRE_OK(ufo_st_write(path, outs, (size_t)L.n, meta, 2));
    free(json);
    free(outs);
    free(p);
    ufo_layout_free(&L);
}

/* The ufo-eval program: one-line errors for bad inputs, then a full evaluation whose saved
 * features re-score to the same values. */
static void test_cli(const char *model, const char *ini) {
    if (access("./ufo-eval", X_OK) != 0) {
        EXPECT(0, "./ufo-eval not found in %s's working folder", "test_model_eval");
        return;
    }
    char cmd[4096], err[4096], json[700], rescore[700], npy[700], labels[700];
    snprintf(cmd, sizeof cmd, "./ufo-eval --model '%s/none.safetensors' --config '%s' "
             "--task people", dir, ini);
    int rc = run(cmd, err, sizeof err);
    EXPECT(rc == 1 && strstr(err, "none.safetensors") && strchr(err, '\n') == strrchr(err, '\n'),
           "missing model: rc %d, one line naming it: %s", rc, err);
    snprintf(cmd, sizeof cmd, "./ufo-eval --model '%s/run.ini' --config '%s' --task people", dir,
             ini);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 1 && strstr(err, "run.ini"), "not a model file: rc %d: %s", rc, err);
    char odd[700];
    snprintf(odd, sizeof odd, "%s/mismatched.safetensors", dir);
    write_mismatched(odd);
    snprintf(cmd, sizeof cmd, "./ufo-eval --model '%s' --config '%s' --task people", odd, ini);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 1 && strstr(err, "mismatched.safetensors") && strstr(err, "shape"),
           "tensors unlike the metadata's model: rc %d: %s", rc, err);
    snprintf(cmd, sizeof cmd, "./ufo-eval --model '%s' --config '%s' --task cars", model, ini);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 1 && strstr(err, "no task \"cars\"") && strstr(err, "people, things"),
           "unknown task: rc %d: %s", rc, err);
    snprintf(cmd, sizeof cmd, "./ufo-eval --model '%s' --config '%s' --task people --arch k111",
             model, ini);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 1 && strstr(err, "k111") && strstr(err, "largest"), "bad arch: rc %d: %s", rc,
           err);
    snprintf(cmd, sizeof cmd, "./ufo-eval --model '%s' --task people", model);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 2 && strstr(err, "--config"), "no config: rc %d: %s", rc, err);

    /* a full run with JSON and saved features; the features re-scored on the host */
    snprintf(json, sizeof json, "%s/eval.json", dir);
    snprintf(npy, sizeof npy, "%s/feat.npy", dir);
    snprintf(labels, sizeof labels, "%s/feat.labels.txt", dir);
    snprintf(rescore, sizeof rescore, "%s/rescore.json", dir);
    snprintf(cmd, sizeof cmd, "./ufo-eval --model '%s' --config '%s' --task people --arch "
             "smallest --batch 4 --json '%s' --save-features '%s'", model, ini, json, npy);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 0, "ufo-eval --model: rc %d: %s", rc, err);
    snprintf(cmd, sizeof cmd, "./ufo-eval --metric reid --features '%s' --labels '%s' --host "
             "--json '%s'", npy, labels, rescore);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 0, "re-scoring the saved features: rc %d: %s", rc, err);
    EXPECT(json_value(json, "skipped images") == 1, "the corrupt image is counted in the JSON");
    const char *names[] = {"queries", "skipped queries", "gallery", "rank-1", "rank-5", "mAP",
                           "mINP"};
    for (int i = 0; i < 7; i++) {
        double a = json_value(json, names[i]), b = json_value(rescore, names[i]);
        EXPECT(fabs(a - b) <= 1e-12, "%s: %.6f from the model, %.6f re-scored", names[i], a, b);
    }

    /* a gallery set without its labels, or with labels of the wrong length: one line naming
     * the flag or file, never a crash */
    snprintf(cmd, sizeof cmd, "./ufo-eval --metric reid --features '%s' --labels '%s' --host "
             "--gallery-features '%s'", npy, labels, npy);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 1 && strstr(err, "--gallery-labels"), "gallery without labels: rc %d: %s", rc,
           err);
    snprintf(cmd, sizeof cmd, "./ufo-eval --metric reid --features '%s' --labels '%s' --host "
             "--gallery-features '%s' --gallery-labels '%s'", npy, labels, npy, ini);
    rc = run(cmd, err, sizeof err);
    EXPECT(rc == 1 && strstr(err, "run.ini"), "gallery with bad labels: rc %d: %s", rc, err);
}

/* ufo-train with eval.interval 2 and at_end: an eval record per task at steps 2 and 4. */
static void test_train_eval(const char *ini) {
    char run_dir[700], over[800], path[800];
    snprintf(run_dir, sizeof run_dir, "%s/run", dir);
    snprintf(over, sizeof over, "train.run_dir=%s", run_dir);
    const char *overrides[] = {over, "train.iterations=4", "eval.interval=2"};
    struct train_config *tc;
    REQUIRE_OK(train_config_load(&tc, ini, overrides, 3));
    struct train_request req = {0};
    REQUIRE_OK(train_run(tc, &req));
    train_config_free(tc);

    snprintf(path, sizeof path, "%s/train.jsonl", run_dir);
    FILE *f = fopen(path, "r");
    EXPECT(f != NULL, "%s written", path);
    if (!f) return;
    char line[4096];
    int found[2][5] = {{0}};
    while (fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        json_t *e = o ? json_object_get(o, "eval") : NULL;
        if (e) {
            long step = (long)json_integer_value(json_object_get(o, "step"));
            const char *task = json_string_value(json_object_get(e, "task"));
            json_t *m = json_object_get(e, "metrics");
            int t = task && strcmp(task, "people") == 0 ? 0 : 1;
            double r1 = json_number_value(json_object_get(m, "rank-1"));
            double skipped = json_number_value(json_object_get(m, "skipped images"));
            EXPECT(r1 >= 0 && r1 <= 1 && skipped == 1, "eval record: rank-1 %g, skipped %g", r1,
                   skipped);
            if (step >= 0 && step <= 4) found[t][step]++;
        }
        json_decref(o);
    }
    fclose(f);
    for (int t = 0; t < 2; t++)
        EXPECT(found[t][2] == 1 && found[t][4] == 1 && found[t][1] + found[t][3] == 0,
               "task %d: eval records at steps 2 and 4 (%d, %d)", t, found[t][2], found[t][4]);
}

int main(void) {
    ufo_device *dev = test_open_device();
    if (!mkdtemp(dir)) return 1;
    setenv("UFO_LOG", "error", 1);
    char market[600], list[600], model[600], ini[600];
    snprintf(market, sizeof market, "%s/market", dir);
    snprintf(list, sizeof list, "%s/list", dir);
    snprintf(model, sizeof model, "%s/supernet.safetensors", dir);
    snprintf(ini, sizeof ini, "%s/run.ini", dir);
    write_market(market);
    write_list(list);
    FILE *f = fopen(ini, "w");
    fprintf(f,
            "[model]\nembed_dim = 32\ndepth = 3\nheads = 2\nhead_dim = 16\npatch_size = 8\n"
            "image_size = 16\nmlp_ratio_max = 2\nheads_choices = 1, 2\n"
            "mlp_ratio_choices = 1, 2\nmin_depth = 2\n"
            "[dataset.items]\nformat = list\nroot = %s\nfile = train.txt\nquery = query.txt\n"
            "gallery = gallery.txt\n"
            "[dataset.market]\nformat = market1501\nroot = %s\n"
            "[task.people]\nkind = retrieval\ndatasets = items\neval_datasets = market\n"
            "batch_size = 4\ncosface_scale = 16\nautoaugment = false\n"
            "[task.things]\nkind = retrieval\ndatasets = items\neval_datasets = items\n"
            "batch_size = 4\ncosface_scale = 16\nautoaugment = false\n"
            "[train]\nbatch_size = 8\nlog_interval = 2\nworkers = -1\n"
            "[eval]\nat_end = true\nbatch_size = 3\n",
            list, market);
    fclose(f);

    /* the model, saved and loaded back as ufo-eval does */
    struct ufo_space space, from_file;
    make_space(&space);
    struct vit *vit;
    REQUIRE_OK(vit_create(dev, &space, 3, &vit));
    const struct ufo_layout *L = vit_layout(vit);
    save_model(L, model);
    REQUIRE_OK(ufo_space_from_file(model, &from_file));
    float *params = malloc(L->total * sizeof *params);
    REQUIRE_OK(ufo_params_load(L, params, model));
    REQUIRE_OK(vit_upload(vit, params));
    free(params);

    struct ufo_arch largest, smallest, bad;
    REQUIRE_OK(eval_arch_parse(&space, "largest", UFO_PATH_BOTH, &largest));
    REQUIRE_OK(eval_arch_parse(&space, "smallest", UFO_PATH_BOTH, &smallest));
    EXPECT(eval_arch_parse(&space, "nonsense", UFO_PATH_BOTH, &bad) != UFO_OK &&
           strstr(ufo_last_error(), "nonsense"), "a bad arch fails: %s", ufo_last_error());
    struct ufo_arch cvpr;
    REQUIRE_OK(eval_arch_parse(&space, "b211111000", UFO_PATH_SHARED, &cvpr));
    EXPECT(ufo_arch_depth(&cvpr) == 2 && cvpr.block[0].heads == 1, "a CVPR string parses");

    /* re-id tree and list set, each through the library path */
    struct eval_model_options o;
    eval_model_options_default(&o);
    struct eval_scorer on_device = {dev, 0, 0};
    const char *roots[] = {market, list}, *formats[] = {"market1501", "list"};
    const struct ufo_arch *archs[] = {&largest, &smallest};
    for (int k = 0; k < 2; k++) {
        struct data_spec spec = {.format = formats[k], .root = roots[k], .parts = DATA_PART_EVAL,
                                 .file = k ? "train.txt" : NULL, .query = k ? "query.txt" : NULL,
                                 .gallery = k ? "gallery.txt" : NULL};
        struct data_set ds;
        REQUIRE_OK(data_open(&spec, &ds));
        EXPECT(eval_protocol_of(&ds) == EVAL_PROTOCOL_REID, "%s is scored as reid", formats[k]);
        EXPECT(ds.report.images[DATA_TRAIN] == 0, "%s: the evaluation part only", formats[k]);
        struct eval_report rep;
        struct eval_features feat;
        REQUIRE_OK(eval_model(vit, archs[k], k, &ds, &on_device, &o, &rep, &feat));
        EXPECT(feat.skipped == 1 && eval_report_get(&rep, "skipped images") == 1,
               "%s: one undecodable image skipped (%zu)", formats[k], feat.skipped);
        EXPECT(feat.n + 1 == ds.count, "%s: every other image has a row (%zu of %zu)",
               formats[k], feat.n, ds.count);
        size_t want_q = k ? 3 : 4, want_g = k ? 6 : 14;
        EXPECT(eval_report_get(&rep, "queries") == want_q &&
               eval_report_get(&rep, "gallery") == want_g,
               "%s: %g queries, %g gallery", formats[k], eval_report_get(&rep, "queries"),
               eval_report_get(&rep, "gallery"));
        check_features(vit, archs[k], k, &ds, &feat, formats[k]);
        check_metrics(&ds, &feat, &rep, formats[k]);

        /* a task the model lacks */
        size_t item = 0;
        struct eval_features none;
        EXPECT(eval_extract(vit, archs[k], 5, &ds, &item, 1, &o, &none) == UFO_ERR_INVALID,
               "task 5 is refused");
        eval_features_free(&feat);
        data_set_free(&ds);
    }
    test_verify(vit, &largest, list);
    test_single_list(vit, &smallest, list);
    vit_destroy(vit);
    ufo_device_close(dev);

    test_cli(model, ini);
    test_train_eval(ini);

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (test_failures == 0 && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish("test_model_eval");
}
