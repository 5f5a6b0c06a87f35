/* .npy reader and writer: round trips, the exact bytes NumPy writes, and every kind of bad
 * file failing with a message that names it. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/npy.h"

static int failures;
static char dir[64];

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                 \
            fprintf(stderr, __VA_ARGS__);                                        \
            fprintf(stderr, "\n");                                               \
        }                                                                        \
    } while (0)

static void path_of(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* A v1.0 file with header dict `dict` (padded as NumPy does) followed by `data_bytes` bytes. */
static size_t make_v1(unsigned char *buf, const char *dict, size_t data_bytes) {
    size_t dl = strlen(dict);
    size_t total = (10 + dl + 1 + 63) / 64 * 64;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)((total - 10) & 0xff);
    buf[9] = (unsigned char)((total - 10) >> 8);
    memcpy(buf + 10, dict, dl);
    memset(buf + 10 + dl, ' ', total - 10 - dl - 1);
    buf[total - 1] = '\n';
    for (size_t i = 0; i < data_bytes; i++) buf[total + i] = (unsigned char)(i * 7);
    return total + data_bytes;
}

/* Reading `name` must fail with `want`, and the message must name the file. */
static void expect_fail(const char *name, ufo_status want) {
    char path[128];
    path_of(path, sizeof path, name);
    struct io_array arr;
    ufo_status st = io_npy_read(path, &arr);
    CHECK(st == want, "%s: status %s, expected %s (%s)", name, ufo_status_name(st),
          ufo_status_name(want), ufo_last_error());
    if (want == UFO_OK) {
        io_array_free(&arr);
        return;
    }
    CHECK(strstr(ufo_last_error(), path) != NULL, "%s: message does not name the file: %s",
          name, ufo_last_error());
    CHECK(arr.data == NULL, "%s: data left allocated after failure", name);
}

static void bad_file(const char *name, const char *dict, size_t data_bytes, ufo_status want) {
    static unsigned char buf[1 << 16];
    char path[128];
    path_of(path, sizeof path, name);
    write_bytes(path, buf, make_v1(buf, dict, data_bytes));
    expect_fail(name, want);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/ufo-test-npy-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[128];

    /* float32 round trip, and the header bytes NumPy writes for the same array */
    float m[6] = {1.5f, -2.0f, 3.25f, 0.0f, 1e-30f, -7.0f};
    path_of(path, sizeof path, "m.npy");
    CHECK(io_npy_write_matrix(path, m, 2, 3) == UFO_OK, "write: %s", ufo_last_error());
    unsigned char want[128];
    size_t wn = make_v1(want, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 0);
    FILE *f = fopen(path, "rb");
    unsigned char got[200];
    size_t gn = f ? fread(got, 1, sizeof got, f) : 0;
    if (f) fclose(f);
    CHECK(gn == wn + sizeof m, "file size %zu, expected %zu", gn, wn + sizeof m);
    CHECK(gn >= wn && memcmp(got, want, wn) == 0, "header differs from NumPy's: %.*s",
          (int)wn - 10, (const char *)got + 10);
    float *data;
    size_t rows, cols;
    CHECK(io_npy_read_matrix(path, &data, &rows, &cols) == UFO_OK, "read: %s", ufo_last_error());
    if (failures == 0) {
        CHECK(rows == 2 && cols == 3, "shape %zu x %zu", rows, cols);
        for (int i = 0; i < 6; i++) CHECK(data[i] == m[i], "element %d: %g vs %g", i, data[i], m[i]);
        free(data);
    }

    /* 1-D int32 and int64 round trips (the 1-tuple keeps its comma) */
    int32_t v32[3] = {7, -1, 2147483647};
    struct io_array a = {.dtype = IO_I32, .ndim = 1, .shape = {3}, .count = 3, .data = v32};
    path_of(path, sizeof path, "v32.npy");
    CHECK(io_npy_write(path, &a) == UFO_OK, "write i4: %s", ufo_last_error());
    struct io_array r;
    CHECK(io_npy_read(path, &r) == UFO_OK, "read i4: %s", ufo_last_error());
    CHECK(r.dtype == IO_I32 && r.ndim == 1 && r.shape[0] == 3 && r.data &&
          memcmp(r.data, v32, sizeof v32) == 0, "i4 round trip differs");
    io_array_free(&r);
    int64_t v64[2] = {-5, 1LL << 40};
    struct io_array b = {.dtype = IO_I64, .ndim = 1, .shape = {2}, .count = 2, .data = v64};
    path_of(path, sizeof path, "v64.npy");
    CHECK(io_npy_write(path, &b) == UFO_OK, "write i8: %s", ufo_last_error());
    CHECK(io_npy_read(path, &r) == UFO_OK, "read i8: %s", ufo_last_error());
    CHECK(r.dtype == IO_I64 && r.count == 2 && r.data && memcmp(r.data, v64, sizeof v64) == 0,
          "i8 round trip differs");
    io_array_free(&r);

    /* a version 2.0 header, double quotes and no trailing comma: still valid */
    {
        const char *dict = "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1, 2)}";
        size_t dl = strlen(dict), total = (12 + dl + 1 + 63) / 64 * 64;
        unsigned char buf[256] = "\x93NUMPY\x02\x00";
        uint32_t hl = (uint32_t)(total - 12);
        for (int i = 0; i < 4; i++) buf[8 + i] = (unsigned char)(hl >> (8 * i));
        memcpy(buf + 12, dict, dl);
        memset(buf + 12 + dl, ' ', total - 12 - dl - 1);
        buf[total - 1] = '\n';
        float two[2] = {4.0f, -0.5f};
        memcpy(buf + total, two, sizeof two);
        path_of(path, sizeof path, "v2.npy");
        write_bytes(path, buf, total + sizeof two);
        CHECK(io_npy_read_matrix(path, &data, &rows, &cols) == UFO_OK, "v2: %s",
              ufo_last_error());
        if (rows == 1 && cols == 2) {
            CHECK(data[0] == 4.0f && data[1] == -0.5f, "v2 data %g %g", data[0], data[1]);
            free(data);
        }
    }

    /* a 0-row matrix is valid; a Fortran-ordered 1-D array is the same as C order */
    bad_file("empty-rows.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }",
             0, UFO_OK);
    bad_file("fortran-1d.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }",
             12, UFO_OK);

    /* bad files */
    path_of(path, sizeof path, "missing.npy");
    expect_fail("missing.npy", UFO_ERR_IO);
    path_of(path, sizeof path, "empty.npy");
    write_bytes(path, "", 0);
    expect_fail("empty.npy", UFO_ERR_FORMAT);
    path_of(path, sizeof path, "short.npy");
    write_bytes(path, "\x93NUM", 4);
    expect_fail("short.npy", UFO_ERR_FORMAT);
    path_of(path, sizeof path, "magic.npy");
    write_bytes(path, "PK\x03\x04 this is a zip, not an npy file", 36);
    expect_fail("magic.npy", UFO_ERR_FORMAT);
    path_of(path, sizeof path, "hdr-trunc.npy");
    write_bytes(path, "\x93NUMPY\x01\x00\x76\x00{'descr': '<f4'", 25);
    expect_fail("hdr-trunc.npy", UFO_ERR_FORMAT);
    path_of(path, sizeof path, "version.npy");
    write_bytes(path, "\x93NUMPY\x09\x00\x10\x00{}              ", 26);
    expect_fail("version.npy", UFO_ERR_UNSUPPORTED);

    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    bad_file("data-trunc.npy", ok, 23, UFO_ERR_FORMAT);
    CHECK(strstr(ufo_last_error(), "announces 6 elements, the file holds 5") != NULL,
          "data-trunc.npy: the message miscounts: %s", ufo_last_error());
    bad_file("data-extra.npy", ok, 28, UFO_ERR_FORMAT);
    bad_file("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
             24, UFO_ERR_UNSUPPORTED);
    bad_file("big-endian.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
             24, UFO_ERR_UNSUPPORTED);
    bad_file("float64.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
             48, UFO_ERR_UNSUPPORTED);
    bad_file("structured.npy", "{'descr': [('a', '<f4')], 'fortran_order': False, "
             "'shape': (2,), }", 8, UFO_ERR_FORMAT);
    bad_file("garbage.npy", "{'descr': '<f4', 'fortran_order': Falsch, 'shape': (2, 3), }",
             24, UFO_ERR_FORMAT);
    bad_file("no-shape.npy", "{'descr': '<f4', 'fortran_order': False, }", 4, UFO_ERR_FORMAT);
    bad_file("unknown-key.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
             "'x': 1, }", 4, UFO_ERR_FORMAT);
    bad_file("neg-shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }",
             24, UFO_ERR_FORMAT);
    bad_file("huge-shape.npy", "{'descr': '<f4', 'fortran_order': False, "
             "'shape': (4294967296, 4294967296, 4294967296), }", 4, UFO_ERR_FORMAT);
    bad_file("not-dict.npy", "[1, 2, 3]", 0, UFO_ERR_FORMAT);
    bad_file("tail.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk",
             4, UFO_ERR_FORMAT);
    bad_file("binary.npy", "{'descr': '<f4\x01\xff', 'fortran_order': False, 'shape': (1,)}",
             4, UFO_ERR_UNSUPPORTED);

    /* a 2-D float32 is required where features are read */
    path_of(path, sizeof path, "v32.npy");
    CHECK(io_npy_read_matrix(path, &data, &rows, &cols) == UFO_ERR_FORMAT,
          "int32 vector accepted as a feature matrix");

    if (failures == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
