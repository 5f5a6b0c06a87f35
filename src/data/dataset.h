/* A dataset as every reader returns it: a list of images with identity, camera and split.
 * Readers (src/data/read_*.c) fill it; the decoder (src/data/image.c) turns an item into pixels. */
#ifndef UFO_DATA_DATASET_H
#define UFO_DATA_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ufo/status.h>

/* Where an item's image lives. */
enum data_source {
    DATA_FILE,   /* an encoded image file (JPEG, PNG) at `path` */
    DATA_RANGE,  /* encoded bytes [offset, offset + size) inside the container file `path` */
    DATA_MEMORY, /* raw 8-bit pixels, width × height × channels, at ds->pixels + offset */
    DATA_BLOB,   /* encoded bytes (JPEG, PNG) at ds->pixels + offset, `size` long, rebuilt in
                  * memory: a RecordIO record its writer split around the magic number, or
                  * image bytes a pickle stored as latin-1 text; decode with data_decode_bytes */
};

enum data_split { DATA_TRAIN, DATA_QUERY, DATA_GALLERY, DATA_TEST };

struct data_item {
    enum data_source source;
    const char *path;        /* DATA_FILE, DATA_RANGE (DATA_BLOB: the container, for messages);
                              * owned by the dataset */
    uint64_t offset, size;   /* DATA_RANGE: byte range; DATA_MEMORY, DATA_BLOB: byte offset in
                              * pixels and size in bytes */
    uint16_t width, height;  /* DATA_MEMORY only */
    uint8_t channels;        /* DATA_MEMORY only: 1 or 3 */
    enum data_split split;
    int32_t label;           /* contiguous 0..n_labels-1 within the dataset; -1 distractor, or
                              * no identity (verification packs, where only pairs count) */
    int32_t camera;          /* contiguous 0..n_cameras-1; -1 when the format has none */
};

/* Face-verification pairs: items first[i] and second[i] are the same person when same[i]. */
struct data_pairs {
    size_t count;
    size_t *first, *second;
    uint8_t *same;
};

/* What a reader skipped and why, for the log and the run summary. */
struct data_report {
    size_t skipped_lines;    /* unparsable list lines, bad file names */
    size_t missing_files;    /* listed by the dataset but not on disk */
    size_t junk;             /* dropped by the format's rules (Market-1501 id -1) */
    size_t bad_records;      /* corrupt container records (RecordIO, IDX, pickle) */
    size_t other_files;      /* files in an image folder that are not JPEG or PNG */
    size_t bad_pairs;        /* verification pairs dropped (an image missing, bad line) */
    size_t distractors;      /* items kept with label -1 (Market-1501 id 0000) */
    size_t images[4];        /* items per enum data_split */
    size_t labels[4];        /* distinct labels (distractors not counted) per split */
    size_t cameras[4];       /* distinct cameras per split */
};

struct data_set {
    char *name;              /* the config's name for it, or the format name */
    char *format;            /* "folder", "list", "idx", "market1501", ... */
    char *root;
    struct data_item *items;
    size_t count;
    int32_t n_labels, n_cameras;
    int32_t n_train_labels;  /* labels seen in DATA_TRAIN items are 0..n_train_labels-1 */
    uint8_t *pixels;         /* storage behind DATA_MEMORY items, or NULL */
    struct data_pairs pairs; /* count 0 unless the format holds verification pairs */
    struct data_report report;
    void *owned;             /* reader-private allocations (string pool), freed with the set */
};

/* Which parts of a dataset to load (bit flags). */
enum data_part {
    DATA_PART_TRAIN = 1, /* the training split */
    DATA_PART_EVAL = 2,  /* query + gallery, or the test split */
    DATA_PART_ALL = 3,
};

/* What to open: the config's `format`, `root` and options of one dataset section. */
struct data_spec {
    const char *format;  /* folder, list, idx, market1501, msmt17, veri776, vehicleid, veriwild,
                          * sop, mxrec, facebin, pairs */
    const char *root;    /* the dataset's folder (facebin: the folder or the .bin file) */
    const char *name;    /* the config's name for it (labels are namespaced by it); NULL: format */
    unsigned parts;      /* enum data_part flags; 0 means DATA_PART_ALL */
    const char *file;    /* list: the list file; idx/mxrec: the file prefix ("train", "t10k");
                          * facebin: the .bin name; pairs: the pair list; NULL: the default */
    const char *images;  /* pairs, folder of the pair images; NULL: the format's default */
    int test_size;       /* vehicleid 800/1600/2400 (default 2400); veriwild 3000/5000/10000
                          * (default 10000) */
    enum data_split split; /* folder, list, idx with file, mxrec: the split the items belong to
                            * (default DATA_TRAIN) */
    int no_file_check;   /* list-based formats: trust the lists, skip the per-file existence
                          * check (for huge sets on slow file systems) */
    const char *query;   /* list: the query list of the evaluation part; NULL: none */
    const char *gallery; /* list: the gallery list of the evaluation part; NULL: none */
};

/* Open the dataset `spec` describes into `out` (zeroed first; free with data_set_free). Logs one
 * line of what was loaded and what was skipped. A dataset that yields no usable item fails with
 * a message naming it. */
ufo_status data_open(const struct data_spec *spec, struct data_set *out);

/* Concatenate `n` datasets feeding one task into `out`: labels and cameras of part i are shifted
 * past those of parts 0..i-1 (training labels first, so the training classes of the merged set
 * stay contiguous), distractors stay -1, pairs and pixel storage are carried over. The parts are
 * left untouched and may be freed afterwards. */
ufo_status data_merge(const struct data_set *parts, size_t n, const char *name,
                      struct data_set *out);

/* Whether `format` reads the data_spec option `option` ("file", "images", "test_size", "split",
 * "no_file_check", "query", "gallery"), and the formats that do ("list, idx, ...", NULL for an
 * unknown option). data_open refuses a spec that sets an option its format ignores. */
bool data_format_reads(const char *format, const char *option);
const char *data_option_formats(const char *option);

/* Name of a split ("train", "query", "gallery", "test"). */
const char *data_split_name(enum data_split split);

/* Free everything a reader allocated for `ds` (safe on a zeroed or half-filled set). */
void data_set_free(struct data_set *ds);

#endif
