/* Element-wise ops on [rows, cols] views (dim 0 = column, dim 1 = row) and column sums. */

/* Column sums: tiles of COL_TILE columns × COL_LANES lanes; each lane walks every COL_LANES-th
 * row, then the lanes are added in a fixed tree. Built with -D COL_LANES=1 (CPUs), one item
 * owns a column and adds its rows in order. */
#define COL_TILE 16
#ifndef COL_LANES
#define COL_LANES 16
#endif
#if COL_LANES > 1
#define COL_KERNEL __kernel __attribute__((reqd_work_group_size(COL_TILE, COL_LANES, 1)))
#define COL_LANE get_local_id(1)
#else
#define COL_KERNEL __kernel
#define COL_LANE 0
#endif
#define COL_VEC 8 /* columns per item when COL_LANES is 1 (float8) */

/* exp(z²)·erfc(z) for z in [0, 10]: a Chebyshev series in u = (1 - 0.45z) / (1 + 0.25z),
 * which maps [0, 10] onto [1, -1]; coefficients interpolated at 13 Chebyshev nodes for ufo
 * (relative error 5e-10 in exact arithmetic, under 5e-7 in float). PoCL's erf is a slow
 * scalar call, and 1 + erf(x) loses the left tail to cancellation; this keeps both tails.
 * Written once for float and float16 (GELU_VEC below): the same operations lane by lane. */
#define CLENSHAW_STEP(coef) b0 = u2 * b1 - b2 + (coef), b2 = b1, b1 = b0
#define DEFINE_SCALED_ERFC(T)                                                          \
    static T __attribute__((overloadable)) scaled_erfc(T z) {                          \
        T u = (1.0f - 0.45f * z) / (1.0f + 0.25f * z), u2 = 2.0f * u;                  \
        T b1 = 6.965325112e-11f, b2 = 0.0f, b0;                                        \
        CLENSHAW_STEP(-2.396848345e-09f);                                              \
        CLENSHAW_STEP(-2.342196571e-08f);                                              \
        CLENSHAW_STEP(2.576062990e-08f);                                               \
        CLENSHAW_STEP(2.761914688e-06f);                                               \
        CLENSHAW_STEP(3.622475487e-05f);                                               \
        CLENSHAW_STEP(3.039943063e-04f);                                               \
        CLENSHAW_STEP(1.934497089e-03f);                                               \
        CLENSHAW_STEP(9.902380259e-03f);                                               \
        CLENSHAW_STEP(4.181638759e-02f);                                               \
        CLENSHAW_STEP(1.469462069e-01f);                                               \
        CLENSHAW_STEP(4.281423708e-01f);                                               \
        return u * b1 - b2 + 3.709151763e-01f;                                         \
    }

/* Φ(x), the standard normal CDF, and φ(x) into *pdf. NaN stays NaN (through exp), and
 * Φ(±∞) is 1 or 0. */
#define DEFINE_NORMAL_CDF(T)                                                           \
    static T __attribute__((overloadable)) normal_cdf(T x, T *pdf) {                   \
        T e = exp(-0.5f * x * x);                                                      \
        T tail = 0.5f * e * scaled_erfc(fmin(fabs(x) * M_SQRT1_2_F, 10.0f));           \
        *pdf = e * 0.398942280f; /* 1 / sqrt(2π) */                                    \
        return select(1.0f - tail, tail, x < 0.0f);                                    \
    }
DEFINE_SCALED_ERFC(float)
DEFINE_SCALED_ERFC(float16)
DEFINE_NORMAL_CDF(float)
DEFINE_NORMAL_CDF(float16)

/* y += b per row, in place. */
__kernel void bias_add(__global float *y, uint y_off, uint ld_y, __global const float *b,
                       uint b_off, uint rows, uint cols) {
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    y[y_off + (size_t)r * ld_y + c] += b[b_off + c];
}

#if COL_LANES > 1
/* out [cols] += Σ_r a[r, c]. Local size (COL_TILE, COL_LANES). */
COL_KERNEL
void column_sums(__global const float *a, uint a_off, uint ld_a, uint rows, uint cols,
                 __global float *out, uint out_off) {
    __local float part[COL_LANES][COL_TILE];
    uint c = get_global_id(0), tc = get_local_id(0), lane = COL_LANE;
    float acc = 0.0f;
    if (c < cols)
        for (uint r = lane; r < rows; r += COL_LANES)
            acc += a[a_off + (size_t)r * ld_a + c];
    part[lane][tc] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = COL_LANES / 2; step > 0; step /= 2) {
        if (lane < step)
            part[lane][tc] += part[lane + step][tc];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && c < cols)
        out[out_off + c] += part[0][tc];
}
#else
/* out [cols] += Σ_r a[r, c]; one item per COL_VEC columns, rows added in order in vector
 * registers (a CPU vectorises nothing across items whose body loops). */
__kernel void column_sums(__global const float *a, uint a_off, uint ld_a, uint rows, uint cols,
                          __global float *out, uint out_off) {
    uint c = COL_VEC * get_global_id(0);
    if (c >= cols)
        return;
    __global const float *col = a + a_off + c;
    if (c + COL_VEC <= cols) {
        float8 acc = 0.0f;
        for (uint r = 0; r < rows; r++)
            acc += vload8(0, col + (size_t)r * ld_a);
        vstore8(vload8(0, out + out_off + c) + acc, 0, out + out_off + c);
        return;
    }
    for (uint j = 0; c + j < cols; j++) {
        float acc = 0.0f;
        for (uint r = 0; r < rows; r++)
            acc += col[(size_t)r * ld_a + j];
        out[out_off + c + j] += acc;
    }
}
#endif

/* GELU's columns per item: 16 in the items layout (CPUs), where PoCL did not vectorise the
 * one-element kernel across items (2.9 ns per element and core; 16 lanes by hand take a
 * third of that, bench/ops under UFO_TRACE); one in the work-group layout (GPUs). A row's
 * last columns past a multiple of 16 take the scalar path. */
#if COL_LANES > 1
#define GELU_VEC 1
#else
#define GELU_VEC 16
#endif

/* y = x·Φ(x) with the exact normal CDF; y may be x. */
__kernel void gelu_forward(__global const float *x, uint x_off, uint ld_x, uint rows, uint cols,
                           __global float *y, uint y_off, uint ld_y) {
    uint c = GELU_VEC * get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    __global const float *xr = x + x_off + (size_t)r * ld_x;
    __global float *yr = y + y_off + (size_t)r * ld_y;
#if GELU_VEC == 16
    if (c + 16 <= cols) {
        float16 v = vload16(0, xr + c), pdf;
        vstore16(v * normal_cdf(v, &pdf), 0, yr + c);
        return;
    }
#endif
    for (uint end = min(c + GELU_VEC, cols); c < end; c++) {
        float v = xr[c], pdf;
        yr[c] = v * normal_cdf(v, &pdf);
    }
}

/* dx = dy·(Φ(x) + x·φ(x)); dx may be dy. */
__kernel void gelu_backward(__global const float *x, uint x_off, uint ld_x,
                            __global const float *dy, uint dy_off, uint ld_dy,
                            uint rows, uint cols, __global float *dx, uint dx_off, uint ld_dx) {
    uint c = GELU_VEC * get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    __global const float *xr = x + x_off + (size_t)r * ld_x;
    __global const float *dyr = dy + dy_off + (size_t)r * ld_dy;
    __global float *dxr = dx + dx_off + (size_t)r * ld_dx;
#if GELU_VEC == 16
    if (c + 16 <= cols) {
        float16 v = vload16(0, xr + c), pdf;
        float16 cdf = normal_cdf(v, &pdf);
        vstore16(vload16(0, dyr + c) * (cdf + v * pdf), 0, dxr + c);
        return;
    }
#endif
    for (uint end = min(c + GELU_VEC, cols); c < end; c++) {
        float v = xr[c], pdf;
        float cdf = normal_cdf(v, &pdf);
        dxr[c] = dyr[c] * (cdf + v * pdf);
    }
}

/* x += f·y with f = mask[r / rows_per_sample]·keep_scale, or 1 without a mask. */
__kernel void residual_add(__global float *x, uint x_off, uint ld_x,
                           __global const float *y, uint y_off, uint ld_y,
                           uint rows, uint cols, uint rows_per_sample, uint has_mask,
                           __global const float *mask, uint mask_off, float keep_scale) {
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    float f = has_mask ? mask[mask_off + r / rows_per_sample] * keep_scale : 1.0f;
    x[x_off + (size_t)r * ld_x + c] += f * y[y_off + (size_t)r * ld_y + c];
}

/* dy = f·dx with f as in residual_add. */
__kernel void residual_backward(__global const float *dx, uint dx_off, uint ld_dx,
                                uint rows, uint cols, uint rows_per_sample, uint has_mask,
                                __global const float *mask, uint mask_off, float keep_scale,
                                __global float *dy, uint dy_off, uint ld_dy) {
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    float f = has_mask ? mask[mask_off + r / rows_per_sample] * keep_scale : 1.0f;
    dy[dy_off + (size_t)r * ld_dy + c] = f * dx[dx_off + (size_t)r * ld_dx + c];
}
