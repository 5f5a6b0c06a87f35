/* format = list: text files of `relative/path label [camera]` lines. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader.h"

/* The items of one list file (relative to root unless absolute) into `split`. Label -1 marks
 * a distractor; '#' starts a comment line. Paths cannot hold blanks. */
static ufo_status list_read_file(const struct data_spec *spec, struct data_set *ds,
                                 const char *file, enum data_split split) {
    char list_path[4096], path[4096];
    ufo_status st = UFO_OK;
    if (file[0] == '/')
        snprintf(list_path, sizeof list_path, "%s", file);
    else
        st = data_path_join(list_path, sizeof list_path, spec->root, file);
    char *text = NULL;
    if (st == UFO_OK)
        st = data_read_text(list_path, &text, NULL);
    char *cursor = text, *line;
    size_t line_no = 0;
    while (st == UFO_OK && (line = data_next_line(&cursor))) {
        line_no++;
        char *tok[3];
        long label, camera = -1;
        int n = data_split_tokens(line, tok, 3);
        if (n == 0 || tok[0][0] == '#')
            continue;
        if (n < 2 || n > 3) {
            data_note_bad_line(ds, list_path, line_no, "expected `path label [camera]`");
            continue;
        }
        if (data_parse_int(tok[1], -1, INT32_MAX, &label) ||
            (n == 3 && data_parse_int(tok[2], 0, INT32_MAX, &camera))) {
            data_note_bad_line(ds, list_path, line_no, "label or camera is not an integer");
            continue;
        }
        if (tok[0][0] == '/')
            snprintf(path, sizeof path, "%s", tok[0]);
        else
            st = data_path_join(path, sizeof path, spec->root, tok[0]);
        if (st != UFO_OK)
            break;
        if (!spec->no_file_check && !data_is_file(path)) {
            data_note_missing(ds, path);
            continue;
        }
        st = data_add_file(ds, path, split, (int32_t)label, (int32_t)camera);
    }
    free(text);
    return st;
}

/* Without query or gallery lists, the one list spec->file (default list.txt) holds every item,
 * in spec->split, whatever the parts. With them, the training part is spec->file and the
 * evaluation part the query and gallery lists, read together so that their labels are
 * numbered alike (a retrieval benchmark kept as lists, like the demo's cards and icons). */
ufo_status data_read_list(const struct data_spec *spec, struct data_set *ds) {
    const char *file = spec->file ? spec->file : "list.txt";
    if (!spec->query && !spec->gallery)
        return list_read_file(spec, ds, file, spec->split);
    unsigned parts = spec->parts ? spec->parts : DATA_PART_ALL;
    ufo_status st = UFO_OK;
    if (parts & DATA_PART_TRAIN)
        st = list_read_file(spec, ds, file, spec->split);
    if (st == UFO_OK && (parts & DATA_PART_EVAL) && spec->query)
        st = list_read_file(spec, ds, spec->query, DATA_QUERY);
    if (st == UFO_OK && (parts & DATA_PART_EVAL) && spec->gallery)
        st = list_read_file(spec, ds, spec->gallery, DATA_GALLERY);
    return st;
}
