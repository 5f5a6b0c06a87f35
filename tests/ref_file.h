/* The committed PyTorch reference (tests/reference/supernet_ref.safetensors) as the tests that
 * compare against it read it: open it once into ref_file, then read_ref each tensor. */
#ifndef UFO_TESTS_REF_FILE_H
#define UFO_TESTS_REF_FILE_H

#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "io/safetensors.h"

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

#endif
