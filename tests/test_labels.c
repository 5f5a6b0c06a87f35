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

    /* pair lists */
    snprintf(path, sizeof path, "%s/pairs.txt", dir);
    const char *pairs_text = "# a b same\n0 1 1\n\n2\t3 0\r\n4 0 1";
    put(path, pairs_text, strlen(pairs_text));
    struct io_pair *pairs;
    size_t np;
    CHECK(io_pairs_read(path, &pairs, &np) == UFO_OK, "pairs: %s", ufo_last_error());
    CHECK(np == 3 && pairs[0].a == 0 && pairs[0].b == 1 && pairs[0].same == 1 &&
          pairs[1].a == 2 && pairs[1].b == 3 && pairs[1].same == 0 && pairs[2].a == 4,
          "pairs read wrong (%zu)", np);
    free(pairs);
    const struct {
        const char *name, *text, *where;
    } bad_pairs[] = {
        {"p-empty.txt", "", "no pairs"},
        {"p-short.txt", "0 1 1\n2 3\n", ":2:"},
        {"p-same.txt", "0 1 2\n", ":1: rows must"},
        {"p-neg.txt", "0 -1 1\n", ":1: rows must"},
        {"p-text.txt", "a b 1\n", ":1: expected"},
        {"p-float.txt", "0 1 0.5\n", ":1: expected"},
    };
    for (size_t i = 0; i < sizeof bad_pairs / sizeof *bad_pairs; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, bad_pairs[i].name);
        put(path, bad_pairs[i].text, strlen(bad_pairs[i].text));
        ufo_status st = io_pairs_read(path, &pairs, &np);
        CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), path) &&
              strstr(ufo_last_error(), bad_pairs[i].where) && pairs == NULL,
              "%s: %s: %s", bad_pairs[i].name, ufo_status_name(st), ufo_last_error());
    }

    if (failures == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
    return failures ? 1 : 0;
}
