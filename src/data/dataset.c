/* Opening a dataset: the format table, the pieces every reader shares, label and camera
 * renumbering, the load report, and merging several datasets that feed one task. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/log.h"
#include "data/dataset.h"
#include "data/reader.h"

/* Warnings naming individual bad lines or missing files stop after this many per dataset. */
#define DATA_WARN_LIMIT 5

#define DATA_POOL_BLOCK (64u * 1024u)

struct pool_block {
    struct pool_block *next;
    size_t used, cap;
    char bytes[];
};

/* Reader-private state behind ds->owned. */
struct data_owned {
    struct pool_block *pool;
    size_t item_cap;
    size_t pixel_size, pixel_cap;
    size_t warned_missing, warned_lines;
};

static const struct {
    const char *name;
    data_reader_fn read;
} data_formats[] = {
    {"folder", data_read_folder},         {"list", data_read_list},
    {"idx", data_read_idx},               {"market1501", data_read_market1501},
    {"msmt17", data_read_msmt17},         {"veri776", data_read_veri776},
    {"vehicleid", data_read_vehicleid},   {"veriwild", data_read_veriwild},
    {"sop", data_read_sop},               {"mxrec", data_read_mxrec},
    {"facebin", data_read_facebin},       {"pairs", data_read_pairs},
};

/* Which formats read each data_spec option; an option set for any other format is a mistake
 * (the reader would ignore it), so data_open and the configuration refuse it. */
static const struct {
    const char *option, *formats;
} data_options[] = {
    {"file", "list, idx, mxrec, facebin, pairs"},
    {"images", "pairs"},
    {"test_size", "vehicleid, veriwild"},
    {"split", "folder, list, idx, mxrec"},
    {"no_file_check", "list, msmt17, sop, vehicleid, veriwild, pairs"},
    {"query", "list"},
    {"gallery", "list"},
};

const char *data_option_formats(const char *option) {
    for (size_t i = 0; i < sizeof data_options / sizeof data_options[0]; i++)
        if (!strcmp(option, data_options[i].option))
            return data_options[i].formats;
    return NULL;
}

bool data_format_reads(const char *format, const char *option) {
    const char *formats = data_option_formats(option);
    size_t n = strlen(format);
    for (const char *p = formats; p && (p = strstr(p, format)); p += n)
        if ((p == formats || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0'))
            return true;
    return false;
}

/* The first option of `spec` that is set but not read by its format, or NULL. */
static const char *data_spec_ignored(const struct data_spec *spec) {
    const struct {
        const char *name;
        bool set;
    } set[] = {
        {"file", spec->file != NULL},          {"images", spec->images != NULL},
        {"test_size", spec->test_size != 0},   {"split", spec->split != DATA_TRAIN},
        {"no_file_check", spec->no_file_check != 0},
        {"query", spec->query != NULL},        {"gallery", spec->gallery != NULL},
    };
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        if (set[i].set && !data_format_reads(spec->format, set[i].name))
            return set[i].name;
    return NULL;
}

const char *data_split_name(enum data_split split) {
    switch (split) {
    case DATA_TRAIN: return "train";
    case DATA_QUERY: return "query";
    case DATA_GALLERY: return "gallery";
    case DATA_TEST: return "test";
    }
    return "?";
}

static struct data_owned *data_owned_of(struct data_set *ds) {
    if (!ds->owned)
        ds->owned = calloc(1, sizeof(struct data_owned));
    return ds->owned;
}

void data_set_free(struct data_set *ds) {
    if (!ds)
        return;
    struct data_owned *own = ds->owned;
    if (own) {
        struct pool_block *b = own->pool;
        while (b) {
            struct pool_block *next = b->next;
            free(b);
            b = next;
        }
        free(own);
    }
    free(ds->name);
    free(ds->format);
    free(ds->root);
    free(ds->items);
    free(ds->pixels);
    free(ds->pairs.first);
    free(ds->pairs.second);
    free(ds->pairs.same);
    memset(ds, 0, sizeof *ds);
}

const char *data_intern(struct data_set *ds, const char *s) {
    struct data_owned *own = data_owned_of(ds);
    if (!own)
        return NULL;
    size_t len = strlen(s) + 1;
    struct pool_block *b = own->pool;
    if (!b || b->cap - b->used < len) {
        size_t cap = len > DATA_POOL_BLOCK ? len : DATA_POOL_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = own->pool;
        own->pool = b;
    }
    char *dst = b->bytes + b->used;
    memcpy(dst, s, len);
    b->used += len;
    return dst;
}

ufo_status data_add_item(struct data_set *ds, const struct data_item *item) {
    struct data_owned *own = data_owned_of(ds);
    if (!own)
        return ufo_fail(UFO_ERR_NOMEM, "dataset %s: out of memory", ds->name);
    if (ds->count == own->item_cap) {
        size_t cap = own->item_cap ? own->item_cap * 2 : 1024;
        struct data_item *items = realloc(ds->items, cap * sizeof *items);
        if (!items)
            return ufo_fail(UFO_ERR_NOMEM, "dataset %s: out of memory for %zu items", ds->name,
                            cap);
        ds->items = items;
        own->item_cap = cap;
    }
    ds->items[ds->count++] = *item;
    return UFO_OK;
}

ufo_status data_add_file(struct data_set *ds, const char *path, enum data_split split,
                         int32_t raw_label, int32_t raw_camera) {
    const char *stored = data_intern(ds, path);
    if (!stored)
        return ufo_fail(UFO_ERR_NOMEM, "dataset %s: out of memory", ds->name);
    struct data_item item = {
        .source = DATA_FILE, .path = stored, .split = split,
        .label = raw_label, .camera = raw_camera,
    };
    return data_add_item(ds, &item);
}

int64_t data_pixels_grow(struct data_set *ds, size_t size) {
    struct data_owned *own = data_owned_of(ds);
    if (!own || size > SIZE_MAX / 2 - own->pixel_size)
        return -1;
    size_t need = own->pixel_size + size;
    if (need > own->pixel_cap) {
        size_t cap = own->pixel_cap ? own->pixel_cap : 1u << 16;
        while (cap < need)
            cap *= 2;
        uint8_t *p = realloc(ds->pixels, cap);
        if (!p)
            return -1;
        ds->pixels = p;
        own->pixel_cap = cap;
    }
    int64_t at = (int64_t)own->pixel_size;
    own->pixel_size = need;
    return at;
}

void data_pixels_truncate(struct data_set *ds, uint64_t size) {
    struct data_owned *own = data_owned_of(ds);
    if (own && size < own->pixel_size)
        own->pixel_size = (size_t)size;
}

ufo_status data_path_join(char *buf, size_t cap, const char *dir, const char *name) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    int w = snprintf(buf, cap, "%.*s/%s", (int)n, dir, name);
    if (w < 0 || (size_t)w >= cap)
        return ufo_fail(UFO_ERR_INVALID, "%s/%s: path too long", dir, name);
    return UFO_OK;
}

int data_is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int data_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

ufo_status data_read_text(const char *path, char **text, size_t *size) {
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - len < 2) {
            char *grown = cap < SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf)
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory reading it", path);
    if (failed) {
        free(buf);
        return ufo_fail(UFO_ERR_IO, "%s: read error", path);
    }
    buf[len] = '\0';
    *text = buf;
    if (size)
        *size = len;
    return UFO_OK;
}

char *data_next_line(char **cursor) {
    char *line = *cursor;
    if (!line || !*line)
        return NULL;
    char *end = strchr(line, '\n');
    if (end) {
        *end = '\0';
        *cursor = end + 1;
    } else {
        *cursor = line + strlen(line);
    }
    size_t n = strlen(line);
    while (n > 0 && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    return line;
}

int data_split_tokens(char *line, char **tokens, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        if (*p)
            *p++ = '\0';
        if (n < max)
            tokens[n] = start;
        n++;
    }
    return n;
}

int data_parse_int(const char *token, long lo, long hi, long *out) {
    if (!token || !*token)
        return DATA_INT_NOT_INTEGER;
    char *end;
    errno = 0;
    long v = strtol(token, &end, 10);
    if (*end || end == token)
        return DATA_INT_NOT_INTEGER;
    /* strtol clamps an overflow to LONG_MIN / LONG_MAX, which keeps the sign */
    if (v < lo || (errno == ERANGE && v < 0))
        return DATA_INT_BELOW;
    if (v > hi || errno == ERANGE)
        return DATA_INT_ABOVE;
    *out = v;
    return DATA_INT_OK;
}

static int data_cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void data_free_names(char **names, size_t count) {
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
}

ufo_status data_list_dir(const char *dir, int want_dirs, char ***names, size_t *count) {
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return ufo_fail(UFO_ERR_IO, "%s: %s", dir, strerror(errno));
    char **list = NULL;
    size_t n = 0, cap = 0;
    ufo_status st = UFO_OK;
    char path[4096];
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;

        /* d_type saves a stat per entry where the file system fills it */
        int is_dir, is_reg;
        if (e->d_type == DT_DIR || e->d_type == DT_REG) {
            is_dir = e->d_type == DT_DIR;
            is_reg = e->d_type == DT_REG;
        } else {
            if (data_path_join(path, sizeof path, dir, e->d_name) != UFO_OK)
                continue;
            is_dir = data_is_dir(path);
            is_reg = data_is_file(path);
        }
        if (want_dirs ? !is_dir : !is_reg)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            char **grown = realloc(list, cap * sizeof *list);
            if (!grown) {
                st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory listing it", dir);
                break;
            }
            list = grown;
        }
        list[n] = strdup(e->d_name);
        if (!list[n]) {
            st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory listing it", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (st != UFO_OK) {
        data_free_names(list, n);
        return st;
    }
    if (n)
        qsort(list, n, sizeof *list, data_cmp_names);
    *names = list;
    *count = n;
    return UFO_OK;
}

int data_is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    return !strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png");
}

int data_parse_id_camera(const char *name, long *id, long *camera) {
    char *end;
    errno = 0;
    long v = strtol(name, &end, 10);
    if (end == name || errno || v < -1 || v > 99999999 || end[0] != '_' || end[1] != 'c')
        return -1;
    const char *c = end + 2;
    if (!isdigit((unsigned char)*c))
        return -1;
    long cam = strtol(c, &end, 10);
    if (errno || cam < 0 || cam > 99999)
        return -1;
    *id = v;
    *camera = cam;
    return 0;
}

ufo_status data_scan_id_camera(struct data_set *ds, const char *dir, enum data_split split,
                               long junk_id, long distractor_id) {
    char **names;
    size_t n;
    ufo_status st = data_list_dir(dir, 0, &names, &n);
    if (st != UFO_OK)
        return st;
    char path[4096];
    for (size_t i = 0; i < n && st == UFO_OK; i++) {
        long id, cam;
        if (!data_is_image_name(names[i])) {
            ds->report.other_files++;
            continue;
        }
        if (data_parse_id_camera(names[i], &id, &cam) != 0) {
            data_note_bad_line(ds, dir, 0, names[i]);
            continue;
        }
        if (id == junk_id) {
            ds->report.junk++;
            continue;
        }
        st = data_path_join(path, sizeof path, dir, names[i]);
        if (st == UFO_OK)
            st = data_add_file(ds, path, split,
                               id == distractor_id ? DATA_RAW_DISTRACTOR : (int32_t)id,
                               (int32_t)cam);
    }
    data_free_names(names, n);
    return st;
}

void data_note_missing(struct data_set *ds, const char *path) {
    struct data_owned *own = data_owned_of(ds);
    ds->report.missing_files++;
    if (own && own->warned_missing++ < DATA_WARN_LIMIT)
        log_warn("dataset %s: %s is listed but missing", ds->name, path);
}

/* `line` 0 means the "line" is a file name found in folder `file`. */
void data_note_bad_line(struct data_set *ds, const char *file, size_t line, const char *why) {
    struct data_owned *own = data_owned_of(ds);
    ds->report.skipped_lines++;
    if (!own || own->warned_lines++ >= DATA_WARN_LIMIT)
        return;
    if (line)
        log_warn("dataset %s: %s:%zu skipped: %s", ds->name, file, line, why);
    else
        log_warn("dataset %s: %s/%s skipped: name does not follow the format", ds->name, file,
                 why);
}

/* A raw id and whether any training item carries it (sorting key for renumbering). */
struct raw_id {
    int32_t raw;
    int32_t train;
};

static int data_cmp_raw(const void *a, const void *b) {
    const struct raw_id *x = a, *y = b;
    return (x->raw > y->raw) - (x->raw < y->raw);
}

static int data_cmp_train_first(const void *a, const void *b) {
    const struct raw_id *x = a, *y = b;
    if (x->train != y->train)
        return y->train - x->train;
    return (x->raw > y->raw) - (x->raw < y->raw);
}

static int data_cmp_int32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Renumber the raw ids in items (label or camera, chosen by `camera`) to 0..n-1. Labels seen in
 * training come first so a classifier over training labels sees 0..n_train-1. Returns n, or -1
 * when memory runs out. */
static int32_t data_renumber(struct data_set *ds, int camera, int32_t *n_train) {
    size_t m = 0;
    struct raw_id *ids = malloc((ds->count ? ds->count : 1) * sizeof *ids);
    if (!ids)
        return -1;
    for (size_t i = 0; i < ds->count; i++) {
        int32_t v = camera ? ds->items[i].camera : ds->items[i].label;
        if (v >= 0)
            ids[m++] = (struct raw_id){v, ds->items[i].split == DATA_TRAIN};
    }
    qsort(ids, m, sizeof *ids, data_cmp_raw);

    /* distinct ids, remembering whether training uses them */
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && ids[k - 1].raw == ids[i].raw)
            ids[k - 1].train |= ids[i].train;
        else
            ids[k++] = ids[i];
    }
    if (!camera)
        qsort(ids, k, sizeof *ids, data_cmp_train_first);
    int32_t trained = 0;
    for (size_t i = 0; i < k; i++)
        trained += ids[i].train != 0;
    if (n_train)
        *n_train = camera ? 0 : trained;

    /* new number of raw id r = its position in `ids`; look it up through a sorted copy */
    struct raw_id *by_raw = malloc((k ? k : 1) * sizeof *by_raw);
    if (!by_raw) {
        free(ids);
        return -1;
    }
    for (size_t i = 0; i < k; i++)
        by_raw[i] = (struct raw_id){ids[i].raw, (int32_t)i};
    qsort(by_raw, k, sizeof *by_raw, data_cmp_raw);
    for (size_t i = 0; i < ds->count; i++) {
        int32_t *v = camera ? &ds->items[i].camera : &ds->items[i].label;
        if (*v < 0) {
            *v = -1;
            continue;
        }
        struct raw_id key = {*v, 0};
        struct raw_id *hit = bsearch(&key, by_raw, k, sizeof *by_raw, data_cmp_raw);
        *v = hit->train;
    }
    free(by_raw);
    free(ids);
    return (int32_t)k;
}

/* Distinct non-negative values of label or camera among the items of each split. */
static int data_count_per_split(struct data_set *ds, int camera, size_t out[4]) {
    int32_t *vals = malloc((ds->count ? ds->count : 1) * sizeof *vals);
    if (!vals)
        return -1;
    for (int s = 0; s < 4; s++) {
        size_t m = 0;
        for (size_t i = 0; i < ds->count; i++) {
            int32_t v = camera ? ds->items[i].camera : ds->items[i].label;
            if ((int)ds->items[i].split == s && v >= 0)
                vals[m++] = v;
        }
        qsort(vals, m, sizeof *vals, data_cmp_int32);
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            k += i == 0 || vals[i] != vals[i - 1];
        out[s] = k;
    }
    free(vals);
    return 0;
}

/* One log line: what each split holds, then what was skipped. */
static void data_log_report(const struct data_set *ds) {
    const struct data_report *r = &ds->report;
    char line[1024];
    size_t at = 0;
    at += snprintf(line + at, sizeof line - at,
                   "dataset %s (%s, %s): %zu images, %d ids, %d cameras", ds->name, ds->format,
                   ds->root, ds->count, ds->n_labels, ds->n_cameras);
    for (int s = 0; s < 4 && at < sizeof line; s++) {
        if (!r->images[s])
            continue;
        at += snprintf(line + at, sizeof line - at, "; %s %zu images %zu ids", data_split_name(s),
                       r->images[s], r->labels[s]);
        if (r->cameras[s] && at < sizeof line)
            at += snprintf(line + at, sizeof line - at, " %zu cameras", r->cameras[s]);
    }
    if (ds->pairs.count && at < sizeof line)
        at += snprintf(line + at, sizeof line - at, "; %zu pairs", ds->pairs.count);
    if (r->distractors && at < sizeof line)
        at += snprintf(line + at, sizeof line - at, "; %zu distractors", r->distractors);
    log_info("%s", line);

    if (r->skipped_lines || r->missing_files || r->junk || r->bad_records || r->other_files ||
        r->bad_pairs) {
        log_info("dataset %s: skipped %zu bad lines or names, %zu missing files, %zu junk, "
                 "%zu bad records, %zu non-image files, %zu bad pairs",
                 ds->name, r->skipped_lines, r->missing_files, r->junk, r->bad_records,
                 r->other_files, r->bad_pairs);
    }
}

ufo_status data_finish(struct data_set *ds) {
    if (ds->count == 0) {
        const struct data_report *r = &ds->report;
        return ufo_fail(UFO_ERR_FORMAT,
                        "dataset %s (%s at %s): no usable image (%zu bad lines or names, "
                        "%zu missing files, %zu bad records, %zu junk); check root and format",
                        ds->name, ds->format, ds->root, r->skipped_lines, r->missing_files,
                        r->bad_records, r->junk);
    }
    int32_t n_train = 0;
    int32_t n_labels = data_renumber(ds, 0, &n_train);
    int32_t n_cameras = n_labels < 0 ? -1 : data_renumber(ds, 1, NULL);
    if (n_labels < 0 || n_cameras < 0)
        return ufo_fail(UFO_ERR_NOMEM, "dataset %s: out of memory renumbering labels", ds->name);
    ds->n_labels = n_labels;
    ds->n_train_labels = n_train;
    ds->n_cameras = n_cameras;

    struct data_report *r = &ds->report;
    memset(r->images, 0, sizeof r->images);
    r->distractors = 0;
    for (size_t i = 0; i < ds->count; i++) {
        r->images[ds->items[i].split]++;
        /* verification items carry no identity: -1 there is no distractor */
        r->distractors += ds->items[i].label < 0 && ds->pairs.count == 0;
    }
    if (data_count_per_split(ds, 0, r->labels) || data_count_per_split(ds, 1, r->cameras))
        return ufo_fail(UFO_ERR_NOMEM, "dataset %s: out of memory counting labels", ds->name);
    data_log_report(ds);
    return UFO_OK;
}

static ufo_status data_strdup_into(char **dst, const char *s) {
    *dst = strdup(s ? s : "");
    return *dst ? UFO_OK : ufo_fail(UFO_ERR_NOMEM, "out of memory");
}

ufo_status data_open(const struct data_spec *spec, struct data_set *out) {
    memset(out, 0, sizeof *out);
    if (!spec || !spec->format || !spec->root)
        return ufo_fail(UFO_ERR_CONFIG, "dataset %s: both format and root are required",
                        spec && spec->name ? spec->name : "?");
    data_reader_fn read = NULL;
    for (size_t i = 0; i < sizeof data_formats / sizeof data_formats[0]; i++)
        if (!strcmp(spec->format, data_formats[i].name))
            read = data_formats[i].read;
    const char *name = spec->name && *spec->name ? spec->name : spec->format;
    if (!read)
        return ufo_fail(UFO_ERR_CONFIG,
                        "dataset %s: unknown format '%s' (folder, list, idx, market1501, msmt17, "
                        "veri776, vehicleid, veriwild, sop, mxrec, facebin, pairs)",
                        name, spec->format);

    const char *ignored = data_spec_ignored(spec);
    if (ignored)
        return ufo_fail(UFO_ERR_CONFIG, "dataset %s: format %s ignores %s (it is for %s)", name,
                        spec->format, ignored, data_option_formats(ignored));

    ufo_status st = data_strdup_into(&out->name, name);
    if (st == UFO_OK)
        st = data_strdup_into(&out->format, spec->format);
    if (st == UFO_OK)
        st = data_strdup_into(&out->root, spec->root);
    if (st == UFO_OK && !data_owned_of(out))
        st = ufo_fail(UFO_ERR_NOMEM, "out of memory");
    if (st == UFO_OK)
        st = read(spec, out);
    if (st == UFO_OK)
        st = data_finish(out);
    if (st != UFO_OK)
        data_set_free(out);
    return st;
}

/* Copy pairs of `src` into `dst`, shifting item indices by `base`. */
static ufo_status data_merge_pairs(struct data_pairs *dst, const struct data_pairs *src,
                                   size_t base) {
    if (!src->count)
        return UFO_OK;
    size_t n = dst->count + src->count;
    size_t *first = realloc(dst->first, n * sizeof *first);
    if (first)
        dst->first = first;
    size_t *second = realloc(dst->second, n * sizeof *second);
    if (second)
        dst->second = second;
    uint8_t *same = realloc(dst->same, n);
    if (same)
        dst->same = same;
    if (!first || !second || !same)
        return ufo_fail(UFO_ERR_NOMEM, "out of memory merging pairs");
    for (size_t i = 0; i < src->count; i++) {
        dst->first[dst->count + i] = src->first[i] + base;
        dst->second[dst->count + i] = src->second[i] + base;
        dst->same[dst->count + i] = src->same[i];
    }
    dst->count = n;
    return UFO_OK;
}

ufo_status data_merge(const struct data_set *parts, size_t n, const char *name,
                      struct data_set *out) {
    memset(out, 0, sizeof *out);
    ufo_status st = data_strdup_into(&out->name, name ? name : "merged");
    if (st == UFO_OK)
        st = data_strdup_into(&out->format, "merged");
    if (st == UFO_OK)
        st = data_strdup_into(&out->root, n ? parts[0].root : "");
    if (st == UFO_OK && !data_owned_of(out))
        st = ufo_fail(UFO_ERR_NOMEM, "out of memory");

    /* training labels of all parts first, then the evaluation-only labels */
    int32_t train_total = 0;
    for (size_t p = 0; p < n; p++)
        train_total += parts[p].n_train_labels;
    int32_t train_base = 0, eval_base = train_total, camera_base = 0;

    for (size_t p = 0; p < n && st == UFO_OK; p++) {
        const struct data_set *src = &parts[p];
        int64_t pix_base = 0;
        size_t pix_size = 0;
        if (src->pixels && src->owned)
            pix_size = ((const struct data_owned *)src->owned)->pixel_size;
        if (pix_size) {
            pix_base = data_pixels_grow(out, pix_size);
            if (pix_base < 0) {
                st = ufo_fail(UFO_ERR_NOMEM, "out of memory merging %s", src->name);
                break;
            }
            memcpy(out->pixels + pix_base, src->pixels, pix_size);
        }
        st = data_merge_pairs(&out->pairs, &src->pairs, out->count);
        const char *last_src = NULL, *last_dst = NULL;
        for (size_t i = 0; i < src->count && st == UFO_OK; i++) {
            struct data_item item = src->items[i];
            if (item.path && item.path == last_src) {
                item.path = last_dst;
            } else if (item.path) {
                last_src = item.path;
                item.path = last_dst = data_intern(out, item.path);
                if (!item.path) {
                    st = ufo_fail(UFO_ERR_NOMEM, "out of memory merging %s", src->name);
                    break;
                }
            }
            if (item.source == DATA_MEMORY || item.source == DATA_BLOB)
                item.offset += (uint64_t)pix_base;
            if (item.label >= 0)
                item.label += item.label < src->n_train_labels
                                  ? train_base
                                  : eval_base - src->n_train_labels;
            if (item.camera >= 0)
                item.camera += camera_base;
            st = data_add_item(out, &item);
        }
        for (int s = 0; s < 4; s++)
            out->report.images[s] += src->report.images[s];
        out->report.skipped_lines += src->report.skipped_lines;
        out->report.missing_files += src->report.missing_files;
        out->report.junk += src->report.junk;
        out->report.bad_records += src->report.bad_records;
        out->report.other_files += src->report.other_files;
        out->report.bad_pairs += src->report.bad_pairs;
        out->report.distractors += src->report.distractors;
        log_info("dataset %s: part %s labels %d.. (train) and %d.. (eval), cameras %d..",
                 out->name, src->name, train_base, eval_base, camera_base);
        train_base += src->n_train_labels;
        eval_base += src->n_labels - src->n_train_labels;
        camera_base += src->n_cameras;
    }
    if (st == UFO_OK) {
        out->n_labels = eval_base;
        out->n_train_labels = train_total;
        out->n_cameras = camera_base;
        if (out->count == 0)
            st = ufo_fail(UFO_ERR_FORMAT, "dataset %s: the merged parts hold no image", out->name);
    }
    if (st == UFO_OK) {
        if (data_count_per_split(out, 0, out->report.labels) ||
            data_count_per_split(out, 1, out->report.cameras))
            st = ufo_fail(UFO_ERR_NOMEM, "out of memory merging");
    }
    if (st != UFO_OK)
        data_set_free(out);
    return st;
}
