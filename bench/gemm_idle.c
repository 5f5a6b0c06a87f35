/* Where the own GEMM's wall time goes on a CPU device (PoCL's pthread device): for one shape,
 * the process's threads' time running, waiting for a core (another program had it) and
 * asleep, from /proc/self/task/TID/schedstat, per call. No OpenBLAS runs here, so nothing of
 * ours competes with PoCL's worker threads.
 *
 *   make bench && bench/gemm_idle M N K [nn|nt|tn] [--calls N]
 *
 * A worker asleep while the product runs is a core this program left idle (serial launches,
 * a tail of work-groups, a barrier); one waiting for a core lost it to other load on a shared
 * machine. "busy" is (run time of all threads) / wall: 2.0 keeps both cores of a 2-core
 * machine working; "busy if alone" adds the waiting back, what an idle machine would give. */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ufo/ufo.h>

#include "device/device.h"

#define MAX_THREADS 64

struct thread_times {
    int tid;
    double run, wait; /* seconds on a core and runnable without one */
};

/* Every thread of this process with its schedstat times; returns the count. */
static int read_threads(struct thread_times *out) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_THREADS) {
        if (e->d_name[0] == '.') continue;
        char path[300];
        snprintf(path, sizeof path, "/proc/self/task/%s/schedstat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        unsigned long long run, wait;
        if (fscanf(f, "%llu %llu", &run, &wait) == 2)
            out[n++] = (struct thread_times){atoi(e->d_name), run * 1e-9, wait * 1e-9};
        fclose(f);
    }
    closedir(d);
    return n;
}

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: bench/gemm_idle M N K [nn|nt|tn] [--calls N]\n");
        return 2;
    }
    size_t m = (size_t)atol(argv[1]), n = (size_t)atol(argv[2]), k = (size_t)atol(argv[3]);
    const char *ops = argc > 4 && argv[4][0] != '-' ? argv[4] : "nn";
    int calls = 200;
    for (int i = 4; i < argc; i++)
        if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc) calls = atoi(argv[++i]);
    enum ufo_trans ta = ops[0] == 't' ? UFO_TRANS : UFO_NO_TRANS;
    enum ufo_trans tb = ops[1] == 't' ? UFO_TRANS : UFO_NO_TRANS;

    ufo_device *dev;
    if (ufo_device_open(NULL, &dev) != UFO_OK) {
        fprintf(stderr, "bench/gemm_idle: %s\n", ufo_last_error());
        return 1;
    }
    cl_mem da, db, dc;
    if (device_alloc(dev, m * k * 4, "A", &da) || device_alloc(dev, k * n * 4, "B", &db) ||
        device_alloc(dev, m * n * 4, "C", &dc)) {
        fprintf(stderr, "bench/gemm_idle: %s\n", ufo_last_error());
        return 1;
    }
    struct ufo_matrix ma = {da, 0, ta ? m : k}, mb = {db, 0, tb ? k : n}, mc = {dc, 0, n};
    ufo_gemm_set_engine(dev, UFO_GEMM_OWN);

    /* the first calls build the kernels and start PoCL's threads: not counted */
    struct thread_times before[MAX_THREADS], after[MAX_THREADS];
    int nb = 0;
    double t0 = 0;
    for (int c = -3; c < calls; c++) {
        if (c == 0) {
            nb = read_threads(before);
            t0 = wall();
        }
        if (ufo_gemm(dev, ta, tb, m, n, k, 1.0f, ma, mb, 0.0f, mc) != UFO_OK ||
            ufo_device_finish(dev) != UFO_OK) {
            fprintf(stderr, "bench/gemm_idle: %s\n", ufo_last_error());
            return 1;
        }
    }
    double seconds = wall() - t0;
    int na = read_threads(after);

    double run_all = 0, wait_all = 0;
    printf("%zu x %zu x %zu %s, %d calls: %.3f ms per call, %.1f GFLOP/s\n", m, n, k, ops, calls,
           seconds / calls * 1e3, 2.0 * m * n * k * calls / seconds / 1e9);
    printf("%8s %9s %9s %9s  (ms per call)\n", "thread", "run", "wait", "asleep");
    for (int i = 0; i < na; i++) {
        double run = after[i].run, wait = after[i].wait;
        for (int j = 0; j < nb; j++)
            if (before[j].tid == after[i].tid) run -= before[j].run, wait -= before[j].wait;
        if (run < 1e-4 * seconds) continue; /* threads that slept throughout */
        run_all += run, wait_all += wait;
        printf("%8d %9.3f %9.3f %9.3f\n", after[i].tid, run / calls * 1e3, wait / calls * 1e3,
               (seconds - run - wait) / calls * 1e3);
    }
    printf("busy %.2f cores, busy if alone %.2f\n", run_all / seconds,
           run_all / (seconds - wait_all / 2));
    clReleaseMemObject(da);
    clReleaseMemObject(db);
    clReleaseMemObject(dc);
    ufo_device_close(dev);
    return 0;
}
