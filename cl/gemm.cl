/* ufo's own GEMM: C = alpha · op(A) · B + beta · C, row-major, strided-batched over dim 2.
 *
 * Each work-item computes TM rows × VW columns of C, the rows' accumulators held in named
 * vector registers c0..c7 (PoCL keeps a loop-indexed private array in memory), columns on
 * work dimension 0 so neighbouring work-items read neighbouring memory. The k loop runs in
 * blocks of KB so a work-group's slices of A and B stay in cache between work-items.
 * B is never transposed here: the host transposes it into the engine's scratch buffer first
 * (and A too when only A is transposed; TRANS_A remains for Aᵀ·Bᵀ).
 *
 * Options: -D TM=1..8 rows per work-item, -D VW=4|8|16 columns per work-item,
 *          -D TRANS_A when A is stored k × m (op(A) = Aᵀ).
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
