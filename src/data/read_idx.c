/* format = idx: the MNIST family's IDX files, `<prefix>-images-idx3-ubyte` with
 * `<prefix>-labels-idx1-ubyte`, each optionally gzip-compressed (.gz). Images become DATA_MEMORY
 * items (1 channel) whose pixels are copied into ds->pixels. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/log.h"
#include "data/reader.h"

/* Labels and images are read in pieces of this size, so a header claiming billions of items
 * costs nothing before the data is there. */
#define IDX_CHUNK (1u << 20)

/* Find `<root>/<prefix>-<kind>` or the same with .gz; path gets the one that exists. */
static ufo_status idx_find(const char *root, const char *prefix, const char *kind, char *path,
                           size_t cap) {
    char name[512];
    snprintf(name, sizeof name, "%s-%s", prefix, kind);
    ufo_status st = data_path_join(path, cap, root, name);
    if (st != UFO_OK || data_is_file(path))
        return st;
    snprintf(name, sizeof name, "%s-%s.gz", prefix, kind);
    st = data_path_join(path, cap, root, name);
    if (st != UFO_OK || data_is_file(path))
        return st;
    return ufo_fail(UFO_ERR_IO, "%s/%s-%s[.gz]: no such file", root, prefix, kind);
}

/* Read exactly n bytes; returns how many were read (fewer at a truncated end), -1 on a
 * decompression error. */
static long idx_read(gzFile f, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        unsigned want = n - got > IDX_CHUNK ? IDX_CHUNK : (unsigned)(n - got);
        int r = gzread(f, (char *)buf + got, want);
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long)got;
}

/* zlib's word on why a read stopped short, as " (unexpected end of file)" for a cut .gz, or
 * "" when it saw nothing wrong (a plain file that simply ends); written into `buf`. */
static const char *idx_why(gzFile f, const char *path, char *buf, size_t size) {
    int err = Z_OK;
    const char *msg = gzerror(f, &err);
    buf[0] = '\0';
    if (err == Z_OK || !msg || !*msg)
        return buf;
    size_t n = strlen(path);
    /* zlib puts the path in front, which the caller already names */
    if (strncmp(msg, path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    snprintf(buf, size, " (%s)", msg);
    return buf;
}

/* Header of an IDX file of unsigned bytes with `ndims` dimensions: magic 0x0000 0x08 ndims, then
 * big-endian uint32 sizes. */
static ufo_status idx_header(gzFile f, const char *path, int ndims, uint32_t *dims) {
    uint8_t head[4 + 4 * 3];
    long want = 4 + 4 * ndims;
    long got = idx_read(f, head, (size_t)want);
    if (got != want)
        return ufo_fail(UFO_ERR_FORMAT, "%s: truncated IDX header (%ld of %ld bytes)", path,
                        got < 0 ? 0 : got, want);
    if (head[0] || head[1] || head[2] != 0x08 || head[3] != ndims)
        return ufo_fail(UFO_ERR_FORMAT,
                        "%s: not an IDX file of unsigned bytes with %d dimensions (magic %02x %02x "
                        "%02x %02x)", path, ndims, head[0], head[1], head[2], head[3]);
    for (int i = 0; i < ndims; i++) {
        const uint8_t *b = head + 4 + 4 * i;
        dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    }
    return UFO_OK;
}

/* Load one images/labels file pair into items of `split`. */
static ufo_status idx_load(struct data_set *ds, const char *root, const char *prefix,
                           enum data_split split) {
    char img_path[4096], lab_path[4096], why[256];
    ufo_status st = idx_find(root, prefix, "images-idx3-ubyte", img_path, sizeof img_path);
    if (st == UFO_OK)
        st = idx_find(root, prefix, "labels-idx1-ubyte", lab_path, sizeof lab_path);
    if (st != UFO_OK)
        return st;
    gzFile fi = gzopen(img_path, "rb");
    if (!fi)
        return ufo_fail(UFO_ERR_IO, "%s: %s", img_path, strerror(errno));
    gzFile fl = gzopen(lab_path, "rb");
    if (!fl) {
        gzclose(fi);
        return ufo_fail(UFO_ERR_IO, "%s: %s", lab_path, strerror(errno));
    }
    uint32_t idims[3], ldims[1];
    uint8_t *labels = NULL;
    st = idx_header(fi, img_path, 3, idims);
    if (st == UFO_OK)
        st = idx_header(fl, lab_path, 1, ldims);
    if (st == UFO_OK && (idims[1] == 0 || idims[2] == 0 || idims[1] > UINT16_MAX ||
                         idims[2] > UINT16_MAX || (uint64_t)idims[1] * idims[2] > 1u << 24))
        st = ufo_fail(UFO_ERR_FORMAT, "%s: implausible image size %u x %u", img_path, idims[1],
                      idims[2]);

    /* labels: as many as are really there */
    uint32_t n = 0;
    if (st == UFO_OK) {
        size_t want = ldims[0], cap = 0;
        while (st == UFO_OK && n < want) {
            size_t piece = want - n > IDX_CHUNK ? IDX_CHUNK : want - n;
            if (n + piece > cap) {
                cap = n + piece;
                uint8_t *grown = realloc(labels, cap);
                if (!grown) {
                    st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", lab_path);
                    break;
                }
                labels = grown;
            }
            long got = idx_read(fl, labels + n, piece);
            if (got < 0)
                st = ufo_fail(UFO_ERR_FORMAT, "%s: corrupt gzip stream", lab_path);
            else
                n += (uint32_t)got;
            if (got >= 0 && (size_t)got < piece)
                break;
        }
    }
    /* a file cut short (an interrupted download or unpack) is an error: training on the part
     * that is there would quietly change the dataset */
    if (st == UFO_OK && n < ldims[0])
        st = ufo_fail(UFO_ERR_FORMAT, "dataset %s: %s is truncated: %u of the %u labels it "
                                      "announces could be read%s; download or unpack it "
                                      "again",
                      ds->name, lab_path, n, ldims[0], idx_why(fl, lab_path, why, sizeof why));
    if (st == UFO_OK) {
        /* images and labels left over by a count mismatch are counted once */
        uint32_t claimed = idims[0] > ldims[0] ? idims[0] : ldims[0];
        if (idims[0] != ldims[0])
            log_warn("dataset %s: %s announces %u images but %s %u labels", ds->name, img_path,
                     idims[0], lab_path, ldims[0]);
        if (n > idims[0])
            n = idims[0];
        ds->report.bad_records += claimed - n;
    }

    /* images, one at a time into the pixel store */
    size_t image_size = (size_t)idims[1] * idims[2];
    for (uint32_t i = 0; st == UFO_OK && i < n; i++) {
        int64_t at = data_pixels_grow(ds, image_size);
        if (at < 0) {
            st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory at image %u", img_path, i);
            break;
        }
        long got = idx_read(fi, ds->pixels + at, image_size);
        if (got < 0) {
            st = ufo_fail(UFO_ERR_FORMAT, "dataset %s: %s: corrupt gzip stream after %u of %u "
                                          "images", ds->name, img_path, i, n);
            break;
        }
        if (got != (long)image_size) {
            st = ufo_fail(UFO_ERR_FORMAT, "dataset %s: %s is truncated: %u of the %u images it "
                                          "announces could be read%s; download or unpack "
                                          "it again",
                          ds->name, img_path, i, idims[0], idx_why(fi, img_path, why, sizeof why));
            break;
        }
        struct data_item item = {
            .source = DATA_MEMORY, .path = NULL, .offset = (uint64_t)at, .size = image_size,
            .width = (uint16_t)idims[2], .height = (uint16_t)idims[1], .channels = 1,
            .split = split, .label = labels[i], .camera = -1,
        };
        st = data_add_item(ds, &item);
    }
    free(labels);
    gzclose(fi);
    gzclose(fl);
    return st;
}

/* spec->file names one prefix loaded into spec->split; otherwise `train` feeds the training
 * split and `t10k` the test split, as the parts ask. */
ufo_status data_read_idx(const struct data_spec *spec, struct data_set *ds) {
    if (spec->file)
        return idx_load(ds, spec->root, spec->file, spec->split);
    unsigned parts = spec->parts ? spec->parts : DATA_PART_ALL;
    ufo_status st = UFO_OK;
    if (parts & DATA_PART_TRAIN)
        st = idx_load(ds, spec->root, "train", DATA_TRAIN);
    if (st == UFO_OK && (parts & DATA_PART_EVAL))
        st = idx_load(ds, spec->root, "t10k", DATA_TEST);
    return st;
}
