/* Matrix products on the device: C = alpha · op(A) · op(B) + beta · C, row-major.
 * op(A) is m × k and op(B) is k × n. A weight slice is a leading sub-matrix: pass the full
 * tensor's row length as its leading dimension, no copy needed. Offsets and leading dimensions
 * count floats. One of two engines serves each call (CLBlast or ufo's own kernels), as the
 * device settings say. */
#ifndef UFO_GEMM_H
#define UFO_GEMM_H

#include <ufo/device.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ufo_trans { UFO_NO_TRANS = 0, UFO_TRANS = 1 };
enum ufo_gemm_engine { UFO_GEMM_AUTO = 0, UFO_GEMM_CLBLAST, UFO_GEMM_OWN };

/* One operand: buffer, first element and leading dimension (row length in memory). */
struct ufo_matrix {
    cl_mem buf;
    size_t offset;
    size_t ld;
};

ufo_status ufo_gemm(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb,
                    size_t m, size_t n, size_t k, float alpha,
                    struct ufo_matrix a, struct ufo_matrix b, float beta, struct ufo_matrix c);

/* `batch` independent products; operand i starts `stride_*` floats after operand i-1. */
ufo_status ufo_gemm_batched(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb,
                            size_t m, size_t n, size_t k, float alpha,
                            struct ufo_matrix a, size_t stride_a,
                            struct ufo_matrix b, size_t stride_b, float beta,
                            struct ufo_matrix c, size_t stride_c, size_t batch);

/* Force an engine for the calls that follow on `dev` (UFO_GEMM_AUTO restores the settings);
 * used by tests and benchmarks. */
void ufo_gemm_set_engine(ufo_device *dev, enum ufo_gemm_engine engine);

#ifdef __cplusplus
}
#endif
#endif
