/* format = pairs: face verification pair lists over a folder of images.
 *
 * LFW pairs.txt: a header `folds pairs_per_fold` (or one count), then `name n1 n2` lines for
 * same-person pairs (images name/name_000n1.jpg and name/name_000n2.jpg) and
 * `name1 n1 name2 n2` lines for different-person pairs.
 * CALFW and CPLFW (pairs_CALFW.txt, pairs_CPLFW.txt): one `file.jpg label` line per image,
 * consecutive lines forming a pair, same person when the label is nonzero.
 *
 * Every image becomes one DATA_TEST item (an image in several pairs is loaded once), labelled
 * by the person's name; ds->pairs indexes the items. A pair with a missing image is dropped and
 * counted. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "data/reader.h"

/* Open-addressing map from a string to a number. */
struct pair_map {
    const char **keys;
    int64_t *values;
    size_t cap, used;
};

static uint64_t pair_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static void pair_map_free(struct pair_map *m) {
    free(m->keys);
    free(m->values);
}

/* Slot of key (found or empty). */
static size_t pair_slot(const struct pair_map *m, const char *key) {
    size_t i = pair_hash(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key))
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int pair_map_grow(struct pair_map *m) {
    struct pair_map bigger = {0};
    bigger.cap = m->cap ? m->cap * 2 : 1024;
    bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
    bigger.values = calloc(bigger.cap, sizeof *bigger.values);
    if (!bigger.keys || !bigger.values) {
        pair_map_free(&bigger);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = pair_slot(&bigger, m->keys[i]);
        bigger.keys[j] = m->keys[i];
        bigger.values[j] = m->values[i];
    }
    bigger.used = m->used;
    pair_map_free(m);
    *m = bigger;
    return 0;
}

/* The value stored for key, or -1 when absent. */
static int64_t pair_map_get(const struct pair_map *m, const char *key) {
    if (!m->cap)
        return -1;
    size_t i = pair_slot(m, key);
    return m->keys[i] ? m->values[i] : -1;
}

/* Store key (which must stay alive: a pool string) → value. */
static int pair_map_put(struct pair_map *m, const char *key, int64_t value) {
    if (2 * (m->used + 1) > m->cap && pair_map_grow(m))
        return -1;
    size_t i = pair_slot(m, key);
    if (!m->keys[i])
        m->used++;
    m->keys[i] = key;
    m->values[i] = value;
    return 0;
}

struct pair_ctx {
    const struct data_spec *spec;
    struct data_set *ds;
    const char *images;
    struct pair_map paths;      /* image path → item index, or -2 when missing */
    struct pair_map identities; /* person → raw label */
    size_t *first, *second;
    uint8_t *same;
    size_t n_pairs, cap_pairs;
};

/* The item of one image, added on first use; -2 when the file is missing, -1 on failure. */
static int64_t pair_image(struct pair_ctx *c, const char *rel, const char *person) {
    char path[4096];
    if (data_path_join(path, sizeof path, c->images, rel) != UFO_OK)
        return -1;
    int64_t at = pair_map_get(&c->paths, path);
    if (at != -1)
        return at;
    const char *key = data_intern(c->ds, path);
    if (!key)
        return -1;
    if (!c->spec->no_file_check && !data_is_file(path)) {
        data_note_missing(c->ds, path);
        return pair_map_put(&c->paths, key, -2) ? -1 : -2;
    }
    int64_t label = pair_map_get(&c->identities, person);
    if (label < 0) {
        const char *pkey = data_intern(c->ds, person);
        label = (int64_t)c->identities.used;
        if (!pkey || pair_map_put(&c->identities, pkey, label))
            return -1;
    }
    struct data_item item = {
        .source = DATA_FILE, .path = key, .split = DATA_TEST, .label = (int32_t)label,
        .camera = -1,
    };
    if (data_add_item(c->ds, &item) != UFO_OK)
        return -1;
    at = (int64_t)c->ds->count - 1;
    return pair_map_put(&c->paths, key, at) ? -1 : at;
}

/* Add the pair (rel1 of person1, rel2 of person2). */
static ufo_status pair_add(struct pair_ctx *c, const char *rel1, const char *person1,
                           const char *rel2, const char *person2, int same) {
    int64_t a = pair_image(c, rel1, person1);
    int64_t b = a == -1 ? -1 : pair_image(c, rel2, person2);
    if (a == -1 || b == -1)
        return ufo_fail(UFO_ERR_NOMEM, "dataset %s: out of memory reading pairs", c->ds->name);
    if (a < 0 || b < 0) {
        c->ds->report.bad_pairs++;
        return UFO_OK;
    }
    if (c->n_pairs == c->cap_pairs) {
        size_t cap = c->cap_pairs ? c->cap_pairs * 2 : 1024;
        size_t *f = realloc(c->first, cap * sizeof *f);
        if (f)
            c->first = f;
        size_t *s = realloc(c->second, cap * sizeof *s);
        if (s)
            c->second = s;
        uint8_t *m = realloc(c->same, cap);
        if (m)
            c->same = m;
        if (!f || !s || !m)
            return ufo_fail(UFO_ERR_NOMEM, "dataset %s: out of memory reading pairs",
                            c->ds->name);
        c->cap_pairs = cap;
    }
    c->first[c->n_pairs] = (size_t)a;
    c->second[c->n_pairs] = (size_t)b;
    c->same[c->n_pairs] = (uint8_t)(same != 0);
    c->n_pairs++;
    return UFO_OK;
}

/* LFW's `name n1 n2` / `name1 n1 name2 n2` lines after the header. */
static ufo_status pair_lfw(struct pair_ctx *c, const char *list, char *cursor, long folds,
                           long per_fold) {
    char *line, rel1[1024], rel2[1024];
    size_t line_no = 1;
    ufo_status st = UFO_OK;
    while (st == UFO_OK && (line = data_next_line(&cursor))) {
        line_no++;
        char *t[4];
        long n1, n2;
        int n = data_split_tokens(line, t, 4);
        if (n == 0)
            continue;
        int ok = (n == 3 && !data_parse_int(t[1], 0, 99999, &n1) &&
                  !data_parse_int(t[2], 0, 99999, &n2)) ||
                 (n == 4 && !data_parse_int(t[1], 0, 99999, &n1) &&
                  !data_parse_int(t[3], 0, 99999, &n2));
        const char *name2 = n == 4 ? t[2] : t[0];
        if (!ok || strchr(t[0], '/') || strchr(name2, '/') ||
            snprintf(rel1, sizeof rel1, "%s/%s_%04ld.jpg", t[0], t[0], n1) >= (int)sizeof rel1 ||
            snprintf(rel2, sizeof rel2, "%s/%s_%04ld.jpg", name2, name2, n2) >= (int)sizeof rel2) {
            data_note_bad_line(c->ds, list, line_no,
                               "expected `name n1 n2` or `name1 n1 name2 n2`");
            c->ds->report.bad_pairs++;
            continue;
        }
        st = pair_add(c, rel1, t[0], rel2, name2, n == 3);
    }
    size_t expect = (size_t)(folds * per_fold * (per_fold && folds ? 2 : 1));
    if (st == UFO_OK && folds > 0 && per_fold > 0 && c->n_pairs != expect)
        log_warn("dataset %s: %s announces %ld folds of %ld + %ld pairs, %zu usable", c->ds->name,
                 list, folds, per_fold, per_fold, c->n_pairs);
    return st;
}

/* The person of a CALFW/CPLFW file name: everything before the last `_`. */
static void pair_person(const char *file, char *person, size_t cap) {
    const char *us = strrchr(file, '_');
    size_t n = us ? (size_t)(us - file) : strcspn(file, ".");
    if (n >= cap)
        n = cap - 1;
    memcpy(person, file, n);
    person[n] = '\0';
}

/* CALFW/CPLFW: consecutive `file label` lines form a pair. */
static ufo_status pair_xlfw(struct pair_ctx *c, const char *list, char *cursor) {
    char *line, held[1024] = "", held_person[512], person[512];
    long held_label = 0, label;
    size_t line_no = 0, held_line = 0;
    ufo_status st = UFO_OK;
    while (st == UFO_OK && (line = data_next_line(&cursor))) {
        line_no++;
        char *t[2];
        int n = data_split_tokens(line, t, 2);
        if (n == 0)
            continue;
        if (n != 2 || data_parse_int(t[1], 0, INT32_MAX, &label) || strlen(t[0]) >= sizeof held) {
            data_note_bad_line(c->ds, list, line_no, "expected `file label`");
            held[0] = '\0';
            c->ds->report.bad_pairs++;
            continue;
        }
        if (!held[0]) {
            strcpy(held, t[0]);
            held_label = label;
            held_line = line_no;
            pair_person(held, held_person, sizeof held_person);
            continue;
        }
        if ((held_label != 0) != (label != 0)) {
            data_note_bad_line(c->ds, list, held_line, "the two lines of a pair disagree");
            c->ds->report.bad_pairs++;
            held[0] = '\0';
            continue;
        }
        pair_person(t[0], person, sizeof person);
        st = pair_add(c, held, held_person, t[0], person, label != 0);
        held[0] = '\0';
    }
    if (st == UFO_OK && held[0]) {
        data_note_bad_line(c->ds, list, held_line, "last image has no partner");
        c->ds->report.bad_pairs++;
    }
    return st;
}

/* spec->file names the list (default: the first of pairs.txt, pairs_CALFW.txt,
 * pairs_CPLFW.txt in root); spec->images the image folder (default: the first of lfw,
 * aligned images, images in root, else root). */
ufo_status data_read_pairs(const struct data_spec *spec, struct data_set *ds) {
    static const char *lists[] = {"pairs.txt", "pairs_CALFW.txt", "pairs_CPLFW.txt"};
    static const char *folders[] = {"lfw", "aligned images", "images"};
    char list[4096], images[4096];
    ufo_status st = UFO_OK;
    if (spec->file) {
        st = data_path_join(list, sizeof list, spec->root, spec->file);
    } else {
        list[0] = '\0';
        for (size_t i = 0; i < 3 && st == UFO_OK && !data_is_file(list); i++)
            st = data_path_join(list, sizeof list, spec->root, lists[i]);
    }
    if (st != UFO_OK)
        return st;
    if (spec->images) {
        st = data_path_join(images, sizeof images, spec->root, spec->images);
    } else {
        snprintf(images, sizeof images, "%s", spec->root);
        for (size_t i = 0; i < 3; i++) {
            char probe[4096];
            if (data_path_join(probe, sizeof probe, spec->root, folders[i]) == UFO_OK &&
                data_is_dir(probe)) {
                snprintf(images, sizeof images, "%s", probe);
                break;
            }
        }
    }
    char *text = NULL;
    if (st == UFO_OK)
        st = data_read_text(list, &text, NULL);
    if (st != UFO_OK)
        return st;

    /* the first line tells the two styles apart: LFW starts with a numeric header */
    struct pair_ctx c = {.spec = spec, .ds = ds, .images = images};
    char head[256];
    size_t head_len = strcspn(text, "\n");
    snprintf(head, sizeof head, "%.*s", (int)(head_len < sizeof head ? head_len : 0), text);
    char *t[3];
    int n = data_split_tokens(head, t, 3);
    long folds = 0, per_fold = 0;
    if ((n == 1 || n == 2) && !data_parse_int(t[0], 0, 1000000, &folds) &&
        (n == 1 || !data_parse_int(t[1], 0, 1000000, &per_fold))) {
        char *cursor = text;
        data_next_line(&cursor);
        st = pair_lfw(&c, list, cursor, folds, per_fold);
    } else {
        st = pair_xlfw(&c, list, text);
    }
    free(text);
    pair_map_free(&c.paths);
    pair_map_free(&c.identities);
    ds->pairs.first = c.first;
    ds->pairs.second = c.second;
    ds->pairs.same = c.same;
    ds->pairs.count = c.n_pairs;
    if (st == UFO_OK && c.n_pairs == 0)
        st = ufo_fail(UFO_ERR_FORMAT, "dataset %s: %s gives no usable pair (%zu bad, %zu images "
                      "missing)", ds->name, list, ds->report.bad_pairs,
                      ds->report.missing_files);
    return st;
}
