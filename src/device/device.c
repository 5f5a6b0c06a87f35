/* Enumerate OpenCL devices, describe them, and open one with a context and in-order queue. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "device/device.h"
#include "device/trace.h"
#include "device/kernels.h"
#include "gemm/engine.h"

static void info_string(cl_device_id id, cl_device_info what, char *out, size_t size) {
    out[0] = '\0';
    if (clGetDeviceInfo(id, what, size, out, NULL) != CL_SUCCESS) out[0] = '\0';
    out[size - 1] = '\0';
    /* drivers pad some names with spaces */
    for (size_t n = strlen(out); n > 0 && out[n - 1] == ' '; n--) out[n - 1] = '\0';
}

static unsigned long long info_ulong(cl_device_id id, cl_device_info what) {
    cl_ulong v = 0;
    clGetDeviceInfo(id, what, sizeof v, &v, NULL);
    return v;
}

static int has_extension(cl_device_id id, const char *ext) {
    size_t size = 0;
    if (clGetDeviceInfo(id, CL_DEVICE_EXTENSIONS, 0, NULL, &size) != CL_SUCCESS) return 0;
    char *list = malloc(size + 1);
    if (!list) return 0;
    int found = 0;
    if (clGetDeviceInfo(id, CL_DEVICE_EXTENSIONS, size, list, NULL) == CL_SUCCESS) {
        list[size] = '\0';
        size_t n = strlen(ext);
        for (char *p = strstr(list, ext); p && !found; p = strstr(p + 1, ext))
            found = (p[n] == ' ' || p[n] == '\0');
    }
    free(list);
    return found;
}

static void fill_caps(cl_platform_id platform, cl_device_id id, struct ufo_device_caps *c) {
    memset(c, 0, sizeof *c);
    cl_device_type type = 0;
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    c->type = (type & CL_DEVICE_TYPE_GPU) ? UFO_DEVICE_GPU
            : (type & CL_DEVICE_TYPE_CPU) ? UFO_DEVICE_CPU
            : (type & CL_DEVICE_TYPE_ACCELERATOR) ? UFO_DEVICE_ACCEL : UFO_DEVICE_OTHER;
    info_string(id, CL_DEVICE_NAME, c->name, sizeof c->name);
    info_string(id, CL_DEVICE_VENDOR, c->vendor, sizeof c->vendor);
    info_string(id, CL_DRIVER_VERSION, c->driver, sizeof c->driver);
    info_string(id, CL_DEVICE_OPENCL_C_VERSION, c->opencl_c_version,
                sizeof c->opencl_c_version);
    c->platform[0] = '\0';
    clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof c->platform, c->platform, NULL);
    c->platform[sizeof c->platform - 1] = '\0';
    cl_uint cu = 0;
    clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
    c->compute_units = cu;
    c->global_mem = info_ulong(id, CL_DEVICE_GLOBAL_MEM_SIZE);
    c->max_alloc = info_ulong(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    c->local_mem = info_ulong(id, CL_DEVICE_LOCAL_MEM_SIZE);
    size_t wg = 0;
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    c->max_work_group = wg;
    cl_device_local_mem_type lt = CL_LOCAL;
    clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_TYPE, sizeof lt, &lt, NULL);
    c->local_mem_is_global = (lt == CL_GLOBAL);
    cl_device_fp_config fp64 = 0;
    clGetDeviceInfo(id, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
    c->has_fp64 = fp64 != 0 || has_extension(id, "cl_khr_fp64");
    c->has_fp16 = has_extension(id, "cl_khr_fp16");
    /* the true figure needs a built kernel; ufo_device_open measures it */
    c->preferred_multiple = c->type == UFO_DEVICE_GPU ? 32 : 1;
}

/* Walk every platform and device; `ids` receives the device ids when not NULL. */
static ufo_status enumerate(struct ufo_device_caps **out, cl_platform_id **platforms_out,
                            cl_device_id **ids_out, size_t *count) {
    *out = NULL;
    *count = 0;
    cl_uint np = 0;
    cl_int err = clGetPlatformIDs(0, NULL, &np);
    if (err == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: no ICD installed */ || np == 0) return UFO_OK;
    if (err != CL_SUCCESS) return device_cl_fail(err, "clGetPlatformIDs", NULL);
    cl_platform_id *platforms = calloc(np, sizeof *platforms);
    if (!platforms) return ufo_fail(UFO_ERR_NOMEM, "out of memory listing devices");
    clGetPlatformIDs(np, platforms, NULL);

    size_t total = 0, cap = 0;
    struct ufo_device_caps *list = NULL;
    cl_platform_id *plist = NULL;
    cl_device_id *ids = NULL;
    unsigned per_type[4] = {0};
    ufo_status st = UFO_OK;
    for (cl_uint p = 0; p < np && st == UFO_OK; p++) {
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd) != CL_SUCCESS)
            continue;
        cl_device_id *devs = calloc(nd, sizeof *devs);
        if (!devs) { st = ufo_fail(UFO_ERR_NOMEM, "out of memory listing devices"); break; }
        clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL);
        for (cl_uint d = 0; d < nd; d++) {
            if (total == cap) {
                cap = cap ? cap * 2 : 8;
                void *a = realloc(list, cap * sizeof *list), *b = realloc(ids, cap * sizeof *ids);
                void *c = realloc(plist, cap * sizeof *plist);
                if (a) list = a;
                if (b) ids = b;
                if (c) plist = c;
                if (!a || !b || !c) { st = ufo_fail(UFO_ERR_NOMEM, "out of memory"); break; }
            }
            struct ufo_device_caps *c = &list[total];
            fill_caps(platforms[p], devs[d], c);
            c->platform_index = (int)p;
            c->device_index = (int)d;
            static const char *prefix[] = {"gpu", "cpu", "accel", "other"};
            snprintf(c->spec, sizeof c->spec, "%s:%u", prefix[c->type], per_type[c->type]++);
            ids[total] = devs[d];
            plist[total] = platforms[p];
            total++;
        }
        free(devs);
    }
    free(platforms);
    if (st != UFO_OK) { free(list); free(ids); free(plist); return st; }
    *out = list;
    *count = total;
    if (ids_out) *ids_out = ids; else free(ids);
    if (platforms_out) *platforms_out = plist; else free(plist);
    return UFO_OK;
}

ufo_status ufo_device_list(struct ufo_device_caps **out, size_t *count) {
    return enumerate(out, NULL, NULL, count);
}

static const char *default_spec(const char *spec) {
    if (spec && *spec) return spec;
    const char *env = getenv("UFO_DEVICE");
    return env && *env ? env : "auto";
}

ufo_status ufo_device_find(const char *spec, struct ufo_device_caps *out) {
    struct ufo_device_caps *list;
    size_t count, index;
    ufo_status st = ufo_device_list(&list, &count);
    if (st != UFO_OK) return st;
    st = device_match(default_spec(spec), list, count, &index);
    if (st == UFO_OK) *out = list[index];
    free(list);
    return st;
}

/* The work-group size multiple the driver prefers, read off a trivial kernel. */
static size_t measure_preferred_multiple(ufo_device *dev) {
    static const char *src = "__kernel void probe(__global float *x) "
                             "{ x[get_global_id(0)] += 1.0f; }";
    cl_int err;
    size_t multiple = dev->caps.preferred_multiple;
    cl_program prog = clCreateProgramWithSource(dev->context, 1, &src, NULL, &err);
    if (err != CL_SUCCESS) return multiple;
    if (clBuildProgram(prog, 1, &dev->id, "", NULL, NULL) == CL_SUCCESS) {
        cl_kernel k = clCreateKernel(prog, "probe", &err);
        if (err == CL_SUCCESS) {
            clGetKernelWorkGroupInfo(k, dev->id, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                                     sizeof multiple, &multiple, NULL);
            clReleaseKernel(k);
        }
    }
    clReleaseProgram(prog);
    return multiple;
}

ufo_status ufo_device_open(const char *spec, ufo_device **out) {
    *out = NULL;
    struct ufo_device_caps *list;
    cl_device_id *ids;
    cl_platform_id *platforms;
    size_t count, index;
    ufo_status st = enumerate(&list, &platforms, &ids, &count);
    if (st != UFO_OK) return st;
    st = device_match(default_spec(spec), list, count, &index);
    if (st != UFO_OK) {
        free(list); free(ids); free(platforms);
        return st;
    }
    ufo_device *dev = calloc(1, sizeof *dev);
    if (!dev) {
        free(list); free(ids); free(platforms);
        return ufo_fail(UFO_ERR_NOMEM, "out of memory opening a device");
    }
    dev->caps = list[index];
    dev->id = ids[index];
    dev->platform = platforms[index];
    free(list); free(ids); free(platforms);

    cl_int err;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)dev->platform,
                                     0};
    dev->context = clCreateContext(props, 1, &dev->id, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        free(dev);
        return device_cl_fail(err, "clCreateContext", NULL);
    }
    if (device_trace_wanted()) dev->trace = device_trace_create();
    dev->queue = clCreateCommandQueue(dev->context, dev->id,
                                      dev->trace ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
    if (err != CL_SUCCESS) {
        st = device_cl_fail(err, "clCreateCommandQueue", dev->caps.name);
        ufo_device_close(dev);
        return st;
    }
    dev->caps.preferred_multiple = measure_preferred_multiple(dev);
    if ((st = gemm_engine_create(dev, &dev->gemm)) != UFO_OK) {
        ufo_device_close(dev);
        return st;
    }
    log_debug("device %s: %s (%s)", dev->caps.spec, dev->caps.name, dev->caps.platform);
    *out = dev;
    return UFO_OK;
}

void ufo_device_close(ufo_device *dev) {
    if (!dev) return;
    if (dev->queue) clFinish(dev->queue);
    gemm_engine_destroy(dev->gemm);
    kernels_cache_free(dev);
    device_trace_destroy(dev->trace);
    if (dev->queue) clReleaseCommandQueue(dev->queue);
    if (dev->context) clReleaseContext(dev->context);
    free(dev);
}

const struct ufo_device_caps *ufo_device_caps(const ufo_device *dev) {
    return &dev->caps;
}

cl_context ufo_device_context(const ufo_device *dev) {
    return dev->context;
}

cl_command_queue ufo_device_queue(const ufo_device *dev) {
    return dev->queue;
}

ufo_status ufo_device_finish(ufo_device *dev) {
    if (dev->trace) device_trace_finish(dev->trace);
    cl_int err = clFinish(dev->queue);
    return err == CL_SUCCESS ? UFO_OK : device_cl_fail(err, "clFinish", NULL);
}

ufo_status device_alloc(ufo_device *dev, size_t bytes, const char *what, cl_mem *out) {
    cl_int err;
    *out = clCreateBuffer(dev->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
    if (err != CL_SUCCESS) {
        char label[160];
        snprintf(label, sizeof label, "%s, %zu bytes", what, bytes);
        return device_cl_fail(err, "clCreateBuffer", label);
    }
    return UFO_OK;
}

ufo_status device_write(ufo_device *dev, cl_mem buf, size_t offset, size_t bytes,
                        const void *src) {
    if (bytes == 0) return UFO_OK;
    cl_event *ev = dev->trace ? device_trace_slot(dev->trace) : NULL;
    cl_int err = clEnqueueWriteBuffer(dev->queue, buf, CL_TRUE, offset, bytes, src, 0, NULL, ev);
    if (ev && err == CL_SUCCESS) device_trace_add(dev->trace, "(write)", bytes, 0, 1);
    return err == CL_SUCCESS ? UFO_OK : device_cl_fail(err, "clEnqueueWriteBuffer", NULL);
}

ufo_status device_read(ufo_device *dev, cl_mem buf, size_t offset, size_t bytes, void *dst) {
    if (bytes == 0) return UFO_OK;
    cl_event *ev = dev->trace ? device_trace_slot(dev->trace) : NULL;
    cl_int err = clEnqueueReadBuffer(dev->queue, buf, CL_TRUE, offset, bytes, dst, 0, NULL, ev);
    if (ev && err == CL_SUCCESS) device_trace_add(dev->trace, "(read)", bytes, 0, 1);
    return err == CL_SUCCESS ? UFO_OK : device_cl_fail(err, "clEnqueueReadBuffer", NULL);
}
