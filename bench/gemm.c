/* GEMM throughput on the ViT's shapes: ufo's own kernel and CLBlast on the chosen device,
 * beside OpenBLAS on the host, as GFLOP/s and ratios to OpenBLAS.
 *
 *   make bench && bench/gemm [--device SPEC] [--quick] [--repeat N] [--no-clblast]
 *                            [--cpu-time] [--match TEXT] [--width W]
 *
 * The machine may be shared: --repeat N times each shape N times, own engine and OpenBLAS
 * back to back in every round, and prints the medians, the ratio being the median of the
 * rounds' ratios (so load that comes and goes hits both sides of a ratio alike). --match
 * keeps the shapes whose name contains TEXT ("bwd wgt", "attn"), --width those of one width.
 * --cpu-time divides by the CPU seconds the process used (all threads, both cores, so the
 * figures are per core) instead of wall seconds: steadier under load, but time a thread spends
 * spinning while it waits is still counted. With UFO_TRACE=1 (and --no-clblast) each shape's
 * line is followed by the own engine's device time per kernel (src/device/trace.h), per product:
 * how much of it the panel copies take.
 *
 * Shape classes: linear forward Y = X·Wᵀ (NT), backward data dX = dY·W (NN), backward weight
 * dW = dYᵀ·X (TN), for widths 192/384/768 and 2,048 / 8,192 rows (qkv and fc1 widen the
 * output 3× and 4×); attention S = Q·Kᵀ and O = P·V, batched over heads, 65 to 257 tokens. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include <ufo/ufo.h>

#include "device/device.h"
#include "device/trace.h"

/* --cpu-time: seconds of CPU used by all of the process's threads instead of wall time, so
 * time lost to other programs on a shared machine is not counted against either side. */
static clockid_t clock_used = CLOCK_MONOTONIC;

static double now(void) {
    struct timespec ts;
    clock_gettime(clock_used, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double min_seconds = 0.25;
static int last_calls; /* products time_device ran, the untimed first one included */

struct shape {
    const char *what;
    enum ufo_trans ta, tb;
    size_t m, n, k, batch;
};

static double time_device(ufo_device *dev, enum ufo_gemm_engine engine, const struct shape *s,
                          cl_mem a, cl_mem b, cl_mem c) {
    size_t lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    struct ufo_matrix ma = {a, 0, lda}, mb = {b, 0, ldb}, mc = {c, 0, s->n};
    ufo_gemm_set_engine(dev, engine);
    int reps = 0;
    double t0 = 0, t1;
    for (;;) {
        ufo_status st = ufo_gemm_batched(dev, s->ta, s->tb, s->m, s->n, s->k, 1.0f, ma,
                                         s->m * s->k, mb, s->k * s->n, 0.0f, mc, s->m * s->n,
                                         s->batch);
        if (st == UFO_OK) st = ufo_device_finish(dev);
        if (st != UFO_OK) {
            fprintf(stderr, "bench/gemm: %s\n", ufo_last_error());
            exit(1);
        }
        if (reps++ == 0) t0 = now(); /* the first call builds kernels: not timed */
        else if ((t1 = now()) - t0 > min_seconds) break;
    }
    last_calls = reps;
    return 2.0 * s->m * s->n * s->k * s->batch * (reps - 1) / (t1 - t0) / 1e9;
}

static double time_openblas(const struct shape *s, const float *a, const float *b, float *c) {
    int reps = 0;
    double t0 = now(), t1;
    do {
        for (size_t q = 0; q < s->batch; q++)
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                        s->tb ? CblasTrans : CblasNoTrans, (int)s->m, (int)s->n, (int)s->k, 1.0f,
                        a + q * s->m * s->k, s->ta ? (int)s->m : (int)s->k, b + q * s->k * s->n,
                        s->tb ? (int)s->k : (int)s->n, 0.0f, c + q * s->m * s->n, (int)s->n);
        reps++;
    } while ((t1 = now()) - t0 < min_seconds);
    return 2.0 * s->m * s->n * s->k * s->batch * reps / (t1 - t0) / 1e9;
}

static int compare_doubles(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Median of n values (sorts them in place). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int main(int argc, char **argv) {
    const char *spec = NULL;
    const char *match = NULL;
    int quick = 0, repeat = 1, with_clblast = 1;
    size_t only_width = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) spec = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--no-clblast") == 0) with_clblast = 0;
        else if (strcmp(argv[i], "--cpu-time") == 0) clock_used = CLOCK_PROCESS_CPUTIME_ID;
        else if (strcmp(argv[i], "--match") == 0 && i + 1 < argc) match = argv[++i];
        else if (strcmp(argv[i], "--width") == 0 && i + 1 < argc)
            only_width = (size_t)atol(argv[++i]);
        else {
            fprintf(stderr, "usage: bench/gemm [--device SPEC] [--quick] [--repeat N] "
                    "[--no-clblast] [--cpu-time] [--match TEXT] [--width W]\n");
            return 2;
        }
    }
    if (repeat < 1 || repeat > 99) {
        fprintf(stderr, "bench/gemm: --repeat takes 1..99\n");
        return 2;
    }
    if (quick) min_seconds = 0.05;
    ufo_device *dev;
    if (ufo_device_open(spec, &dev) != UFO_OK) {
        fprintf(stderr, "bench/gemm: %s\n", ufo_last_error());
        return 1;
    }

    struct shape shapes[64];
    size_t count = 0;
    static const size_t widths[] = {192, 384, 768}, rows[] = {2048, 8192};
    for (size_t w = 0; w < 3; w++)
        for (size_t r = 0; r < 2; r++) {
            size_t C = widths[w], R = rows[r];
            if ((quick && R > 2048) || (only_width && C != only_width)) continue;
            shapes[count++] = (struct shape){"fwd qkv  X·Wᵀ", UFO_NO_TRANS, UFO_TRANS, R, 3 * C, C, 1};
            shapes[count++] = (struct shape){"fwd fc2  X·Wᵀ", UFO_NO_TRANS, UFO_TRANS, R, C, 4 * C, 1};
            shapes[count++] = (struct shape){"bwd data dY·W", UFO_NO_TRANS, UFO_NO_TRANS, R, C, 4 * C, 1};
            shapes[count++] = (struct shape){"bwd wgt  dYᵀ·X", UFO_TRANS, UFO_NO_TRANS, 4 * C, C, R, 1};
        }
    static const size_t tokens[] = {65, 197, 257};
    for (size_t t = 0; t < 3 && !only_width; t++) {
        size_t T = tokens[t], heads = 32 * 6;
        shapes[count++] = (struct shape){"attn     Q·Kᵀ", UFO_NO_TRANS, UFO_TRANS, T, T, 64, heads};
        shapes[count++] = (struct shape){"attn     P·V", UFO_NO_TRANS, UFO_NO_TRANS, T, 64, T, heads};
    }

    if (match) {
        size_t kept = 0;
        for (size_t i = 0; i < count; i++)
            if (strstr(shapes[i].what, match)) shapes[kept++] = shapes[i];
        count = kept;
    }

    size_t max_a = 0, max_b = 0, max_c = 0;
    for (size_t i = 0; i < count; i++) {
        const struct shape *s = &shapes[i];
        if (s->m * s->k * s->batch > max_a) max_a = s->m * s->k * s->batch;
        if (s->k * s->n * s->batch > max_b) max_b = s->k * s->n * s->batch;
        if (s->m * s->n * s->batch > max_c) max_c = s->m * s->n * s->batch;
    }
    float *a = malloc(max_a * 4), *b = malloc(max_b * 4), *c = malloc(max_c * 4);
    for (size_t i = 0; i < max_a; i++) a[i] = (float)(i % 17) * 0.01f;
    for (size_t i = 0; i < max_b; i++) b[i] = (float)(i % 13) * 0.01f;
    cl_mem da, db, dc;
    if (device_alloc(dev, max_a * 4, "A", &da) || device_alloc(dev, max_b * 4, "B", &db) ||
        device_alloc(dev, max_c * 4, "C", &dc) || device_write(dev, da, 0, max_a * 4, a) ||
        device_write(dev, db, 0, max_b * 4, b)) {
        fprintf(stderr, "bench/gemm: %s\n", ufo_last_error());
        return 1;
    }

    if (dev->trace && with_clblast) {
        fprintf(stderr, "bench/gemm: UFO_TRACE traces the own engine alone: add --no-clblast\n");
        return 2;
    }
    const struct ufo_device_caps *caps = ufo_device_caps(dev);
    printf("device %s (%s); OpenBLAS on the host; medians of %d round(s)%s\n", caps->spec,
           caps->name, repeat, clock_used == CLOCK_MONOTONIC ? "" : "; per CPU second");
    printf("%-15s %5s %5s %5s %5s | %8s %8s %8s | %6s %6s\n", "shape", "m", "n", "k", "batch",
           "own", "clblast", "openblas", "own/ob", "clb/ob");
    double worst_ratio = 1e9;
    for (size_t i = 0; i < count; i++) {
        const struct shape *s = &shapes[i];
        double own_r[99], clb_r[99], ob_r[99], own_ob[99], clb_ob[99];
        int own_calls = 0;
        if (dev->trace) device_trace_reset(dev->trace);
        for (int r = 0; r < repeat; r++) {
            own_r[r] = time_device(dev, UFO_GEMM_OWN, s, da, db, dc);
            own_calls += last_calls;
            ob_r[r] = time_openblas(s, a, b, c);
            clb_r[r] = with_clblast ? time_device(dev, UFO_GEMM_CLBLAST, s, da, db, dc) : 0;
            own_ob[r] = own_r[r] / ob_r[r];
            clb_ob[r] = clb_r[r] / ob_r[r];
        }
        double own = median(own_r, repeat), clb = median(clb_r, repeat);
        double ob = median(ob_r, repeat), own_ratio = median(own_ob, repeat);
        double clb_ratio = median(clb_ob, repeat);
        printf("%-15s %5zu %5zu %5zu %5zu | %8.1f %8.1f %8.1f | %6.2f %6.2f\n", s->what, s->m,
               s->n, s->k, s->batch, own, clb, ob, own_ratio, clb_ratio);
        if (own_ratio < worst_ratio) worst_ratio = own_ratio;
        fflush(stdout);
        if (dev->trace) device_trace_report(dev->trace, dev->queue, stdout, own_calls);
    }
    printf("lowest own/OpenBLAS ratio: %.2f (GFLOP/s)\n", worst_ratio);
    clReleaseMemObject(da);
    clReleaseMemObject(db);
    clReleaseMemObject(dc);
    free(a);
    free(b);
    free(c);
    ufo_device_close(dev);
    return 0;
}
