/* GEMM settings files: the embedded CPU file's own-kernel keys, defaults for keys a file
 * leaves out, and a configuration error naming file and key for every bad value. Runs
 * without an OpenCL device: settings are parsed from capabilities alone. */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "gemm/engine.h"

/* Parse `gemm_section` (the lines after [gemm]) from a temporary file via UFO_DEVICE_SETTINGS. */
static ufo_status parse_text(const char *gemm_section, struct gemm_settings *out) {
    char path[] = "/tmp/ufo-test-settings-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) {
        fprintf(stderr, "cannot create a temporary file\n");
        exit(1);
    }
    FILE *f = fdopen(fd, "w");
    fprintf(f, "[match]\ntype = any\n[gemm]\n%s", gemm_section);
    fclose(f);
    setenv("UFO_DEVICE_SETTINGS", path, 1);
    struct ufo_device_caps caps = {.type = UFO_DEVICE_CPU};
    ufo_status st = gemm_settings_for(&caps, out);
    unsetenv("UFO_DEVICE_SETTINGS");
    unlink(path);
    return st;
}

/* A bad value is a configuration error whose message names the key. */
static void expect_rejected(const char *text, const char *key) {
    struct gemm_settings s;
    ufo_status st = parse_text(text, &s);
    EXPECT(st == UFO_ERR_CONFIG && strstr(ufo_last_error(), key),
           "'%s' is rejected naming %s: status %s, %s", text, key, ufo_status_name(st),
           st == UFO_OK ? "(accepted)" : ufo_last_error());
}

int main(void) {
    struct gemm_settings s;

    /* the embedded CPU file: the packed kernel with two vectors per row */
    unsetenv("UFO_DEVICE_SETTINGS");
    struct ufo_device_caps cpu = {.type = UFO_DEVICE_CPU};
    snprintf(cpu.name, sizeof cpu.name, "pthread-test");
    REQUIRE_OK(gemm_settings_for(&cpu, &s));
    EXPECT(strstr(s.source, "cpu.ini") != NULL, "a CPU gets cpu.ini, not %s", s.source);
    EXPECT(s.engine == UFO_GEMM_OWN && s.engine_batched == UFO_GEMM_OWN,
           "cpu.ini: own engine for both classes");
    EXPECT(s.own_kernel == GEMM_OWN_PACKED && s.own_kernel_batched == GEMM_OWN_KBLOCKED &&
               s.own_nv == 2 && s.own_wg0 > 0 && s.own_wg1 > 0 && s.own_pack == GEMM_PACK_RUNS,
           "cpu.ini: packed with a work-group shape and packs by runs (kernel %d/%d, nv %d, "
           "wg %zu × %zu, pack %d)", s.own_kernel, s.own_kernel_batched, s.own_nv, s.own_wg0,
           s.own_wg1, s.own_pack);

    /* keys left out take their defaults: the simple kernel, one vector per row */
    REQUIRE_OK(parse_text("engine = own\n", &s));
    EXPECT(s.own_kernel == GEMM_OWN_SIMPLE && s.own_kernel_batched == GEMM_OWN_SIMPLE &&
               s.own_tm == 8 && s.own_vw == 8 && s.own_kb == 256 && s.own_nv == 1 &&
               s.own_wg0 == 0 && s.own_wg1 == 0 && s.own_pack_a == GEMM_PACK_A_ALWAYS,
           "defaults: kernel %d/%d tm %d vw %d kb %d nv %d wg %zu × %zu", s.own_kernel,
           s.own_kernel_batched, s.own_tm, s.own_vw, s.own_kb, s.own_nv, s.own_wg0,
           s.own_wg1);

    /* own_kernel_batched follows own_kernel unless it is given */
    REQUIRE_OK(parse_text("own_kernel = kblocked\nown_wg0 = 2\nown_wg1 = 2\n", &s));
    EXPECT(s.own_kernel == GEMM_OWN_KBLOCKED && s.own_kernel_batched == GEMM_OWN_KBLOCKED,
           "own_kernel_batched follows own_kernel: %d/%d", s.own_kernel, s.own_kernel_batched);

    /* every own-kernel key read back */
    REQUIRE_OK(parse_text("own_tm = 6\nown_vw = 16\nown_wg0 = 4\nown_wg1 = 8\nown_kb = 128\n"
                          "own_nv = 2\nengine_batched = clblast\nown_kernel = packed\n"
                          "own_kernel_batched = simple\n", &s));
    EXPECT(s.own_kernel == GEMM_OWN_PACKED && s.own_kernel_batched == GEMM_OWN_SIMPLE &&
               s.own_tm == 6 && s.own_vw == 16 && s.own_wg0 == 4 && s.own_wg1 == 8 &&
               s.own_kb == 128 && s.own_nv == 2 && s.engine == UFO_GEMM_OWN &&
               s.engine_batched == UFO_GEMM_CLBLAST,
           "read back: tm %d vw %d wg %zu × %zu kb %d nv %d", s.own_tm, s.own_vw, s.own_wg0,
           s.own_wg1, s.own_kb, s.own_nv);

    /* own_pack_a: which A gemm_packed copies into panels */
    REQUIRE_OK(parse_text("own_pack_a = transposed\n", &s));
    EXPECT(s.own_pack_a == GEMM_PACK_A_TRANSPOSED, "own_pack_a transposed: %d", s.own_pack_a);
    REQUIRE_OK(parse_text("own_pack_a = never\n", &s));
    EXPECT(s.own_pack_a == GEMM_PACK_A_NEVER, "own_pack_a never: %d", s.own_pack_a);

    /* own_pack: which kernel copies k-major operands into panels (elements unless given) */
    EXPECT(s.own_pack == GEMM_PACK_ELEMENTS, "own_pack defaults to elements: %d", s.own_pack);
    REQUIRE_OK(parse_text("own_pack = runs\n", &s));
    EXPECT(s.own_pack == GEMM_PACK_RUNS, "own_pack runs: %d", s.own_pack);

    /* bad values */
    expect_rejected("own_pack_a = sometimes\n", "gemm:own_pack_a");
    expect_rejected("own_pack = vectors\n", "gemm:own_pack");
    expect_rejected("engine = fast\n", "gemm:engine");
    expect_rejected("own_tm = 9\n", "gemm:own_tm");
    expect_rejected("own_tm = 0\n", "gemm:own_tm");
    expect_rejected("own_vw = 12\n", "own_vw");
    expect_rejected("own_wg0 = x\n", "gemm:own_wg0");
    expect_rejected("own_kb = 0\n", "gemm:own_kb");
    expect_rejected("own_kb = 5000\n", "gemm:own_kb");
    expect_rejected("own_nv = 3\n", "gemm:own_nv");
    expect_rejected("own_kernel = fast\n", "gemm:own_kernel");
    expect_rejected("own_kernel_batched = blas\n", "gemm:own_kernel_batched");
    /* the blocked kernels need a work-group shape */
    expect_rejected("own_kernel = packed\n", "own_wg0");
    expect_rejected("own_kernel = simple\nown_kernel_batched = kblocked\nown_wg0 = 4\n",
                    "own_wg1");

    return test_finish("test_gemm_settings");
}
