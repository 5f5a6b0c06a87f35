/* format = veri776: VeRi-776 as released, image_train/ (training), image_query/ (query) and
 * image_test/ (gallery), with names like 0002_c002_00030600_0.jpg: vehicle 0002, camera 2. */
#include "config.h"

#include "data/reader.h"

ufo_status data_read_veri776(const struct data_spec *spec, struct data_set *ds) {
    unsigned parts = spec->parts ? spec->parts : DATA_PART_ALL;
    static const struct {
        const char *dir;
        enum data_split split;
        unsigned part;
    } dirs[] = {
        {"image_train", DATA_TRAIN, DATA_PART_TRAIN},
        {"image_query", DATA_QUERY, DATA_PART_EVAL},
        {"image_test", DATA_GALLERY, DATA_PART_EVAL},
    };
    char dir[4096];
    ufo_status st = UFO_OK;
    for (size_t i = 0; i < 3 && st == UFO_OK; i++) {
        if (!(parts & dirs[i].part))
            continue;
        st = data_path_join(dir, sizeof dir, spec->root, dirs[i].dir);
        if (st == UFO_OK)
            st = data_scan_id_camera(ds, dir, dirs[i].split, -2, -2);
    }
    return st;
}
