/* Attention layout and softmax. Heads are contiguous [B, h, T, hd] tensors so that the score
 * and value products are strided-batched GEMMs. Split and merge run with dim 0 = column within
 * the h·hd used columns, dim 1 = token row of [B·T, ...]. */

/* e^y by Cody-Waite reduction (y = n·ln2 + r, |r| <= ln2/2) and a degree-7 Taylor polynomial,
 * within a few float ulp; NaN stays NaN, 0 below -87.3, +Inf above 88.7. Inside a row loop
 * PoCL's exp stays a scalar call, which took half the softmax's time. */
static float exp_poly(float y) {
    float n = rint(y * 1.44269504f);
    float r = (y - n * 0.693145751953125f) - n * 1.42860682e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int k = (int)clamp(n, -126.0f, 127.0f);
    float e = p * as_float((k + 127) << 23);
    e = y < -87.3f ? 0.0f : e;
    e = y > 88.7f ? INFINITY : e;
    return isnan(y) ? y : e;
}

/* Element (b, head, t, d) of a contiguous [B, h, T, hd] tensor. */
static size_t head_index(uint b, uint head, uint t, uint d, uint heads, uint tokens,
                         uint head_dim) {
    return ((size_t)(b * heads + head) * tokens + t) * head_dim + d;
}

/* q, k, v [B, h, T, hd] from qkv [B·T, ld] with the three sections `section` columns apart. */
__kernel void heads_split(__global const float *qkv, uint qkv_off, uint ld_qkv, uint section,
                          uint batch, uint tokens, uint heads, uint head_dim,
                          __global float *q, uint q_off, __global float *k, uint k_off,
                          __global float *v, uint v_off) {
    uint j = get_global_id(0), r = get_global_id(1);
    if (j >= heads * head_dim || r >= batch * tokens)
        return;
    size_t at = head_index(r / tokens, j / head_dim, r % tokens, j % head_dim, heads, tokens,
                           head_dim);
    __global const float *row = qkv + qkv_off + (size_t)r * ld_qkv + j;
    q[q_off + at] = row[0];
    k[k_off + at] = row[section];
    v[v_off + at] = row[2 * section];
}

/* dqkv's used columns from dq, dk, dv (overwrite). */
__kernel void heads_split_backward(__global const float *dq, uint dq_off,
                                   __global const float *dk, uint dk_off,
                                   __global const float *dv, uint dv_off, uint section,
                                   uint batch, uint tokens, uint heads, uint head_dim,
                                   __global float *dqkv, uint dqkv_off, uint ld_dqkv) {
    uint j = get_global_id(0), r = get_global_id(1);
    if (j >= heads * head_dim || r >= batch * tokens)
        return;
    size_t at = head_index(r / tokens, j / head_dim, r % tokens, j % head_dim, heads, tokens,
                           head_dim);
    __global float *row = dqkv + dqkv_off + (size_t)r * ld_dqkv + j;
    row[0] = dq[dq_off + at];
    row[section] = dk[dk_off + at];
    row[2 * section] = dv[dv_off + at];
}

/* out [B·T, ld] columns 0..h·hd-1 from o [B, h, T, hd]. */
__kernel void heads_merge(__global const float *o, uint o_off, uint batch, uint tokens,
                          uint heads, uint head_dim, __global float *out, uint out_off,
                          uint ld_out) {
    uint j = get_global_id(0), r = get_global_id(1);
    if (j >= heads * head_dim || r >= batch * tokens)
        return;
    out[out_off + (size_t)r * ld_out + j] =
        o[o_off + head_index(r / tokens, j / head_dim, r % tokens, j % head_dim, heads, tokens,
                             head_dim)];
}

/* do [B, h, T, hd] from dout [B·T, ld]. */
__kernel void heads_merge_backward(__global const float *dout, uint dout_off, uint ld_dout,
                                   uint batch, uint tokens, uint heads, uint head_dim,
                                   __global float *dheads, uint dheads_off) {
    uint j = get_global_id(0), r = get_global_id(1);
    if (j >= heads * head_dim || r >= batch * tokens)
        return;
    dheads[dheads_off + head_index(r / tokens, j / head_dim, r % tokens, j % head_dim, heads,
                                   tokens, head_dim)] =
        dout[dout_off + (size_t)r * ld_dout + j];
}

/* Σ (or max) over the work-group of v, returned to every item. */
static float group_reduce(__local float *buf, float v, int take_max) {
#if ROW_WG > 1
    uint lid = get_local_id(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = ROW_WG / 2; step > 0; step /= 2) {
        if (lid < step)
            buf[lid] = take_max ? fmax(buf[lid], buf[lid + step]) : buf[lid] + buf[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float s = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return s;
#else
    return v;
#endif
}

/* p = softmax(scale·s) over each row of n; one group per row; p may be s. */
ROW_KERNEL
void softmax_forward(__global const float *s, uint s_off, uint ld_s, uint n, float scale,
                     __global float *p, uint p_off, uint ld_p) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, r = ROW_ID;
    __global const float *sr = s + s_off + (size_t)r * ld_s;
    float mx = -INFINITY;
    for (uint j = lid; j < n; j += ROW_WG)
        mx = fmax(mx, scale * sr[j]);
    mx = group_reduce(buf, mx, 1);
    __global float *pr = p + p_off + (size_t)r * ld_p;
    float acc = 0.0f;
    for (uint j = lid; j < n; j += ROW_WG) {
        float e = exp_poly(scale * sr[j] - mx);
        pr[j] = e;
        acc += e;
    }
    float inv = 1.0f / group_reduce(buf, acc, 0);
    for (uint j = lid; j < n; j += ROW_WG)
        pr[j] *= inv;
}

/* ds = scale·p·(dp - Σ p·dp); one group per row; ds may be dp. */
ROW_KERNEL
void softmax_backward(__global const float *p, uint p_off, uint ld_p,
                      __global const float *dp, uint dp_off, uint ld_dp, uint n, float scale,
                      __global float *ds, uint ds_off, uint ld_ds) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, r = ROW_ID;
    __global const float *pr = p + p_off + (size_t)r * ld_p;
    __global const float *gr = dp + dp_off + (size_t)r * ld_dp;
    float acc = 0.0f;
    for (uint j = lid; j < n; j += ROW_WG)
        acc += pr[j] * gr[j];
    float dot = group_reduce(buf, acc, 0);
    for (uint j = lid; j < n; j += ROW_WG)
        ds[ds_off + (size_t)r * ld_ds + j] = scale * pr[j] * (gr[j] - dot);
}
