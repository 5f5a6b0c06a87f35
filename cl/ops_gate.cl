/* FFN path gates: per-sample weights of the shared path (0) and the task path (1), the mixture,
 * and its backward. Mode numbers follow enum ops_gate_mode: 0 gumbel, 1 shared, 2 task,
 * 3 both. */
#define GATE_GUMBEL 0
#define GATE_SHARED 1
#define GATE_TASK 2
#define GATE_BOTH 3

/* weights, soft [samples, 2] from logits [2] and noise [samples, 2]; one item per sample.
 * The per-sample pairs are rows of a matrix with leading dimension ld_*. */
__kernel void gate_weights(__global const float *logits, uint logits_off,
                           __global const float *noise, uint noise_off, uint ld_noise,
                           uint samples, float tau, uint mode,
                           __global float *weights, uint weights_off, uint ld_weights,
                           __global float *soft, uint soft_off, uint ld_soft) {
    uint i = get_global_id(0);
    if (i >= samples)
        return;
    float y0 = logits[logits_off], y1 = logits[logits_off + 1];
    if (mode == GATE_GUMBEL) {
        y0 += noise[noise_off + i * ld_noise];
        y1 += noise[noise_off + i * ld_noise + 1];
    }
    y0 /= tau;
    y1 /= tau;
    float mx = fmax(y0, y1), e0 = exp(y0 - mx), e1 = exp(y1 - mx);
    float s0 = e0 / (e0 + e1), s1 = e1 / (e0 + e1);
    float w0 = s0, w1 = s1;
    if (mode == GATE_GUMBEL) { /* ties go to the shared path, as argmax picks the first */
        w0 = y0 >= y1 ? 1.0f : 0.0f;
        w1 = 1.0f - w0;
    } else if (mode == GATE_SHARED) {
        w0 = 1.0f;
        w1 = 0.0f;
    } else if (mode == GATE_TASK) {
        w0 = 0.0f;
        w1 = 1.0f;
    }
    weights[weights_off + i * ld_weights] = w0;
    weights[weights_off + i * ld_weights + 1] = w1;
    soft[soft_off + i * ld_soft] = s0;
    soft[soft_off + i * ld_soft + 1] = s1;
}

/* out = w0·shared + w1·task per sample; a missing path (has_* = 0) counts as zero. */
__kernel void gate_mix_forward(__global const float *shared, uint shared_off, uint ld_shared,
                               uint has_shared, __global const float *task, uint task_off,
                               uint ld_task, uint has_task, __global const float *weights,
                               uint weights_off, uint ld_weights, uint rows,
                               uint rows_per_sample, uint cols,
                               __global float *out, uint out_off, uint ld_out) {
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    uint i = r / rows_per_sample;
    float v = 0.0f;
    if (has_shared)
        v += weights[weights_off + i * ld_weights] * shared[shared_off + (size_t)r * ld_shared + c];
    if (has_task)
        v += weights[weights_off + i * ld_weights + 1] * task[task_off + (size_t)r * ld_task + c];
    out[out_off + (size_t)r * ld_out + c] = v;
}

/* dshared = w0·dout, dtask = w1·dout (each only when wanted). */
__kernel void gate_mix_backward_paths(__global const float *dout, uint dout_off, uint ld_dout,
                                      __global const float *weights, uint weights_off,
                                      uint ld_weights, uint rows, uint rows_per_sample, uint cols,
                                      __global float *dshared, uint dshared_off,
                                      uint ld_dshared, uint want_shared,
                                      __global float *dtask, uint dtask_off, uint ld_dtask,
                                      uint want_task) {
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows)
        return;
    uint i = r / rows_per_sample;
    float g = dout[dout_off + (size_t)r * ld_dout + c];
    __global const float *w = weights + weights_off + i * ld_weights;
    if (want_shared)
        dshared[dshared_off + (size_t)r * ld_dshared + c] = w[0] * g;
    if (want_task)
        dtask[dtask_off + (size_t)r * ld_dtask + c] = w[1] * g;
}

/* dweights [samples, 2]: Σ over a sample's rows of dout·shared and dout·task. One group per
 * sample, summed through a fixed tree. */
ROW_KERNEL
void gate_dweights(__global const float *dout, uint dout_off, uint ld_dout,
                   __global const float *shared, uint shared_off, uint ld_shared,
                   uint has_shared, __global const float *task, uint task_off, uint ld_task,
                   uint has_task, uint rows_per_sample, uint cols,
                   __global float *dweights, uint dweights_off, uint ld_dweights) {
    __local float buf0[ROW_WG];
    __local float buf1[ROW_WG];
    uint lid = ROW_LANE, i = ROW_ID;
    uint per = rows_per_sample * cols;
    float acc0 = 0.0f, acc1 = 0.0f;
    for (uint e = lid; e < per; e += ROW_WG) {
        uint r = i * rows_per_sample + e / cols, c = e % cols;
        float g = dout[dout_off + (size_t)r * ld_dout + c];
        if (has_shared)
            acc0 += g * shared[shared_off + (size_t)r * ld_shared + c];
        if (has_task)
            acc1 += g * task[task_off + (size_t)r * ld_task + c];
    }
#if ROW_WG > 1
    buf0[lid] = acc0;
    buf1[lid] = acc1;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = ROW_WG / 2; step > 0; step /= 2) {
        if (lid < step) {
            buf0[lid] += buf0[lid + step];
            buf1[lid] += buf1[lid + step];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    acc0 = buf0[0];
    acc1 = buf1[0];
#endif
    if (lid == 0) {
        dweights[dweights_off + i * ld_dweights] = acc0;
        dweights[dweights_off + i * ld_dweights + 1] = acc1;
    }
}

/* dlogits [2] += Σ_i soft_i ⊙ (dw_i - soft_i·dw_i) / tau: the straight-through gradient. One
 * item walks the samples in order. */
__kernel void gate_dlogits(__global const float *soft, uint soft_off, uint ld_soft,
                           __global const float *dweights, uint dweights_off, uint ld_dweights,
                           uint samples,
                           float tau, __global float *dlogits, uint dlogits_off) {
    if (get_global_id(0) != 0)
        return;
    float acc0 = 0.0f, acc1 = 0.0f;
    for (uint i = 0; i < samples; i++) {
        float s0 = soft[soft_off + i * ld_soft], s1 = soft[soft_off + i * ld_soft + 1];
        float g0 = dweights[dweights_off + i * ld_dweights];
        float g1 = dweights[dweights_off + i * ld_dweights + 1];
        float dot = s0 * g0 + s1 * g1;
        acc0 += s0 * (g0 - dot);
        acc1 += s1 * (g1 - dot);
    }
    dlogits[dlogits_off] += acc0 / tau;
    dlogits[dlogits_off + 1] += acc1 / tau;
}
