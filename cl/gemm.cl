/* ufo's own GEMM: C = alpha · op(A) · op(B) + beta · C, row-major, strided-batched over
 * dim 2. Three kernels, grown in that order; the device settings (own_kernel,
 * own_kernel_batched) pick one per shape class:
 *
 *   gemm_nn      register-blocked only: each work-item streams a whole k-long panel of A
 *                and B. The reference the others are checked against; good at small k.
 *   gemm_kb      gemm_nn K-blocked (-D KB) with work-group reuse, two vectors per row.
 *   gemm_packed  gemm_kb's loop over A and B packed into panels by `pack`: sequential reads
 *                whatever the transposes and leading dimensions.
 *
 * Each work-item computes TM rows × VW (or NV·VW) columns of C, the accumulators held in
 * named vector registers c0..c7, d0..d7 (PoCL keeps a loop-indexed private array in memory),
 * columns on work dimension 0 so neighbouring work-items read neighbouring memory. gemm_nn
 * and gemm_kb never see a transposed B: the host transposes it into the engine's scratch
 * buffer first.
 *
 * Measured on 2 cores, PoCL 3.1, shared machine (bench/gemm --quick --no-clblast --repeat 5,
 * own/OpenBLAS medians of interleaved rounds; single-thread CPU-time figures in cpu.ini):
 * gemm_nn fell to 0.12-0.43 of OpenBLAS at widths 384/768 and on dYᵀ·X (2 threads);
 * gemm_packed (TM 8, 2 × 16 columns, KB 256, work-groups 2 × 8) reaches 0.69-0.91 per
 * thread on every linear shape class, 0.84-0.97 on X·Wᵀ and dY·W with A read in place
 * (A_DIRECT). Batched attention heads: gemm_kb, 0.4-0.9 per thread. 2-thread figures and
 * why they swing with the machine's load: cpu.ini.
 *
 * Options: -D TM=1..8 rows per work-item, -D VW=4|8|16 columns per vector,
 *          -D TRANS_A when A is stored k × m (op(A) = Aᵀ; gemm_nn, gemm_kb,
 *          gemm_packed with A_DIRECT),
 *          -D KB, -D NV (gemm_kb, gemm_packed), -D A_DIRECT (gemm_packed),
 *          -D W, -D K_MAJOR (pack).
 */
#ifndef TM
#define TM 8
#endif
#ifndef VW
#define VW 8
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define floatV CAT(float, VW)
#define VLOAD CAT(vload, VW)
#define VSTORE CAT(vstore, VW)

/* IFr(x) expands to x when the tile has more than r rows */
#if TM > 1
#define IF1(x) x
#else
#define IF1(x)
#endif
#if TM > 2
#define IF2(x) x
#else
#define IF2(x)
#endif
#if TM > 3
#define IF3(x) x
#else
#define IF3(x)
#endif
#if TM > 4
#define IF4(x) x
#else
#define IF4(x)
#endif
#if TM > 5
#define IF5(x) x
#else
#define IF5(x)
#endif
#if TM > 6
#define IF6(x) x
#else
#define IF6(x)
#endif
#if TM > 7
#define IF7(x) x
#else
#define IF7(x)
#endif

#ifdef TRANS_A
#define A_AT(i, k) a[(size_t)(k) * lda + (i)]
#else
#define A_AT(i, k) a[(size_t)(i) * lda + (k)]
#endif

/* One row of the tile: accumulate, then write back with alpha/beta (beta 0 never reads C). */
#define ROW_FMA(r) CAT(c, r) = fma((floatV)(A_AT(i + r, k)), bv, CAT(c, r));
#define ROW_STORE(r)                                                                   \
    {                                                                                  \
        __global float *cp = c + (size_t)(i + r) * ldc + j;                            \
        floatV out = alpha * CAT(c, r);                                                \
        if (beta != 0.0f) out += beta * VLOAD(0, cp);                                  \
        VSTORE(out, 0, cp);                                                            \
    }

__kernel void gemm_nn(const int m, const int n, const int k_total, const float alpha,
                      __global const float *restrict a_buf, const ulong a_off, const int lda,
                      const ulong a_stride,
                      __global const float *restrict b_buf, const ulong b_off, const int ldb,
                      const ulong b_stride, const float beta,
                      __global float *restrict c_buf, const ulong c_off, const int ldc,
                      const ulong c_stride) {
    const int j = (int)get_global_id(0) * VW;
    const int i = (int)get_global_id(1) * TM;
    const size_t batch = get_global_id(2);
    if (i >= m || j >= n) return;
    __global const float *a = a_buf + a_off + batch * a_stride;
    __global const float *b = b_buf + b_off + batch * b_stride;
    __global float *c = c_buf + c_off + batch * c_stride;

    if (i + TM <= m && j + VW <= n) {
        /* a whole tile: vector loads and stores */
        floatV c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
        for (int k = 0; k < k_total; k++) {
            const floatV bv = VLOAD(0, b + (size_t)k * ldb + j);
            ROW_FMA(0)
#if TM > 1
            ROW_FMA(1)
#endif
#if TM > 2
            ROW_FMA(2)
#endif
#if TM > 3
            ROW_FMA(3)
#endif
#if TM > 4
            ROW_FMA(4)
#endif
#if TM > 5
            ROW_FMA(5)
#endif
#if TM > 6
            ROW_FMA(6)
#endif
#if TM > 7
            ROW_FMA(7)
#endif
        }
        ROW_STORE(0)
#if TM > 1
        ROW_STORE(1)
#endif
#if TM > 2
        ROW_STORE(2)
#endif
#if TM > 3
        ROW_STORE(3)
#endif
#if TM > 4
        ROW_STORE(4)
#endif
#if TM > 5
        ROW_STORE(5)
#endif
#if TM > 6
        ROW_STORE(6)
#endif
#if TM > 7
        ROW_STORE(7)
#endif
        return;
    }

    /* a tile cut by the matrix edge: one element at a time */
    for (int r = i; r < min(i + TM, m); r++)
        for (int col = j; col < min(j + VW, n); col++) {
            float acc = 0.0f;
            for (int k = 0; k < k_total; k++) acc = fma(A_AT(r, k), b[(size_t)k * ldb + col], acc);
            __global float *cp = c + (size_t)r * ldc + col;
            *cp = beta != 0.0f ? alpha * acc + beta * *cp : alpha * acc;
        }
}

/* The same product, K-blocked: a work-group of WG0 × WG1 work-items walks k in blocks of KB
 * with a barrier after each block, so on PoCL, which runs a group's work-items one after
 * another between barriers, the group's KB-deep slices of A and B are read from cache by
 * every work-item instead of each streaming its own k-long panel. The accumulators survive
 * the barriers in PoCL's per-work-item context (stored and reloaded once per block).
 *
 * A work-item computes TM rows × NV·VW columns: NV = 2 keeps two vectors per row (c and d),
 * twice the FMAs per broadcast of A, which AVX-512 needs to keep both FMA ports busy.
 *
 * Edges: a tile cut by the matrix edge is shifted back inside it (rows m - TM.., columns
 * n - NV·VW..), computed whole and stored only where it is its own; only a matrix smaller
 * than one tile takes the element-wise path. Every work-item reaches every barrier.
 *
 * Options as gemm_nn, plus -D KB=k block depth and -D NV=1|2. Launch with a local size. */
#ifndef KB
#define KB 256
#endif
#ifndef NV
#define NV 1
#endif
#define TN (NV * VW)

#if NV == 2
#define IFD(x) x
#else
#define IFD(x)
#endif

/* One row: FMAs into c_r (and d_r), then the store of its own columns. */
#define KB_FMA(r)                                                                      \
    {                                                                                  \
        const floatV av = (floatV)(A_AT(i + r, k));                                    \
        CAT(c, r) = fma(av, bv, CAT(c, r));                                            \
        IFD(CAT(d, r) = fma(av, bw, CAT(d, r));)                                       \
    }
#define KB_STORE_VEC(acc, col)                                                         \
    {                                                                                  \
        __global float *cp = c + (size_t)(ii + r_) * ldc + (col);                      \
        floatV out = alpha * (acc);                                                    \
        if ((col) >= j0) {                                                             \
            if (beta != 0.0f) out += beta * VLOAD(0, cp);                              \
            VSTORE(out, 0, cp);                                                        \
        } else {                                                                       \
            float vals[VW];                                                            \
            VSTORE(out, 0, vals);                                                      \
            for (int q = max(j0 - (col), 0); q < VW; q++)                              \
                cp[q] = beta != 0.0f ? vals[q] + beta * cp[q] : vals[q];               \
        }                                                                              \
    }
#define KB_STORE(r)                                                                    \
    if (ii + r >= i0) {                                                                \
        const int r_ = r;                                                              \
        if (jj + VW > j0) KB_STORE_VEC(CAT(c, r), jj)                                  \
        IFD(KB_STORE_VEC(CAT(d, r), jj + VW))                                          \
    }

/* gemm_packed's row r: A's value from the packed panel, the store guarded by the edges. */
#if defined(A_DIRECT) && defined(TRANS_A)
#define PK_A(r) ak[CAT(row, r)]
#elif defined(A_DIRECT)
#define PK_A(r) CAT(ar, r)[k]
#else
#define PK_A(r) ak[r]
#endif
#define PK_FMA(r)                                                                      \
    {                                                                                  \
        const floatV av = (floatV)(PK_A(r));                                           \
        CAT(c, r) = fma(av, bv, CAT(c, r));                                            \
        IFD(CAT(d, r) = fma(av, bw, CAT(d, r));)                                       \
    }
#define PK_STORE_VEC(acc, col)                                                         \
    {                                                                                  \
        __global float *cp = c + (size_t)(i0 + r_) * ldc + (col);                      \
        floatV out = alpha * (acc);                                                    \
        if ((col) + VW <= n) {                                                         \
            if (beta != 0.0f) out += beta * VLOAD(0, cp);                              \
            VSTORE(out, 0, cp);                                                        \
        } else {                                                                       \
            float vals[VW];                                                            \
            VSTORE(out, 0, vals);                                                      \
            for (int q = 0; q < n - (col); q++)                                        \
                cp[q] = beta != 0.0f ? vals[q] + beta * cp[q] : vals[q];               \
        }                                                                              \
    }
#define PK_STORE(r)                                                                    \
    if (i0 + r < m) {                                                                  \
        const int r_ = r;                                                              \
        PK_STORE_VEC(CAT(c, r), j0)                                                    \
        IFD(if (j0 + VW < n) PK_STORE_VEC(CAT(d, r), j0 + VW))                         \
    }

__kernel void gemm_kb(const int m, const int n, const int k_total, const float alpha,
                      __global const float *restrict a_buf, const ulong a_off, const int lda,
                      const ulong a_stride,
                      __global const float *restrict b_buf, const ulong b_off, const int ldb,
                      const ulong b_stride, const float beta,
                      __global float *restrict c_buf, const ulong c_off, const int ldc,
                      const ulong c_stride) {
    const int j0 = (int)get_global_id(0) * TN;
    const int i0 = (int)get_global_id(1) * TM;
    const size_t batch = get_global_id(2);
    __global const float *a = a_buf + a_off + batch * a_stride;
    __global const float *b = b_buf + b_off + batch * b_stride;
    __global float *c = c_buf + c_off + batch * c_stride;
    /* the tile this work-item computes: its own, or shifted back inside the matrix */
    const int inside = i0 < m && j0 < n && m >= TM && n >= TN;
    const int ii = min(i0, m - TM), jj = min(j0, n - TN);
    const int i = ii; /* KB_FMA reads rows i + r */

    floatV c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
#if NV == 2
    floatV d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0, d6 = 0, d7 = 0;
#endif
    for (int k0 = 0; k0 < k_total; k0 += KB) {
        if (inside) {
            const int k_end = min(k0 + KB, k_total);
            for (int k = k0; k < k_end; k++) {
                const floatV bv = VLOAD(0, b + (size_t)k * ldb + jj);
                IFD(const floatV bw = VLOAD(0, b + (size_t)k * ldb + jj + VW);)
                KB_FMA(0) IF1(KB_FMA(1)) IF2(KB_FMA(2)) IF3(KB_FMA(3)) IF4(KB_FMA(4))
                IF5(KB_FMA(5)) IF6(KB_FMA(6)) IF7(KB_FMA(7))
            }
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
    }

    if (inside) {
        KB_STORE(0) IF1(KB_STORE(1)) IF2(KB_STORE(2)) IF3(KB_STORE(3)) IF4(KB_STORE(4))
        IF5(KB_STORE(5)) IF6(KB_STORE(6)) IF7(KB_STORE(7))
        return;
    }
    if (i0 >= m || j0 >= n) return;

    /* a matrix smaller than one tile: one element at a time */
    for (int r = i0; r < min(i0 + TM, m); r++)
        for (int col = j0; col < min(j0 + TN, n); col++) {
            float acc = 0.0f;
            for (int k = 0; k < k_total; k++) acc = fma(A_AT(r, k), b[(size_t)k * ldb + col], acc);
            __global float *cp = c + (size_t)r * ldc + col;
            *cp = beta != 0.0f ? alpha * acc + beta * *cp : alpha * acc;
        }
}

/* The same product from packed operands (the `pack` kernel below): A as panels of TM rows,
 * each k × TM, and B as panels of TN = NV·VW columns, each k × TN, zero-padded past the
 * matrix edge. Every work-item then reads two sequential streams whatever the transposes and
 * leading dimensions were (the prefetchers follow them; a long stride defeats them), and
 * computes a whole tile; only the store looks at the edges. K-blocked as gemm_kb.
 *
 * -D A_DIRECT reads A in place instead (a_off, lda; TRANS_A when it is stored k × m), from
 * row pointers set up once: packing A costs a pass over it for every 2·n FLOPs per element,
 * a quarter to a third of the time at n = 192, while eight row streams read in place keep
 * pace with the panel (per thread 0.75-0.79 → 0.84-0.97 of OpenBLAS on X·Wᵀ and dY·W). A
 * transposed A (dYᵀ·X) read in place is one 32-byte piece per lda-long stride: no faster
 * than its pack, so the settings (own_pack_a) still pack that one.
 *
 * Options as gemm_kb; TRANS_A only with A_DIRECT (packing absorbs it). Launch with a local
 * size. */
__kernel void gemm_packed(const int m, const int n, const int k_total, const float alpha,
                          __global const float *restrict ap_buf, const ulong a_off,
                          const int lda, const ulong a_stride,
                          __global const float *restrict bp_buf, const ulong bp_off,
                          const ulong b_stride,
                          const float beta, __global float *restrict c_buf, const ulong c_off,
                          const int ldc, const ulong c_stride) {
    const int j0 = (int)get_global_id(0) * TN;
    const int i0 = (int)get_global_id(1) * TM;
    const size_t batch = get_global_id(2);
    const int inside = i0 < m && j0 < n;
#ifdef A_DIRECT
    /* A unpacked, element (i, k) at A_AT(i, k); rows past m read row m - 1, never stored */
    __global const float *a = ap_buf + a_off + batch * a_stride;
#define PK_ROW(r) const int CAT(row, r) = min(i0 + r, m - 1);                             \
    __global const float *CAT(ar, r) = a + (size_t)CAT(row, r) * lda;
    PK_ROW(0) IF1(PK_ROW(1)) IF2(PK_ROW(2)) IF3(PK_ROW(3)) IF4(PK_ROW(4)) IF5(PK_ROW(5))
    IF6(PK_ROW(6)) IF7(PK_ROW(7))
#else
    __global const float *ap = ap_buf + batch * a_stride + (size_t)(i0 / TM) * k_total * TM;
#endif
    __global const float *bp = bp_buf + bp_off + batch * b_stride +
                               (size_t)(j0 / TN) * k_total * TN;
    __global float *c = c_buf + c_off + batch * c_stride;

    floatV c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
#if NV == 2
    floatV d0 = 0, d1 = 0, d2 = 0, d3 = 0, d4 = 0, d5 = 0, d6 = 0, d7 = 0;
#endif
    for (int k0 = 0; k0 < k_total; k0 += KB) {
        if (inside) {
            const int k_end = min(k0 + KB, k_total);
            for (int k = k0; k < k_end; k++) {
                const floatV bv = VLOAD(0, bp + (size_t)k * TN);
                IFD(const floatV bw = VLOAD(0, bp + (size_t)k * TN + VW);)
#if defined(A_DIRECT) && defined(TRANS_A)
                __global const float *ak = a + (size_t)k * lda;
#elif !defined(A_DIRECT)
                __global const float *ak = ap + (size_t)k * TM;
#endif
                PK_FMA(0) IF1(PK_FMA(1)) IF2(PK_FMA(2)) IF3(PK_FMA(3)) IF4(PK_FMA(4))
                IF5(PK_FMA(5)) IF6(PK_FMA(6)) IF7(PK_FMA(7))
            }
        }
        barrier(CLK_GLOBAL_MEM_FENCE);
    }
    if (!inside) return;
    PK_STORE(0) IF1(PK_STORE(1)) IF2(PK_STORE(2)) IF3(PK_STORE(3)) IF4(PK_STORE(4))
    IF5(PK_STORE(5)) IF6(PK_STORE(6)) IF7(PK_STORE(7))
}

/* dst[batch][panel][k][W] = op(src)[batch][panel·W + w][k], zero past `rows`: one operand
 * packed for gemm_packed. Without K_MAJOR src is rows × k (element (r, k) at r·ld + k), with
 * it k × rows (at k·ld + r); dimension 0 runs along whichever index is contiguous in src.
 * Options: -D W=panel width, -D K_MAJOR. */
#ifndef W
#define W 8
#endif
__kernel void pack(const int rows, const int k_total, __global const float *restrict src,
                   const ulong s_off, const int ld, const ulong s_stride,
                   __global float *restrict dst, const ulong d_off, const ulong d_stride) {
#ifdef K_MAJOR
    const int r = (int)get_global_id(0), k = (int)get_global_id(1);
#else
    const int k = (int)get_global_id(0), r = (int)get_global_id(1);
#endif
    const size_t batch = get_global_id(2);
    if (k >= k_total) return;
    __global const float *s = src + s_off + batch * s_stride;
#ifdef K_MAJOR
    const float v = r < rows ? s[(size_t)k * ld + r] : 0.0f;
#else
    const float v = r < rows ? s[(size_t)r * ld + k] : 0.0f;
#endif
    dst[d_off + batch * d_stride + ((size_t)(r / W) * k_total + k) * W + r % W] = v;
}

/* pack's result for a k-major src (K_MAJOR: element (r, k) at k·ld + r), KR values of k per
 * work-item instead of one: item (panel, k block) copies KR panel rows, each a contiguous run
 * of W floats in src, by vectors of 16/8/4 floats. These are the dYᵀ·X operands, the largest
 * packs of a training step (a pass over each activation per product); per thread it moves
 * them in 0.6-0.7 of pack's time (bench/gemm --match "bwd wgt" under UFO_TRACE). A src stored
 * rows × k stays with pack, which PoCL vectorises across k: a run version storing W apart was
 * no faster. Rows past `rows` become zeros as in pack.
 * Options: -D W, -D KR=k values per item. Dimension 0 runs over panels. */
#ifndef KR
#define KR 16
#endif
#define COPY_RUN(d, s)                                                                 \
    {                                                                                  \
        int w_ = 0;                                                                    \
        for (; w_ + 16 <= W; w_ += 16) vstore16(vload16(0, (s) + w_), 0, (d) + w_);    \
        for (; w_ + 8 <= W; w_ += 8) vstore8(vload8(0, (s) + w_), 0, (d) + w_);        \
        for (; w_ + 4 <= W; w_ += 4) vstore4(vload4(0, (s) + w_), 0, (d) + w_);        \
        for (; w_ < W; w_++) (d)[w_] = (s)[w_];                                        \
    }
__kernel void pack_runs(const int rows, const int k_total, __global const float *restrict src,
                        const ulong s_off, const int ld, const ulong s_stride,
                        __global float *restrict dst, const ulong d_off, const ulong d_stride) {
    const int panel = (int)get_global_id(0), k0 = (int)get_global_id(1) * KR;
    const size_t batch = get_global_id(2);
    const int r0 = panel * W;
    if (k0 >= k_total || r0 >= rows) return; /* past the last (maybe partial) panel */
    const int k_end = min(k0 + KR, k_total);
    __global const float *sk = src + s_off + batch * s_stride + (size_t)k0 * ld + r0;
    __global float *d = dst + d_off + batch * d_stride + ((size_t)panel * k_total + k0) * W;
    if (r0 + W <= rows) {
        for (int k = k0; k < k_end; k++, sk += ld, d += W) COPY_RUN(d, sk)
    } else {
        for (int k = k0; k < k_end; k++, sk += ld, d += W)
            for (int w = 0; w < W; w++) d[w] = r0 + w < rows ? sk[w] : 0.0f;
    }
}

/* dst[batch][k][n] = src[batch][n][k]: B stored n × k (leading dimension lds) made k × n,
 * dense, so gemm_nn can read it by rows. Tiles of 16 × 16 through local memory. */
__kernel void transpose(const int rows, const int cols, __global const float *restrict src,
                        const ulong s_off, const int lds, const ulong s_stride,
                        __global float *restrict dst, const ulong d_stride) {
    __local float tile[16][17];
    const int lx = (int)get_local_id(0), ly = (int)get_local_id(1);
    const int c0 = (int)get_group_id(0) * 16, r0 = (int)get_group_id(1) * 16;
    const size_t batch = get_global_id(2);
    __global const float *s = src + s_off + batch * s_stride;
    __global float *d = dst + batch * d_stride;
    if (r0 + ly < rows && c0 + lx < cols) tile[ly][lx] = s[(size_t)(r0 + ly) * lds + c0 + lx];
    barrier(CLK_LOCAL_MEM_FENCE);
    if (c0 + ly < cols && r0 + lx < rows) d[(size_t)(c0 + ly) * rows + r0 + lx] = tile[lx][ly];
}
