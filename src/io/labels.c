/* Reader and writer of the plain-text label files that go with precomputed feature arrays. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/labels.h"

void io_labels_free(struct io_labels *labels) {
    if (!labels) return;
    free(labels->id);
    free(labels->camera);
    free(labels->split);
    memset(labels, 0, sizeof *labels);
}

/* Grow the three columns to hold `cap` rows. */
static int labels_grow(struct io_labels *l, size_t cap) {
    int64_t *id = realloc(l->id, cap * sizeof *id);
    if (!id) return 0;
    l->id = id;
    int64_t *cam = realloc(l->camera, cap * sizeof *cam);
    if (!cam) return 0;
    l->camera = cam;
    unsigned char *split = realloc(l->split, cap);
    if (!split) return 0;
    l->split = split;
    return 1;
}

/* A base-10 integer token that fills the whole field. */
static int labels_int(const char *tok, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(tok, &end, 10);
    if (errno || end == tok || *end) return 0;
    *out = v;
    return 1;
}

ufo_status io_labels_read(const char *path, struct io_labels *out) {
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "r");
    if (!f) return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));

    struct io_labels l = {0};
    size_t cap = 0, lineno = 0;
    char line[512];
    ufo_status st = UFO_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s:%zu: line too long", path, lineno);
            break;
        }
        char *save = NULL;
        char *tok[4];
        int nt = 0;
        for (char *t = strtok_r(line, " \t\r\n", &save); t && nt < 4;
             t = strtok_r(NULL, " \t\r\n", &save))
            tok[nt++] = t;
        if (nt == 0 || tok[0][0] == '#') continue;
        if (nt != 3) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s:%zu: expected 3 fields (ID CAMERA SPLIT), "
                          "found %s", path, lineno, nt > 3 ? "more" : nt == 1 ? "1" : "2");
            break;
        }
        int64_t id, cam;
        if (!labels_int(tok[0], &id)) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s:%zu: identity '%.40s' is not an integer",
                          path, lineno, tok[0]);
            break;
        }
        if (!labels_int(tok[1], &cam)) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s:%zu: camera '%.40s' is not an integer",
                          path, lineno, tok[1]);
            break;
        }
        unsigned char split;
        if (strcmp(tok[2], "query") == 0 || strcmp(tok[2], "q") == 0) {
            split = IO_SPLIT_QUERY;
        } else if (strcmp(tok[2], "gallery") == 0 || strcmp(tok[2], "g") == 0) {
            split = IO_SPLIT_GALLERY;
        } else if (strcmp(tok[2], "-") == 0) {
            split = IO_SPLIT_NONE;
        } else {
            st = ufo_fail(UFO_ERR_FORMAT, "%s:%zu: split '%.40s' is not query, gallery or -",
                          path, lineno, tok[2]);
            break;
        }
        if (l.n == cap) {
            cap = cap ? cap * 2 : 1024;
            if (!labels_grow(&l, cap)) {
                st = ufo_fail(UFO_ERR_NOMEM, "%s: no memory for %zu labels", path, cap);
                break;
            }
        }
        l.id[l.n] = id;
        l.camera[l.n] = cam;
        l.split[l.n] = split;
        l.n++;
    }
    if (st == UFO_OK && ferror(f)) st = ufo_fail(UFO_ERR_IO, "%s: read error", path);
    fclose(f);
    if (st == UFO_OK && l.n == 0)
        st = ufo_fail(UFO_ERR_FORMAT, "%s: no labels in the file", path);
    if (st != UFO_OK) {
        io_labels_free(&l);
        return st;
    }
    *out = l;
    return UFO_OK;
}

ufo_status io_labels_write(const char *path, const struct io_labels *labels) {
    FILE *f = fopen(path, "w");
    if (!f) return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
    static const char *names[] = {"-", "query", "gallery"};
    fprintf(f, "# id camera split\n");
    for (size_t i = 0; i < labels->n; i++)
        fprintf(f, "%lld %lld %s\n", (long long)labels->id[i], (long long)labels->camera[i],
                names[labels->split[i] <= 2 ? labels->split[i] : 0]);
    if (fclose(f) != 0) return ufo_fail(UFO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return UFO_OK;
}

ufo_status io_pairs_read(const char *path, struct io_pair **pairs, size_t *count) {
    *pairs = NULL;
    *count = 0;
    FILE *f = fopen(path, "r");
    if (!f) return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));

    struct io_pair *list = NULL;
    size_t n = 0, cap = 0, lineno = 0;
    char line[256];
    ufo_status st = UFO_OK;
    while (st == UFO_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s:%zu: line too long", path, lineno);
            break;
        }
        char *save = NULL, *tok[4];
        int nt = 0;
        for (char *t = strtok_r(line, " \t\r\n", &save); t && nt < 4;
             t = strtok_r(NULL, " \t\r\n", &save))
            tok[nt++] = t;
        if (nt == 0 || tok[0][0] == '#') continue;
        int64_t v[3];
        if (nt != 3 || !labels_int(tok[0], &v[0]) || !labels_int(tok[1], &v[1]) ||
            !labels_int(tok[2], &v[2])) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s:%zu: expected three integers (A B SAME)",
                          path, lineno);
            break;
        }
        if (v[0] < 0 || v[1] < 0 || (v[2] != 0 && v[2] != 1)) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s:%zu: rows must be >= 0 and SAME 0 or 1, found "
                          "%lld %lld %lld", path, lineno, (long long)v[0], (long long)v[1],
                          (long long)v[2]);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            struct io_pair *grown = realloc(list, cap * sizeof *grown);
            if (!grown) {
                st = ufo_fail(UFO_ERR_NOMEM, "%s: no memory for %zu pairs", path, cap);
                break;
            }
            list = grown;
        }
        list[n++] = (struct io_pair){(size_t)v[0], (size_t)v[1], (int)v[2]};
    }
    if (st == UFO_OK && ferror(f)) st = ufo_fail(UFO_ERR_IO, "%s: read error", path);
    fclose(f);
    if (st == UFO_OK && n == 0) st = ufo_fail(UFO_ERR_FORMAT, "%s: no pairs in the file", path);
    if (st != UFO_OK) {
        free(list);
        return st;
    }
    *pairs = list;
    *count = n;
    return UFO_OK;
}
