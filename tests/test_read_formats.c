/* Every dataset reader on a small tree laid out in its format: counts, labels, cameras, splits
 * and the report, checked item by item against values worked out by hand. */
#include "config.h"

#include <stdint.h>
#include <zlib.h>

#include <ufo/status.h>

#include "core/log.h"
#include "data/dataset.h"
#include "read_util.h"
#include "read_writers.h"

static int t_ends(const char *s, const char *suffix) {
    size_t a = s ? strlen(s) : 0, b = strlen(suffix);
    return s && a >= b && !strcmp(s + a - b, suffix);
}

static int t_open(struct data_set *ds, const char *format, const char *root, unsigned parts) {
    struct data_spec spec = {.format = format, .root = root, .parts = parts};
    ufo_status st = data_open(&spec, ds);
    CHECK(st == UFO_OK, "%s: %s", format, ufo_last_error());
    return st == UFO_OK;
}

/* Item i has the given path suffix, split, label and camera. */
static void t_item(const struct data_set *ds, size_t i, const char *suffix, enum data_split split,
                   int label, int camera) {
    if (i >= ds->count) {
        CHECK(0, "%s: item %zu missing (count %zu)", ds->format, i, ds->count);
        return;
    }
    const struct data_item *it = &ds->items[i];
    CHECK(suffix == NULL || t_ends(it->path, suffix), "%s item %zu: path %s, want ...%s",
          ds->format, i, it->path ? it->path : "(null)", suffix);
    CHECK(it->split == split, "%s item %zu: split %d, want %d", ds->format, i, it->split, split);
    CHECK(it->label == label, "%s item %zu: label %d, want %d", ds->format, i, it->label, label);
    CHECK(it->camera == camera, "%s item %zu: camera %d, want %d", ds->format, i, it->camera,
          camera);
}

static void test_folder(void) {
    t_touch(t_path("folder/cat/a.jpg"));
    t_touch(t_path("folder/cat/b.PNG"));
    t_touch(t_path("folder/cat/notes.txt"));
    t_touch(t_path("folder/dog/x.jpeg"));
    t_mkdirs(t_path("folder/zebra"), 1);
    t_touch(t_path("folder/readme.txt"));
    struct data_set ds;
    if (!t_open(&ds, "folder", t_path("folder"), 0))
        return;
    CHECK_EQ(ds.count, 3, "folder count");
    t_item(&ds, 0, "/cat/a.jpg", DATA_TRAIN, 0, -1);
    t_item(&ds, 1, "/cat/b.PNG", DATA_TRAIN, 0, -1);
    t_item(&ds, 2, "/dog/x.jpeg", DATA_TRAIN, 1, -1);
    CHECK_EQ(ds.n_labels, 2, "folder labels");
    CHECK_EQ(ds.n_train_labels, 2, "folder train labels");
    CHECK_EQ(ds.n_cameras, 0, "folder cameras");
    CHECK_EQ(ds.report.other_files, 1, "folder other files");
    CHECK(ds.items[0].source == DATA_FILE, "folder source");
    data_set_free(&ds);
}

static void test_list(void) {
    t_text(t_path("list/list.txt"), "# comment\n"
                                    "img/a.jpg 5 2\n"
                                    "img/b.jpg 3\r\n"
                                    "img/c.jpg 5 0\n"
                                    "img/missing.jpg 1\n"
                                    "bad line here extra tokens\n"
                                    "img/d.jpg x\n"
                                    "\n"
                                    "img/e.jpg -1 1\n");
    for (const char *n = "abcde"; *n; n++)
        t_touch(t_path("list/img/%c.jpg", *n));
    struct data_set ds;
    if (!t_open(&ds, "list", t_path("list"), 0))
        return;
    CHECK_EQ(ds.count, 4, "list count");
    t_item(&ds, 0, "/img/a.jpg", DATA_TRAIN, 1, 2);
    t_item(&ds, 1, "/img/b.jpg", DATA_TRAIN, 0, -1);
    t_item(&ds, 2, "/img/c.jpg", DATA_TRAIN, 1, 0);
    t_item(&ds, 3, "/img/e.jpg", DATA_TRAIN, -1, 1);
    CHECK_EQ(ds.n_labels, 2, "list labels");
    CHECK_EQ(ds.n_cameras, 3, "list cameras");
    CHECK_EQ(ds.report.skipped_lines, 2, "list skipped");
    CHECK_EQ(ds.report.missing_files, 1, "list missing");
    CHECK_EQ(ds.report.distractors, 1, "list distractors");
    data_set_free(&ds);

    /* an explicit list name and split */
    struct data_spec spec = {.format = "list", .root = t_keep("list"), .file = "list.txt",
                             .split = DATA_GALLERY};
    if (data_open(&spec, &ds) == UFO_OK) {
        CHECK_EQ(ds.report.images[DATA_GALLERY], 4, "list gallery");
        data_set_free(&ds);
    } else {
        CHECK(0, "list with split: %s", ufo_last_error());
    }

    /* query and gallery lists: the evaluation part, labels numbered across both; the training
     * part is `file` alone */
    t_text(t_path("list/q.txt"), "img/a.jpg 7 0\n");
    t_text(t_path("list/g.txt"), "img/b.jpg 7 1\nimg/c.jpg 9 1\n");
    struct data_spec qg = {.format = "list", .root = t_keep("list"), .file = "list.txt",
                           .query = "q.txt", .gallery = "g.txt", .parts = DATA_PART_EVAL};
    if (data_open(&qg, &ds) == UFO_OK) {
        CHECK_EQ(ds.count, 3, "list query+gallery count");
        t_item(&ds, 0, "/img/a.jpg", DATA_QUERY, 0, 0);
        t_item(&ds, 1, "/img/b.jpg", DATA_GALLERY, 0, 1);
        t_item(&ds, 2, "/img/c.jpg", DATA_GALLERY, 1, 1);
        data_set_free(&ds);
    } else {
        CHECK(0, "list with query and gallery: %s", ufo_last_error());
    }
    qg.parts = DATA_PART_TRAIN;
    if (data_open(&qg, &ds) == UFO_OK) {
        CHECK_EQ(ds.count, 4, "list training part");
        CHECK_EQ(ds.report.images[DATA_TRAIN], 4, "list training part split");
        data_set_free(&ds);
    } else {
        CHECK(0, "list training part: %s", ufo_last_error());
    }
}

/* An IDX file: magic 0 0 8 ndims, big-endian sizes, bytes. */
static void t_idx(const char *path, int gz, int ndims, const uint32_t *dims, const uint8_t *bytes,
                  size_t n) {
    uint8_t head[16] = {0, 0, 8, (uint8_t)ndims};
    for (int i = 0; i < ndims; i++)
        for (int b = 0; b < 4; b++)
            head[4 + 4 * i + b] = (uint8_t)(dims[i] >> (24 - 8 * b));
    if (!gz) {
        uint8_t *all = malloc(4 + 4 * (size_t)ndims + n);
        memcpy(all, head, 4 + 4 * (size_t)ndims);
        memcpy(all + 4 + 4 * ndims, bytes, n);
        t_write(path, all, 4 + 4 * (size_t)ndims + n);
        free(all);
        return;
    }
    t_mkdirs(path, 0);
    gzFile f = gzopen(path, "wb");
    gzwrite(f, head, 4 + 4 * (unsigned)ndims);
    if (n)
        gzwrite(f, bytes, (unsigned)n);
    gzclose(f);
}

static void test_idx(void) {
    uint8_t pixels[5 * 6], labels[5] = {7, 2, 7, 9, 2}, tpix[2 * 6], tlab[2] = {2, 4};
    for (int i = 0; i < 30; i++)
        pixels[i] = (uint8_t)(i * 3 + 1);
    for (int i = 0; i < 12; i++)
        tpix[i] = (uint8_t)(200 + i);
    uint32_t d_img[3] = {5, 3, 2}, d_lab[1] = {5}, t_img[3] = {2, 3, 2}, t_lab[1] = {2};
    t_idx(t_path("idx/train-images-idx3-ubyte.gz"), 1, 3, d_img, pixels, sizeof pixels);
    t_idx(t_path("idx/train-labels-idx1-ubyte.gz"), 1, 1, d_lab, labels, sizeof labels);
    t_idx(t_path("idx/t10k-images-idx3-ubyte"), 0, 3, t_img, tpix, sizeof tpix);
    t_idx(t_path("idx/t10k-labels-idx1-ubyte"), 0, 1, t_lab, tlab, sizeof tlab);
    struct data_set ds;
    if (!t_open(&ds, "idx", t_path("idx"), 0))
        return;
    CHECK_EQ(ds.count, 7, "idx count");
    /* training labels 2 7 9 first, then 4 seen only in the test split */
    static const int want[7] = {1, 0, 1, 2, 0, 0, 3};
    for (size_t i = 0; i < ds.count && i < 7; i++) {
        const struct data_item *it = &ds.items[i];
        CHECK_EQ(it->label, want[i], "idx label");
        CHECK(it->source == DATA_MEMORY && it->width == 2 && it->height == 3 && it->channels == 1,
              "idx item %zu: source %d size %dx%dx%d", i, it->source, it->width, it->height,
              it->channels);
        CHECK(it->split == (i < 5 ? DATA_TRAIN : DATA_TEST), "idx item %zu split %d", i,
              it->split);
        const uint8_t *src = i < 5 ? pixels + 6 * i : tpix + 6 * (i - 5);
        CHECK(!memcmp(ds.pixels + it->offset, src, 6), "idx item %zu pixels differ", i);
    }
    CHECK_EQ(ds.n_labels, 4, "idx labels");
    CHECK_EQ(ds.n_train_labels, 3, "idx train labels");
    data_set_free(&ds);

    if (t_open(&ds, "idx", t_path("idx"), DATA_PART_EVAL)) {
        CHECK_EQ(ds.count, 2, "idx test only");
        t_item(&ds, 0, NULL, DATA_TEST, 0, -1);
        t_item(&ds, 1, NULL, DATA_TEST, 1, -1);
        data_set_free(&ds);
    }
}

static void test_market1501(void) {
    static const char *files[] = {
        "bounding_box_train/0002_c1s1_000451_03.jpg", "bounding_box_train/0002_c2s1_000301_01.jpg",
        "bounding_box_train/0007_c3s3_015518_01.jpg", "bounding_box_train/Thumbs.db",
        "query/0003_c1s1_000100_00.jpg", "query/0005_c4s2_000200_00.jpg",
        "bounding_box_test/-1_c1s1_000401_03.jpg", "bounding_box_test/0000_c6s1_000600_02.jpg",
        "bounding_box_test/0003_c5s1_000700_01.jpg", "bounding_box_test/0005_c6s1_001000_00.jpg",
        "bounding_box_test/0003_c2s1_000800_01.jpg", "bounding_box_test/bad_name.jpg",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        t_touch(t_path("market/%s", files[i]));
    struct data_set ds;
    if (!t_open(&ds, "market1501", t_path("market"), 0))
        return;
    CHECK_EQ(ds.count, 9, "market count");
    t_item(&ds, 0, "0002_c1s1_000451_03.jpg", DATA_TRAIN, 0, 0);
    t_item(&ds, 1, "0002_c2s1_000301_01.jpg", DATA_TRAIN, 0, 1);
    t_item(&ds, 2, "0007_c3s3_015518_01.jpg", DATA_TRAIN, 1, 2);
    t_item(&ds, 3, "query/0003_c1s1_000100_00.jpg", DATA_QUERY, 2, 0);
    t_item(&ds, 4, "query/0005_c4s2_000200_00.jpg", DATA_QUERY, 3, 3);
    t_item(&ds, 5, "0000_c6s1_000600_02.jpg", DATA_GALLERY, -1, 5);
    t_item(&ds, 6, "0003_c2s1_000800_01.jpg", DATA_GALLERY, 2, 1);
    t_item(&ds, 7, "0003_c5s1_000700_01.jpg", DATA_GALLERY, 2, 4);
    t_item(&ds, 8, "0005_c6s1_001000_00.jpg", DATA_GALLERY, 3, 5);
    CHECK_EQ(ds.n_labels, 4, "market labels");
    CHECK_EQ(ds.n_train_labels, 2, "market train labels");
    CHECK_EQ(ds.n_cameras, 6, "market cameras");
    CHECK_EQ(ds.report.junk, 1, "market junk");
    CHECK_EQ(ds.report.distractors, 1, "market distractors");
    CHECK_EQ(ds.report.skipped_lines, 1, "market bad names");
    CHECK_EQ(ds.report.other_files, 1, "market other files");
    CHECK_EQ(ds.report.labels[DATA_GALLERY], 2, "market gallery ids");
    data_set_free(&ds);
    if (t_open(&ds, "market1501", t_path("market"), DATA_PART_TRAIN)) {
        CHECK_EQ(ds.count, 3, "market train only");
        data_set_free(&ds);
    }
}

static void test_msmt17(void) {
    t_text(t_path("msmt/list_train.txt"), "0000/0000_000_01_0303morning_0015_0.jpg 0\n"
                                          "0000/0000_001_05_0303morning_0016_0.jpg 0\n"
                                          "0001/0001_000_03_0303noon_0100_0.jpg 1\n");
    t_text(t_path("msmt/list_val.txt"), "0002/0002_000_15_0304morning_0001_0.jpg 2\n");
    t_text(t_path("msmt/list_query.txt"), "0000/0000_000_02_0303afternoon_0001_0.jpg 0\n");
    t_text(t_path("msmt/list_gallery.txt"), "0000/0000_001_07_0303afternoon_0002_0.jpg 0\n"
                                            "0001/0001_000_01_0305noon_0003_0.jpg 1\n"
                                            "0009/garbage.jpg 9\n"
                                            "0001/0001_003_01_0305noon_0009_0.jpg 1\n");
    t_touch(t_path("msmt/train/0000/0000_000_01_0303morning_0015_0.jpg"));
    t_touch(t_path("msmt/train/0000/0000_001_05_0303morning_0016_0.jpg"));
    t_touch(t_path("msmt/train/0001/0001_000_03_0303noon_0100_0.jpg"));
    t_touch(t_path("msmt/train/0002/0002_000_15_0304morning_0001_0.jpg"));
    t_touch(t_path("msmt/test/0000/0000_000_02_0303afternoon_0001_0.jpg"));
    t_touch(t_path("msmt/test/0000/0000_001_07_0303afternoon_0002_0.jpg"));
    t_touch(t_path("msmt/test/0001/0001_000_01_0305noon_0003_0.jpg"));
    t_touch(t_path("msmt/test/0009/garbage.jpg"));
    struct data_set ds;
    if (!t_open(&ds, "msmt17", t_path("msmt"), 0))
        return;
    CHECK_EQ(ds.count, 7, "msmt count");
    t_item(&ds, 0, "train/0000/0000_000_01_0303morning_0015_0.jpg", DATA_TRAIN, 0, 0);
    t_item(&ds, 1, NULL, DATA_TRAIN, 0, 3);
    t_item(&ds, 2, NULL, DATA_TRAIN, 1, 2);
    t_item(&ds, 3, NULL, DATA_TRAIN, 2, 5);
    t_item(&ds, 4, "test/0000/0000_000_02_0303afternoon_0001_0.jpg", DATA_QUERY, 3, 1);
    t_item(&ds, 5, NULL, DATA_GALLERY, 3, 4);
    t_item(&ds, 6, NULL, DATA_GALLERY, 4, 0);
    CHECK_EQ(ds.n_labels, 5, "msmt labels");
    CHECK_EQ(ds.n_train_labels, 3, "msmt train labels");
    CHECK_EQ(ds.n_cameras, 6, "msmt cameras");
    CHECK_EQ(ds.report.skipped_lines, 1, "msmt bad lines");
    CHECK_EQ(ds.report.missing_files, 1, "msmt missing");
    data_set_free(&ds);
}

static void test_veri776(void) {
    static const char *files[] = {
        "image_train/0002_c002_00030600_0.jpg", "image_train/0002_c003_00084180_0.jpg",
        "image_train/0010_c019_00012345_1.jpg", "image_query/0006_c001_00001111_0.jpg",
        "image_test/0006_c002_00002222_0.jpg", "image_test/0008_c020_00009999_0.jpg",
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        t_touch(t_path("veri/%s", files[i]));
    t_text(t_path("veri/image_test/name_test.txt"), "x\n");
    struct data_set ds;
    if (!t_open(&ds, "veri776", t_path("veri"), 0))
        return;
    CHECK_EQ(ds.count, 6, "veri count");
    t_item(&ds, 0, files[0], DATA_TRAIN, 0, 1);
    t_item(&ds, 1, files[1], DATA_TRAIN, 0, 2);
    t_item(&ds, 2, files[2], DATA_TRAIN, 1, 3);
    t_item(&ds, 3, files[3], DATA_QUERY, 2, 0);
    t_item(&ds, 4, files[4], DATA_GALLERY, 2, 1);
    t_item(&ds, 5, files[5], DATA_GALLERY, 3, 4);
    CHECK_EQ(ds.n_cameras, 5, "veri cameras");
    CHECK_EQ(ds.report.other_files, 1, "veri other files");
    data_set_free(&ds);
}

static void test_vehicleid(void) {
    t_text(t_path("vid/train_test_split/train_list.txt"), "0000001 2\n0000002 2\n0000003 11\n");
    t_text(t_path("vid/train_test_split/test_list_800.txt"),
           "0000004 5\n0000005 5\nbadline\n0000099 6\n");
    for (int i = 1; i <= 5; i++)
        t_touch(t_path("vid/image/%07d.jpg", i));
    struct data_set ds;
    struct data_spec spec = {.format = "vehicleid", .root = t_keep("vid"), .test_size = 800};
    ufo_status st = data_open(&spec, &ds);
    CHECK(st == UFO_OK, "vehicleid: %s", ufo_last_error());
    if (st == UFO_OK) {
        CHECK_EQ(ds.count, 5, "vehicleid count");
        t_item(&ds, 0, "image/0000001.jpg", DATA_TRAIN, 0, -1);
        t_item(&ds, 1, NULL, DATA_TRAIN, 0, -1);
        t_item(&ds, 2, NULL, DATA_TRAIN, 1, -1);
        t_item(&ds, 3, "image/0000004.jpg", DATA_TEST, 2, -1);
        t_item(&ds, 4, NULL, DATA_TEST, 2, -1);
        CHECK_EQ(ds.n_cameras, 0, "vehicleid cameras");
        CHECK_EQ(ds.report.skipped_lines, 1, "vehicleid bad lines");
        CHECK_EQ(ds.report.missing_files, 1, "vehicleid missing");
        data_set_free(&ds);
    }
    spec.test_size = 1600;
    st = data_open(&spec, &ds);
    CHECK(st == UFO_ERR_IO && strstr(ufo_last_error(), "test_list_1600.txt"),
          "vehicleid without test_list_1600: %s", ufo_last_error());
    spec.test_size = 123;
    CHECK(data_open(&spec, &ds) == UFO_ERR_CONFIG, "vehicleid test size 123 accepted");
}

static void test_veriwild(void) {
    t_text(t_path("wild/train_test_split/vehicle_info.txt"),
           "id/image;Camera ID;Time;Model;Type;Color\n"
           "00001/000001;8;2018-03-11 11:10:31;Audi;SUV;white\n"
           "00001/000002;12;2018-03-11 11:20:31;Audi;SUV;white\n"
           "00002/000003;8;2018-03-12 08:00:00;BYD;sedan;red\n"
           "00003/000004;100;2018-03-13 09:00:00;BMW;sedan;black\n"
           "00003/000005;12;2018-03-13 10:00:00;BMW;sedan;black\n");
    t_text(t_path("wild/train_test_split/train_list.txt"),
           "00001/000001\n00001/000002\n00002/000003\n");
    t_text(t_path("wild/train_test_split/test_3000_query.txt"), "00003/000004\n");
    t_text(t_path("wild/train_test_split/test_3000.txt"),
           "00003/000004\n00003/000005\n00004/000006\n");
    t_touch(t_path("wild/images/00001/000001.jpg"));
    t_touch(t_path("wild/images/00001/000002.jpg"));
    t_touch(t_path("wild/images/00002/000003.jpg"));
    t_touch(t_path("wild/images/00003/000004.jpg"));
    t_touch(t_path("wild/images/00003/000005.jpg"));
    struct data_set ds;
    struct data_spec spec = {.format = "veriwild", .root = t_keep("wild"), .test_size = 3000};
    ufo_status st = data_open(&spec, &ds);
    CHECK(st == UFO_OK, "veriwild: %s", ufo_last_error());
    if (st != UFO_OK)
        return;
    CHECK_EQ(ds.count, 6, "veriwild count");
    t_item(&ds, 0, "images/00001/000001.jpg", DATA_TRAIN, 0, 0);
    t_item(&ds, 1, NULL, DATA_TRAIN, 0, 1);
    t_item(&ds, 2, NULL, DATA_TRAIN, 1, 0);
    t_item(&ds, 3, "images/00003/000004.jpg", DATA_QUERY, 2, 2);
    t_item(&ds, 4, "images/00003/000004.jpg", DATA_GALLERY, 2, 2);
    t_item(&ds, 5, NULL, DATA_GALLERY, 2, 1);
    CHECK_EQ(ds.n_cameras, 3, "veriwild cameras");
    CHECK_EQ(ds.report.skipped_lines, 1, "veriwild bad lines");
    data_set_free(&ds);
}

static void test_sop(void) {
    t_text(t_path("sop/Ebay_train.txt"), "image_id class_id super_class_id path\n"
                                         "1 1 1 bicycle_final/111085122871_0.JPG\n"
                                         "2 1 1 bicycle_final/111085122871_1.JPG\n"
                                         "3 2 1 bicycle_final/111265328556_0.JPG\n");
    t_text(t_path("sop/Ebay_test.txt"), "image_id class_id super_class_id path\n"
                                        "4 11319 1 bicycle_final/222_0.JPG\n"
                                        "5 11319 1 bicycle_final/222_1.JPG\n"
                                        "foo\n");
    for (const char *f = "111085122871_0\0" "111085122871_1\0" "111265328556_0\0" "222_0\0"
                         "222_1\0"; *f; f += strlen(f) + 1)
        t_touch(t_path("sop/bicycle_final/%s.JPG", f));
    struct data_set ds;
    if (!t_open(&ds, "sop", t_path("sop"), 0))
        return;
    CHECK_EQ(ds.count, 5, "sop count");
    t_item(&ds, 0, "bicycle_final/111085122871_0.JPG", DATA_TRAIN, 0, -1);
    t_item(&ds, 1, NULL, DATA_TRAIN, 0, -1);
    t_item(&ds, 2, NULL, DATA_TRAIN, 1, -1);
    t_item(&ds, 3, NULL, DATA_TEST, 2, -1);
    t_item(&ds, 4, "222_1.JPG", DATA_TEST, 2, -1);
    CHECK_EQ(ds.report.skipped_lines, 1, "sop bad lines");
    CHECK_EQ(ds.report.labels[DATA_TRAIN], 2, "sop train classes");
    data_set_free(&ds);
}

static void t_check_rec(const struct data_set *ds, const struct t_rec *recs, const long *offsets,
                        const char *rec_path) {
    CHECK_EQ(ds->count, 5, "mxrec count");
    static const int labels[5] = {1, 1, 2, 0, 2};
    FILE *f = fopen(rec_path, "rb");
    for (size_t i = 0; i < ds->count && i < 5; i++) {
        const struct data_item *it = &ds->items[i];
        CHECK_EQ(it->label, labels[i], "mxrec label");
        CHECK_EQ(it->size, recs[i].size, "mxrec size");
        uint8_t got[64] = {0};
        if (i == 2) {
            CHECK(it->source == DATA_BLOB, "mxrec split record source %d", it->source);
            if (it->source == DATA_BLOB && it->size == recs[i].size)
                memcpy(got, ds->pixels + it->offset, recs[i].size);
        } else {
            CHECK(it->source == DATA_RANGE && t_ends(it->path, "train.rec"),
                  "mxrec item %zu source %d", i, it->source);
            CHECK_EQ(it->offset, offsets[i], "mxrec offset");
            fseek(f, (long)it->offset, SEEK_SET);
            if (fread(got, 1, recs[i].size, f) != recs[i].size)
                CHECK(0, "mxrec item %zu: short read", i);
        }
        CHECK(!memcmp(got, recs[i].payload, recs[i].size), "mxrec item %zu bytes differ", i);
    }
    fclose(f);
    CHECK_EQ(ds->n_labels, 3, "mxrec labels");
}

static void test_mxrec(void) {
    struct t_rec recs[5];
    long offsets[5];
    t_mxrec(t_path("rec1"), 1, recs, offsets);
    struct data_set ds;
    if (t_open(&ds, "mxrec", t_path("rec1"), 0)) {
        t_check_rec(&ds, recs, offsets, t_path("rec1/train.rec"));
        data_set_free(&ds);
    }
    t_mxrec(t_path("rec2"), 0, recs, offsets);
    if (t_open(&ds, "mxrec", t_path("rec2"), 0)) {
        t_check_rec(&ds, recs, offsets, t_path("rec2/train.rec"));
        data_set_free(&ds);
    }
}

static void t_check_pack(const struct data_set *ds, const long *offsets, const char *path) {
    CHECK_EQ(ds->count, 6, "facebin count");
    CHECK_EQ(ds->pairs.count, 3, "facebin pairs");
    FILE *f = fopen(path, "rb");
    for (size_t i = 0; i < ds->count && i < 6; i++) {
        uint8_t img[16], got[16];
        size_t n;
        t_image((int)i, img, &n);
        const struct data_item *it = &ds->items[i];
        CHECK(it->source == DATA_RANGE && it->split == DATA_TEST, "facebin item %zu source", i);
        CHECK_EQ(it->offset, offsets[i], "facebin offset");
        CHECK_EQ(it->size, n, "facebin size");
        fseek(f, (long)it->offset, SEEK_SET);
        CHECK(fread(got, 1, n, f) == n && !memcmp(got, img, n), "facebin item %zu bytes", i);
    }
    fclose(f);
    for (size_t i = 0; i < ds->pairs.count && i < 3; i++) {
        CHECK(ds->pairs.first[i] == 2 * i && ds->pairs.second[i] == 2 * i + 1,
              "facebin pair %zu indices", i);
        CHECK_EQ(ds->pairs.same[i], t_same[i], "facebin same flag");
    }
    CHECK_EQ(ds->report.distractors, 0, "facebin distractors");
}

static void test_facebin(void) {
    long offsets[6];
    struct data_set ds;
    t_pickle_py2(t_path("bin/lfw.bin"), offsets);
    if (t_open(&ds, "facebin", t_path("bin"), 0)) {
        t_check_pack(&ds, offsets, t_path("bin/lfw.bin"));
        data_set_free(&ds);
    }
    t_pickle_py3(t_path("bin/agedb_30.bin"), offsets);
    struct data_spec spec = {.format = "facebin", .root = t_keep("bin"), .file = "agedb_30.bin"};
    ufo_status st = data_open(&spec, &ds);
    CHECK(st == UFO_OK, "facebin py3: %s", ufo_last_error());
    if (st == UFO_OK) {
        t_check_pack(&ds, offsets, t_path("bin/agedb_30.bin"));
        data_set_free(&ds);
    }
    t_pickle_py3_proto2(t_path("bin/p2.bin"));
    spec.root = t_keep("bin/p2.bin");
    spec.file = NULL;
    st = data_open(&spec, &ds);
    CHECK(st == UFO_OK, "facebin py3 protocol 2: %s", ufo_last_error());
    if (st == UFO_OK) {
        CHECK_EQ(ds.count, 2, "facebin p2 count");
        CHECK(ds.count == 2 && ds.items[0].source == DATA_BLOB && ds.items[0].size == 3 &&
                  !memcmp(ds.pixels + ds.items[0].offset, "\xff\xd8" "A", 3),
              "facebin p2 latin-1 image not rebuilt");
        CHECK(ds.count == 2 && ds.items[1].size == 0, "facebin p2 empty image");
        CHECK_EQ(ds.report.bad_records, 1, "facebin p2 empty image counted");
        CHECK(ds.pairs.count == 1 && ds.pairs.same[0] == 0, "facebin p2 flags");
        data_set_free(&ds);
    }
}

/* Packs written by Python's pickle and numpy (tests/fixtures/facebin/make_packs.py): numpy bool
 * arrays through _reconstruct (protocols 2 to 4) and _frombuffer (5), Python 3's protocol-2
 * bytes as _codecs.encode, a plain list, an int64 array. */
static void test_facebin_python(void) {
    const char *dir = getenv("UFO_TEST_DATA");
    static const char *packs[] = {"numpy_p2.bin", "numpy_p3.bin", "numpy_p4.bin", "numpy_p5.bin",
                                  "list_p4.bin", "int64_p2.bin"};
    for (size_t p = 0; p < sizeof packs / sizeof *packs; p++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/fixtures/facebin/%s", dir ? dir : "tests", packs[p]);
        struct data_spec spec = {.format = "facebin", .root = path};
        struct data_set ds;
        ufo_status st = data_open(&spec, &ds);
        CHECK(st == UFO_OK, "%s: %s", packs[p], ufo_last_error());
        if (st != UFO_OK)
            continue;
        CHECK(ds.count == 6 && ds.pairs.count == 3, "%s: %zu images %zu pairs", packs[p],
              ds.count, ds.pairs.count);
        FILE *f = fopen(path, "rb");
        for (size_t i = 0; i < ds.count && i < 6 && f; i++) {
            uint8_t want[8] = {0xff, 0xd8}, got[8] = {0};
            size_t n = 2 + 3 + i % 4;
            for (size_t k = 2; k < n; k++)
                want[k] = (uint8_t)(i * 11 + k - 2);
            const struct data_item *it = &ds.items[i];
            CHECK_EQ(it->size, n, packs[p]);
            if (it->size != n)
                continue;
            if (it->source == DATA_BLOB) {
                memcpy(got, ds.pixels + it->offset, n);
            } else {
                fseek(f, (long)it->offset, SEEK_SET);
                if (fread(got, 1, n, f) != n)
                    memset(got, 0, sizeof got);
            }
            CHECK(!memcmp(got, want, n), "%s: image %zu bytes differ", packs[p], i);
        }
        if (f)
            fclose(f);
        for (size_t i = 0; i < ds.pairs.count && i < 3; i++)
            CHECK(ds.pairs.same[i] == t_same[i], "%s: flag %zu is %d", packs[p], i,
                  ds.pairs.same[i]);
        data_set_free(&ds);
    }
}

static void test_pairs(void) {
    t_text(t_path("lfwroot/pairs.txt"), "1\t2\n"
                                        "Aaron\t1\t2\n"
                                        "Bob\t1\t3\n"
                                        "Aaron\t1\tBob\t2\n"
                                        "Carl\t1\tBob\t1\n"
                                        "Dan\t1\t2\n"
                                        "what is this line\n");
    for (const char *f = "Aaron/Aaron_0001\0" "Aaron/Aaron_0002\0" "Bob/Bob_0001\0"
                         "Bob/Bob_0002\0" "Bob/Bob_0003\0" "Carl/Carl_0001\0";
         *f; f += strlen(f) + 1)
        t_touch(t_path("lfwroot/lfw/%s.jpg", f));
    struct data_set ds;
    if (t_open(&ds, "pairs", t_path("lfwroot"), 0)) {
        CHECK_EQ(ds.count, 6, "lfw images");
        t_item(&ds, 0, "lfw/Aaron/Aaron_0001.jpg", DATA_TEST, 0, -1);
        t_item(&ds, 1, "lfw/Aaron/Aaron_0002.jpg", DATA_TEST, 0, -1);
        t_item(&ds, 2, "lfw/Bob/Bob_0001.jpg", DATA_TEST, 1, -1);
        t_item(&ds, 3, "lfw/Bob/Bob_0003.jpg", DATA_TEST, 1, -1);
        t_item(&ds, 4, "lfw/Bob/Bob_0002.jpg", DATA_TEST, 1, -1);
        t_item(&ds, 5, "lfw/Carl/Carl_0001.jpg", DATA_TEST, 2, -1);
        static const size_t a[4] = {0, 2, 0, 5}, b[4] = {1, 3, 4, 2};
        static const uint8_t same[4] = {1, 1, 0, 0};
        CHECK_EQ(ds.pairs.count, 4, "lfw pairs");
        for (size_t i = 0; i < ds.pairs.count && i < 4; i++)
            CHECK(ds.pairs.first[i] == a[i] && ds.pairs.second[i] == b[i] &&
                      ds.pairs.same[i] == same[i],
                  "lfw pair %zu: (%zu, %zu, %d)", i, ds.pairs.first[i], ds.pairs.second[i],
                  ds.pairs.same[i]);
        CHECK_EQ(ds.report.missing_files, 2, "lfw missing");
        CHECK_EQ(ds.report.bad_pairs, 2, "lfw bad pairs");
        CHECK_EQ(ds.report.skipped_lines, 1, "lfw bad lines");
        data_set_free(&ds);
    }

    t_text(t_path("calfw/pairs_CALFW.txt"), "Abel_Pacheco_0001.jpg 1\n"
                                            "Abel_Pacheco_0004.jpg 1\n"
                                            "Abel_Pacheco_0001.jpg 0\n"
                                            "Akhmed_Zakayev_0003.jpg 0\n"
                                            "broken\n"
                                            "X_0001.jpg 2\n"
                                            "Y_0002.jpg 0\n");
    t_touch(t_path("calfw/aligned images/Abel_Pacheco_0001.jpg"));
    t_touch(t_path("calfw/aligned images/Abel_Pacheco_0004.jpg"));
    t_touch(t_path("calfw/aligned images/Akhmed_Zakayev_0003.jpg"));
    if (t_open(&ds, "pairs", t_path("calfw"), 0)) {
        CHECK_EQ(ds.count, 3, "calfw images");
        t_item(&ds, 0, "aligned images/Abel_Pacheco_0001.jpg", DATA_TEST, 0, -1);
        t_item(&ds, 1, "aligned images/Abel_Pacheco_0004.jpg", DATA_TEST, 0, -1);
        t_item(&ds, 2, "aligned images/Akhmed_Zakayev_0003.jpg", DATA_TEST, 1, -1);
        CHECK_EQ(ds.pairs.count, 2, "calfw pairs");
        if (ds.pairs.count == 2)
            CHECK(ds.pairs.first[0] == 0 && ds.pairs.second[0] == 1 && ds.pairs.same[0] == 1 &&
                      ds.pairs.first[1] == 0 && ds.pairs.second[1] == 2 && ds.pairs.same[1] == 0,
                  "calfw pair indices or flags");
        CHECK_EQ(ds.report.bad_pairs, 2, "calfw bad pairs");
        data_set_free(&ds);
    }
}

/* Market (train + eval) then VeRi: training labels of both first, cameras side by side. */
static void test_merge(void) {
    struct data_set parts[2], merged;
    if (!t_open(&parts[0], "market1501", t_path("market"), 0))
        return;
    if (!t_open(&parts[1], "veri776", t_path("veri"), 0)) {
        data_set_free(&parts[0]);
        return;
    }
    ufo_status st = data_merge(parts, 2, "people+cars", &merged);
    CHECK(st == UFO_OK, "merge: %s", ufo_last_error());
    data_set_free(&parts[0]);
    data_set_free(&parts[1]);
    if (st != UFO_OK)
        return;
    CHECK_EQ(merged.count, 15, "merge count");
    CHECK_EQ(merged.n_train_labels, 4, "merge train labels");
    CHECK_EQ(merged.n_labels, 8, "merge labels");
    CHECK_EQ(merged.n_cameras, 11, "merge cameras");
    /* market: train 0 0 1, query 2 3, gallery -1 2 2 3 → train 0 0 1, eval 4 5 / -1 4 4 5 */
    static const int labels[15] = {0, 0, 1, 4, 5, -1, 4, 4, 5, 2, 2, 3, 6, 6, 7};
    static const int cameras[15] = {0, 1, 2, 0, 3, 5, 1, 4, 5, 7, 8, 9, 6, 7, 10};
    for (size_t i = 0; i < merged.count && i < 15; i++) {
        CHECK(merged.items[i].label == labels[i], "merge item %zu label %d want %d", i,
              merged.items[i].label, labels[i]);
        CHECK(merged.items[i].camera == cameras[i], "merge item %zu camera %d want %d", i,
              merged.items[i].camera, cameras[i]);
    }
    CHECK(t_ends(merged.items[14].path, "0008_c020_00009999_0.jpg"), "merge path");
    CHECK_EQ(merged.report.distractors, 1, "merge distractors");
    data_set_free(&merged);

    /* in-memory pixels move with their items: idx test split, then idx training split */
    if (!t_open(&parts[0], "idx", t_path("idx"), DATA_PART_EVAL))
        return;
    if (!t_open(&parts[1], "idx", t_path("idx"), DATA_PART_TRAIN)) {
        data_set_free(&parts[0]);
        return;
    }
    st = data_merge(parts, 2, "digits", &merged);
    CHECK(st == UFO_OK, "merge idx: %s", ufo_last_error());
    if (st == UFO_OK) {
        CHECK_EQ(merged.count, 7, "merge idx count");
        for (size_t i = 0; i < merged.count && i < 7; i++) {
            const struct data_set *src = i < 2 ? &parts[0] : &parts[1];
            const struct data_item *a = &merged.items[i], *b = &src->items[i < 2 ? i : i - 2];
            CHECK(a->size == 6 && !memcmp(merged.pixels + a->offset, src->pixels + b->offset, 6),
                  "merge idx item %zu pixels", i);
        }
        /* test labels 2 4 become eval labels after the three training labels 2 7 9 */
        static const int idx_labels[7] = {3, 4, 1, 0, 1, 2, 0};
        for (size_t i = 0; i < merged.count && i < 7; i++)
            CHECK_EQ(merged.items[i].label, idx_labels[i], "merge idx label");
        data_set_free(&merged);
    }
    data_set_free(&parts[0]);
    data_set_free(&parts[1]);
}

int main(void) {
    log_set_level(LOG_WARN);
    t_scratch();
    test_folder();
    test_list();
    test_idx();
    test_market1501();
    test_msmt17();
    test_veri776();
    test_vehicleid();
    test_veriwild();
    test_sop();
    test_mxrec();
    test_facebin();
    test_facebin_python();
    test_pairs();
    test_merge();
    t_cleanup();
    if (t_failures)
        fprintf(stderr, "%d checks failed\n", t_failures);
    return t_failures ? 1 : 0;
}
