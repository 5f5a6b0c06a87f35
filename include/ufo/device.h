/* OpenCL devices: enumerate, select by spec, and describe by capabilities. */
#ifndef UFO_DEVICE_H
#define UFO_DEVICE_H

#include <stddef.h>

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include <ufo/status.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ufo_device_type { UFO_DEVICE_GPU, UFO_DEVICE_CPU, UFO_DEVICE_ACCEL, UFO_DEVICE_OTHER };

/* What a device can do; code paths are chosen from this, never from the vendor id. */
struct ufo_device_caps {
    enum ufo_device_type type;
    char spec[32];               /* the canonical spec that selects it: "gpu:0", "cpu:0" */
    int platform_index, device_index;
    char name[256], vendor[256], driver[128], platform[256];
    char opencl_c_version[64];   /* "OpenCL C 1.2 ..." */
    unsigned compute_units;
    unsigned long long global_mem, max_alloc, local_mem;
    size_t max_work_group;
    size_t preferred_multiple;   /* preferred work-group size multiple of a simple kernel */
    int has_fp64, has_fp16;
    int local_mem_is_global;     /* CL_GLOBAL local memory (typical for CPUs) */
};

typedef struct ufo_device ufo_device;

/* List every OpenCL device; `*out` is malloc'ed (free it), `*count` may be 0. */
ufo_status ufo_device_list(struct ufo_device_caps **out, size_t *count);

/* Resolve a spec ("auto", "gpu:N", "cpu:N", "accel:N", "P.D", or a name substring) to one
 * device. NULL or "" means UFO_DEVICE from the environment, else "auto". An unknown spec
 * fails with a message listing the devices there are. */
ufo_status ufo_device_find(const char *spec, struct ufo_device_caps *out);

/* Open a device: context, in-order queue, kernel cache and GEMM engine. */
ufo_status ufo_device_open(const char *spec, ufo_device **out);
void ufo_device_close(ufo_device *dev);

const struct ufo_device_caps *ufo_device_caps(const ufo_device *dev);
cl_context ufo_device_context(const ufo_device *dev);
cl_command_queue ufo_device_queue(const ufo_device *dev);

/* Wait for every command queued so far (clFinish), reporting a failure by name. */
ufo_status ufo_device_finish(ufo_device *dev);

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"). */
const char *ufo_cl_error_name(cl_int err);

#ifdef __cplusplus
}
#endif
#endif
