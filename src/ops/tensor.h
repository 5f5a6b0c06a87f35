/* Device operands for the ops layer: a matrix view (buffer, first element, row length in memory)
 * is gemm.h's struct ufo_matrix; a vector is the same view with ld unused. */
#ifndef UFO_OPS_TENSOR_H
#define UFO_OPS_TENSOR_H

#include <ufo/gemm.h>

/* A matrix view starting `offset` floats into `buf`, rows `ld` floats apart. */
static inline struct ufo_matrix ops_mat(cl_mem buf, size_t offset, size_t ld) {
    struct ufo_matrix m = {buf, offset, ld};
    return m;
}

/* A vector view starting `offset` elements into `buf` (floats, or ints for labels). */
static inline struct ufo_matrix ops_vec(cl_mem buf, size_t offset) {
    struct ufo_matrix m = {buf, offset, 0};
    return m;
}

/* The view moved down by `rows` rows (a task's rows inside the batch). */
static inline struct ufo_matrix ops_rows(struct ufo_matrix m, size_t rows) {
    m.offset += rows * m.ld;
    return m;
}

#endif
