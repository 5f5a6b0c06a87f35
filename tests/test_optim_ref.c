/* ufo-train's optimiser against PyTorch (OPTIMISATION in tests/reference/supernet_ref.py):
 * three steps of vit_train_step then train_optim_step at train_schedule_lr's rate, from the
 * reference's parameters, images (rolled by the step) and gumbel noise, under a different
 * architecture each step. Per step: the loss, the rate, and each tensor's gradient norm
 * (which sets its clip; the reference also says which tensors the step updates); what the
 * step leaves alone keeps its values and momentum bit for bit. At the end, for every tensor:
 * the change Δ = final − initial (Σ Δ, Σ |Δ|, |Δ| and a strided sample of its elements) and
 * the momentum buffer (Σ v, Σ |v|, |v|).
 *
 * Tolerance: 2e-4 relative, as in test_vit_ref.c. A loss or gradient norm is measured against
 * itself, the momentum against its own Σ |v| or |v|, and Δ against how far the tensor
 * travelled (ref.optim.moved), since a gate logit's three steps may nearly cancel. ufo runs in
 * float32 against float64; measured: losses 2e-6, everything but the gates 2e-5 at most, the
 * gate logits up to 9e-5, because their gradient is the difference of the two FFN paths'
 * sums over every token and channel. A wrong rule costs far more: a rate 0.1% off fails
 * thousands of checks, and so does a momentum of 0.891, a missing bias or task factor, decay
 * on every tensor, updating a dropped block, or clipping after weight decay.
 * Tensors the reference leaves exactly still (frozen ones, a task FFN's biases when no gate
 * picked it, norm.bias, whose exact gradient is zero, see test_vit_ref.c) must stay within
 * float32 residue of still. */
#include "config.h"

#include <math.h>

#include <jansson.h>

#include "check.h"
#include "device/device.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/vit.h"
#include "ref_file.h"
#include "ops/ops.h"
#include "train/optim.h"
#include "train/schedule.h"

#define REL_TOL 2e-4
#define STILL 1e-9          /* the reference moves a tensor less than this: exactly still */
#define RESIDUE_GRAD 1e-4   /* bound on ufo's gradient norm where the exact one is zero */
#define RESIDUE_V 3e-5      /* ... on such a tensor's momentum elements */
#define RESIDUE_DELTA 2e-5  /* ... and on its change */

/* A number of the "ufo.reference.optim" object. */
static double optim_number(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v)) {
        fprintf(stderr, "ufo.reference.optim has no number %s\n", key);
        exit(1);
    }
    return json_number_value(v);
}

/* The largest error of a kind of value relative to its scale, and where it was. */
struct worst {
    double err;
    char what[160];
};

/* |got − want| <= REL_TOL · scale; prints the first failures and keeps the worst. */
static int shown;
static void check_close(struct worst *w, const char *what, size_t index, double got,
                        double want, double scale) {
    double err = fabs(got - want);
    double rel = isnan(err) ? INFINITY : err / scale;
    if (!(rel <= w->err)) {
        w->err = rel;
        snprintf(w->what, sizeof w->what, "%s[%zu]", what, index);
    }
    if (!(err <= REL_TOL * scale)) {
        test_failures++;
        if (shown++ < 12)
            fprintf(stderr, "  %s[%zu] = %.8g, reference %.8g (scale %.3g)\n", what, index, got,
                    want, scale);
    }
}

int main(void) {
    const char *dir = getenv("UFO_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/reference/supernet_ref.safetensors", dir ? dir : "tests");
    ufo_device *dev = test_open_device();
    REQUIRE_OK(ufo_st_open(path, &ref_file));
    struct ufo_space space;
    REQUIRE_OK(ufo_space_from_file(path, &space));

    /* the hyper-parameters, as ufo-train's [train] section and the tasks' lr_scale */
    const char *optim_text = ufo_st_metadata(ref_file, "ufo.reference.optim");
    json_error_t jerr;
    json_t *oj = optim_text ? json_loads(optim_text, 0, &jerr) : NULL;
    if (!oj) {
        fprintf(stderr, "%s: no readable ufo.reference.optim metadata\n", path);
        return 1;
    }
    int steps = (int)optim_number(oj, "steps");
    struct train_loop_config lc = {
        .iterations = (long)optim_number(oj, "iterations"),
        .base_lr = optim_number(oj, "base_lr"), .momentum = optim_number(oj, "momentum"),
        .weight_decay = optim_number(oj, "weight_decay"),
        .grad_clip = optim_number(oj, "grad_clip"),
        .warmup_fraction = optim_number(oj, "warmup_fraction"),
        .final_lr_fraction = optim_number(oj, "final_lr_fraction"),
        .bias_lr_factor = optim_number(oj, "bias_lr_factor"),
    };
    double lr_scale[UFO_MAX_TASKS];
    for (int t = 0; t < space.n_tasks; t++)
        lr_scale[t] = optim_number(json_object_get(oj, "lr_scale"), space.tasks[t].name);
    json_decref(oj);
    struct train_optim optim = {.loop = &lc, .task_lr_scale = lr_scale, .space = &space};
    struct train_schedule schedule;
    train_schedule_init(&schedule, lc.base_lr, lc.warmup_fraction, lc.final_lr_fraction,
                        lc.iterations);

    /* the batch: labels and tasks as in test_vit_ref.c; images and noise change per step */
    size_t n_images, n_labels;
    float *images = read_ref("ref.input.images", &n_images);
    float *labels_f = read_ref("ref.input.labels", &n_labels);
    float *task_f = read_ref("ref.input.task", NULL);
    float *gumbel = read_ref("ref.optim.gumbel", NULL);
    float *ref_lr = read_ref("ref.optim.lr", NULL), *ref_loss = read_ref("ref.optim.loss", NULL);
    float *ref_norm = read_ref("ref.optim.grad_norm", NULL);
    size_t B = n_labels, image_floats = n_images / B, D = (size_t)space.depth;
    int32_t *labels = malloc(B * sizeof *labels);
    float *step_images = malloc(n_images * sizeof *step_images);
    struct vit_batch batch = {.size = B, .images = step_images, .labels = labels};
    ref_batch_layout(labels_f, task_f, B, space.n_tasks, labels, &batch);

    /* the model at the reference's parameters, momentum zero */
    struct vit *vit;
    REQUIRE_OK(vit_create(dev, &space, B, &vit));
    const struct ufo_layout *L = vit_layout(vit);
    size_t bytes = L->total * sizeof(float);
    float *start = calloc(L->total, sizeof(float)), *params = malloc(bytes);
    float *momentum = calloc(L->total, sizeof(float)), *grads = malloc(bytes);
    float *before = malloc(bytes), *before_v = malloc(bytes);
    REQUIRE_OK(ufo_params_load_ignoring(L, start, path, "ref."));
    REQUIRE_OK(vit_upload(vit, start));
    REQUIRE_OK(device_write(dev, vit_momentum(vit), 0, bytes, momentum));
    cl_mem norm_work;
    REQUIRE_OK(device_alloc(dev, train_optim_work_floats(L) * sizeof(float), "norm scratch",
                            &norm_work));

    struct worst worst_loss = {0}, worst_norm = {0};
    for (int s = 0; s < steps; s++) {
        char key[64];
        snprintf(key, sizeof key, "ufo.reference.optim.arch.%d", s);
        const char *arch_json = ufo_st_metadata(ref_file, key);
        struct ufo_arch arch;
        if (!arch_json) {
            fprintf(stderr, "%s: no %s metadata\n", path, key);
            return 1;
        }
        REQUIRE_OK(ufo_arch_from_json(&space, arch_json, key, &arch));
        int kept[UFO_MAX_BLOCKS] = {0};
        for (int i = 0; i < arch.n_blocks; i++) kept[i] = arch.block[i].kept;

        /* sample b shows image (b + s) mod B */
        for (size_t b = 0; b < B; b++)
            memcpy(step_images + b * image_floats, images + ((b + s) % B) * image_floats,
                   image_floats * sizeof(float));
        batch.gumbel = gumbel + (size_t)s * B * D * 2;
        struct vit_losses losses;
        REQUIRE_OK(vit_train_step(vit, &arch, &batch, 0, &losses));
        char what[64];
        snprintf(what, sizeof what, "step %d loss", s);
        check_close(&worst_loss, what, 0, losses.total, ref_loss[s], fabs(ref_loss[s]));

        /* the scheduled rate against the closed form the reference evaluated */
        double lr = train_schedule_lr(&schedule, s);
        EXPECT(fabs(lr - ref_lr[s]) <= 1e-7 * ref_lr[s], "step %d: lr %.9g, reference %.9g", s,
               lr, (double)ref_lr[s]);

        /* each tensor's gradient norm, which sets its clip; -1 in the reference: left alone */
        REQUIRE_OK(device_read(dev, vit_grads(vit), 0, bytes, grads));
        REQUIRE_OK(vit_download(vit, before));
        REQUIRE_OK(device_read(dev, vit_momentum(vit), 0, bytes, before_v));
        int updated = 0, clipped = 0;
        for (int i = 0; i < L->n; i++) {
            const struct ufo_param *p = &L->params[i];
            double rate, want = ref_norm[(size_t)s * L->n + i];
            bool trains = train_optim_tensor_rate(&optim, p, lr, kept, &rate);
            EXPECT(trains == (want >= 0), "step %d: %s %s by ufo, %s by the reference", s,
                   p->name, trains ? "updated" : "left alone", want >= 0 ? "updated" : "not");
            if (!trains) continue;
            double sq = 0;
            for (size_t k = 0; k < p->numel; k++)
                sq += (double)grads[p->offset + k] * grads[p->offset + k];
            snprintf(what, sizeof what, "step %d |grad| %.40s", s, p->name);
            if (want < STILL)
                EXPECT(sqrt(sq) <= RESIDUE_GRAD, "%s = %.3g, exactly 0", what, sqrt(sq));
            else
                check_close(&worst_norm, what, 0, sqrt(sq), want, want);
            updated++;
            clipped += sqrt(sq) > lc.grad_clip;
        }
        printf("step %d: lr %.4f, loss %.6f (reference %.6f), %d tensors updated, %d clipped\n",
               s, lr, (double)losses.total, (double)ref_loss[s], updated, clipped);

        /* the update; what it leaves alone stays exactly as it was, momentum included */
        REQUIRE_OK(train_optim_step(dev, vit, &optim, lr, kept, norm_work));
        REQUIRE_OK(vit_download(vit, params));
        REQUIRE_OK(device_read(dev, vit_momentum(vit), 0, bytes, momentum));
        int untouched = 0;
        for (int i = 0; i < L->n; i++) {
            const struct ufo_param *p = &L->params[i];
            double rate;
            if (train_optim_tensor_rate(&optim, p, lr, kept, &rate)) continue;
            size_t off = p->offset, n = p->numel * sizeof(float);
            EXPECT(memcmp(params + off, before + off, n) == 0 &&
                   memcmp(momentum + off, before_v + off, n) == 0,
                   "step %d: %s or its momentum changed, but the step leaves it alone", s,
                   p->name);
            untouched += train_optim_tensor_block(p->name) >= 0;
        }
        if (s == 1) EXPECT(untouched == 27, "step 1 leaves %d block tensors alone, want 27 "
                           "(block 2's)", untouched);
    }

    /* the change of every tensor and its momentum after the steps; a change is measured
     * against how far the tensor travelled (the steps' changes may cancel), the momentum
     * against its own size */
    float *stats = read_ref("ref.optim.delta_stats", NULL);
    float *mstats = read_ref("ref.optim.momentum_stats", NULL);
    float *moved = read_ref("ref.optim.moved", NULL);
    struct worst worst_stat = {0}, worst_sample = {0}, worst_momentum = {0};
    int sampled = 0, still = 0;
    for (int i = 0; i < L->n; i++) {
        const struct ufo_param *p = &L->params[i];
        double sum = 0, abs_sum = 0, sq = 0, vsum = 0, vabs = 0, vsq = 0, dmax = 0, vmax = 0;
        for (size_t k = 0; k < p->numel; k++) {
            double d = (double)params[p->offset + k] - start[p->offset + k];
            double v = momentum[p->offset + k];
            sum += d, abs_sum += fabs(d), sq += d * d;
            vsum += v, vabs += fabs(v), vsq += v * v;
            dmax = fmax(dmax, fabs(d)), vmax = fmax(vmax, fabs(v));
        }
        const float *r = stats + 3 * i, *m = mstats + 3 * i, *mv = moved + 3 * i;
        char what[160];
        if (mv[1] < STILL) {
            /* frozen, or norm.bias: float32 residue of a zero gradient at most */
            EXPECT(dmax <= RESIDUE_DELTA && vmax <= RESIDUE_V, "%s stays still in the "
                   "reference, moves by up to %.3g (momentum %.3g) in ufo", p->name, dmax, vmax);
            still++;
            continue;
        }
        snprintf(what, sizeof what, "delta stats of %s", p->name);
        check_close(&worst_stat, what, 0, sum, r[0], mv[0]);
        check_close(&worst_stat, what, 1, abs_sum, r[1], mv[0]);
        check_close(&worst_stat, what, 2, sqrt(sq), r[2], mv[1]);
        snprintf(what, sizeof what, "momentum stats of %s", p->name);
        if (m[2] > 0) {
            check_close(&worst_momentum, what, 0, vsum, m[0], m[1]);
            check_close(&worst_momentum, what, 1, vabs, m[1], m[1]);
            check_close(&worst_momentum, what, 2, sqrt(vsq), m[2], m[2]);
        } else {
            EXPECT(vmax == 0, "%s: momentum %.3g where the reference has none", p->name, vmax);
        }

        /* the sample: every k-th element, k the odd stride of supernet_ref.py's sample() */
        snprintf(what, sizeof what, "ref.optim.delta.%s", p->name);
        size_t n_sample;
        float *want = read_ref(what, &n_sample);
        size_t k = (p->numel + 255) / 256;
        if (k > 1 && k % 2 == 0) k++;
        EXPECT(n_sample == (p->numel + k - 1) / k, "%s: %zu samples, want %zu", what, n_sample,
               (p->numel + k - 1) / k);
        for (size_t j = 0; j < n_sample && j * k < p->numel; j++) {
            size_t at = p->offset + j * k;
            double d = (double)params[at] - start[at];
            check_close(&worst_sample, what, j * k, d, want[j], mv[2]);
        }
        sampled += (int)n_sample;
        free(want);
    }
    EXPECT(still >= space.n_tasks + 1, "%d tensors stay still, want at least the "
           "BN-neck biases and norm.bias", still);
    printf("%d tensors stay still (frozen, or with a zero exact gradient and no decay); "
           "%d sampled changes\n", still, sampled);
    const struct worst *all[] = {&worst_loss, &worst_norm, &worst_stat, &worst_sample,
                                 &worst_momentum};
    const char *kinds[] = {"loss", "gradient norm", "change statistic", "change sample",
                           "momentum statistic"};
    for (int i = 0; i < 5; i++)
        printf("worst relative error of a %s: %.2e at %s\n", kinds[i], all[i]->err,
               all[i]->what);

    clReleaseMemObject(norm_work);
    free(stats);
    free(moved);
    free(mstats);
    free(start);
    free(params);
    free(momentum);
    free(grads);
    free(before);
    free(before_v);
    free(images);
    free(step_images);
    free(labels_f);
    free(task_f);
    free(gumbel);
    free(ref_lr);
    free(ref_loss);
    free(ref_norm);
    free(labels);
    vit_destroy(vit);
    ufo_st_close(ref_file);
    ufo_device_close(dev);
    return test_finish("test_optim_ref");
}
