/* Decoding dataset items into 8-bit RGB: JPEG through TurboJPEG, PNG through libpng, raw
 * pixels copied. Every failure names the file; nothing here aborts on bad bytes. */
#include "config.h"

#include "data/image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <png.h>
#include <turbojpeg.h>

struct data_decoder {
    tjhandle tj;
    uint8_t *buf;            /* the file's bytes, reused between calls */
    size_t cap;
    uint8_t *cmyk;           /* CMYK JPEG scratch */
    size_t cmyk_cap;
};

ufo_status data_decoder_new(struct data_decoder **out) {
    struct data_decoder *dec = calloc(1, sizeof *dec);
    if (!dec)
        return ufo_fail(UFO_ERR_NOMEM, "image decoder: out of memory");
    dec->tj = tjInitDecompress();
    if (!dec->tj) {
        free(dec);
        return ufo_fail(UFO_ERR_NOMEM, "tjInitDecompress: %s", tjGetErrorStr2(NULL));
    }
    *out = dec;
    return UFO_OK;
}

void data_decoder_free(struct data_decoder *dec) {
    if (!dec)
        return;
    tjDestroy(dec->tj);
    free(dec->buf);
    free(dec->cmyk);
    free(dec);
}

ufo_status data_image_alloc(struct data_image *img, int width, int height) {
    img->width = width;
    img->height = height;
    img->pixels = malloc((size_t)width * height * 3);
    if (!img->pixels)
        return ufo_fail(UFO_ERR_NOMEM, "image %dx%d: out of memory", width, height);
    return UFO_OK;
}

void data_image_free(struct data_image *img) {
    free(img->pixels);
    img->pixels = NULL;
    img->width = img->height = 0;
}

/* Grow a scratch buffer to at least `need` bytes. */
static int data_reserve(uint8_t **buf, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    uint8_t *p = realloc(*buf, need);
    if (!p)
        return -1;
    *buf = p;
    *cap = need;
    return 0;
}

/* Read `size` bytes at `offset` of `path` into the decoder's buffer; size 0 means the whole
 * file. */
static ufo_status data_read_bytes(struct data_decoder *dec, const char *path, uint64_t offset,
                                  uint64_t size, size_t *got) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
    int whole = size == 0;
    if (whole) {
        off_t end = fseeko(f, 0, SEEK_END) == 0 ? ftello(f) : -1;
        if (end < 0 || fseeko(f, 0, SEEK_SET) != 0) {
            fclose(f);
            return ufo_fail(UFO_ERR_IO, "%s: cannot seek: %s", path, strerror(errno));
        }
        size = (uint64_t)end;
        if (size == 0) {
            fclose(f);
            return ufo_fail(UFO_ERR_FORMAT, "%s: empty file, not an image", path);
        }
    } else if (fseeko(f, (off_t)offset, SEEK_SET) != 0) {
        fclose(f);
        return ufo_fail(UFO_ERR_IO, "%s: cannot seek to byte %llu: %s", path,
                        (unsigned long long)offset, strerror(errno));
    }
    if (size > (uint64_t)1 << 31) {
        fclose(f);
        return ufo_fail(UFO_ERR_FORMAT, "%s: %llu bytes at %llu is too large for one image",
                        path, (unsigned long long)size, (unsigned long long)offset);
    }
    if (data_reserve(&dec->buf, &dec->cap, size)) {
        fclose(f);
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory for %llu bytes", path,
                        (unsigned long long)size);
    }
    size_t n = fread(dec->buf, 1, size, f);
    int err = ferror(f);
    fclose(f);
    if (err)
        return ufo_fail(UFO_ERR_IO, "%s: read error", path);
    if (n != size)
        return ufo_fail(UFO_ERR_FORMAT, "%s: truncated: %zu of %llu bytes at offset %llu",
                        path, n, (unsigned long long)size, (unsigned long long)offset);
    *got = n;
    return UFO_OK;
}

/* TurboJPEG 2.1 keeps a warning flag across calls on a handle, so a handle that saw a bad
 * file would fail the next good one: start a fresh one. */
static void data_tj_reset(struct data_decoder *dec) {
    tjhandle fresh = tjInitDecompress();
    if (fresh) {
        tjDestroy(dec->tj);
        dec->tj = fresh;
    }
}

/* JPEG: pick the DCT scale, decode to RGB (grey is expanded by libjpeg), or to CMYK and
 * convert (JPEG CMYK is stored inverted, as Adobe writes it: 255 means no ink). */
static ufo_status data_decode_jpeg(struct data_decoder *dec, const uint8_t *bytes, size_t size,
                                   const char *name, int want_w, int want_h,
                                   struct data_image *img) {
    /* TurboJPEG 2.1 accepts a tables-only stream (no frame header) and then leaves all four
     * outputs unset, so they start at values that fail the size check below */
    int w = 0, h = 0, subsamp = -1, colorspace = -1;
    if (tjDecompressHeader3(dec->tj, bytes, (unsigned long)size, &w, &h, &subsamp,
                            &colorspace) != 0) {
        ufo_status st = ufo_fail(UFO_ERR_FORMAT, "%s: bad JPEG header: %s", name,
                                 tjGetErrorStr2(dec->tj));
        data_tj_reset(dec);
        return st;
    }
    if (w == 0 && h == 0)
        return ufo_fail(UFO_ERR_FORMAT, "%s: JPEG holds no image (no frame header)", name);
    if (w <= 0 || h <= 0 || (uint64_t)w * h > DATA_MAX_PIXELS)
        return ufo_fail(UFO_ERR_FORMAT, "%s: JPEG size %dx%d out of range", name, w, h);

    /* the smallest scaled size still covering the wanted size */
    int sw = w, sh = h;
    if (want_w > 0 && want_h > 0) {
        int n = 0;
        tjscalingfactor *sf = tjGetScalingFactors(&n);
        for (int i = 0; sf && i < n; i++) {
            if (sf[i].num > sf[i].denom)
                continue;
            int tw = TJSCALED(w, sf[i]), th = TJSCALED(h, sf[i]);
            if (tw >= want_w && th >= want_h && (uint64_t)tw * th < (uint64_t)sw * sh) {
                sw = tw;
                sh = th;
            }
        }
    }
    ufo_status st = data_image_alloc(img, sw, sh);
    if (st)
        return st;

    int flags = TJFLAG_FASTDCT;
    int rc;
    if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
        if (data_reserve(&dec->cmyk, &dec->cmyk_cap, (size_t)sw * sh * 4)) {
            data_image_free(img);
            return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", name);
        }
        rc = tjDecompress2(dec->tj, bytes, (unsigned long)size, dec->cmyk, sw, 0, sh,
                           TJPF_CMYK, flags);
        if (rc == 0) {
            for (size_t i = 0; i < (size_t)sw * sh; i++) {
                const uint8_t *p = dec->cmyk + 4 * i;
                for (int c = 0; c < 3; c++)
                    img->pixels[3 * i + c] = (uint8_t)((p[c] * p[3] + 127) / 255);
            }
        }
    } else {
        rc = tjDecompress2(dec->tj, bytes, (unsigned long)size, img->pixels, sw, 0, sh,
                           TJPF_RGB, flags);
    }
    /* one libjpeg warning is harmless and common in camera files (stray bytes before a
     * marker, the pixels complete); any other means damaged or missing data */
    if (rc != 0 && tjGetErrorCode(dec->tj) == TJERR_WARNING &&
        strstr(tjGetErrorStr2(dec->tj), "extraneous bytes")) {
        data_tj_reset(dec);
        rc = 0;
    }
    if (rc != 0) {
        data_image_free(img);
        ufo_status fail = ufo_fail(UFO_ERR_FORMAT, "%s: corrupt or truncated JPEG: %s", name,
                                   tjGetErrorStr2(dec->tj));
        data_tj_reset(dec);
        return fail;
    }
    return UFO_OK;
}

/* libpng reads from memory through this cursor, and reports errors into it. */
struct data_png_src {
    const uint8_t *bytes;
    size_t size, pos;
    char msg[160];
};

static void data_png_read(png_structp png, png_bytep out, png_size_t n) {
    struct data_png_src *src = png_get_io_ptr(png);
    if (n > src->size - src->pos)
        png_error(png, "file ends early (truncated)");
    memcpy(out, src->bytes + src->pos, n);
    src->pos += n;
}

static void data_png_error(png_structp png, png_const_charp msg) {
    struct data_png_src *src = png_get_error_ptr(png);
    snprintf(src->msg, sizeof src->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void data_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* PNG: let libpng expand every colour type and depth to 8-bit RGB(A), interlaced or not,
 * then composite alpha over DATA_BACKGROUND. */
static ufo_status data_decode_png(const uint8_t *bytes, size_t size, const char *name,
                                  struct data_image *img) {
    struct data_png_src src = {bytes, size, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, data_png_error,
                                             data_png_warning);
    if (!png)
        return ufo_fail(UFO_ERR_NOMEM, "%s: png_create_read_struct failed", name);
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return ufo_fail(UFO_ERR_NOMEM, "%s: png_create_info_struct failed", name);
    }
    /* both change after setjmp, so they must be volatile to survive the longjmp */
    uint8_t *volatile buf = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(buf);
        free(rows);
        data_image_free(img);
        return ufo_fail(UFO_ERR_FORMAT, "%s: corrupt or truncated PNG: %s", name, src.msg);
    }
    png_set_read_fn(png, &src, data_png_read);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if (w == 0 || h == 0 || (uint64_t)w * h > DATA_MAX_PIXELS)
        png_error(png, "image size out of range");
    int type = png_get_color_type(png, info);
    png_set_expand(png);
    png_set_scale_16(png);
    if (type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    if (channels != 3 && channels != 4)
        png_error(png, "unexpected channel count after expansion");
    size_t stride = (size_t)w * channels;
    buf = malloc(stride * h);
    rows = malloc(h * sizeof *rows);
    if (!buf || !rows)
        png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = buf + y * stride;
    png_read_image(png, rows);
    /* through IEND, so a file cut after its pixel data still counts as truncated */
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);

    /* alpha over the background, else the pixels are already RGB */
    if (channels == 3) {
        img->width = (int)w;
        img->height = (int)h;
        img->pixels = buf;
        return UFO_OK;
    }
    ufo_status st = data_image_alloc(img, (int)w, (int)h);
    if (st) {
        free(buf);
        return st;
    }
    for (size_t i = 0; i < (size_t)w * h; i++) {
        const uint8_t *p = buf + 4 * i;
        for (int c = 0; c < 3; c++)
            img->pixels[3 * i + c] =
                (uint8_t)((p[c] * p[3] + DATA_BACKGROUND * (255 - p[3]) + 127) / 255);
    }
    free(buf);
    return UFO_OK;
}

ufo_status data_decode_bytes(struct data_decoder *dec, const uint8_t *bytes, size_t size,
                             const char *name, int want_w, int want_h, struct data_image *img) {
    img->pixels = NULL;
    img->width = img->height = 0;
    if (size == 0)
        return ufo_fail(UFO_ERR_FORMAT, "%s: empty file, not an image", name);
    if (size >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff)
        return data_decode_jpeg(dec, bytes, size, name, want_w, want_h, img);
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size >= 8 && memcmp(bytes, png_magic, 8) == 0)
        return data_decode_png(bytes, size, name, img);
    return ufo_fail(UFO_ERR_FORMAT, "%s: not a JPEG or PNG image (first bytes %02x %02x %02x)",
                    name, bytes[0], size > 1 ? bytes[1] : 0, size > 2 ? bytes[2] : 0);
}

/* Raw pixels held by the dataset (IDX, RecordIO decoded earlier): grey is replicated. */
static ufo_status data_decode_memory(const struct data_set *ds, const struct data_item *item,
                                     struct data_image *img) {
    const char *name = ds->name ? ds->name : "dataset";
    size_t index = (size_t)(item - ds->items);
    if (!ds->pixels || (item->channels != 1 && item->channels != 3) || item->width == 0 ||
        item->height == 0)
        return ufo_fail(UFO_ERR_FORMAT, "%s: item %zu: bad in-memory image (%ux%u, %u channels)",
                        name, index, item->width, item->height, item->channels);
    ufo_status st = data_image_alloc(img, item->width, item->height);
    if (st)
        return st;
    const uint8_t *src = ds->pixels + item->offset;
    size_t n = (size_t)item->width * item->height;
    if (item->channels == 3) {
        memcpy(img->pixels, src, n * 3);
    } else {
        for (size_t i = 0; i < n; i++)
            img->pixels[3 * i] = img->pixels[3 * i + 1] = img->pixels[3 * i + 2] = src[i];
    }
    return UFO_OK;
}

ufo_status data_decode_item(struct data_decoder *dec, const struct data_set *ds,
                            const struct data_item *item, int want_w, int want_h,
                            struct data_image *img) {
    img->pixels = NULL;
    img->width = img->height = 0;
    size_t got = 0;
    ufo_status st;
    switch (item->source) {
    case DATA_MEMORY:
        return data_decode_memory(ds, item, img);
    case DATA_FILE:
        st = data_read_bytes(dec, item->path, 0, 0, &got);
        break;
    case DATA_RANGE:
        if (item->size == 0)
            return ufo_fail(UFO_ERR_FORMAT, "%s: empty record at offset %llu", item->path,
                            (unsigned long long)item->offset);
        st = data_read_bytes(dec, item->path, item->offset, item->size, &got);
        break;
    case DATA_BLOB:
        /* encoded bytes the reader rebuilt in ds->pixels: RecordIO records split around the
         * magic number, images inside pickles */
        if (ds->pixels && item->size > 0) {
            char name[1024];
            snprintf(name, sizeof name, "%s@%llu", item->path ? item->path : ds->name,
                     (unsigned long long)item->offset);
            return data_decode_bytes(dec, ds->pixels + item->offset, item->size, name, want_w,
                                     want_h, img);
        }
        return ufo_fail(UFO_ERR_FORMAT, "%s@%llu: in-memory image has no bytes",
                        item->path ? item->path : ds->name, (unsigned long long)item->offset);
    default:
        return ufo_fail(UFO_ERR_INVALID, "%s: unknown item source %d",
                        item->path ? item->path : "?", (int)item->source);
    }
    if (st)
        return st;
    if (item->source == DATA_RANGE) {
        char name[1024];
        snprintf(name, sizeof name, "%s@%llu", item->path, (unsigned long long)item->offset);
        return data_decode_bytes(dec, dec->buf, got, name, want_w, want_h, img);
    }
    return data_decode_bytes(dec, dec->buf, got, item->path, want_w, want_h, img);
}
