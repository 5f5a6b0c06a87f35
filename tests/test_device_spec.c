/* Device specs: every form and every error, on made-up device lists and on the real one. */
#include "config.h"

#include "check.h"
#include "device/device.h"

static struct ufo_device_caps dev(enum ufo_device_type type, int p, int d, const char *spec,
                                  const char *name) {
    struct ufo_device_caps c;
    memset(&c, 0, sizeof c);
    c.type = type;
    c.platform_index = p;
    c.device_index = d;
    snprintf(c.spec, sizeof c.spec, "%s", spec);
    snprintf(c.name, sizeof c.name, "%s", name);
    return c;
}

/* The index `spec` selects, or -1 when it fails (the message must then list the devices). */
static long pick(const char *spec, const struct ufo_device_caps *list, size_t n) {
    size_t index = 99;
    ufo_clear_error();
    if (device_match(spec, list, n, &index) != UFO_OK) {
        const char *msg = ufo_last_error();
        EXPECT(strstr(msg, spec) != NULL, "message '%s' does not name the spec '%s'", msg, spec);
        if (n > 0)
            EXPECT(strstr(msg, list[0].spec) != NULL, "message '%s' does not list %s", msg,
                   list[0].spec);
        return -1;
    }
    return (long)index;
}

int main(void) {
    /* two platforms: a CPU first, then two GPUs and an accelerator */
    struct ufo_device_caps list[] = {
        dev(UFO_DEVICE_CPU, 0, 0, "cpu:0", "pthread-skylake-avx512-AMD EPYC"),
        dev(UFO_DEVICE_GPU, 1, 0, "gpu:0", "NVIDIA H100 80GB HBM3"),
        dev(UFO_DEVICE_GPU, 1, 1, "gpu:1", "NVIDIA GeForce RTX 4090"),
        dev(UFO_DEVICE_ACCEL, 2, 0, "accel:0", "Intel FPGA Emulation Device"),
    };
    size_t n = sizeof list / sizeof list[0];

    EXPECT(pick("auto", list, n) == 1, "auto picks the first GPU");
    EXPECT(pick(NULL, list, n) == 1, "no spec means auto");
    EXPECT(pick("", list, n) == 1, "an empty spec means auto");
    EXPECT(pick("auto", list, 1) == 0, "auto without GPU picks the first device");
    EXPECT(pick("gpu:0", list, n) == 1, "gpu:0");
    EXPECT(pick("gpu:1", list, n) == 2, "gpu:1");
    EXPECT(pick("GPU:1", list, n) == 2, "type prefixes ignore case");
    EXPECT(pick("cpu:0", list, n) == 0, "cpu:0");
    EXPECT(pick("accel:0", list, n) == 3, "accel:0");
    EXPECT(pick("1.1", list, n) == 2, "P.D 1.1");
    EXPECT(pick("0.0", list, n) == 0, "P.D 0.0");
    EXPECT(pick("4090", list, n) == 2, "name substring");
    EXPECT(pick("h100", list, n) == 1, "name substring ignores case");

    /* errors */
    EXPECT(pick("gpu:2", list, n) == -1, "gpu:2 does not exist");
    EXPECT(pick("cpu:1", list, n) == -1, "cpu:1 does not exist");
    EXPECT(pick("gpu:", list, n) == -1, "gpu: without index");
    EXPECT(pick("gpu:x", list, n) == -1, "gpu:x");
    EXPECT(pick("gpu:-1", list, n) == -1, "gpu:-1");
    EXPECT(pick("gpu:1x", list, n) == -1, "gpu:1x");
    EXPECT(pick("2.1", list, n) == -1, "P.D out of range");
    EXPECT(pick("NVIDIA", list, n) == -1, "an ambiguous substring");
    EXPECT(pick("radeon", list, n) == -1, "a substring matching nothing");
    EXPECT(pick("auto", list, 0) == -1, "auto with no devices");
    EXPECT(strstr(ufo_last_error(), "pocl-opencl-icd") != NULL,
           "with no devices the message says what to install: %s", ufo_last_error());

    /* the real machine: whatever exists must be selectable by its own spec and by P.D */
    struct ufo_device_caps *real;
    size_t count;
    REQUIRE_OK(ufo_device_list(&real, &count));
    for (size_t i = 0; i < count; i++) {
        struct ufo_device_caps found;
        char pd[16];
        REQUIRE_OK(ufo_device_find(real[i].spec, &found));
        EXPECT(strcmp(found.spec, real[i].spec) == 0, "%s finds itself", real[i].spec);
        snprintf(pd, sizeof pd, "%d.%d", real[i].platform_index, real[i].device_index);
        REQUIRE_OK(ufo_device_find(pd, &found));
        EXPECT(strcmp(found.spec, real[i].spec) == 0, "%s is found as %s", real[i].spec, pd);
        EXPECT(found.compute_units > 0 && found.global_mem > 0 && found.max_work_group > 0,
               "%s has capabilities", real[i].spec);
    }
    free(real);
    return test_finish("test_device_spec");
}
