/* format = market1501: Market-1501 as released, bounding_box_train/ (training), query/ and
 * bounding_box_test/ (gallery), with names like 0002_c1s1_000451_03.jpg: person 0002, camera 1,
 * sequence 1, frame 451, box 3. Person -1 marks junk boxes (dropped, counted); person 0000 marks
 * distractors, kept in the gallery with label -1 as the benchmark's protocol requires. */
#include "config.h"

#include "data/reader.h"

ufo_status data_read_market1501(const struct data_spec *spec, struct data_set *ds) {
    unsigned parts = spec->parts ? spec->parts : DATA_PART_ALL;
    char dir[4096];
    ufo_status st = UFO_OK;
    if (parts & DATA_PART_TRAIN) {
        st = data_path_join(dir, sizeof dir, spec->root, "bounding_box_train");
        if (st == UFO_OK)
            st = data_scan_id_camera(ds, dir, DATA_TRAIN, -1, -2);
    }
    if (st == UFO_OK && (parts & DATA_PART_EVAL)) {
        st = data_path_join(dir, sizeof dir, spec->root, "query");
        if (st == UFO_OK)
            st = data_scan_id_camera(ds, dir, DATA_QUERY, -1, -2);
        if (st == UFO_OK)
            st = data_path_join(dir, sizeof dir, spec->root, "bounding_box_test");
        if (st == UFO_OK)
            st = data_scan_id_camera(ds, dir, DATA_GALLERY, -1, 0);
    }
    return st;
}
