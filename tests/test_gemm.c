/* Both GEMM engines against double-precision host code over awkward shapes: odd sizes,
 * leading dimensions above the width, non-zero offsets, every transpose pair, alpha/beta,
 * and strided-batched attention products with 197 tokens and 64-wide heads. The own engine
 * runs every case with each of its kernels (simple, K-blocked, packed), with the device's
 * settings and with small tiles and k blocks that put k past, below and on a block boundary,
 * and the packed kernel with either panel copy (pack, pack_runs) over panels of 3 to 32.
 *
 * Bound: |C - C_ref| <= 1e-5 · (Σ_p |alpha·a·b| + |beta·c0|) per element. Float32 sums of
 * k ≤ 1024 products stay well inside it; a wrong index or a lost term does not. */
#include "config.h"

#include <math.h>

#include "check.h"
#include "device/device.h"
#include "gemm/engine.h"

#define BOUND 1e-5

static unsigned rng_state = 2024;
static float rnd(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / 16777216.0f * 2.0f - 1.0f;
}

struct gemm_case {
    enum ufo_trans ta, tb;
    size_t m, n, k;
    size_t pad_a, pad_b, pad_c; /* leading dimension minus width */
    size_t off_a, off_b, off_c; /* element offsets */
    float alpha, beta;
    size_t batch;
};

/* Run one case on `engine`; returns the number of wrong elements (first ones printed). */
static int run_case(ufo_device *dev, enum ufo_gemm_engine engine, const struct gemm_case *t) {
    size_t rows_a = t->ta ? t->k : t->m, cols_a = t->ta ? t->m : t->k;
    size_t rows_b = t->tb ? t->n : t->k, cols_b = t->tb ? t->k : t->n;
    size_t lda = cols_a + t->pad_a, ldb = cols_b + t->pad_b, ldc = t->n + t->pad_c;
    size_t sa = rows_a * lda + 3, sb = rows_b * ldb + 5, sc = t->m * ldc + 1; /* batch strides */
    size_t na = t->off_a + sa * t->batch, nb = t->off_b + sb * t->batch;
    size_t nc = t->off_c + sc * t->batch;
    float *a = malloc(na * 4), *b = malloc(nb * 4), *c0 = malloc(nc * 4), *c = malloc(nc * 4);
    for (size_t i = 0; i < na; i++) a[i] = rnd();
    for (size_t i = 0; i < nb; i++) b[i] = rnd();
    for (size_t i = 0; i < nc; i++) c0[i] = rnd();
    /* with beta = 0, C may hold anything, NaN included, and must be overwritten */
    if (t->beta == 0.0f)
        for (size_t i = 0; i < nc; i += 3) c0[i] = NAN;

    cl_mem da, db, dc;
    REQUIRE_OK(device_alloc(dev, na * 4, "A", &da));
    REQUIRE_OK(device_alloc(dev, nb * 4, "B", &db));
    REQUIRE_OK(device_alloc(dev, nc * 4, "C", &dc));
    REQUIRE_OK(device_write(dev, da, 0, na * 4, a));
    REQUIRE_OK(device_write(dev, db, 0, nb * 4, b));
    REQUIRE_OK(device_write(dev, dc, 0, nc * 4, c0));
    ufo_gemm_set_engine(dev, engine);
    struct ufo_matrix ma = {da, t->off_a, lda}, mb = {db, t->off_b, ldb}, mc = {dc, t->off_c, ldc};
    if (t->batch == 1)
        REQUIRE_OK(ufo_gemm(dev, t->ta, t->tb, t->m, t->n, t->k, t->alpha, ma, mb, t->beta, mc));
    else
        REQUIRE_OK(ufo_gemm_batched(dev, t->ta, t->tb, t->m, t->n, t->k, t->alpha, ma, sa, mb,
                                    sb, t->beta, mc, sc, t->batch));
    REQUIRE_OK(device_read(dev, dc, 0, nc * 4, c));
    clReleaseMemObject(da);
    clReleaseMemObject(db);
    clReleaseMemObject(dc);

    int wrong = 0;
    char *written = calloc(nc, 1);
    for (size_t q = 0; q < t->batch; q++) {
        const float *A = a + t->off_a + q * sa, *B = b + t->off_b + q * sb;
        for (size_t i = 0; i < t->m; i++)
            for (size_t j = 0; j < t->n; j++) {
                double ref = 0, mag = 0;
                for (size_t p = 0; p < t->k; p++) {
                    double x = t->ta ? A[p * lda + i] : A[i * lda + p];
                    double y = t->tb ? B[j * ldb + p] : B[p * ldb + j];
                    ref += (double)t->alpha * x * y;
                    mag += fabs((double)t->alpha * x * y);
                }
                size_t ci = t->off_c + q * sc + i * ldc + j;
                written[ci] = 1;
                if (t->beta != 0.0f) {
                    ref += (double)t->beta * c0[ci];
                    mag += fabs((double)t->beta * c0[ci]);
                }
                double err = fabs(c[ci] - ref);
                if (!(err <= BOUND * mag + 1e-30)) {
                    if (wrong++ < 5)
                        fprintf(stderr, "  batch %zu C[%zu][%zu] = %.8g, expected %.8g\n", q, i,
                                j, c[ci], ref);
                }
            }
    }
    /* nothing outside op(A)·op(B)'s footprint may change (padding, gaps between batches) */
    for (size_t i = 0; i < nc; i++)
        if (!written[i] && memcmp(&c[i], &c0[i], 4) != 0 && wrong++ < 5)
            fprintf(stderr, "  element %zu outside the product changed\n", i);
    free(written);
    free(a);
    free(b);
    free(c0);
    free(c);
    return wrong;
}

int main(void) {
    ufo_device *dev = test_open_device();
    const struct gemm_case cases[] = {
        /* transposes × odd sizes, padded leading dimensions, offsets, alpha/beta */
        {UFO_NO_TRANS, UFO_NO_TRANS, 37, 29, 53, 3, 5, 7, 11, 13, 17, 1.0f, 0.0f, 1},
        {UFO_NO_TRANS, UFO_TRANS, 37, 29, 53, 0, 1, 2, 0, 7, 3, 0.5f, 1.0f, 1},
        {UFO_TRANS, UFO_NO_TRANS, 37, 29, 53, 4, 0, 0, 9, 0, 0, -1.5f, 0.25f, 1},
        {UFO_TRANS, UFO_TRANS, 37, 29, 53, 1, 2, 3, 5, 6, 7, 2.0f, -1.0f, 1},
        /* a tile-exact shape, a single row and column, k = 1 */
        {UFO_NO_TRANS, UFO_NO_TRANS, 64, 128, 96, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1},
        {UFO_NO_TRANS, UFO_NO_TRANS, 1, 1, 200, 0, 0, 0, 1, 1, 1, 1.0f, 0.0f, 1},
        {UFO_TRANS, UFO_TRANS, 19, 33, 1, 2, 2, 2, 0, 0, 0, 1.0f, 1.0f, 1},
        /* a weight slice: 640 of 768 input rows of a wider layer, as an elastic FFN uses */
        {UFO_NO_TRANS, UFO_TRANS, 70, 640, 96, 0, 0, 128, 0, 96 * 3, 0, 1.0f, 0.0f, 1},
        /* k blocks: k past a multiple of the block, k below it, several blocks, m and n just
         * past a tile, exactly one tile, and smaller than a tile */
        {UFO_NO_TRANS, UFO_NO_TRANS, 45, 77, 300, 2, 3, 1, 4, 5, 6, 1.0f, 0.0f, 1},
        {UFO_TRANS, UFO_NO_TRANS, 70, 40, 256, 3, 0, 2, 0, 2, 1, 0.75f, 1.0f, 1},
        {UFO_NO_TRANS, UFO_TRANS, 9, 33, 5, 1, 1, 1, 0, 0, 0, 1.0f, -0.5f, 1},
        {UFO_TRANS, UFO_TRANS, 8, 32, 17, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1},
        {UFO_NO_TRANS, UFO_NO_TRANS, 7, 31, 40, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 1},
        {UFO_TRANS, UFO_NO_TRANS, 65, 97, 600, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 2},
        /* an empty sum scales C by beta */
        {UFO_NO_TRANS, UFO_NO_TRANS, 9, 7, 0, 0, 0, 3, 0, 0, 0, 1.0f, 0.5f, 1},
        /* attention, 197 tokens × 64-wide heads, batch of 6 heads: S = Q·Kᵀ, O = P·V and the
         * backward products dP = dO·Vᵀ, dV = Pᵀ·dO, dQ = dS·K, dK = dSᵀ·Q */
        {UFO_NO_TRANS, UFO_TRANS, 197, 197, 64, 128, 128, 3, 0, 64, 0, 0.125f, 0.0f, 6},
        {UFO_NO_TRANS, UFO_NO_TRANS, 197, 64, 197, 0, 128, 0, 0, 0, 0, 1.0f, 0.0f, 6},
        {UFO_NO_TRANS, UFO_TRANS, 197, 197, 64, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 3},
        {UFO_TRANS, UFO_NO_TRANS, 197, 64, 197, 0, 0, 0, 0, 0, 0, 1.0f, 1.0f, 3},
        {UFO_TRANS, UFO_NO_TRANS, 64, 64, 197, 0, 0, 0, 0, 0, 0, 1.0f, 0.0f, 2},
        /* Aᵀ batched with padded leading dimensions and offsets (the own engine copies A) */
        {UFO_TRANS, UFO_NO_TRANS, 45, 33, 70, 3, 5, 2, 7, 11, 13, 0.5f, -1.0f, 3},
    };
    /* the own engine's kernels, forced through its settings: the device's own first */
    const struct gemm_settings device_settings = dev->gemm->settings;
    static const struct own_variant {
        const char *name;
        enum gemm_own_kernel kernel;
        int tm, vw, nv, kb;
        size_t wg0, wg1;
        enum gemm_pack_a pack_a;
        enum gemm_pack_kernel pack;
    } variants[] = {
        {"own (device settings)", GEMM_OWN_SIMPLE, 0, 0, 0, 0, 0, 0, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_ELEMENTS},
        {"own simple 8×16", GEMM_OWN_SIMPLE, 8, 16, 1, 256, 0, 0, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_ELEMENTS},
        {"own kblocked 8×32 kb 16", GEMM_OWN_KBLOCKED, 8, 16, 2, 16, 2, 3, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_ELEMENTS},
        {"own kblocked 3×4 kb 5", GEMM_OWN_KBLOCKED, 3, 4, 1, 5, 2, 2, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_ELEMENTS},
        {"own packed 8×32 kb 256", GEMM_OWN_PACKED, 8, 16, 2, 256, 2, 8, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_ELEMENTS},
        {"own packed 8×32 kb 256, runs", GEMM_OWN_PACKED, 8, 16, 2, 256, 2, 8,
         GEMM_PACK_A_ALWAYS, GEMM_PACK_RUNS},
        {"own packed 8×32 kb 16, runs", GEMM_OWN_PACKED, 8, 16, 2, 16, 2, 3, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_RUNS},
        {"own packed 3×8 kb 7", GEMM_OWN_PACKED, 3, 4, 2, 7, 3, 2, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_ELEMENTS},
        /* panels of 3 and 8: runs cut to scalars and vectors of 8 */
        {"own packed 3×8 kb 7, runs", GEMM_OWN_PACKED, 3, 4, 2, 7, 3, 2, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_RUNS},
        /* panels of 5 and 4: a vector of 4 and a scalar */
        {"own packed 5×4 kb 9, runs", GEMM_OWN_PACKED, 5, 4, 1, 9, 2, 2, GEMM_PACK_A_ALWAYS,
         GEMM_PACK_RUNS},
        {"own packed 8×32 kb 16, A packed if transposed", GEMM_OWN_PACKED, 8, 16, 2, 16, 2, 3,
         GEMM_PACK_A_TRANSPOSED, GEMM_PACK_RUNS},
        {"own packed 8×32 kb 256, A read in place", GEMM_OWN_PACKED, 8, 16, 2, 256, 2, 8,
         GEMM_PACK_A_NEVER, GEMM_PACK_RUNS},
        {"own packed 3×8 kb 7, A read in place", GEMM_OWN_PACKED, 3, 4, 2, 7, 3, 2,
         GEMM_PACK_A_NEVER, GEMM_PACK_ELEMENTS},
        {"clblast", GEMM_OWN_SIMPLE, 0, 0, 0, 0, 0, 0, GEMM_PACK_A_ALWAYS, GEMM_PACK_ELEMENTS},
    };
    const size_t n_variants = sizeof variants / sizeof variants[0];
    for (size_t v = 0; v < n_variants; v++) {
        const struct own_variant *o = &variants[v];
        struct gemm_settings *s = &dev->gemm->settings;
        *s = device_settings;
        if (o->tm) {
            s->own_kernel = s->own_kernel_batched = o->kernel;
            s->own_tm = o->tm, s->own_vw = o->vw, s->own_nv = o->nv, s->own_kb = o->kb;
            s->own_wg0 = o->wg0, s->own_wg1 = o->wg1, s->own_pack_a = o->pack_a;
            s->own_pack = o->pack;
        }
        enum ufo_gemm_engine engine = v + 1 == n_variants ? UFO_GEMM_CLBLAST : UFO_GEMM_OWN;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const struct gemm_case *t = &cases[i];
            /* CLBlast rejects k = 0; the wrapper serves that case with the own engine */
            int wrong = run_case(dev, engine, t);
            EXPECT(wrong == 0, "%s case %zu (%s%s m=%zu n=%zu k=%zu batch=%zu): %d wrong",
                   o->name, i, t->ta ? "T" : "N", t->tb ? "T" : "N", t->m, t->n, t->k,
                   t->batch, wrong);
        }
    }
    dev->gemm->settings = device_settings;
    ufo_gemm_set_engine(dev, UFO_GEMM_AUTO);

    /* invalid arguments are errors naming the operand, not crashes */
    cl_mem small;
    REQUIRE_OK(device_alloc(dev, 16 * 4, "small", &small));
    struct ufo_matrix s4 = {small, 0, 4}, s2 = {small, 0, 2};
    EXPECT(ufo_gemm(dev, UFO_NO_TRANS, UFO_NO_TRANS, 4, 4, 4, 1, s4, s2, 0, s4) ==
               UFO_ERR_INVALID && strstr(ufo_last_error(), "B"),
           "ld below width is rejected: %s", ufo_last_error());
    EXPECT(ufo_gemm(dev, UFO_NO_TRANS, UFO_NO_TRANS, 8, 4, 4, 1, s4, s4, 0, s4) ==
               UFO_ERR_INVALID && strstr(ufo_last_error(), "buffer"),
           "an operand past the buffer end is rejected: %s", ufo_last_error());
    clReleaseMemObject(small);
    ufo_device_close(dev);
    return test_finish("test_gemm");
}
