/* The training configuration: the schema of run.ini (device, model and search space, one
 * [task.NAME] per task, train, eval), its defaults (the paper's ViT-B recipe) and the checks
 * that span several keys. */
#ifndef UFO_TRAIN_TRAIN_CONFIG_H
#define UFO_TRAIN_TRAIN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <ufo/status.h>

#include "io/cfg.h"

enum train_sampling {
    TRAIN_SAMPLE_UNIFORM,  /* one uniformly random architecture per step */
    TRAIN_SAMPLE_SANDWICH, /* largest, smallest and a random one in every step */
    TRAIN_SAMPLE_LARGEST,  /* always the largest (plain multi-task training) */
};

enum train_task_kind {
    TRAIN_TASK_CLASSIFICATION, /* identities as classes, evaluated by accuracy */
    TRAIN_TASK_RETRIEVAL,      /* re-id / product retrieval: query against gallery */
    TRAIN_TASK_FACE,           /* face recognition: verification pairs */
};

/* One dataset of a task: a [dataset.NAME] section named in the task's list, or an inline
 * "format:root" element (every option at its default). Strings live as long as the config. */
struct train_dataset {
    const char *name;       /* NAME of [dataset.NAME]; NULL for an inline element */
    const char *format;     /* reader: folder, list, idx, market1501, msmt17, ... */
    const char *root;       /* the folder (or file) the reader opens */
    const char *file;       /* list file / file prefix / .bin name; "": the format's default */
    const char *images;     /* pairs: folder of the pair images; "": the default */
    long test_size;         /* vehicleid / veriwild test-set size; 0: the format's default */
    int split;              /* folder, list: train|query|gallery|test, in enum data_split order */
    bool no_file_check;     /* trust list files, skip the per-file existence check */
    const char *query;      /* list: query list of the evaluation part; "": none */
    const char *gallery;    /* list: gallery list of the evaluation part; "": none */
};

/* The reader names a dataset's format may take, '|'-separated (the data layer's readers). */
#define TRAIN_DATASET_FORMATS \
    "folder|list|idx|market1501|msmt17|veri776|vehicleid|veriwild|sop|mxrec|facebin|pairs"

struct train_device_config {
    const char *spec;   /* "auto", "gpu:1", "cpu:0", "0.1", a name substring */
};

struct train_model_config {
    long embed_dim, depth, heads, head_dim;
    long patch_size, image_size;          /* square input of image_size² pixels */
    double mlp_ratio_max;
    struct cfg_ints heads_choices;       /* head counts a block may use; increasing, the
                                          * last = heads */
    struct cfg_floats mlp_ratio_choices; /* FFN expansions a block may use; increasing, the
                                          * last = mlp_ratio_max, each × embed_dim whole */
    long min_depth;
    double drop_path_rate;
    double gumbel_temperature;
};

struct train_task_config {
    const char *name;                   /* "face" for [task.face] */
    int kind;                           /* enum train_task_kind */
    struct cfg_strings datasets_text;   /* as written: dataset names or format:root */
    struct cfg_strings eval_text;
    struct train_dataset *datasets;
    size_t n_datasets;
    struct train_dataset *eval_datasets;
    size_t n_eval_datasets;
    long batch_size;                    /* as given; 0: from batch_share or an equal split */
    double batch_share;                 /* fraction of train.batch_size; 0: not used */
    long batch;                         /* images per step for this task; 0: by dataset size */
    long instances_per_label;           /* images of one identity in a batch (triplet mining) */
    double cosface_scale, cosface_margin;
    bool triplet;
    double triplet_weight;
    double loss_weight;
    double lr_scale;
    bool autoaugment, pad_crop, flip, random_erasing; /* training transform parts */
    long pad;                           /* pixels per side for pad_crop */
};

struct train_loop_config {
    long batch_size;                    /* images per step over all tasks */
    long iterations;
    double base_lr, momentum, weight_decay;
    double grad_clip;                   /* per-tensor gradient-norm clip; 0: off */
    double warmup_fraction, final_lr_fraction;
    double bias_lr_factor;
    long seed;
    int sampling;                       /* enum train_sampling */
    long checkpoint_interval;           /* steps; 0: only at the end */
    long keep_checkpoints;              /* newest kept; 0: all */
    long log_interval;
    long workers;
    long max_bad_steps;                 /* non-finite steps in a row that stop the run */
    const char *init;                   /* timm ViT safetensors to start from; "": none */
    const char *run_dir;
};

struct train_eval_config {
    long interval;                      /* steps between evaluations; 0: none during training */
    struct cfg_strings tasks;           /* task names to evaluate; empty: all with eval sets */
    long batch_size;
    bool at_end;
    const char *arch;                   /* largest, smallest, an arch .json or a CVPR string */
};

struct train_config {
    struct cfg_doc *doc;                /* owns every string and list above */
    struct train_device_config device;
    struct train_model_config model;
    struct train_task_config *tasks;
    size_t n_tasks;
    struct train_loop_config train;
    struct train_eval_config eval;
    struct train_dataset *datasets;     /* every [dataset.NAME] section, in file order */
    size_t n_datasets;
};

/* The schema behind run.ini (for cfg_* calls and --help listings). */
const struct cfg_schema *train_config_schema(void);

/* Read `path` (NULL: start from the defaults alone), apply the overrides "section.key=value"
 * in order, bind and check everything. Errors name the file, line, section.key and value. */
ufo_status train_config_load(struct train_config **out, const char *path,
                             const char *const *overrides, size_t n_overrides);

/* Bind and check a configuration already read; takes `doc` over (freed on failure too). */
ufo_status train_config_from_doc(struct train_config **out, struct cfg_doc *doc);

/* The effective configuration as INI; re-reading it yields the same train_config. */
ufo_status train_config_write(const struct train_config *tc, FILE *f, bool with_help);

/* Save the effective configuration atomically at `path` (for the run folder). */
ufo_status train_config_save(const struct train_config *tc, const char *path);

/* Index of the task named `name`, or -1. */
long train_config_task_index(const struct train_config *tc, const char *name);

const char *train_sampling_name(int sampling);
const char *train_task_kind_name(int kind);

void train_config_free(struct train_config *tc);

#endif
