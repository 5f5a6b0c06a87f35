/* A dataset as every reader returns it: a list of images with identity, camera and split.
 * Readers (src/data/read_*.c) fill it; the decoder (src/data/image.c) turns an item into pixels. */
#ifndef UFO_DATA_DATASET_H
#define UFO_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include <ufo/status.h>

/* Where an item's image lives. */
enum data_source {
    DATA_FILE,   /* an encoded image file (JPEG, PNG) at `path` */
    DATA_RANGE,  /* encoded bytes [offset, offset + size) inside the container file `path` */
    DATA_MEMORY, /* raw 8-bit pixels, width × height × channels, at ds->pixels + offset */
};

enum data_split { DATA_TRAIN, DATA_QUERY, DATA_GALLERY, DATA_TEST };

struct data_item {
    enum data_source source;
    const char *path;        /* DATA_FILE, DATA_RANGE; owned by the dataset */
    uint64_t offset, size;   /* DATA_RANGE: byte range; DATA_MEMORY: byte offset in pixels */
    uint16_t width, height;  /* DATA_MEMORY only */
    uint8_t channels;        /* DATA_MEMORY only: 1 or 3 */
    enum data_split split;
    int32_t label;           /* contiguous 0..n_labels-1 within the dataset; -1 distractor */
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
};

struct data_set {
    char *name;              /* the config's name for it, or the format name */
    char *format;            /* "folder", "list", "idx", "market1501", ... */
    char *root;
    struct data_item *items;
    size_t count;
    int32_t n_labels, n_cameras;
    uint8_t *pixels;         /* storage behind DATA_MEMORY items, or NULL */
    struct data_pairs pairs; /* count 0 unless the format holds verification pairs */
    struct data_report report;
    void *owned;             /* reader-private allocations (string pool), freed with the set */
};

/* Free everything a reader allocated for `ds` (safe on a zeroed or half-filled set). */
void data_set_free(struct data_set *ds);

#endif
