/* Included ahead of every ufo kernel file. */
#define UFO_KERNEL 1

/* Element (i, j) of a row-major matrix with leading dimension ld. */
#define AT(p, i, j, ld) ((p)[(size_t)(i) * (ld) + (j)])

/* ROW_WG items share a row: on GPUs a work-group per row, summed through a fixed tree in local
 * memory. Built with -D ROW_WG=1 (CPUs, where a work-group per row costs more than the row),
 * one item owns a row and adds in order. Either way the order never varies between runs. */
#ifndef ROW_WG
#define ROW_WG 64
#endif
#if ROW_WG > 1
#define ROW_KERNEL __kernel __attribute__((reqd_work_group_size(ROW_WG, 1, 1)))
#define ROW_ID get_group_id(0)
#define ROW_LANE get_local_id(0)
#else
#define ROW_KERNEL __kernel
#define ROW_ID get_global_id(0)
#define ROW_LANE 0
#endif

/* Σ over the work-group of v, returned to every item. */
static float group_sum(__local float *buf, float v) {
#if ROW_WG > 1
    uint lid = get_local_id(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = ROW_WG / 2; step > 0; step /= 2) {
        if (lid < step)
            buf[lid] += buf[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float s = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return s;
#else
    return v;
#endif
}
