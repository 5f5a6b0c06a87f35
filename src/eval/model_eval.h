/* Evaluating a model on a dataset: evaluation features of a dataset's query/gallery or test
 * items through the supernet (one architecture, one task's paths and BN-neck), then the
 * benchmark metric the dataset's format calls for. */
#ifndef UFO_EVAL_MODEL_EVAL_H
#define UFO_EVAL_MODEL_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include <ufo/status.h>

#include "data/dataset.h"
#include "eval/metrics.h"
#include "model/space.h"
#include "model/vit.h"

/* How a dataset is scored. */
enum eval_protocol {
    EVAL_PROTOCOL_REID,      /* queries against a gallery: CMC, mAP, mINP */
    EVAL_PROTOCOL_VEHICLEID, /* VehicleID: random one-per-identity galleries */
    EVAL_PROTOCOL_SOP,       /* every image queries all others: Recall@K */
    EVAL_PROTOCOL_VERIFY,    /* face verification pairs: k-fold accuracy */
};

/* "reid", "vehicleid", "sop", "verify": also the --metric names of ufo-eval. */
const char *eval_protocol_name(enum eval_protocol protocol);

/* The protocol of a dataset: verification pairs -> verify; format vehicleid -> vehicleid;
 * query and gallery items -> reid; anything else (sop, a test split, a single list) -> every
 * image queries the others, as SOP does. */
enum eval_protocol eval_protocol_of(const struct data_set *ds);

/* What extraction and scoring take besides the model and the data. */
struct eval_model_options {
    size_t batch;                /* images per forward pass; 0 or above the model's: its max */
    int flip;                    /* verify: also the mirrored images (added before normalising) */
    enum eval_distance distance; /* reid and vehicleid ranking (default cosine) */
    unsigned draws;              /* vehicleid draws (10) */
    uint64_t seed;               /* vehicleid draw seed (0) */
    int folds;                   /* verify folds (10) */
    int workers;                 /* decoding threads; 0: one per core */
    int (*stop)(void);           /* polled between batches: nonzero stops the extraction
                                    with UFO_ERR_INTERRUPTED (Ctrl-C); NULL: never */
};

void eval_model_options_default(struct eval_model_options *o);

/* Evaluation features of one dataset, one row per image that decoded. */
struct eval_features {
    size_t n, dim;
    float *x;          /* n × dim: the task's BN-neck output */
    float *flip;       /* n × dim of the mirrored images, or NULL */
    size_t *item;      /* n: the dataset item of each row, increasing */
    size_t skipped;    /* images that did not decode (left out, each warned about) */
};

void eval_features_free(struct eval_features *f);

/* The items a protocol scores: query and gallery (reid), the evaluation items (split other
 * than train; every item when there are none), or every item (verify, since pairs name
 * items). `*items` is malloc'ed, increasing. */
ufo_status eval_select_items(const struct data_set *ds, enum eval_protocol protocol,
                             size_t **items, size_t *n);

/* Features of `items` of `ds` through `arch` of `vit` for task `task`: each image decoded,
 * resized and normalised by the evaluation transform (the model's input side), run through
 * vit_eval_forward in batches. Undecodable images are left out and counted. */
ufo_status eval_extract(struct vit *vit, const struct ufo_arch *arch, int task,
                        const struct data_set *ds, const size_t *items, size_t n_items,
                        const struct eval_model_options *o, struct eval_features *out);

/* Identity, camera and split of each feature row as the metrics take them (ufo-eval's label
 * file): ids are the dataset labels, except that a gallery distractor (label -1) gets an id no
 * query has, so it is ranked but never matches (Market-1501's "0000"); an unknown camera gets
 * a value of its own (-2 - row), so that no same-camera removal touches it; split 1 query,
 * 2 gallery, 0 otherwise (enum io_split). Arrays of f->n each. */
ufo_status eval_feature_labels(const struct data_set *ds, const struct eval_features *f,
                               int64_t **id, int64_t **camera, unsigned char **split);

/* Score features with `protocol`; adds "skipped images" (f->skipped) to the report. */
ufo_status eval_score(const struct eval_scorer *scorer, const struct data_set *ds,
                      enum eval_protocol protocol, const struct eval_features *f,
                      const struct eval_model_options *o, struct eval_report *out);

/* eval_select_items, eval_extract and eval_score in one. `keep` receives the features when
 * not NULL (free with eval_features_free). */
ufo_status eval_model(struct vit *vit, const struct ufo_arch *arch, int task,
                      const struct data_set *ds, const struct eval_scorer *scorer,
                      const struct eval_model_options *o, struct eval_report *out,
                      struct eval_features *keep);

/* Save features so that ufo-eval --features re-scores them: `npy` (n × dim float32), beside it
 * NAME.labels.txt (ID CAMERA SPLIT, see eval_feature_labels), and for verify NAME.pairs.txt
 * and NAME.flip.npy (mirrored features), NAME being `npy` without ".npy". */
ufo_status eval_features_save(const char *npy, const struct data_set *ds,
                              enum eval_protocol protocol, const struct eval_features *f);

/* An architecture from text: "largest", "smallest", an arch JSON file (a name ending in
 * ".json", or any existing file), or a CVPR track 2 string whose blocks use `path` for every
 * task. Messages name the text and what it could have been. */
ufo_status eval_arch_parse(const struct ufo_space *space, const char *text, enum ufo_path path,
                           struct ufo_arch *arch);

/* "d4 h3.0 m2.00": kept blocks, mean heads and expansion of the kept blocks. */
void eval_arch_summary(const struct ufo_arch *arch, char *buf, size_t size);

#endif
