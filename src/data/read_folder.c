/* format = folder: one sub-folder per identity or class, its JPEG and PNG images inside. */
#include "config.h"

#include <string.h>

#include "data/reader.h"

/* Classes are the sub-folders of root in byte order; files that are not images are counted and
 * left out, deeper folders are ignored. */
ufo_status data_read_folder(const struct data_spec *spec, struct data_set *ds) {
    char **classes;
    size_t n_classes;
    ufo_status st = data_list_dir(spec->root, 1, &classes, &n_classes);
    if (st != UFO_OK)
        return st;
    char dir[4096], path[4096];
    for (size_t c = 0; c < n_classes && st == UFO_OK; c++) {
        st = data_path_join(dir, sizeof dir, spec->root, classes[c]);
        char **files = NULL;
        size_t n_files = 0;
        if (st == UFO_OK)
            st = data_list_dir(dir, 0, &files, &n_files);
        for (size_t i = 0; i < n_files && st == UFO_OK; i++) {
            if (!data_is_image_name(files[i])) {
                ds->report.other_files++;
                continue;
            }
            st = data_path_join(path, sizeof path, dir, files[i]);
            if (st == UFO_OK)
                st = data_add_file(ds, path, spec->split, (int32_t)c, -1);
        }
        data_free_names(files, n_files);
    }
    data_free_names(classes, n_classes);
    return st;
}
