/* Text forms of spaces and architectures: JSON (jansson) and the CVPR 2022 track 2 string. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/space.h"

/* jansson's serialisation of a value we built; NULL only when memory ran out. */
static ufo_status json_dump_to(json_t *root, char **out) {
    *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!*out)
        return ufo_fail(UFO_ERR_NOMEM, "JSON: out of memory while writing");
    return UFO_OK;
}

ufo_status ufo_arch_to_json(const struct ufo_space *space, const struct ufo_arch *arch,
                            char **out) {
    *out = NULL;
    ufo_status st = ufo_arch_validate(space, arch);
    if (st != UFO_OK)
        return st;
    json_t *root = json_object();
    json_t *blocks = json_array();
    json_object_set_new(root, "blocks", blocks);
    for (int b = 0; b < arch->n_blocks; b++) {
        const struct ufo_block_arch *blk = &arch->block[b];
        json_t *o = json_object();
        json_object_set_new(o, "heads", json_integer(blk->heads));
        json_object_set_new(o, "mlp_ratio", json_real(blk->mlp_ratio));
        json_object_set_new(o, "kept", json_boolean(blk->kept));
        json_t *paths = json_object();
        for (int t = 0; t < arch->n_tasks; t++)
            json_object_set_new(paths, space->tasks[t].name,
                                json_string(ufo_path_name(blk->path[t])));
        json_object_set_new(o, "paths", paths);
        json_array_append_new(blocks, o);
    }
    return json_dump_to(root, out);
}

/* Turn the recorded validation failure into a format error that names the source. */
static ufo_status json_prefix_error(const char *where) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ufo_last_error());
    return ufo_fail(UFO_ERR_FORMAT, "%s: %s", where, msg);
}

/* A JSON number as a double (integers too). */
static int json_get_number(json_t *v, double *out) {
    if (!json_is_number(v))
        return 0;
    *out = json_number_value(v);
    return 1;
}

/* Reject keys we do not know, so a misspelt key is not silently ignored. */
static ufo_status json_check_keys(json_t *obj, const char *const *known, const char *where,
                                  const char *what) {
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        int ok = 0;
        for (int i = 0; known[i]; i++)
            if (strcmp(key, known[i]) == 0)
                ok = 1;
        if (!ok)
            return ufo_fail(UFO_ERR_FORMAT, "%s: unknown key \"%s\" in %s", where, key, what);
    }
    return UFO_OK;
}

static ufo_status arch_block_from_json(const struct ufo_space *space, json_t *o, int b,
                                       const char *where, struct ufo_block_arch *blk) {
    static const char *const keys[] = {"heads", "mlp_ratio", "kept", "paths", NULL};
    char what[64];
    snprintf(what, sizeof what, "block %d", b);
    if (!json_is_object(o))
        return ufo_fail(UFO_ERR_FORMAT, "%s: block %d is not an object", where, b);
    ufo_status st = json_check_keys(o, keys, where, what);
    if (st != UFO_OK)
        return st;

    json_t *heads = json_object_get(o, "heads");
    json_t *kept = json_object_get(o, "kept");
    double ratio;
    if (!json_is_integer(heads))
        return ufo_fail(UFO_ERR_FORMAT, "%s: block %d: \"heads\" must be an integer", where, b);
    if (!json_get_number(json_object_get(o, "mlp_ratio"), &ratio))
        return ufo_fail(UFO_ERR_FORMAT, "%s: block %d: \"mlp_ratio\" must be a number", where,
                        b);
    if (kept && !json_is_boolean(kept))
        return ufo_fail(UFO_ERR_FORMAT, "%s: block %d: \"kept\" must be true or false", where,
                        b);
    json_int_t h = json_integer_value(heads);
    blk->heads = h < 0 || h > 1000000 ? -1 : (int)h;
    blk->mlp_ratio = ratio;
    blk->kept = kept ? json_is_true(kept) : 1;

    /* every task of the space needs a path, and no other task may appear */
    json_t *paths = json_object_get(o, "paths");
    if (!json_is_object(paths))
        return ufo_fail(UFO_ERR_FORMAT, "%s: block %d: \"paths\" must be an object of task "
                        "names", where, b);
    const char *key;
    json_t *value;
    json_object_foreach(paths, key, value) {
        if (ufo_space_task_index(space, key) < 0)
            return ufo_fail(UFO_ERR_FORMAT, "%s: block %d: unknown task \"%s\" in paths", where,
                            b, key);
    }
    for (int t = 0; t < space->n_tasks; t++) {
        json_t *p = json_object_get(paths, space->tasks[t].name);
        const char *name = json_string_value(p);
        if (!name)
            return ufo_fail(UFO_ERR_FORMAT, "%s: block %d: no path for task \"%s\"", where, b,
                            space->tasks[t].name);
        if (strcmp(name, "shared") == 0)
            blk->path[t] = UFO_PATH_SHARED;
        else if (strcmp(name, "task") == 0)
            blk->path[t] = UFO_PATH_TASK;
        else if (strcmp(name, "both") == 0)
            blk->path[t] = UFO_PATH_BOTH;
        else
            return ufo_fail(UFO_ERR_FORMAT, "%s: block %d: task %s path \"%s\" is not shared, "
                            "task or both", where, b, space->tasks[t].name, name);
    }
    return UFO_OK;
}

ufo_status ufo_arch_from_json(const struct ufo_space *space, const char *text,
                              const char *where, struct ufo_arch *arch) {
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    if (!root)
        return ufo_fail(UFO_ERR_FORMAT, "%s: line %d column %d: %s", where, err.line,
                        err.column, err.text);
    ufo_status st = UFO_OK;
    static const char *const keys[] = {"blocks", NULL};
    json_t *blocks = json_object_get(root, "blocks");
    if (!json_is_object(root)) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: an architecture must be a JSON object", where);
        goto done;
    }
    if ((st = json_check_keys(root, keys, where, "the architecture")) != UFO_OK)
        goto done;
    if (!json_is_array(blocks)) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: \"blocks\" must be a list", where);
        goto done;
    }
    if ((int)json_array_size(blocks) != space->depth) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: %zu blocks, the space has %d", where,
                      json_array_size(blocks), space->depth);
        goto done;
    }
    memset(arch, 0, sizeof *arch);
    arch->n_blocks = space->depth;
    arch->n_tasks = space->n_tasks;
    for (int b = 0; b < space->depth && st == UFO_OK; b++)
        st = arch_block_from_json(space, json_array_get(blocks, b), b, where, &arch->block[b]);
    if (st == UFO_OK) {
        st = ufo_arch_validate(space, arch);
        if (st != UFO_OK)
            st = json_prefix_error(where);
    }
done:
    json_decref(root);
    return st;
}

/* Whole file as a NUL-terminated string (architectures and spaces are small). */
static ufo_status arch_read_text(const char *path, char **out) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1)
            break;
        if (cap > (64u << 20)) {
            free(buf);
            fclose(f);
            return ufo_fail(UFO_ERR_FORMAT, "%s: larger than 64 MiB, not an architecture",
                            path);
        }
        char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
    if (bad) {
        free(buf);
        return ufo_fail(UFO_ERR_IO, "%s: read error", path);
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        free(buf);
        return ufo_fail(UFO_ERR_FORMAT, "%s: contains a NUL byte, not JSON text", path);
    }
    *out = buf;
    return UFO_OK;
}

ufo_status ufo_arch_load(const struct ufo_space *space, const char *path,
                         struct ufo_arch *arch) {
    char *text = NULL;
    ufo_status st = arch_read_text(path, &text);
    if (st != UFO_OK)
        return st;
    st = ufo_arch_from_json(space, text, path, arch);
    free(text);
    return st;
}

ufo_status ufo_arch_save(const struct ufo_space *space, const struct ufo_arch *arch,
                         const char *path) {
    char *text = NULL;
    ufo_status st = ufo_arch_to_json(space, arch, &text);
    if (st != UFO_OK)
        return st;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(text);
        return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n && fputc('\n', f) != EOF;
    ok = (fclose(f) == 0) && ok;
    free(text);
    if (!ok)
        return ufo_fail(UFO_ERR_IO, "%s: write failed", path);
    return UFO_OK;
}

ufo_status ufo_space_to_json(const struct ufo_space *s, char **out) {
    *out = NULL;
    ufo_status st = ufo_space_validate(s);
    if (st != UFO_OK)
        return st;
    json_t *root = json_object();
    json_object_set_new(root, "embed_dim", json_integer(s->embed_dim));
    json_object_set_new(root, "head_dim", json_integer(s->head_dim));
    json_object_set_new(root, "max_heads", json_integer(s->max_heads));
    json_object_set_new(root, "depth", json_integer(s->depth));
    json_object_set_new(root, "patch", json_integer(s->patch));
    json_object_set_new(root, "image_size", json_integer(s->image_size));
    json_object_set_new(root, "mlp_ratio_max", json_real(s->mlp_ratio_max));
    json_t *heads = json_array(), *ratios = json_array(), *tasks = json_array();
    for (int i = 0; i < s->n_heads_choices; i++)
        json_array_append_new(heads, json_integer(s->heads_choices[i]));
    for (int i = 0; i < s->n_mlp_choices; i++)
        json_array_append_new(ratios, json_real(s->mlp_ratio_choices[i]));
    json_object_set_new(root, "heads_choices", heads);
    json_object_set_new(root, "mlp_ratio_choices", ratios);
    json_object_set_new(root, "min_depth", json_integer(s->min_depth));
    for (int t = 0; t < s->n_tasks; t++) {
        const struct ufo_task *task = &s->tasks[t];
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(task->name));
        json_object_set_new(o, "classes", json_integer(task->classes));
        json_object_set_new(o, "triplet", json_boolean(task->triplet));
        json_object_set_new(o, "cosface_scale", json_real(task->cosface_scale));
        json_object_set_new(o, "cosface_margin", json_real(task->cosface_margin));
        json_object_set_new(o, "loss_weight", json_real(task->loss_weight));
        json_array_append_new(tasks, o);
    }
    json_object_set_new(root, "tasks", tasks);
    return json_dump_to(root, out);
}

/* An integer member in [lo, hi]. */
static ufo_status space_get_int(json_t *o, const char *key, long lo, long hi, const char *where,
                                int *out) {
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return ufo_fail(UFO_ERR_FORMAT, "%s: \"%s\" missing or not an integer", where, key);
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return ufo_fail(UFO_ERR_FORMAT, "%s: \"%s\" = %lld out of range %ld..%ld", where, key,
                        (long long)x, lo, hi);
    *out = (int)x;
    return UFO_OK;
}

static ufo_status space_get_real(json_t *o, const char *key, const char *where, double *out) {
    if (!json_get_number(json_object_get(o, key), out))
        return ufo_fail(UFO_ERR_FORMAT, "%s: \"%s\" missing or not a number", where, key);
    return UFO_OK;
}

static ufo_status space_task_from_json(json_t *o, int t, const char *where,
                                       struct ufo_task *task) {
    static const char *const keys[] = {"name", "classes", "triplet", "cosface_scale",
                                       "cosface_margin", "loss_weight", NULL};
    if (!json_is_object(o))
        return ufo_fail(UFO_ERR_FORMAT, "%s: task %d is not an object", where, t);
    ufo_status st = json_check_keys(o, keys, where, "a task");
    if (st != UFO_OK)
        return st;
    const char *name = json_string_value(json_object_get(o, "name"));
    if (!name || strlen(name) >= UFO_TASK_NAME_MAX)
        return ufo_fail(UFO_ERR_FORMAT, "%s: task %d: \"name\" missing or longer than %d", where,
                        t, UFO_TASK_NAME_MAX - 1);
    strcpy(task->name, name);
    json_t *triplet = json_object_get(o, "triplet");
    if (triplet && !json_is_boolean(triplet))
        return ufo_fail(UFO_ERR_FORMAT, "%s: task %s: \"triplet\" must be true or false",
                        where, name);
    task->triplet = json_is_true(triplet);
    if ((st = space_get_int(o, "classes", 1, 100000000, where, &task->classes)) != UFO_OK ||
        (st = space_get_real(o, "cosface_scale", where, &task->cosface_scale)) != UFO_OK ||
        (st = space_get_real(o, "cosface_margin", where, &task->cosface_margin)) != UFO_OK ||
        (st = space_get_real(o, "loss_weight", where, &task->loss_weight)) != UFO_OK)
        return st;
    return UFO_OK;
}

ufo_status ufo_space_from_json(const char *text, const char *where, struct ufo_space *s) {
    static const char *const keys[] = {
        "embed_dim", "head_dim", "max_heads", "depth", "patch", "image_size", "mlp_ratio_max",
        "heads_choices", "mlp_ratio_choices", "min_depth", "tasks", NULL};
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);
    if (!root)
        return ufo_fail(UFO_ERR_FORMAT, "%s: line %d column %d: %s", where, err.line,
                        err.column, err.text);
    memset(s, 0, sizeof *s);
    ufo_status st;
    if (!json_is_object(root)) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: a search space must be a JSON object", where);
        goto done;
    }
    if ((st = json_check_keys(root, keys, where, "the search space")) != UFO_OK ||
        (st = space_get_int(root, "embed_dim", 1, 65536, where, &s->embed_dim)) != UFO_OK ||
        (st = space_get_int(root, "head_dim", 1, 65536, where, &s->head_dim)) != UFO_OK ||
        (st = space_get_int(root, "max_heads", 1, 65536, where, &s->max_heads)) != UFO_OK ||
        (st = space_get_int(root, "depth", 1, UFO_MAX_BLOCKS, where, &s->depth)) != UFO_OK ||
        (st = space_get_int(root, "patch", 1, 8192, where, &s->patch)) != UFO_OK ||
        (st = space_get_int(root, "image_size", 1, 8192, where, &s->image_size)) != UFO_OK ||
        (st = space_get_int(root, "min_depth", 1, UFO_MAX_BLOCKS, where, &s->min_depth)) !=
            UFO_OK ||
        (st = space_get_real(root, "mlp_ratio_max", where, &s->mlp_ratio_max)) != UFO_OK)
        goto done;

    /* choice lists and tasks */
    json_t *heads = json_object_get(root, "heads_choices");
    json_t *ratios = json_object_get(root, "mlp_ratio_choices");
    json_t *tasks = json_object_get(root, "tasks");
    if (!json_is_array(heads) || json_array_size(heads) < 1 ||
        json_array_size(heads) > UFO_MAX_CHOICES) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: \"heads_choices\" must be a list of 1..%d integers",
                      where, UFO_MAX_CHOICES);
        goto done;
    }
    if (!json_is_array(ratios) || json_array_size(ratios) < 1 ||
        json_array_size(ratios) > UFO_MAX_CHOICES) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: \"mlp_ratio_choices\" must be a list of 1..%d "
                      "numbers", where, UFO_MAX_CHOICES);
        goto done;
    }
    if (!json_is_array(tasks) || json_array_size(tasks) < 1 ||
        json_array_size(tasks) > UFO_MAX_TASKS) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: \"tasks\" must be a list of 1..%d tasks", where,
                      UFO_MAX_TASKS);
        goto done;
    }
    s->n_heads_choices = (int)json_array_size(heads);
    for (int i = 0; i < s->n_heads_choices; i++) {
        json_t *v = json_array_get(heads, i);
        json_int_t h = json_integer_value(v);
        if (!json_is_integer(v) || h < 1 || h > 65536) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s: heads_choices[%d] is not an integer in 1..65536",
                          where, i);
            goto done;
        }
        s->heads_choices[i] = (int)h;
    }
    s->n_mlp_choices = (int)json_array_size(ratios);
    for (int i = 0; i < s->n_mlp_choices; i++) {
        if (!json_get_number(json_array_get(ratios, i), &s->mlp_ratio_choices[i])) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s: mlp_ratio_choices[%d] is not a number", where,
                          i);
            goto done;
        }
    }
    s->n_tasks = (int)json_array_size(tasks);
    for (int t = 0; t < s->n_tasks; t++)
        if ((st = space_task_from_json(json_array_get(tasks, t), t, where, &s->tasks[t])) !=
            UFO_OK)
            goto done;
    st = ufo_space_validate(s);
    if (st != UFO_OK)
        st = json_prefix_error(where);
done:
    json_decref(root);
    return st;
}

ufo_status ufo_arch_to_cvpr(const struct ufo_space *s, const struct ufo_arch *a, char *out,
                            int out_size) {
    ufo_status st = ufo_arch_validate(s, a);
    if (st != UFO_OK)
        return st;
    if (out_size < 2 + 3 * s->depth)
        return ufo_fail(UFO_ERR_INVALID, "arch string: buffer of %d bytes, need %d", out_size,
                        2 + 3 * s->depth);
    if (s->n_heads_choices > 9 || s->n_mlp_choices > 9 || s->depth > 26)
        return ufo_fail(UFO_ERR_UNSUPPORTED, "arch string: the space has more than 9 choices or "
                        "26 blocks, which one digit or letter cannot name");
    int depth = ufo_arch_depth(a);
    for (int b = 0; b < s->depth; b++)
        if (a->block[b].kept != (b < depth))
            return ufo_fail(UFO_ERR_UNSUPPORTED, "arch string: block %d is dropped but a later "
                            "block is kept; the string can only say a depth", b);
    out[0] = (char)('a' + depth - 1);
    for (int b = 0; b < s->depth; b++) {
        char *t = out + 1 + 3 * b;
        if (b >= depth) {
            memcpy(t, "000", 3);
            continue;
        }
        /* digit 1 = the largest choice, counting down */
        int hi = 0, mi = 0;
        for (int i = 0; i < s->n_heads_choices; i++)
            if (s->heads_choices[i] == a->block[b].heads)
                hi = s->n_heads_choices - i;
        for (int i = 0; i < s->n_mlp_choices; i++)
            if (fabs(s->mlp_ratio_choices[i] - a->block[b].mlp_ratio) < 1e-9)
                mi = s->n_mlp_choices - i;
        t[0] = (char)('0' + hi);
        t[1] = (char)('0' + mi);
        t[2] = '1';
    }
    out[1 + 3 * s->depth] = '\0';
    return UFO_OK;
}

ufo_status ufo_arch_from_cvpr(const struct ufo_space *s, const char *text, enum ufo_path path,
                              struct ufo_arch *a) {
    size_t want = 1 + 3 * (size_t)s->depth;
    size_t n = strlen(text);
    if (n != want)
        return ufo_fail(UFO_ERR_FORMAT, "arch string \"%.64s\": %zu characters, need %zu for %d "
                        "blocks", text, n, want, s->depth);
    int depth = text[0] - 'a' + 1;
    if (depth < s->min_depth || depth > s->depth)
        return ufo_fail(UFO_ERR_FORMAT, "arch string \"%s\": depth letter '%c' means %d blocks, "
                        "the space allows %d..%d", text, text[0], depth, s->min_depth,
                        s->depth);
    memset(a, 0, sizeof *a);
    a->n_blocks = s->depth;
    a->n_tasks = s->n_tasks;
    for (int b = 0; b < s->depth; b++) {
        const char *t = text + 1 + 3 * b;
        struct ufo_block_arch *blk = &a->block[b];
        for (int i = 0; i < s->n_tasks; i++)
            blk->path[i] = path;
        if (b >= depth) {
            if (memcmp(t, "000", 3) != 0)
                return ufo_fail(UFO_ERR_FORMAT, "arch string \"%s\": block %d is past the depth "
                                "%d but reads \"%.3s\", not \"000\"", text, b, depth, t);
            blk->heads = s->heads_choices[s->n_heads_choices - 1];
            blk->mlp_ratio = s->mlp_ratio_max;
            blk->kept = 0;
            continue;
        }
        int hd = t[0] - '0', md = t[1] - '0';
        if (hd < 1 || hd > s->n_heads_choices || md < 1 || md > s->n_mlp_choices ||
            t[2] != '1')
            return ufo_fail(UFO_ERR_FORMAT, "arch string \"%s\": block %d reads \"%.3s\"; heads "
                            "digit 1..%d, ratio digit 1..%d, width digit 1", text, b, t,
                            s->n_heads_choices, s->n_mlp_choices);
        blk->heads = s->heads_choices[s->n_heads_choices - hd];
        blk->mlp_ratio = s->mlp_ratio_choices[s->n_mlp_choices - md];
        blk->kept = 1;
    }
    return ufo_arch_validate(s, a);
}
