/* Label files: a valid file with comments and blank lines, a round trip, and bad files that
 * must fail with the file and line in the message. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/labels.h"

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

static void put(const char *path, const char *text, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(text, 1, n, f) != n) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

/* `text` must fail to read with `want`, naming the file and containing `where`. */
static void expect_fail(const char *name, const char *text, size_t n, ufo_status want,
                        const char *where) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    put(path, text, n);
    struct io_labels l;
    ufo_status st = io_labels_read(path, &l);
    CHECK(st == want, "%s: status %s, expected %s (%s)", name, ufo_status_name(st),
          ufo_status_name(want), ufo_last_error());
    CHECK(strstr(ufo_last_error(), path) && strstr(ufo_last_error(), where),
          "%s: message lacks '%s': %s", name, where, ufo_last_error());
    CHECK(l.id == NULL && l.n == 0, "%s: labels left after failure", name);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/ufo-test-labels-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char path[128];

    /* a valid file */
    snprintf(path, sizeof path, "%s/ok.txt", dir);
    const char *ok = "# id camera split\n"
                     "12 1 query\n"
                     "\n"
                     "12\t3\tgallery\r\n"
                     "-1 2 g\n"
                     "  7 -1 -   \n"
                     "0 6 q";
    put(path, ok, strlen(ok));
    struct io_labels l;
    CHECK(io_labels_read(path, &l) == UFO_OK, "valid file: %s", ufo_last_error());
    long long want_id[] = {12, 12, -1, 7, 0}, want_cam[] = {1, 3, 2, -1, 6};
    unsigned char want_split[] = {IO_SPLIT_QUERY, IO_SPLIT_GALLERY, IO_SPLIT_GALLERY,
                                  IO_SPLIT_NONE, IO_SPLIT_QUERY};
    CHECK(l.n == 5, "%zu rows, expected 5", l.n);
    for (size_t i = 0; i < l.n && i < 5; i++)
        CHECK(l.id[i] == want_id[i] && l.camera[i] == want_cam[i] && l.split[i] == want_split[i],
              "row %zu: %lld %lld %d", i, (long long)l.id[i], (long long)l.camera[i],
              l.split[i]);

    /* round trip */
    snprintf(path, sizeof path, "%s/rt.txt", dir);
    CHECK(io_labels_write(path, &l) == UFO_OK, "write: %s", ufo_last_error());
    struct io_labels r;
    CHECK(io_labels_read(path, &r) == UFO_OK, "reread: %s", ufo_last_error());
    CHECK(r.n == l.n, "round trip: %zu rows, expected %zu", r.n, l.n);
    for (size_t i = 0; i < r.n && i < l.n; i++)
        CHECK(r.id[i] == l.id[i] && r.camera[i] == l.camera[i] && r.split[i] == l.split[i],
              "round trip row %zu differs", i);
    io_labels_free(&r);
    io_labels_free(&l);

    /* bad files */
    snprintf(path, sizeof path, "%s/missing.txt", dir);
    CHECK(io_labels_read(path, &l) == UFO_ERR_IO && strstr(ufo_last_error(), path),
          "missing file: %s", ufo_last_error());
    expect_fail("empty.txt", "", 0, UFO_ERR_FORMAT, "no labels");
    expect_fail("comments.txt", "# only a comment\n\n", 18, UFO_ERR_FORMAT, "no labels");
    expect_fail("two.txt", "1 2 query\n3 4\n", 14, UFO_ERR_FORMAT, ":2:");
    expect_fail("four.txt", "1 2 query 9\n", 12, UFO_ERR_FORMAT, ":1:");
    expect_fail("id.txt", "1 2 query\n1.5 2 query\n", 22, UFO_ERR_FORMAT, ":2: identity");
    expect_fail("cam.txt", "1 c3 query\n", 11, UFO_ERR_FORMAT, ":1: camera");
    expect_fail("split.txt", "1 2 train\n", 10, UFO_ERR_FORMAT, "split 'train'");
    expect_fail("overflow.txt", "99999999999999999999 1 q\n", 25, UFO_ERR_FORMAT, "identity");
    expect_fail("binary.txt", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, UFO_ERR_FORMAT, ":1:");
    char longline[2000];
    memset(longline, '1', sizeof longline);
    expect_fail("long.txt", longline, sizeof longline, UFO_ERR_FORMAT, "too long");

    if (failures == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
