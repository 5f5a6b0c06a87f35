/* Readers on bad input: truncated, empty, garbage and mutated IDX, RecordIO and pickle files,
 * list files with bad lines, missing files, datasets with nothing usable. Each must come back
 * with a status (and a message naming the file or dataset), never crash; run it under
 * AddressSanitizer or valgrind to catch out-of-bounds reads. */
#include "config.h"

#include <stdint.h>
#include <zlib.h>

#include <ufo/status.h>

#include "core/log.h"
#include "data/dataset.h"
#include "read_util.h"
#include "read_writers.h"

/* Mutation rounds per pickle; UFO_FUZZ_ROUNDS raises it for a longer run under a sanitizer. */
static int t_rounds(void) {
    const char *e = getenv("UFO_FUZZ_ROUNDS");
    return e && atoi(e) > 0 ? atoi(e) : 1500;
}

/* Deterministic bytes for garbage and mutations. */
static uint32_t t_rng = 12345;
static uint32_t t_next(void) {
    t_rng = t_rng * 1664525u + 1013904223u;
    return t_rng >> 8;
}

static uint8_t *t_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(*n ? *n : 1);
    if (fread(b, 1, *n, f) != *n)
        *n = 0;
    fclose(f);
    return b;
}

/* Open and free; returns the status. */
static ufo_status t_try(struct data_spec *spec) {
    struct data_set ds;
    ufo_status st = data_open(spec, &ds);
    if (st == UFO_OK)
        data_set_free(&ds);
    return st;
}

static void t_expect_error(struct data_spec *spec, ufo_status want, const char *needle,
                           const char *what) {
    ufo_status st = t_try(spec);
    CHECK(st == want, "%s: status %s, want %s (%s)", what, ufo_status_name(st),
          ufo_status_name(want), ufo_last_error());
    CHECK(!needle || strstr(ufo_last_error(), needle), "%s: message '%s' does not name '%s'", what,
          ufo_last_error(), needle);
}

static void t_idx_write(const char *path, int ndims, const uint32_t *dims, const uint8_t *data,
                        size_t n) {
    uint8_t buf[4096];
    buf[0] = buf[1] = 0;
    buf[2] = 8;
    buf[3] = (uint8_t)ndims;
    for (int d = 0; d < ndims; d++)
        for (int b = 0; b < 4; b++)
            buf[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
    memcpy(buf + 4 + 4 * ndims, data, n);
    t_write(path, buf, 4 + 4 * (size_t)ndims + n);
}

static void test_idx(void) {
    uint8_t pix[4 * 9], lab[4] = {1, 2, 3, 1};
    for (size_t i = 0; i < sizeof pix; i++)
        pix[i] = (uint8_t)i;
    uint32_t di[3] = {4, 3, 3}, dl[1] = {4};
    t_idx_write(t_path("idx/train-images-idx3-ubyte"), 3, di, pix, sizeof pix);
    t_idx_write(t_path("idx/train-labels-idx1-ubyte"), 1, dl, lab, sizeof lab);
    struct data_spec spec = {.format = "idx", .root = t_keep("idx"), .parts = DATA_PART_TRAIN};
    struct data_set ds;
    CHECK(data_open(&spec, &ds) == UFO_OK, "valid idx: %s", ufo_last_error());
    data_set_free(&ds);

    /* every truncation of the images file is an error naming the file and what was read */
    size_t full = 16 + sizeof pix;
    uint8_t *bytes = t_slurp(t_path("idx/train-images-idx3-ubyte"), &full);
    for (size_t cut = 0; cut < full; cut++) {
        t_write(t_path("idx/train-images-idx3-ubyte"), bytes, cut);
        ufo_status st = data_open(&spec, &ds);
        char want[128];
        if (cut < 16)
            snprintf(want, sizeof want, "train-images-idx3-ubyte: truncated IDX header");
        else
            snprintf(want, sizeof want, "train-images-idx3-ubyte is truncated: %zu of the 4 "
                     "images it announces could be read", (cut - 16) / 9);
        CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), want),
              "idx cut at %zu: status %s (%s), want '%s'", cut, ufo_status_name(st),
              ufo_last_error(), want);
        if (st == UFO_OK)
            data_set_free(&ds);
    }
    t_write(t_path("idx/train-images-idx3-ubyte"), bytes, full);

    /* fewer labels than the header announces */
    t_idx_write(t_path("idx/train-labels-idx1-ubyte"), 1, dl, lab, 2);
    t_expect_error(&spec, UFO_ERR_FORMAT,
                   "train-labels-idx1-ubyte is truncated: 2 of the 4 labels it announces",
                   "idx short labels");

    /* a complete pair whose counts disagree: the common part is kept, the rest counted */
    t_idx_write(t_path("idx/train-labels-idx1-ubyte"), 1, (uint32_t[]){2}, lab, 2);
    if (data_open(&spec, &ds) == UFO_OK) {
        CHECK(ds.count == 2 && ds.report.bad_records == 2, "idx 4 images, 2 labels: %zu images, "
              "%zu bad", ds.count, ds.report.bad_records);
        data_set_free(&ds);
    } else {
        CHECK(0, "idx 4 images, 2 labels: %s", ufo_last_error());
    }

    /* a gzip file cut in the middle, as an interrupted download leaves it */
    enum { N_BIG = 100, SIDE = 28 };
    uint8_t head[16] = {0, 0, 8, 3, 0, 0, 0, N_BIG, 0, 0, 0, SIDE, 0, 0, 0, SIDE};
    uint8_t *big = malloc(N_BIG * SIDE * SIDE);
    for (size_t i = 0; i < N_BIG * SIDE * SIDE; i++)
        big[i] = (uint8_t)t_next();  /* incompressible, so the cut falls inside the images */
    gzFile gz_out = gzopen(t_path("idx/big-images-idx3-ubyte.gz"), "wb");
    gzwrite(gz_out, head, sizeof head);
    gzwrite(gz_out, big, N_BIG * SIDE * SIDE);
    gzclose(gz_out);
    uint8_t big_labels[N_BIG] = {0};
    t_idx_write(t_path("idx/big-labels-idx1-ubyte"), 1, (uint32_t[]){N_BIG}, big_labels, N_BIG);
    size_t gz_size = 0;
    uint8_t *gz_bytes = t_slurp(t_path("idx/big-images-idx3-ubyte.gz"), &gz_size);
    t_write(t_path("idx/big-images-idx3-ubyte.gz"), gz_bytes, gz_size / 2);
    struct data_spec big_spec = {.format = "idx", .root = t_keep("idx"), .file = "big",
                                 .name = "fashion"};
    ufo_status st = data_open(&big_spec, &ds);
    CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), "dataset fashion: ") &&
              strstr(ufo_last_error(), "big-images-idx3-ubyte.gz is truncated: ") &&
              strstr(ufo_last_error(), " of the 100 images it announces could be read") &&
              strstr(ufo_last_error(), "images it announces could be read (unexpected end of "
                                       "file); download or unpack it again"),
          "idx cut gzip: status %s (%s)", ufo_status_name(st), ufo_last_error());
    if (st == UFO_OK)
        data_set_free(&ds);
    free(gz_bytes);
    free(big);
    remove(t_path("idx/big-images-idx3-ubyte.gz"));
    remove(t_path("idx/big-labels-idx1-ubyte"));
    t_idx_write(t_path("idx/train-labels-idx1-ubyte"), 1, dl, lab, sizeof lab);

    /* garbage, empty, wrong magic, absurd sizes, corrupt gzip */
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)t_next();
    t_write(t_path("idx/train-images-idx3-ubyte"), junk, sizeof junk);
    t_expect_error(&spec, UFO_ERR_FORMAT, "train-images-idx3-ubyte", "idx garbage");
    t_write(t_path("idx/train-images-idx3-ubyte"), "", 0);
    t_expect_error(&spec, UFO_ERR_FORMAT, "train-images-idx3-ubyte", "idx empty");
    uint32_t huge[3] = {0xffffffffu, 0xffff, 0xffff};
    t_idx_write(t_path("idx/train-images-idx3-ubyte"), 3, huge, pix, sizeof pix);
    t_expect_error(&spec, UFO_ERR_FORMAT, "implausible", "idx huge image");
    uint32_t many[3] = {0xffffffffu, 3, 3};
    t_idx_write(t_path("idx/train-images-idx3-ubyte"), 3, many, pix, sizeof pix);
    t_idx_write(t_path("idx/train-labels-idx1-ubyte"), 1, (uint32_t[]){0xffffffffu}, lab, 4);
    t_expect_error(&spec, UFO_ERR_FORMAT, "4 of the 4294967295 labels it announces",
                   "idx claiming 4G images");
    remove(t_path("idx/train-images-idx3-ubyte"));
    uint8_t gz[64] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    for (size_t i = 10; i < sizeof gz; i++)
        gz[i] = (uint8_t)t_next();
    t_write(t_path("idx/train-images-idx3-ubyte.gz"), gz, sizeof gz);
    t_expect_error(&spec, UFO_ERR_FORMAT, "train-images-idx3-ubyte.gz", "idx corrupt gzip");
    remove(t_path("idx/train-images-idx3-ubyte.gz"));
    t_expect_error(&spec, UFO_ERR_IO, "train-images-idx3-ubyte", "idx missing");
    free(bytes);
}

static void test_mxrec(void) {
    struct t_rec recs[5];
    long offsets[5];
    t_mxrec(t_path("rec"), 1, recs, offsets);
    size_t n_rec, n_idx;
    uint8_t *rec = t_slurp(t_path("rec/train.rec"), &n_rec);
    uint8_t *idx = t_slurp(t_path("rec/train.idx"), &n_idx);
    struct data_spec spec = {.format = "mxrec", .root = t_keep("rec")};

    /* every truncation: never a crash; a record cut short is counted, not loaded */
    size_t last = 0;
    for (size_t cut = 0; cut < n_rec; cut++) {
        t_write(t_path("rec/train.rec"), rec, cut);
        struct data_set ds;
        ufo_status st = data_open(&spec, &ds);
        CHECK(st == UFO_OK || st == UFO_ERR_FORMAT, "mxrec cut at %zu: %s", cut,
              ufo_last_error());
        size_t count = st == UFO_OK ? ds.count : 0;
        CHECK(count >= last || cut == 0, "mxrec cut at %zu: %zu images after %zu", cut, count,
              last);
        if (st == UFO_OK) {
            CHECK(ds.count + ds.report.bad_records >= 4, "mxrec cut at %zu: records lost", cut);
            data_set_free(&ds);
        } else {
            CHECK(strstr(ufo_last_error(), "mxrec"), "mxrec cut at %zu: '%s' names no dataset",
                  cut, ufo_last_error());
        }
        last = count;
    }
    /* one byte short only cuts the last identity record */
    CHECK_EQ(last, 5, "mxrec one byte short");

    /* random byte flips in the records: any status, no crash */
    for (int round = 0; round < t_rounds() / 5; round++) {
        uint8_t *m = malloc(n_rec);
        memcpy(m, rec, n_rec);
        for (int k = 0; k < 4; k++)
            m[t_next() % n_rec] = (uint8_t)t_next();
        t_write(t_path("rec/train.rec"), m, n_rec);
        t_try(&spec);
        free(m);
    }

    /* garbage .rec, garbage and hostile .idx */
    uint8_t junk[512];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)t_next();
    t_write(t_path("rec/train.rec"), junk, sizeof junk);
    t_expect_error(&spec, UFO_ERR_FORMAT, "mxrec", "mxrec garbage rec");
    t_write(t_path("rec/train.rec"), rec, n_rec);
    t_write(t_path("rec/train.idx"), junk, sizeof junk);
    t_expect_error(&spec, UFO_ERR_FORMAT, "mxrec", "mxrec garbage idx");
    t_text(t_path("rec/train.idx"), "0\t0\n1\t4\n2\t999999999\n3\t-5\n4\t18446744073709551615\n"
                                    "5\t0\n5\t8\nx\ty\n");
    t_expect_error(&spec, UFO_ERR_FORMAT, "mxrec", "mxrec hostile idx");

    /* a record whose length runs past the end, and one claiming a billion labels */
    uint8_t bad[64] = {0x0a, 0x23, 0xd7, 0xce, 0xff, 0xff, 0xff, 0x1f};
    uint8_t *two = bad + 32;
    memcpy(two, t_magic, 4);
    uint32_t len = 24, flag = 1000000000;
    memcpy(two + 4, &len, 4);
    memcpy(two + 8, &flag, 4);
    t_write(t_path("rec/train.rec"), bad, sizeof bad);
    t_text(t_path("rec/train.idx"), "1\t0\n2\t32\n");
    t_expect_error(&spec, UFO_ERR_FORMAT, "mxrec", "mxrec hostile records");
    t_write(t_path("rec/train.rec"), "", 0);
    t_expect_error(&spec, UFO_ERR_FORMAT, "mxrec", "mxrec empty");
    remove(t_path("rec/train.idx"));
    t_expect_error(&spec, UFO_ERR_IO, "train.idx", "mxrec without idx");
    t_write(t_path("rec/train.idx"), idx, n_idx);
    free(rec);
    free(idx);
}

/* Every truncation of a pickle fails (STOP is its last byte); random mutations never crash. */
static void t_pickle_abuse(const char *path, const char *what) {
    size_t n;
    uint8_t *good = t_slurp(path, &n);
    struct data_spec spec = {.format = "facebin", .root = path};
    CHECK(t_try(&spec) == UFO_OK, "%s: valid pack fails: %s", what, ufo_last_error());
    for (size_t cut = 0; cut < n; cut++) {
        t_write(path, good, cut);
        ufo_status st = t_try(&spec);
        CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), path), "%s cut at %zu: %s (%s)",
              what, cut, ufo_status_name(st), ufo_last_error());
    }
    for (int round = 0; round < t_rounds(); round++) {
        uint8_t *m = malloc(n);
        memcpy(m, good, n);
        int flips = 1 + (int)(t_next() % 3);
        for (int k = 0; k < flips; k++)
            m[t_next() % n] = (uint8_t)t_next();
        t_write(path, m, n);
        t_try(&spec);
        free(m);
    }
    t_write(path, good, n);
    free(good);
}

static void test_facebin(void) {
    long offsets[6];
    t_pickle_py2(t_path("bin/py2.bin"), offsets);
    t_pickle_py3(t_path("bin/py3.bin"), offsets);
    t_pickle_py3_proto2(t_path("bin/p2.bin"));
    t_pickle_abuse(t_keep("bin/py2.bin"), "pickle py2");
    t_pickle_abuse(t_keep("bin/py3.bin"), "pickle py3");
    t_pickle_abuse(t_keep("bin/p2.bin"), "pickle py3 protocol 2");

    struct data_spec spec = {.format = "facebin", .root = t_keep("bin/bad.bin")};
    uint8_t junk[700];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)t_next();
    t_write(t_path("bin/bad.bin"), junk, sizeof junk);
    t_expect_error(&spec, UFO_ERR_FORMAT, "bad.bin", "pickle garbage");
    t_write(t_path("bin/bad.bin"), "", 0);
    t_expect_error(&spec, UFO_ERR_FORMAT, "bad.bin", "pickle empty");
    /* a call to something other than the known byte rebuilders is never run */
    t_text(t_path("bin/bad.bin"), "\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00lsq\x01\x85R.");
    t_expect_error(&spec, UFO_ERR_FORMAT, "bad.bin", "pickle os.system");
    /* a string longer than the file, a memo fetch of nothing, a tuple of one */
    t_text(t_path("bin/bad.bin"), "\x80\x02]T\xff\xff\xff\x7f" "abc");
    t_expect_error(&spec, UFO_ERR_FORMAT, "bad.bin", "pickle long string");
    t_text(t_path("bin/bad.bin"), "\x80\x02h\x07.");
    t_expect_error(&spec, UFO_ERR_FORMAT, "bad.bin", "pickle empty memo");
    t_text(t_path("bin/bad.bin"), "\x80\x02]\x85.");
    t_expect_error(&spec, UFO_ERR_FORMAT, "bad.bin", "pickle wrong shape");
    /* more flags than image pairs: the extra flags are counted, the pairs that exist kept */
    t_text(t_path("bin/bad.bin"), "\x80\x02](U\x01" "aU\x01" "be](\x88\x88\x89" "e\x86.");
    struct data_set ds;
    if (data_open(&spec, &ds) == UFO_OK) {
        CHECK(ds.pairs.count == 1 && ds.report.bad_pairs == 2, "pickle extra flags: %zu pairs",
              ds.pairs.count);
        data_set_free(&ds);
    } else {
        CHECK(0, "pickle extra flags: %s", ufo_last_error());
    }
    spec.root = t_keep("bin/none.bin");
    t_expect_error(&spec, UFO_ERR_IO, "none.bin", "pickle missing");
}

static void test_lists(void) {
    /* binary garbage as a list: every line bad, nothing usable, the dataset named */
    uint8_t junk[2000];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)t_next();
    const char *formats[] = {"list", "sop", "vehicleid", "veriwild", "msmt17", "pairs"};
    const char *files[] = {"list.txt", "Ebay_train.txt", "train_test_split/train_list.txt",
                           "train_test_split/train_list.txt", "list_train.txt", "pairs.txt"};
    for (int f = 0; f < 6; f++) {
        t_write(t_path("garbage%d/%s", f, files[f]), junk, sizeof junk);
        if (f == 3)
            t_write(t_path("garbage%d/train_test_split/vehicle_info.txt", f), junk, 500);
        char name[32];
        snprintf(name, sizeof name, "bad-%s", formats[f]);
        struct data_spec spec = {.format = formats[f], .root = t_keep("garbage%d", f),
                                 .name = name, .parts = DATA_PART_TRAIN};
        t_expect_error(&spec, UFO_ERR_FORMAT, name, formats[f]);
    }

    /* every line listed but missing: the count is in the message */
    t_text(t_path("missing/list.txt"), "a.jpg 1\nb.jpg 2\nc.jpg 3\n");
    struct data_spec spec = {.format = "list", .root = t_keep("missing"), .name = "ghosts"};
    t_expect_error(&spec, UFO_ERR_FORMAT, "3 missing files", "list all missing");
    t_touch(t_path("missing/b.jpg"));
    struct data_set ds;
    if (data_open(&spec, &ds) == UFO_OK) {
        CHECK(ds.count == 1 && ds.report.missing_files == 2,
              "list missing: %zu loaded, %zu missing", ds.count, ds.report.missing_files);
        data_set_free(&ds);
    } else {
        CHECK(0, "list one present: %s", ufo_last_error());
    }

    /* an empty list file, a missing one, a missing root, an unknown format */
    t_text(t_path("empty/list.txt"), "");
    spec.root = t_keep("empty");
    spec.name = "nothing";
    t_expect_error(&spec, UFO_ERR_FORMAT, "nothing", "list empty");
    spec.root = t_keep("nowhere");
    t_expect_error(&spec, UFO_ERR_IO, "nowhere/list.txt", "list missing file");
    struct data_spec market = {.format = "market1501", .root = t_keep("nowhere")};
    t_expect_error(&market, UFO_ERR_IO, "bounding_box_train", "market missing root");
    struct data_spec unknown = {.format = "imagenet", .root = t_keep("nowhere")};
    t_expect_error(&unknown, UFO_ERR_CONFIG, "imagenet", "unknown format");
    struct data_spec no_root = {.format = "folder"};
    t_expect_error(&no_root, UFO_ERR_CONFIG, "root", "no root");

    /* Market folders with only junk and unparsable names */
    t_touch(t_path("mkt/bounding_box_train/-1_c1s1_000001_00.jpg"));
    t_touch(t_path("mkt/bounding_box_train/garbage.jpg"));
    t_mkdirs(t_path("mkt/query"), 1);
    t_mkdirs(t_path("mkt/bounding_box_test"), 1);
    struct data_spec mkt = {.format = "market1501", .root = t_keep("mkt"), .name = "empty-market"};
    t_expect_error(&mkt, UFO_ERR_FORMAT, "empty-market", "market nothing usable");

    /* list lines of every wrong shape, one good line */
    t_text(t_path("shapes/list.txt"), "only_path\n"
                                      "p.jpg 99999999999999999999\n"
                                      "p.jpg 1 -3\n"
                                      "p.jpg 1 2 3\n"
                                      "p.jpg -2\n"
                                      "p.jpg 0x10\n"
                                      "p.jpg 7\n");
    t_touch(t_path("shapes/p.jpg"));
    struct data_spec shapes = {.format = "list", .root = t_keep("shapes")};
    if (data_open(&shapes, &ds) == UFO_OK) {
        CHECK(ds.count == 1 && ds.report.skipped_lines == 6, "list shapes: %zu loaded, %zu bad",
              ds.count, ds.report.skipped_lines);
        data_set_free(&ds);
    } else {
        CHECK(0, "list shapes: %s", ufo_last_error());
    }

    /* a list's evaluation part with one of its two lists, an option the format ignores */
    t_text(t_path("qg/train.txt"), "a.png 0\n");
    t_text(t_path("qg/query.txt"), "a.png 1\n");
    t_touch(t_path("qg/a.png"));
    struct data_spec half = {.format = "list", .root = t_keep("qg"), .name = "cards",
                             .file = "train.txt", .query = "query.txt"};
    t_expect_error(&half, UFO_ERR_CONFIG,
                   "dataset cards: query is given without gallery: the evaluation part of a "
                   "list dataset needs both lists, or neither", "list query without gallery");
    half.query = NULL;
    half.gallery = "query.txt";
    t_expect_error(&half, UFO_ERR_CONFIG, "dataset cards: gallery is given without query",
                   "list gallery without query");
    struct data_spec folder = {.format = "folder", .root = t_keep("qg"), .name = "pics",
                               .query = "query.txt"};
    t_expect_error(&folder, UFO_ERR_CONFIG, "dataset pics: format folder ignores query (it is "
                   "for list)", "folder with query");
    folder.query = NULL;
    folder.test_size = 800;
    t_expect_error(&folder, UFO_ERR_CONFIG, "dataset pics: format folder ignores test_size (it "
                   "is for vehicleid, veriwild)", "folder with test_size");
    struct data_spec both = {.format = "list", .root = t_keep("qg"), .file = "train.txt",
                             .query = "query.txt", .gallery = "query.txt",
                             .split = DATA_TRAIN, .no_file_check = 1};
    if (data_open(&both, &ds) == UFO_OK) {
        CHECK(ds.count == 3 && ds.report.images[DATA_QUERY] == 1 &&
                  ds.report.images[DATA_GALLERY] == 1, "list with both lists: %zu items",
              ds.count);
        data_set_free(&ds);
    } else {
        CHECK(0, "list with both lists: %s", ufo_last_error());
    }

    /* each skipped number says what is wrong with it */
    t_text(t_path("numbers/list.txt"), "a.png -3 0\n"
                                       "a.png 99999999999 0\n"
                                       "a.png 5 -7\n"
                                       "a.png 5 1x\n"
                                       "a.png 5 99999999999999999999999\n"
                                       "a.png -1 0\n");
    t_touch(t_path("numbers/a.png"));
    struct data_spec numbers = {.format = "list", .root = t_keep("numbers"), .name = "nums"};
    log_set_level(LOG_WARN);
    t_capture_start();
    ufo_status st = data_open(&numbers, &ds);
    char *log = t_capture_stop();
    log_set_level(LOG_ERROR);
    CHECK(st == UFO_OK && ds.count == 1 && ds.report.skipped_lines == 5,
          "list numbers: status %s, %zu loaded, %zu bad", ufo_status_name(st),
          st == UFO_OK ? ds.count : 0, st == UFO_OK ? ds.report.skipped_lines : 0);
    if (st == UFO_OK)
        data_set_free(&ds);
    const char *want[] = {
        "list.txt:1 skipped: label -3 is negative (labels are 0 or more; -1 marks a distractor)",
        "list.txt:2 skipped: label 99999999999 is out of range (at most 2147483647)",
        "list.txt:3 skipped: camera -7 is negative (cameras are 0 or more;",
        "list.txt:4 skipped: camera \"1x\" is not a base-10 integer",
        "list.txt:5 skipped: camera 99999999999999999999999 is out of range",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK(log && strstr(log, want[i]), "list numbers: no '%s' in the log:\n%s", want[i],
              log ? log : "");
    CHECK(log && !strstr(log, "not an integer"), "list numbers: old message in:\n%s", log);
    free(log);
}

int main(void) {
    log_set_level(LOG_ERROR);
    t_scratch();
    test_idx();
    test_mxrec();
    test_facebin();
    test_lists();
    t_cleanup();
    if (t_failures)
        fprintf(stderr, "%d checks failed\n", t_failures);
    return t_failures ? 1 : 0;
}
