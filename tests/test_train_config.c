/* The training configuration: the paper's defaults, the example config, batch resolution, the
 * saved-config round trip, and a table of invalid configurations each with its exact message. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "train/train_config.h"

static int failures;
static char dir[256];

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                                \
            fputc('\n', stderr);                                         \
        }                                                                \
    } while (0)

static const char *put(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
    return path;
}

/* Two tasks: the smallest valid run (6 lines; cases put their own lines first). */
#define BASE                       \
    "[task.a]\n"                   \
    "kind = face\n"                \
    "datasets = folder:/d/a\n"     \
    "[task.b]\n"                   \
    "kind = retrieval\n"           \
    "datasets = market1501:/d/m\n"

static void test_defaults(void) {
    static const char *sets[] = {"task.only.kind=classification", "task.only.datasets=idx:/m"};
    struct train_config *tc;
    ufo_status st = train_config_load(&tc, NULL, sets, 2);
    CHECK(st == UFO_OK, "defaults: %s", ufo_last_error());
    if (st != UFO_OK) return;

    /* the paper's ViT-B recipe */
    const struct train_loop_config *t = &tc->train;
    CHECK(t->base_lr == 0.1 && t->momentum == 0.9 && t->weight_decay == 1e-4 &&
              t->grad_clip == 5 && t->warmup_fraction == 0.1 && t->final_lr_fraction == 0.02 &&
              t->bias_lr_factor == 2 && t->sampling == TRAIN_SAMPLE_UNIFORM && t->seed == 0,
          "optimiser defaults");
    CHECK(t->batch_size == 512 && t->iterations == 120000 && t->checkpoint_interval == 1000 &&
              t->keep_checkpoints == 3 && t->log_interval == 20 && t->workers == 0 &&
              t->max_bad_steps == 5 && strcmp(t->init, "") == 0 &&
              strcmp(t->run_dir, "runs/ufo") == 0, "loop defaults");
    const struct train_model_config *m = &tc->model;
    CHECK(m->embed_dim == 768 && m->depth == 12 && m->heads == 12 && m->head_dim == 64 &&
              m->patch_size == 16 && m->image_size == 224 &&
              m->mlp_ratio_max == 4 && m->min_depth == 10 && m->drop_path_rate == 0.2 &&
              m->gumbel_temperature == 5, "model defaults");
    CHECK(m->heads_choices.n == 3 && m->heads_choices.v[0] == 10 && m->heads_choices.v[2] == 12,
          "heads_choices");
    CHECK(m->mlp_ratio_choices.n == 3 && m->mlp_ratio_choices.v[1] == 3.5, "mlp_ratio_choices");
    CHECK(strcmp(tc->device.spec, "auto") == 0, "device");
    CHECK(tc->eval.interval == 0 && tc->eval.tasks.n == 0 && tc->eval.batch_size == 64 &&
              tc->eval.at_end && strcmp(tc->eval.arch, "largest") == 0, "eval defaults");
    CHECK(tc->n_tasks == 1, "tasks %zu", tc->n_tasks);
    if (tc->n_tasks == 1) {
        const struct train_task_config *k = &tc->tasks[0];
        CHECK(strcmp(k->name, "only") == 0 && k->kind == TRAIN_TASK_CLASSIFICATION &&
                  k->batch == 0 && k->cosface_scale == 64 && k->cosface_margin == 0.35 &&
                  !k->triplet && k->triplet_weight == 1 && k->loss_weight == 1 &&
                  k->lr_scale == 1 && k->instances_per_label == 4 && k->pad_crop && k->pad == 10,
              "task defaults");
        CHECK(k->n_datasets == 1 && k->datasets[0].name == NULL &&
                  strcmp(k->datasets[0].format, "idx") == 0 &&
                  strcmp(k->datasets[0].root, "/m") == 0 && k->n_eval_datasets == 0,
              "inline dataset");
    }
    train_config_free(tc);
}

/* The example config in data/ must load and mean what it says. */
static void test_example(void) {
    const char *tests = getenv("UFO_TEST_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/../data/vitb-ufo.ini", tests ? tests : "tests");
    struct train_config *tc;
    ufo_status st = train_config_load(&tc, path, NULL, 0);
    CHECK(st == UFO_OK, "%s: %s", path, ufo_last_error());
    if (st != UFO_OK) return;
    CHECK(tc->n_tasks == 4 && strcmp(tc->tasks[0].name, "face") == 0 &&
              strcmp(tc->tasks[3].name, "product") == 0, "tasks");
    for (size_t i = 0; i < tc->n_tasks; i++)
        CHECK(tc->tasks[i].batch == 0, "task %zu batch %ld (by dataset size)", i,
              tc->tasks[i].batch);
    const struct train_task_config *person = &tc->tasks[train_config_task_index(tc, "person")];
    CHECK(person->kind == TRAIN_TASK_RETRIEVAL && person->triplet && person->n_datasets == 2 &&
              strcmp(person->datasets[1].format, "msmt17") == 0 &&
              strcmp(person->datasets[1].name, "msmt17") == 0 &&
              strcmp(person->datasets[1].root, "/data/MSMT17_V1") == 0, "person datasets");
    const struct train_task_config *vehicle = &tc->tasks[train_config_task_index(tc, "vehicle")];
    CHECK(vehicle->n_datasets == 3 && vehicle->datasets[1].test_size == 2400 &&
              vehicle->n_eval_datasets == 1, "vehicle datasets");
    const struct train_task_config *face = &tc->tasks[0];
    CHECK(face->kind == TRAIN_TASK_FACE && face->n_eval_datasets == 3 &&
              strcmp(face->eval_datasets[2].format, "facebin") == 0 &&
              strcmp(face->eval_datasets[2].file, "agedb_30.bin") == 0, "face eval datasets");
    CHECK(tc->n_datasets == 10, "dataset sections %zu", tc->n_datasets);
    CHECK(tc->train.workers == 8 && tc->eval.interval == 10000, "train/eval values");
    train_config_free(tc);
}

/* Every option a format reads stays accepted, with its value, and a saved copy reloads. */
static void test_dataset_options(void) {
    const char *ini =
        "[dataset.cards]\nformat = list\nroot = /c\nfile = t.txt\nquery = q.txt\n"
        "gallery = g.txt\nsplit = test\nno_file_check = true\n"
        "[dataset.cplfw]\nformat = pairs\nroot = /p\nfile = p.txt\nimages = img\n"
        "no_file_check = true\n"
        "[dataset.vid]\nformat = vehicleid\nroot = /v\ntest_size = 800\nno_file_check = true\n"
        "[dataset.digits]\nformat = idx\nroot = /m\nfile = t10k\nsplit = gallery\n"
        "[dataset.pics]\nformat = folder\nroot = /f\nsplit = query\n"
        "[task.c]\nkind = retrieval\ndatasets = cards, vid, digits, pics\n"
        "[task.f]\nkind = face\ndatasets = folder:/x\neval_datasets = cplfw\n";
    struct train_config *tc = NULL, *tc2 = NULL;
    ufo_status st = train_config_load(&tc, put("options.ini", ini), NULL, 0);
    CHECK(st == UFO_OK, "dataset options: %s", ufo_last_error());
    if (st != UFO_OK) return;
    const struct train_dataset *d = tc->tasks[0].datasets;
    CHECK(tc->tasks[0].n_datasets == 4 && strcmp(d[0].query, "q.txt") == 0 &&
              strcmp(d[0].gallery, "g.txt") == 0 && strcmp(d[0].file, "t.txt") == 0 &&
              d[0].split == 3 && d[0].no_file_check && d[1].test_size == 800 &&
              strcmp(d[2].file, "t10k") == 0 && d[2].split == 2 && d[3].split == 1,
          "dataset options bound wrong");
    const struct train_dataset *p = tc->tasks[1].eval_datasets;
    CHECK(tc->tasks[1].n_eval_datasets == 1 && strcmp(p->images, "img") == 0, "pairs images");
    char saved[512];
    snprintf(saved, sizeof saved, "%s/options-saved.ini", dir);
    CHECK(train_config_save(tc, saved) == UFO_OK, "save: %s", ufo_last_error());
    CHECK(train_config_load(&tc2, saved, NULL, 0) == UFO_OK, "reload saved options: %s",
          ufo_last_error());
    train_config_free(tc);
    train_config_free(tc2);
}

static void test_batches(void) {
    static const struct {
        const char *ini;
        long a, b;
    } cases[] = {
        /* 0: the batcher splits what is left by dataset size (tested in test_batch) */
        {BASE, 0, 0},
        {"[train]\nbatch_size = 301\n" BASE, 0, 0},
        {"[task.c]\nkind = face\ndatasets = folder:/c\nbatch_size = 100\n" BASE, 0, 0},
        {"[task.a]\nkind = face\ndatasets = folder:/a\nbatch_share = 0.25\n"
         "[task.b]\nkind = face\ndatasets = folder:/b\n", 128, 0},
        {"[train]\nbatch_size = 96\n[task.a]\nkind = face\ndatasets = folder:/a\nbatch_size = 32\n"
         "[task.b]\nkind = face\ndatasets = folder:/b\nbatch_share = 0.6666\n", 32, 64},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct train_config *tc;
        ufo_status st = train_config_load(&tc, put("batch.ini", cases[i].ini), NULL, 0);
        CHECK(st == UFO_OK, "batch case %zu: %s", i, ufo_last_error());
        if (st != UFO_OK) continue;
        long a = tc->tasks[train_config_task_index(tc, "a")].batch;
        long b = tc->tasks[train_config_task_index(tc, "b")].batch;
        CHECK(a == cases[i].a && b == cases[i].b, "batch case %zu: %ld %ld, want %ld %ld", i, a,
              b, cases[i].a, cases[i].b);
        train_config_free(tc);
    }
}

/* Saved with every run, the effective config must read back to the same configuration. */
static void test_round_trip(void) {
    const char *tests = getenv("UFO_TEST_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/../data/vitb-ufo.ini", tests ? tests : "tests");
    static const char *sets[] = {"train.base_lr=0.05", "task.person.lr_scale=0.5",
                                 "task.extra.kind=classification",
                                 "task.extra.datasets=folder:/x/with ; semicolon",
                                 "task.extra.batch_size=24", "train.batch_size=1048",
                                 "eval.tasks=person, face", "train.sampling=sandwich"};
    struct train_config *tc, *tc2 = NULL;
    ufo_status st = train_config_load(&tc, path, sets, sizeof sets / sizeof sets[0]);
    CHECK(st == UFO_OK, "load with overrides: %s", ufo_last_error());
    if (st != UFO_OK) return;
    char saved[512];
    snprintf(saved, sizeof saved, "%s/config.ini", dir);
    CHECK(train_config_save(tc, saved) == UFO_OK, "save: %s", ufo_last_error());
    st = train_config_load(&tc2, saved, NULL, 0);
    CHECK(st == UFO_OK, "reload saved: %s", ufo_last_error());
    if (st == UFO_OK) {
        char *t1 = NULL, *t2 = NULL;
        cfg_write_string(tc->doc, true, &t1);
        cfg_write_string(tc2->doc, true, &t2);
        CHECK(t1 && t2 && strcmp(t1, t2) == 0, "saved config differs after reload");
        free(t1);
        free(t2);
        CHECK(tc2->train.base_lr == 0.05 && tc2->train.sampling == TRAIN_SAMPLE_SANDWICH &&
                  tc2->n_tasks == 5 && tc2->eval.tasks.n == 2, "reloaded values");
        long e = train_config_task_index(tc2, "extra");
        CHECK(e == 4 && strcmp(tc2->tasks[e].datasets[0].root, "/x/with ; semicolon") == 0 &&
                  tc2->tasks[e].batch == 24, "extra task: %s",
              e >= 0 ? tc2->tasks[e].datasets[0].root : "(missing)");
        for (size_t i = 0; i < tc->n_tasks && i < tc2->n_tasks; i++) {
            const struct train_task_config *x = &tc->tasks[i], *y = &tc2->tasks[i];
            CHECK(strcmp(x->name, y->name) == 0 && x->kind == y->kind && x->batch == y->batch &&
                      x->cosface_scale == y->cosface_scale && x->triplet == y->triplet &&
                      x->lr_scale == y->lr_scale && x->n_datasets == y->n_datasets &&
                      x->n_eval_datasets == y->n_eval_datasets, "task %zu differs", i);
        }
        CHECK(memcmp(&tc->model.embed_dim, &tc2->model.embed_dim,
                     offsetof(struct train_model_config, heads_choices)) == 0,
              "model scalars differ");
        CHECK(tc->model.drop_path_rate == tc2->model.drop_path_rate &&
                  tc->model.gumbel_temperature == tc2->model.gumbel_temperature, "model floats");
    }
    train_config_free(tc);
    train_config_free(tc2);
}

/* Defaults are written in canonical form too: write → read → write gives the same bytes. */
static void test_round_trip_defaults(void) {
    struct train_config *tc = NULL, *tc2 = NULL;
    char *t1 = NULL, *t2 = NULL;
    CHECK(train_config_load(&tc, put("min.ini", BASE), NULL, 0) == UFO_OK, "load: %s",
          ufo_last_error());
    if (tc) cfg_write_string(tc->doc, false, &t1);
    CHECK(t1 && strstr(t1, "\nweight_decay = 0.0001\n"), "weight_decay default written as:\n%s",
          t1 ? t1 : "(nothing)");
    if (t1) CHECK(train_config_load(&tc2, put("min2.ini", t1), NULL, 0) == UFO_OK, "reload: %s",
                  ufo_last_error());
    if (tc2) cfg_write_string(tc2->doc, false, &t2);
    CHECK(t1 && t2 && strcmp(t1, t2) == 0, "defaults round trip differs:\n%s\n----\n%s", t1,
          t2 ? t2 : "(nothing)");
    free(t1);
    free(t2);
    train_config_free(tc);
    train_config_free(tc2);
}

struct bad {
    const char *ini;
    const char *set;       /* an override applied after the file, or NULL */
    const char *message;   /* FILE stands for the file's path */
};

#define TRAIN_KEYS                                                                             \
    "batch_size, iterations, base_lr, momentum, weight_decay, grad_clip, warmup_fraction, "    \
    "final_lr_fraction, bias_lr_factor, seed, sampling, checkpoint_interval, keep_checkpoints, " \
    "log_interval, workers, max_bad_steps, init, run_dir"

static const struct bad bads[] = {
    /* numbers */
    {"[train]\niterations = 1e3\n" BASE, NULL,
     "FILE:2: train.iterations = \"1e3\": not a base-10 integer"},
    {"[train]\niterations = 0x10\n" BASE, NULL,
     "FILE:2: train.iterations = \"0x10\": not a base-10 integer"},
    {"[train]\niterations =\n" BASE, NULL,
     "FILE:2: train.iterations = \"\": empty, expected an integer"},
    {"[train]\niterations = 99999999999999999999\n" BASE, NULL,
     "FILE:2: train.iterations = \"99999999999999999999\": out of the 64-bit integer range"},
    {"[train]\niterations = 0\n" BASE, NULL, "FILE:2: train.iterations = \"0\": must be >= 1"},
    {"[train]\nbase_lr = 0\n" BASE, NULL, "FILE:2: train.base_lr = \"0\": must be > 0"},
    {"[train]\nbase_lr = 0.1x\n" BASE, NULL,
     "FILE:2: train.base_lr = \"0.1x\": not a finite decimal number"},
    {"[train]\nbase_lr = inf\n" BASE, NULL,
     "FILE:2: train.base_lr = \"inf\": not a finite decimal number"},
    {"[train]\nmomentum = 1\n" BASE, NULL, "FILE:2: train.momentum = \"1\": must be <= 0.9999"},
    {"[train]\nwarmup_fraction = 1.5\n" BASE, NULL,
     "FILE:2: train.warmup_fraction = \"1.5\": must be <= 1"},
    {"[train]\nseed = -1\n" BASE, NULL, "FILE:2: train.seed = \"-1\": must be >= 0"},
    {"[train]\nworkers = 1.5\n" BASE, NULL,
     "FILE:2: train.workers = \"1.5\": not a base-10 integer"},
    {"[train]\nkeep_checkpoints = 03\n" BASE, NULL,
     "FILE:2: train.keep_checkpoints = \"03\": not a base-10 integer"},
    {"[model]\ndepth = 12.0\n" BASE, NULL, "FILE:2: model.depth = \"12.0\": not a base-10 integer"},
    {"[model]\ngumbel_temperature = 0\n" BASE, NULL,
     "FILE:2: model.gumbel_temperature = \"0\": must be > 0"},
    {"[model]\ndrop_path_rate = 1\n" BASE, NULL,
     "FILE:2: model.drop_path_rate = \"1\": must be <= 0.999"},
    {"[model]\nheads_choices = 10, x\n" BASE, NULL,
     "FILE:2: model.heads_choices = \"10, x\": element 2 (\"x\") is not a base-10 integer"},
    {"[model]\nmlp_ratio_choices =\n" BASE, NULL,
     "FILE:2: model.mlp_ratio_choices = \"\": needs at least 1 element"},
    /* choices, booleans, strings */
    {"[train]\nsampling = random\n" BASE, NULL,
     "FILE:2: train.sampling = \"random\": expected one of uniform|sandwich|largest"},
    {"[task.c]\nkind = animal\ndatasets = folder:/c\n" BASE, NULL,
     "FILE:2: task.c.kind = \"animal\": expected one of classification|retrieval|face"},
    {"[task.c]\nkind = face\ndatasets = folder:/c\ntriplet = 2\n" BASE, NULL,
     "FILE:4: task.c.triplet = \"2\": expected true or false"},
    {"[device]\nspec =\n" BASE, NULL, "FILE:2: device.spec = \"\": must not be empty"},
    {"[train]\nrun_dir = \"\"\n" BASE, NULL, "FILE:2: train.run_dir = \"\": must not be empty"},
    /* names */
    {"[train]\nlr = 0.1\n" BASE, NULL,
     "FILE:2: unknown key train.lr (known in [train]: " TRAIN_KEYS ")"},
    {"[trian]\nseed = 1\n" BASE, NULL,
     "FILE:1: unknown section [trian] (known: device, model, task.NAME, dataset.NAME, train, "
     "eval)"},
    {"[task]\nkind = face\n" BASE, NULL,
     "FILE:1: unknown section [task] (known: device, model, task.NAME, dataset.NAME, train, "
     "eval)"},
    {"[task.]\nkind = face\n" BASE, NULL, "FILE:1: section [task.] needs a name: [task.NAME]"},
    {"[task.a.b]\nkind = face\n" BASE, NULL,
     "FILE:1: section [task.a.b]: a name may hold only a-z, 0-9, '_' and '-'"},
    {"[task.c]\nkind = face\nkind = retrieval\n" BASE, NULL,
     "FILE:3: task.c.kind given twice (first at line 2)"},
    {BASE "[task.a]\nloss_weight = 2\n", NULL,
     "FILE:7: section [task.a] appears again (first at line 1): keep one"},
    /* required keys and tasks */
    {"[train]\nseed = 1\n", NULL, "FILE: no [task.NAME] section: a run needs at least one task"},
    {"[task.c]\ndatasets = folder:/c\n" BASE, NULL,
     "FILE: [task.c] needs kind (one of classification|retrieval|face)"},
    {"[task.c]\nkind = face\n" BASE, NULL,
     "FILE: [task.c] needs datasets (a comma-separated list)"},
    {"[task.c]\nkind = face\ndatasets =\n" BASE, NULL,
     "FILE:3: task.c.datasets = \"\": needs at least 1 element"},
    /* datasets */
    {"[task.c]\nkind = face\ndatasets = jpeg:/c\n" BASE, NULL,
     "FILE:3: task.c.datasets: \"jpeg:/c\": unknown format \"jpeg\" (known: "
     TRAIN_DATASET_FORMATS ")"},
    {"[task.c]\nkind = face\ndatasets = folder:/c, folder:\n" BASE, NULL,
     "FILE:3: task.c.datasets: \"folder:\": the root is missing"},
    {"[task.c]\nkind = face\ndatasets = nosuch\n" BASE, NULL,
     "FILE:3: task.c.datasets: no [dataset.nosuch] section (write format:root for a dataset "
     "without options)"},
    {"[task.c]\nkind = face\ndatasets = folder:/c\neval_datasets = lfw\n" BASE, NULL,
     "FILE:4: task.c.eval_datasets: no [dataset.lfw] section (write format:root for a dataset "
     "without options)"},
    {"[dataset.x]\nformat = folder\nroot = /x\n" BASE, NULL,
     "FILE:3: [dataset.x] is not named by any task (datasets or eval_datasets)"},
    {"[dataset.x]\nformat = jpg\nroot = /x\n" BASE, NULL,
     "FILE:2: dataset.x.format = \"jpg\": expected one of " TRAIN_DATASET_FORMATS},
    {"[dataset.x]\nformat = folder\n" BASE, NULL, "FILE: [dataset.x] needs root (a string)"},
    /* options a format ignores, and a list's evaluation part with one of its two lists */
    {"[dataset.x]\nformat = folder\nroot = /x\nquery = q.txt\n" BASE, NULL,
     "FILE:4: dataset.x.query: format folder ignores it (it is for list): remove it or change "
     "the format"},
    {"[dataset.x]\nformat = market1501\nroot = /x\nfile = a.txt\n" BASE, NULL,
     "FILE:4: dataset.x.file: format market1501 ignores it (it is for list, idx, mxrec, facebin, "
     "pairs): remove it or change the format"},
    {"[dataset.x]\nformat = list\nroot = /x\nimages = i\n" BASE, NULL,
     "FILE:4: dataset.x.images: format list ignores it (it is for pairs): remove it or change "
     "the format"},
    {"[dataset.x]\nformat = sop\nroot = /x\ntest_size = 800\n" BASE, NULL,
     "FILE:4: dataset.x.test_size: format sop ignores it (it is for vehicleid, veriwild): remove "
     "it or change the format"},
    {"[dataset.x]\nformat = veri776\nroot = /x\nsplit = query\n" BASE, NULL,
     "FILE:4: dataset.x.split: format veri776 ignores it (it is for folder, list, idx, mxrec): "
     "remove it or change the format"},
    {"[dataset.x]\nformat = folder\nroot = /x\nno_file_check = true\n" BASE, NULL,
     "FILE:4: dataset.x.no_file_check: format folder ignores it (it is for list, msmt17, sop, "
     "vehicleid, veriwild, pairs): remove it or change the format"},
    {"[dataset.cards]\nformat = list\nroot = /x\nfile = t.txt\nquery = q.txt\ngallery =\n" BASE,
     NULL, "FILE:5: dataset.cards.query: given without gallery: the evaluation part of a list "
     "dataset needs both lists (or neither, to keep every line of file in split)"},
    {"[dataset.cards]\nformat = list\nroot = /x\ngallery = g.txt\n" BASE, NULL,
     "FILE:4: dataset.cards.gallery: given without query: the evaluation part of a list dataset "
     "needs both lists (or neither, to keep every line of file in split)"},
    {"[dataset.x]\nformat = list\nroot = /x\nsplit = val\n" BASE, NULL,
     "FILE:4: dataset.x.split = \"val\": expected one of train|query|gallery|test"},
    /* batches */
    {"[task.c]\nkind = face\ndatasets = folder:/c\nbatch_size = 8\nbatch_share = 0.5\n" BASE,
     NULL, "FILE:5: task.c.batch_share: give batch_size or batch_share, not both"},
    {"[task.c]\nkind = face\ndatasets = folder:/c\nbatch_share = 0.6\n[task.d]\nkind = face\n"
     "datasets = folder:/d\nbatch_share = 0.6\n", NULL,
     "FILE: the batch_share of the tasks add up to 1.2 (> 1)"},
    {"[task.c]\nkind = face\ndatasets = folder:/c\nbatch_share = 0.0005\n" BASE, NULL,
     "FILE:4: task.c.batch_share: gives less than one image per step"},
    {"[task.c]\nkind = face\ndatasets = folder:/c\nbatch_size = 100\n", NULL,
     "FILE: train.batch_size: 512, but the tasks' batch_size and batch_share take 100 per step: "
     "make them agree"},
    {"[train]\nbatch_size = 1\n" BASE, NULL,
     "FILE:2: train.batch_size: 1 leaves 1 images for 2 task(s) without batch_size or "
     "batch_share"},
    /* search space and image */
    {"[model]\nheads_choices = 10, 13\n" BASE, NULL,
     "FILE:2: model.heads_choices: the largest, 13, must equal heads 12"},
    {"[model]\nheads_choices = 12, 10\n" BASE, NULL,
     "FILE:2: model.heads_choices: must increase (10 after 12)"},
    {"[model]\nheads = 9\nheads_choices = 1, 2, 3, 4, 5, 6, 7, 8, 9\n" BASE, NULL,
     "FILE:3: model.heads_choices: 9 choices, at most 8"},
    {"[model]\nmin_depth = 13\n" BASE, NULL, "FILE:2: model.min_depth: 13 > depth 12"},
    {"[model]\ndepth = 33\n" BASE, NULL, "FILE:2: model.depth = \"33\": must be <= 32"},
    {"[model]\nmlp_ratio_choices = 3, 4.5\n" BASE, NULL,
     "FILE:2: model.mlp_ratio_choices: the largest, 4.5, must equal mlp_ratio_max 4"},
    {"[model]\nmlp_ratio_choices = 3.5, 3, 4\n" BASE, NULL,
     "FILE:2: model.mlp_ratio_choices: must increase (3 after 3.5)"},
    {"[model]\nembed_dim = 100\nmlp_ratio_choices = 3.125, 4\n" BASE, NULL,
     "FILE:3: model.mlp_ratio_choices: 3.125 * embed_dim 100 = 312.5 is not a whole number of "
     "hidden units"},
    {"[model]\nimage_size = 250\n" BASE, NULL,
     "FILE:2: model.image_size: 250 is not a multiple of patch_size 16"},
    {"[model]\npatch_size = 32\nimage_size = 240\n" BASE, NULL,
     "FILE:3: model.image_size: 240 is not a multiple of patch_size 32"},
    /* task names and count */
    {"[task.a-b]\nkind = face\ndatasets = folder:/c\n" BASE, NULL,
     "FILE: [task.a-b]: a task name holds at most 31 of a-z, 0-9 and '_'"},
    {"[task.abcdefghijklmnopqrstuvwxyz012345]\nkind = face\ndatasets = folder:/c\n" BASE, NULL,
     "FILE: [task.abcdefghijklmnopqrstuvwxyz012345]: a task name holds at most 31 of a-z, 0-9 "
     "and '_'"},
    {"[task.c]\n[task.d]\n[task.e]\n[task.f]\n[task.g]\n[task.h]\n[task.i]\n" BASE, NULL,
     "FILE: 9 [task.NAME] sections, at most 8"},
    {BASE, "task.a.pad=-1", "--set: task.a.pad = \"-1\": must be >= 0"},
    /* the same dataset twice in one list */
    {"[task.c]\nkind = face\ndatasets = folder:/c, folder:/e, folder:/c\n" BASE, NULL,
     "FILE:3: task.c.datasets: \"folder:/c\" is listed twice"},
    {"[dataset.x]\nformat = folder\nroot = /x\n[task.c]\nkind = face\ndatasets = x, x\n" BASE,
     NULL, "FILE:6: task.c.datasets: \"x\" is listed twice"},
    /* evaluation */
    {"[eval]\ntasks = zzz\n" BASE, NULL, "FILE:2: eval.tasks: no [task.zzz] section"},
    {"[eval]\ntasks = a\n" BASE, NULL, "FILE:2: eval.tasks: task a has no eval_datasets"},
    /* overrides */
    {BASE, "train.iterations=10k", "--set: train.iterations = \"10k\": not a base-10 integer"},
    {BASE, "train.itrations=5", "--set: unknown key train.itrations (known in [train]: "
     TRAIN_KEYS ")"},
    {BASE, "task.a.kind=dog", "--set: task.a.kind = \"dog\": expected one of "
     "classification|retrieval|face"},
    {BASE, "task.c.kind=face", "FILE: [task.c] needs datasets (a comma-separated list)"},
    {BASE, "model.min_depth=20", "--set: model.min_depth: 20 > depth 12"},
    {BASE, "seed=3", "--set seed=3: expected section.key=value"},
};

static void test_bad(void) {
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const char *path = put("bad.ini", bads[i].ini);
        const char *sets[1] = {bads[i].set};
        struct train_config *tc = NULL;
        ufo_status st = train_config_load(&tc, path, sets, bads[i].set ? 1 : 0);
        char want[2048];
        const char *f = strstr(bads[i].message, "FILE");
        if (f)
            snprintf(want, sizeof want, "%.*s%s%s", (int)(f - bads[i].message), bads[i].message,
                     path, f + 4);
        else
            snprintf(want, sizeof want, "%s", bads[i].message);
        CHECK(st == UFO_ERR_CONFIG, "case %zu: status %s (%s)", i, ufo_status_name(st),
              ufo_last_error());
        CHECK(strcmp(ufo_last_error(), want) == 0, "case %zu:\n  got  %s\n  want %s", i,
              ufo_last_error(), want);
        train_config_free(tc);
    }
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_train_config.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    test_defaults();
    test_example();
    test_batches();
    test_dataset_options();
    test_round_trip();
    test_round_trip_defaults();
    test_bad();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    if (failures) fprintf(stderr, "test_train_config: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
