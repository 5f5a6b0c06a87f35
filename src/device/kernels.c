/* Build OpenCL programs from the embedded cl/ sources and keep them per (file, options). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/embedded.h"
#include "core/log.h"
#include "device/device.h"
#include "device/kernels.h"
#include "device/trace.h"

/* Every kernel file is compiled after cl/common.h, which holds shared helpers. */
#define COMMON_HEADER "common.h"

struct built_kernel {
    char name[64];
    cl_kernel kernel;
};

struct program_entry {
    char *file, *options;
    cl_program program;
    struct built_kernel *kernels;
    size_t n_kernels;
};

struct kernel_cache {
    struct program_entry *entries;
    size_t count, cap;
};

/* Read a kernel file: from UFO_CL_DIR when set (development), else from the library. */
static ufo_status load_source(const char *file, char **out) {
    const char *dir = getenv("UFO_CL_DIR");
    if (dir && *dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, file);
        FILE *f = fopen(path, "rb");
        if (!f) return ufo_fail(UFO_ERR_IO, "%s: cannot open kernel source (UFO_CL_DIR is set)",
                                path);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
        if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
            fclose(f);
            free(text);
            return ufo_fail(UFO_ERR_IO, "%s: cannot read kernel source", path);
        }
        fclose(f);
        text[size] = '\0';
        *out = text;
        return UFO_OK;
    }
    const struct ufo_embedded_file *e = embedded_find(file);
    if (!e) return ufo_fail(UFO_ERR_INVALID, "kernel file %s is not part of this build", file);
    *out = strdup(e->data);
    return *out ? UFO_OK : ufo_fail(UFO_ERR_NOMEM, "out of memory loading %s", file);
}

static ufo_status build_program(ufo_device *dev, const char *file, const char *options,
                                cl_program *out) {
    char *common = NULL, *body = NULL;
    ufo_status st = load_source(COMMON_HEADER, &common);
    if (st == UFO_OK) st = load_source(file, &body);
    if (st != UFO_OK) {
        free(common);
        return st;
    }
    char line_mark[300];
    snprintf(line_mark, sizeof line_mark, "\n#line 1 \"%s\"\n", file);
    const char *parts[] = {common, line_mark, body};
    cl_int err;
    cl_program prog = clCreateProgramWithSource(dev->context, 3, parts, NULL, &err);
    free(common);
    free(body);
    if (err != CL_SUCCESS) return device_cl_fail(err, "clCreateProgramWithSource", file);

    /* no fast-math options: training kernels must keep NaN and Inf visible */
    char opts[1024];
    snprintf(opts, sizeof opts, "-cl-std=CL1.2 %s", options ? options : "");
    err = clBuildProgram(prog, 1, &dev->id, opts, NULL, NULL);
    if (err != CL_SUCCESS) {
        size_t size = 0;
        clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &size);
        char *log = malloc(size + 1);
        if (log) {
            log[0] = '\0';
            clGetProgramBuildInfo(prog, dev->id, CL_PROGRAM_BUILD_LOG, size, log, NULL);
            log[size] = '\0';
            /* the message is one line; the full log goes to the log stream */
            log_error("building %s with options '%s' failed:\n%s", file, opts, log);
        }
        char first[200] = "";
        if (log) {
            snprintf(first, sizeof first, "%s", log);
            for (char *p = first; *p; p++)
                if (*p == '\n') *p = ' ';
        }
        free(log);
        clReleaseProgram(prog);
        return ufo_fail(UFO_ERR_OPENCL, "clBuildProgram(%s, options '%s'): %s: %s", file, opts,
                        ufo_cl_error_name(err), first);
    }
    *out = prog;
    return UFO_OK;
}

static struct program_entry *find_program(struct kernel_cache *cache, const char *file,
                                          const char *options) {
    for (size_t i = 0; i < cache->count; i++)
        if (strcmp(cache->entries[i].file, file) == 0 &&
            strcmp(cache->entries[i].options, options) == 0)
            return &cache->entries[i];
    return NULL;
}

ufo_status kernels_get(ufo_device *dev, const char *file, const char *name, const char *options,
                       cl_kernel *out) {
    if (!options) options = "";
    if (!dev->kernels && !(dev->kernels = calloc(1, sizeof *dev->kernels)))
        return ufo_fail(UFO_ERR_NOMEM, "out of memory");
    struct kernel_cache *cache = dev->kernels;

    struct program_entry *e = find_program(cache, file, options);
    if (!e) {
        if (cache->count == cache->cap) {
            size_t cap = cache->cap ? cache->cap * 2 : 16;
            void *p = realloc(cache->entries, cap * sizeof *cache->entries);
            if (!p) return ufo_fail(UFO_ERR_NOMEM, "out of memory");
            cache->entries = p;
            cache->cap = cap;
        }
        cl_program prog = NULL;
        ufo_status st = build_program(dev, file, options, &prog);
        if (st != UFO_OK) return st;
        e = &cache->entries[cache->count];
        memset(e, 0, sizeof *e);
        e->file = strdup(file);
        e->options = strdup(options);
        e->program = prog;
        if (!e->file || !e->options) {
            free(e->file);
            free(e->options);
            clReleaseProgram(prog);
            return ufo_fail(UFO_ERR_NOMEM, "out of memory");
        }
        cache->count++;
    }

    for (size_t i = 0; i < e->n_kernels; i++)
        if (strcmp(e->kernels[i].name, name) == 0) return *out = e->kernels[i].kernel, UFO_OK;
    if (strlen(name) >= sizeof e->kernels[0].name)
        return ufo_fail(UFO_ERR_INVALID, "kernel name %s is too long", name);
    void *p = realloc(e->kernels, (e->n_kernels + 1) * sizeof *e->kernels);
    if (!p) return ufo_fail(UFO_ERR_NOMEM, "out of memory");
    e->kernels = p;
    cl_int err;
    cl_kernel k = clCreateKernel(e->program, name, &err);
    if (err != CL_SUCCESS) {
        char what[256];
        snprintf(what, sizeof what, "%s in %s", name, file);
        return device_cl_fail(err, "clCreateKernel", what);
    }
    snprintf(e->kernels[e->n_kernels].name, sizeof e->kernels[0].name, "%s", name);
    e->kernels[e->n_kernels++].kernel = k;
    *out = k;
    return UFO_OK;
}

void kernels_cache_free(ufo_device *dev) {
    struct kernel_cache *cache = dev->kernels;
    if (!cache) return;
    for (size_t i = 0; i < cache->count; i++) {
        struct program_entry *e = &cache->entries[i];
        for (size_t j = 0; j < e->n_kernels; j++) clReleaseKernel(e->kernels[j].kernel);
        free(e->kernels);
        clReleaseProgram(e->program);
        free(e->file);
        free(e->options);
    }
    free(cache->entries);
    free(cache);
    dev->kernels = NULL;
}

static void kernel_name(cl_kernel kernel, char *out, size_t size) {
    out[0] = '\0';
    clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, size, out, NULL);
    out[size - 1] = '\0';
}

ufo_status kernels_arg(cl_kernel kernel, cl_uint index, size_t size, const void *value) {
    cl_int err = clSetKernelArg(kernel, index, size, value);
    if (err == CL_SUCCESS) return UFO_OK;
    char name[64], what[96];
    kernel_name(kernel, name, sizeof name);
    snprintf(what, sizeof what, "%s, argument %u", name, index);
    return device_cl_fail(err, "clSetKernelArg", what);
}

/* Describe a traced launch: name, items, work-groups (0 when the driver chose). */
static void trace_launch(ufo_device *dev, cl_kernel kernel, cl_uint dims, const size_t *global,
                         const size_t *local) {
    char name[64];
    size_t items = 1, groups = local ? 1 : 0;
    kernel_name(kernel, name, sizeof name);
    for (cl_uint d = 0; d < dims; d++) {
        items *= global[d];
        if (local) groups *= (global[d] + local[d] - 1) / local[d];
    }
    device_trace_add(dev->trace, name, items, groups, 0);
}

ufo_status kernels_run(ufo_device *dev, cl_kernel kernel, cl_uint dims, const size_t *global,
                       const size_t *local) {
    for (cl_uint d = 0; d < dims; d++)
        if (global[d] == 0) return UFO_OK; /* an empty range is a no-op, not an error */
    cl_event *ev = dev->trace ? device_trace_slot(dev->trace) : NULL;
    cl_int err = clEnqueueNDRangeKernel(dev->queue, kernel, dims, NULL, global, local, 0, NULL,
                                        ev);
    if (ev && err == CL_SUCCESS) trace_launch(dev, kernel, dims, global, local);
    if (err == CL_SUCCESS) return UFO_OK;
    char name[64];
    kernel_name(kernel, name, sizeof name);
    return device_cl_fail(err, "clEnqueueNDRangeKernel", name);
}
