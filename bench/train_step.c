/* One supernet training step on the chosen device, timed: forward with gumbel gates (both FFN
 * paths run), BN-neck, CosFace and triplet losses, backward, the non-finite check and the
 * per-tensor clipped SGD update, as ufo-train does it. Issue 3's two configurations, each for
 * the space's largest and smallest architecture, on synthetic images and labels:
 *   small  C 192,  3 heads, 6 blocks, patch 16,  64×64 input, batch 64
 *   large  C 384,  6 heads, 6 blocks, patch 16, 128×128 input, batch 32
 * The elastic space of both: heads {h-1, h}, expansion {3, 3.5, 4}, depth 5 or 6, and three
 * tasks splitting the batch 2:1:1 with their own FFN paths: face (200 classes, CosFace only),
 * person and product (100 classes each, CosFace + triplet, 4 images per identity).
 * bench/train_step_peer.py runs the same steps in PyTorch; bench/train_run.sh runs both.
 *
 *   make bench && bench/train_step [--device SPEC] [--config small|large|all]
 *       [--arch largest|smallest|all] [--steps N] [--warmup N] [--repeats R] [--json]
 * With UFO_TRACE=1 the timed steps are traced (src/device/trace.h) and a table per case of
 * device time by kernel, launches, blocking calls and device idle time goes to stderr. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <ufo/ufo.h>
#include <ufo/device.h>

#include "device/device.h"
#include "device/trace.h"
#include "model/flops.h"
#include "model/params.h"
#include "model/space.h"
#include "model/vit.h"
#include "ops/ops.h"

/* The optimiser settings of ufo-train's defaults. */
#define LR 0.01f
#define MOMENTUM 0.9f
#define WEIGHT_DECAY 1e-4f
#define BIAS_LR_FACTOR 2.0f
#define GRAD_CLIP 5.0f
#define DROP_PATH_RATE 0.1f
#define SEED 7

struct bench_config {
    const char *name;
    int width, heads, image_size, batch;
};

static const struct bench_config configs[] = {
    {"small", 192, 3, 64, 64},
    {"large", 384, 6, 128, 32},
};

struct bench_case {
    struct vit *vit;
    struct ufo_space space;
    struct ufo_arch arch;
    struct vit_batch batch;
    float *images, *gumbel, *drop;
    int32_t *labels;
    cl_mem norm_work;
};

static double wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* User + system time of the whole process (the OpenCL driver's threads included). */
static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static void die(ufo_status st, const char *what) {
    fprintf(stderr, "bench/train_step: %s: %s: %s\n", what, ufo_status_name(st),
            ufo_last_error());
    exit(1);
}

#define RUN(what, call)                                                                       \
    do {                                                                                      \
        ufo_status st_ = (call);                                                              \
        if (st_ != UFO_OK) die(st_, what);                                                    \
    } while (0)

/* The elastic space of a configuration (see the top of the file). */
static void make_space(const struct bench_config *c, struct ufo_space *s) {
    memset(s, 0, sizeof *s);
    s->embed_dim = c->width;
    s->head_dim = 64;
    s->max_heads = c->heads;
    s->depth = 6;
    s->patch = 16;
    s->image_size = c->image_size;
    s->mlp_ratio_max = 4.0;
    s->n_heads_choices = 2;
    s->heads_choices[0] = c->heads - 1;
    s->heads_choices[1] = c->heads;
    s->n_mlp_choices = 3;
    s->mlp_ratio_choices[0] = 3.0;
    s->mlp_ratio_choices[1] = 3.5;
    s->mlp_ratio_choices[2] = 4.0;
    s->min_depth = 5;
    s->n_tasks = 3;
    const struct ufo_task tasks[3] = {
        {"face", 200, 0, 64.0, 0.35, 1.0},
        {"person", 100, 1, 30.0, 0.25, 1.0},
        {"product", 100, 1, 30.0, 0.25, 1.0},
    };
    memcpy(s->tasks, tasks, sizeof tasks);
}

/* xorshift64*: the synthetic inputs only need to look like data. */
static uint64_t rng_next(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

/* Images uniform in [-1, 1]; tasks 2:1:1; face labels uniform, retrieval labels 4 per
 * identity (P × K, as the batch sampler draws them). */
static void make_batch(struct bench_case *k, const struct bench_config *c) {
    size_t B = (size_t)c->batch, S = (size_t)c->image_size, D = (size_t)k->space.depth;
    size_t n = B * 3 * S * S;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    k->images = malloc(n * sizeof *k->images);
    k->labels = malloc(B * sizeof *k->labels);
    k->gumbel = malloc(B * D * 2 * sizeof *k->gumbel);
    k->drop = malloc(B * D * sizeof *k->drop);
    if (!k->images || !k->labels || !k->gumbel || !k->drop) die(UFO_ERR_NOMEM, "inputs");
    for (size_t i = 0; i < n; i++)
        k->images[i] = (float)((double)(rng_next(&x) >> 11) / 4503599627370496.0 - 1.0);
    size_t begin[4] = {0, B / 2, B / 2 + B / 4, B};
    for (int t = 0; t < 3; t++) {
        k->batch.task_begin[t] = begin[t];
        for (size_t i = begin[t]; i < begin[t + 1]; i++)
            k->labels[i] = t == 0 ? (int32_t)(rng_next(&x) % 200)
                                  : (int32_t)(((i - begin[t]) / 4 * 37 + (size_t)t) % 100);
    }
    k->batch.task_begin[3] = B;
    k->batch.size = B;
    k->batch.images = k->images;
    k->batch.labels = k->labels;
    k->batch.gumbel = k->gumbel;
    k->batch.drop_mask = k->drop;
    k->batch.drop_path_rate = DROP_PATH_RATE;
}

/* Gate noise and drop-path masks of a step, drawn as ufo-train draws them. */
static void draw_noise(struct bench_case *k, uint64_t step) {
    int D = k->space.depth;
    for (size_t i = 0; i < k->batch.size; i++)
        for (int d = 0; d < D; d++) {
            uint64_t index = (uint64_t)i * (uint64_t)D + (uint64_t)d;
            uint32_t w[4];
            ufo_philox(SEED, step, UFO_RNG_GUMBEL, index, w);
            for (int j = 0; j < 2; j++)
                k->gumbel[(i * D + d) * 2 + j] =
                    (float)-log(-log(ufo_uniform01(w[2 * j], w[2 * j + 1])));
            ufo_philox(SEED, step, UFO_RNG_DROPPATH, index, w);
            double rate = DROP_PATH_RATE * d / (D - 1);
            k->drop[i * D + d] = ufo_uniform01(w[0], w[1]) >= rate ? 1.0f : 0.0f;
        }
}

/* One step: forward and backward, the non-finite check (which waits for the device), and
 * clipped SGD on every trained tensor of the kept blocks. */
static void train_step(ufo_device *dev, struct bench_case *k, uint64_t step) {
    const struct ufo_layout *L = vit_layout(k->vit);
    struct vit_losses losses;
    float bad = 0;
    draw_noise(k, step);
    RUN("vit_train_step", vit_train_step(k->vit, &k->arch, &k->batch, 0, &losses));
    RUN("count_nonfinite", ops_count_nonfinite(dev, ops_vec(vit_grads(k->vit), 0), L->total,
                                               ops_vec(k->norm_work, 0)));
    RUN("read", device_read(dev, k->norm_work, 0, sizeof bad, &bad));
    if (!isfinite(losses.total) || bad != 0) die(UFO_ERR_NUMERIC, "the step is not finite");
    struct ops_sgd_tensor t[1024];
    size_t count = 0;
    if ((size_t)L->n > sizeof t / sizeof t[0]) die(UFO_ERR_UNSUPPORTED, "too many tensors");
    for (int i = 0; i < L->n; i++) {
        const struct ufo_param *p = &L->params[i];
        int block;
        if (p->kind != UFO_PARAM_DECAY && p->kind != UFO_PARAM_NO_DECAY) continue;
        if (sscanf(p->name, "blocks.%d.", &block) == 1 && !k->arch.block[block].kept) continue;
        size_t len = strlen(p->name);
        float lr = len > 5 && strcmp(p->name + len - 5, ".bias") == 0 ? LR * BIAS_LR_FACTOR : LR;
        float wd = p->kind == UFO_PARAM_DECAY ? WEIGHT_DECAY : 0.0f;
        t[count++] = (struct ops_sgd_tensor){p->offset, p->numel, lr, wd};
    }
    RUN("sgd", ops_sgd_multi(dev, ops_vec(vit_params(k->vit), 0), ops_vec(vit_grads(k->vit), 0),
                             ops_vec(vit_momentum(k->vit), 0), t, count, MOMENTUM, GRAD_CLIP,
                             ops_vec(k->norm_work, 0)));
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void usage(void) {
    fprintf(stderr, "usage: bench/train_step [--device SPEC] [--config small|large|all] "
            "[--arch largest|smallest|all] [--steps N] [--warmup N] [--repeats R] [--json]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *spec = NULL, *config = "all", *arch_name = "all";
    int steps = 0, warmup = 2, repeats = 3, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--json") == 0) json = 1;
        else if (!v) usage();
        else if (strcmp(argv[i], "--device") == 0) spec = v, i++;
        else if (strcmp(argv[i], "--config") == 0) config = v, i++;
        else if (strcmp(argv[i], "--arch") == 0) arch_name = v, i++;
        else if (strcmp(argv[i], "--steps") == 0) steps = atoi(v), i++;
        else if (strcmp(argv[i], "--warmup") == 0) warmup = atoi(v), i++;
        else if (strcmp(argv[i], "--repeats") == 0) repeats = atoi(v), i++;
        else usage();
    }
    if (repeats < 1 || steps < 0 || warmup < 0) usage();
    ufo_device *dev;
    RUN("open device", ufo_device_open(spec, &dev));
    const struct ufo_device_caps *caps = ufo_device_caps(dev);
    if (!json) printf("device %s (%s, %s)\n", caps->spec, caps->name, caps->platform);

    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        const struct bench_config *cf = &configs[c];
        if (strcmp(config, "all") != 0 && strcmp(config, cf->name) != 0) continue;
        struct bench_case k = {0};
        make_space(cf, &k.space);
        RUN("vit_create", vit_create(dev, &k.space, (size_t)cf->batch, &k.vit));
        const struct ufo_layout *L = vit_layout(k.vit);
        float *params = malloc(L->total * sizeof *params);
        if (!params) die(UFO_ERR_NOMEM, "parameters");
        ufo_layout_init(L, SEED, params);
        RUN("upload", vit_upload(k.vit, params));
        free(params);
        RUN("scratch", device_alloc(dev, OPS_SGD_WORK_FLOATS((size_t)L->n) * sizeof(float),
                                    "norm scratch",
                                    &k.norm_work));
        make_batch(&k, cf);

        for (int a = 0; a < 2; a++) {
            const char *an = a == 0 ? "largest" : "smallest";
            if (strcmp(arch_name, "all") != 0 && strcmp(arch_name, an) != 0) continue;
            if (a == 0) ufo_arch_largest(&k.space, &k.arch);
            else ufo_arch_smallest(&k.space, &k.arch);
            uint64_t macs = 0;
            RUN("macs", ufo_arch_macs(&k.space, &k.arch, 0, UFO_COUNT_SUPERNET, 1, &macs));

            /* warm-up (kernel builds, GEMM tuning look-ups, first touches), then repeats */
            int n = steps > 0 ? steps : (cf->batch * cf->image_size > 4096 ? 4 : 8);
            uint64_t step = 0;
            for (int w = 0; w < warmup; w++) train_step(dev, &k, step++);
            RUN("finish", ufo_device_finish(dev));
            if (dev->trace) device_trace_reset(dev->trace);
            double rate[64], cpu[64], step_ms[64];
            int r_max = repeats < 64 ? repeats : 64;
            for (int r = 0; r < r_max; r++) {
                double t0 = wall_s(), c0 = cpu_s();
                for (int s = 0; s < n; s++) train_step(dev, &k, step++);
                RUN("finish", ufo_device_finish(dev));
                double dt = wall_s() - t0, dc = cpu_s() - c0;
                rate[r] = n * cf->batch / dt;
                step_ms[r] = 1e3 * dt / n;
                cpu[r] = 1e3 * dc / n;
            }
            if (dev->trace) {
                fprintf(stderr, "trace %s %s, per step:\n", cf->name, an);
                device_trace_report(dev->trace, dev->queue, stderr, (double)(r_max * n));
            }
            double rates[64];
            memcpy(rates, rate, sizeof rate);
            double med = median(rates, r_max), med_ms = median(step_ms, r_max);
            double med_cpu = median(cpu, r_max);
            if (json) {
                printf("{\"side\": \"ufo\", \"config\": \"%s\", \"arch\": \"%s\", \"batch\": %d, "
                       "\"steps\": %d, \"repeats\": %d, \"images_per_s\": %.2f, "
                       "\"step_ms\": %.1f, \"cpu_ms_per_step\": %.1f, \"gmacs_per_image\": "
                       "%.4f, \"params\": %zu, \"device\": \"%s\", \"rates\": [",
                       cf->name, an, cf->batch, n, r_max, med, med_ms, med_cpu, macs / 1e9,
                       ufo_layout_trainable(L), caps->spec);
                for (int r = 0; r < r_max; r++) printf("%s%.2f", r ? ", " : "", rate[r]);
                printf("]}\n");
            } else {
                printf("%s %-8s batch %2d: %7.2f images/s (step %.1f ms, cpu %.1f ms/step; "
                       "%d x %d steps; %.3f GMAC/image fwd)\n", cf->name, an, cf->batch, med,
                       med_ms, med_cpu, r_max, n, macs / 1e9);
            }
            fflush(stdout);
        }
        clReleaseMemObject(k.norm_work);
        vit_destroy(k.vit);
        free(k.images);
        free(k.labels);
        free(k.gumbel);
        free(k.drop);
    }
    ufo_device_close(dev);
    return 0;
}
