/* format = sop: Stanford Online Products as released. Ebay_train.txt and Ebay_test.txt start
 * with the header `image_id class_id super_class_id path`, then one such line per image; the
 * path is relative to root. Test items are DATA_TEST: each one queries all the others. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader.h"

static ufo_status sop_list(const struct data_spec *spec, struct data_set *ds, const char *list,
                           enum data_split split) {
    char list_path[4096], path[4096];
    ufo_status st = data_path_join(list_path, sizeof list_path, spec->root, list);
    char *text = NULL;
    if (st == UFO_OK)
        st = data_read_text(list_path, &text, NULL);
    char *cursor = text, *line;
    size_t line_no = 0;
    while (st == UFO_OK && (line = data_next_line(&cursor))) {
        line_no++;
        char *tok[4];
        long image, label, super;
        int n = data_split_tokens(line, tok, 4);
        if (n == 0)
            continue;
        if (line_no == 1 && n == 4 && !strcmp(tok[0], "image_id"))
            continue;
        if (n != 4 || data_parse_int(tok[0], 0, LONG_MAX, &image) ||
            data_parse_int(tok[1], 0, INT32_MAX, &label) ||
            data_parse_int(tok[2], 0, INT32_MAX, &super)) {
            data_note_bad_line(ds, list_path, line_no,
                               "expected `image_id class_id super_class_id path`");
            continue;
        }
        st = data_path_join(path, sizeof path, spec->root, tok[3]);
        if (st != UFO_OK)
            break;
        if (!spec->no_file_check && !data_is_file(path)) {
            data_note_missing(ds, path);
            continue;
        }
        st = data_add_file(ds, path, split, (int32_t)label, -1);
    }
    free(text);
    return st;
}

ufo_status data_read_sop(const struct data_spec *spec, struct data_set *ds) {
    unsigned parts = spec->parts ? spec->parts : DATA_PART_ALL;
    ufo_status st = UFO_OK;
    if (parts & DATA_PART_TRAIN)
        st = sop_list(spec, ds, "Ebay_train.txt", DATA_TRAIN);
    if (st == UFO_OK && (parts & DATA_PART_EVAL))
        st = sop_list(spec, ds, "Ebay_test.txt", DATA_TEST);
    return st;
}
