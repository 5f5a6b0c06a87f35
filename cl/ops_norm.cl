/* Normalisations: layer norm (per row), L2 normalisation (per row), BN-neck (per column). */
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

/* y = (x - mean)·rstd·gamma + beta; mean, rstd [rows] saved. One group per row. */
ROW_KERNEL
void layernorm_forward(__global const float *x, uint x_off, uint ld_x,
                       __global const float *gamma, uint gamma_off,
                       __global const float *beta, uint beta_off, uint cols, float eps,
                       __global float *y, uint y_off, uint ld_y,
                       __global float *mean, uint mean_off, __global float *rstd, uint rstd_off) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, r = ROW_ID;
    __global const float *xr = x + x_off + (size_t)r * ld_x;
    float acc = 0.0f;
    for (uint c = lid; c < cols; c += ROW_WG)
        acc += xr[c];
    float mu = group_sum(buf, acc) / (float)cols;
    acc = 0.0f;
    for (uint c = lid; c < cols; c += ROW_WG)
        acc += (xr[c] - mu) * (xr[c] - mu);
    float rs = rsqrt(group_sum(buf, acc) / (float)cols + eps);
    for (uint c = lid; c < cols; c += ROW_WG)
        y[y_off + (size_t)r * ld_y + c] =
            (xr[c] - mu) * rs * gamma[gamma_off + c] + beta[beta_off + c];
    if (lid == 0) {
        mean[mean_off + r] = mu;
        rstd[rstd_off + r] = rs;
    }
}

/* dx = rstd·(g - mean(g) - xhat·mean(g·xhat)) with g = dy·gamma; overwrite or accumulate.
 * One group per row. */
ROW_KERNEL
void layernorm_backward_dx(__global const float *x, uint x_off, uint ld_x,
                           __global const float *gamma, uint gamma_off,
                           __global const float *mean, uint mean_off,
                           __global const float *rstd, uint rstd_off,
                           __global const float *dy, uint dy_off, uint ld_dy, uint cols,
                           __global float *dx, uint dx_off, uint ld_dx, uint accumulate) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, r = ROW_ID;
    __global const float *xr = x + x_off + (size_t)r * ld_x;
    __global const float *gr = dy + dy_off + (size_t)r * ld_dy;
    __global float *out = dx + dx_off + (size_t)r * ld_dx;
    float mu = mean[mean_off + r], rs = rstd[rstd_off + r];
    float acc_g = 0.0f, acc_gx = 0.0f;
    for (uint c = lid; c < cols; c += ROW_WG) {
        float g = gr[c] * gamma[gamma_off + c];
        acc_g += g;
        acc_gx += g * (xr[c] - mu) * rs;
    }
    float mean_g = group_sum(buf, acc_g) / (float)cols;
    float mean_gx = group_sum(buf, acc_gx) / (float)cols;
    for (uint c = lid; c < cols; c += ROW_WG) {
        float v = rs * (gr[c] * gamma[gamma_off + c] - mean_g - (xr[c] - mu) * rs * mean_gx);
        out[c] = accumulate ? out[c] + v : v;
    }
}

#if COL_LANES > 1
/* dgamma += Σ_r dy·xhat, dbeta += Σ_r dy. Local size (COL_TILE, COL_LANES), lanes summed in a
 * fixed tree. */
COL_KERNEL
void layernorm_backward_params(__global const float *x, uint x_off, uint ld_x,
                               __global const float *mean, uint mean_off,
                               __global const float *rstd, uint rstd_off,
                               __global const float *dy, uint dy_off, uint ld_dy,
                               uint rows, uint cols,
                               __global float *dgamma, uint dgamma_off,
                               __global float *dbeta, uint dbeta_off) {
    __local float part_g[COL_LANES][COL_TILE];
    __local float part_b[COL_LANES][COL_TILE];
    uint c = get_global_id(0), tc = get_local_id(0), lane = COL_LANE;
    float acc_g = 0.0f, acc_b = 0.0f;
    if (c < cols)
        for (uint r = lane; r < rows; r += COL_LANES) {
            float g = dy[dy_off + (size_t)r * ld_dy + c];
            float xhat = (x[x_off + (size_t)r * ld_x + c] - mean[mean_off + r]) *
                         rstd[rstd_off + r];
            acc_g += g * xhat;
            acc_b += g;
        }
    part_g[lane][tc] = acc_g;
    part_b[lane][tc] = acc_b;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = COL_LANES / 2; step > 0; step /= 2) {
        if (lane < step) {
            part_g[lane][tc] += part_g[lane + step][tc];
            part_b[lane][tc] += part_b[lane + step][tc];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lane == 0 && c < cols) {
        dgamma[dgamma_off + c] += part_g[0][tc];
        dbeta[dbeta_off + c] += part_b[0][tc];
    }
}
#else
/* dgamma += Σ_r dy·xhat, dbeta += Σ_r dy; one item per COL_VEC columns, rows in order in
 * vector registers. */
__kernel void layernorm_backward_params(__global const float *x, uint x_off, uint ld_x,
                                        __global const float *mean, uint mean_off,
                                        __global const float *rstd, uint rstd_off,
                                        __global const float *dy, uint dy_off, uint ld_dy,
                                        uint rows, uint cols,
                                        __global float *dgamma, uint dgamma_off,
                                        __global float *dbeta, uint dbeta_off) {
    uint c = COL_VEC * get_global_id(0);
    if (c >= cols)
        return;
    __global const float *xc = x + x_off + c, *gc = dy + dy_off + c;
    if (c + COL_VEC <= cols) {
        float8 acc_g = 0.0f, acc_b = 0.0f;
        for (uint r = 0; r < rows; r++) {
            float8 g = vload8(0, gc + (size_t)r * ld_dy);
            float8 xhat = (vload8(0, xc + (size_t)r * ld_x) - mean[mean_off + r]) *
                          rstd[rstd_off + r];
            acc_g += g * xhat;
            acc_b += g;
        }
        vstore8(vload8(0, dgamma + dgamma_off + c) + acc_g, 0, dgamma + dgamma_off + c);
        vstore8(vload8(0, dbeta + dbeta_off + c) + acc_b, 0, dbeta + dbeta_off + c);
        return;
    }
    for (uint j = 0; c + j < cols; j++) {
        float acc_g = 0.0f, acc_b = 0.0f;
        for (uint r = 0; r < rows; r++) {
            float g = gc[(size_t)r * ld_dy + j];
            float xhat = (xc[(size_t)r * ld_x + j] - mean[mean_off + r]) * rstd[rstd_off + r];
            acc_g += g * xhat;
            acc_b += g;
        }
        dgamma[dgamma_off + c + j] += acc_g;
        dbeta[dbeta_off + c + j] += acc_b;
    }
}
#endif

/* y = x / max(|x|, 1e-12) per row; norm [rows] keeps the divisor. One group per row. */
ROW_KERNEL
void l2norm_forward(__global const float *x, uint x_off, uint ld_x, uint cols,
                    __global float *y, uint y_off, uint ld_y, __global float *norm,
                    uint norm_off) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, r = ROW_ID;
    __global const float *xr = x + x_off + (size_t)r * ld_x;
    float acc = 0.0f;
    for (uint c = lid; c < cols; c += ROW_WG)
        acc += xr[c] * xr[c];
    float nr = fmax(sqrt(group_sum(buf, acc)), 1e-12f);
    for (uint c = lid; c < cols; c += ROW_WG)
        y[y_off + (size_t)r * ld_y + c] = xr[c] / nr;
    if (lid == 0)
        norm[norm_off + r] = nr;
}

/* dx = (dy - y·Σ y·dy) / norm, overwrite or accumulate. One group per row. */
ROW_KERNEL
void l2norm_backward(__global const float *y, uint y_off, uint ld_y,
                     __global const float *norm, uint norm_off,
                     __global const float *dy, uint dy_off, uint ld_dy, uint cols,
                     __global float *dx, uint dx_off, uint ld_dx, uint accumulate) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, r = ROW_ID;
    __global const float *yr = y + y_off + (size_t)r * ld_y;
    __global const float *gr = dy + dy_off + (size_t)r * ld_dy;
    __global float *out = dx + dx_off + (size_t)r * ld_dx;
    float acc = 0.0f;
    for (uint c = lid; c < cols; c += ROW_WG)
        acc += yr[c] * gr[c];
    float dot = group_sum(buf, acc), nr = norm[norm_off + r];
    for (uint c = lid; c < cols; c += ROW_WG) {
        float v = (gr[c] - yr[c] * dot) / nr;
        out[c] = accumulate ? out[c] + v : v;
    }
}

/* BN-neck forward, one item per column: batch statistics (training: saves mean, rstd and
 * updates the running statistics with the unbiased variance) or running statistics. */
__kernel void bnneck_forward(__global const float *x, uint x_off, uint ld_x,
                             __global const float *gamma, uint gamma_off,
                             __global const float *beta, uint beta_off,
                             __global float *running_mean, uint rm_off,
                             __global float *running_var, uint rv_off,
                             uint n, uint c, float eps, float momentum, uint training,
                             __global float *y, uint y_off, uint ld_y,
                             __global float *mean, uint mean_off,
                             __global float *rstd, uint rstd_off) {
    uint j = get_global_id(0);
    if (j >= c)
        return;
    float mu, var;
    if (training) {
        float acc = 0.0f;
        for (uint i = 0; i < n; i++)
            acc += x[x_off + (size_t)i * ld_x + j];
        mu = acc / (float)n;
        acc = 0.0f;
        for (uint i = 0; i < n; i++) {
            float d = x[x_off + (size_t)i * ld_x + j] - mu;
            acc += d * d;
        }
        var = acc / (float)n;
        float unbiased = n > 1 ? acc / (float)(n - 1) : var;
        running_mean[rm_off + j] = (1.0f - momentum) * running_mean[rm_off + j] + momentum * mu;
        running_var[rv_off + j] = (1.0f - momentum) * running_var[rv_off + j] +
                                  momentum * unbiased;
    } else {
        mu = running_mean[rm_off + j];
        var = running_var[rv_off + j];
    }
    float rs = rsqrt(var + eps), g = gamma[gamma_off + j], b = beta[beta_off + j];
    for (uint i = 0; i < n; i++)
        y[y_off + (size_t)i * ld_y + j] = (x[x_off + (size_t)i * ld_x + j] - mu) * rs * g + b;
    if (training) {
        mean[mean_off + j] = mu;
        rstd[rstd_off + j] = rs;
    }
}

/* BN-neck backward (training), one item per column: dx overwrite or accumulate, dgamma +=. */
__kernel void bnneck_backward(__global const float *x, uint x_off, uint ld_x,
                              __global const float *gamma, uint gamma_off,
                              __global const float *mean, uint mean_off,
                              __global const float *rstd, uint rstd_off,
                              __global const float *dy, uint dy_off, uint ld_dy, uint n, uint c,
                              __global float *dx, uint dx_off, uint ld_dx, uint accumulate,
                              __global float *dgamma, uint dgamma_off) {
    uint j = get_global_id(0);
    if (j >= c)
        return;
    float mu = mean[mean_off + j], rs = rstd[rstd_off + j];
    float sum_dy = 0.0f, sum_dyx = 0.0f;
    for (uint i = 0; i < n; i++) {
        float g = dy[dy_off + (size_t)i * ld_dy + j];
        sum_dy += g;
        sum_dyx += g * (x[x_off + (size_t)i * ld_x + j] - mu) * rs;
    }
    dgamma[dgamma_off + j] += sum_dyx;
    float scale = gamma[gamma_off + j] * rs, inv_n = 1.0f / (float)n;
    for (uint i = 0; i < n; i++) {
        float xhat = (x[x_off + (size_t)i * ld_x + j] - mu) * rs;
        float v = scale * (dy[dy_off + (size_t)i * ld_dy + j] - sum_dy * inv_n -
                           xhat * sum_dyx * inv_n);
        __global float *o = dx + dx_off + (size_t)i * ld_dx + j;
        *o = accumulate ? *o + v : v;
    }
}
