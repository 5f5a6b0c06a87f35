/* NumPy `.npy` reader and writer for the dtypes ufo exchanges (float32 features, integer
 * labels). The header is a Python dict literal; we parse only the three keys NumPy writes. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

size_t io_dtype_size(enum io_dtype dtype) {
    return dtype == IO_I64 ? 8 : 4;
}

static const char *npy_descr(enum io_dtype dtype) {
    switch (dtype) {
    case IO_F32: return "<f4";
    case IO_I32: return "<i4";
    case IO_I64: return "<i8";
    }
    return "?";
}

void io_array_free(struct io_array *arr) {
    if (!arr) return;
    free(arr->data);
    arr->data = NULL;
    arr->count = 0;
}

/* A cursor over the header text, for the little dict-literal parser below. */
struct npy_cursor {
    const char *s, *end;
    const char *path;
};

static void npy_skip_space(struct npy_cursor *c) {
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r'))
        c->s++;
}

static int npy_accept(struct npy_cursor *c, char ch) {
    npy_skip_space(c);
    if (c->s < c->end && *c->s == ch) {
        c->s++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "..."), copied into buf. */
static int npy_string(struct npy_cursor *c, char *buf, size_t size) {
    npy_skip_space(c);
    if (c->s >= c->end || (*c->s != '\'' && *c->s != '"')) return 0;
    char quote = *c->s++;
    size_t n = 0;
    while (c->s < c->end && *c->s != quote) {
        if (n + 1 >= size) return 0;
        buf[n++] = *c->s++;
    }
    if (c->s >= c->end) return 0;
    c->s++;
    buf[n] = '\0';
    return 1;
}

/* A non-negative decimal integer that fits in size_t. */
static int npy_size(struct npy_cursor *c, size_t *out) {
    npy_skip_space(c);
    size_t v = 0;
    int digits = 0;
    while (c->s < c->end && *c->s >= '0' && *c->s <= '9') {
        size_t d = (size_t)(*c->s - '0');
        if (v > (SIZE_MAX - d) / 10) return 0;
        v = v * 10 + d;
        c->s++;
        digits++;
    }
    if (c->s < c->end && *c->s == 'L') c->s++; /* Python 2 long suffix */
    *out = v;
    return digits > 0;
}

/* Parse the header dict into dtype, order and shape. */
static ufo_status npy_parse_header(const char *path, const char *text, size_t len,
                                   struct io_array *arr) {
    struct npy_cursor c = {text, text + len, path};
    int have_descr = 0, have_order = 0, have_shape = 0, fortran = 0;
    char key[32], descr[32];

    if (!npy_accept(&c, '{'))
        return ufo_fail(UFO_ERR_FORMAT, "%s: .npy header is not a dict literal", path);
    while (!npy_accept(&c, '}')) {
        if (!npy_string(&c, key, sizeof key) || !npy_accept(&c, ':'))
            return ufo_fail(UFO_ERR_FORMAT, "%s: garbled .npy header near \"%.20s\"", path, c.s);
        if (strcmp(key, "descr") == 0) {
            if (!npy_string(&c, descr, sizeof descr))
                return ufo_fail(UFO_ERR_FORMAT, "%s: .npy 'descr' is not a simple type string "
                                "(structured arrays are not supported)", path);
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            npy_skip_space(&c);
            if ((size_t)(c.end - c.s) >= 4 && strncmp(c.s, "True", 4) == 0) {
                fortran = 1;
                c.s += 4;
            } else if ((size_t)(c.end - c.s) >= 5 && strncmp(c.s, "False", 5) == 0) {
                c.s += 5;
            } else {
                return ufo_fail(UFO_ERR_FORMAT, "%s: .npy 'fortran_order' is not True/False",
                                path);
            }
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (!npy_accept(&c, '('))
                return ufo_fail(UFO_ERR_FORMAT, "%s: .npy 'shape' is not a tuple", path);
            arr->ndim = 0;
            while (!npy_accept(&c, ')')) {
                if (arr->ndim == IO_NPY_MAX_DIMS)
                    return ufo_fail(UFO_ERR_FORMAT, "%s: .npy array has more than %d dimensions",
                                    path, IO_NPY_MAX_DIMS);
                if (!npy_size(&c, &arr->shape[arr->ndim]))
                    return ufo_fail(UFO_ERR_FORMAT, "%s: .npy 'shape' holds a value that is not "
                                    "a non-negative integer", path);
                arr->ndim++;
                if (!npy_accept(&c, ',') && !(npy_skip_space(&c), c.s < c.end && *c.s == ')'))
                    return ufo_fail(UFO_ERR_FORMAT, "%s: .npy 'shape' tuple is malformed", path);
            }
            have_shape = 1;
        } else {
            return ufo_fail(UFO_ERR_FORMAT, "%s: unknown key '%s' in .npy header", path, key);
        }
        if (!npy_accept(&c, ',')) {
            if (!npy_accept(&c, '}'))
                return ufo_fail(UFO_ERR_FORMAT, "%s: garbled .npy header after key '%s'",
                                path, key);
            break;
        }
    }
    npy_skip_space(&c);
    if (c.s != c.end)
        return ufo_fail(UFO_ERR_FORMAT, "%s: unexpected text after the .npy header dict", path);
    if (!have_descr || !have_order || !have_shape)
        return ufo_fail(UFO_ERR_FORMAT, "%s: .npy header lacks '%s'", path,
                        !have_descr ? "descr" : !have_order ? "fortran_order" : "shape");

    /* the element type: little-endian only ('|' is allowed for 1-byte types, none here) */
    if (strcmp(descr, "<f4") == 0) {
        arr->dtype = IO_F32;
    } else if (strcmp(descr, "<i4") == 0) {
        arr->dtype = IO_I32;
    } else if (strcmp(descr, "<i8") == 0) {
        arr->dtype = IO_I64;
    } else {
        return ufo_fail(UFO_ERR_UNSUPPORTED, "%s: .npy dtype '%s' is not supported (use float32 "
                        "'<f4', int32 '<i4' or int64 '<i8', little-endian)", path, descr);
    }
    if (fortran && arr->ndim > 1)
        return ufo_fail(UFO_ERR_UNSUPPORTED, "%s: .npy array is in Fortran order; save it with "
                        "numpy.ascontiguousarray first", path);

    arr->count = 1;
    for (int i = 0; i < arr->ndim; i++) {
        if (arr->shape[i] && arr->count > SIZE_MAX / 8 / arr->shape[i])
            return ufo_fail(UFO_ERR_FORMAT, "%s: .npy shape is too large", path);
        arr->count *= arr->shape[i];
    }
    return UFO_OK;
}

static uint32_t npy_le32(const unsigned char *b) {
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Read the preamble and header, leaving `f` at the first data byte. */
static ufo_status npy_read_header(FILE *f, const char *path, struct io_array *arr) {
    unsigned char pre[12];
    if (fread(pre, 1, 8, f) != 8)
        return ufo_fail(UFO_ERR_FORMAT, "%s: too short to be a .npy file", path);
    if (memcmp(pre, npy_magic, 6) != 0)
        return ufo_fail(UFO_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
    int major = pre[6];
    size_t hlen;
    if (major == 1) {
        if (fread(pre + 8, 1, 2, f) != 2)
            return ufo_fail(UFO_ERR_FORMAT, "%s: truncated .npy header", path);
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        if (fread(pre + 8, 1, 4, f) != 4)
            return ufo_fail(UFO_ERR_FORMAT, "%s: truncated .npy header", path);
        hlen = npy_le32(pre + 8);
        if (hlen > (1u << 24))
            return ufo_fail(UFO_ERR_FORMAT, "%s: .npy header length %zu is implausible",
                            path, hlen);
    } else {
        return ufo_fail(UFO_ERR_UNSUPPORTED, "%s: .npy format version %d.%d is not supported",
                        path, major, pre[7]);
    }
    char *text = malloc(hlen + 1);
    if (!text) return ufo_fail(UFO_ERR_NOMEM, "%s: no memory for the .npy header", path);
    if (fread(text, 1, hlen, f) != hlen) {
        free(text);
        return ufo_fail(UFO_ERR_FORMAT, "%s: truncated .npy header (%zu bytes announced)",
                        path, hlen);
    }
    text[hlen] = '\0';
    if (memchr(text, '\0', hlen)) {
        free(text);
        return ufo_fail(UFO_ERR_FORMAT, "%s: .npy header contains a NUL byte", path);
    }
    ufo_status st = npy_parse_header(path, text, hlen, arr);
    free(text);
    return st;
}

ufo_status io_npy_read(const char *path, struct io_array *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));

    struct io_array arr = {0};
    ufo_status st = npy_read_header(f, path, &arr);
    if (st != UFO_OK) {
        fclose(f);
        return st;
    }

    /* the data, then nothing: extra bytes mean the shape in the header is wrong */
    size_t esize = io_dtype_size(arr.dtype);
    arr.data = malloc(arr.count ? arr.count * esize : 1);
    if (!arr.data) {
        fclose(f);
        return ufo_fail(UFO_ERR_NOMEM, "%s: no memory for %zu elements", path, arr.count);
    }
    size_t got = fread(arr.data, esize, arr.count, f);
    if (got != arr.count) {
        int err = ferror(f);
        size_t announced = arr.count;   /* io_array_free() clears it */
        fclose(f);
        io_array_free(&arr);
        if (err) return ufo_fail(UFO_ERR_IO, "%s: read error", path);
        return ufo_fail(UFO_ERR_FORMAT, "%s: truncated .npy data: the header announces %zu "
                        "elements, the file holds %zu", path, announced, got);
    }
    if (fgetc(f) != EOF) {
        fclose(f);
        io_array_free(&arr);
        return ufo_fail(UFO_ERR_FORMAT, "%s: bytes after the .npy data: the shape in the "
                        "header does not match the file size", path);
    }
    fclose(f);
    *out = arr;
    return UFO_OK;
}

ufo_status io_npy_read_matrix(const char *path, float **data, size_t *rows, size_t *cols) {
    struct io_array arr;
    ufo_status st = io_npy_read(path, &arr);
    if (st != UFO_OK) return st;
    if (arr.dtype != IO_F32 || arr.ndim != 2) {
        io_array_free(&arr);
        return ufo_fail(UFO_ERR_FORMAT, "%s: expected a 2-D float32 array (N × D), found a "
                        "%d-D %s array", path, arr.ndim, npy_descr(arr.dtype));
    }
    *data = arr.data;
    *rows = arr.shape[0];
    *cols = arr.shape[1];
    return UFO_OK;
}

ufo_status io_npy_write(const char *path, const struct io_array *arr) {
    if (arr->ndim < 0 || arr->ndim > IO_NPY_MAX_DIMS)
        return ufo_fail(UFO_ERR_INVALID, "%s: cannot write a %d-D array", path, arr->ndim);

    /* the header dict, padded with spaces so the data starts on a 64-byte boundary */
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     npy_descr(arr->dtype));
    for (int i = 0; i < arr->ndim; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%zu,%s", arr->shape[i],
                      i + 1 < arr->ndim ? " " : "");
    if (arr->ndim > 1) n--; /* a 1-tuple keeps its comma, longer tuples drop the last one */
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    size_t dict_len = (size_t)n;
    int major = dict_len + 1 + 10 <= 65535 ? 1 : 2;
    size_t pre = major == 1 ? 10 : 12;
    size_t total = (pre + dict_len + 1 + 63) / 64 * 64;
    size_t hlen = total - pre;

    unsigned char head[12 + 600];
    memcpy(head, npy_magic, 6);
    head[6] = (unsigned char)major;
    head[7] = 0;
    if (major == 1) {
        head[8] = (unsigned char)(hlen & 0xff);
        head[9] = (unsigned char)(hlen >> 8);
    } else {
        for (int i = 0; i < 4; i++) head[8 + i] = (unsigned char)(hlen >> (8 * i));
    }
    memcpy(head + pre, dict, dict_len);
    memset(head + pre + dict_len, ' ', hlen - dict_len - 1);
    head[total - 1] = '\n';

    size_t count = 1;
    for (int i = 0; i < arr->ndim; i++) count *= arr->shape[i];
    FILE *f = fopen(path, "wb");
    if (!f) return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
    int ok = fwrite(head, 1, total, f) == total &&
             fwrite(arr->data, io_dtype_size(arr->dtype), count, f) == count;
    if (fclose(f) != 0) ok = 0;
    if (!ok) return ufo_fail(UFO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return UFO_OK;
}

ufo_status io_npy_write_matrix(const char *path, const float *data, size_t rows, size_t cols) {
    struct io_array arr = {.dtype = IO_F32, .ndim = 2, .shape = {rows, cols},
                           .count = rows * cols, .data = (void *)data};
    return io_npy_write(path, &arr);
}
