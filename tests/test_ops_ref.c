/* Finite-difference checks of every backward in src/ops/ref.c, in double on tiny shapes: for a
 * fixed random output gradient dy, L(x) = Σ dy · f(x), and each analytic input gradient must
 * match the central difference of L. Needs no device. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ref.h"
#include "ops_check.h"

#define FD_STEP 1e-6
#define FD_TOL 1e-6

static int failures;

/* Compare analytic [n] with central differences of loss() in each element of param [n]. */
static void fd_check(const char *what, double *param, size_t n, double (*loss)(void),
                     const double *analytic) {
    double *numeric = check_alloc(n);
    for (size_t i = 0; i < n; i++) {
        double keep = param[i];
        param[i] = keep + FD_STEP;
        double up = loss();
        param[i] = keep - FD_STEP;
        double down = loss();
        param[i] = keep;
        numeric[i] = (up - down) / (2 * FD_STEP);
    }
    if (check_close(what, analytic, numeric, n, FD_TOL, FD_TOL))
        failures++;
    else
        printf("ok   %s (%zu values)\n", what, n);
    free(numeric);
}

static double dot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* ---- tokens ---- */
enum { TB = 2, TP = 3, TC = 5, TT = TP + 1 };
static double t_emb[TB * TP * TC], t_cls[TC], t_pos[TT * TC], t_dy[TB * TT * TC];

static double tokens_loss(void) {
    double x[TB * TT * TC];
    ref_tokens_forward(t_emb, t_cls, t_pos, TB, TP, TC, x);
    return dot(x, t_dy, TB * TT * TC);
}

static void test_tokens(void) {
    double demb[TB * TP * TC], dcls[TC] = {0}, dpos[TT * TC] = {0};
    check_fill(t_emb, TB * TP * TC, -1, 1);
    check_fill(t_cls, TC, -1, 1);
    check_fill(t_pos, TT * TC, -1, 1);
    check_fill(t_dy, TB * TT * TC, -1, 1);
    ref_tokens_backward(t_dy, TB, TP, TC, demb, dcls, dpos);
    fd_check("tokens d/demb", t_emb, TB * TP * TC, tokens_loss, demb);
    fd_check("tokens d/dcls", t_cls, TC, tokens_loss, dcls);
    fd_check("tokens d/dpos", t_pos, TT * TC, tokens_loss, dpos);
}

/* ---- layer norm ---- */
enum { LR = 3, LC = 7 };
static double l_x[LR * LC], l_g[LC], l_b[LC], l_dy[LR * LC];

static double layernorm_loss(void) {
    double y[LR * LC], mean[LR], rstd[LR];
    ref_layernorm_forward(l_x, l_g, l_b, LR, LC, 1e-6, y, mean, rstd);
    return dot(y, l_dy, LR * LC);
}

static void test_layernorm(void) {
    double y[LR * LC], mean[LR], rstd[LR], dx[LR * LC], dg[LC], db[LC];
    check_fill(l_x, LR * LC, -2, 2);
    check_fill(l_g, LC, 0.5, 1.5);
    check_fill(l_b, LC, -1, 1);
    check_fill(l_dy, LR * LC, -1, 1);
    ref_layernorm_forward(l_x, l_g, l_b, LR, LC, 1e-6, y, mean, rstd);

    /* the parameter gradients accumulate: start from 1 and subtract it */
    for (size_t c = 0; c < LC; c++)
        dg[c] = db[c] = 1.0;
    ref_layernorm_backward(l_x, l_g, mean, rstd, l_dy, LR, LC, dx, dg, db);
    for (size_t c = 0; c < LC; c++) {
        dg[c] -= 1.0;
        db[c] -= 1.0;
    }
    fd_check("layernorm d/dx", l_x, LR * LC, layernorm_loss, dx);
    fd_check("layernorm d/dgamma", l_g, LC, layernorm_loss, dg);
    fd_check("layernorm d/dbeta", l_b, LC, layernorm_loss, db);
}

/* ---- linear and bias ---- */
enum { NR = 3, NI = 4, NO = 5 };
static double n_x[NR * NI], n_w[NO * NI], n_b[NO], n_dy[NR * NO];

static double linear_loss(void) {
    double y[NR * NO];
    ref_linear_forward(n_x, n_w, n_b, NR, NI, NO, y);
    return dot(y, n_dy, NR * NO);
}

static double bias_loss(void) {
    double y[NR * NO] = {0};
    ref_bias_add(y, n_b, NR, NO);
    return dot(y, n_dy, NR * NO);
}

static void test_linear(void) {
    double dx[NR * NI], dw[NO * NI] = {0}, db[NO] = {0}, db2[NO] = {0};
    check_fill(n_x, NR * NI, -1, 1);
    check_fill(n_w, NO * NI, -1, 1);
    check_fill(n_b, NO, -1, 1);
    check_fill(n_dy, NR * NO, -1, 1);
    ref_linear_backward(n_x, n_w, n_dy, NR, NI, NO, dx, dw, db);
    fd_check("linear d/dx", n_x, NR * NI, linear_loss, dx);
    fd_check("linear d/dw", n_w, NO * NI, linear_loss, dw);
    fd_check("linear d/db", n_b, NO, linear_loss, db);
    ref_bias_backward(n_dy, NR, NO, db2);
    fd_check("bias d/db", n_b, NO, bias_loss, db2);
}

/* ---- GELU ---- */
enum { GN = 11 };
static double g_x[GN], g_dy[GN];

static double gelu_loss(void) {
    double y[GN];
    ref_gelu_forward(g_x, GN, y);
    return dot(y, g_dy, GN);
}

static void test_gelu(void) {
    double dx[GN];
    check_fill(g_x, GN, -4, 4);
    check_fill(g_dy, GN, -1, 1);
    ref_gelu_backward(g_x, g_dy, GN, dx);
    fd_check("gelu d/dx", g_x, GN, gelu_loss, dx);

    /* hand-computed values: gelu(1) = 0.8413447460685429, gelu(-1) = -0.15865525393145707 */
    double x[2] = {1, -1}, y[2], want[2] = {0.8413447460685429, -0.15865525393145707};
    ref_gelu_forward(x, 2, y);
    if (check_close("gelu values", y, want, 2, 1e-15, 0))
        failures++;
}

/* ---- softmax and attention ---- */
enum { SR = 3, SN = 5, AH = 2, AT = 4, AD = 3 };
static double s_s[SR * SN], s_dy[SR * SN];
static double a_q[AH * AT * AD], a_k[AH * AT * AD], a_v[AH * AT * AD], a_dy[AH * AT * AD];

static double softmax_loss(void) {
    double p[SR * SN];
    ref_softmax_forward(s_s, SR, SN, 0.7, p);
    return dot(p, s_dy, SR * SN);
}

static double attention_loss(void) {
    double p[AH * AT * AT], o[AH * AT * AD];
    ref_attention_forward(a_q, a_k, a_v, AH, AT, AD, 0.6, p, o);
    return dot(o, a_dy, AH * AT * AD);
}

static void test_softmax_attention(void) {
    double p[SR * SN], ds[SR * SN];
    check_fill(s_s, SR * SN, -2, 2);
    check_fill(s_dy, SR * SN, -1, 1);
    ref_softmax_forward(s_s, SR, SN, 0.7, p);
    ref_softmax_backward(p, s_dy, SR, SN, 0.7, ds);
    fd_check("softmax d/ds", s_s, SR * SN, softmax_loss, ds);

    double ap[AH * AT * AT], o[AH * AT * AD];
    double dq[AH * AT * AD], dk[AH * AT * AD], dv[AH * AT * AD];
    check_fill(a_q, AH * AT * AD, -1, 1);
    check_fill(a_k, AH * AT * AD, -1, 1);
    check_fill(a_v, AH * AT * AD, -1, 1);
    check_fill(a_dy, AH * AT * AD, -1, 1);
    ref_attention_forward(a_q, a_k, a_v, AH, AT, AD, 0.6, ap, o);
    ref_attention_backward(a_q, a_k, a_v, ap, a_dy, AH, AT, AD, 0.6, dq, dk, dv);
    fd_check("attention d/dq", a_q, AH * AT * AD, attention_loss, dq);
    fd_check("attention d/dk", a_k, AH * AT * AD, attention_loss, dk);
    fd_check("attention d/dv", a_v, AH * AT * AD, attention_loss, dv);
}

/* ---- head split and merge (pure copies: the backward must be the transpose) ---- */
enum { HB = 2, HT = 3, HH = 2, HD = 2, HS = 5, HL = 17 };
static double h_qkv[HB * HT * HL], h_dq[HB * HH * HT * HD], h_dk[HB * HH * HT * HD],
    h_dv[HB * HH * HT * HD], h_o[HB * HH * HT * HD], h_dout[HB * HT * HH * HD];

static double split_loss(void) {
    double q[HB * HH * HT * HD], k[HB * HH * HT * HD], v[HB * HH * HT * HD];
    ref_heads_split(h_qkv, HL, HS, HB, HT, HH, HD, q, k, v);
    size_t n = HB * HH * HT * HD;
    return dot(q, h_dq, n) + dot(k, h_dk, n) + dot(v, h_dv, n);
}

static double merge_loss(void) {
    double out[HB * HT * HH * HD];
    ref_heads_merge(h_o, HB, HT, HH, HD, out);
    return dot(out, h_dout, HB * HT * HH * HD);
}

static void test_heads(void) {
    size_t n = HB * HH * HT * HD;
    double dqkv[HB * HT * HL] = {0}, dheads[HB * HH * HT * HD];
    check_fill(h_qkv, HB * HT * HL, -1, 1);
    check_fill(h_dq, n, -1, 1);
    check_fill(h_dk, n, -1, 1);
    check_fill(h_dv, n, -1, 1);
    check_fill(h_o, n, -1, 1);
    check_fill(h_dout, n, -1, 1);
    ref_heads_split_backward(h_dq, h_dk, h_dv, HL, HS, HB, HT, HH, HD, dqkv);
    fd_check("heads split d/dqkv", h_qkv, HB * HT * HL, split_loss, dqkv);
    ref_heads_merge_backward(h_dout, HB, HT, HH, HD, dheads);
    fd_check("heads merge d/do", h_o, n, merge_loss, dheads);
}

/* ---- residual with drop-path ---- */
enum { RR = 6, RC = 3, RS = 2 };
static double r_x[RR * RC], r_y[RR * RC], r_dx[RR * RC], r_mask[RR / RS] = {1, 0, 1};

static double residual_loss(void) {
    double x[RR * RC];
    memcpy(x, r_x, sizeof x);
    ref_residual_add(x, r_y, RR, RC, RS, r_mask, 1.25);
    return dot(x, r_dx, RR * RC);
}

static void test_residual(void) {
    double dy[RR * RC];
    check_fill(r_x, RR * RC, -1, 1);
    check_fill(r_y, RR * RC, -1, 1);
    check_fill(r_dx, RR * RC, -1, 1);
    ref_residual_backward(r_dx, RR, RC, RS, r_mask, 1.25, dy);
    fd_check("residual d/dy", r_y, RR * RC, residual_loss, dy);
    fd_check("residual d/dx", r_x, RR * RC, residual_loss, r_dx);
}

/* ---- gates: the logits gradient is that of the soft mixture (straight-through) ---- */
enum { QN = 3, QR = 2, QC = 3 };
static double q_a[QN * QR * QC], q_b[QN * QR * QC], q_dy[QN * QR * QC], q_logits[2],
    q_noise[QN * 2];

static double gate_loss_soft(void) {
    double w[QN * 2], soft[QN * 2], out[QN * QR * QC];
    ref_gate_weights(q_logits, q_noise, QN, 5.0, OPS_GATE_GUMBEL, w, soft);
    ref_gate_mix_forward(q_a, q_b, soft, QN, QR, QC, out);
    return dot(out, q_dy, QN * QR * QC);
}

static double gate_loss_hard(void) {
    double w[QN * 2], soft[QN * 2], out[QN * QR * QC];
    ref_gate_weights(q_logits, q_noise, QN, 5.0, OPS_GATE_GUMBEL, w, soft);
    ref_gate_mix_forward(q_a, q_b, w, QN, QR, QC, out);
    return dot(out, q_dy, QN * QR * QC);
}

static double gate_loss_both(void) {
    double w[QN * 2], soft[QN * 2], out[QN * QR * QC];
    ref_gate_weights(q_logits, NULL, QN, 2.0, OPS_GATE_BOTH, w, soft);
    ref_gate_mix_forward(q_a, q_b, w, QN, QR, QC, out);
    return dot(out, q_dy, QN * QR * QC);
}

static void test_gates(void) {
    size_t n = QN * QR * QC;
    double w[QN * 2], soft[QN * 2], da[QN * QR * QC], db[QN * QR * QC], dl[2] = {0};
    check_fill(q_a, n, -1, 1);
    check_fill(q_b, n, -1, 1);
    check_fill(q_dy, n, -1, 1);
    check_fill(q_logits, 2, -1, 1);
    /* noise chosen so that both paths win for some sample */
    q_noise[0] = 3.0, q_noise[1] = -3.0, q_noise[2] = -3.0, q_noise[3] = 3.0;
    q_noise[4] = 0.3, q_noise[5] = -0.1;
    ref_gate_weights(q_logits, q_noise, QN, 5.0, OPS_GATE_GUMBEL, w, soft);
    if (w[0] != 1 || w[1] != 0 || w[2] != 0 || w[3] != 1) {
        fprintf(stderr, "gate weights: sample 0 (%g, %g) want (1, 0), sample 1 (%g, %g) want "
                "(0, 1)\n", w[0], w[1], w[2], w[3]);
        failures++;
    }
    ref_gate_mix_backward(q_a, q_b, w, soft, q_dy, QN, QR, QC, 5.0, OPS_GATE_GUMBEL, da, db, dl);
    fd_check("gate d/dshared (hard)", q_a, n, gate_loss_hard, da);
    fd_check("gate d/dtask (hard)", q_b, n, gate_loss_hard, db);
    fd_check("gate d/dlogits (straight-through)", q_logits, 2, gate_loss_soft, dl);

    double dl2[2] = {0};
    ref_gate_weights(q_logits, NULL, QN, 2.0, OPS_GATE_BOTH, w, soft);
    ref_gate_mix_backward(q_a, q_b, w, soft, q_dy, QN, QR, QC, 2.0, OPS_GATE_BOTH, da, db, dl2);
    fd_check("gate both d/dshared", q_a, n, gate_loss_both, da);
    fd_check("gate both d/dlogits", q_logits, 2, gate_loss_both, dl2);
}

/* ---- BN-neck ---- */
enum { BN = 5, BC = 4 };
static double b_x[BN * BC], b_g[BC], b_b[BC], b_dy[BN * BC];

static double bnneck_loss(void) {
    double y[BN * BC], rm[BC] = {0}, rv[BC] = {0};
    ref_bnneck_forward(b_x, b_g, b_b, BN, BC, 1e-5, 0.1, 1, y, NULL, NULL, rm, rv);
    return dot(y, b_dy, BN * BC);
}

static void test_bnneck(void) {
    double y[BN * BC], mean[BC], rstd[BC], dx[BN * BC], dg[BC] = {0};
    double rm[BC], rv[BC], rm0[BC], rv0[BC];
    check_fill(b_x, BN * BC, -2, 2);
    check_fill(b_g, BC, 0.5, 1.5);
    check_fill(b_b, BC, -1, 1);
    check_fill(b_dy, BN * BC, -1, 1);
    check_fill(rm, BC, -1, 1);
    check_fill(rv, BC, 0.5, 2);
    memcpy(rm0, rm, sizeof rm);
    memcpy(rv0, rv, sizeof rv);
    ref_bnneck_forward(b_x, b_g, b_b, BN, BC, 1e-5, 0.1, 1, y, mean, rstd, rm, rv);
    ref_bnneck_backward(b_x, b_g, mean, rstd, b_dy, BN, BC, dx, dg);
    fd_check("bnneck d/dx", b_x, BN * BC, bnneck_loss, dx);
    fd_check("bnneck d/dgamma", b_g, BC, bnneck_loss, dg);

    /* running statistics by hand for column 0: unbiased variance */
    double mu = 0, var = 0;
    for (size_t i = 0; i < BN; i++)
        mu += b_x[i * BC] / BN;
    for (size_t i = 0; i < BN; i++)
        var += (b_x[i * BC] - mu) * (b_x[i * BC] - mu) / (BN - 1);
    double want[2] = {0.9 * rm0[0] + 0.1 * mu, 0.9 * rv0[0] + 0.1 * var}, got[2] = {rm[0], rv[0]};
    if (check_close("bnneck running stats", got, want, 2, 1e-14, 1e-12))
        failures++;
}

/* ---- L2 norm and CosFace ---- */
enum { CN = 4, CK = 3, CC = 5 };
static double c_x[CN * CC], c_dy[CN * CC], c_w[CK * CC];
static const int c_labels[CN] = {2, 0, 1, 2};

static double l2norm_loss(void) {
    double y[CN * CC], nr[CN];
    ref_l2norm_forward(c_x, CN, CC, y, nr);
    return dot(y, c_dy, CN * CC);
}

static double cosface_loss(void) {
    double df[CN * CC], dw[CK * CC] = {0};
    return ref_cosface(c_x, c_w, c_labels, CN, CK, CC, 30.0, 0.35, 0.7, df, dw);
}

static void test_cosface(void) {
    double y[CN * CC], nr[CN], dx[CN * CC], df[CN * CC], dw[CK * CC] = {0};
    check_fill(c_x, CN * CC, -1, 1);
    check_fill(c_dy, CN * CC, -1, 1);
    check_fill(c_w, CK * CC, -1, 1);
    ref_l2norm_forward(c_x, CN, CC, y, nr);
    ref_l2norm_backward(y, nr, c_dy, CN, CC, dx);
    fd_check("l2norm d/dx", c_x, CN * CC, l2norm_loss, dx);
    ref_cosface(c_x, c_w, c_labels, CN, CK, CC, 30.0, 0.35, 0.7, df, dw);
    fd_check("cosface d/dfeat", c_x, CN * CC, cosface_loss, df);
    fd_check("cosface d/dweight", c_w, CK * CC, cosface_loss, dw);

    /* one row by hand: cos = (0.5, 0.2), label 0, s = 10, m = 0.1: logits (4, 2) */
    double cos[2] = {0.5, 0.2}, dcos[2];
    int label = 0;
    double loss = ref_cosface_loss(cos, &label, 1, 2, 10.0, 0.1, 1.0, dcos);
    double want = log(1.0 + exp(-2.0)), got = loss;
    if (check_close("cosface hand value", &got, &want, 1, 1e-14, 1e-12))
        failures++;
}

/* ---- triplet ---- */
enum { PN = 6, PC = 4 };
static double p_x[PN * PC];
static const int p_labels[PN] = {0, 1, 0, 2, 1, 0};

static double triplet_loss(void) {
    double df[PN * PC] = {0};
    return ref_triplet(p_x, p_labels, PN, PC, 0.8, df);
}

static void test_triplet(void) {
    double df[PN * PC];
    check_fill(p_x, PN * PC, -1, 1);
    for (size_t i = 0; i < PN * PC; i++)
        df[i] = 1.0;
    ref_triplet(p_x, p_labels, PN, PC, 0.8, df);
    for (size_t i = 0; i < PN * PC; i++)
        df[i] -= 1.0;
    fd_check("triplet d/dfeat", p_x, PN * PC, triplet_loss, df);

    /* by hand on a line: points 0, 1 (label 0) and 3 (label 1) */
    double x[3] = {0, 1, 3}, g[3] = {0};
    int lab[3] = {0, 0, 1};
    double got = ref_triplet(x, lab, 3, 1, 1.0, g);
    /* anchor 0: d_ap 1, d_an 3; anchor 1: d_ap 1, d_an 2; anchor 2 has no positive: 0 */
    double want = (log1p(exp(-2.0)) + log1p(exp(-1.0))) / 3.0;
    if (check_close("triplet hand value", &got, &want, 1, 1e-12, 1e-12))
        failures++;
}

/* ---- SGD by hand ---- */
static void test_sgd(void) {
    double w[2] = {1.0, -2.0}, g[2] = {3.0, 4.0}, v[2] = {0.5, 0.0};
    /* |g| = 5, clip 1 -> g' = g / (5 + 1e-6) + 0.1·w */
    ref_sgd(w, g, v, 2, 0.1, 0.9, 0.1, 1.0);
    double c = 1.0 / (5.0 + 1e-6);
    double v0 = 0.9 * 0.5 + 3.0 * c + 0.1, v1 = 4.0 * c - 0.2;
    double want[4] = {1.0 - 0.1 * v0, -2.0 - 0.1 * v1, v0, v1}, got[4] = {w[0], w[1], v[0], v[1]};
    if (check_close("sgd hand value", got, want, 4, 1e-14, 1e-12))
        failures++;
}

int main(void) {
    test_tokens();
    test_layernorm();
    test_linear();
    test_gelu();
    test_softmax_attention();
    test_heads();
    test_residual();
    test_gates();
    test_bnneck();
    test_cosface();
    test_triplet();
    test_sgd();
    if (failures) {
        fprintf(stderr, "%d checks failed\n", failures);
        return 1;
    }
    printf("all reference gradients match finite differences\n");
    return 0;
}
