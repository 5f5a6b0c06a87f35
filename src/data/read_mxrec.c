/* format = mxrec: MXNet RecordIO as insightface ships its face sets (MS1M and others):
 * <prefix>.rec holds the records, <prefix>.idx maps record index to byte offset, one
 * `index<TAB>offset` line each, in any order.
 *
 * A record on disk: uint32 magic 0xced7230a, uint32 with the part flag in its upper 3 bits and
 * the part length in the lower 29, the part's bytes, zero padding to 4 bytes. The writer splits
 * a record wherever the magic number occurs at a 4-byte aligned position of its payload (flags
 * 1 first, 2 middle, 3 last; 0 a whole record); the reader joins the parts with the magic number
 * put back between them.
 *
 * A record's payload starts with the 24-byte image header: uint32 flag, float label, uint64 id,
 * uint64 id2. When flag > 0, `flag` float labels follow and the first is the label. Record 0,
 * when its flag is > 0, is insightface's header: labels (a, b) say that records 1..a-1 are
 * images and a..b-1 are per-identity records. The image bytes follow the header and labels. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "data/reader.h"

#define REC_MAGIC 0xced7230au
#define REC_HEADER 24
/* Most float labels looked at per record; more are allowed but skipped. */
#define REC_MAX_LABELS 2
/* A record longer than this (joined) is refused as corrupt. */
#define REC_MAX_RECORD (1u << 28)

struct rec_key {
    uint64_t index, offset;
};

/* One record as parsed: header, up to two labels, where the image bytes are. */
struct rec_entry {
    uint32_t flag;
    float label;
    float labels[REC_MAX_LABELS];
    uint64_t data_offset, data_size; /* in the file, when the record is in one part */
    uint8_t *joined;                 /* the whole payload, when the record had parts */
    size_t joined_size, data_at;     /* image bytes at joined + data_at */
};

static int rec_cmp_key(const void *a, const void *b) {
    uint64_t x = ((const struct rec_key *)a)->index, y = ((const struct rec_key *)b)->index;
    return (x > y) - (x < y);
}

static uint32_t rec_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float rec_f32(const uint8_t *p) {
    uint32_t u = rec_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int rec_pread(int fd, void *buf, size_t n, uint64_t off) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Parse the .idx text into keys sorted by index; bad lines are counted. */
static ufo_status rec_read_index(struct data_set *ds, const char *path, struct rec_key **out,
                                 size_t *count) {
    char *text;
    ufo_status st = data_read_text(path, &text, NULL);
    if (st != UFO_OK)
        return st;
    struct rec_key *keys = NULL;
    size_t n = 0, cap = 0, line_no = 0;
    char *cursor = text, *line;
    while ((line = data_next_line(&cursor))) {
        line_no++;
        char *tok[2];
        long long index, offset;
        int t = data_split_tokens(line, tok, 2);
        if (t == 0)
            continue;
        char *e1 = NULL, *e2 = NULL;
        if (t == 2) {
            errno = 0;
            index = strtoll(tok[0], &e1, 10);
            offset = strtoll(tok[1], &e2, 10);
        }
        if (t != 2 || errno || *e1 || *e2 || e1 == tok[0] || e2 == tok[1] || index < 0 ||
            offset < 0) {
            data_note_bad_line(ds, path, line_no, "expected `index<TAB>offset`");
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            struct rec_key *grown = realloc(keys, cap * sizeof *keys);
            if (!grown) {
                st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            keys = grown;
        }
        keys[n++] = (struct rec_key){(uint64_t)index, (uint64_t)offset};
    }
    free(text);
    if (st != UFO_OK) {
        free(keys);
        return st;
    }
    if (n)
        qsort(keys, n, sizeof *keys, rec_cmp_key);

    /* a repeated index keeps its first line */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && keys[k - 1].index == keys[i].index) {
            data_note_bad_line(ds, path, 0, "repeated record index");
            continue;
        }
        keys[k++] = keys[i];
    }
    *out = keys;
    *count = k;
    return UFO_OK;
}

/* Join the parts of a split record starting at `off` into one malloc'd payload. */
static ufo_status rec_join(int fd, const char *path, uint64_t off, uint64_t file_size,
                           uint8_t **out, size_t *out_size) {
    uint8_t *buf = NULL;
    size_t size = 0;
    for (int part = 0;; part++) {
        uint8_t head[8];
        if (off + 8 > file_size || rec_pread(fd, head, 8, off)) {
            free(buf);
            return ufo_fail(UFO_ERR_FORMAT, "%s: record part at byte %llu is truncated", path,
                            (unsigned long long)off);
        }
        uint32_t lrec = rec_u32(head + 4), cflag = lrec >> 29, len = lrec & ((1u << 29) - 1);
        if (rec_u32(head) != REC_MAGIC || (part == 0 && cflag != 1) ||
            (part > 0 && cflag != 2 && cflag != 3)) {
            free(buf);
            return ufo_fail(UFO_ERR_FORMAT, "%s: bad record part at byte %llu", path,
                            (unsigned long long)off);
        }
        if (off + 8 + len > file_size || size + len + 4 > REC_MAX_RECORD) {
            free(buf);
            return ufo_fail(UFO_ERR_FORMAT, "%s: record part at byte %llu runs past the end",
                            path, (unsigned long long)off);
        }
        uint8_t *grown = realloc(buf, size + len + 4);
        if (!grown) {
            free(buf);
            return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory joining a record", path);
        }
        buf = grown;
        if (part > 0) {
            /* the magic number the writer cut out */
            uint32_t m = REC_MAGIC;
            uint8_t mb[4] = {m & 0xff, (m >> 8) & 0xff, (m >> 16) & 0xff, m >> 24};
            memcpy(buf + size, mb, 4);
            size += 4;
        }
        if (len && rec_pread(fd, buf + size, len, off + 8)) {
            free(buf);
            return ufo_fail(UFO_ERR_IO, "%s: read error at byte %llu", path,
                            (unsigned long long)off);
        }
        size += len;
        off += 8 + (((uint64_t)len + 3) & ~(uint64_t)3);
        if (cflag == 3)
            break;
    }
    *out = buf;
    *out_size = size;
    return UFO_OK;
}

/* Read the record at `off`. A corrupt record fails with UFO_ERR_FORMAT. */
static ufo_status rec_read_entry(int fd, const char *path, uint64_t off, uint64_t file_size,
                                 struct rec_entry *e) {
    memset(e, 0, sizeof *e);
    uint8_t head[8 + REC_HEADER];
    if (off + 8 > file_size || rec_pread(fd, head, 8, off))
        return ufo_fail(UFO_ERR_FORMAT, "%s: record at byte %llu is past the end", path,
                        (unsigned long long)off);
    uint32_t lrec = rec_u32(head + 4), cflag = lrec >> 29, len = lrec & ((1u << 29) - 1);
    if (rec_u32(head) != REC_MAGIC)
        return ufo_fail(UFO_ERR_FORMAT, "%s: no record magic at byte %llu", path,
                        (unsigned long long)off);

    /* the payload's first bytes, from the file or from the joined parts */
    const uint8_t *payload;
    size_t payload_size;
    if (cflag == 0) {
        if (off + 8 + len > file_size)
            return ufo_fail(UFO_ERR_FORMAT, "%s: record at byte %llu runs past the end", path,
                            (unsigned long long)off);
        if (len < REC_HEADER || rec_pread(fd, head + 8, REC_HEADER, off + 8))
            return ufo_fail(UFO_ERR_FORMAT, "%s: record at byte %llu is shorter than its header",
                            path, (unsigned long long)off);
        payload = head + 8;
        payload_size = len;
    } else if (cflag == 1) {
        ufo_status st = rec_join(fd, path, off, file_size, &e->joined, &e->joined_size);
        if (st != UFO_OK)
            return st;
        if (e->joined_size < REC_HEADER) {
            free(e->joined);
            e->joined = NULL;
            return ufo_fail(UFO_ERR_FORMAT, "%s: record at byte %llu is shorter than its header",
                            path, (unsigned long long)off);
        }
        payload = e->joined;
        payload_size = e->joined_size;
    } else {
        return ufo_fail(UFO_ERR_FORMAT, "%s: byte %llu is the middle of a split record", path,
                        (unsigned long long)off);
    }

    /* header, labels, then the image bytes */
    e->flag = rec_u32(payload);
    e->label = rec_f32(payload + 4);
    if ((uint64_t)e->flag * 4 > payload_size - REC_HEADER) {
        free(e->joined);
        e->joined = NULL;
        return ufo_fail(UFO_ERR_FORMAT, "%s: record at byte %llu claims %u labels in %zu bytes",
                        path, (unsigned long long)off, e->flag, payload_size);
    }
    uint32_t keep = e->flag < REC_MAX_LABELS ? e->flag : REC_MAX_LABELS;
    uint8_t lb[4 * REC_MAX_LABELS];
    if (keep) {
        if (e->joined)
            memcpy(lb, e->joined + REC_HEADER, 4 * keep);
        else if (rec_pread(fd, lb, 4 * keep, off + 8 + REC_HEADER))
            return ufo_fail(UFO_ERR_IO, "%s: read error at byte %llu", path,
                            (unsigned long long)off);
    }
    for (uint32_t i = 0; i < keep; i++)
        e->labels[i] = rec_f32(lb + 4 * i);
    if (e->flag > 0)
        e->label = e->labels[0];
    size_t skip = REC_HEADER + 4 * (size_t)e->flag;
    e->data_at = skip;
    e->data_size = payload_size - skip;
    e->data_offset = off + 8 + skip;
    return UFO_OK;
}

/* A float label that is a whole number in [0, 2^31). */
static int rec_label(float f, int32_t *out) {
    if (!isfinite(f) || f < 0 || f >= 2147483648.0f || f != floorf(f))
        return -1;
    *out = (int32_t)f;
    return 0;
}

/* One image record into an item: a range of the .rec, or joined bytes kept in ds->pixels. */
static ufo_status rec_add_image(struct data_set *ds, const char *rec_path, struct rec_entry *e,
                                enum data_split split) {
    int32_t label;
    if (rec_label(e->label, &label) || e->data_size == 0) {
        ds->report.bad_records++;
        return UFO_OK;
    }
    struct data_item item = {
        .source = DATA_RANGE, .path = rec_path, .offset = e->data_offset,
        .size = e->data_size, .split = split, .label = label, .camera = -1,
    };
    if (e->joined) {
        int64_t at = data_pixels_grow(ds, e->data_size);
        if (at < 0)
            return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", rec_path);
        memcpy(ds->pixels + at, e->joined + e->data_at, e->data_size);
        item.source = DATA_BLOB;
        item.offset = (uint64_t)at;
    }
    return data_add_item(ds, &item);
}

ufo_status data_read_mxrec(const struct data_spec *spec, struct data_set *ds) {
    const char *prefix = spec->file ? spec->file : "train";
    char rec_path[4096], idx_path[4096], name[512];
    snprintf(name, sizeof name, "%s.rec", prefix);
    ufo_status st = data_path_join(rec_path, sizeof rec_path, spec->root, name);
    snprintf(name, sizeof name, "%s.idx", prefix);
    if (st == UFO_OK)
        st = data_path_join(idx_path, sizeof idx_path, spec->root, name);
    if (st != UFO_OK)
        return st;
    const char *stored = data_intern(ds, rec_path);
    if (!stored)
        return ufo_fail(UFO_ERR_NOMEM, "out of memory");
    /* TODO: a .rec without its .idx could be scanned record by record; today the .idx is
     * required, as insightface always ships it. */
    struct rec_key *keys = NULL;
    size_t n_keys = 0;
    st = rec_read_index(ds, idx_path, &keys, &n_keys);
    if (st != UFO_OK)
        return st;
    int fd = open(rec_path, O_RDONLY);
    if (fd < 0) {
        free(keys);
        return ufo_fail(UFO_ERR_IO, "%s: %s", rec_path, strerror(errno));
    }
    struct stat sb;
    uint64_t file_size = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;

    /* record 0 may be the header that says which records are images */
    uint64_t first = 0, end = UINT64_MAX;
    size_t identities = 0;
    if (n_keys && keys[0].index == 0) {
        struct rec_entry e;
        if (rec_read_entry(fd, rec_path, keys[0].offset, file_size, &e) == UFO_OK) {
            if (e.flag >= 2 && e.labels[0] >= 1 && e.labels[1] >= e.labels[0] &&
                e.labels[1] < 1e12f) {
                first = 1;
                end = (uint64_t)e.labels[0];
                identities = (size_t)((uint64_t)e.labels[1] - end);
            }
            free(e.joined);
        }
    }

    /* the image records in index order */
    for (size_t i = 0; i < n_keys && st == UFO_OK; i++) {
        if (keys[i].index < first || keys[i].index >= end)
            continue;
        struct rec_entry e;
        ufo_status rs = rec_read_entry(fd, rec_path, keys[i].offset, file_size, &e);
        if (rs == UFO_ERR_FORMAT || rs == UFO_ERR_IO) {
            ds->report.bad_records++;
            if (ds->report.bad_records <= 5)
                log_warn("dataset %s: record %llu skipped: %s", ds->name,
                         (unsigned long long)keys[i].index, ufo_last_error());
            continue;
        }
        if (rs != UFO_OK) {
            st = rs;
            break;
        }
        st = rec_add_image(ds, stored, &e, spec->split);
        free(e.joined);
    }
    if (end != UINT64_MAX)
        log_info("dataset %s: %s header: images 1..%llu, %zu identity records", ds->name,
                 rec_path, (unsigned long long)end - 1, identities);
    close(fd);
    free(keys);
    return st;
}
