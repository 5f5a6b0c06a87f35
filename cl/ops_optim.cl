/* Deterministic reductions over a whole tensor (sum of squares, count of NaN and Inf) and the
 * SGD step. A reduction runs REDUCE_GROUPS groups of REDUCE_WG items: item (g, l) walks the
 * elements g·WG + l, then every GROUPS·WG-th; groups write partials to out[1 + g], and one
 * group adds them into out[0], always in the same order. */
#define REDUCE_GROUPS 64
#define REDUCE_WG 64

/* Partial sums of x² (mode 0) or of the non-finite count (mode 1) into out[1 + group]. */
__kernel __attribute__((reqd_work_group_size(REDUCE_WG, 1, 1)))
void reduce_partial(__global const float *x, uint x_off, uint n, uint mode,
                    __global float *out, uint out_off) {
    __local float buf[REDUCE_WG];
    uint lid = get_local_id(0), g = get_group_id(0);
    float acc = 0.0f;
    for (uint i = g * REDUCE_WG + lid; i < n; i += REDUCE_GROUPS * REDUCE_WG) {
        float v = x[x_off + i];
        acc += mode == 0 ? v * v : (isfinite(v) ? 0.0f : 1.0f);
    }
    buf[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = REDUCE_WG / 2; step > 0; step /= 2) {
        if (lid < step)
            buf[lid] += buf[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        out[out_off + 1 + g] = buf[0];
}

/* out[0] = Σ out[1..REDUCE_GROUPS]; one group of REDUCE_GROUPS items. */
__kernel __attribute__((reqd_work_group_size(REDUCE_GROUPS, 1, 1)))
void reduce_finish(__global float *out, uint out_off) {
    __local float buf[REDUCE_GROUPS];
    uint lid = get_local_id(0);
    buf[lid] = out[out_off + 1 + lid];
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = REDUCE_GROUPS / 2; step > 0; step /= 2) {
        if (lid < step)
            buf[lid] += buf[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        out[out_off] = buf[0];
}

/* g' = clip·g + wd·w, v = momentum·v + g', w -= lr·v; clip from the squared norm in
 * sumsq[0] when clip_norm > 0. */
__kernel void sgd_step(__global float *w, uint w_off, __global const float *g, uint g_off,
                       __global float *v, uint v_off, uint n, float lr, float momentum,
                       float weight_decay, float clip_norm, __global const float *sumsq,
                       uint sumsq_off) {
    uint i = get_global_id(0);
    if (i >= n)
        return;
    float coef = 1.0f;
    if (clip_norm > 0.0f)
        coef = fmin(1.0f, clip_norm / (sqrt(sumsq[sumsq_off]) + 1e-6f));
    float wi = w[w_off + i];
    float gi = coef * g[g_off + i] + weight_decay * wi;
    float vi = momentum * v[v_off + i] + gi;
    v[v_off + i] = vi;
    w[w_off + i] = wi - lr * vi;
}
