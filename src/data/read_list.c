/* format = list: text files of `relative/path label [camera]` lines. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/reader.h"

/* Parse the label (lo -1: a distractor) or camera (lo 0) column; nonzero with the reason in
 * `why` when it is not an integer in [lo, INT32_MAX]. */
static int list_bad_number(const char *token, const char *what, long lo, long *out, char *why,
                           size_t cap) {
    switch (data_parse_int(token, lo, INT32_MAX, out)) {
    case DATA_INT_OK:
        return 0;
    case DATA_INT_NOT_INTEGER:
        snprintf(why, cap, "%s \"%s\" is not a base-10 integer", what, token);
        break;
    case DATA_INT_BELOW:
        snprintf(why, cap, "%s %s is negative (%s)", what, token,
                 lo < 0 ? "labels are 0 or more; -1 marks a distractor"
                        : "cameras are 0 or more; leave the column out when unknown");
        break;
    default:
        snprintf(why, cap, "%s %s is out of range (at most %ld)", what, token, (long)INT32_MAX);
        break;
    }
    return 1;
}

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
        char why[160];
        if (list_bad_number(tok[1], "label", -1, &label, why, sizeof why) ||
            (n == 3 && list_bad_number(tok[2], "camera", 0, &camera, why, sizeof why))) {
            data_note_bad_line(ds, list_path, line_no, why);
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
    const char *name = spec->name && *spec->name ? spec->name : "list";
    /* queries alone would be scored against each other, SOP style: surely not what was meant */
    if (!spec->query != !spec->gallery)
        return ufo_fail(UFO_ERR_CONFIG, "dataset %s: %s is given without %s: the evaluation "
                                        "part of a list dataset needs both lists, or neither",
                        name, spec->query ? "query" : "gallery",
                        spec->query ? "gallery" : "query");
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
