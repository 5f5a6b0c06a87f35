/* What the dataset readers share: growing the item list, a string pool for paths, text lines,
 * folder listings, and the final renumbering and report (all in src/data/dataset.c). */
#ifndef UFO_DATA_READER_H
#define UFO_DATA_READER_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"

/* Raw labels and cameras: readers store the format's own ids (>= 0) in item.label and
 * item.camera; data_finish renumbers them. A negative raw label marks a distractor, a negative
 * raw camera an unknown camera. */
#define DATA_RAW_DISTRACTOR (-1)

/* One reader per format; each fills ds->items with raw ids and ds->report. */
typedef ufo_status (*data_reader_fn)(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_folder(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_list(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_idx(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_market1501(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_msmt17(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_veri776(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_vehicleid(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_veriwild(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_sop(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_mxrec(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_facebin(const struct data_spec *spec, struct data_set *ds);
ufo_status data_read_pairs(const struct data_spec *spec, struct data_set *ds);

/* Append one item (copied; its path must already live in the pool or be NULL). */
ufo_status data_add_item(struct data_set *ds, const struct data_item *item);

/* Append a DATA_FILE item for `path` (copied into the pool). */
ufo_status data_add_file(struct data_set *ds, const char *path, enum data_split split,
                         int32_t raw_label, int32_t raw_camera);

/* Copy a string into the set's pool; NULL when memory runs out. */
const char *data_intern(struct data_set *ds, const char *s);

/* Reserve `size` bytes at the end of ds->pixels; returns the byte offset, or -1 when memory
 * runs out. The pointer ds->pixels may move. */
int64_t data_pixels_grow(struct data_set *ds, size_t size);

/* Give back the pixel storage past `size` bytes (a partly read image). */
void data_pixels_truncate(struct data_set *ds, uint64_t size);

/* Join folder and name with one '/', into buf (fails when it does not fit). */
ufo_status data_path_join(char *buf, size_t cap, const char *dir, const char *name);

/* 1 when `path` names a regular file (after symlinks), 0 otherwise. */
int data_is_file(const char *path);
int data_is_dir(const char *path);

/* Whole file into a NUL-terminated buffer (free with free()). */
ufo_status data_read_text(const char *path, char **text, size_t *size);

/* Next line from *cursor (NUL-terminated in place, '\r' and trailing blanks cut); NULL at the
 * end. */
char *data_next_line(char **cursor);

/* Split a line in place into at most `max` whitespace-separated tokens; returns how many there
 * were (which may exceed max: the extra ones are not stored). */
int data_split_tokens(char *line, char **tokens, int max);

/* Parse a whole token as a base-10 integer in [lo, hi]; 0 on success, else what is wrong. */
enum data_int_error { DATA_INT_OK, DATA_INT_NOT_INTEGER, DATA_INT_BELOW, DATA_INT_ABOVE };
int data_parse_int(const char *token, long lo, long hi, long *out);

/* Sorted names of the entries of `dir` that are regular files (want_dirs 0) or folders
 * (want_dirs 1), hidden ones left out. Free with data_free_names. */
ufo_status data_list_dir(const char *dir, int want_dirs, char ***names, size_t *count);
void data_free_names(char **names, size_t count);

/* 1 when the name ends in .jpg, .jpeg or .png (any case). */
int data_is_image_name(const char *name);

/* Parse re-id names of the form `<id>_c<camera>...` (Market-1501 `0002_c1s1_000451_03.jpg`,
 * VeRi-776 `0002_c002_00030600_0.jpg`); the id may be -1. 0 on success. */
int data_parse_id_camera(const char *name, long *id, long *camera);

/* Scan `dir` for `<id>_c<camera>` JPEG names into items of `split`: ids equal to `junk_id` are
 * dropped and counted as junk, ids equal to `distractor_id` (when >= 0) become distractors,
 * unparsable names are counted as skipped and other files as other_files. */
ufo_status data_scan_id_camera(struct data_set *ds, const char *dir, enum data_split split,
                               long junk_id, long distractor_id);

/* Count a missing file: warns for the first few, naming them. */
void data_note_missing(struct data_set *ds, const char *path);

/* Count a skipped line: warns for the first few, naming the file, line number and reason. */
void data_note_bad_line(struct data_set *ds, const char *file, size_t line, const char *why);

/* Renumber labels and cameras, fill the report and log it; fails naming the dataset when no
 * item is usable. */
ufo_status data_finish(struct data_set *ds);

#endif
