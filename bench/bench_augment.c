/* Decode + training-augment throughput (images/s) at 256 × 256 from JPEG files through the
 * batch workers, beside the PIL/torchvision peer (bench/peer_augment.py) on the same files
 * with the same transforms; prints both figures and their ratio.
 *
 * usage: bench_augment [-d DIR] [-n FILES] [-b BATCH] [-s STEPS] [-w WORKERS] [-p PEER.py]
 * DIR is filled with FILES synthetic 500 × 375 JPEGs (quality 90, 4:2:0) unless it holds
 * *.jpg files already. WORKERS defaults to 2 (the reference machine's core count). */
#include "config.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <turbojpeg.h>

#include "data/batch.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A photo-like test picture: smooth colour fields, edges and grain, so the entropy coder has
 * work comparable to a camera image. */
static void synth(uint8_t *p, int w, int h, int seed) {
    uint32_t x = (uint32_t)seed * 2654435761u + 1;
    double fx = 0.01 + (seed % 7) * 0.004, fy = 0.013 + (seed % 5) * 0.003;
    for (int y = 0; y < h; y++)
        for (int i = 0; i < w; i++) {
            x = x * 1664525u + 1013904223u;
            double grain = ((x >> 24) - 128) / 10.0;
            double edge = ((i / 37 + y / 29 + seed) % 3) * 30.0;
            for (int c = 0; c < 3; c++) {
                double v = 128 + 70 * sin(fx * i * (c + 1) + seed) * cos(fy * y + c) + edge +
                           grain - 30;
                p[(y * w + i) * 3 + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

/* User + system CPU seconds of the whole process (every worker thread included). */
static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

static int count_jpegs(const char *dir) {
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".jpg") != NULL;
    closedir(d);
    return n;
}

static int make_jpegs(const char *dir, int n) {
    enum { W = 500, H = 375 };
    mkdir(dir, 0755);
    uint8_t *rgb = malloc(W * H * 3);
    tjhandle tj = tjInitCompress();
    for (int i = 0; i < n; i++) {
        synth(rgb, W, H, i);
        unsigned char *jpeg = NULL;
        unsigned long size = 0;
        if (tjCompress2(tj, rgb, W, 0, H, TJPF_RGB, &jpeg, &size, TJSAMP_420, 90, 0))
            return -1;
        char path[4096];
        snprintf(path, sizeof path, "%s/%04d.jpg", dir, i);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(jpeg, 1, size, f) != size)
            return -1;
        fclose(f);
        tjFree(jpeg);
    }
    tjDestroy(tj);
    free(rgb);
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = "bench-jpegs", *peer = "bench/peer_augment.py";
    int n_files = 200, batch = 32, steps = 20, workers = 2, opt;
    while ((opt = getopt(argc, argv, "d:n:b:s:w:p:")) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 'n': n_files = atoi(optarg); break;
        case 'b': batch = atoi(optarg); break;
        case 's': steps = atoi(optarg); break;
        case 'w': workers = atoi(optarg); break;
        case 'p': peer = optarg; break;
        default:
            fprintf(stderr, "usage: %s [-d DIR] [-n FILES] [-b BATCH] [-s STEPS] [-w WORKERS] "
                            "[-p PEER.py]\n", argv[0]);
            return 2;
        }
    }
    if (count_jpegs(dir) == 0 && make_jpegs(dir, n_files)) {
        fprintf(stderr, "bench_augment: cannot write test JPEGs to %s\n", dir);
        return 1;
    }

    /* the files as one uniform task */
    DIR *d = opendir(dir);
    struct data_item *items = calloc((size_t)n_files + 1000, sizeof *items);
    char **paths = calloc((size_t)n_files + 1000, sizeof *paths);
    size_t n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < (size_t)n_files + 1000) {
        if (!strstr(e->d_name, ".jpg"))
            continue;
        paths[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        sprintf(paths[n], "%s/%s", dir, e->d_name);
        items[n] = (struct data_item){.source = DATA_FILE, .path = paths[n],
                                      .split = DATA_TRAIN, .label = (int32_t)(n % 10),
                                      .camera = -1};
        n++;
    }
    if (d)
        closedir(d);
    struct data_set ds = {.name = "bench", .items = items, .count = n, .n_labels = 10};
    const struct data_set *sets[1] = {&ds};
    struct data_task task = {.name = "bench", .sets = sets, .n_sets = 1, .batch = batch};
    data_transform_defaults(&task.transform, 256, 256);
    struct data_batcher_config cfg = {.tasks = &task, .n_tasks = 1, .width = 256,
                                      .height = 256, .seed = 1, .workers = workers, .depth = 2};
    struct data_batcher *b;
    if (data_batcher_new(&cfg, &b)) {
        fprintf(stderr, "bench_augment: %s\n", ufo_last_error());
        return 1;
    }

    /* one batch to warm up, then time `steps` */
    const struct data_batch *out;
    data_batcher_next(b, &out);
    double t0 = now(), c0 = cpu_seconds();
    for (int s = 0; s < steps; s++)
        if (data_batcher_next(b, &out)) {
            fprintf(stderr, "bench_augment: %s\n", ufo_last_error());
            return 1;
        }
    double ours = steps * (double)batch / (now() - t0);
    double our_cpu = 1000 * (cpu_seconds() - c0) / (steps * (double)batch);
    data_batcher_free(b);
    printf("ufo: decode + augment 256x256 from %zu JPEGs, %d workers: %.1f images/s, "
           "%.2f cpu ms/image\n", n, workers, ours, our_cpu);
    fflush(stdout);

    /* the peer on the same files */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s' '%s' %d %d %d", peer, dir, batch, steps,
             workers);
    FILE *p = popen(cmd, "r");
    double theirs = 0, their_cpu = 0;
    char line[512];
    while (p && fgets(line, sizeof line, p)) {
        fputs(line, stdout);
        sscanf(line, "peer images/s %lf", &theirs);
        sscanf(line, "peer cpu ms/image %lf", &their_cpu);
    }
    if (p)
        pclose(p);
    if (theirs > 0)
        printf("ratio ufo / PIL+torchvision: %.2f in images/s, %.2f in CPU time per image\n",
               ours / theirs, their_cpu > 0 ? their_cpu / our_cpu : 0);
    else
        printf("peer did not run (needs python3-pil and python3-torchvision)\n");
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    free(items);
    return 0;
}
