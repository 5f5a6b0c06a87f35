/* The run.ini schema and its defaults. The defaults follow the paper's ViT-B recipe: SGD with
 * momentum, weight decay 1e-4, per-tensor gradient clip 5, linear warmup over the first 10% of
 * the steps then cosine decay to 2% of the base rate, biases at twice the rate, drop-path 0.2,
 * gumbel temperature 5, one uniformly drawn architecture per step. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "io/atomic.h"
#include "train/train_config.h"

#define DEV(field) offsetof(struct train_device_config, field)
#define MOD(field) offsetof(struct train_model_config, field)
#define TASK(field) offsetof(struct train_task_config, field)
#define LOOP(field) offsetof(struct train_loop_config, field)
#define EVAL(field) offsetof(struct train_eval_config, field)

/* The supernet's fixed-size tables (src/model/space.h): blocks, tasks, choices per block, and
 * the longest task name (it appears in tensor names). */
#define TC_MAX_BLOCKS 32
#define TC_MAX_TASKS 8
#define TC_MAX_CHOICES 8
#define TC_TASK_NAME_MAX 31

/* Upper bounds guard against typos (an extra zero) more than they state limits. */
static const struct cfg_key device_keys[] = {
    {.name = "spec", .type = CFG_STRING, .def = "auto", .min_items = 1, .offset = DEV(spec),
     .help = "OpenCL device: auto, gpu:N, cpu:N, accel:N, P.D (platform.device) or a name part"},
};

static const struct cfg_key model_keys[] = {
    {.name = "embed_dim", .type = CFG_INT, .def = "768", .min = 1, .max = 8192,
     .offset = MOD(embed_dim), .help = "token width"},
    {.name = "depth", .type = CFG_INT, .def = "12", .min = 1, .max = TC_MAX_BLOCKS,
     .offset = MOD(depth),
     .help = "blocks of the largest architecture"},
    {.name = "heads", .type = CFG_INT, .def = "12", .min = 1, .max = 256, .offset = MOD(heads),
     .help = "attention heads of the largest architecture"},
    {.name = "head_dim", .type = CFG_INT, .def = "64", .min = 1, .max = 1024,
     .offset = MOD(head_dim), .help = "width of one attention head (fixed)"},
    {.name = "patch_size", .type = CFG_INT, .def = "16", .min = 1, .max = 1024,
     .offset = MOD(patch_size), .help = "side of a square patch, pixels"},
    {.name = "image_size", .type = CFG_INT, .def = "224", .min = 1, .max = 8192,
     .offset = MOD(image_size), .help = "side of the square input, pixels (a multiple of "
                                         "patch_size)"},
    {.name = "mlp_ratio_max", .type = CFG_FLOAT, .def = "4", .min = 0, .max = 64, .min_open = true,
     .offset = MOD(mlp_ratio_max), .help = "FFN expansion of the largest architecture"},
    {.name = "heads_choices", .type = CFG_INTS, .def = "10, 11, 12", .min = 1, .max = 256,
     .min_items = 1, .offset = MOD(heads_choices),
     .help = "head counts a block may take in the search space"},
    {.name = "mlp_ratio_choices", .type = CFG_FLOATS, .def = "3, 3.5, 4", .min = 0, .max = 64,
     .min_open = true, .min_items = 1, .offset = MOD(mlp_ratio_choices),
     .help = "FFN expansions a block may take in the search space"},
    {.name = "min_depth", .type = CFG_INT, .def = "10", .min = 1, .max = TC_MAX_BLOCKS,
     .offset = MOD(min_depth), .help = "fewest blocks an architecture keeps"},
    {.name = "drop_path_rate", .type = CFG_FLOAT, .def = "0.2", .min = 0, .max = 0.999,
     .offset = MOD(drop_path_rate), .help = "stochastic depth of the last block (linear in depth)"},
    {.name = "gumbel_temperature", .type = CFG_FLOAT, .def = "5", .min = 0, .max = 1000,
     .min_open = true, .offset = MOD(gumbel_temperature),
     .help = "temperature of the gumbel-softmax over the shared/task path gates"},
};

/* A [dataset.NAME] section is bound here first; the format index becomes its name. */
struct tc_dataset_bind {
    int format;
    const char *root, *file, *images;
    long test_size;
    int split;
    bool no_file_check;
    const char *query, *gallery;
};

#define DS(field) offsetof(struct tc_dataset_bind, field)

static const char *const dataset_formats[] = {
    "folder", "list", "idx", "market1501", "msmt17", "veri776", "vehicleid", "veriwild", "sop",
    "mxrec", "facebin", "pairs",
};

static const struct cfg_key dataset_keys[] = {
    {.name = "format", .type = CFG_ENUM, .def = NULL, .choices = TRAIN_DATASET_FORMATS,
     .offset = DS(format), .help = "reader of the on-disk layout"},
    {.name = "root", .type = CFG_STRING, .def = NULL, .min_items = 1, .offset = DS(root),
     .help = "the dataset's folder (facebin: the folder or the .bin file)"},
    {.name = "file", .type = CFG_STRING, .def = "", .offset = DS(file),
     .help = "list: the list file; idx, mxrec: file prefix; facebin: .bin; pairs: pair list"},
    {.name = "images", .type = CFG_STRING, .def = "", .offset = DS(images),
     .help = "pairs: folder of the pair images; empty: the format's default"},
    {.name = "test_size", .type = CFG_INT, .def = "0", .min = 0, .max = 1000000,
     .offset = DS(test_size),
     .help = "vehicleid 800/1600/2400, veriwild 3000/5000/10000; 0: the largest"},
    {.name = "split", .type = CFG_ENUM, .def = "train", .choices = "train|query|gallery|test",
     .offset = DS(split), .help = "folder, list: the split the images belong to"},
    {.name = "no_file_check", .type = CFG_BOOL, .def = "false", .offset = DS(no_file_check),
     .help = "trust list files without checking each image exists (huge sets)"},
    {.name = "query", .type = CFG_STRING, .def = "", .offset = DS(query),
     .help = "list: query list of the evaluation part (with gallery; file is then training)"},
    {.name = "gallery", .type = CFG_STRING, .def = "", .offset = DS(gallery),
     .help = "list: gallery list of the evaluation part"},
};

static const struct cfg_key task_keys[] = {
    {.name = "kind", .type = CFG_ENUM, .def = NULL, .choices = "classification|retrieval|face",
     .offset = TASK(kind),
     .help = "what the task is (a label: each eval dataset is scored as its format says)"},
    {.name = "datasets", .type = CFG_STRINGS, .def = NULL, .min_items = 1,
     .offset = TASK(datasets_text),
     .help = "training data: names of [dataset.NAME] sections or inline format:root, ..."},
    {.name = "eval_datasets", .type = CFG_STRINGS, .def = "", .offset = TASK(eval_text),
     .help = "evaluation data (query/gallery or pairs), as datasets; empty: none"},
    {.name = "batch_size", .type = CFG_INT, .def = "0", .min = 0, .max = 1 << 20,
     .offset = TASK(batch_size),
     .help = "images per step; 0: batch_share, else a share of what the others leave in "
             "proportion to the task's training images"},
    {.name = "batch_share", .type = CFG_FLOAT, .def = "0", .min = 0, .max = 1,
     .offset = TASK(batch_share), .help = "fraction of train.batch_size; 0: not used"},
    {.name = "instances_per_label", .type = CFG_INT, .def = "4", .min = 1, .max = 1024,
     .offset = TASK(instances_per_label), .help = "images of one identity per batch"},
    {.name = "cosface_scale", .type = CFG_FLOAT, .def = "64", .min = 0, .max = 1024,
     .min_open = true, .offset = TASK(cosface_scale), .help = "CosFace logit scale s"},
    {.name = "cosface_margin", .type = CFG_FLOAT, .def = "0.35", .min = 0, .max = 1,
     .offset = TASK(cosface_margin), .help = "CosFace cosine margin m"},
    {.name = "triplet", .type = CFG_BOOL, .def = "false", .offset = TASK(triplet),
     .help = "add the batch-hard soft-margin triplet loss on the pre-neck feature"},
    {.name = "triplet_weight", .type = CFG_FLOAT, .def = "1", .min = 0, .max = 1000,
     .offset = TASK(triplet_weight), .help = "weight of the triplet loss against CosFace"},
    {.name = "loss_weight", .type = CFG_FLOAT, .def = "1", .min = 0, .max = 1000,
     .offset = TASK(loss_weight), .help = "weight of this task in the summed loss"},
    {.name = "lr_scale", .type = CFG_FLOAT, .def = "1", .min = 0, .max = 1000,
     .offset = TASK(lr_scale), .help = "learning-rate factor of this task's own parameters"},
    {.name = "autoaugment", .type = CFG_BOOL, .def = "true", .offset = TASK(autoaugment),
     .help = "AutoAugment (ImageNet policy) with probability 0.5"},
    {.name = "pad_crop", .type = CFG_BOOL, .def = "true", .offset = TASK(pad_crop),
     .help = "pad `pad` pixels per side and crop back at a random place"},
    {.name = "pad", .type = CFG_INT, .def = "10", .min = 0, .max = 4096, .offset = TASK(pad),
     .help = "pixels per side for pad_crop (10 suits 256-pixel inputs; scale it with the size)"},
    {.name = "flip", .type = CFG_BOOL, .def = "true", .offset = TASK(flip),
     .help = "horizontal flip with probability 0.5"},
    {.name = "random_erasing", .type = CFG_BOOL, .def = "true", .offset = TASK(random_erasing),
     .help = "random erasing with probability 0.5 (2%-33% of the area, noise-filled)"},
};

static const struct cfg_key train_keys[] = {
    {.name = "batch_size", .type = CFG_INT, .def = "512", .min = 1, .max = 1 << 20,
     .offset = LOOP(batch_size),
     .help = "images per step over all tasks (tasks without batch_size or batch_share split "
             "what the others leave)"},
    {.name = "iterations", .type = CFG_INT, .def = "120000", .min = 1, .max = 1000000000,
     .offset = LOOP(iterations), .help = "optimizer steps"},
    {.name = "base_lr", .type = CFG_FLOAT, .def = "0.1", .min = 0, .max = 100, .min_open = true,
     .offset = LOOP(base_lr), .help = "peak learning rate (SGD)"},
    {.name = "momentum", .type = CFG_FLOAT, .def = "0.9", .min = 0, .max = 0.9999,
     .offset = LOOP(momentum), .help = "SGD momentum"},
    {.name = "weight_decay", .type = CFG_FLOAT, .def = "1e-4", .min = 0, .max = 1,
     .offset = LOOP(weight_decay), .help = "L2 weight decay"},
    {.name = "grad_clip", .type = CFG_FLOAT, .def = "5", .min = 0, .max = 1e9,
     .offset = LOOP(grad_clip), .help = "clip each tensor's gradient to this L2 norm; 0: off"},
    {.name = "warmup_fraction", .type = CFG_FLOAT, .def = "0.1", .min = 0, .max = 1,
     .offset = LOOP(warmup_fraction), .help = "share of the steps with a linear warmup"},
    {.name = "final_lr_fraction", .type = CFG_FLOAT, .def = "0.02", .min = 0, .max = 1,
     .offset = LOOP(final_lr_fraction), .help = "the cosine decay ends at this times base_lr"},
    {.name = "bias_lr_factor", .type = CFG_FLOAT, .def = "2", .min = 0, .max = 1000,
     .offset = LOOP(bias_lr_factor), .help = "learning-rate factor of biases"},
    {.name = "seed", .type = CFG_INT, .def = "0", .min = 0, .max = 4294967295.0,
     .offset = LOOP(seed), .help = "seed of every random draw (data, architectures, noise)"},
    {.name = "sampling", .type = CFG_ENUM, .def = "uniform", .choices = "uniform|sandwich|largest",
     .offset = LOOP(sampling),
     .help = "architectures per step: uniform (one random), sandwich (largest, smallest, "
             "random), largest"},
    {.name = "checkpoint_interval", .type = CFG_INT, .def = "1000", .min = 0, .max = 1000000000,
     .offset = LOOP(checkpoint_interval), .help = "steps between checkpoints; 0: at the end only"},
    {.name = "keep_checkpoints", .type = CFG_INT, .def = "3", .min = 0, .max = 1000000,
     .offset = LOOP(keep_checkpoints), .help = "newest checkpoints kept; 0: all"},
    {.name = "log_interval", .type = CFG_INT, .def = "20", .min = 1, .max = 1000000000,
     .offset = LOOP(log_interval), .help = "steps between train.jsonl lines and log lines"},
    {.name = "workers", .type = CFG_INT, .def = "0", .min = -1, .max = 256,
     .offset = LOOP(workers),
     .help = "image decoding threads; 0: one per core; -1: decode in the main thread"},
    {.name = "max_bad_steps", .type = CFG_INT, .def = "5", .min = 1, .max = 1000000,
     .offset = LOOP(max_bad_steps),
     .help = "steps in a row with a NaN/Inf loss or gradient that stop the run"},
    {.name = "init", .type = CFG_STRING, .def = "", .offset = LOOP(init),
     .help = "timm ViT safetensors to initialise the shared path from; empty: random"},
    {.name = "run_dir", .type = CFG_STRING, .def = "runs/ufo", .min_items = 1,
     .offset = LOOP(run_dir), .help = "folder of checkpoints, train.jsonl and config.ini"},
};

static const struct cfg_key eval_keys[] = {
    {.name = "interval", .type = CFG_INT, .def = "0", .min = 0, .max = 1000000000,
     .offset = EVAL(interval), .help = "steps between evaluations; 0: none during training"},
    {.name = "tasks", .type = CFG_STRINGS, .def = "", .offset = EVAL(tasks),
     .help = "tasks to evaluate; empty: every task with eval_datasets"},
    {.name = "batch_size", .type = CFG_INT, .def = "64", .min = 1, .max = 1 << 20,
     .offset = EVAL(batch_size), .help = "images per forward pass"},
    {.name = "at_end", .type = CFG_BOOL, .def = "true", .offset = EVAL(at_end),
     .help = "evaluate after the last step"},
    {.name = "arch", .type = CFG_STRING, .def = "largest", .min_items = 1, .offset = EVAL(arch),
     .help = "architecture evaluated: largest, smallest, an arch .json file or a CVPR string "
             "(paths: both)"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct cfg_section sections[] = {
    {"device", device_keys, N(device_keys), "where the run computes"},
    {"model", model_keys, N(model_keys), "the supernet and its search space"},
    {"task.", task_keys, N(task_keys), "one section per task: [task.NAME]"},
    {"dataset.", dataset_keys, N(dataset_keys), "a dataset a task names in its lists"},
    {"train", train_keys, N(train_keys), "optimisation, sampling and checkpoints"},
    {"eval", eval_keys, N(eval_keys), "periodic evaluation"},
};

static const struct cfg_schema schema = {sections, N(sections)};

const struct cfg_schema *train_config_schema(void) {
    return &schema;
}

const char *train_sampling_name(int sampling) {
    static const char *names[] = {"uniform", "sandwich", "largest"};
    return sampling >= 0 && sampling < 3 ? names[sampling] : "?";
}

const char *train_task_kind_name(int kind) {
    static const char *names[] = {"classification", "retrieval", "face"};
    return kind >= 0 && kind < 3 ? names[kind] : "?";
}

void train_config_free(struct train_config *tc) {
    if (!tc) return;
    for (size_t i = 0; i < tc->n_tasks; i++) {
        free(tc->tasks[i].datasets);
        free(tc->tasks[i].eval_datasets);
    }
    free(tc->tasks);
    free(tc->datasets);
    cfg_free(tc->doc);
    free(tc);
}

long train_config_task_index(const struct train_config *tc, const char *name) {
    for (size_t i = 0; i < tc->n_tasks; i++)
        if (strcmp(tc->tasks[i].name, name) == 0) return (long)i;
    return -1;
}

/* A failure of a check that spans keys, located where section.key was given. */
static ufo_status tc_fail(const struct train_config *tc, const char *section, const char *key,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static ufo_status tc_fail(const struct train_config *tc, const char *section, const char *key,
                          const char *fmt, ...) {
    const char *origin = cfg_origin(tc->doc, section, key);
    if (strcmp(origin, "default") == 0 && cfg_path(tc->doc)) origin = cfg_path(tc->doc);
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ufo_fail(UFO_ERR_CONFIG, "%s: %s.%s: %s", origin, section, key, msg);
}

/* A task's list into train_dataset records: an element with ':' is an inline "format:root",
 * any other names a [dataset.NAME] section. Marks the sections used in `used`. */
static ufo_status tc_datasets(struct train_config *tc, const char *section, const char *key,
                              const struct cfg_strings *text, struct train_dataset **out,
                              size_t *n, bool *used) {
    *out = NULL;
    *n = 0;
    if (text->n == 0) return UFO_OK;
    *out = calloc(text->n, sizeof **out);
    if (!*out) return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    for (size_t i = 0; i < text->n; i++) {
        const char *el = text->v[i];
        const char *colon = strchr(el, ':');
        struct train_dataset *d = &(*out)[(*n)++];
        if (!colon) {
            size_t k = 0;
            while (k < tc->n_datasets && strcmp(tc->datasets[k].name, el) != 0) k++;
            if (k == tc->n_datasets)
                return tc_fail(tc, section, key, "no [dataset.%s] section (write format:root for "
                               "a dataset without options)", el);
            *d = tc->datasets[k];
            used[k] = true;
            continue;
        }

        /* inline: the format must be a reader's, the root non-empty */
        size_t flen = (size_t)(colon - el);
        size_t f = 0;
        while (f < N(dataset_formats) && !(strlen(dataset_formats[f]) == flen &&
                                           strncmp(dataset_formats[f], el, flen) == 0))
            f++;
        if (f == N(dataset_formats))
            return tc_fail(tc, section, key, "\"%s\": unknown format \"%.*s\" (known: %s)", el,
                           (int)flen, el, TRAIN_DATASET_FORMATS);
        if (colon[1] == '\0') return tc_fail(tc, section, key, "\"%s\": the root is missing", el);
        *d = (struct train_dataset){.name = NULL, .format = dataset_formats[f], .root = colon + 1,
                                    .file = "", .images = "", .test_size = 0, .split = 0,
                                    .no_file_check = false, .query = "", .gallery = ""};
    }

    /* the same data twice in one list would be read twice under two label namespaces, so each
     * identity would become two classes */
    for (size_t i = 1; i < *n; i++)
        for (size_t j = 0; j < i; j++) {
            const struct train_dataset *a = &(*out)[i], *b = &(*out)[j];
            bool same = a->name || b->name
                            ? a->name && b->name && strcmp(a->name, b->name) == 0
                            : strcmp(a->format, b->format) == 0 && strcmp(a->root, b->root) == 0;
            if (same)
                return tc_fail(tc, section, key, "\"%s\" is listed twice", text->v[i]);
        }
    return UFO_OK;
}

/* A [dataset.NAME] section sets only options its format reads (a value other than the
 * default; a saved configuration writes every key), and a list's query and gallery together. */
static ufo_status tc_check_dataset(const struct train_config *tc, const char *section,
                                   const struct tc_dataset_bind *b) {
    const char *format = dataset_formats[b->format];
    const struct {
        const char *key;
        bool set;
    } opts[] = {
        {"file", *b->file},          {"images", *b->images},   {"test_size", b->test_size != 0},
        {"split", b->split != 0},    {"no_file_check", b->no_file_check},
        {"query", *b->query},        {"gallery", *b->gallery},
    };
    for (size_t k = 0; k < N(opts); k++)
        if (opts[k].set && !data_format_reads(format, opts[k].key))
            return tc_fail(tc, section, opts[k].key,
                           "format %s ignores it (it is for %s): remove it or change the format",
                           format, data_option_formats(opts[k].key));
    if (!*b->query != !*b->gallery) {
        const char *given = *b->query ? "query" : "gallery", *missing = *b->query ? "gallery"
                                                                                  : "query";
        return tc_fail(tc, section, given,
                       "given without %s: the evaluation part of a list dataset needs both "
                       "lists (or neither, to keep every line of file in split)", missing);
    }
    return UFO_OK;
}

/* Every [dataset.NAME] section into tc->datasets. */
static ufo_status tc_bind_datasets(struct train_config *tc) {
    size_t n = cfg_instances(tc->doc, "dataset.");
    if (n == 0) return UFO_OK;
    tc->datasets = calloc(n, sizeof *tc->datasets);
    if (!tc->datasets) return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *section = cfg_instance(tc->doc, "dataset.", i);
        struct tc_dataset_bind b;
        ufo_status st = cfg_bind(tc->doc, section, &b);
        if (st != UFO_OK) return st;
        st = tc_check_dataset(tc, section, &b);
        if (st != UFO_OK) return st;
        tc->datasets[i] = (struct train_dataset){
            .name = section + strlen("dataset."), .format = dataset_formats[b.format],
            .root = b.root, .file = b.file, .images = b.images, .test_size = b.test_size,
            .split = b.split, .no_file_check = b.no_file_check, .query = b.query,
            .gallery = b.gallery};
        tc->n_datasets++;
    }
    return UFO_OK;
}

/* Per-task images per step: an explicit batch_size, else batch_share × train.batch_size, else
 * (batch left 0) a share of what the others leave of train.batch_size in proportion to the
 * task's training images, which only the loaded data can tell. */
static ufo_status tc_resolve_batches(struct train_config *tc) {
    long fixed = 0;
    size_t open = 0;
    double shares = 0;
    for (size_t i = 0; i < tc->n_tasks; i++) {
        struct train_task_config *t = &tc->tasks[i];
        char section[256];
        snprintf(section, sizeof section, "task.%s", t->name);
        if (t->batch_size > 0 && t->batch_share > 0)
            return tc_fail(tc, section, "batch_share", "give batch_size or batch_share, not both");
        if (t->batch_size > 0) {
            t->batch = t->batch_size;
        } else if (t->batch_share > 0) {
            shares += t->batch_share;
            t->batch = (long)(t->batch_share * (double)tc->train.batch_size + 0.5);
            if (t->batch < 1)
                return tc_fail(tc, section, "batch_share", "gives less than one image per step");
        } else {
            t->batch = 0;
            open++;
            continue;
        }
        fixed += t->batch;
    }
    if (shares > 1 + 1e-9)
        return ufo_fail(UFO_ERR_CONFIG, "%s: the batch_share of the tasks add up to %g (> 1)",
                        cfg_path(tc->doc) ? cfg_path(tc->doc) : "configuration", shares);
    long left = tc->train.batch_size - fixed;
    if (open == 0 && left != 0)
        return tc_fail(tc, "train", "batch_size", "%ld, but the tasks' batch_size and "
                       "batch_share take %ld per step: make them agree", tc->train.batch_size,
                       fixed);
    if (open == 0) return UFO_OK;
    if (left < (long)open) {
        return tc_fail(tc, "train", "batch_size", "%ld leaves %ld images for %zu task(s) without "
                       "batch_size or batch_share", tc->train.batch_size, left, open);
    }
    /* the open tasks keep batch 0: the batcher splits `left` over them in proportion to their
     * training images once the data is loaded */
    return UFO_OK;
}

/* Checks between keys: the search space inside the largest architecture, image sides in whole
 * patches, dataset lists well formed, evaluated tasks known. */
static ufo_status tc_check(struct train_config *tc) {
    const struct train_model_config *m = &tc->model;
    ufo_status st;

    if (m->min_depth > m->depth)
        return tc_fail(tc, "model", "min_depth", "%ld > depth %ld", m->min_depth, m->depth);

    /* choices: increasing, at most TC_MAX_CHOICES, the largest being the supernet's own */
    const struct cfg_ints *hc = &m->heads_choices;
    if (hc->n > TC_MAX_CHOICES)
        return tc_fail(tc, "model", "heads_choices", "%zu choices, at most %d", hc->n,
                       TC_MAX_CHOICES);
    for (size_t i = 1; i < hc->n; i++)
        if (hc->v[i] <= hc->v[i - 1])
            return tc_fail(tc, "model", "heads_choices", "must increase (%ld after %ld)",
                           hc->v[i], hc->v[i - 1]);
    if (hc->v[hc->n - 1] != m->heads)
        return tc_fail(tc, "model", "heads_choices", "the largest, %ld, must equal heads %ld",
                       hc->v[hc->n - 1], m->heads);
    const struct cfg_floats *mc = &m->mlp_ratio_choices;
    if (mc->n > TC_MAX_CHOICES)
        return tc_fail(tc, "model", "mlp_ratio_choices", "%zu choices, at most %d", mc->n,
                       TC_MAX_CHOICES);
    for (size_t i = 0; i < mc->n; i++) {
        if (i > 0 && mc->v[i] <= mc->v[i - 1])
            return tc_fail(tc, "model", "mlp_ratio_choices", "must increase (%g after %g)",
                           mc->v[i], mc->v[i - 1]);
        double hidden = mc->v[i] * (double)m->embed_dim;
        if (hidden != floor(hidden))
            return tc_fail(tc, "model", "mlp_ratio_choices", "%g * embed_dim %ld = %g is not "
                           "a whole number of hidden units", mc->v[i], m->embed_dim, hidden);
    }
    if (mc->v[mc->n - 1] != m->mlp_ratio_max)
        return tc_fail(tc, "model", "mlp_ratio_choices", "the largest, %g, must equal "
                       "mlp_ratio_max %g", mc->v[mc->n - 1], m->mlp_ratio_max);
    if (m->image_size % m->patch_size != 0)
        return tc_fail(tc, "model", "image_size", "%ld is not a multiple of patch_size %ld",
                       m->image_size, m->patch_size);

    /* dataset lists; a [dataset.NAME] no task names is most likely a typo */
    bool *used = calloc(tc->n_datasets + 1, sizeof *used);
    if (!used) return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    for (size_t i = 0; i < tc->n_tasks; i++) {
        struct train_task_config *t = &tc->tasks[i];
        char section[256];
        snprintf(section, sizeof section, "task.%s", t->name);
        if ((st = tc_datasets(tc, section, "datasets", &t->datasets_text, &t->datasets,
                              &t->n_datasets, used)) != UFO_OK ||
            (st = tc_datasets(tc, section, "eval_datasets", &t->eval_text, &t->eval_datasets,
                              &t->n_eval_datasets, used)) != UFO_OK) {
            free(used);
            return st;
        }
    }
    for (size_t k = 0; k < tc->n_datasets; k++)
        if (!used[k]) {
            char section[256];
            snprintf(section, sizeof section, "dataset.%s", tc->datasets[k].name);
            free(used);
            return ufo_fail(UFO_ERR_CONFIG, "%s: [%s] is not named by any task (datasets or "
                            "eval_datasets)", cfg_origin(tc->doc, section, "root"), section);
        }
    free(used);
    if ((st = tc_resolve_batches(tc)) != UFO_OK) return st;

    for (size_t i = 0; i < tc->eval.tasks.n; i++) {
        long k = train_config_task_index(tc, tc->eval.tasks.v[i]);
        if (k < 0) return tc_fail(tc, "eval", "tasks", "no [task.%s] section", tc->eval.tasks.v[i]);
        if (tc->tasks[k].n_eval_datasets == 0)
            return tc_fail(tc, "eval", "tasks", "task %s has no eval_datasets",
                           tc->eval.tasks.v[i]);
    }
    return UFO_OK;
}

ufo_status train_config_from_doc(struct train_config **out, struct cfg_doc *doc) {
    *out = NULL;
    struct train_config *tc = calloc(1, sizeof *tc);
    if (!tc) {
        cfg_free(doc);
        return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    }
    tc->doc = doc;
    ufo_status st;

    /* fixed sections */
    if ((st = cfg_bind(doc, "device", &tc->device)) != UFO_OK ||
        (st = cfg_bind(doc, "model", &tc->model)) != UFO_OK ||
        (st = cfg_bind(doc, "train", &tc->train)) != UFO_OK ||
        (st = cfg_bind(doc, "eval", &tc->eval)) != UFO_OK)
        goto fail;

    if ((st = tc_bind_datasets(tc)) != UFO_OK) goto fail;

    /* one record per [task.NAME], in file order */
    size_t n = cfg_instances(doc, "task.");
    if (n == 0) {
        st = ufo_fail(UFO_ERR_CONFIG, "%s: no [task.NAME] section: a run needs at least one task",
                      cfg_path(doc) ? cfg_path(doc) : "configuration");
        goto fail;
    }
    if (n > TC_MAX_TASKS) {
        st = ufo_fail(UFO_ERR_CONFIG, "%s: %zu [task.NAME] sections, at most %d",
                      cfg_path(doc) ? cfg_path(doc) : "configuration", n, TC_MAX_TASKS);
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        /* task names become parts of tensor names: no '-', bounded length */
        const char *name = cfg_instance(doc, "task.", i) + strlen("task.");
        if (strchr(name, '-') || strlen(name) > TC_TASK_NAME_MAX) {
            st = ufo_fail(UFO_ERR_CONFIG, "%s: [task.%s]: a task name holds at most %d of a-z, "
                          "0-9 and '_'", cfg_path(doc) ? cfg_path(doc) : "configuration", name,
                          TC_TASK_NAME_MAX);
            goto fail;
        }
    }
    tc->tasks = calloc(n, sizeof *tc->tasks);
    if (!tc->tasks) {
        st = ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        const char *section = cfg_instance(doc, "task.", i);
        tc->tasks[i].name = section + strlen("task.");
        tc->n_tasks++;
        if ((st = cfg_bind(doc, section, &tc->tasks[i])) != UFO_OK) goto fail;
    }

    if ((st = tc_check(tc)) != UFO_OK) goto fail;
    *out = tc;
    return UFO_OK;

fail:
    train_config_free(tc);
    return st;
}

ufo_status train_config_load(struct train_config **out, const char *path,
                             const char *const *overrides, size_t n_overrides) {
    *out = NULL;
    struct cfg_doc *doc = NULL;
    ufo_status st = path ? cfg_load(&doc, &schema, path) : cfg_new(&doc, &schema);
    if (st != UFO_OK) return st;
    for (size_t i = 0; i < n_overrides; i++)
        if ((st = cfg_set(doc, overrides[i])) != UFO_OK) {
            cfg_free(doc);
            return st;
        }
    return train_config_from_doc(out, doc);
}

ufo_status train_config_write(const struct train_config *tc, FILE *f, bool with_help) {
    return cfg_write(tc->doc, f, with_help);
}

ufo_status train_config_save(const struct train_config *tc, const char *path) {
    char *text = NULL;
    ufo_status st = cfg_write_string(tc->doc, true, &text);
    if (st != UFO_OK) return st;
    st = io_atomic_write(path, text, strlen(text));
    free(text);
    return st;
}
