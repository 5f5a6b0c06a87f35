/* format = veriwild: VERI-Wild as released. train_test_split/train_list.txt (training),
 * test_<N>_query.txt (query) and test_<N>.txt (gallery, N = 3000, 5000 or 10000) hold
 * `vehicle/image` lines naming images/<vehicle>/<image>.jpg; the cameras come from
 * train_test_split/vehicle_info.txt, a `vehicle/image;camera;time;model;type;colour` table under
 * one header line. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "data/reader.h"

struct wild_cam {
    uint64_t key; /* vehicle << 32 | image */
    int32_t camera;
};

static int wild_cmp(const void *a, const void *b) {
    uint64_t x = ((const struct wild_cam *)a)->key, y = ((const struct wild_cam *)b)->key;
    return (x > y) - (x < y);
}

/* Parse `vehicle/image` (image may carry an extension) into numbers; 0 on success. */
static int wild_parse_key(char *s, long *vehicle, long *image) {
    char *slash = strchr(s, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    char *dot = strchr(slash + 1, '.');
    if (dot)
        *dot = '\0';
    int bad = data_parse_int(s, 0, INT32_MAX, vehicle) ||
              data_parse_int(slash + 1, 0, INT32_MAX, image);
    *slash = '/';
    if (dot)
        *dot = '.';
    return bad ? -1 : 0;
}

/* The image → camera table, sorted by key. */
static ufo_status wild_cameras(struct data_set *ds, const char *root, struct wild_cam **out,
                               size_t *count) {
    char path[4096];
    ufo_status st = data_path_join(path, sizeof path, root, "train_test_split/vehicle_info.txt");
    char *text = NULL;
    if (st == UFO_OK)
        st = data_read_text(path, &text, NULL);
    if (st != UFO_OK)
        return st;
    struct wild_cam *cams = NULL;
    size_t n = 0, cap = 0, line_no = 0;
    char *cursor = text, *line;
    while ((line = data_next_line(&cursor))) {
        line_no++;
        if (!*line)
            continue;
        char *semi = strchr(line, ';');
        char *semi2 = semi ? strchr(semi + 1, ';') : NULL;
        long vehicle, image, camera;
        if (semi)
            *semi = '\0';
        if (semi2)
            *semi2 = '\0';
        if (!semi || wild_parse_key(line, &vehicle, &image) ||
            data_parse_int(semi + 1, 0, INT32_MAX, &camera)) {
            if (line_no > 1)
                data_note_bad_line(ds, path, line_no, "expected `vehicle/image;camera;...`");
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            struct wild_cam *grown = realloc(cams, cap * sizeof *cams);
            if (!grown) {
                st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            cams = grown;
        }
        cams[n++] = (struct wild_cam){(uint64_t)vehicle << 32 | (uint64_t)image,
                                      (int32_t)camera};
    }
    free(text);
    if (st != UFO_OK) {
        free(cams);
        return st;
    }
    if (n)
        qsort(cams, n, sizeof *cams, wild_cmp);
    *out = cams;
    *count = n;
    return UFO_OK;
}

static ufo_status wild_list(const struct data_spec *spec, struct data_set *ds, const char *list,
                            enum data_split split, const struct wild_cam *cams, size_t n_cams) {
    char list_path[4096], name[512], path[4096];
    snprintf(name, sizeof name, "train_test_split/%s", list);
    ufo_status st = data_path_join(list_path, sizeof list_path, spec->root, name);
    char *text = NULL;
    if (st == UFO_OK)
        st = data_read_text(list_path, &text, NULL);
    char *cursor = text, *line;
    size_t line_no = 0;
    while (st == UFO_OK && (line = data_next_line(&cursor))) {
        line_no++;
        char *tok[2];
        long vehicle, image;
        int n = data_split_tokens(line, tok, 2);
        if (n == 0)
            continue;
        if (n != 1 || wild_parse_key(tok[0], &vehicle, &image)) {
            data_note_bad_line(ds, list_path, line_no, "expected `vehicle/image`");
            continue;
        }
        struct wild_cam key = {(uint64_t)vehicle << 32 | (uint64_t)image, 0};
        const struct wild_cam *hit =
            n_cams ? bsearch(&key, cams, n_cams, sizeof *cams, wild_cmp) : NULL;
        if (!hit) {
            data_note_bad_line(ds, list_path, line_no, "image not in vehicle_info.txt");
            continue;
        }
        if (strchr(tok[0], '.'))
            snprintf(name, sizeof name, "images/%s", tok[0]);
        else
            snprintf(name, sizeof name, "images/%s.jpg", tok[0]);
        st = data_path_join(path, sizeof path, spec->root, name);
        if (st != UFO_OK)
            break;
        if (!spec->no_file_check && !data_is_file(path)) {
            data_note_missing(ds, path);
            continue;
        }
        st = data_add_file(ds, path, split, (int32_t)vehicle, hit->camera);
    }
    free(text);
    return st;
}

ufo_status data_read_veriwild(const struct data_spec *spec, struct data_set *ds) {
    unsigned parts = spec->parts ? spec->parts : DATA_PART_ALL;
    int size = spec->test_size ? spec->test_size : 10000;
    if (size != 3000 && size != 5000 && size != 10000)
        return ufo_fail(UFO_ERR_CONFIG,
                        "dataset %s: veriwild test size %d (3000, 5000 or 10000)", ds->name, size);
    struct wild_cam *cams = NULL;
    size_t n_cams = 0;
    ufo_status st = wild_cameras(ds, spec->root, &cams, &n_cams);
    if (st != UFO_OK)
        return st;
    if (parts & DATA_PART_TRAIN)
        st = wild_list(spec, ds, "train_list.txt", DATA_TRAIN, cams, n_cams);
    if (st == UFO_OK && (parts & DATA_PART_EVAL)) {
        char list[64];
        snprintf(list, sizeof list, "test_%d_query.txt", size);
        st = wild_list(spec, ds, list, DATA_QUERY, cams, n_cams);
        snprintf(list, sizeof list, "test_%d.txt", size);
        if (st == UFO_OK)
            st = wild_list(spec, ds, list, DATA_GALLERY, cams, n_cams);
    }
    free(cams);
    return st;
}
