/* Augmentation checks: bicubic resize against a double-precision 2-D reference, each
 * AutoAugment operation on hand-computed cases, random-erasing bounds, pad/crop/flip and
 * normalisation layouts, and determinism of the keyed draws. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/augment.h"

static int failures;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            failures++;                                                                   \
            if (failures < 40) {                                                          \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                      \
                fprintf(stderr, __VA_ARGS__);                                             \
                fprintf(stderr, "\n");                                                    \
            }                                                                             \
        }                                                                                 \
    } while (0)

static struct data_image make_image(int w, int h, uint32_t seed) {
    struct data_image img;
    if (data_image_alloc(&img, w, h))
        exit(1);
    for (int i = 0; i < w * h * 3; i++) {
        seed = seed * 1664525u + 1013904223u;
        img.pixels[i] = (uint8_t)(seed >> 24);
    }
    return img;
}

static struct data_image copy_image(const struct data_image *src) {
    struct data_image img;
    if (data_image_alloc(&img, src->width, src->height))
        exit(1);
    memcpy(img.pixels, src->pixels, (size_t)src->width * src->height * 3);
    return img;
}

static uint8_t px(const struct data_image *img, int x, int y, int c) {
    return img->pixels[((size_t)y * img->width + x) * 3 + c];
}

/* Reference resize: each output pixel as one 2-D sum over all input pixels, in double. */
static double ref_cubic(double x) {
    x = fabs(x);
    if (x < 1)
        return 1.5 * x * x * x - 2.5 * x * x + 1;
    if (x < 2)
        return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2;
    return 0;
}

static double ref_weight(int j, int i, int in, int out, double *norm) {
    double scale = (double)in / out, fs = scale > 1 ? scale : 1;
    double centre = (i + 0.5) * scale, sum = 0;
    for (int k = 0; k < in; k++)
        sum += ref_cubic((k + 0.5 - centre) / fs);
    *norm = sum;
    return ref_cubic((j + 0.5 - centre) / fs) / sum;
}

static void test_resize(int sw, int sh, int w, int h) {
    struct data_image src = make_image(sw, sh, (uint32_t)(sw * 31 + sh));
    float *out = malloc(sizeof(float) * w * h * 3);
    ufo_status st = data_resize_bicubic(&src, w, h, out);
    CHECK(st == UFO_OK, "resize %dx%d -> %dx%d: %s", sw, sh, w, h, ufo_last_error());
    double worst = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                double v = 0, n;
                for (int j = 0; j < sh; j++) {
                    double wy = ref_weight(j, y, sh, h, &n);
                    if (wy == 0)
                        continue;
                    for (int i = 0; i < sw; i++)
                        v += wy * ref_weight(i, x, sw, w, &n) * px(&src, i, j, c);
                }
                v = v < 0 ? 0 : v > 255 ? 255 : v;
                double d = fabs(v - out[(y * w + x) * 3 + c]);
                worst = d > worst ? d : worst;
                CHECK(d < 2e-3, "resize %dx%d -> %dx%d at (%d,%d,%d): %f vs reference %f", sw,
                      sh, w, h, x, y, c, out[(y * w + x) * 3 + c], v);
            }
    data_image_free(&src);
    free(out);
}

static void test_resize_identity(void) {
    struct data_image src = make_image(9, 6, 7);
    float out[9 * 6 * 3];
    data_resize_bicubic(&src, 9, 6, out);
    for (int i = 0; i < 9 * 6 * 3; i++)
        CHECK(fabsf(out[i] - src.pixels[i]) < 1e-4f, "same-size resize changed value %d", i);
    data_image_free(&src);
}

/* Compare an image with expected bytes. */
static void expect_pixels(const char *what, const struct data_image *img, const uint8_t *want) {
    int shown = 0;
    for (int i = 0; i < img->width * img->height * 3; i++)
        if (img->pixels[i] != want[i] && shown++ < 4)
            CHECK(0, "%s: pixel %d channel %d: got %d, expected %d", what, i / 3, i % 3,
                  img->pixels[i], want[i]);
}

/* Geometric ops on a 4 × 4 image whose pixel (x, y) holds 10·(y·4 + x) + 1 + c·100 % 256;
 * `map(x, y)` gives the source pixel of each output pixel or -1 for black. */
static void check_geometry(const char *what, enum data_aa_op op, double v, const int src[16][2]) {
    struct data_image img;
    data_image_alloc(&img, 4, 4);
    for (int i = 0; i < 16; i++)
        for (int c = 0; c < 3; c++)
            img.pixels[3 * i + c] = (uint8_t)((10 * i + 1 + c * 100) % 256);
    uint8_t want[48];
    for (int i = 0; i < 16; i++)
        for (int c = 0; c < 3; c++) {
            int sx = src[i][0], sy = src[i][1];
            want[3 * i + c] = sx < 0 ? 0 : (uint8_t)((10 * (sy * 4 + sx) + 1 + c * 100) % 256);
        }
    CHECK(data_aa_apply(op, v, &img) == UFO_OK, "%s failed", what);
    expect_pixels(what, &img, want);
    data_image_free(&img);
}

static void test_geometry(void) {
    int map[16][2];

    /* shear x by 0.5: pixel centres shift by 0.5·(y + 0.5), so rows move 0, 1, 1, 2 */
    int shift[4] = {0, 1, 1, 2};
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            int sx = x + shift[y];
            map[y * 4 + x][0] = sx < 4 ? sx : -1;
            map[y * 4 + x][1] = y;
        }
    check_geometry("ShearX 0.5", DATA_AA_SHEAR_X, 0.5, (const int(*)[2])map);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            int sy = y + shift[x];
            map[y * 4 + x][0] = sy < 4 ? x : -1;
            map[y * 4 + x][1] = sy;
        }
    check_geometry("ShearY 0.5", DATA_AA_SHEAR_Y, 0.5, (const int(*)[2])map);

    /* translate right by 1, up by 2 */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            map[y * 4 + x][0] = x >= 1 ? x - 1 : -1;
            map[y * 4 + x][1] = y;
        }
    check_geometry("TranslateX 1", DATA_AA_TRANSLATE_X, 1, (const int(*)[2])map);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            map[y * 4 + x][0] = y + 2 < 4 ? x : -1;
            map[y * 4 + x][1] = y + 2;
        }
    check_geometry("TranslateY -2", DATA_AA_TRANSLATE_Y, -2, (const int(*)[2])map);

    /* quarter turns: counter-clockwise 90 puts the top-right corner at the top-left */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            map[y * 4 + x][0] = 3 - y;
            map[y * 4 + x][1] = x;
        }
    check_geometry("Rotate 90", DATA_AA_ROTATE, 90, (const int(*)[2])map);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            map[y * 4 + x][0] = y;
            map[y * 4 + x][1] = 3 - x;
        }
    check_geometry("Rotate -90", DATA_AA_ROTATE, -90, (const int(*)[2])map);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            map[y * 4 + x][0] = 3 - x;
            map[y * 4 + x][1] = 3 - y;
        }
    check_geometry("Rotate 180", DATA_AA_ROTATE, 180, (const int(*)[2])map);

    /* rotating by 45 degrees keeps the centre and blackens the corners */
    struct data_image img = make_image(8, 8, 3);
    struct data_image orig = copy_image(&img);
    data_aa_apply(DATA_AA_ROTATE, 45, &img);
    CHECK(px(&img, 0, 0, 0) == 0 && px(&img, 7, 7, 1) == 0, "rotate 45: corners not black");
    CHECK(px(&img, 4, 4, 0) == px(&orig, 4, 4, 0) || px(&img, 4, 4, 0) == px(&orig, 3, 4, 0) ||
              px(&img, 4, 4, 0) == px(&orig, 4, 3, 0) || px(&img, 4, 4, 0) == px(&orig, 3, 3, 0),
          "rotate 45 moved the centre");
    data_image_free(&img);
    data_image_free(&orig);
}

/* Point operations on a one-row image. */
static void check_row(const char *what, enum data_aa_op op, double v, const uint8_t *in,
                      const uint8_t *want, int n) {
    struct data_image img;
    data_image_alloc(&img, n, 1);
    memcpy(img.pixels, in, (size_t)n * 3);
    data_aa_apply(op, v, &img);
    expect_pixels(what, &img, want);
    data_image_free(&img);
}

static void test_point_ops(void) {
    const uint8_t a[12] = {0, 127, 128, 255, 1, 171, 15, 200, 50, 100, 150, 60};

    /* invert, solarize at 128, posterize to 4 bits */
    uint8_t inv[12], sol[12], pos[12];
    for (int i = 0; i < 12; i++) {
        inv[i] = (uint8_t)(255 - a[i]);
        sol[i] = a[i] >= 128 ? (uint8_t)(255 - a[i]) : a[i];
    }
    const uint8_t pos_hand[12] = {0, 112, 128, 240, 0, 160, 0, 192, 48, 96, 144, 48};
    memcpy(pos, pos_hand, 12);
    check_row("Invert", DATA_AA_INVERT, 0, a, inv, 4);
    const uint8_t sol_hand[12] = {0, 127, 127, 0, 1, 84, 15, 55, 50, 100, 105, 60};
    CHECK(memcmp(sol, sol_hand, 12) == 0, "solarize hand case inconsistent");
    check_row("Solarize 128", DATA_AA_SOLARIZE, 128, a, sol_hand, 4);
    check_row("Posterize 4", DATA_AA_POSTERIZE, 4, a, pos, 4);

    /* auto-contrast: R spans 50..150 -> 0, 128, 255; G constant stays; B spans 0..200 */
    const uint8_t ac_in[9] = {50, 9, 0, 100, 9, 100, 150, 9, 200};
    const uint8_t ac_out[9] = {0, 9, 0, 128, 9, 128, 255, 9, 255};
    check_row("AutoContrast", DATA_AA_AUTO_CONTRAST, 0, ac_in, ac_out, 3);

    /* brightness 0.5 rounds half up; colour 0 gives the luma; colour 2 extrapolates */
    const uint8_t br_in[6] = {101, 255, 0, 3, 4, 200};
    const uint8_t br_out[6] = {51, 128, 0, 2, 2, 100};
    check_row("Brightness 0.5", DATA_AA_BRIGHTNESS, 0.5, br_in, br_out, 2);
    const uint8_t red[3] = {255, 0, 0};
    const uint8_t red_grey[3] = {76, 76, 76}, red_vivid[3] = {255, 0, 0};
    check_row("Color 0", DATA_AA_COLOR, 0, red, red_grey, 1);
    check_row("Color 2", DATA_AA_COLOR, 2, red, red_vivid, 1);
    const uint8_t mix[3] = {100, 50, 200};
    /* luma of (100, 50, 200) = 82.05 -> 82; then 82 + 1.5·(v - 82) */
    const uint8_t mix_out[3] = {109, 34, 255};
    check_row("Color 1.5", DATA_AA_COLOR, 1.5, mix, mix_out, 1);

    /* contrast: the mean luma of black and white is 127.5 -> 128 */
    const uint8_t bw[6] = {0, 0, 0, 255, 255, 255};
    const uint8_t bw0[6] = {128, 128, 128, 128, 128, 128};
    const uint8_t bw_half[6] = {64, 64, 64, 192, 192, 192};
    check_row("Contrast 0", DATA_AA_CONTRAST, 0, bw, bw0, 2);
    check_row("Contrast 0.5", DATA_AA_CONTRAST, 0.5, bw, bw_half, 2);
}

static void test_equalize_sharpness(void) {
    /* 255 zeros, 255 fifties, one 200: step (511 - 1) / 255 = 2 -> 0, 128, 255 */
    struct data_image img;
    data_image_alloc(&img, 511, 1);
    for (int i = 0; i < 511; i++) {
        uint8_t v = i < 255 ? 0 : i < 510 ? 50 : 200;
        img.pixels[3 * i] = v;
        img.pixels[3 * i + 1] = 7;       /* one level: unchanged */
        img.pixels[3 * i + 2] = i < 300 ? 10 : 20;
    }
    data_aa_apply(DATA_AA_EQUALIZE, 0, &img);
    CHECK(img.pixels[0] == 0 && img.pixels[3 * 300] == 128 && img.pixels[3 * 510] == 255,
          "Equalize red: %d %d %d, expected 0 128 255", img.pixels[0], img.pixels[900],
          img.pixels[1530]);
    CHECK(img.pixels[1] == 7 && img.pixels[3 * 510 + 1] == 7, "Equalize changed a flat channel");
    /* blue: 300 tens, 211 twenties: step (511 - 211) / 255 = 1 -> 10 maps to 0, 20 to 255 */
    CHECK(img.pixels[2] == 0 && img.pixels[3 * 400 + 2] == 255, "Equalize blue: %d %d",
          img.pixels[2], img.pixels[3 * 400 + 2]);
    data_image_free(&img);

    /* sharpness on a 3 × 3 grey image with a bright centre: the smoothed centre is
     * 5·130/13 = 50; borders are kept */
    data_image_alloc(&img, 3, 3);
    for (int f = 0; f < 3; f++) {
        memset(img.pixels, 0, 27);
        for (int c = 0; c < 3; c++)
            img.pixels[12 + c] = 130;
        double factors[3] = {0, 1, 2};
        uint8_t centre[3] = {50, 130, 210};
        data_aa_apply(DATA_AA_SHARPNESS, factors[f], &img);
        CHECK(img.pixels[12] == centre[f] && img.pixels[0] == 0,
              "Sharpness %.0f: centre %d, expected %d", factors[f], img.pixels[12], centre[f]);
    }
    data_image_free(&img);
}

static void test_levels(void) {
    CHECK(data_aa_value(DATA_AA_POSTERIZE, 8, 1, 10, 10) == 4, "posterize level 8");
    CHECK(data_aa_value(DATA_AA_POSTERIZE, 5, 1, 10, 10) == 6, "posterize level 5");
    CHECK(data_aa_value(DATA_AA_POSTERIZE, 0, 1, 10, 10) == 8, "posterize level 0");
    CHECK(fabs(data_aa_value(DATA_AA_SOLARIZE, 9, 1, 10, 10)) < 1e-9, "solarize level 9");
    CHECK(fabs(data_aa_value(DATA_AA_ROTATE, 9, -1, 10, 10) + 30) < 1e-9, "rotate level 9");
    CHECK(fabs(data_aa_value(DATA_AA_COLOR, 9, -1, 10, 10) - 0.1) < 1e-9, "color level 9");
    CHECK(fabs(data_aa_value(DATA_AA_TRANSLATE_X, 9, 1, 331, 10) - 150) < 1e-9, "translate");
    CHECK(fabs(data_aa_value(DATA_AA_SHEAR_Y, 3, 1, 10, 10) - 0.1) < 1e-9, "shear level 3");
}

static void test_erase_box(void) {
    struct data_transform t;
    data_transform_defaults(&t, 64, 48);
    int h = 48, w = 64, fitted = 0;
    double amin = 1, amax = 0, rmin = 100, rmax = 0;
    for (uint32_t s = 0; s < 4000; s++) {
        struct data_rng rng;
        data_rng_init(&rng, 5, 1, s, DATA_RNG_ERASE);
        int y0, x0, eh, ew;
        if (!data_erase_box(&t, &rng, h, w, &y0, &x0, &eh, &ew))
            continue;
        fitted++;
        double area = (double)h * w;
        CHECK(y0 >= 0 && x0 >= 0 && y0 + eh <= h && x0 + ew <= w, "box %d,%d %dx%d outside",
              y0, x0, eh, ew);
        /* the box sides are rounded from exact ones, so allow half a pixel each */
        CHECK((eh - 0.5) * (ew - 0.5) <= 0.33 * area && (eh + 0.5) * (ew + 0.5) >= 0.02 * area,
              "box %dx%d area outside 2%%-33%%", eh, ew);
        CHECK((eh - 0.5) / (ew + 0.5) <= 3.3 && (eh + 0.5) / (ew - 0.5) >= 0.3,
              "box %dx%d aspect outside 0.3-3.3", eh, ew);
        double a = eh * ew / area, r = (double)eh / ew;
        amin = a < amin ? a : amin;
        amax = a > amax ? a : amax;
        rmin = r < rmin ? r : rmin;
        rmax = r > rmax ? r : rmax;
    }
    CHECK(fitted > 3000, "only %d of 4000 boxes fitted", fitted);
    CHECK(amin < 0.03 && amax > 0.3 && rmin < 0.4 && rmax > 2.5,
          "boxes do not span the ranges: area %.3f-%.3f aspect %.2f-%.2f", amin, amax, rmin,
          rmax);
}

/* The training transform with one part on at a time, on a same-size image so the resize is
 * the identity and the layout can be checked exactly. */
static void test_layout(void) {
    enum { S = 24 };
    struct data_image src = make_image(S, S, 11);
    struct data_transform t;
    data_transform_defaults(&t, S, S);
    t.autoaugment = t.pad_crop = t.flip = t.erase = false;
    float out[3 * S * S], out2[3 * S * S];
    size_t plane = S * S;

    /* eval: planar, v / 127.5 - 1 */
    data_transform_eval(&t, &src, out);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++) {
                float want = px(&src, x, y, c) / 127.5f - 1;
                CHECK(fabsf(out[c * plane + y * S + x] - want) < 1e-5f, "normalise at %d,%d,%d",
                      x, y, c);
            }

    /* flip with p 1 mirrors the columns */
    t.flip = true;
    t.flip_prob = 1;
    struct data_image img = copy_image(&src);
    data_transform_train(&t, &img, 1, 2, 3, out2);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            CHECK(out2[plane + y * S + x] == out[plane + y * S + (S - 1 - x)], "flip at %d,%d",
                  x, y);
    data_image_free(&img);
    t.flip = false;

    /* pad and crop: a shift within ±10 filled with black (-1); over samples both signs */
    t.pad_crop = true;
    int seen_neg = 0, seen_pos = 0;
    for (uint32_t s = 0; s < 20; s++) {
        img = copy_image(&src);
        data_transform_train(&t, &img, 1, 2, s, out2);
        data_image_free(&img);
        int found = 0;
        for (int dy = -10; dy <= 10 && !found; dy++)
            for (int dx = -10; dx <= 10 && !found; dx++) {
                int ok = 1;
                for (int c = 0; c < 3 && ok; c++)
                    for (int y = 0; y < S && ok; y++)
                        for (int x = 0; x < S && ok; x++) {
                            int sy = y + dy, sx = x + dx;
                            float want = sy < 0 || sy >= S || sx < 0 || sx >= S
                                             ? -1.0f
                                             : out[c * plane + sy * S + sx];
                            ok = out2[c * plane + y * S + x] == want;
                        }
                if (ok) {
                    found = 1;
                    seen_neg |= dx < 0 || dy < 0;
                    seen_pos |= dx > 0 || dy > 0;
                }
            }
        CHECK(found, "pad/crop sample %u is not a shift within 10 pixels", s);
    }
    CHECK(seen_neg && seen_pos, "pad/crop offsets never negative or never positive");
    t.pad_crop = false;

    /* erasing with p 1: the changed pixels form one box in the bounds, the same in all
     * channels */
    t.erase = true;
    t.erase_prob = 1;
    for (uint32_t s = 0; s < 20; s++) {
        img = copy_image(&src);
        data_transform_train(&t, &img, 9, 4, s, out2);
        data_image_free(&img);
        int y0 = S, y1 = -1, x0 = S, x1 = -1, changed = 0;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++)
                if (out2[y * S + x] != out[y * S + x]) {
                    changed++;
                    y0 = y < y0 ? y : y0;
                    y1 = y > y1 ? y : y1;
                    x0 = x < x0 ? x : x0;
                    x1 = x > x1 ? x : x1;
                }
        if (!changed)
            continue;
        int bh = y1 - y0 + 1, bw = x1 - x0 + 1;
        CHECK(changed == bh * bw, "erased pixels of sample %u are not a box", s);
        CHECK((bh - 0.5) * (bw - 0.5) <= 0.33 * S * S && (bh + 0.5) * (bw + 0.5) >= 0.02 * S * S,
              "erased box %dx%d area out of range", bh, bw);
    }
    data_image_free(&src);
}

/* Same key -> same bytes; another step -> different bytes. */
static void test_determinism(void) {
    enum { S = 32 };
    struct data_image src = make_image(45, 37, 5);
    struct data_transform t;
    data_transform_defaults(&t, S, S);
    t.aa_prob = 1;
    float a[3 * S * S], b[3 * S * S];
    int differ = 0, changed_aa = 0;
    for (uint32_t s = 0; s < 16; s++) {
        struct data_image i1 = copy_image(&src), i2 = copy_image(&src), i3 = copy_image(&src);
        data_transform_train(&t, &i1, 42, 7, s, a);
        data_transform_train(&t, &i2, 42, 7, s, b);
        CHECK(memcmp(a, b, sizeof a) == 0, "sample %u: same key, different output", s);
        CHECK(memcmp(i1.pixels, i2.pixels, 45 * 37 * 3) == 0, "sample %u: AutoAugment differs",
              s);
        changed_aa += memcmp(i1.pixels, src.pixels, 45 * 37 * 3) != 0;
        data_transform_train(&t, &i3, 42, 8, s, b);
        differ += memcmp(a, b, sizeof a) != 0;
        data_image_free(&i1);
        data_image_free(&i2);
        data_image_free(&i3);
    }
    CHECK(differ == 16, "only %d of 16 samples changed with the step", differ);
    CHECK(changed_aa >= 8, "AutoAugment with p 1 changed only %d of 16 images", changed_aa);
    data_image_free(&src);
}

/* The Philox draws: uniform mean and variance, normal moments, streams that differ by any
 * key part. */
static void test_rng(void) {
    struct data_rng r;
    data_rng_init(&r, 7, 3, 11, DATA_RNG_ERASE_NOISE);
    double s1 = 0, s2 = 0, n1 = 0, n2 = 0, n4 = 0;
    enum { N = 200000 };
    for (int i = 0; i < N; i++) {
        double u = data_rng_uniform(&r);
        s1 += u;
        s2 += u * u;
        float a, b;
        data_rng_normal2(&r, &a, &b);
        float c = data_rng_normal(&r);
        n1 += a + b + c;
        n2 += (double)a * a + (double)b * b + (double)c * c;
        n4 += (double)a * a * a * a + (double)b * b * b * b + (double)c * c * c * c;
    }
    double mean = s1 / N, var = s2 / N - mean * mean;
    CHECK(fabs(mean - 0.5) < 0.005 && fabs(var - 1.0 / 12) < 0.002,
          "uniform mean %.4f variance %.4f", mean, var);
    double nm = n1 / (3 * N), nv = n2 / (3 * N), k = n4 / (3 * N);
    CHECK(fabs(nm) < 0.01 && fabs(nv - 1) < 0.01 && fabs(k - 3) < 0.1,
          "normal mean %.4f variance %.4f fourth moment %.3f", nm, nv, k);

    uint32_t first[5];
    uint64_t keys[5][4] = {{1, 2, 3, 4}, {2, 2, 3, 4}, {1, 3, 3, 4}, {1, 2, 4, 4}, {1, 2, 3, 5}};
    for (int i = 0; i < 5; i++) {
        data_rng_init(&r, keys[i][0], keys[i][1], (uint32_t)keys[i][2], (uint32_t)keys[i][3]);
        first[i] = data_rng_u32(&r);
        for (int j = 0; j < i; j++)
            CHECK(first[i] != first[j], "streams %d and %d start alike", i, j);
    }
}

int main(void) {
    test_rng();
    test_resize(13, 9, 5, 7);
    test_resize(20, 20, 31, 17);
    test_resize(64, 40, 9, 6);
    test_resize(7, 30, 7, 11);
    test_resize_identity();
    test_geometry();
    test_point_ops();
    test_equalize_sharpness();
    test_levels();
    test_erase_box();
    test_layout();
    test_determinism();
    if (failures) {
        fprintf(stderr, "test_augment: %d failures\n", failures);
        return 1;
    }
    printf("test_augment: all passed\n");
    return 0;
}
