/* Decoder checks: PNGs of every colour type, bit depth, transparency and interlace and JPEGs
 * (colour, grey, CMYK, DCT-scaled) written here with libpng/TurboJPEG from known pixels; byte
 * ranges and in-memory pixels; empty, truncated, garbage and missing files must fail with the
 * file named. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>
#include <turbojpeg.h>

#include "data/image.h"

static int failures;
static char dir[256];

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            failures++;                                                                   \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                          \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, "\n");                                                        \
        }                                                                                 \
    } while (0)

/* The test image: W × H with a sample value per pixel in [0, maxv]. */
enum { W = 7, H = 5 };

static unsigned sample(int x, int y, int c, unsigned maxv) {
    return (unsigned)((x * 37 + y * 101 + c * 53 + x * y * 7) % (maxv + 1));
}

/* Write a PNG of colour `type`, `depth`, optionally interlaced, with a tRNS chunk when
 * `trns`; fill `expect` (W × H × 3) with the RGB a correct decoder returns. */
static void write_png(const char *path, int type, int depth, int interlace, int trns,
                      uint8_t *expect) {
    FILE *f = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        fprintf(stderr, "cannot write test PNG %s\n", path);
        exit(1);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, W, H, depth, type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    unsigned maxv = (1u << depth) - 1;
    int channels = type == PNG_COLOR_TYPE_GRAY         ? 1
                   : type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                   : type == PNG_COLOR_TYPE_RGB        ? 3
                   : type == PNG_COLOR_TYPE_RGB_ALPHA  ? 4
                                                       : 1;
    png_color palette[256];
    png_byte palette_alpha[256];
    int n_pal = 1 << depth;
    if (type == PNG_COLOR_TYPE_PALETTE) {
        for (int i = 0; i < n_pal; i++) {
            palette[i].red = (png_byte)(i * 29 + 3);
            palette[i].green = (png_byte)(255 - i * 13);
            palette[i].blue = (png_byte)(i * 71 + 40);
            palette_alpha[i] = (png_byte)(i * 97 % 256);
        }
        png_set_PLTE(png, info, palette, n_pal);
        if (trns)
            png_set_tRNS(png, info, palette_alpha, n_pal, NULL);
    }
    /* for grey and RGB, tRNS names one transparent colour: the value at pixel (1, 1) */
    png_color_16 key = {0};
    if (trns && (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_RGB)) {
        key.gray = (png_uint_16)sample(1, 1, 0, maxv);
        key.red = (png_uint_16)sample(1, 1, 0, maxv);
        key.green = (png_uint_16)sample(1, 1, 1, maxv);
        key.blue = (png_uint_16)sample(1, 1, 2, maxv);
        png_set_tRNS(png, info, NULL, 0, &key);
    }
    png_write_info(png, info);
    if (depth == 16)
        png_set_swap(png);

    /* pack the samples: depth < 8 bit-packed MSB first, 16-bit as host uint16 */
    size_t stride = ((size_t)W * channels * depth + 7) / 8;
    png_bytep rows[H];
    uint8_t data[H][W * 8];
    memset(data, 0, sizeof data);
    for (int y = 0; y < H; y++) {
        rows[y] = data[y];
        for (int x = 0; x < W; x++) {
            unsigned v[4];
            for (int c = 0; c < channels; c++)
                v[c] = sample(x, y, c, maxv);
            if (type == PNG_COLOR_TYPE_PALETTE)
                v[0] = sample(x, y, 0, (unsigned)n_pal - 1);
            for (int c = 0; c < channels; c++) {
                size_t bit = ((size_t)x * channels + c) * depth;
                if (depth == 16)
                    memcpy(data[y] + bit / 8, &(uint16_t){(uint16_t)v[c]}, 2);
                else
                    data[y][bit / 8] |= (uint8_t)(v[c] << (8 - depth - bit % 8));
            }

            /* what a decoder should produce: 8-bit RGB, alpha over white */
            double rgb[3], a = 1;
            if (type == PNG_COLOR_TYPE_PALETTE) {
                rgb[0] = palette[v[0]].red;
                rgb[1] = palette[v[0]].green;
                rgb[2] = palette[v[0]].blue;
                if (trns)
                    a = palette_alpha[v[0]] / 255.0;
            } else {
                double scale = 255.0 / maxv;
                int grey = channels <= 2;
                for (int c = 0; c < 3; c++)
                    rgb[c] = v[grey ? 0 : c] * scale;
                if (channels == 2 || channels == 4)
                    a = v[channels - 1] / (double)maxv;
                if (trns && grey && v[0] == key.gray)
                    a = 0;
                if (trns && !grey && v[0] == key.red && v[1] == key.green && v[2] == key.blue)
                    a = 0;
            }
            for (int c = 0; c < 3; c++)
                expect[(y * W + x) * 3 + c] =
                    (uint8_t)floor(rgb[c] * a + 255.0 * (1 - a) + 0.5);
        }
    }
    (void)stride;
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static uint8_t *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*size + 1);
    if (fread(b, 1, *size, f) != *size)
        exit(1);
    fclose(f);
    return b;
}

static void write_bytes(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (n && fwrite(b, 1, n, f) != n)
        exit(1);
    fclose(f);
}

/* Compare a decoded image with the expected pixels within `tol`; print the first mismatches. */
static void compare(const char *what, const struct data_image *img, const uint8_t *expect,
                    int w, int h, int tol) {
    if (img->width != w || img->height != h) {
        CHECK(0, "%s: size %dx%d, expected %dx%d", what, img->width, img->height, w, h);
        return;
    }
    int shown = 0;
    for (int i = 0; i < w * h * 3; i++) {
        int d = abs((int)img->pixels[i] - (int)expect[i]);
        if (d > tol && shown++ < 4)
            CHECK(0, "%s: pixel %d channel %d: got %d, expected %d (tolerance %d)", what,
                  i / 3, i % 3, img->pixels[i], expect[i], tol);
    }
}

static struct data_item file_item(const char *path) {
    struct data_item it = {.source = DATA_FILE, .path = path};
    return it;
}

static void test_png(struct data_decoder *dec) {
    static const struct {
        int type, depths[5];
    } kinds[] = {
        {PNG_COLOR_TYPE_GRAY, {1, 2, 4, 8, 16}}, {PNG_COLOR_TYPE_GRAY_ALPHA, {8, 16}},
        {PNG_COLOR_TYPE_RGB, {8, 16}},           {PNG_COLOR_TYPE_RGB_ALPHA, {8, 16}},
        {PNG_COLOR_TYPE_PALETTE, {1, 2, 4, 8}},
    };
    struct data_set ds = {.name = "png"};
    int tested = 0;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (int d = 0; d < 5 && kinds[k].depths[d]; d++)
            for (int interlace = 0; interlace < 2; interlace++)
                for (int trns = 0; trns < 2; trns++) {
                    int type = kinds[k].type, depth = kinds[k].depths[d];
                    if (trns && (type & PNG_COLOR_MASK_ALPHA))
                        continue;
                    char path[512], what[128];
                    snprintf(path, sizeof path, "%s/t%d_d%d_i%d_r%d.png", dir, type, depth,
                             interlace, trns);
                    snprintf(what, sizeof what, "PNG type %d depth %d interlace %d tRNS %d",
                             type, depth, interlace, trns);
                    uint8_t expect[W * H * 3];
                    write_png(path, type, depth, interlace, trns, expect);
                    struct data_item it = file_item(path);
                    struct data_image img;
                    ufo_status st = data_decode_item(dec, &ds, &it, 0, 0, &img);
                    CHECK(st == UFO_OK, "%s: %s", what, ufo_last_error());
                    if (st == UFO_OK)
                        compare(what, &img, expect, W, H, depth == 16 ? 1 : 0);
                    data_image_free(&img);
                    tested++;
                }
    CHECK(tested == 52, "expected 52 PNG variants, wrote %d", tested);
}

/* A smooth W2 × H2 test picture (JPEG keeps smooth content nearly exactly). */
enum { W2 = 48, H2 = 32 };

static void smooth_rgb(uint8_t *p, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            p[(y * w + x) * 3 + 0] = (uint8_t)(40 + 160 * x / (w - 1));
            p[(y * w + x) * 3 + 1] = (uint8_t)(30 + 180 * y / (h - 1));
            p[(y * w + x) * 3 + 2] = (uint8_t)(200 - 100 * (x + y) / (w + h - 2));
        }
}

static void write_jpeg(const char *path, const uint8_t *src, int w, int h, int pf, int samp) {
    tjhandle tj = tjInitCompress();
    unsigned char *jpeg = NULL;
    unsigned long size = 0;
    if (tjCompress2(tj, src, w, 0, h, pf, &jpeg, &size, samp, 98, TJFLAG_ACCURATEDCT)) {
        fprintf(stderr, "tjCompress2: %s\n", tjGetErrorStr2(tj));
        exit(1);
    }
    write_bytes(path, jpeg, size);
    tjFree(jpeg);
    tjDestroy(tj);
}

static void test_jpeg(struct data_decoder *dec) {
    struct data_set ds = {.name = "jpeg"};
    uint8_t rgb[W2 * H2 * 3], grey[W2 * H2], cmyk[W2 * H2 * 4], expect[W2 * H2 * 3];
    char path[512];
    struct data_image img;
    struct data_item it;
    ufo_status st;

    /* colour, 4:4:4 and 4:2:0 */
    smooth_rgb(rgb, W2, H2);
    int samps[2] = {TJSAMP_444, TJSAMP_420};
    for (int s = 0; s < 2; s++) {
        snprintf(path, sizeof path, "%s/rgb%d.jpg", dir, s);
        write_jpeg(path, rgb, W2, H2, TJPF_RGB, samps[s]);
        it = file_item(path);
        st = data_decode_item(dec, &ds, &it, 0, 0, &img);
        CHECK(st == UFO_OK, "rgb jpeg: %s", ufo_last_error());
        if (!st)
            compare(path, &img, rgb, W2, H2, 6);
        data_image_free(&img);
    }

    /* grey */
    for (int i = 0; i < W2 * H2; i++) {
        grey[i] = rgb[3 * i + 1];
        expect[3 * i] = expect[3 * i + 1] = expect[3 * i + 2] = grey[i];
    }
    snprintf(path, sizeof path, "%s/grey.jpg", dir);
    write_jpeg(path, grey, W2, H2, TJPF_GRAY, TJSAMP_GRAY);
    it = file_item(path);
    st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_OK, "grey jpeg: %s", ufo_last_error());
    if (!st)
        compare("grey JPEG", &img, expect, W2, H2, 4);
    data_image_free(&img);

    /* CMYK as Adobe stores it (inverted); K = 200 darkens every channel by 200/255 */
    for (int i = 0; i < W2 * H2; i++) {
        for (int c = 0; c < 3; c++) {
            cmyk[4 * i + c] = rgb[3 * i + c];
            expect[3 * i + c] = (uint8_t)floor(rgb[3 * i + c] * 200 / 255.0 + 0.5);
        }
        cmyk[4 * i + 3] = 200;
    }
    snprintf(path, sizeof path, "%s/cmyk.jpg", dir);
    write_jpeg(path, cmyk, W2, H2, TJPF_CMYK, TJSAMP_444);
    it = file_item(path);
    st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_OK, "cmyk jpeg: %s", ufo_last_error());
    if (!st)
        compare("CMYK JPEG", &img, expect, W2, H2, 6);
    data_image_free(&img);

    /* DCT scaling: 48 × 32 toward 12 × 8 decodes at 1/4; toward 13 × 8 at 3/8 (18 × 12) */
    snprintf(path, sizeof path, "%s/rgb0.jpg", dir);
    it = file_item(path);
    st = data_decode_item(dec, &ds, &it, 12, 8, &img);
    CHECK(st == UFO_OK && img.width == 12 && img.height == 8, "scaled to %dx%d, want 12x8",
          img.width, img.height);
    if (!st) {
        /* each output pixel is the mean of a 4 × 4 block of the smooth source */
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 12; x++)
                for (int c = 0; c < 3; c++) {
                    double m = 0;
                    for (int j = 0; j < 4; j++)
                        for (int i = 0; i < 4; i++)
                            m += rgb[((y * 4 + j) * W2 + x * 4 + i) * 3 + c] / 16.0;
                    int got = img.pixels[(y * 12 + x) * 3 + c];
                    CHECK(fabs(got - m) <= 6, "scaled pixel (%d,%d,%d): %d vs mean %.1f", x, y,
                          c, got, m);
                }
    }
    data_image_free(&img);
    st = data_decode_item(dec, &ds, &it, 13, 8, &img);
    CHECK(st == UFO_OK && img.width == 18 && img.height == 12, "scaled to %dx%d, want 18x12",
          img.width, img.height);
    data_image_free(&img);
}

/* Byte ranges inside a container and raw pixels. */
static void test_range_memory(struct data_decoder *dec) {
    char png_path[512], jpg_path[512], box[512];
    snprintf(png_path, sizeof png_path, "%s/t2_d8_i0_r0.png", dir);
    snprintf(jpg_path, sizeof jpg_path, "%s/rgb0.jpg", dir);
    snprintf(box, sizeof box, "%s/container.bin", dir);
    size_t np, nj;
    uint8_t *p = read_file(png_path, &np), *j = read_file(jpg_path, &nj);
    FILE *f = fopen(box, "wb");
    fwrite("0123456789", 1, 10, f);
    fwrite(p, 1, np, f);
    fwrite("xyz", 1, 3, f);
    fwrite(j, 1, nj, f);
    fclose(f);

    struct data_set ds = {.name = "box"};
    struct data_item it = {.source = DATA_RANGE, .path = box, .offset = 10, .size = np};
    struct data_image img;
    uint8_t expect[W * H * 3];
    write_png(png_path, PNG_COLOR_TYPE_RGB, 8, 0, 0, expect);
    ufo_status st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_OK, "range png: %s", ufo_last_error());
    if (!st)
        compare("PNG in a byte range", &img, expect, W, H, 0);
    data_image_free(&img);
    it.offset = 10 + np + 3;
    it.size = nj;
    st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_OK && img.width == W2, "range jpeg: %s", ufo_last_error());
    data_image_free(&img);

    /* a range past the end of the container, an empty range, a range off an image start */
    it.size = nj + 100;
    st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), "container.bin"),
          "range past the end: status %d, %s", st, ufo_last_error());
    it.size = 0;
    st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_ERR_FORMAT, "empty range accepted");
    it.offset = 3;
    it.size = 40;
    st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), "not a JPEG or PNG"),
          "misplaced range: %s", ufo_last_error());
    free(p);
    free(j);

    /* encoded bytes held in the set's pixel storage (the readers' DATA_BLOB, the source after
     * DATA_MEMORY) */
    {
        size_t nb;
        uint8_t *blob = read_file(png_path, &nb);
        uint8_t *store = malloc(nb + 7);
        memcpy(store + 7, blob, nb);
        struct data_item bi = {.source = (enum data_source)(DATA_MEMORY + 1), .path = box,
                               .offset = 7, .size = nb};
        struct data_set bs = {.name = "blob", .items = &bi, .count = 1, .pixels = store};
        st = data_decode_item(dec, &bs, &bi, 0, 0, &img);
        CHECK(st == UFO_OK, "blob png: %s", ufo_last_error());
        if (!st)
            compare("PNG held in memory", &img, expect, W, H, 0);
        data_image_free(&img);
        bi.size = nb / 2;
        st = data_decode_item(dec, &bs, &bi, 0, 0, &img);
        CHECK(st == UFO_ERR_FORMAT, "truncated blob accepted");
        free(store);
        free(blob);
    }

    /* in-memory grey and RGB */
    uint8_t pixels[2 * 3 + 2 * 3 * 3];
    for (int i = 0; i < (int)sizeof pixels; i++)
        pixels[i] = (uint8_t)(i * 11);
    struct data_item items[2] = {
        {.source = DATA_MEMORY, .offset = 0, .width = 3, .height = 2, .channels = 1},
        {.source = DATA_MEMORY, .offset = 6, .width = 2, .height = 3, .channels = 3},
    };
    struct data_set mem = {.name = "mem", .items = items, .count = 2, .pixels = pixels};
    st = data_decode_item(dec, &mem, &items[0], 0, 0, &img);
    CHECK(st == UFO_OK && img.width == 3 && img.height == 2, "memory grey");
    for (int i = 0; !st && i < 6; i++)
        for (int c = 0; c < 3; c++)
            CHECK(img.pixels[3 * i + c] == pixels[i], "memory grey pixel %d", i);
    data_image_free(&img);
    st = data_decode_item(dec, &mem, &items[1], 0, 0, &img);
    CHECK(st == UFO_OK && img.width == 2 && img.height == 3, "memory rgb");
    CHECK(!st && memcmp(img.pixels, pixels + 6, 18) == 0, "memory rgb pixels differ");
    data_image_free(&img);
}

/* Bad files: each must fail with UFO_ERR_FORMAT or UFO_ERR_IO and name the file. */
static void test_bad(struct data_decoder *dec) {
    struct data_set ds = {.name = "bad"};
    char src[512], path[512];
    struct data_image img;
    const char *sources[2] = {"rgb0.jpg", "t6_d8_i1_r0.png"};
    for (int s = 0; s < 2; s++) {
        snprintf(src, sizeof src, "%s/%s", dir, sources[s]);
        size_t n;
        uint8_t *b = read_file(src, &n);

        /* truncated at several points, down to the bare magic number */
        size_t cuts[] = {n - 1, n * 3 / 4, n / 2, 40, 12, 8, 3, 1};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            snprintf(path, sizeof path, "%s/cut%d_%zu", dir, s, cuts[c]);
            write_bytes(path, b, cuts[c]);
            struct data_item it = file_item(path);
            ufo_status st = data_decode_item(dec, &ds, &it, 0, 0, &img);
            CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), path),
                  "%s truncated to %zu bytes: status %d, message '%s'", sources[s], cuts[c],
                  st, ufo_last_error());
            data_image_free(&img);
        }

        /* the header kept, the rest overwritten with garbage */
        uint32_t x = 12345;
        for (int rep = 0; rep < 8; rep++) {
            uint8_t *g = malloc(n);
            memcpy(g, b, n);
            size_t keep = s == 0 ? 2 + rep * 3 : 8 + rep * 6;
            for (size_t i = keep; i < n; i++) {
                x = x * 1103515245u + 12345u;
                g[i] = (uint8_t)(x >> 16);
            }
            snprintf(path, sizeof path, "%s/garbage%d_%d", dir, s, rep);
            write_bytes(path, g, n);
            struct data_item it = file_item(path);
            ufo_status st = data_decode_item(dec, &ds, &it, 0, 0, &img);
            CHECK(st != UFO_OK && strstr(ufo_last_error(), path),
                  "%s with garbage after %zu bytes decoded: '%s'", sources[s], keep,
                  ufo_last_error());
            data_image_free(&img);
            free(g);
        }
        free(b);
    }

    /* stray bytes before the end marker: libjpeg warns, the pixels are complete */
    snprintf(src, sizeof src, "%s/rgb0.jpg", dir);
    size_t n;
    uint8_t *b = read_file(src, &n);
    uint8_t *junk = malloc(n + 5);
    memcpy(junk, b, n - 2);
    memcpy(junk + n - 2, "\x01\x02\x03\x04\x05", 5);
    memcpy(junk + n + 3, b + n - 2, 2);
    snprintf(path, sizeof path, "%s/extraneous.jpg", dir);
    write_bytes(path, junk, n + 5);
    struct data_item extra = file_item(path);
    ufo_status est = data_decode_item(dec, &ds, &extra, 0, 0, &img);
    CHECK(est == UFO_OK && img.width == W2, "JPEG with stray bytes before EOI refused: %s",
          ufo_last_error());
    data_image_free(&img);

    free(junk);
    free(b);

    /* JPEG streams with no frame header: TurboJPEG reads them as tables-only and reports no
     * size, so the decoder must say there is no image (it once printed stack garbage) */
    static const struct { const char *name; const char *bytes; size_t n; } noframe[] = {
        {"soi_eoi.jpg", "\xff\xd8\xff\xd9", 4},
        {"app0_overrun.jpg", "\xff\xd8\xff\xe0garbage\xff\xd8\xff\xe0garbage", 22},
    };
    for (size_t i = 0; i < sizeof noframe / sizeof noframe[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, noframe[i].name);
        write_bytes(path, (const uint8_t *)noframe[i].bytes, noframe[i].n);
        struct data_item nf = file_item(path);
        ufo_status nst = data_decode_item(dec, &ds, &nf, 0, 0, &img);
        CHECK(nst == UFO_ERR_FORMAT && strstr(ufo_last_error(), noframe[i].name) &&
                  (strstr(ufo_last_error(), "no image") || strstr(ufo_last_error(), "header")),
              "%s: status %d, message '%s'", noframe[i].name, nst, ufo_last_error());
        data_image_free(&img);
    }

    /* empty, text, missing */
    snprintf(path, sizeof path, "%s/empty.jpg", dir);
    write_bytes(path, NULL, 0);
    struct data_item it = file_item(path);
    ufo_status st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), "empty.jpg"), "empty: %s",
          ufo_last_error());
    snprintf(path, sizeof path, "%s/text.png", dir);
    write_bytes(path, (const uint8_t *)"hello, not an image\n", 20);
    it = file_item(path);
    st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), "text.png"), "text: %s",
          ufo_last_error());
    snprintf(path, sizeof path, "%s/missing.png", dir);
    it = file_item(path);
    st = data_decode_item(dec, &ds, &it, 0, 0, &img);
    CHECK(st == UFO_ERR_IO && strstr(ufo_last_error(), "missing.png"), "missing: %s",
          ufo_last_error());
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ufo-test-image-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    struct data_decoder *dec;
    if (data_decoder_new(&dec)) {
        fprintf(stderr, "%s\n", ufo_last_error());
        return 1;
    }
    test_png(dec);
    test_jpeg(dec);
    test_range_memory(dec);
    test_bad(dec);
    data_decoder_free(dec);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    if (failures) {
        fprintf(stderr, "test_image: %d failures\n", failures);
        return 1;
    }
    printf("test_image: all passed\n");
    return 0;
}
