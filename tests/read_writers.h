/* Writers of RecordIO files and insightface pickles for the reader tests, following the
 * byte layouts that MXNet and Python write. */
#ifndef UFO_TESTS_READ_WRITERS_H
#define UFO_TESTS_READ_WRITERS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "read_util.h"

/* RecordIO writer as MXNet's: split around aligned magic numbers, pad to 4 bytes. */
static const uint8_t t_magic[4] = {0x0a, 0x23, 0xd7, 0xce};

static inline void t_rec_part(FILE *f, uint32_t cflag, const uint8_t *p, uint32_t len) {
    uint32_t lrec = cflag << 29 | len;
    uint8_t l[4] = {lrec & 0xff, (lrec >> 8) & 0xff, (lrec >> 16) & 0xff, lrec >> 24};
    fwrite(t_magic, 1, 4, f);
    fwrite(l, 1, 4, f);
    fwrite(p, 1, len, f);
}

static inline long t_rec_write(FILE *f, const uint8_t *buf, uint32_t len) {
    long at = ftell(f);
    uint32_t start = 0;
    for (uint32_t i = 0; i + 4 <= len; i += 4) {
        if (!memcmp(buf + i, t_magic, 4)) {
            t_rec_part(f, start == 0 ? 1 : 2, buf + start, i - start);
            start = i + 4;
        }
    }
    t_rec_part(f, start ? 3 : 0, buf + start, len - start);
    static const uint8_t zero[4];
    fwrite(zero, 1, (4 - len % 4) % 4, f);
    return at;
}

/* Image header: flag, label, id, id2, then `flag` labels. */
static inline size_t t_rec_header(uint8_t *out, uint32_t flag, float label, const float *labels) {
    memset(out, 0, 24);
    memcpy(out, &flag, 4);
    memcpy(out + 4, &label, 4);
    for (uint32_t i = 0; i < flag; i++)
        memcpy(out + 24 + 4 * i, &labels[i], 4);
    return 24 + 4 * (size_t)flag;
}

struct t_rec {
    uint8_t payload[64];
    uint32_t size;
    float label;
};

/* A .rec/.idx pair of 5 images of identities 3, 3, 8, 1, 8 with the insightface header when
 * `header`; image 2 contains the magic number (split), image 4 carries two float labels. */
static inline void t_mxrec(const char *dir, int header, struct t_rec *recs, long *offsets) {
    char rec_path[600], idx_path[600];
    snprintf(rec_path, sizeof rec_path, "%s/train.rec", dir);
    snprintf(idx_path, sizeof idx_path, "%s/train.idx", dir);
    t_mkdirs(rec_path, 0);
    FILE *f = fopen(rec_path, "wb");
    uint8_t buf[256];
    static const float ids[5] = {3, 3, 8, 1, 8};
    int base = header ? 1 : 0;
    long off[16];
    if (header) {
        float l[2] = {6, 9};
        size_t n = t_rec_header(buf, 2, 0, l);
        off[0] = t_rec_write(f, buf, (uint32_t)n);
    }
    for (int i = 0; i < 5; i++) {
        struct t_rec *r = &recs[i];
        r->size = 13 + (uint32_t)i * 5;
        for (uint32_t k = 0; k < r->size; k++)
            r->payload[k] = (uint8_t)(0xd8 + i * 17 + k * 7);
        r->label = ids[i];
        float two[2] = {ids[i], 0.5f};
        size_t h = i == 4 ? t_rec_header(buf, 2, 0, two) : t_rec_header(buf, 0, ids[i], NULL);
        if (i == 2) /* magic at payload byte 4: record byte 28, 4-aligned */
            memcpy(r->payload + 4, t_magic, 4), memcpy(r->payload + 12, t_magic, 4);
        memcpy(buf + h, r->payload, r->size);
        off[base + i] = t_rec_write(f, buf, (uint32_t)(h + r->size));
        offsets[i] = off[base + i] + 8 + (long)h;
    }
    if (header) {
        float ranges[3][2] = {{4, 5}, {1, 3}, {3, 6}};
        for (int k = 0; k < 3; k++) {
            size_t n = t_rec_header(buf, 2, 0, ranges[k]);
            off[6 + k] = t_rec_write(f, buf, (uint32_t)n);
        }
    }
    fclose(f);
    FILE *x = fopen(idx_path, "w");
    int n = header ? 9 : 5;
    for (int k = n - 1; k >= 0; k -= 2) /* unsorted: odd positions backwards, then even */
        fprintf(x, "%d\t%ld\n", k, off[k]);
    for (int k = n - 2; k >= 0; k -= 2)
        fprintf(x, "%d\t%ld\n", k, off[k]);
    fclose(x);
}

/* Pickle writers for the facebin tests. */
static inline void t_u32(struct t_buf *b, uint32_t v) {
    t_printf(b, "%c%c%c%c", 0, 0, 0, 0);
    for (int i = 0; i < 4; i++)
        b->data[b->len - 4 + i] = (char)(v >> (8 * i));
}

static inline void t_raw(struct t_buf *b, const void *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        t_printf(b, "%c", 0);
    memcpy(b->data + b->len - n, p, n);
}

#define T_LIT(b, s) t_raw(b, s, sizeof(s) - 1)

static inline void t_byte(struct t_buf *b, uint8_t c) {
    t_raw(b, &c, 1);
}

static inline void t_op_str(struct t_buf *b, uint8_t op, const char *s) {
    size_t n = strlen(s);
    t_byte(b, op);
    if (op == 'X')
        t_u32(b, (uint32_t)n);
    else
        t_byte(b, (uint8_t)n);
    t_raw(b, s, n);
}

/* Image i of a pack: a few bytes starting with a JPEG marker. */
static inline void t_image(int i, uint8_t *out, size_t *n) {
    *n = 5 + (size_t)i % 4;
    for (size_t k = 0; k < *n; k++)
        out[k] = (uint8_t)(k == 0 ? 0xff : k == 1 ? 0xd8 : i * 31 + (int)k);
}

static const uint8_t t_same[3] = {1, 0, 1};

/* Python 2, protocol 2: BINSTRING images, BINPUT memo, batched APPENDS, NEWTRUE/NEWFALSE. */
static inline size_t t_pickle_py2(const char *path, long *offsets) {
    struct t_buf b = {0};
    T_LIT(&b, "\x80\x02]q\x01(");
    for (int i = 0; i < 6; i++) {
        uint8_t img[16];
        size_t n;
        t_image(i, img, &n);
        if (i == 3)
            T_LIT(&b, "e"); /* batch boundary, then one APPEND */
        t_byte(&b, i % 2 ? 'U' : 'T');
        if (i % 2)
            t_byte(&b, (uint8_t)n);
        else
            t_u32(&b, (uint32_t)n);
        offsets[i] = (long)b.len;
        t_raw(&b, img, n);
        t_byte(&b, 'q');
        t_byte(&b, (uint8_t)(2 + i));
        if (i == 3)
            T_LIT(&b, "a(");
    }
    T_LIT(&b, "e]q\x10(\x88\x89\x88" "e\x86q\x11.");
    size_t len = b.len;
    t_buf_write(&b, path);
    return len;
}

/* Python 3, protocol 4: FRAME, MEMOIZE, SHORT_BINBYTES/BINBYTES, and the flags as a numpy bool
 * array rebuilt by _reconstruct and BUILD, with a BINGET of a memoised string. */
static inline void t_pickle_py3(const char *path, long *offsets) {
    struct t_buf b = {0};
    T_LIT(&b, "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00]\x94(");
    int memo = 1;
    for (int i = 0; i < 6; i++) {
        uint8_t img[16];
        size_t n;
        t_image(i, img, &n);
        t_byte(&b, i < 3 ? 'C' : 'B');
        if (i < 3)
            t_byte(&b, (uint8_t)n);
        else
            t_u32(&b, (uint32_t)n);
        offsets[i] = (long)b.len;
        t_raw(&b, img, n);
        t_byte(&b, 0x94);
        memo++;
    }
    t_byte(&b, 'e');
    int numpy_memo = memo;
    t_op_str(&b, 0x8c, "numpy.core.multiarray");
    t_byte(&b, 0x94), memo++;
    t_op_str(&b, 0x8c, "_reconstruct");
    t_byte(&b, 0x94), memo++;
    t_raw(&b, "\x93\x94", 2), memo++;
    t_op_str(&b, 0x8c, "numpy");
    int np_memo = memo;
    t_byte(&b, 0x94), memo++;
    t_op_str(&b, 0x8c, "ndarray");
    T_LIT(&b, "\x94\x93\x94K\x00\x85\x94" "C\x01" "b\x94\x87\x94R\x94(K\x01K\x03\x85\x94");
    /* dtype('b1') through a BINGET of the memoised "numpy" */
    t_byte(&b, 'h');
    t_byte(&b, (uint8_t)np_memo);
    t_op_str(&b, 0x8c, "dtype");
    T_LIT(&b, "\x94\x93\x94");
    t_op_str(&b, 0x8c, "b1");
    T_LIT(&b, "\x94\x89\x88\x87\x94R\x94(K\x03");
    t_op_str(&b, 0x8c, "|");
    T_LIT(&b, "\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94" "b\x89" "C\x03\x01\x00\x01"
              "\x94t\x94" "b\x86\x94.");
    (void)numpy_memo;
    t_buf_write(&b, path);
}

/* Python 3 writing protocol 2: bytes as _codecs.encode(text, 'latin1'), an empty bytes() and a
 * list flag. The image with non-ASCII bytes is rebuilt in memory. */
static inline void t_pickle_py3_proto2(const char *path) {
    struct t_buf b = {0};
    T_LIT(&b, "\x80\x02]q\x00(");
    /* image 0: "\xff\xd8A" as latin-1 text, UTF-8 encoded */
    T_LIT(&b, "c_codecs\nencode\nq\x01X\x05\x00\x00\x00\xc3\xbf\xc3\x98" "Aq\x02");
    t_op_str(&b, 'X', "latin1");
    T_LIT(&b, "q\x03\x86q\x04Rq\x05");
    /* image 1: empty bytes */
    T_LIT(&b, "c__builtin__\nbytes\nq\x06)Rq\x07");
    T_LIT(&b, "e](\x89" "e\x86.");
    t_buf_write(&b, path);
}

#endif
