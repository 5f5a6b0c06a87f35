/* Patch embedding: image to patch rows (im2col), and the cls token + position embedding. Every
 * buffer comes with its first element (`*_off`) and, for matrices, its row length (`ld_*`). */

/* cols [B·P, ch·p·p] from image [B, ch, H, W]; dim 0 = column, dim 1 = patch row. */
__kernel void im2col(__global const float *image, uint image_off, uint channels, uint height,
                     uint width, uint patch, uint rows, __global float *cols, uint cols_off,
                     uint ld_cols) {
    uint j = get_global_id(0), r = get_global_id(1);
    uint kk = channels * patch * patch;
    if (j >= kk || r >= rows)
        return;
    uint gw = width / patch, per_image = (height / patch) * gw;
    uint b = r / per_image, pp = r % per_image, py = pp / gw, px = pp % gw;
    uint ch = j / (patch * patch), ky = (j / patch) % patch, kx = j % patch;
    size_t src = ((size_t)(b * channels + ch) * height + py * patch + ky) * width + px * patch + kx;
    cols[cols_off + (size_t)r * ld_cols + j] = image[image_off + src];
}

/* x [B·T, C]: cls + pos[0] on each sample's first row, emb + pos on the others;
 * dim 0 = column, dim 1 = token row. */
__kernel void tokens_forward(__global const float *emb, uint emb_off, uint ld_emb,
                             __global const float *cls, uint cls_off,
                             __global const float *pos, uint pos_off, uint ld_pos,
                             uint batch, uint patches, uint width,
                             __global float *x, uint x_off, uint ld_x) {
    uint c = get_global_id(0), r = get_global_id(1);
    uint tokens = patches + 1;
    if (c >= width || r >= batch * tokens)
        return;
    uint b = r / tokens, t = r % tokens;
    float v = t == 0 ? cls[cls_off + c]
                     : emb[emb_off + (size_t)(b * patches + t - 1) * ld_emb + c];
    x[x_off + (size_t)r * ld_x + c] = v + pos[pos_off + (size_t)t * ld_pos + c];
}

/* demb [B·P, C] = the patch rows of dx; dim 0 = column, dim 1 = patch row. */
__kernel void tokens_backward_emb(__global const float *dx, uint dx_off, uint ld_dx,
                                  uint batch, uint patches, uint width,
                                  __global float *demb, uint demb_off, uint ld_demb) {
    uint c = get_global_id(0), r = get_global_id(1);
    if (c >= width || r >= batch * patches)
        return;
    uint b = r / patches, i = r % patches;
    demb[demb_off + (size_t)r * ld_demb + c] =
        dx[dx_off + (size_t)(b * (patches + 1) + 1 + i) * ld_dx + c];
}

/* dpos [T, C] += Σ_b dx[b, t]; dcls [C] += Σ_b dx[b, 0]; dim 0 = column, dim 1 = token.
 * Each item sums its own column over the batch in order: deterministic. */
__kernel void tokens_backward_params(__global const float *dx, uint dx_off, uint ld_dx,
                                     uint batch, uint patches, uint width,
                                     __global float *dcls, uint dcls_off,
                                     __global float *dpos, uint dpos_off, uint ld_dpos) {
    uint c = get_global_id(0), t = get_global_id(1);
    uint tokens = patches + 1;
    if (c >= width || t >= tokens)
        return;
    float acc = 0.0f;
    for (uint b = 0; b < batch; b++)
        acc += dx[dx_off + (size_t)(b * tokens + t) * ld_dx + c];
    dpos[dpos_off + (size_t)t * ld_dpos + c] += acc;
    if (t == 0)
        dcls[dcls_off + c] += acc;
}
