/* Every ops launcher on the device against its double reference (src/ops/ref.c) on awkward
 * shapes: 197 tokens, odd widths, leading dimensions above the width, non-zero offsets. Padding
 * around each view holds NaN: a kernel that reads it poisons its output, and one that writes it
 * is caught by the untouched-padding check. Bounds: |got - want| <= atol + rtol·|want|, float32
 * against double (atol and rtol 1e-4 unless stated; reductions of a few hundred terms stay well
 * inside, a wrong index does not). */
#include "config.h"

#include <math.h>

#include "check.h"
#include "device/device.h"
#include "ops/ops.h"
#include "ops/ref.h"
#include "ops_check.h"

#define TOL 1e-4

static ufo_device *dev;

/* A device view and the host copy of its buffer. */
struct dview {
    struct ufo_matrix m;
    size_t rows, cols, floats;
};

/* Upload src [rows, cols] into a new buffer at `offset` with leading dimension `ld`; every
 * other float of the buffer is NaN. */
static struct dview put(const double *src, size_t rows, size_t cols, size_t offset, size_t ld) {
    struct dview v = {{NULL, offset, ld}, rows, cols, offset + rows * ld + 3};
    float *host = malloc(v.floats * sizeof *host);
    for (size_t i = 0; i < v.floats; i++)
        host[i] = NAN;
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < cols; c++)
            host[offset + r * ld + c] = src ? (float)src[r * cols + c] : 0.0f;
    REQUIRE_OK(device_alloc(dev, v.floats * sizeof *host, "test view", &v.m.buf));
    REQUIRE_OK(device_write(dev, v.m.buf, 0, v.floats * sizeof *host, host));
    free(host);
    return v;
}

/* A contiguous vector at an offset. */
static struct dview put_vec(const double *src, size_t n, size_t offset) {
    struct dview v = put(src, 1, n, offset, n);
    v.m.ld = 0;
    return v;
}

/* Read the view back into dst [rows, cols]; padding that changed counts as a failure. */
static void get(const char *what, struct dview v, double *dst) {
    float *host = malloc(v.floats * sizeof *host);
    REQUIRE_OK(device_read(dev, v.m.buf, 0, v.floats * sizeof *host, host));
    size_t ld = v.m.ld ? v.m.ld : v.cols, touched = 0;
    for (size_t i = 0; i < v.floats; i++) {
        int inside = i >= v.m.offset && (i - v.m.offset) / ld < v.rows &&
                     (i - v.m.offset) % ld < v.cols;
        if (inside)
            dst[((i - v.m.offset) / ld) * v.cols + (i - v.m.offset) % ld] = host[i];
        else if (!isnan(host[i]) && touched++ < 3)
            fprintf(stderr, "%s: padding [%zu] was written (%g)\n", what, i, host[i]);
    }
    EXPECT(touched == 0, "%s: %zu padding values written", what, touched);
    free(host);
}

static void drop(struct dview v) {
    clReleaseMemObject(v.m.buf);
}

/* Compare a device view with the reference values. */
static void expect_view(const char *what, struct dview v, const double *want, double atol,
                        double rtol) {
    double *got = check_alloc(v.rows * v.cols);
    get(what, v, got);
    size_t bad = check_close(what, got, want, v.rows * v.cols, atol, rtol);
    EXPECT(bad == 0, "%s", what);
    free(got);
}

static double *rnd(size_t n, double lo, double hi) {
    double *p = check_alloc(n);
    check_fill(p, n, lo, hi);
    return p;
}

static const struct ufo_matrix none = {NULL, 0, 0};

/* ---- patch embedding, tokens and linear layers ---- */
static void test_embedding(void) {
    enum { B = 2, CH = 3, H = 56, W = 56, P = 4, NP = (H / P) * (W / P), KK = CH * P * P };
    enum { C = 37, T = NP + 1 };
    double *img = rnd(B * CH * H * W, -1, 1), *cols = check_alloc(B * NP * KK);
    ref_im2col(img, B, CH, H, W, P, cols);
    struct dview dimg = put_vec(img, B * CH * H * W, 5), dcols = put(NULL, B * NP, KK, 7, 53);
    REQUIRE_OK(ops_im2col(dev, dimg.m, B, CH, H, W, P, dcols.m));
    expect_view("im2col", dcols, cols, 0, 1e-7);

    /* patch projection with a weight slice (ld 50 > 48) and bias */
    double *w = rnd(C * KK, -0.2, 0.2), *b = rnd(C, -1, 1), *emb = check_alloc(B * NP * C);
    ref_linear_forward(cols, w, b, B * NP, KK, C, emb);
    struct dview dw = put(w, C, KK, 3, 50), db = put_vec(b, C, 1);
    struct dview demb = put(NULL, B * NP, C, 11, 40);
    REQUIRE_OK(ops_linear_forward(dev, dcols.m, dw.m, db.m, B * NP, KK, C, demb.m));
    expect_view("patch projection", demb, emb, TOL, TOL);

    /* cls and position embedding (197 tokens) */
    double *cls = rnd(C, -1, 1), *pos = rnd(T * C, -1, 1), *x = check_alloc(B * T * C);
    ref_tokens_forward(emb, cls, pos, B, NP, C, x);
    struct dview dcls = put_vec(cls, C, 2), dpos = put(pos, T, C, 4, 41);
    struct dview dx = put(NULL, B * T, C, 9, 39);
    REQUIRE_OK(ops_tokens_forward(dev, demb.m, dcls.m, dpos.m, B, NP, C, dx.m));
    expect_view("tokens forward", dx, x, TOL, TOL);

    /* tokens backward: demb overwritten, dcls and dpos accumulate onto their start values */
    double *g = rnd(B * T * C, -1, 1), *gemb = check_alloc(B * NP * C);
    double *gcls = rnd(C, -1, 1), *gpos = rnd(T * C, -1, 1);
    struct dview dg = put(g, B * T, C, 1, 45), dgcls = put_vec(gcls, C, 3);
    struct dview dgpos = put(gpos, T, C, 0, 38), dgemb = put(NULL, B * NP, C, 6, 44);
    ref_tokens_backward(g, B, NP, C, gemb, gcls, gpos);
    REQUIRE_OK(ops_tokens_backward(dev, dg.m, B, NP, C, dgemb.m, dgcls.m, dgpos.m));
    expect_view("tokens backward demb", dgemb, gemb, 0, 1e-7);
    expect_view("tokens backward dcls", dgcls, gcls, TOL, TOL);
    expect_view("tokens backward dpos", dgpos, gpos, TOL, TOL);

    /* linear backward: dx accumulates onto a start value, dw and db accumulate */
    double *gy = rnd(B * NP * C, -1, 1), *gx = rnd(B * NP * KK, -1, 1);
    double *gw = rnd(C * KK, -1, 1), *gb = rnd(C, -1, 1), *gx_new = check_alloc(B * NP * KK);
    struct dview dgy = put(gy, B * NP, C, 2, 38), dgx = put(gx, B * NP, KK, 8, 49);
    struct dview dgw = put(gw, C, KK, 1, 52), dgb = put_vec(gb, C, 0);
    ref_linear_backward(cols, w, gy, B * NP, KK, C, gx_new, gw, gb);
    for (size_t i = 0; i < B * NP * KK; i++)
        gx[i] += gx_new[i];
    REQUIRE_OK(ops_linear_backward(dev, dcols.m, dw.m, dgy.m, B * NP, KK, C, dgx.m, 1, dgw.m,
                                   dgb.m));
    expect_view("linear backward dx", dgx, gx, TOL, TOL);
    expect_view("linear backward dw", dgw, gw, 1e-3, TOL);
    expect_view("linear backward db", dgb, gb, 1e-3, TOL);

    struct dview all[] = {dimg, dcols, dw, db, demb, dcls, dpos, dx, dg, dgcls, dgpos, dgemb,
                          dgy, dgx, dgw, dgb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        drop(all[i]);
    double *host[] = {img, cols, w, b, emb, cls, pos, x, g, gemb, gcls, gpos, gy, gx, gw, gb,
                      gx_new};
    for (size_t i = 0; i < sizeof host / sizeof *host; i++)
        free(host[i]);
}

/* ---- layer norm, bias, GELU, residual ---- */
static void test_layer_ops(void) {
    enum { R = 2 * 197, C = 75 };
    double *x = rnd(R * C, -2, 3), *gamma = rnd(C, 0.5, 1.5), *beta = rnd(C, -1, 1);
    double *y = check_alloc(R * C), *mean = check_alloc(R), *rstd = check_alloc(R);
    ref_layernorm_forward(x, gamma, beta, R, C, 1e-6, y, mean, rstd);
    struct dview dx = put(x, R, C, 13, 80), dgam = put_vec(gamma, C, 1);
    struct dview dbet = put_vec(beta, C, 2), dy = put(NULL, R, C, 3, 77);
    struct dview dmean = put_vec(NULL, R, 4), drstd = put_vec(NULL, R, 5);
    REQUIRE_OK(ops_layernorm_forward(dev, dx.m, dgam.m, dbet.m, R, C, 1e-6f, dy.m, dmean.m,
                                     drstd.m));
    expect_view("layernorm forward", dy, y, TOL, TOL);
    expect_view("layernorm mean", dmean, mean, TOL, TOL);
    expect_view("layernorm rstd", drstd, rstd, TOL, TOL);

    /* backward with the residual stream's accumulation */
    double *g = rnd(R * C, -1, 1), *gx = rnd(R * C, -1, 1), *gx_new = check_alloc(R * C);
    double *ggam = rnd(C, -1, 1), *gbet = rnd(C, -1, 1);
    struct dview dg = put(g, R, C, 0, 76), dgx = put(gx, R, C, 6, 79);
    struct dview dggam = put_vec(ggam, C, 3), dgbet = put_vec(gbet, C, 0);
    ref_layernorm_backward(x, gamma, mean, rstd, g, R, C, gx_new, ggam, gbet);
    for (size_t i = 0; i < R * C; i++)
        gx[i] += gx_new[i];
    REQUIRE_OK(ops_layernorm_backward(dev, dx.m, dgam.m, dmean.m, drstd.m, dg.m, R, C, dgx.m, 1,
                                      dggam.m, dgbet.m));
    expect_view("layernorm backward dx", dgx, gx, TOL, TOL);
    expect_view("layernorm backward dgamma", dggam, ggam, 1e-3, TOL);
    expect_view("layernorm backward dbeta", dgbet, gbet, 1e-3, TOL);

    /* the same inputs give bit-identical parameter gradients on every run */
    double *rep[2] = {check_alloc(C), check_alloc(C)};
    for (int i = 0; i < 2; i++) {
        struct dview zg = put_vec(NULL, C, 0), zb = put_vec(NULL, C, 0);
        REQUIRE_OK(ops_layernorm_backward(dev, dx.m, dgam.m, dmean.m, drstd.m, dg.m, R, C, dgx.m,
                                          1, zg.m, zb.m));
        get("layernorm dgamma repeat", zg, rep[i]);
        drop(zg);
        drop(zb);
    }
    EXPECT(memcmp(rep[0], rep[1], C * sizeof *rep[0]) == 0, "layernorm dgamma differs between "
           "two identical runs");
    free(rep[0]);
    free(rep[1]);

    /* bias add in place and its column sums */
    double *yb = check_alloc(R * C), *db = rnd(C, -1, 1);
    memcpy(yb, x, R * C * sizeof *yb);
    ref_bias_add(yb, beta, R, C);
    ref_bias_backward(g, R, C, db);
    struct dview dyb = put(x, R, C, 2, 81), ddb = put_vec(db, C, 1);
    REQUIRE_OK(ops_bias_add(dev, dyb.m, dbet.m, R, C));
    expect_view("bias add", dyb, yb, TOL, TOL);
    drop(ddb);
    double *db0 = rnd(C, -1, 1);
    memcpy(db, db0, C * sizeof *db);
    ref_bias_backward(g, R, C, db);
    ddb = put_vec(db0, C, 1);
    REQUIRE_OK(ops_bias_backward(dev, dg.m, R, C, ddb.m));
    expect_view("bias backward", ddb, db, 1e-3, TOL);

    /* GELU forward in place, backward in place on dy */
    double *gy = check_alloc(R * C), *gd = check_alloc(R * C);
    ref_gelu_forward(x, R * C, gy);
    ref_gelu_backward(x, g, R * C, gd);
    struct dview dgel = put(x, R, C, 1, 78), dgd = put(g, R, C, 4, 75);
    REQUIRE_OK(ops_gelu_forward(dev, dgel.m, R, C, dgel.m));
    expect_view("gelu forward", dgel, gy, TOL, TOL);
    REQUIRE_OK(ops_gelu_backward(dev, dx.m, dgd.m, R, C, dgd.m));
    expect_view("gelu backward", dgd, gd, TOL, TOL);

    /* residual with drop-path: sample 1 dropped, keep scale 1/(1-0.2) */
    double mask[2] = {1, 0}, *xr = check_alloc(R * C), *gr = check_alloc(R * C);
    memcpy(xr, x, R * C * sizeof *xr);
    ref_residual_add(xr, g, R, C, 197, mask, 1.25);
    ref_residual_backward(g, R, C, 197, mask, 1.25, gr);
    struct dview dres = put(x, R, C, 7, 76), dmask = put_vec(mask, 2, 1);
    struct dview dgr = put(NULL, R, C, 0, 90);
    REQUIRE_OK(ops_residual_add(dev, dres.m, dg.m, R, C, 197, dmask.m, 1.25f));
    expect_view("residual add", dres, xr, TOL, TOL);
    REQUIRE_OK(ops_residual_backward(dev, dg.m, R, C, 197, dmask.m, 1.25f, dgr.m));
    expect_view("residual backward", dgr, gr, TOL, TOL);
    ref_residual_add(xr, g, R, C, 197, NULL, 1.0);
    REQUIRE_OK(ops_residual_add(dev, dres.m, dg.m, R, C, 197, none, 1.0f));
    expect_view("residual add without mask", dres, xr, TOL, TOL);

    struct dview all[] = {dx, dgam, dbet, dy, dmean, drstd, dg, dgx, dggam, dgbet, dyb, ddb,
                          dgel, dgd, dres, dmask, dgr};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        drop(all[i]);
    double *host[] = {x, gamma, beta, y, mean, rstd, g, gx, gx_new, ggam, gbet, yb, db, db0, gy,
                      gd, xr, gr};
    for (size_t i = 0; i < sizeof host / sizeof *host; i++)
        free(host[i]);
}

/* ---- GELU over its whole range, tails included ---- */
static void test_gelu_range(void) {
    enum { N = 2401 };
    double *x = check_alloc(N), *y = check_alloc(N), *d = check_alloc(N), *one = check_alloc(N);
    for (size_t i = 0; i < N; i++) {
        x[i] = (double)(float)(-12.0 + 24.0 * (double)i / (N - 1));
        one[i] = 1.0;
    }
    ref_gelu_forward(x, N, y);
    ref_gelu_backward(x, one, N, d);
    struct dview dx = put(x, 1, N, 1, N), dy = put(NULL, 1, N, 2, N), d1 = put(one, 1, N, 0, N);
    struct dview dd = put(NULL, 1, N, 3, N);
    REQUIRE_OK(ops_gelu_forward(dev, dx.m, 1, N, dy.m));
    REQUIRE_OK(ops_gelu_backward(dev, dx.m, d1.m, 1, N, dd.m));
    double *gy = check_alloc(N), *gd = check_alloc(N);
    get("gelu range", dy, gy);
    get("gelu' range", dd, gd);

    /* float evaluation of exp(-x²/2) alone is good to about (1 + x²/2) ulp in the tails */
    size_t bad = 0;
    for (size_t i = 0; i < N; i++) {
        double bound = 4e-7 * (1.0 + x[i] * x[i]);
        int ok_y = fabs(gy[i] - y[i]) <= bound * fabs(y[i]) + 1e-38;
        /* y' = Φ + x·φ cancels near x = -0.75: bound it by the size of its terms */
        double terms = 0.5 * erfc(-x[i] / sqrt(2.0)) +
                       fabs(x[i]) * exp(-0.5 * x[i] * x[i]) / sqrt(2.0 * M_PI);
        int ok_d = fabs(gd[i] - d[i]) <= bound * terms + 1e-38;
        if ((!ok_y || !ok_d) && bad++ < 5)
            fprintf(stderr, "gelu at x = %.7g: y %.9g want %.9g, y' %.9g want %.9g\n", x[i],
                    gy[i], y[i], gd[i], d[i]);
    }
    EXPECT(bad == 0, "gelu range: %zu of %d points off", bad, N);
    drop(dx);
    drop(dy);
    drop(d1);
    drop(dd);
    free(x);
    free(y);
    free(d);
    free(one);
    free(gy);
    free(gd);
}

/* ---- attention: split, scores, softmax, merge and back ---- */
static void test_attention(void) {
    enum { B = 2, T = 197, H = 2, HD = 64, FULL = 3 * HD, LD = 3 * FULL + 5 };
    size_t nh = (size_t)B * H * T * HD, np = (size_t)B * H * T * T;
    double *qkv = rnd(B * T * 3 * FULL, -1, 1);
    double *q = check_alloc(nh), *k = check_alloc(nh), *v = check_alloc(nh);
    ref_heads_split(qkv, 3 * FULL, FULL, B, T, H, HD, q, k, v);
    struct dview dqkv = put(qkv, B * T, 3 * FULL, 3, LD);
    struct dview dq = put_vec(NULL, nh, 1), dk = put_vec(NULL, nh, 2), dv = put_vec(NULL, nh, 0);
    REQUIRE_OK(ops_heads_split(dev, dqkv.m, FULL, B, T, H, HD, dq.m, dk.m, dv.m));
    expect_view("heads split q", dq, q, 0, 1e-7);
    expect_view("heads split k", dk, k, 0, 1e-7);
    expect_view("heads split v", dv, v, 0, 1e-7);

    /* attention with the ViT scale */
    double scale = 0.125, *p = check_alloc(np), *o = check_alloc(nh);
    ref_attention_forward(q, k, v, B * H, T, HD, scale, p, o);
    struct dview dp = put_vec(NULL, np, 4), dout = put_vec(NULL, nh, 6);
    REQUIRE_OK(ops_attention_forward(dev, dq.m, dk.m, dv.m, B * H, T, HD, (float)scale, dp.m,
                                     dout.m));
    expect_view("attention probs", dp, p, 1e-5, TOL);
    expect_view("attention out", dout, o, TOL, TOL);

    /* merge into the projection input (ld above the width) */
    double *merged = check_alloc(nh);
    ref_heads_merge(o, B, T, H, HD, merged);
    struct dview dmerged = put(NULL, B * T, H * HD, 2, H * HD + 9);
    REQUIRE_OK(ops_heads_merge(dev, dout.m, B, T, H, HD, dmerged.m));
    expect_view("heads merge", dmerged, merged, TOL, TOL);

    /* backward: merge, attention, split */
    double *g = rnd(nh, -1, 1), *gh = check_alloc(nh);
    double *gq = check_alloc(nh), *gk = check_alloc(nh), *gv = check_alloc(nh);
    double *gqkv = check_alloc(B * T * 3 * FULL);
    ref_heads_merge_backward(g, B, T, H, HD, gh);
    ref_attention_backward(q, k, v, p, gh, B * H, T, HD, scale, gq, gk, gv);
    struct dview dg = put(g, B * T, H * HD, 5, H * HD + 3), dgh = put_vec(NULL, nh, 3);
    struct dview dgp = put_vec(NULL, np, 0), dgq = put_vec(NULL, nh, 1);
    struct dview dgk = put_vec(NULL, nh, 2), dgv = put_vec(NULL, nh, 3);
    REQUIRE_OK(ops_heads_merge_backward(dev, dg.m, B, T, H, HD, dgh.m));
    expect_view("heads merge backward", dgh, gh, 0, 1e-7);
    REQUIRE_OK(ops_attention_backward(dev, dq.m, dk.m, dv.m, dp.m, dgh.m, B * H, T, HD,
                                      (float)scale, dgp.m, dgq.m, dgk.m, dgv.m));
    expect_view("attention backward dq", dgq, gq, TOL, 1e-3);
    expect_view("attention backward dk", dgk, gk, TOL, 1e-3);
    expect_view("attention backward dv", dgv, gv, TOL, 1e-3);

    /* the split's backward writes only the used columns of each section */
    ref_heads_split(qkv, 3 * FULL, FULL, B, T, H, HD, q, k, v);
    memcpy(gqkv, qkv, B * T * 3 * FULL * sizeof *gqkv);
    ref_heads_split_backward(gq, gk, gv, 3 * FULL, FULL, B, T, H, HD, gqkv);
    struct dview dgqkv = put(qkv, B * T, 3 * FULL, 1, LD);
    struct dview dgq2 = put_vec(gq, nh, 0), dgk2 = put_vec(gk, nh, 0), dgv2 = put_vec(gv, nh, 0);
    REQUIRE_OK(ops_heads_split_backward(dev, dgq2.m, dgk2.m, dgv2.m, FULL, B, T, H, HD,
                                        dgqkv.m));
    expect_view("heads split backward", dgqkv, gqkv, 0, 1e-7);

    /* a softmax over rows with ld and offsets, out of place */
    enum { SR = 31, SN = 197 };
    double *s = rnd(SR * SN, -4, 4), *sp = check_alloc(SR * SN), *sd = check_alloc(SR * SN);
    double *sg = rnd(SR * SN, -1, 1);
    ref_softmax_forward(s, SR, SN, 0.7, sp);
    ref_softmax_backward(sp, sg, SR, SN, 0.7, sd);
    struct dview ds = put(s, SR, SN, 3, 200), dsp = put(NULL, SR, SN, 1, 199);
    struct dview dsg = put(sg, SR, SN, 2, 201), dsd = put(NULL, SR, SN, 0, 198);
    REQUIRE_OK(ops_softmax_forward(dev, ds.m, SR, SN, 0.7f, dsp.m));
    expect_view("softmax forward", dsp, sp, 1e-6, TOL);
    REQUIRE_OK(ops_softmax_backward(dev, dsp.m, dsg.m, SR, SN, 0.7f, dsd.m));
    expect_view("softmax backward", dsd, sd, 1e-6, TOL);

    struct dview all[] = {dqkv, dq, dk, dv, dp, dout, dmerged, dg, dgh, dgp, dgq, dgk, dgv,
                          dgqkv, dgq2, dgk2, dgv2, ds, dsp, dsg, dsd};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        drop(all[i]);
    double *host[] = {qkv, q, k, v, p, o, merged, g, gh, gq, gk, gv, gqkv, s, sp, sd, sg};
    for (size_t i = 0; i < sizeof host / sizeof *host; i++)
        free(host[i]);
}

/* ---- FFN path gates ---- */
static void test_gates(void) {
    enum { N = 3, RPS = 197, C = 75 };
    size_t rows = N * RPS;
    double logits[2] = {0.3, -0.2}, noise[2 * N] = {2.0, -1.0, -1.5, 1.0, 0.1, 0.2};
    double w[2 * N], soft[2 * N];
    double *a = rnd(rows * C, -1, 1), *b = rnd(rows * C, -1, 1), *out = check_alloc(rows * C);
    /* noise read from the middle block of a [N, 3 blocks, 2] array; weights with ld 4 */
    double wide[N * 6];
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < 6; j++)
            wide[i * 6 + j] = j / 2 == 1 ? noise[2 * i + j % 2] : 100.0 * (double)(j + 1);
    struct dview dl = put_vec(logits, 2, 1), dn = put(wide, N, 6, 3, 6);
    dn.m.offset += 2;
    struct dview dw = put(NULL, N, 2, 0, 4), dsoft = put(NULL, N, 2, 2, 3);
    struct dview da = put(a, rows, C, 4, 79), db = put(b, rows, C, 0, 80);
    struct dview dout = put(NULL, rows, C, 1, 77);
    enum ops_gate_mode modes[] = {OPS_GATE_GUMBEL, OPS_GATE_SHARED, OPS_GATE_TASK, OPS_GATE_BOTH};
    for (size_t mi = 0; mi < 4; mi++) {
        char what[64];
        ref_gate_weights(logits, noise, N, 5.0, modes[mi], w, soft);
        ref_gate_mix_forward(a, b, w, N, RPS, C, out);
        REQUIRE_OK(ops_gate_weights(dev, dl.m, dn.m, N, 5.0f, modes[mi], dw.m, dsoft.m));
        snprintf(what, sizeof what, "gate weights (mode %zu)", mi);
        expect_view(what, dw, w, 1e-6, 1e-6);
        snprintf(what, sizeof what, "gate soft (mode %zu)", mi);
        expect_view(what, dsoft, soft, 1e-6, 1e-6);
        REQUIRE_OK(ops_gate_mix_forward(dev, da.m, db.m, dw.m, N, RPS, C, dout.m));
        snprintf(what, sizeof what, "gate mix (mode %zu)", mi);
        expect_view(what, dout, out, TOL, TOL);
    }

    /* gumbel backward: paths overwritten, logits accumulate */
    double *g = rnd(rows * C, -1, 1), *ga = check_alloc(rows * C), *gb = check_alloc(rows * C);
    double gl[2] = {0.5, -0.25};
    ref_gate_weights(logits, noise, N, 5.0, OPS_GATE_GUMBEL, w, soft);
    struct dview dgl = put_vec(gl, 2, 2);
    ref_gate_mix_backward(a, b, w, soft, g, N, RPS, C, 5.0, OPS_GATE_GUMBEL, ga, gb, gl);
    REQUIRE_OK(ops_gate_weights(dev, dl.m, dn.m, N, 5.0f, OPS_GATE_GUMBEL, dw.m, dsoft.m));
    struct dview dg = put(g, rows, C, 3, 75), dga = put(NULL, rows, C, 0, 76);
    struct dview dgb = put(NULL, rows, C, 2, 78), ddw = put(NULL, N, 2, 1, 5);
    REQUIRE_OK(ops_gate_mix_backward(dev, da.m, db.m, dw.m, dsoft.m, dg.m, N, RPS, C, 5.0f,
                                     OPS_GATE_GUMBEL, dga.m, dgb.m, ddw.m, dgl.m));
    expect_view("gate backward dshared", dga, ga, TOL, TOL);
    expect_view("gate backward dtask", dgb, gb, TOL, TOL);
    expect_view("gate backward dlogits", dgl, gl, 1e-3, TOL);

    struct dview all[] = {dl, dn, dw, dsoft, da, db, dout, dgl, dg, dga, dgb, ddw};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        drop(all[i]);
    double *host[] = {a, b, out, g, ga, gb};
    for (size_t i = 0; i < sizeof host / sizeof *host; i++)
        free(host[i]);
}

/* ---- heads: BN-neck, L2 norm, CosFace, triplet ---- */
static void test_heads(void) {
    enum { N = 6, C = 75, K = 13 };
    double *x = rnd(N * C, -2, 2), *gamma = rnd(C, 0.5, 1.5), *beta = check_alloc(C);
    double *rm = rnd(C, -1, 1), *rv = rnd(C, 0.5, 2), *y = check_alloc(N * C);
    double *mean = check_alloc(C), *rstd = check_alloc(C);
    struct dview dx = put(x, N, C, 3, 80), dgam = put_vec(gamma, C, 1);
    struct dview dbet = put_vec(beta, C, 0), drm = put_vec(rm, C, 2), drv = put_vec(rv, C, 5);
    struct dview dy = put(NULL, N, C, 1, 76), dmean = put_vec(NULL, C, 1);
    struct dview drstd = put_vec(NULL, C, 0);

    /* evaluation first (running statistics untouched), then training */
    ref_bnneck_forward(x, gamma, beta, N, C, 1e-5, 0.1, 0, y, NULL, NULL, rm, rv);
    REQUIRE_OK(ops_bnneck_forward(dev, dx.m, dgam.m, dbet.m, drm.m, drv.m, N, C, 1e-5f, 0.1f, 0,
                                  dy.m, none, none));
    expect_view("bnneck eval", dy, y, TOL, TOL);
    ref_bnneck_forward(x, gamma, beta, N, C, 1e-5, 0.1, 1, y, mean, rstd, rm, rv);
    REQUIRE_OK(ops_bnneck_forward(dev, dx.m, dgam.m, dbet.m, drm.m, drv.m, N, C, 1e-5f, 0.1f, 1,
                                  dy.m, dmean.m, drstd.m));
    expect_view("bnneck train", dy, y, TOL, TOL);
    expect_view("bnneck running mean", drm, rm, TOL, TOL);
    expect_view("bnneck running var", drv, rv, TOL, TOL);
    double *g = rnd(N * C, -1, 1), *gx = check_alloc(N * C), *ggam = rnd(C, -1, 1);
    struct dview dg = put(g, N, C, 0, 77), dgx = put(NULL, N, C, 2, 78);
    struct dview dggam = put_vec(ggam, C, 0);
    double *ggam_want = check_alloc(C), *gx_want = check_alloc(N * C);
    memcpy(ggam_want, ggam, C * sizeof *ggam);
    ref_bnneck_backward(x, gamma, mean, rstd, g, N, C, gx_want, ggam_want);
    REQUIRE_OK(ops_bnneck_backward(dev, dx.m, dgam.m, dmean.m, drstd.m, dg.m, N, C, dgx.m, 0,
                                   dggam.m));
    expect_view("bnneck backward dx", dgx, gx_want, TOL, TOL);
    expect_view("bnneck backward dgamma", dggam, ggam_want, TOL, TOL);

    /* L2 norm forward and backward (accumulating onto 0) */
    double *xn = check_alloc(N * C), *nr = check_alloc(N), *gn = check_alloc(N * C);
    ref_l2norm_forward(x, N, C, xn, nr);
    ref_l2norm_backward(xn, nr, g, N, C, gn);
    struct dview dxn = put(NULL, N, C, 1, 79), dnr = put_vec(NULL, N, 3);
    struct dview dgn = put(NULL, N, C, 0, 75);
    REQUIRE_OK(ops_l2norm_forward(dev, dx.m, N, C, dxn.m, dnr.m));
    expect_view("l2norm forward", dxn, xn, 1e-6, TOL);
    REQUIRE_OK(ops_l2norm_backward(dev, dxn.m, dnr.m, dg.m, N, C, dgn.m, 1));
    expect_view("l2norm backward", dgn, gn, TOL, TOL);

    /* the whole CosFace head; dweight accumulates onto a start value */
    int labels[N] = {3, 0, 12, 3, 7, 1};
    double *cw = rnd(K * C, -1, 1), *gf = check_alloc(N * C), *gw = rnd(K * C, -1, 1);
    struct dview dgw = put(gw, K, C, 3, 77);
    double loss = ref_cosface(x, cw, labels, N, K, C, 30.0, 0.35, 0.5, gf, gw);
    cl_mem dlab;
    REQUIRE_OK(device_alloc(dev, sizeof labels + 8, "labels", &dlab));
    REQUIRE_OK(device_write(dev, dlab, 8, sizeof labels, labels));
    struct ufo_matrix mlab = {dlab, 2, 0};
    struct dview dcw = put(cw, K, C, 4, 81), dgf = put(NULL, N, C, 1, 78);
    struct dview dwork = put_vec(NULL, ops_cosface_work_floats(N, K, C), 5);
    struct dview dloss = put_vec(NULL, 1, 2);
    REQUIRE_OK(ops_cosface(dev, dx.m, dcw.m, mlab, N, K, C, 30.0f, 0.35f, 0.5f, dwork.m,
                           dloss.m, dgf.m, 0, dgw.m));
    expect_view("cosface loss", dloss, &loss, 1e-4, 1e-4);
    expect_view("cosface dfeat", dgf, gf, 1e-4, 1e-3);
    expect_view("cosface dweight", dgw, gw, 1e-4, 1e-3);
    struct dview dcos = {{dwork.m.buf, dwork.m.offset, K}, N, K, dwork.floats};
    struct dview drow = {{dwork.m.buf, dwork.m.offset + 2 * N * K + 2 * N * C + N + 2 * K * C
                          + K, 0}, 1, N, dwork.floats};

    /* a label out of range poisons the loss instead of reading out of bounds */
    int bad = K;
    REQUIRE_OK(device_write(dev, dlab, 8, sizeof bad, &bad));
    REQUIRE_OK(ops_cosface_loss(dev, dcos.m, mlab, N, K, 30.0f, 0.35f, 0.5f, drow.m, dloss.m,
                                dcos.m));
    double bad_loss;
    get("cosface bad label", dloss, &bad_loss);
    EXPECT(isnan(bad_loss), "cosface with label %d of %d classes: loss %g, want NaN", bad, K,
           bad_loss);
    clReleaseMemObject(dlab);

    /* triplet: 3 identities, one of them a single sample; accumulate onto a start value */
    enum { PN = 8 };
    int plab[PN] = {0, 1, 0, 2, 1, 0, 1, 1};
    double *pf = rnd(PN * C, -1, 1), *pg = rnd(PN * C, -1, 1);
    cl_mem dplab;
    REQUIRE_OK(device_alloc(dev, sizeof plab, "labels", &dplab));
    REQUIRE_OK(device_write(dev, dplab, 0, sizeof plab, plab));
    struct dview dpf = put(pf, PN, C, 2, 79), dpg = put(pg, PN, C, 1, 80);
    struct dview dtwork = put_vec(NULL, ops_triplet_work_floats(PN), 3);
    struct dview dtl = put_vec(NULL, 1, 0);
    double tloss = ref_triplet(pf, plab, PN, C, 1.5, pg);
    struct ufo_matrix mplab = {dplab, 0, 0};
    REQUIRE_OK(ops_triplet(dev, dpf.m, mplab, PN, C, 1.5f, dtwork.m, dtl.m, dpg.m, 1));
    expect_view("triplet loss", dtl, &tloss, 1e-5, 1e-4);
    expect_view("triplet dfeat", dpg, pg, 1e-5, 1e-3);
    clReleaseMemObject(dplab);

    struct dview all[] = {dx, dgam, dbet, drm, drv, dy, dmean, drstd, dg, dgx, dggam, dxn, dnr,
                          dgn, dcw, dwork, dloss, dgf, dgw, dpf, dpg, dtwork, dtl};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        drop(all[i]);
    double *host[] = {x, gamma, beta, rm, rv, y, mean, rstd, g, gx, ggam, ggam_want, gx_want,
                      xn, nr, gn, cw, gf, gw, pf, pg};
    for (size_t i = 0; i < sizeof host / sizeof *host; i++)
        free(host[i]);
}

/* ---- SGD, norms and the NaN check ---- */
static void test_optimizer(void) {
    enum { N = 100003 };
    double *w = rnd(N, -1, 1), *g = rnd(N, -1, 1), *v = rnd(N, -0.1, 0.1);
    struct dview dw = put_vec(w, N, 3), dgr = put_vec(g, N, 1), dv = put_vec(v, N, 2);
    struct dview dwork = put_vec(NULL, OPS_REDUCE_FLOATS, 1);

    /* sum of squares */
    double ss = 0, got;
    for (size_t i = 0; i < N; i++)
        ss += (double)(float)g[i] * (float)g[i];
    REQUIRE_OK(ops_sum_squares(dev, dgr.m, N, dwork.m));
    float head;
    REQUIRE_OK(device_read(dev, dwork.m.buf, dwork.m.offset * 4, 4, &head));
    got = head;
    EXPECT(fabs(got - ss) <= 1e-4 * ss, "sum of squares %.8g want %.8g", got, ss);

    /* two steps: one clipped (norm ≈ 182 > 10), one not */
    ref_sgd(w, g, v, N, 0.05, 0.9, 1e-4, 10.0);
    REQUIRE_OK(ops_sgd(dev, dw.m, dgr.m, dv.m, N, 0.05f, 0.9f, 1e-4f, 10.0f, dwork.m));
    ref_sgd(w, g, v, N, 0.05, 0.9, 1e-4, 0.0);
    REQUIRE_OK(ops_sgd(dev, dw.m, dgr.m, dv.m, N, 0.05f, 0.9f, 1e-4f, 0.0f, none));
    expect_view("sgd weights", dw, w, 1e-5, 1e-5);
    expect_view("sgd momentum", dv, v, 1e-5, 1e-5);

    /* the NaN/Inf check: clean, then with three bad values */
    REQUIRE_OK(ops_check_finite(dev, dw.m, N, dwork.m, "weights"));
    float badv[3] = {NAN, INFINITY, -INFINITY};
    REQUIRE_OK(device_write(dev, dw.m.buf, (dw.m.offset + 17) * 4, 4, &badv[0]));
    REQUIRE_OK(device_write(dev, dw.m.buf, (dw.m.offset + 50001) * 4, 4, &badv[1]));
    REQUIRE_OK(device_write(dev, dw.m.buf, (dw.m.offset + N - 1) * 4, 4, &badv[2]));
    ufo_status st = ops_check_finite(dev, dw.m, N, dwork.m, "weights");
    EXPECT(st == UFO_ERR_NUMERIC, "check_finite on 3 bad values: %s", ufo_status_name(st));
    EXPECT(strstr(ufo_last_error(), "3 of 100003") != NULL, "message: %s", ufo_last_error());

    drop(dw);
    drop(dgr);
    drop(dv);
    drop(dwork);
    free(w);
    free(g);
    free(v);
}

/* ---- the multi-tensor SGD step gives ops_sgd's floats bit for bit ---- */
static void test_optimizer_multi(void) {
    /* awkward lengths: empty, shorter than the 64 chunks, not a multiple of them, large */
    enum { T = 6 };
    const size_t len[T] = {0, 5, 64, 1001, 100003, 3};
    struct ops_sgd_tensor t[T];
    size_t total = 7; /* elements before the first tensor */
    for (int e = 0; e < T; e++) {
        t[e] = (struct ops_sgd_tensor){total, len[e], 0.01f * (float)(e + 1),
                                       e % 2 ? 0.0f : 1e-4f};
        total += len[e] + (size_t)e; /* gaps between tensors stay untouched */
    }
    double *w = rnd(total, -1, 1), *g = rnd(total, -3, 3), *v = rnd(total, -0.1, 0.1);
    for (int clipped = 0; clipped < 2; clipped++) {
        float clip = clipped ? 2.0f : 0.0f;
        struct dview aw = put_vec(w, total, 0), ag = put_vec(g, total, 0);
        struct dview av = put_vec(v, total, 0), bw = put_vec(w, total, 0);
        struct dview bg = put_vec(g, total, 0), bv = put_vec(v, total, 0);
        struct dview awork = put_vec(NULL, OPS_REDUCE_FLOATS, 0);
        struct dview bwork = put_vec(NULL, OPS_SGD_WORK_FLOATS(T), 2);
        for (int step = 0; step < 2; step++) {
            for (int e = 0; e < T; e++)
                REQUIRE_OK(ops_sgd(dev, ops_vec(aw.m.buf, t[e].offset),
                                   ops_vec(ag.m.buf, t[e].offset),
                                   ops_vec(av.m.buf, t[e].offset), t[e].n, t[e].lr, 0.9f,
                                   t[e].weight_decay, clip, awork.m));
            REQUIRE_OK(ops_sgd_multi(dev, bw.m, bg.m, bv.m, t, T, 0.9f, clip, bwork.m));
        }
        float *a = malloc(total * sizeof *a), *b = malloc(total * sizeof *b);
        for (int k = 0; k < 2; k++) {
            cl_mem ma = k ? av.m.buf : aw.m.buf, mb = k ? bv.m.buf : bw.m.buf;
            REQUIRE_OK(device_read(dev, ma, 0, total * sizeof *a, a));
            REQUIRE_OK(device_read(dev, mb, 0, total * sizeof *b, b));
            size_t bad = 0, first = 0;
            for (size_t i = 0; i < total; i++)
                if (memcmp(&a[i], &b[i], sizeof *a) != 0 && bad++ == 0) first = i;
            EXPECT(bad == 0, "sgd_multi %s (clip %g): %zu differ from ops_sgd, first [%zu] "
                   "%.9g want %.9g", k ? "momentum" : "weights", (double)clip, bad, first,
                   (double)b[first], (double)a[first]);
        }
        free(a);
        free(b);
        drop(aw); drop(ag); drop(av); drop(bw); drop(bg); drop(bv); drop(awork); drop(bwork);
    }
    free(w);
    free(g);
    free(v);
}

/* ---- NaN and Inf reach the outputs (no fast-math, no masking) ---- */
static void test_nonfinite(void) {
    enum { R = 3, N = 21 };
    double *s = rnd(R * N, -2, 2), *got = check_alloc(R * N);
    s[N + 4] = NAN;      /* row 1 */
    s[2 * N] = INFINITY; /* row 2: softmax gives NaN (inf - inf) */
    struct dview ds = put(s, R, N, 1, N + 2), dp = put(NULL, R, N, 0, N);
    REQUIRE_OK(ops_softmax_forward(dev, ds.m, R, N, 1.0f, dp.m));
    get("softmax with NaN", dp, got);
    int row0_finite = 1, row1_nan = 1;
    for (size_t j = 0; j < N; j++) {
        row0_finite &= isfinite(got[j]);
        row1_nan &= isnan(got[N + j]);
    }
    EXPECT(row0_finite && row1_nan, "softmax: a NaN must fill its own row only");
    REQUIRE_OK(ops_gelu_forward(dev, ds.m, R, N, dp.m));
    get("gelu with NaN", dp, got);
    EXPECT(isnan(got[N + 4]), "gelu(NaN) = %g", got[N + 4]);
    struct dview dw = put_vec(NULL, OPS_REDUCE_FLOATS, 0);
    ufo_status st = ops_check_finite(dev, dp.m, R * N, dw.m, "gelu output");
    EXPECT(st == UFO_ERR_NUMERIC, "check_finite after gelu(NaN): %s", ufo_status_name(st));
    drop(ds);
    drop(dp);
    drop(dw);
    free(s);
    free(got);
}

/* ---- bad arguments come back as errors ---- */
static void test_errors(void) {
    double x[4] = {0};
    struct dview d = put(x, 2, 2, 0, 2);
    struct ufo_matrix narrow = d.m;
    ufo_status st = ops_gelu_forward(dev, narrow, 2, 3, narrow);
    EXPECT(st == UFO_ERR_INVALID, "gelu with ld 2 < 3 columns: %s", ufo_status_name(st));
    EXPECT(strstr(ufo_last_error(), "leading dimension") != NULL, "message: %s",
           ufo_last_error());
    st = ops_im2col(dev, d.m, 1, 3, 30, 30, 16, d.m);
    EXPECT(st == UFO_ERR_INVALID, "im2col of 30x30 in 16-pixel patches: %s",
           ufo_status_name(st));
    st = ops_gate_weights(dev, d.m, none, 1, 0.0f, OPS_GATE_BOTH, d.m, d.m);
    EXPECT(st == UFO_ERR_INVALID, "gate with tau 0: %s", ufo_status_name(st));
    drop(d);
}

int main(void) {
    dev = test_open_device();

    /* both ways of spreading reductions over work-items, whatever this device prefers */
    enum ops_layout layouts[2] = {OPS_LAYOUT_ITEMS, OPS_LAYOUT_GROUPS};
    for (int i = 0; i < 2; i++) {
        printf("layout: %s\n", i == 0 ? "an item per row" : "a work-group per row");
        ops_set_layout(layouts[i]);
        test_embedding();
        test_layer_ops();
        test_gelu_range();
        test_attention();
        test_gates();
        test_heads();
        test_optimizer();
        test_optimizer_multi();
        test_nonfinite();
    }
    ops_set_layout(OPS_LAYOUT_AUTO);
    test_errors();
    ufo_device_close(dev);
    return test_finish("test_ops_device");
}
