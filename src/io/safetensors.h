/* safetensors files: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range (data_offsets, relative to the end of the header) and
 * an optional "__metadata__" map of strings, then the raw little-endian data. */
#ifndef UFO_IO_SAFETENSORS_H
#define UFO_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include <ufo/status.h>

#define UFO_ST_MAX_DIMS 8
#define UFO_ST_MAX_HEADER (100u << 20) /* the format's own limit on the header */

struct ufo_st_tensor {
    char *name;
    char dtype[12];   /* "F32", "F16", "I64", ... */
    int elem_size;    /* bytes */
    int ndim;         /* 0 for a scalar */
    int64_t shape[UFO_ST_MAX_DIMS];
    uint64_t numel;
    uint64_t begin, end; /* byte range within the data section */
};

typedef struct ufo_st_file ufo_st_file;

/* Open a file and check its header: size limits, JSON syntax, each entry's dtype, shape and
 * offsets, byte ranges that match the shapes and tile the data section exactly (no gap, no
 * overlap, nothing past the end of the file). Data is read later, tensor by tensor. */
ufo_status ufo_st_open(const char *path, ufo_st_file **out);
void ufo_st_close(ufo_st_file *f);

const char *ufo_st_path(const ufo_st_file *f);
int ufo_st_count(const ufo_st_file *f);
/* Tensors in the order of their data. */
const struct ufo_st_tensor *ufo_st_tensor_at(const ufo_st_file *f, int i);
const struct ufo_st_tensor *ufo_st_find(const ufo_st_file *f, const char *name);
/* A "__metadata__" value, or NULL. */
const char *ufo_st_metadata(const ufo_st_file *f, const char *key);

/* Read an F32 tensor's data into dst (t->numel floats); a tensor of another dtype fails
 * naming it. */
ufo_status ufo_st_read_f32(ufo_st_file *f, const struct ufo_st_tensor *t, float *dst);

/* One tensor to write: F32 data, ndim 0..UFO_ST_MAX_DIMS. */
struct ufo_st_out {
    const char *name;
    int ndim;
    int64_t shape[UFO_ST_MAX_DIMS];
    const float *data;
};

/* Write tensors (in the given order) and metadata (`n_meta` key/value pairs, as
 * meta[2i], meta[2i+1]) atomically: a temporary file beside `path`, flushed and synced, then
 * renamed over `path`, then the folder synced. Names must be unique. */
ufo_status ufo_st_write(const char *path, const struct ufo_st_out *tensors, size_t n,
                        const char *const *meta, size_t n_meta);

#endif
