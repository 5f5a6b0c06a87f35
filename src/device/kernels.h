/* Kernels from the embedded cl/ sources, built per device and cached by (file, options). */
#ifndef UFO_DEVICE_KERNELS_H
#define UFO_DEVICE_KERNELS_H

#include <ufo/device.h>

/* Get kernel `name` from cl/`file` built with `options` (-D specialisations, may be NULL).
 * The program is built once per (file, options) and kept until the device closes; the
 * returned kernel belongs to the cache (do not release it). Sources come from the library,
 * or from the folder named by UFO_CL_DIR when set (for kernel development). A build failure
 * reports the file, the options and the build log. Not thread-safe: one host thread drives
 * a device. */
ufo_status kernels_get(ufo_device *dev, const char *file, const char *name, const char *options,
                       cl_kernel *out);

/* Set kernel arguments from (size, pointer) pairs and enqueue a 1-, 2- or 3-D range;
 * `local` may be NULL. Failures name the kernel and the OpenCL error. */
ufo_status kernels_run(ufo_device *dev, cl_kernel kernel, cl_uint dims, const size_t *global,
                       const size_t *local);
ufo_status kernels_arg(cl_kernel kernel, cl_uint index, size_t size, const void *value);

/* Release every program and kernel built for `dev` (called by ufo_device_close). */
void kernels_cache_free(ufo_device *dev);

/* Round `n` up to a multiple of `m`. */
static inline size_t kernels_round_up(size_t n, size_t m) {
    return (n + m - 1) / m * m;
}

#endif
