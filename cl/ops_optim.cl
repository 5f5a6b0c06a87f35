/* Deterministic reductions over a whole tensor (sum of squares, count of NaN and Inf) and the
 * SGD step. A reduction splits the tensor into REDUCE_GROUPS contiguous chunks; a group of
 * ROW_WG items sums a chunk (lanes strided, then a fixed tree in local memory; with -D
 * ROW_WG=1 one item walks its chunk in order) into out[1 + group], and one more kernel adds the
 * partials into out[0] in order. */
#define REDUCE_GROUPS 64

/* Partial sums of x² (mode 0) or of the non-finite count (mode 1) into out[1 + group]. */
ROW_KERNEL void reduce_partial(__global const float *x, uint x_off, uint n, uint mode,
                               __global float *out, uint out_off) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, g = ROW_ID;
    uint chunk = (n + REDUCE_GROUPS - 1) / REDUCE_GROUPS;
    uint end = min(n, (g + 1) * chunk);
    float acc = 0.0f;
    if (mode == 0) {
        for (uint i = g * chunk + lid; i < end; i += ROW_WG) {
            float v = x[x_off + i];
            acc += v * v;
        }
    } else {
        /* an integer count of all-ones exponents (isfinite without the call): PoCL's CPU
         * device ran the float select-and-add loop ~100x slower than this one */
        uint bad = 0;
        for (uint i = g * chunk + lid; i < end; i += ROW_WG)
            bad += (as_uint(x[x_off + i]) & 0x7f800000u) == 0x7f800000u;
        acc = (float)bad;
    }
    acc = group_sum(buf, acc);
    if (lid == 0)
        out[out_off + 1 + g] = acc;
}

/* out[0] = Σ out[1..REDUCE_GROUPS] in order; one item. */
__kernel void reduce_finish(__global float *out, uint out_off) {
    if (get_global_id(0) != 0)
        return;
    float acc = 0.0f;
    for (uint g = 0; g < REDUCE_GROUPS; g++)
        acc += out[out_off + 1 + g];
    out[out_off] = acc;
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

/* The per-tensor clip and SGD step above over many tensors of one parameter buffer in three
 * launches instead of three per tensor. table[4e..4e+3] describes tensor e: first element,
 * length, rate and weight decay (as_uint of the floats). Each tensor's sum of squares is
 * split, summed and finished exactly as reduce_partial and reduce_finish do it for that
 * tensor alone, so the result is bit for bit that of sgd_step per tensor. */

/* Partials of tensor e = ROW_ID / REDUCE_GROUPS, chunk ROW_ID % REDUCE_GROUPS, into
 * part[e·(1 + REDUCE_GROUPS) + 1 + chunk]. */
ROW_KERNEL void multi_sumsq_partial(__global const float *x, uint x_off,
                                    __global const uint *table, uint table_off,
                                    __global float *part, uint part_off) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, e = ROW_ID / REDUCE_GROUPS, g = ROW_ID % REDUCE_GROUPS;
    uint base = x_off + table[table_off + 4 * e], n = table[table_off + 4 * e + 1];
    uint chunk = (n + REDUCE_GROUPS - 1) / REDUCE_GROUPS;
    uint end = min(n, (g + 1) * chunk);
    float acc = 0.0f;
    for (uint i = g * chunk + lid; i < end; i += ROW_WG) {
        float v = x[base + i];
        acc += v * v;
    }
    acc = group_sum(buf, acc);
    if (lid == 0)
        part[part_off + e * (1 + REDUCE_GROUPS) + 1 + g] = acc;
}

/* part[e·(1 + REDUCE_GROUPS)] = Σ of tensor e's partials in order; an item per tensor. */
__kernel void multi_sumsq_finish(__global float *part, uint part_off, uint tensors) {
    uint e = get_global_id(0);
    if (e >= tensors)
        return;
    uint at = part_off + e * (1 + REDUCE_GROUPS);
    float acc = 0.0f;
    for (uint g = 0; g < REDUCE_GROUPS; g++)
        acc += part[at + 1 + g];
    part[at] = acc;
}

/* The update of sgd_step; item (chunk, e) walks chunk `chunk` of `chunks` of tensor e. */
__kernel void multi_sgd_step(__global float *w, uint w_off, __global const float *g,
                             uint g_off, __global float *v, uint v_off,
                             __global const uint *table, uint table_off,
                             __global const float *part, uint part_off, uint chunks,
                             float momentum, float clip_norm) {
    uint c = get_global_id(0), e = get_global_id(1);
    uint first = table[table_off + 4 * e], n = table[table_off + 4 * e + 1];
    float lr = as_float(table[table_off + 4 * e + 2]);
    float weight_decay = as_float(table[table_off + 4 * e + 3]);
    float coef = 1.0f;
    if (clip_norm > 0.0f)
        coef = fmin(1.0f, clip_norm / (sqrt(part[part_off + e * (1 + REDUCE_GROUPS)]) + 1e-6f));
    uint len = (n + chunks - 1) / chunks;
    uint end = min(n, (c + 1) * len);
    __global float *wt = w + w_off + first, *vt = v + v_off + first;
    __global const float *gt = g + g_off + first;
    for (uint i = c * len; i < end; i++) {
        float wi = wt[i];
        float gi = coef * gt[i] + weight_decay * wi;
        float vi = momentum * vt[i] + gi;
        vt[i] = vi;
        wt[i] = wi - lr * vi;
    }
}
