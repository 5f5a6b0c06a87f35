/* The counts each benchmark's documentation gives for its official release, checked against
 * synthetic trees laid out in the format with exactly those counts (empty image files, or
 * lists alone where the tree would take too long to create and the reader is told not to look
 * for the files). */
#include "config.h"

#include <stdint.h>
#include <time.h>
#include <zlib.h>

#include <ufo/status.h>

#include "core/log.h"
#include "data/dataset.h"
#include "read_util.h"

/* Spread `total` items over `groups` as evenly as possible: group k gets this many. */
static int t_share(int total, int groups, int k) {
    return total / groups + (k < total % groups);
}

static int t_load(struct data_set *ds, struct data_spec *spec) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ufo_status st = data_open(spec, ds);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "%s: opened in %.3f s\n", spec->format,
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    CHECK(st == UFO_OK, "%s: %s", spec->format, ufo_last_error());
    return st == UFO_OK;
}

static void t_split(const struct data_set *ds, enum data_split s, size_t images, size_t ids) {
    CHECK(ds->report.images[s] == images, "%s %s: %zu images, documented %zu", ds->format,
          data_split_name(s), ds->report.images[s], images);
    CHECK(ds->report.labels[s] == ids, "%s %s: %zu identities, documented %zu", ds->format,
          data_split_name(s), ds->report.labels[s], ids);
}

/* Market-1501: 751 training identities in 12,936 images; 750 test identities, 3,368 queries;
 * 19,732 gallery boxes of which 3,819 are junk (-1) and 2,793 distractors (0000). */
static void test_market1501(void) {
    int serial = 0;
    for (int k = 0; k < 751; k++)
        for (int i = 0; i < t_share(12936, 751, k); i++, serial++)
            t_touch(t_path("market/bounding_box_train/%04d_c%ds1_%06d_00.jpg", 2 * k + 2,
                           1 + serial % 6, serial));
    for (int k = 0; k < 750; k++) {
        for (int i = 0; i < t_share(3368, 750, k); i++, serial++)
            t_touch(t_path("market/query/%04d_c%ds2_%06d_00.jpg", 2 * k + 1, 1 + serial % 6,
                           serial));
        for (int i = 0; i < t_share(19732 - 3819 - 2793, 750, k); i++, serial++)
            t_touch(t_path("market/bounding_box_test/%04d_c%ds3_%06d_01.jpg", 2 * k + 1,
                           1 + serial % 6, serial));
    }
    for (int i = 0; i < 3819; i++, serial++)
        t_touch(t_path("market/bounding_box_test/-1_c%ds4_%06d_02.jpg", 1 + i % 6, serial));
    for (int i = 0; i < 2793; i++, serial++)
        t_touch(t_path("market/bounding_box_test/0000_c%ds5_%06d_03.jpg", 1 + i % 6, serial));
    struct data_spec spec = {.format = "market1501", .root = t_keep("market")};
    struct data_set ds;
    if (!t_load(&ds, &spec))
        return;
    t_split(&ds, DATA_TRAIN, 12936, 751);
    t_split(&ds, DATA_QUERY, 3368, 750);
    t_split(&ds, DATA_GALLERY, 19732 - 3819, 750);
    CHECK_EQ(ds.report.junk, 3819, "market junk");
    CHECK_EQ(ds.report.distractors, 2793, "market distractors");
    CHECK_EQ(ds.n_cameras, 6, "market cameras");
    CHECK_EQ(ds.n_labels, 1501, "market identities");
    CHECK_EQ(ds.n_train_labels, 751, "market training identities");
    data_set_free(&ds);
}

/* VeRi-776: 576 training vehicles in 37,778 images; 200 test vehicles, 1,678 queries and
 * 11,579 test images; 20 cameras. */
static void test_veri776(void) {
    int serial = 0;
    for (int k = 0; k < 576; k++)
        for (int i = 0; i < t_share(37778, 576, k); i++, serial++)
            t_touch(t_path("veri/image_train/%04d_c%03d_%08d_0.jpg", k + 1, 1 + serial % 20,
                           serial));
    for (int k = 0; k < 200; k++) {
        for (int i = 0; i < t_share(1678, 200, k); i++, serial++)
            t_touch(t_path("veri/image_query/%04d_c%03d_%08d_0.jpg", 577 + k, 1 + serial % 20,
                           serial));
        for (int i = 0; i < t_share(11579, 200, k); i++, serial++)
            t_touch(t_path("veri/image_test/%04d_c%03d_%08d_0.jpg", 577 + k, 1 + serial % 20,
                           serial));
    }
    struct data_spec spec = {.format = "veri776", .root = t_keep("veri")};
    struct data_set ds;
    if (!t_load(&ds, &spec))
        return;
    t_split(&ds, DATA_TRAIN, 37778, 576);
    t_split(&ds, DATA_QUERY, 1678, 200);
    t_split(&ds, DATA_GALLERY, 11579, 200);
    CHECK_EQ(ds.n_cameras, 20, "veri cameras");
    data_set_free(&ds);
}

/* MSMT17: 1,041 training identities in 32,621 images (list_train 30,248 + list_val 2,373);
 * 3,060 test identities, 11,659 queries, 82,161 gallery images; 15 cameras. */
static void test_msmt17(void) {
    struct t_buf train = {0}, val = {0}, query = {0}, gallery = {0};
    int serial = 0, train_done = 0;
    for (int k = 0; k < 1041; k++) {
        for (int i = 0; i < t_share(32621, 1041, k); i++, serial++, train_done++) {
            char rel[128];
            snprintf(rel, sizeof rel, "%04d/%04d_%03d_%02d_0303morning_%04d_0.jpg", k, k, i,
                     1 + serial % 15, serial % 10000);
            t_printf(train_done < 30248 ? &train : &val, "%s %d\n", rel, k);
            t_touch(t_path("msmt/train/%s", rel));
        }
    }
    for (int k = 0; k < 3060; k++) {
        int nq = t_share(11659, 3060, k), ng = t_share(82161, 3060, k);
        for (int i = 0; i < nq + ng; i++, serial++) {
            char rel[128];
            snprintf(rel, sizeof rel, "%04d/%04d_%03d_%02d_0303noon_%04d_0.jpg", k, k, i,
                     1 + serial % 15, serial % 10000);
            t_printf(i < nq ? &query : &gallery, "%s %d\n", rel, k);
            t_touch(t_path("msmt/test/%s", rel));
        }
    }
    t_buf_write(&train, t_path("msmt/list_train.txt"));
    t_buf_write(&val, t_path("msmt/list_val.txt"));
    t_buf_write(&query, t_path("msmt/list_query.txt"));
    t_buf_write(&gallery, t_path("msmt/list_gallery.txt"));
    struct data_spec spec = {.format = "msmt17", .root = t_keep("msmt")};
    struct data_set ds;
    if (!t_load(&ds, &spec))
        return;
    t_split(&ds, DATA_TRAIN, 32621, 1041);
    t_split(&ds, DATA_QUERY, 11659, 3060);
    t_split(&ds, DATA_GALLERY, 82161, 3060);
    CHECK_EQ(ds.n_cameras, 15, "msmt cameras");
    CHECK_EQ(ds.n_labels, 1041 + 3060, "msmt identities");
    CHECK_EQ(ds.report.missing_files, 0, "msmt missing");
    data_set_free(&ds);
}

/* Stanford Online Products: 11,318 training classes in 59,551 images, 11,316 test classes in
 * 60,502 images. */
static void test_sop(void) {
    struct t_buf train = {0}, test = {0};
    t_printf(&train, "image_id class_id super_class_id path\n");
    t_printf(&test, "image_id class_id super_class_id path\n");
    int image = 1;
    for (int k = 0; k < 11318; k++)
        for (int i = 0; i < t_share(59551, 11318, k); i++, image++)
            t_printf(&train, "%d %d %d bicycle_final/%d_%d.JPG\n", image, k + 1, 1 + k % 12, k, i);
    for (int k = 0; k < 11316; k++)
        for (int i = 0; i < t_share(60502, 11316, k); i++, image++)
            t_printf(&test, "%d %d %d chair_final/%d_%d.JPG\n", image, 11319 + k, 1 + k % 12, k,
                     i);
    t_buf_write(&train, t_path("sop/Ebay_train.txt"));
    t_buf_write(&test, t_path("sop/Ebay_test.txt"));
    struct data_spec spec = {.format = "sop", .root = t_keep("sop"), .no_file_check = 1};
    struct data_set ds;
    if (!t_load(&ds, &spec))
        return;
    t_split(&ds, DATA_TRAIN, 59551, 11318);
    t_split(&ds, DATA_TEST, 60502, 11316);
    CHECK_EQ(ds.report.skipped_lines, 0, "sop skipped");
    data_set_free(&ds);
}

/* PKU VehicleID: 13,134 training vehicles in 110,178 images; the test lists hold 800 vehicles
 * in 7,332 images, 1,600 in 12,995 and 2,400 in 20,038 (counts of the release paper; no
 * cameras). */
static void test_vehicleid(void) {
    struct t_buf train = {0};
    int image = 1, vehicle = 1;
    for (int k = 0; k < 13134; k++, vehicle++)
        for (int i = 0; i < t_share(110178, 13134, k); i++, image++)
            t_printf(&train, "%07d %d\n", image, vehicle);
    t_buf_write(&train, t_path("vid/train_test_split/train_list.txt"));
    static const int sizes[3] = {800, 1600, 2400}, images[3] = {7332, 12995, 20038};
    for (int s = 0; s < 3; s++) {
        struct t_buf test = {0};
        for (int k = 0; k < sizes[s]; k++)
            for (int i = 0; i < t_share(images[s], sizes[s], k); i++, image++)
                t_printf(&test, "%07d %d\n", image, 20000 + k);
        t_buf_write(&test, t_path("vid/train_test_split/test_list_%d.txt", sizes[s]));
    }
    for (int s = 0; s < 3; s++) {
        struct data_spec spec = {.format = "vehicleid", .root = t_keep("vid"),
                                 .test_size = sizes[s], .no_file_check = 1,
                                 .parts = s == 0 ? DATA_PART_ALL : DATA_PART_EVAL};
        struct data_set ds;
        if (!t_load(&ds, &spec))
            continue;
        if (s == 0)
            t_split(&ds, DATA_TRAIN, 110178, 13134);
        t_split(&ds, DATA_TEST, (size_t)images[s], (size_t)sizes[s]);
        CHECK_EQ(ds.n_cameras, 0, "vehicleid cameras");
        data_set_free(&ds);
    }
}

/* VERI-Wild: 30,671 training vehicles in 277,797 images; the small test set has 3,000
 * vehicles, 3,000 queries and 41,861 gallery images; 174 cameras. */
static void test_veriwild(void) {
    struct t_buf info = {0}, train = {0}, query = {0}, gallery = {0};
    t_printf(&info, "id/image;Camera ID;Time;Model;Type;Color\n");
    int image = 1;
    for (int k = 0; k < 30671; k++)
        for (int i = 0; i < t_share(277797, 30671, k); i++, image++) {
            t_printf(&train, "%05d/%06d\n", k + 1, image);
            t_printf(&info, "%05d/%06d;%d;2018-03-11 11:10:31;Audi;SUV;white\n", k + 1, image,
                     1 + image % 174);
        }
    for (int k = 0; k < 3000; k++)
        for (int i = 0; i < t_share(41861, 3000, k); i++, image++) {
            int vehicle = 30672 + k;
            if (i == 0)
                t_printf(&query, "%05d/%06d\n", vehicle, image);
            t_printf(&gallery, "%05d/%06d\n", vehicle, image);
            t_printf(&info, "%05d/%06d;%d;2018-03-12 09:00:00;BMW;sedan;black\n", vehicle, image,
                     1 + image % 174);
        }
    t_buf_write(&info, t_path("wild/train_test_split/vehicle_info.txt"));
    t_buf_write(&train, t_path("wild/train_test_split/train_list.txt"));
    t_buf_write(&query, t_path("wild/train_test_split/test_3000_query.txt"));
    t_buf_write(&gallery, t_path("wild/train_test_split/test_3000.txt"));
    struct data_spec spec = {.format = "veriwild", .root = t_keep("wild"), .test_size = 3000,
                             .no_file_check = 1};
    struct data_set ds;
    if (!t_load(&ds, &spec))
        return;
    t_split(&ds, DATA_TRAIN, 277797, 30671);
    t_split(&ds, DATA_QUERY, 3000, 3000);
    t_split(&ds, DATA_GALLERY, 41861, 3000);
    CHECK_EQ(ds.n_cameras, 174, "veriwild cameras");
    CHECK_EQ(ds.report.skipped_lines, 0, "veriwild skipped");
    data_set_free(&ds);
}

/* MNIST and Fashion-MNIST: 60,000 training and 10,000 test images of 28 x 28, 10 classes. */
static void t_idx_file(const char *path, int gz, uint32_t n, int images) {
    uint8_t head[16] = {0, 0, 8, (uint8_t)(images ? 3 : 1)};
    uint32_t dims[3] = {n, 28, 28};
    for (int d = 0; d < (images ? 3 : 1); d++)
        for (int b = 0; b < 4; b++)
            head[4 + 4 * d + b] = (uint8_t)(dims[d] >> (24 - 8 * b));
    size_t each = images ? 784 : 1;
    uint8_t *data = malloc((size_t)n * each);
    for (size_t i = 0; i < (size_t)n * each; i++)
        data[i] = images ? (uint8_t)(i * 7) : (uint8_t)(i % 10);
    size_t hl = images ? 16 : 8;
    if (gz) {
        gzFile f = gzopen(path, "wb1");
        gzwrite(f, head, (unsigned)hl);
        gzwrite(f, data, (unsigned)((size_t)n * each));
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(head, 1, hl, f);
        fwrite(data, 1, (size_t)n * each, f);
        fclose(f);
    }
    free(data);
}

static void test_idx(void) {
    t_mkdirs(t_path("idx"), 1);
    t_idx_file(t_path("idx/train-images-idx3-ubyte.gz"), 1, 60000, 1);
    t_idx_file(t_path("idx/train-labels-idx1-ubyte.gz"), 1, 60000, 0);
    t_idx_file(t_path("idx/t10k-images-idx3-ubyte"), 0, 10000, 1);
    t_idx_file(t_path("idx/t10k-labels-idx1-ubyte"), 0, 10000, 0);
    struct data_spec spec = {.format = "idx", .root = t_keep("idx")};
    struct data_set ds;
    if (!t_load(&ds, &spec))
        return;
    t_split(&ds, DATA_TRAIN, 60000, 10);
    t_split(&ds, DATA_TEST, 10000, 10);
    CHECK(ds.count == 70000 && ds.items[69999].width == 28 && ds.items[69999].height == 28,
          "idx image size");
    data_set_free(&ds);
}

/* LFW: pairs.txt has 10 folds of 300 matched and 300 mismatched pairs, 6,000 in all; the
 * insightface lfw.bin holds the same 6,000 pairs as 12,000 images. */
static void test_lfw(void) {
    struct t_buf pairs = {0};
    t_printf(&pairs, "10\t300\n");
    for (int fold = 0; fold < 10; fold++) {
        for (int i = 0; i < 300; i++) {
            int p = fold * 300 + i;
            t_printf(&pairs, "Person_%d\t1\t2\n", p);
            t_touch(t_path("lfw/lfw/Person_%d/Person_%d_0001.jpg", p, p));
            t_touch(t_path("lfw/lfw/Person_%d/Person_%d_0002.jpg", p, p));
        }
        for (int i = 0; i < 300; i++) {
            int p = fold * 300 + i, q = (p + 7) % 3000;
            t_printf(&pairs, "Person_%d\t2\tPerson_%d\t1\n", p, q);
        }
    }
    t_buf_write(&pairs, t_path("lfw/pairs.txt"));
    struct data_spec spec = {.format = "pairs", .root = t_keep("lfw")};
    struct data_set ds;
    if (t_load(&ds, &spec)) {
        CHECK_EQ(ds.pairs.count, 6000, "lfw pairs");
        size_t same = 0;
        for (size_t i = 0; i < ds.pairs.count; i++)
            same += ds.pairs.same[i];
        CHECK_EQ(same, 3000, "lfw matched pairs");
        CHECK_EQ(ds.count, 6000, "lfw distinct images");
        CHECK_EQ(ds.n_labels, 3000, "lfw people");
        data_set_free(&ds);
    }

    /* the same protocol as a Python 2 pickle: LONG_BINPUT once the memo passes 255 */
    struct t_buf b = {0};
    t_printf(&b, "%c%c]q%c(", 0x80, 2, 1);
    for (int i = 0; i < 12000; i++) {
        if (i && i % 1000 == 0)
            t_printf(&b, "e(");
        t_printf(&b, "U%cimg%05dr", 8, i);
        uint32_t memo = 2 + (uint32_t)i;
        for (int k = 0; k < 4; k++)
            t_printf(&b, "%c", 0), b.data[b.len - 1] = (char)(memo >> (8 * k));
    }
    t_printf(&b, "e]r");
    for (int k = 0; k < 4; k++)
        t_printf(&b, "%c", 0), b.data[b.len - 1] = (char)((12002u >> (8 * k)) & 0xff);
    t_printf(&b, "(");
    for (int i = 0; i < 6000; i++)
        t_printf(&b, "%c", (i / 300) % 2 ? 0x89 : 0x88);
    t_printf(&b, "e%c.", 0x86);
    t_buf_write(&b, t_path("lfw/lfw.bin"));
    struct data_spec bin = {.format = "facebin", .root = t_keep("lfw/lfw.bin")};
    if (t_load(&ds, &bin)) {
        CHECK_EQ(ds.count, 12000, "lfw.bin images");
        CHECK_EQ(ds.pairs.count, 6000, "lfw.bin pairs");
        size_t same = 0;
        for (size_t i = 0; i < ds.pairs.count; i++)
            same += ds.pairs.same[i];
        CHECK_EQ(same, 3000, "lfw.bin matched pairs");
        data_set_free(&ds);
    }
}

/* CALFW and CPLFW: 6,000 pairs each (3,000 positive), two lines per pair. */
static void test_xlfw(void) {
    struct t_buf list = {0};
    for (int i = 0; i < 6000; i++) {
        int same = i % 600 < 300;
        t_printf(&list, "Person_%d_0001.jpg %d\n", i, same ? i + 1 : 0);
        t_printf(&list, "Person_%d_%04d.jpg %d\n", same ? i : i + 6000, 2, same ? i + 1 : 0);
    }
    t_buf_write(&list, t_path("cplfw/pairs_CPLFW.txt"));
    struct data_spec spec = {.format = "pairs", .root = t_keep("cplfw"), .no_file_check = 1};
    struct data_set ds;
    if (!t_load(&ds, &spec))
        return;
    CHECK_EQ(ds.pairs.count, 6000, "cplfw pairs");
    size_t same = 0;
    for (size_t i = 0; i < ds.pairs.count; i++)
        same += ds.pairs.same[i];
    CHECK_EQ(same, 3000, "cplfw positive pairs");
    CHECK_EQ(ds.count, 12000, "cplfw images");
    data_set_free(&ds);
}

int main(void) {
    t_scratch();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    test_market1501();
    test_veri776();
    test_msmt17();
    test_sop();
    test_vehicleid();
    test_veriwild();
    test_idx();
    test_lfw();
    test_xlfw();
    t_cleanup();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "official-count trees built, read and removed in %.1f s\n",
            (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    if (t_failures)
        fprintf(stderr, "%d checks failed\n", t_failures);
    return t_failures ? 1 : 0;
}
