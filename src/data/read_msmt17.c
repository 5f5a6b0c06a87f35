/* format = msmt17: MSMT17 as released. list_train.txt and list_val.txt (together the official
 * training set) name images under train/, list_query.txt and list_gallery.txt images under test/,
 * one `relative/path label` per line; the camera is the third `_` field of the file name
 * (0000_000_01_0303morning_0015_0.jpg: camera 01). V2 folder names (mask_train_v2/,
 * mask_test_v2/) are used when train/ is absent. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader.h"

/* Training and test labels are separate namespaces in the lists (both start at 0): test labels
 * are shifted by this much before renumbering. */
#define MSMT_TEST_BASE (1 << 24)

/* Camera from the base name's third `_`-separated field. */
static int msmt_camera(const char *path, long *camera) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *f = strchr(base, '_');
    f = f ? strchr(f + 1, '_') : NULL;
    if (!f)
        return -1;
    char field[16];
    size_t n = strcspn(f + 1, "_.");
    if (n == 0 || n >= sizeof field)
        return -1;
    memcpy(field, f + 1, n);
    field[n] = '\0';
    return data_parse_int(field, 0, 9999, camera);
}

static ufo_status msmt_list(const struct data_spec *spec, struct data_set *ds, const char *list,
                            const char *image_dir, enum data_split split, int32_t label_base) {
    char list_path[4096], dir[4096], path[4096];
    ufo_status st = data_path_join(list_path, sizeof list_path, spec->root, list);
    if (st == UFO_OK)
        st = data_path_join(dir, sizeof dir, spec->root, image_dir);
    char *text = NULL;
    if (st == UFO_OK)
        st = data_read_text(list_path, &text, NULL);
    char *cursor = text, *line;
    size_t line_no = 0;
    while (st == UFO_OK && (line = data_next_line(&cursor))) {
        line_no++;
        char *tok[2];
        long label, camera;
        int n = data_split_tokens(line, tok, 2);
        if (n == 0)
            continue;
        if (n != 2 || data_parse_int(tok[1], 0, MSMT_TEST_BASE - 1, &label)) {
            data_note_bad_line(ds, list_path, line_no, "expected `path label`");
            continue;
        }
        if (msmt_camera(tok[0], &camera)) {
            data_note_bad_line(ds, list_path, line_no, "no camera field in the file name");
            continue;
        }
        st = data_path_join(path, sizeof path, dir, tok[0]);
        if (st != UFO_OK)
            break;
        if (!spec->no_file_check && !data_is_file(path)) {
            data_note_missing(ds, path);
            continue;
        }
        st = data_add_file(ds, path, split, label_base + (int32_t)label, (int32_t)camera);
    }
    free(text);
    return st;
}

ufo_status data_read_msmt17(const struct data_spec *spec, struct data_set *ds) {
    unsigned parts = spec->parts ? spec->parts : DATA_PART_ALL;
    char probe[4096];
    ufo_status st = data_path_join(probe, sizeof probe, spec->root, "train");
    if (st != UFO_OK)
        return st;
    int v2 = !data_is_dir(probe);
    const char *train_dir = v2 ? "mask_train_v2" : "train";
    const char *test_dir = v2 ? "mask_test_v2" : "test";
    if (parts & DATA_PART_TRAIN) {
        st = msmt_list(spec, ds, "list_train.txt", train_dir, DATA_TRAIN, 0);
        if (st == UFO_OK &&
            data_path_join(probe, sizeof probe, spec->root, "list_val.txt") == UFO_OK &&
            data_is_file(probe))
            st = msmt_list(spec, ds, "list_val.txt", train_dir, DATA_TRAIN, 0);
    }
    if (st == UFO_OK && (parts & DATA_PART_EVAL)) {
        st = msmt_list(spec, ds, "list_query.txt", test_dir, DATA_QUERY, MSMT_TEST_BASE);
        if (st == UFO_OK)
            st = msmt_list(spec, ds, "list_gallery.txt", test_dir, DATA_GALLERY, MSMT_TEST_BASE);
    }
    return st;
}
