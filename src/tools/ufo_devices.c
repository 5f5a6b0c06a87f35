/* ufo-devices: list OpenCL devices with the spec that selects each, or self-check one. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <ufo/ufo.h>

#include "device/device.h"
#include "gemm/engine.h"

static const char *usage =
    "usage: ufo-devices [--json] [--check] [--device SPEC]\n"
    "  List every OpenCL device with the spec that selects it (gpu:0, cpu:0, P.D, ...).\n"
    "  --json         print the list as JSON\n"
    "  --check        run GEMMs on the chosen device against a CPU reference and print the\n"
    "                 error and GFLOP/s of each engine\n"
    "  --device SPEC  the device for --check (default: $UFO_DEVICE, else auto)\n";

static const char *type_name(enum ufo_device_type t) {
    static const char *names[] = {"gpu", "cpu", "accel", "other"};
    return names[t];
}

static void print_table(const struct ufo_device_caps *list, size_t count) {
    printf("%-8s %-5s %-44s %-28s %4s %9s %9s %6s %5s %4s %4s %s\n", "spec", "P.D", "name",
           "platform", "CUs", "global", "max-alloc", "local", "wg", "fp64", "fp16", "OpenCL C");
    for (size_t i = 0; i < count; i++) {
        const struct ufo_device_caps *c = &list[i];
        char pd[16];
        snprintf(pd, sizeof pd, "%d.%d", c->platform_index, c->device_index);
        printf("%-8s %-5s %-44.44s %-28.28s %4u %7.1fGB %7.1fGB %4lluKB %5zu %4s %4s %s\n",
               c->spec, pd, c->name, c->platform, c->compute_units, c->global_mem / 1e9,
               c->max_alloc / 1e9, c->local_mem / 1024, c->max_work_group,
               c->has_fp64 ? "yes" : "no", c->has_fp16 ? "yes" : "no", c->opencl_c_version);
    }
    if (count == 0) printf("(no OpenCL device; on Debian: apt-get install pocl-opencl-icd)\n");
}

static void print_json(const struct ufo_device_caps *list, size_t count) {
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        const struct ufo_device_caps *c = &list[i];
        json_t *o = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I,"
                              " s:I, s:I, s:b, s:b, s:b}",
                              "spec", c->spec, "type", type_name(c->type),
                              "platform_index", c->platform_index,
                              "device_index", c->device_index, "name", c->name,
                              "vendor", c->vendor, "driver", c->driver, "platform", c->platform,
                              "opencl_c_version", c->opencl_c_version,
                              "compute_units", (json_int_t)c->compute_units,
                              "global_mem", (json_int_t)c->global_mem,
                              "max_alloc", (json_int_t)c->max_alloc,
                              "local_mem", (json_int_t)c->local_mem,
                              "max_work_group", (json_int_t)c->max_work_group,
                              "preferred_multiple", (json_int_t)c->preferred_multiple,
                              "fp64", c->has_fp64, "fp16", c->has_fp16,
                              "local_mem_is_global", c->local_mem_is_global);
        json_array_append_new(arr, o);
    }
    char *text = json_dumps(arr, JSON_INDENT(2));
    puts(text);
    free(text);
    json_decref(arr);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* One product C = A·B (transposes as given) checked against double-precision host code,
 * then timed. Returns the worst relative error. */
static ufo_status check_one(ufo_device *dev, enum ufo_gemm_engine engine, enum ufo_trans ta,
                            enum ufo_trans tb, size_t m, size_t n, size_t k, double *rel_err,
                            double *gflops) {
    size_t na = m * k, nb = k * n, nc = m * n;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    cl_mem da = NULL, db = NULL, dc = NULL;
    ufo_status st = UFO_ERR_NOMEM;
    if (!a || !b || !c) goto done;
    unsigned seed = 12345;
    for (size_t i = 0; i < na; i++) a[i] = (float)((seed = seed * 1103515245 + 12345) >> 16 & 0x7fff) / 32768.0f - 0.5f;
    for (size_t i = 0; i < nb; i++) b[i] = (float)((seed = seed * 1103515245 + 12345) >> 16 & 0x7fff) / 32768.0f - 0.5f;
    if ((st = device_alloc(dev, na * 4, "A", &da)) || (st = device_alloc(dev, nb * 4, "B", &db)) ||
        (st = device_alloc(dev, nc * 4, "C", &dc)) || (st = device_write(dev, da, 0, na * 4, a)) ||
        (st = device_write(dev, db, 0, nb * 4, b)))
        goto done;
    ufo_gemm_set_engine(dev, engine);
    struct ufo_matrix ma = {da, 0, ta ? m : k}, mb = {db, 0, tb ? k : n}, mc = {dc, 0, n};
    if ((st = ufo_gemm(dev, ta, tb, m, n, k, 1.0f, ma, mb, 0.0f, mc)) ||
        (st = device_read(dev, dc, 0, nc * 4, c)))
        goto done;
    double worst = 0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j += 7) {
            double ref = 0, mag = 0;
            for (size_t p = 0; p < k; p++) {
                double x = ta ? a[p * m + i] : a[i * k + p], y = tb ? b[j * k + p] : b[p * n + j];
                ref += x * y;
                mag += fabs(x * y);
            }
            double e = fabs(c[i * n + j] - ref) / (mag > 0 ? mag : 1);
            if (e > worst) worst = e;
        }
    *rel_err = worst;
    int reps = 0;
    double t0 = now(), t1;
    do {
        if ((st = ufo_gemm(dev, ta, tb, m, n, k, 1.0f, ma, mb, 0.0f, mc)) ||
            (st = ufo_device_finish(dev)))
            goto done;
        reps++;
    } while ((t1 = now()) - t0 < 0.3);
    *gflops = 2.0 * m * n * k * reps / (t1 - t0) / 1e9;
done:
    ufo_gemm_set_engine(dev, UFO_GEMM_AUTO);
    if (da) clReleaseMemObject(da);
    if (db) clReleaseMemObject(db);
    if (dc) clReleaseMemObject(dc);
    free(a);
    free(b);
    free(c);
    return st;
}

static int self_check(const char *spec) {
    ufo_device *dev;
    if (ufo_device_open(spec, &dev) != UFO_OK) {
        fprintf(stderr, "ufo-devices: %s\n", ufo_last_error());
        return 1;
    }
    const struct ufo_device_caps *caps = ufo_device_caps(dev);
    printf("self-check on %s (%s), settings %s\n", caps->spec, caps->name,
           dev->gemm->settings.source);
    printf("%-8s %-5s %5s %5s %5s %12s %9s\n", "engine", "op", "m", "n", "k", "rel.error",
           "GFLOP/s");
    static const struct { enum ufo_trans ta, tb; size_t m, n, k; const char *op; } cases[] = {
        {UFO_NO_TRANS, UFO_TRANS, 512, 768, 192, "NT"},
        {UFO_NO_TRANS, UFO_NO_TRANS, 512, 192, 768, "NN"},
        {UFO_TRANS, UFO_NO_TRANS, 192, 768, 512, "TN"},
    };
    /* float32 sums of k products: a relative error far above k·2⁻²⁴ means a wrong result */
    const double bound = 1e-5;
    int failed = 0;
    for (int e = 0; e < 2; e++) {
        enum ufo_gemm_engine engine = e ? UFO_GEMM_CLBLAST : UFO_GEMM_OWN;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            double err = 0, gf = 0;
            if (check_one(dev, engine, cases[i].ta, cases[i].tb, cases[i].m, cases[i].n,
                          cases[i].k, &err, &gf) != UFO_OK) {
                fprintf(stderr, "ufo-devices: %s\n", ufo_last_error());
                ufo_device_close(dev);
                return 1;
            }
            printf("%-8s %-5s %5zu %5zu %5zu %12.2e %9.1f%s\n", gemm_engine_name(engine),
                   cases[i].op, cases[i].m, cases[i].n, cases[i].k, err, gf,
                   err > bound ? "  WRONG" : "");
            failed |= err > bound;
        }
    }
    ufo_device_close(dev);
    printf(failed ? "self-check FAILED\n" : "self-check passed\n");
    return failed;
}

int main(int argc, char **argv) {
    int json = 0, check = 0;
    const char *spec = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (strcmp(argv[i], "--check") == 0) check = 1;
        else if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) spec = argv[++i];
        else if (strncmp(argv[i], "--device=", 9) == 0) spec = argv[i] + 9;
        else if (strcmp(argv[i], "--device") == 0) {
            fprintf(stderr, "ufo-devices: --device needs a value (see --help)\n");
            return 2;
        }
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "ufo-devices: unknown argument '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (check && json) {
        fprintf(stderr, "ufo-devices: --check prints a table; --json is for the device list\n");
        return 2;
    }
    if (check) return self_check(spec);

    struct ufo_device_caps *list;
    size_t count;
    if (ufo_device_list(&list, &count) != UFO_OK) {
        fprintf(stderr, "ufo-devices: %s\n", ufo_last_error());
        return 1;
    }
    if (spec) {
        /* with --device, list only the device it selects (and fail like every program) */
        struct ufo_device_caps one;
        if (ufo_device_find(spec, &one) != UFO_OK) {
            fprintf(stderr, "ufo-devices: %s\n", ufo_last_error());
            free(list);
            return 1;
        }
        list[0] = one;
        count = 1;
    }
    if (json) print_json(list, count);
    else print_table(list, count);
    free(list);
    return 0;
}
