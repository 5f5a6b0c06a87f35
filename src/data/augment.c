/* Training and evaluation transforms on decoded images. AutoAugment works on 8-bit RGB like
 * the reference method; everything after the resize works on floats, and the last steps
 * (pad, crop, flip, normalise) are one pass that writes the network's planar layout. */
#include "config.h"

#include "data/augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void data_transform_defaults(struct data_transform *t, int width, int height) {
    memset(t, 0, sizeof *t);
    t->width = width;
    t->height = height;
    t->autoaugment = t->pad_crop = t->flip = t->erase = true;
    t->aa_prob = t->flip_prob = t->erase_prob = 0.5f;
    t->pad = 10;
    t->erase_area_min = 0.02f;
    t->erase_area_max = 0.33f;
    t->erase_aspect_min = 0.3f;
    t->erase_aspect_max = 3.3f;
}

static inline uint8_t data_clamp_u8(double v) {
    v = floor(v + 0.5);
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* ITU-R 601 luma in 16-bit fixed point, rounded, as image libraries compute grey. */
static inline int data_luma(const uint8_t *p) {
    return (p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16;
}

/* Inverse-mapped affine warp with nearest sampling: output pixel centre (x, y) reads the
 * input at (m0·x + m1·y + m2, m3·x + m4·y + m5); outside reads black. */
static ufo_status data_warp(struct data_image *img, const double m[6]) {
    int w = img->width, h = img->height;
    uint8_t *out = malloc((size_t)w * h * 3);
    if (!out)
        return ufo_fail(UFO_ERR_NOMEM, "augment: out of memory for a %dx%d image", w, h);
    for (int y = 0; y < h; y++) {
        double cy = y + 0.5;
        for (int x = 0; x < w; x++) {
            double cx = x + 0.5;
            double sx = floor(m[0] * cx + m[1] * cy + m[2]);
            double sy = floor(m[3] * cx + m[4] * cy + m[5]);
            uint8_t *o = out + ((size_t)y * w + x) * 3;
            if (sx >= 0 && sx < w && sy >= 0 && sy < h) {
                const uint8_t *p = img->pixels + ((size_t)sy * w + (size_t)sx) * 3;
                o[0] = p[0];
                o[1] = p[1];
                o[2] = p[2];
            } else {
                o[0] = o[1] = o[2] = 0;
            }
        }
    }
    free(img->pixels);
    img->pixels = out;
    return UFO_OK;
}

/* Apply a per-channel lookup table. */
static void data_apply_lut(struct data_image *img, uint8_t lut[3][256]) {
    size_t n = (size_t)img->width * img->height;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            img->pixels[3 * i + c] = lut[c][img->pixels[3 * i + c]];
}

/* Per-channel histogram equalisation: the top occupied bin is left out of the step so the
 * brightest level maps to 255; a channel with a single level stays unchanged. */
static void data_equalize(struct data_image *img) {
    size_t n = (size_t)img->width * img->height;
    uint8_t lut[3][256];
    for (int c = 0; c < 3; c++) {
        size_t hist[256] = {0};
        for (size_t i = 0; i < n; i++)
            hist[img->pixels[3 * i + c]]++;
        int last = 255;
        while (last > 0 && hist[last] == 0)
            last--;
        size_t step = (n - hist[last]) / 255;
        size_t cum = step / 2;
        for (int v = 0; v < 256; v++) {
            if (step == 0) {
                lut[c][v] = (uint8_t)v;
                continue;
            }
            size_t q = cum / step;
            lut[c][v] = (uint8_t)(q > 255 ? 255 : q);
            cum += hist[v];
        }
    }
    data_apply_lut(img, lut);
}

/* Stretch each channel so its darkest value becomes 0 and brightest 255. */
static void data_auto_contrast(struct data_image *img) {
    size_t n = (size_t)img->width * img->height;
    uint8_t lut[3][256];
    for (int c = 0; c < 3; c++) {
        int lo = 255, hi = 0;
        for (size_t i = 0; i < n; i++) {
            int v = img->pixels[3 * i + c];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        for (int v = 0; v < 256; v++)
            lut[c][v] = hi > lo ? data_clamp_u8((v - lo) * 255.0 / (hi - lo)) : (uint8_t)v;
    }
    data_apply_lut(img, lut);
}

/* out = degenerate + f·(img - degenerate), per pixel and channel, rounded and clamped. */
static void data_blend(struct data_image *img, const uint8_t *degenerate, double f) {
    size_t n = (size_t)img->width * img->height * 3;
    for (size_t i = 0; i < n; i++)
        img->pixels[i] = data_clamp_u8(degenerate[i] + f * (img->pixels[i] - degenerate[i]));
}

/* The enhance family: the degenerate image is grey mean (contrast), per-pixel grey (color),
 * black (brightness) or a 3×3 smoothing with weight 5 in the centre, borders kept
 * (sharpness). */
static ufo_status data_enhance(struct data_image *img, enum data_aa_op op, double f) {
    int w = img->width, h = img->height;
    size_t n = (size_t)w * h;
    uint8_t *deg = malloc(n * 3);
    if (!deg)
        return ufo_fail(UFO_ERR_NOMEM, "augment: out of memory for a %dx%d image", w, h);
    const uint8_t *p = img->pixels;
    if (op == DATA_AA_CONTRAST) {
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += data_luma(p + 3 * i);
        memset(deg, (int)floor(sum / n + 0.5), n * 3);
    } else if (op == DATA_AA_COLOR) {
        for (size_t i = 0; i < n; i++)
            deg[3 * i] = deg[3 * i + 1] = deg[3 * i + 2] = (uint8_t)data_luma(p + 3 * i);
    } else if (op == DATA_AA_BRIGHTNESS) {
        memset(deg, 0, n * 3);
    } else {
        memcpy(deg, p, n * 3);
        for (int y = 1; y < h - 1; y++)
            for (int x = 1; x < w - 1; x++)
                for (int c = 0; c < 3; c++) {
                    int s = 4 * p[((size_t)y * w + x) * 3 + c];
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++)
                            s += p[((size_t)(y + dy) * w + (x + dx)) * 3 + c];
                    deg[((size_t)y * w + x) * 3 + c] = (uint8_t)((s + 6) / 13);
                }
    }
    data_blend(img, deg, f);
    free(deg);
    return UFO_OK;
}

ufo_status data_aa_apply(enum data_aa_op op, double v, struct data_image *img) {
    uint8_t lut[3][256];
    double cx = img->width / 2.0, cy = img->height / 2.0;
    switch (op) {
    case DATA_AA_SHEAR_X:
        return data_warp(img, (double[6]){1, v, 0, 0, 1, 0});
    case DATA_AA_SHEAR_Y:
        return data_warp(img, (double[6]){1, 0, 0, v, 1, 0});
    case DATA_AA_TRANSLATE_X:
        return data_warp(img, (double[6]){1, 0, -v, 0, 1, 0});
    case DATA_AA_TRANSLATE_Y:
        return data_warp(img, (double[6]){1, 0, 0, 0, 1, -v});
    case DATA_AA_ROTATE: {
        /* y points down, so a counter-clockwise turn on screen reads the input turned back */
        double a = v * M_PI / 180.0, c = cos(a), s = sin(a);
        return data_warp(img, (double[6]){c, -s, cx - c * cx + s * cy,
                                          s, c, cy - s * cx - c * cy});
    }
    case DATA_AA_AUTO_CONTRAST:
        data_auto_contrast(img);
        return UFO_OK;
    case DATA_AA_EQUALIZE:
        data_equalize(img);
        return UFO_OK;
    case DATA_AA_INVERT:
    case DATA_AA_SOLARIZE:
    case DATA_AA_POSTERIZE: {
        int bits = (int)v;
        uint8_t mask = (uint8_t)(bits >= 8 ? 0xff : bits <= 0 ? 0 : 0xff << (8 - bits));
        for (int x = 0; x < 256; x++) {
            uint8_t r = op == DATA_AA_INVERT     ? (uint8_t)(255 - x)
                        : op == DATA_AA_SOLARIZE ? (uint8_t)(x >= v ? 255 - x : x)
                                                 : (uint8_t)(x & mask);
            lut[0][x] = lut[1][x] = lut[2][x] = r;
        }
        data_apply_lut(img, lut);
        return UFO_OK;
    }
    case DATA_AA_CONTRAST:
    case DATA_AA_COLOR:
    case DATA_AA_BRIGHTNESS:
    case DATA_AA_SHARPNESS:
        return data_enhance(img, op, v);
    default:
        return ufo_fail(UFO_ERR_INVALID, "augment: unknown AutoAugment operation %d", (int)op);
    }
}

double data_aa_value(enum data_aa_op op, int m, int sign, int width, int height) {
    double t = m / 9.0;
    switch (op) {
    case DATA_AA_SHEAR_X:
    case DATA_AA_SHEAR_Y:
        return sign * 0.3 * t;
    case DATA_AA_TRANSLATE_X:
        return sign * (150.0 / 331.0) * width * t;
    case DATA_AA_TRANSLATE_Y:
        return sign * (150.0 / 331.0) * height * t;
    case DATA_AA_ROTATE:
        return sign * 30.0 * t;
    case DATA_AA_CONTRAST:
    case DATA_AA_COLOR:
    case DATA_AA_BRIGHTNESS:
    case DATA_AA_SHARPNESS:
        return 1.0 + sign * 0.9 * t;
    case DATA_AA_POSTERIZE:
        return 8 - floor(m * 4.0 / 9.0 + 0.5);
    case DATA_AA_SOLARIZE:
        return 255.0 * (1.0 - t);
    default:
        return 0;
    }
}

/* The ImageNet policy found by the AutoAugment search: 25 pairs of (operation, probability,
 * magnitude 0..9); magnitude is unused by the operations that take none. */
struct data_aa_step {
    enum data_aa_op op;
    float prob;
    int magnitude;
};

static const struct data_aa_step data_imagenet_policy[25][2] = {
    {{DATA_AA_POSTERIZE, 0.4f, 8}, {DATA_AA_ROTATE, 0.6f, 9}},
    {{DATA_AA_SOLARIZE, 0.6f, 5}, {DATA_AA_AUTO_CONTRAST, 0.6f, 0}},
    {{DATA_AA_EQUALIZE, 0.8f, 0}, {DATA_AA_EQUALIZE, 0.6f, 0}},
    {{DATA_AA_POSTERIZE, 0.6f, 7}, {DATA_AA_POSTERIZE, 0.6f, 6}},
    {{DATA_AA_EQUALIZE, 0.4f, 0}, {DATA_AA_SOLARIZE, 0.2f, 4}},
    {{DATA_AA_EQUALIZE, 0.4f, 0}, {DATA_AA_ROTATE, 0.8f, 8}},
    {{DATA_AA_SOLARIZE, 0.6f, 3}, {DATA_AA_EQUALIZE, 0.6f, 0}},
    {{DATA_AA_POSTERIZE, 0.8f, 5}, {DATA_AA_EQUALIZE, 1.0f, 0}},
    {{DATA_AA_ROTATE, 0.2f, 3}, {DATA_AA_SOLARIZE, 0.6f, 8}},
    {{DATA_AA_EQUALIZE, 0.6f, 0}, {DATA_AA_POSTERIZE, 0.4f, 6}},
    {{DATA_AA_ROTATE, 0.8f, 8}, {DATA_AA_COLOR, 0.4f, 0}},
    {{DATA_AA_ROTATE, 0.4f, 9}, {DATA_AA_EQUALIZE, 0.6f, 0}},
    {{DATA_AA_EQUALIZE, 0.0f, 0}, {DATA_AA_EQUALIZE, 0.8f, 0}},
    {{DATA_AA_INVERT, 0.6f, 0}, {DATA_AA_EQUALIZE, 1.0f, 0}},
    {{DATA_AA_COLOR, 0.6f, 4}, {DATA_AA_CONTRAST, 1.0f, 8}},
    {{DATA_AA_ROTATE, 0.8f, 8}, {DATA_AA_COLOR, 1.0f, 2}},
    {{DATA_AA_COLOR, 0.8f, 8}, {DATA_AA_SOLARIZE, 0.8f, 7}},
    {{DATA_AA_SHARPNESS, 0.4f, 7}, {DATA_AA_INVERT, 0.6f, 0}},
    {{DATA_AA_SHEAR_X, 0.6f, 5}, {DATA_AA_EQUALIZE, 1.0f, 0}},
    {{DATA_AA_COLOR, 0.4f, 0}, {DATA_AA_EQUALIZE, 0.6f, 0}},
    {{DATA_AA_EQUALIZE, 0.4f, 0}, {DATA_AA_SOLARIZE, 0.2f, 4}},
    {{DATA_AA_SOLARIZE, 0.6f, 5}, {DATA_AA_AUTO_CONTRAST, 0.6f, 0}},
    {{DATA_AA_INVERT, 0.6f, 0}, {DATA_AA_EQUALIZE, 1.0f, 0}},
    {{DATA_AA_COLOR, 0.6f, 4}, {DATA_AA_CONTRAST, 1.0f, 8}},
    {{DATA_AA_EQUALIZE, 0.8f, 0}, {DATA_AA_EQUALIZE, 0.6f, 0}},
};

ufo_status data_autoaugment(struct data_image *img, float prob, struct data_rng *rng) {
    if (data_rng_uniform(rng) >= prob)
        return UFO_OK;
    const struct data_aa_step *policy = data_imagenet_policy[data_rng_below(rng, 25)];
    for (int i = 0; i < 2; i++) {
        const struct data_aa_step *s = &policy[i];
        double u = data_rng_uniform(rng);
        int sign = data_rng_u32(rng) & 1 ? -1 : 1;
        if (u >= s->prob)
            continue;
        double v = data_aa_value(s->op, s->magnitude, sign, img->width, img->height);
        ufo_status st = data_aa_apply(s->op, v, img);
        if (st)
            return st;
    }
    return UFO_OK;
}

/* Keys' cubic with a = -0.5. */
static double data_cubic(double x) {
    const double a = -0.5;
    x = fabs(x);
    if (x < 1)
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    if (x < 2)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0;
}

/* Taps of one output coordinate: the input range [first, first + count) and its weights. */
struct data_taps {
    int *first, *count;
    float *weights;          /* out × max_taps */
    int max_taps;
};

/* Weights for resizing `in` samples to `out`: output i is centred at (i + 0.5)·in/out in
 * input pixels; when shrinking the kernel is stretched by in/out. Taps outside the image are
 * dropped and the rest renormalised. */
static ufo_status data_taps_make(struct data_taps *t, int in, int out) {
    double scale = (double)in / out, fs = scale > 1 ? scale : 1;
    double support = 2 * fs;
    t->max_taps = (int)ceil(2 * support) + 3;
    t->first = malloc(sizeof(int) * out);
    t->count = malloc(sizeof(int) * out);
    t->weights = malloc(sizeof(float) * out * t->max_taps);
    if (!t->first || !t->count || !t->weights)
        return ufo_fail(UFO_ERR_NOMEM, "resize: out of memory");
    for (int i = 0; i < out; i++) {
        double centre = (i + 0.5) * scale;
        int lo = (int)floor(centre - support - 0.5), hi = (int)ceil(centre + support - 0.5);
        lo = lo < 0 ? 0 : lo;
        hi = hi > in - 1 ? in - 1 : hi;
        float *w = t->weights + (size_t)i * t->max_taps;
        double sum = 0;
        int n = 0;
        for (int j = lo; j <= hi && n < t->max_taps; j++) {
            double k = data_cubic((j + 0.5 - centre) / fs);
            w[n++] = (float)k;
            sum += k;
        }
        t->first[i] = lo;
        t->count[i] = n;
        for (int k = 0; k < n; k++)
            w[k] = (float)(sum != 0 ? w[k] / sum : 0);
    }
    return UFO_OK;
}

static void data_taps_free(struct data_taps *t) {
    free(t->first);
    free(t->count);
    free(t->weights);
}

/* o += w · r over n values. GCC's -O2 cost model leaves this loop scalar; it is most of the
 * resize, so ask for full vectorisation here. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("O3")))
#endif
static void data_axpy_u8(float *restrict o, const uint8_t *restrict r, float w, size_t n) {
    for (size_t i = 0; i < n; i++)
        o[i] += w * r[i];
}

ufo_status data_resize_bicubic(const struct data_image *src, int w, int h, float *dst) {
    int sw = src->width, sh = src->height;
    if (sw > 32 * w || sh > 32 * h)
        return ufo_fail(UFO_ERR_INVALID, "resize: %dx%d to %dx%d shrinks more than 32 times",
                        sw, sh, w, h);
    struct data_taps tx = {0}, ty = {0};
    float *tmp = malloc(sizeof(float) * (size_t)h * sw * 3);
    ufo_status st = tmp ? UFO_OK : ufo_fail(UFO_ERR_NOMEM, "resize: out of memory");
    if (!st)
        st = data_taps_make(&tx, sw, w);
    if (!st)
        st = data_taps_make(&ty, sh, h);
    if (st) {
        free(tmp);
        data_taps_free(&tx);
        data_taps_free(&ty);
        return st;
    }

    /* columns first, h × sw × 3: each output row is a weighted sum of whole input rows,
     * contiguous loops the compiler vectorises */
    size_t span = (size_t)sw * 3;
    for (int y = 0; y < h; y++) {
        const float *wt = ty.weights + (size_t)y * ty.max_taps;
        float *o = tmp + (size_t)y * span;
        for (size_t i = 0; i < span; i++)
            o[i] = 0;
        for (int k = 0; k < ty.count[y]; k++)
            data_axpy_u8(o, src->pixels + (size_t)(ty.first[y] + k) * span, wt[k], span);
    }

    /* then rows, clamping to the 8-bit range the source had */
    for (int y = 0; y < h; y++) {
        const float *row = tmp + (size_t)y * span;
        float *o = dst + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) {
            const float *wt = tx.weights + (size_t)x * tx.max_taps;
            const float *p = row + (size_t)tx.first[x] * 3;
            float r = 0, g = 0, b = 0;
            for (int k = 0; k < tx.count[x]; k++, p += 3) {
                r += wt[k] * p[0];
                g += wt[k] * p[1];
                b += wt[k] * p[2];
            }
            o[3 * x] = r < 0 ? 0 : r > 255 ? 255 : r;
            o[3 * x + 1] = g < 0 ? 0 : g > 255 ? 255 : g;
            o[3 * x + 2] = b < 0 ? 0 : b > 255 ? 255 : b;
        }
    }
    free(tmp);
    data_taps_free(&tx);
    data_taps_free(&ty);
    return UFO_OK;
}

bool data_erase_box(const struct data_transform *t, struct data_rng *rng, int h, int w,
                    int *y0, int *x0, int *eh, int *ew) {
    double area = (double)h * w;
    double lmin = log(t->erase_aspect_min), lmax = log(t->erase_aspect_max);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * data_rng_range(rng, t->erase_area_min, t->erase_area_max);
        double aspect = exp(data_rng_range(rng, lmin, lmax));
        int bh = (int)floor(sqrt(target * aspect) + 0.5);
        int bw = (int)floor(sqrt(target / aspect) + 0.5);
        if (bh < 1 || bw < 1 || bh >= h || bw >= w)
            continue;
        *y0 = (int)data_rng_below(rng, (uint32_t)(h - bh + 1));
        *x0 = (int)data_rng_below(rng, (uint32_t)(w - bw + 1));
        *eh = bh;
        *ew = bw;
        return true;
    }
    return false;
}

/* Resize, then pad/crop, flip and normalise in one pass into planar CHW. (dy, dx) is the crop
 * offset relative to the unpadded image. */
static ufo_status data_finish_planar(const struct data_transform *t,
                                     const struct data_image *img, int dy, int dx, bool flip,
                                     float *out) {
    int w = t->width, h = t->height;
    float *rgb = malloc(sizeof(float) * (size_t)w * h * 3);
    if (!rgb)
        return ufo_fail(UFO_ERR_NOMEM, "augment: out of memory");
    ufo_status st = data_resize_bicubic(img, w, h, rgb);
    if (st) {
        free(rgb);
        return st;
    }
    size_t plane = (size_t)w * h;
    for (int y = 0; y < h; y++) {
        int sy = y + dy;
        for (int x = 0; x < w; x++) {
            int sx = (flip ? w - 1 - x : x) + dx;
            size_t o = (size_t)y * w + x;
            if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
                out[o] = out[plane + o] = out[2 * plane + o] = -1.0f;
                continue;
            }
            const float *p = rgb + ((size_t)sy * w + sx) * 3;
            for (int c = 0; c < 3; c++)
                out[c * plane + o] = p[c] * (1.0f / 127.5f) - 1.0f;
        }
    }
    free(rgb);
    return UFO_OK;
}

ufo_status data_transform_train(const struct data_transform *t, struct data_image *img,
                                uint64_t seed, uint64_t step, uint32_t sample, float *out) {
    struct data_rng rng;
    ufo_status st;
    if (t->autoaugment) {
        data_rng_init(&rng, seed, step, sample, DATA_RNG_AUTOAUGMENT);
        if ((st = data_autoaugment(img, t->aa_prob, &rng)))
            return st;
    }

    /* the crop offset in the padded frame is uniform in [0, 2·pad] */
    int dy = 0, dx = 0;
    if (t->pad_crop && t->pad > 0) {
        data_rng_init(&rng, seed, step, sample, DATA_RNG_CROP);
        dy = (int)data_rng_below(&rng, (uint32_t)(2 * t->pad + 1)) - t->pad;
        dx = (int)data_rng_below(&rng, (uint32_t)(2 * t->pad + 1)) - t->pad;
    }
    bool flip = false;
    if (t->flip) {
        data_rng_init(&rng, seed, step, sample, DATA_RNG_FLIP);
        flip = data_rng_uniform(&rng) < t->flip_prob;
    }
    if ((st = data_finish_planar(t, img, dy, dx, flip, out)))
        return st;

    if (t->erase) {
        data_rng_init(&rng, seed, step, sample, DATA_RNG_ERASE);
        int y0, x0, eh, ew;
        if (data_rng_uniform(&rng) < t->erase_prob &&
            data_erase_box(t, &rng, t->height, t->width, &y0, &x0, &eh, &ew)) {
            struct data_rng noise;
            data_rng_init(&noise, seed, step, sample, DATA_RNG_ERASE_NOISE);
            size_t plane = (size_t)t->width * t->height;
            for (int c = 0; c < 3; c++)
                for (int y = y0; y < y0 + eh; y++) {
                    float *row = out + c * plane + (size_t)y * t->width;
                    int x = x0;
                    for (; x + 1 < x0 + ew; x += 2)
                        data_rng_normal2(&noise, &row[x], &row[x + 1]);
                    if (x < x0 + ew)
                        row[x] = data_rng_normal(&noise);
                }
        }
    }
    return UFO_OK;
}

ufo_status data_transform_eval(const struct data_transform *t, const struct data_image *img,
                               float *out) {
    return data_finish_planar(t, img, 0, 0, false, out);
}
