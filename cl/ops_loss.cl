/* Losses of the task heads: CosFace from cosines, batch-hard soft-margin triplet, and the
 * ordered mean that turns per-sample losses into the loss. */
#define DIST_FLOOR 1e-12f /* squared distances below this count as 0 (no gradient) */
#define TRIPLET_INFO 5    /* per anchor: positive, negative, gradient weight, loss, spare */

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

/* Per row of cos [n, k]: logits s·(cos - m·onehot), row_loss = cross-entropy, dcos =
 * weight·s·(softmax - onehot) / n (dcos may be cos). One group per row. */
ROW_KERNEL
void cosface_rows(__global const float *cos, uint cos_off, uint ld_cos,
                  __global const int *labels, uint labels_off, uint n, uint k, float s, float m,
                  float loss_weight, __global float *row_loss, uint row_loss_off,
                  __global float *dcos, uint dcos_off, uint ld_dcos) {
    __local float buf[ROW_WG];
    uint lid = ROW_LANE, i = ROW_ID;
    __global const float *ci = cos + cos_off + (size_t)i * ld_cos;
    __global float *di = dcos + dcos_off + (size_t)i * ld_dcos;
    int label = labels[labels_off + i];
    if (label < 0 || (uint)label >= k) { /* poison the loss so the NaN check names it */
        for (uint j = lid; j < k; j += ROW_WG)
            di[j] = NAN;
        if (lid == 0)
            row_loss[row_loss_off + i] = NAN;
        return;
    }
    uint y = (uint)label;
    float mx = -INFINITY;
    for (uint j = lid; j < k; j += ROW_WG)
        mx = fmax(mx, s * (ci[j] - (j == y ? m : 0.0f)));
    mx = group_reduce(buf, mx, 1);
    float acc = 0.0f;
    for (uint j = lid; j < k; j += ROW_WG)
        acc += exp(s * (ci[j] - (j == y ? m : 0.0f)) - mx);
    float sum = group_reduce(buf, acc, 0);
    float target = s * (ci[y] - m);
#if ROW_WG > 1
    barrier(CLK_GLOBAL_MEM_FENCE); /* every item has read ci[y] before dcos may overwrite it */
#endif
    float scale = loss_weight * s / (float)n;
    for (uint j = lid; j < k; j += ROW_WG) {
        float p = exp(s * (ci[j] - (j == y ? m : 0.0f)) - mx) / sum;
        di[j] = scale * (p - (j == y ? 1.0f : 0.0f));
    }
    if (lid == 0)
        row_loss[row_loss_off + i] = log(sum) + mx - target;
}

/* out[0] = scale · Σ_i v[i·stride] / n, summed in order by one item. */
__kernel void ordered_mean(__global const float *v, uint v_off, uint stride, uint n, float scale,
                           __global float *out, uint out_off) {
    if (get_global_id(0) != 0)
        return;
    float acc = 0.0f;
    for (uint i = 0; i < n; i++)
        acc += v[v_off + (size_t)i * stride];
    out[out_off] = scale * acc / (float)n;
}

/* dist [n, n]: Euclidean distances of the feature rows, squared distance floored at
 * DIST_FLOOR. dim 0 = j, dim 1 = i. */
__kernel void triplet_distances(__global const float *feat, uint feat_off, uint ld_feat, uint n,
                                uint c, __global float *dist, uint dist_off) {
    uint j = get_global_id(0), i = get_global_id(1);
    if (i >= n || j >= n)
        return;
    __global const float *fi = feat + feat_off + (size_t)i * ld_feat;
    __global const float *fj = feat + feat_off + (size_t)j * ld_feat;
    float acc = 0.0f;
    for (uint e = 0; e < c; e++) {
        float d = fi[e] - fj[e];
        acc += d * d;
    }
    dist[dist_off + (size_t)i * n + j] = sqrt(fmax(acc, DIST_FLOOR));
}

/* Per anchor: hardest positive (largest distance to another sample of its label) and hardest
 * negative (smallest), first index on ties; the loss log(1 + exp(d_ap - d_an)) and its gradient
 * weight loss_weight·sigmoid(d_ap - d_an) / n (both 0 without a positive or a negative). */
__kernel void triplet_anchors(__global const float *dist, uint dist_off,
                              __global const int *labels, uint labels_off, uint n,
                              float loss_weight, __global float *info, uint info_off) {
    uint a = get_global_id(0);
    if (a >= n)
        return;
    int la = labels[labels_off + a];
    uint pos = n, neg = n;
    float d_ap = -1.0f, d_an = INFINITY;
    for (uint j = 0; j < n; j++) {
        float d = dist[dist_off + (size_t)a * n + j];
        if (labels[labels_off + j] == la) {
            if (j != a && d > d_ap) {
                d_ap = d;
                pos = j;
            }
        } else if (d < d_an) {
            d_an = d;
            neg = j;
        }
    }
    __global float *out = info + info_off + (size_t)a * TRIPLET_INFO;
    out[0] = (float)(pos == n ? a : pos);
    out[1] = (float)(neg == n ? a : neg);
    if (pos == n || neg == n) {
        out[2] = 0.0f;
        out[3] = 0.0f;
        return;
    }
    float z = d_ap - d_an;
    out[2] = loss_weight / (float)n / (1.0f + exp(-z));
    out[3] = z > 0.0f ? z + log1p(exp(-z)) : log1p(exp(z));
}

/* dfeat [n, c] (= or +=): each row gathers the terms of every anchor that picked it, in anchor
 * order. dim 0 = feature column, dim 1 = row. */
__kernel void triplet_gradient(__global const float *feat, uint feat_off, uint ld_feat, uint n,
                               uint c, __global const float *dist, uint dist_off,
                               __global const float *info, uint info_off,
                               __global float *dfeat, uint dfeat_off, uint ld_dfeat,
                               uint accumulate) {
    uint e = get_global_id(0), i = get_global_id(1);
    if (e >= c || i >= n)
        return;
    float floor_d = sqrt(DIST_FLOOR);
    float acc = 0.0f;
    for (uint a = 0; a < n; a++) {
        __global const float *in = info + info_off + (size_t)a * TRIPLET_INFO;
        float g = in[2];
        if (g == 0.0f)
            continue;
        uint pos = (uint)in[0], neg = (uint)in[1];
        float d_ap = dist[dist_off + (size_t)a * n + pos];
        float d_an = dist[dist_off + (size_t)a * n + neg];
        float fa = feat[feat_off + (size_t)a * ld_feat + e];
        float fp = feat[feat_off + (size_t)pos * ld_feat + e];
        float fn = feat[feat_off + (size_t)neg * ld_feat + e];
        if (d_ap > floor_d) {
            if (a == i)
                acc += g * (fa - fp) / d_ap;
            if (pos == i)
                acc -= g * (fa - fp) / d_ap;
        }
        if (d_an > floor_d) {
            if (a == i)
                acc -= g * (fa - fn) / d_an;
            if (neg == i)
                acc += g * (fa - fn) / d_an;
        }
    }
    __global float *o = dfeat + dfeat_off + (size_t)i * ld_dfeat + e;
    *o = accumulate ? *o + acc : acc;
}
