/* The committed PyTorch reference (tests/reference/supernet_ref.safetensors) as the tests that
 * compare against it read it: open it once into ref_file, then read_ref each tensor. */
#ifndef UFO_TESTS_REF_FILE_H
#define UFO_TESTS_REF_FILE_H

#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "io/safetensors.h"
#include "model/vit.h"

static ufo_st_file *ref_file;

/* Tensor `name` of the reference as floats (malloc'ed); a missing one ends the test. */
static float *read_ref(const char *name, size_t *numel) {
    const struct ufo_st_tensor *t = ufo_st_find(ref_file, name);
    if (!t) {
        fprintf(stderr, "reference tensor %s is missing\n", name);
        exit(1);
    }
    float *data = malloc(t->numel * sizeof *data + 4);
    REQUIRE_OK(ufo_st_read_f32(ref_file, t, data));
    if (numel) *numel = (size_t)t->numel;
    return data;
}

/* The reference batch's labels (stored as floats) and task ranges (from its per-sample task
 * index, tasks contiguous; a task with no sample gets an empty range). */
static void ref_batch_layout(const float *labels_f, const float *task_f, size_t B, int n_tasks,
                             int32_t *labels, struct vit_batch *batch) {
    for (size_t i = 0; i < B; i++) {
        labels[i] = (int32_t)labels_f[i];
        batch->task_begin[(int)task_f[i] + 1] = i + 1;
    }
    for (int t = 1; t <= n_tasks; t++)
        if (batch->task_begin[t] < batch->task_begin[t - 1])
            batch->task_begin[t] = batch->task_begin[t - 1];
}

#endif
