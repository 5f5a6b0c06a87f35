/* The device handle shared by the library's layers: OpenCL objects, kernel cache, GEMM engine. */
#ifndef UFO_DEVICE_DEVICE_H
#define UFO_DEVICE_DEVICE_H

#include <ufo/device.h>

struct kernel_cache;
struct gemm_engine;
struct device_trace;

struct ufo_device {
    struct ufo_device_caps caps;
    cl_platform_id platform;
    cl_device_id id;
    cl_context context;
    cl_command_queue queue;
    struct kernel_cache *kernels;
    struct gemm_engine *gemm;
    struct device_trace *trace; /* NULL unless UFO_TRACE is set (device/trace.h) */
};

/* Record an OpenCL failure: "clEnqueueNDRangeKernel(gemm_nn): CL_OUT_OF_RESOURCES". */
ufo_status device_cl_fail(cl_int err, const char *call, const char *what);

/* Pick the device `spec` names from a list (the rules of ufo_device_find). On failure the
 * message lists the devices there are. Separate from enumeration so tests can feed it lists. */
ufo_status device_match(const char *spec, const struct ufo_device_caps *list, size_t count,
                        size_t *index);

/* Convenience: allocate a device buffer of `bytes`, naming `what` on failure. */
ufo_status device_alloc(ufo_device *dev, size_t bytes, const char *what, cl_mem *out);

/* Blocking copies between host memory and a buffer region (offsets in bytes). */
ufo_status device_write(ufo_device *dev, cl_mem buf, size_t offset, size_t bytes,
                        const void *src);
ufo_status device_read(ufo_device *dev, cl_mem buf, size_t offset, size_t bytes, void *dst);

#endif
