/* The supernet on the device against the PyTorch reference (tests/reference/supernet_ref.py):
 * the same parameters, images, labels and gate noise; every residual stream, the features,
 * the BN-neck output, each loss and every parameter gradient of one training step, then the
 * evaluation pass's features.
 *
 * Tolerance: |x - ref| <= 2e-4 · (max |ref| of the tensor) + 1e-5 per element. The reference
 * is float64 rounded to float32; ufo computes in float32 with different summation orders,
 * which costs a few units of 1e-6 relative on this tiny model; a wrong slice, gate or sign
 * costs orders of magnitude more. The absolute 1e-5 is for tensors whose exact gradient is
 * zero: norm.bias, since both the BN-neck and the triplet distances ignore a shift of the
 * feature, gets float32 residue of a few 1e-6 where the reference has 1e-14. */
#include "config.h"

#include <math.h>

#include "check.h"
#include "device/device.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/vit.h"
#include "ref_file.h"

#define REL_TOL 2e-4
#define ABS_TOL 1e-5

/* Compare n values; print the first mismatches. Returns the largest error relative to the
 * reference's scale. */
static double compare(const char *what, const float *got, const float *want, size_t n) {
    double scale = 0, worst = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    int shown = 0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs((double)got[i] - want[i]);
        if (!(err <= REL_TOL * scale + ABS_TOL)) {
            if (shown++ < 4)
                fprintf(stderr, "  %s[%zu] = %.7g, reference %.7g\n", what, i, got[i], want[i]);
        }
        if (scale > 0 && err / scale > worst) worst = err / scale;
        if (isnan(got[i])) worst = INFINITY;
    }
    EXPECT(shown == 0, "%s: %d of %zu values off (worst relative %.2e)", what, shown, n, worst);
    return worst;
}

int main(void) {
    const char *dir = getenv("UFO_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/reference/supernet_ref.safetensors", dir ? dir : "tests");
    ufo_device *dev = test_open_device();
    REQUIRE_OK(ufo_st_open(path, &ref_file));

    /* the space, the architecture and the parameters the reference used */
    struct ufo_space space;
    struct ufo_arch arch;
    REQUIRE_OK(ufo_space_from_file(path, &space));
    const char *arch_json = ufo_st_metadata(ref_file, "ufo.reference.arch");
    EXPECT(arch_json != NULL, "the reference names its architecture");
    if (!arch_json) return 1;
    REQUIRE_OK(ufo_arch_from_json(&space, arch_json, path, &arch));

    size_t n_images, n_labels;
    float *images = read_ref("ref.input.images", &n_images);
    float *labels_f = read_ref("ref.input.labels", &n_labels);
    float *task_f = read_ref("ref.input.task", NULL);
    float *gumbel = read_ref("ref.input.gumbel", NULL);
    size_t B = n_labels;
    int32_t *labels = malloc(B * sizeof *labels);
    struct vit_batch batch = {.size = B, .images = images, .labels = labels, .gumbel = gumbel};
    ref_batch_layout(labels_f, task_f, B, space.n_tasks, labels, &batch);

    struct vit *vit;
    REQUIRE_OK(vit_create(dev, &space, B, &vit));
    const struct ufo_layout *L = vit_layout(vit);
    float *params = calloc(L->total, sizeof *params);
    REQUIRE_OK(ufo_params_load_ignoring(L, params, path, "ref."));
    REQUIRE_OK(vit_upload(vit, params));

    /* one training step */
    struct vit_losses losses;
    REQUIRE_OK(vit_train_step(vit, &arch, &batch, 0, &losses));
    size_t T = (size_t)ufo_space_tokens(&space), C = (size_t)space.embed_dim;
    float *got = malloc(B * T * C * sizeof *got), *got2 = malloc(B * T * C * sizeof *got2);

    REQUIRE_OK(vit_read_stream(vit, -1, B, got));
    float *want = read_ref("ref.out.embed", NULL);
    compare("embed", got, want, B * T * C);
    free(want);
    for (int i = 0; i < space.depth; i++) {
        if (!arch.block[i].kept) continue;
        char name[64];
        snprintf(name, sizeof name, "ref.out.block.%d", i);
        REQUIRE_OK(vit_read_stream(vit, i, B, got));
        want = read_ref(name, NULL);
        compare(name, got, want, B * T * C);
        free(want);
    }
    REQUIRE_OK(vit_read_features(vit, B, got, got2));
    want = read_ref("ref.out.feature", NULL);
    compare("feature", got, want, B * C);
    free(want);
    want = read_ref("ref.out.neck", NULL);
    compare("neck", got2, want, B * C);
    free(want);

    for (int t = 0; t < space.n_tasks; t++) {
        char name[96];
        snprintf(name, sizeof name, "ref.loss.cosface.%s", space.tasks[t].name);
        want = read_ref(name, NULL);
        compare(name, &losses.cosface[t], want, 1);
        free(want);
        if (space.tasks[t].triplet) {
            snprintf(name, sizeof name, "ref.loss.triplet.%s", space.tasks[t].name);
            want = read_ref(name, NULL);
            compare(name, &losses.triplet[t], want, 1);
            free(want);
        }
    }
    want = read_ref("ref.loss.total", NULL);
    compare("loss.total", &losses.total, want, 1);
    free(want);

    /* every gradient the reference has, and the running statistics after the step */
    float *grads = malloc(L->total * sizeof *grads);
    REQUIRE_OK(device_read(dev, vit_grads(vit), 0, L->total * sizeof(float), grads));
    REQUIRE_OK(vit_download(vit, params));
    int checked = 0;
    for (int i = 0; i < L->n; i++) {
        const struct ufo_param *p = &L->params[i];
        char name[160];
        if (p->kind == UFO_PARAM_DECAY || p->kind == UFO_PARAM_NO_DECAY) {
            snprintf(name, sizeof name, "ref.grad.%s", p->name);
            if (!ufo_st_find(ref_file, name)) continue;
            want = read_ref(name, NULL);
            compare(name, grads + p->offset, want, p->numel);
            checked++;
            free(want);
        }
    }
    EXPECT(checked == L->n - 3 * space.n_tasks, "checked %d gradients of %d tensors", checked, L->n);
    for (int t = 0; t < space.n_tasks; t++) {
        char name[160];
        snprintf(name, sizeof name, "ref.out.running_mean.%s", space.tasks[t].name);
        want = read_ref(name, NULL);
        compare(name, params + L->params[L->head[t].bn_mean].offset, want, C);
        free(want);
        snprintf(name, sizeof name, "ref.out.running_var.%s", space.tasks[t].name);
        want = read_ref(name, NULL);
        compare(name, params + L->params[L->head[t].bn_var].offset, want, C);
        free(want);
    }

    /* the evaluation pass uses the running statistics from before the step: reload */
    REQUIRE_OK(ufo_params_load_ignoring(L, params, path, "ref."));
    REQUIRE_OK(vit_upload(vit, params));
    REQUIRE_OK(vit_eval_forward(vit, &arch, &batch, got, got2));
    want = read_ref("ref.eval.feature", NULL);
    compare("eval.feature", got, want, B * C);
    free(want);
    want = read_ref("ref.eval.neck", NULL);
    compare("eval.neck", got2, want, B * C);
    free(want);

    free(grads);
    free(params);
    free(got);
    free(got2);
    free(images);
    free(labels_f);
    free(task_f);
    free(gumbel);
    free(labels);
    vit_destroy(vit);
    ufo_st_close(ref_file);
    ufo_device_close(dev);
    return test_finish("test_vit_ref");
}
