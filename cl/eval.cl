/* Ranking reductions over one block of query × gallery scores (from the GEMM), so that only
 * per-pair numbers leave the device. A pair is (query, one of its true matches).
 * Options: -DEVAL_WG=<work-group size, power of two> and -DEVAL_EUCLIDEAN=0|1. */

/* The ranking score of a GEMM entry: similarity for cosine, 2 q·g - |g|² for Euclidean (the
 * same float operations as the host path, so both rank alike). */
#if EVAL_EUCLIDEAN
#define EVAL_SCORE(dot, gallery_sq) (2.0f * (dot) - (gallery_sq))
#else
#define EVAL_SCORE(dot, gallery_sq) (dot)
#endif

/* Copy the score of each pair whose match lies in gallery rows [g0, g0 + ng).
 * scores: block of queries q0.. (rows) × gallery g0.. (columns), leading dimension ld.
 * One work item per pair p0 + i, i < np. */
__kernel void eval_gather(__global const float *scores, uint ld, uint q0, uint g0, uint ng,
                          __global const uint *pair_query, __global const uint *pair_gallery,
                          uint p0, uint np, __global const float *gallery_sq,
                          __global float *pair_score) {
    uint i = get_global_id(0);
    if (i >= np) return;
    uint p = p0 + i, g = pair_gallery[p];
    if (g < g0 || g - g0 >= ng) return;
    float dot = AT(scores, pair_query[p] - q0, g - g0, ld);
    pair_score[p] = EVAL_SCORE(dot, gallery_sq[g]);
}

/* Add to pair_count[p] the number of valid gallery items of this block ranked ahead of the
 * pair's match: a higher score, or an equal score and a lower gallery index. Invalid items
 * are junk (negative identity), the query itself, and with drop_same_camera the items
 * sharing the query's identity and camera. One work group per pair, EVAL_WG items striding
 * the block row, a tree sum in local memory (integer, so deterministic anyway). */
__kernel __attribute__((reqd_work_group_size(EVAL_WG, 1, 1)))
void eval_count(__global const float *scores, uint ld, uint q0, uint g0, uint ng,
                __global const uint *pair_query, __global const uint *pair_gallery,
                __global const float *pair_score, uint p0,
                __global const long *query_id, __global const long *query_camera,
                __global const long *query_self, __global const long *gallery_id,
                __global const long *gallery_camera, __global const float *gallery_sq,
                int drop_same_camera, __global uint *pair_count) {
    __local uint part[EVAL_WG];
    uint p = p0 + get_group_id(0), lid = get_local_id(0);
    uint q = pair_query[p], m = pair_gallery[p];
    float s = pair_score[p];
    long qid = query_id[q], qcam = query_camera[q], self = query_self[q];
    __global const float *row = scores + (size_t)(q - q0) * ld;

    uint n = 0;
    for (uint j = lid; j < ng; j += EVAL_WG) {
        uint g = g0 + j;
        float x = EVAL_SCORE(row[j], gallery_sq[g]);
        if (x > s || (x == s && g < m)) {
            long gid = gallery_id[g];
            int valid = gid >= 0 && (long)g != self &&
                        !(drop_same_camera && gid == qid && gallery_camera[g] == qcam);
            n += valid;
        }
    }
    part[lid] = n;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint step = EVAL_WG / 2; step > 0; step /= 2) {
        if (lid < step) part[lid] += part[lid + step];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) pair_count[p] += part[0];
}
