/* The GEMM engine a device owns: settings, the scratch buffer, and the two back ends. */
#ifndef UFO_GEMM_ENGINE_H
#define UFO_GEMM_ENGINE_H

#include <ufo/gemm.h>

/* ufo's own kernels (cl/gemm.cl): gemm_nn, gemm_kb, and gemm_packed after packing. */
enum gemm_own_kernel { GEMM_OWN_SIMPLE, GEMM_OWN_KBLOCKED, GEMM_OWN_PACKED };

/* gemm_packed: which A it packs (B always): every A, only a transposed one, or none. */
enum gemm_pack_a { GEMM_PACK_A_ALWAYS, GEMM_PACK_A_TRANSPOSED, GEMM_PACK_A_NEVER };

/* gemm_packed's panel copy of a k-major operand: `pack`, one float per work-item (the
 * reference), or `pack_runs`, KR contiguous runs of a panel's width per work-item by vectors. */
enum gemm_pack_kernel { GEMM_PACK_ELEMENTS, GEMM_PACK_RUNS };

/* Per-device settings, from the embedded data/devices/NAME.ini that matches the device
 * (or the file UFO_DEVICE_SETTINGS names). */
struct gemm_settings {
    char source[128];                   /* which settings file was used */
    enum ufo_gemm_engine engine;        /* plain products */
    enum ufo_gemm_engine engine_batched;/* strided-batched products (attention) */
    int own_tm, own_vw;                 /* ufo kernel: rows and columns per work-item */
    size_t own_wg0, own_wg1;            /* ufo kernel: work-group shape, 0 = driver's choice */
    enum gemm_own_kernel own_kernel;    /* ufo kernel for plain products */
    enum gemm_own_kernel own_kernel_batched; /* and for strided-batched ones */
    int own_kb;                         /* blocked kernels: k block depth */
    int own_nv;                         /* blocked kernels: vectors of VW per row, 1 or 2 */
    enum gemm_pack_a own_pack_a;        /* packed kernel: which A goes through a panel copy */
    enum gemm_pack_kernel own_pack;     /* packed kernel: which kernel copies the panels */
    size_t n_clblast;                   /* CLBlast parameter overrides */
    struct clblast_override {
        char kernel[32], name[32];
        size_t value;
    } clblast[64];
};

struct gemm_engine {
    struct gemm_settings settings;
    enum ufo_gemm_engine forced;        /* UFO_GEMM_AUTO unless a test forces one */
    cl_mem scratch;
    size_t scratch_bytes;
};

ufo_status gemm_engine_create(ufo_device *dev, struct gemm_engine **out);
void gemm_engine_destroy(struct gemm_engine *engine);

/* Settings for a device: the best-matching embedded file, or the file UFO_DEVICE_SETTINGS
 * names. Exposed for ufo-devices and tests. */
ufo_status gemm_settings_for(const struct ufo_device_caps *caps, struct gemm_settings *out);
const char *gemm_engine_name(enum ufo_gemm_engine engine);

/* Back ends, after the wrapper has checked the arguments. */
ufo_status gemm_clblast(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb, size_t m,
                        size_t n, size_t k, float alpha, struct ufo_matrix a, size_t stride_a,
                        struct ufo_matrix b, size_t stride_b, float beta, struct ufo_matrix c,
                        size_t stride_c, size_t batch);
ufo_status gemm_own(ufo_device *dev, enum ufo_trans ta, enum ufo_trans tb, size_t m, size_t n,
                    size_t k, float alpha, struct ufo_matrix a, size_t stride_a,
                    struct ufo_matrix b, size_t stride_b, float beta, struct ufo_matrix c,
                    size_t stride_c, size_t batch);
ufo_status gemm_clblast_apply_settings(ufo_device *dev, const struct gemm_settings *s);

#endif
