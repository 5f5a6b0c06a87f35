/* Label files for precomputed features: identity, camera and split of each feature row. */
#ifndef UFO_IO_LABELS_H
#define UFO_IO_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include <ufo/status.h>

enum io_split { IO_SPLIT_NONE = 0, IO_SPLIT_QUERY = 1, IO_SPLIT_GALLERY = 2 };

/* Row i describes row i of the matching feature array. */
struct io_labels {
    size_t n;
    int64_t *id;         /* identity or class; negative marks a junk image */
    int64_t *camera;     /* camera, -1 when unknown */
    unsigned char *split; /* enum io_split */
};

/* Read a label file: one line per feature row, three fields separated by blanks:
 *     ID CAMERA SPLIT
 * ID and CAMERA are base-10 integers, SPLIT is `query`, `gallery` or `-`. Blank lines and
 * lines starting with '#' are skipped. Errors name the file and line. */
ufo_status io_labels_read(const char *path, struct io_labels *out);

/* Write labels in the same format (used by tests and tools). */
ufo_status io_labels_write(const char *path, const struct io_labels *labels);

void io_labels_free(struct io_labels *labels);

/* One verification pair: two feature rows and whether they show the same identity. */
struct io_pair {
    size_t a, b;
    int same;
};

/* Read a pair list: one pair per line, `A B SAME` with A, B 0-based feature rows and SAME 1
 * (same identity) or 0. Blank lines and '#' lines are skipped. `*pairs` is malloc'ed. */
ufo_status io_pairs_read(const char *path, struct io_pair **pairs, size_t *count);

#endif
