/* NumPy `.npy` arrays: read and write float32, int32 and int64 arrays in C order. */
#ifndef UFO_IO_NPY_H
#define UFO_IO_NPY_H

#include <stddef.h>

#include <ufo/status.h>

enum io_dtype { IO_F32, IO_I32, IO_I64 };

#define IO_NPY_MAX_DIMS 8

/* A dense array in host memory, row-major. `count` is the product of the shape (1 for a
 * 0-d array); `data` holds count elements of `dtype` and is malloc'ed by the reader. */
struct io_array {
    enum io_dtype dtype;
    int ndim;
    size_t shape[IO_NPY_MAX_DIMS];
    size_t count;
    void *data;
};

/* Bytes per element of `dtype`. */
size_t io_dtype_size(enum io_dtype dtype);

/* Read a little-endian, C-order `.npy` file of format version 1.0, 2.0 or 3.0. Anything
 * else (big-endian, Fortran order, another dtype, a shape that disagrees with the file size)
 * fails with a message naming the file. On failure `out` holds no memory. */
ufo_status io_npy_read(const char *path, struct io_array *out);

/* Read a 2-D float32 array (rows × cols); `*data` is malloc'ed. */
ufo_status io_npy_read_matrix(const char *path, float **data, size_t *rows, size_t *cols);

/* Write `arr` as `.npy` (version 1.0, or 2.0 when the header needs it). */
ufo_status io_npy_write(const char *path, const struct io_array *arr);

/* Write a rows × cols float32 matrix. */
ufo_status io_npy_write_matrix(const char *path, const float *data, size_t rows, size_t cols);

void io_array_free(struct io_array *arr);

#endif
