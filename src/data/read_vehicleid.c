/* format = vehicleid: PKU VehicleID as released. train_test_split/train_list.txt and
 * test_list_{800,1600,2400}.txt hold `image vehicle` lines naming image/<image>.jpg. The format
 * has no cameras. The test lists are not split into query and gallery: the evaluation protocol
 * draws the gallery (one image per vehicle) itself, so the items are DATA_TEST. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "data/reader.h"

static ufo_status vehicleid_list(const struct data_spec *spec, struct data_set *ds,
                                 const char *list, enum data_split split) {
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
        long vehicle;
        int n = data_split_tokens(line, tok, 2);
        if (n == 0)
            continue;
        if (n != 2 || data_parse_int(tok[1], 0, INT32_MAX, &vehicle) ||
            snprintf(name, sizeof name, "image/%s.jpg", tok[0]) >= (int)sizeof name) {
            data_note_bad_line(ds, list_path, line_no, "expected `image vehicle`");
            continue;
        }
        st = data_path_join(path, sizeof path, spec->root, name);
        if (st != UFO_OK)
            break;
        if (!spec->no_file_check && !data_is_file(path)) {
            data_note_missing(ds, path);
            continue;
        }
        st = data_add_file(ds, path, split, (int32_t)vehicle, -1);
    }
    free(text);
    return st;
}

ufo_status data_read_vehicleid(const struct data_spec *spec, struct data_set *ds) {
    unsigned parts = spec->parts ? spec->parts : DATA_PART_ALL;
    int size = spec->test_size ? spec->test_size : 2400;
    if (size != 800 && size != 1600 && size != 2400)
        return ufo_fail(UFO_ERR_CONFIG, "dataset %s: vehicleid test size %d (800, 1600 or 2400)",
                        ds->name, size);
    ufo_status st = UFO_OK;
    if (parts & DATA_PART_TRAIN)
        st = vehicleid_list(spec, ds, "train_list.txt", DATA_TRAIN);
    if (st == UFO_OK && (parts & DATA_PART_EVAL)) {
        char list[64];
        snprintf(list, sizeof list, "test_list_%d.txt", size);
        st = vehicleid_list(spec, ds, list, DATA_TEST);
    }
    return st;
}
