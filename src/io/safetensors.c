/* safetensors reader (header checked up front, data read per tensor) and atomic writer. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "io/safetensors.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c writes host floats as little-endian data; port it for big-endian hosts"
#endif

struct ufo_st_file {
    char *path;
    FILE *fp;
    uint64_t data_start; /* 8 + header length */
    int n;
    struct ufo_st_tensor *tensors;
    int n_meta;
    char **meta; /* key, value, key, value, ... */
};

static const struct {
    const char *name;
    int size;
} st_dtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
    {"I8", 1},  {"U64", 8}, {"U32", 4}, {"U16", 2},  {"U8", 1},  {"BOOL", 1},
    {"F8_E4M3", 1}, {"F8_E5M2", 1},
};

void ufo_st_close(ufo_st_file *f) {
    if (!f)
        return;
    if (f->fp)
        fclose(f->fp);
    for (int i = 0; i < f->n; i++)
        free(f->tensors[i].name);
    for (int i = 0; i < 2 * f->n_meta; i++)
        free(f->meta[i]);
    free(f->tensors);
    free(f->meta);
    free(f->path);
    free(f);
}

/* Parse one tensor entry of the header into t (its name already set). */
static ufo_status st_parse_entry(const char *path, const char *name, json_t *v,
                                 struct ufo_st_tensor *t) {
    if (!json_is_object(v))
        return ufo_fail(UFO_ERR_FORMAT, "%s: header entry \"%s\" is not an object", path, name);
    const char *dtype = json_string_value(json_object_get(v, "dtype"));
    json_t *shape = json_object_get(v, "shape");
    json_t *offs = json_object_get(v, "data_offsets");
    if (!dtype)
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" has no dtype string", path, name);
    t->elem_size = 0;
    for (size_t i = 0; i < sizeof st_dtypes / sizeof st_dtypes[0]; i++)
        if (strcmp(dtype, st_dtypes[i].name) == 0) {
            t->elem_size = st_dtypes[i].size;
            snprintf(t->dtype, sizeof t->dtype, "%s", dtype);
        }
    if (!t->elem_size)
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" has unknown dtype \"%.16s\"", path,
                        name, dtype);

    /* shape: at most UFO_ST_MAX_DIMS non-negative sizes whose byte count fits 2^62 */
    if (!json_is_array(shape) || json_array_size(shape) > UFO_ST_MAX_DIMS)
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\": shape must be a list of at most %d "
                        "integers", path, name, UFO_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(shape);
    uint64_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < t->ndim; i++) {
        json_t *d = json_array_get(shape, (size_t)i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\": shape[%d] is not a size", path,
                            name, i);
        uint64_t x = (uint64_t)json_integer_value(d);
        t->shape[i] = (int64_t)x;
        if (x != 0 && numel > (UINT64_C(1) << 62) / x)
            overflow = 1;
        else
            numel *= x;
    }
    if (overflow)
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\": shape too large", path, name);
    t->numel = numel;

    /* offsets must agree with the shape */
    json_t *b0 = json_array_get(offs, 0), *b1 = json_array_get(offs, 1);
    if (!json_is_array(offs) || json_array_size(offs) != 2 || !json_is_integer(b0) ||
        !json_is_integer(b1) || json_integer_value(b0) < 0 ||
        json_integer_value(b1) < json_integer_value(b0))
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\": data_offsets must be [begin, end] "
                        "with 0 <= begin <= end", path, name);
    t->begin = (uint64_t)json_integer_value(b0);
    t->end = (uint64_t)json_integer_value(b1);
    if (numel > (UINT64_C(1) << 62) / (uint64_t)t->elem_size ||
        t->end - t->begin != numel * (uint64_t)t->elem_size)
        return ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\": data_offsets span %llu bytes but "
                        "its shape and dtype need %llu", path, name,
                        (unsigned long long)(t->end - t->begin),
                        (unsigned long long)(numel * (uint64_t)t->elem_size));
    return UFO_OK;
}

static int st_cmp_begin(const void *a, const void *b) {
    const struct ufo_st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return 0;
}

/* Parse the header text of an opened file and check its ranges against the data size. */
static ufo_status st_parse_header(ufo_st_file *f, const char *text, size_t len,
                                  uint64_t data_size) {
    const char *path = f->path;
    json_error_t err;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        return ufo_fail(UFO_ERR_FORMAT, "%s: header is not valid JSON (byte %d: %s)", path,
                        err.position, err.text);
    ufo_status st = UFO_OK;
    if (!json_is_object(root)) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: header is not a JSON object", path);
        goto done;
    }
    size_t cap = json_object_size(root);
    f->tensors = calloc(cap ? cap : 1, sizeof *f->tensors);
    if (!f->tensors) {
        st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory for %zu tensors", path, cap);
        goto done;
    }

    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(value)) {
                st = ufo_fail(UFO_ERR_FORMAT, "%s: __metadata__ is not an object", path);
                goto done;
            }
            size_t m = json_object_size(value);
            f->meta = calloc(2 * m + 1, sizeof *f->meta);
            if (!f->meta) {
                st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            const char *mk;
            json_t *mv;
            json_object_foreach(value, mk, mv) {
                if (!json_is_string(mv)) {
                    st = ufo_fail(UFO_ERR_FORMAT, "%s: __metadata__ value of \"%s\" is not a "
                                  "string", path, mk);
                    goto done;
                }
                f->meta[2 * f->n_meta] = strdup(mk);
                f->meta[2 * f->n_meta + 1] = strdup(json_string_value(mv));
                f->n_meta++;
                if (!f->meta[2 * f->n_meta - 2] || !f->meta[2 * f->n_meta - 1]) {
                    st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
                    goto done;
                }
            }
            continue;
        }
        if (key[0] == '\0') {
            st = ufo_fail(UFO_ERR_FORMAT, "%s: a tensor has an empty name", path);
            goto done;
        }
        struct ufo_st_tensor *t = &f->tensors[f->n];
        t->name = strdup(key);
        if (!t->name) {
            st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        f->n++;
        if ((st = st_parse_entry(path, key, value, t)) != UFO_OK)
            goto done;
    }

    /* the byte ranges must tile [0, data_size) exactly */
    qsort(f->tensors, (size_t)f->n, sizeof *f->tensors, st_cmp_begin);
    uint64_t at = 0;
    for (int i = 0; i < f->n; i++) {
        const struct ufo_st_tensor *t = &f->tensors[i];
        if (t->begin != at) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s: tensor \"%s\" starts at byte %llu but the "
                          "previous tensor ends at %llu (%s)", path, t->name,
                          (unsigned long long)t->begin, (unsigned long long)at,
                          t->begin < at ? "overlap" : "gap");
            goto done;
        }
        if (t->end > data_size) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s: truncated: tensor \"%s\" ends at data byte %llu, "
                          "the file holds %llu", path, t->name, (unsigned long long)t->end,
                          (unsigned long long)data_size);
            goto done;
        }
        at = t->end;
    }
    if (at != data_size)
        st = ufo_fail(UFO_ERR_FORMAT, "%s: the header accounts for %llu data bytes but the file "
                      "holds %llu", path, (unsigned long long)at,
                      (unsigned long long)data_size);
done:
    json_decref(root);
    return st;
}

ufo_status ufo_st_open(const char *path, ufo_st_file **out) {
    *out = NULL;
    ufo_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
    }
    f->fp = fopen(path, "rb");
    if (!f->fp) {
        ufo_status st = ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
        ufo_st_close(f);
        return st;
    }
    struct stat sb;
    if (fstat(fileno(f->fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        ufo_st_close(f);
        return ufo_fail(UFO_ERR_IO, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)sb.st_size;

    /* header length, then the header */
    unsigned char len8[8];
    if (size < 8 || fread(len8, 1, 8, f->fp) != 8) {
        ufo_st_close(f);
        return ufo_fail(UFO_ERR_FORMAT, "%s: %llu bytes, too short for a safetensors file",
                        path, (unsigned long long)size);
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | len8[i];
    if (hlen > UFO_ST_MAX_HEADER || hlen > size - 8) {
        ufo_st_close(f);
        return ufo_fail(UFO_ERR_FORMAT, "%s: header length %llu is impossible for a file of "
                        "%llu bytes (limit %u)", path, (unsigned long long)hlen,
                        (unsigned long long)size, UFO_ST_MAX_HEADER);
    }
    char *text = malloc(hlen ? hlen : 1);
    if (!text) {
        ufo_st_close(f);
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory for a %llu-byte header", path,
                        (unsigned long long)hlen);
    }
    if (fread(text, 1, hlen, f->fp) != hlen) {
        free(text);
        ufo_st_close(f);
        return ufo_fail(UFO_ERR_IO, "%s: could not read the header", path);
    }
    f->data_start = 8 + hlen;
    ufo_status st = st_parse_header(f, text, hlen, size - 8 - hlen);
    free(text);
    if (st != UFO_OK) {
        ufo_st_close(f);
        return st;
    }
    *out = f;
    return UFO_OK;
}

const char *ufo_st_path(const ufo_st_file *f) {
    return f->path;
}

int ufo_st_count(const ufo_st_file *f) {
    return f->n;
}

const struct ufo_st_tensor *ufo_st_tensor_at(const ufo_st_file *f, int i) {
    return i >= 0 && i < f->n ? &f->tensors[i] : NULL;
}

const struct ufo_st_tensor *ufo_st_find(const ufo_st_file *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *ufo_st_metadata(const ufo_st_file *f, const char *key) {
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[2 * i], key) == 0)
            return f->meta[2 * i + 1];
    return NULL;
}

ufo_status ufo_st_read_f32(ufo_st_file *f, const struct ufo_st_tensor *t, float *dst) {
    if (strcmp(t->dtype, "F32") != 0)
        return ufo_fail(UFO_ERR_UNSUPPORTED, "%s: tensor \"%s\" is %s, only F32 is supported",
                        f->path, t->name, t->dtype);
    if (t->numel == 0)
        return UFO_OK;
    if (fseeko(f->fp, (off_t)(f->data_start + t->begin), SEEK_SET) != 0 ||
        fread(dst, sizeof(float), (size_t)t->numel, f->fp) != t->numel)
        return ufo_fail(UFO_ERR_IO, "%s: could not read tensor \"%s\" (file changed or "
                        "truncated?)", f->path, t->name);
    return UFO_OK;
}

/* The header JSON, padded with spaces to a multiple of 8 bytes. */
static ufo_status st_build_header(const char *path, const struct ufo_st_out *tensors, size_t n,
                                  const char *const *meta, size_t n_meta, char **out,
                                  size_t *len) {
    json_t *root = json_object();
    if (n_meta) {
        json_t *m = json_object();
        for (size_t i = 0; i < n_meta; i++)
            json_object_set_new(m, meta[2 * i], json_string(meta[2 * i + 1]));
        json_object_set_new(root, "__metadata__", m);
    }
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ufo_st_out *t = &tensors[i];
        if (!t->name || !t->name[0] || strcmp(t->name, "__metadata__") == 0 ||
            json_object_get(root, t->name) || t->ndim < 0 || t->ndim > UFO_ST_MAX_DIMS) {
            json_decref(root);
            return ufo_fail(UFO_ERR_INVALID, "%s: tensor %zu \"%s\": empty, reserved or "
                            "repeated name, or bad ndim %d", path, i, t->name ? t->name : "",
                            t->ndim);
        }
        uint64_t numel = 1;
        json_t *shape = json_array();
        for (int d = 0; d < t->ndim; d++) {
            numel *= (uint64_t)t->shape[d];
            json_array_append_new(shape, json_integer(t->shape[d]));
        }
        json_t *e = json_object();
        json_object_set_new(e, "dtype", json_string("F32"));
        json_object_set_new(e, "shape", shape);
        json_t *offs = json_array();
        json_array_append_new(offs, json_integer((json_int_t)at));
        json_array_append_new(offs, json_integer((json_int_t)(at + 4 * numel)));
        json_object_set_new(e, "data_offsets", offs);
        json_object_set_new(root, t->name, e);
        at += 4 * numel;
    }
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory for the header", path);
    size_t tl = strlen(text), padded = (tl + 7) / 8 * 8;
    char *buf = realloc(text, padded + 1);
    if (!buf) {
        free(text);
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory for the header", path);
    }
    memset(buf + tl, ' ', padded - tl);
    buf[padded] = '\0';
    *out = buf;
    *len = padded;
    return UFO_OK;
}

/* fsync the folder holding `path`, so the rename itself survives a crash. */
static void st_sync_dir(const char *path) {
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(copy);
}

ufo_status ufo_st_write(const char *path, const struct ufo_st_out *tensors, size_t n,
                        const char *const *meta, size_t n_meta) {
    char *header = NULL;
    size_t hlen = 0;
    ufo_status st = st_build_header(path, tensors, n, meta, n_meta, &header, &hlen);
    if (st != UFO_OK)
        return st;

    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        free(header);
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = ufo_fail(UFO_ERR_IO, "%s: cannot create a temporary file: %s", path,
                      strerror(errno));
        free(tmp);
        free(header);
        return st;
    }
    fchmod(fd, 0644);
    FILE *fp = fdopen(fd, "wb");
    if (!fp) {
        close(fd);
        unlink(tmp);
        free(tmp);
        free(header);
        return ufo_fail(UFO_ERR_IO, "%s: fdopen: %s", path, strerror(errno));
    }

    /* length, header, data */
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    int ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(header, 1, hlen, fp) == hlen;
    for (size_t i = 0; ok && i < n; i++) {
        size_t numel = 1;
        for (int d = 0; d < tensors[i].ndim; d++)
            numel *= (size_t)tensors[i].shape[d];
        ok = numel == 0 || fwrite(tensors[i].data, sizeof(float), numel, fp) == numel;
    }
    int err = errno;
    ok = ok && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    if (!ok)
        err = errno;
    ok = (fclose(fp) == 0) && ok;
    if (ok && rename(tmp, path) != 0) {
        err = errno;
        ok = 0;
    }
    free(header);
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return ufo_fail(UFO_ERR_IO, "%s: write failed: %s", path, strerror(err));
    }
    free(tmp);
    st_sync_dir(path);
    return UFO_OK;
}
