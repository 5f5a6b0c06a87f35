/* Search space and architectures: validation, sampling, JSON and the CVPR 2022 track 2 string
 * (every string of the challenge's public training file must parse and round-trip). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/space.h"

static int failures;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            if (failures++ < 20) {                                                           \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                         \
                fprintf(stderr, __VA_ARGS__);                                                \
                fprintf(stderr, " [%s]\n", ufo_last_error());                                \
            }                                                                                \
        }                                                                                    \
    } while (0)

static int arch_equal(const struct ufo_arch *a, const struct ufo_arch *b) {
    if (a->n_blocks != b->n_blocks || a->n_tasks != b->n_tasks)
        return 0;
    for (int i = 0; i < a->n_blocks; i++) {
        const struct ufo_block_arch *x = &a->block[i], *y = &b->block[i];
        if (x->heads != y->heads || x->mlp_ratio != y->mlp_ratio || x->kept != y->kept)
            return 0;
        for (int t = 0; t < a->n_tasks; t++)
            if (x->path[t] != y->path[t])
                return 0;
    }
    return 1;
}

/* A three-task space for the JSON tests. */
static void three_tasks(struct ufo_space *s) {
    ufo_space_default(s);
    s->n_tasks = 3;
    const char *names[] = {"face", "person", "product"};
    for (int t = 0; t < 3; t++) {
        snprintf(s->tasks[t].name, sizeof s->tasks[t].name, "%s", names[t]);
        s->tasks[t].classes = 10 + t;
        s->tasks[t].triplet = t > 0;
        s->tasks[t].cosface_scale = 30;
        s->tasks[t].cosface_margin = 0.25;
        s->tasks[t].loss_weight = 1.0 + t;
    }
}

static void test_validation(void) {
    struct ufo_space s, bad;
    ufo_space_default(&s);
    CHECK(ufo_space_validate(&s) == UFO_OK, "default space invalid");
    CHECK(ufo_space_tokens(&s) == 257, "tokens %d", ufo_space_tokens(&s));
    CHECK(ufo_space_hidden(&s, 3.5) == 2688, "hidden %d", ufo_space_hidden(&s, 3.5));

    /* each broken field is caught and named */
    bad = s; bad.image_size = 250;
    CHECK(ufo_space_validate(&bad) == UFO_ERR_CONFIG && strstr(ufo_last_error(), "image_size"),
          "image_size 250");
    bad = s; bad.heads_choices[1] = 13;
    CHECK(ufo_space_validate(&bad) == UFO_ERR_CONFIG && strstr(ufo_last_error(), "heads"),
          "heads 13");
    bad = s; bad.mlp_ratio_choices[0] = 3.0001;
    CHECK(ufo_space_validate(&bad) == UFO_ERR_CONFIG, "ratio not whole");
    bad = s; bad.min_depth = 13;
    CHECK(ufo_space_validate(&bad) == UFO_ERR_CONFIG && strstr(ufo_last_error(), "min_depth"),
          "min_depth 13");
    bad = s; strcpy(bad.tasks[0].name, "a.b");
    CHECK(ufo_space_validate(&bad) == UFO_ERR_CONFIG && strstr(ufo_last_error(), "a.b"),
          "task name with a dot");
    three_tasks(&bad);
    strcpy(bad.tasks[2].name, "face");
    CHECK(ufo_space_validate(&bad) == UFO_ERR_CONFIG && strstr(ufo_last_error(), "twice"),
          "duplicate task");

    /* architectures */
    struct ufo_arch a;
    ufo_arch_largest(&s, &a);
    CHECK(ufo_arch_validate(&s, &a) == UFO_OK && ufo_arch_depth(&a) == 12, "largest");
    ufo_arch_smallest(&s, &a);
    CHECK(ufo_arch_validate(&s, &a) == UFO_OK && ufo_arch_depth(&a) == 10 &&
          a.block[0].heads == 10 && a.block[0].mlp_ratio == 3.0, "smallest");
    a.block[3].kept = 0;
    CHECK(ufo_arch_validate(&s, &a) == UFO_ERR_INVALID && strstr(ufo_last_error(), "block 3"),
          "dropped block 3");
    ufo_arch_smallest(&s, &a);
    a.block[5].heads = 9;
    CHECK(ufo_arch_validate(&s, &a) == UFO_ERR_INVALID && strstr(ufo_last_error(), "heads 9"),
          "heads 9");
}

static void test_sampling(void) {
    struct ufo_space s;
    three_tasks(&s);
    struct ufo_arch a, b;
    int heads[13] = {0}, depths[13] = {0}, paths[3] = {0};
    const int n = 3000;
    for (int step = 0; step < n; step++) {
        ufo_arch_sample(&s, 42, (uint64_t)step, &a);
        CHECK(ufo_arch_validate(&s, &a) == UFO_OK, "sample %d invalid", step);
        ufo_arch_sample(&s, 42, (uint64_t)step, &b);
        CHECK(arch_equal(&a, &b), "sample %d not reproducible", step);
        heads[a.block[4].heads]++;
        int d = ufo_arch_depth(&a);
        depths[d]++;
        for (int i = 0; i < s.depth; i++)
            CHECK(a.block[i].kept == (i < d), "sample %d: kept blocks are not a prefix", step);
        paths[a.block[7].path[2]]++;
    }
    /* uniform within 5 standard deviations */
    for (int h = 10; h <= 12; h++)
        CHECK(abs(heads[h] - n / 3) < 5 * 26, "heads %d drawn %d times of %d", h, heads[h], n);
    for (int d = 10; d <= 12; d++)
        CHECK(abs(depths[d] - n / 3) < 5 * 26, "depth %d drawn %d times of %d", d, depths[d], n);
    for (int p = 0; p < 3; p++)
        CHECK(abs(paths[p] - n / 3) < 5 * 26, "path %d drawn %d times", p, paths[p]);
    ufo_arch_sample(&s, 43, 0, &b);
    ufo_arch_sample(&s, 42, 0, &a);
    CHECK(!arch_equal(&a, &b), "seeds 42 and 43 gave the same arch");

    /* Philox: known answer of Random123's philox4x32-10 for zero key and counter */
    uint32_t r[4];
    ufo_philox(0, 0, 0, 0, r);
    CHECK(r[0] == 0x6627e8d5u && r[1] == 0xe169c58du && r[2] == 0xbc57ac4cu &&
          r[3] == 0x9b00dbd8u, "philox(0) = %08x %08x %08x %08x", r[0], r[1], r[2], r[3]);
}

static void test_json(void) {
    struct ufo_space s, s2;
    three_tasks(&s);
    char *text;
    CHECK(ufo_space_to_json(&s, &text) == UFO_OK, "space to json");
    CHECK(ufo_space_from_json(text, "space", &s2) == UFO_OK, "space from json");
    CHECK(memcmp(&s, &s2, sizeof s) == 0 || (s2.embed_dim == s.embed_dim &&
          s2.n_tasks == 3 && strcmp(s2.tasks[2].name, "product") == 0 &&
          s2.tasks[1].triplet == 1 && s2.tasks[2].loss_weight == 3.0 &&
          s2.mlp_ratio_choices[1] == 3.5), "space round trip");
    free(text);

    for (int step = 0; step < 50; step++) {
        struct ufo_arch a, b;
        ufo_arch_sample(&s, 7, (uint64_t)step, &a);
        CHECK(ufo_arch_to_json(&s, &a, &text) == UFO_OK, "arch to json");
        CHECK(ufo_arch_from_json(&s, text, "arch", &b) == UFO_OK, "arch from json: %s", text);
        CHECK(arch_equal(&a, &b), "arch %d round trip", step);
        free(text);
    }

    /* bad documents: each fails with a message, never crashes */
    static const char *const bad[] = {
        "", "{", "[]", "null", "{\"blocks\": 3}", "{\"blocks\": []}", "{\"blocks\": [1]}",
        "{\"blokcs\": []}", "\x01\xff garbage",
    };
    struct ufo_arch a;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ufo_clear_error();
        CHECK(ufo_arch_from_json(&s, bad[i], "bad.json", &a) == UFO_ERR_FORMAT &&
              strstr(ufo_last_error(), "bad.json"), "bad arch %zu accepted", i);
        CHECK(ufo_space_from_json(bad[i], "bad.json", &s2) == UFO_ERR_FORMAT,
              "bad space %zu accepted", i);
    }

    /* every truncation of a valid document fails cleanly */
    ufo_arch_largest(&s, &a);
    ufo_arch_to_json(&s, &a, &text);
    size_t n = strlen(text);
    for (size_t cut = 0; cut + 1 < n; cut += 7) {
        char *part = strndup(text, cut);
        CHECK(ufo_arch_from_json(&s, part, "cut", &a) != UFO_OK, "truncated at %zu accepted",
              cut);
        free(part);
    }

    /* a block with an unknown task, a bad path, heads outside the space */
    char *edit = strdup(text);
    char *p = strstr(edit, "\"person\"");
    memcpy(p, "\"persen\"", 8);
    CHECK(ufo_arch_from_json(&s, edit, "x", &a) == UFO_ERR_FORMAT &&
          strstr(ufo_last_error(), "persen"), "unknown task accepted");
    free(edit);
    edit = strdup(text);
    p = strstr(edit, "\"both\"");
    memcpy(p, "\"bath\"", 6);
    CHECK(ufo_arch_from_json(&s, edit, "x", &a) == UFO_ERR_FORMAT &&
          strstr(ufo_last_error(), "bath"), "bad path accepted");
    free(edit);
    edit = strdup(text);
    p = strstr(edit, "\"heads\": 12");
    memcpy(p, "\"heads\": 13", 11);
    CHECK(ufo_arch_from_json(&s, edit, "x", &a) == UFO_ERR_FORMAT &&
          strstr(ufo_last_error(), "heads 13"), "heads 13 accepted");
    free(edit);
    free(text);
}

static void test_cvpr(void) {
    struct ufo_space s;
    ufo_space_default(&s);
    struct ufo_arch a;
    char out[64];

    /* mapping: digit 1 = largest choice, letter = depth */
    CHECK(ufo_arch_from_cvpr(&s, "j111121131211221231311321331000000", UFO_PATH_SHARED, &a) ==
          UFO_ERR_FORMAT, "short string accepted");
    CHECK(ufo_arch_from_cvpr(&s, "j111121131211221231311321331111000000", UFO_PATH_BOTH, &a) ==
          UFO_OK, "parse");
    CHECK(ufo_arch_depth(&a) == 10 && a.block[0].heads == 12 && a.block[0].mlp_ratio == 4.0 &&
          a.block[1].heads == 12 && a.block[1].mlp_ratio == 3.5 && a.block[2].mlp_ratio == 3.0 &&
          a.block[3].heads == 11 && a.block[6].heads == 10 && !a.block[10].kept &&
          a.block[4].path[0] == UFO_PATH_BOTH, "digit mapping");
    CHECK(ufo_arch_from_cvpr(&s, "i111111111111111111111111111000000000", UFO_PATH_BOTH, &a) ==
          UFO_ERR_FORMAT, "depth 9 accepted");
    CHECK(ufo_arch_from_cvpr(&s, "j111111111111111111111111111111111000", UFO_PATH_BOTH, &a) ==
          UFO_ERR_FORMAT, "block past depth not 000 accepted");
    CHECK(ufo_arch_from_cvpr(&s, "l111111111111111111111111111111111112", UFO_PATH_BOTH, &a) ==
          UFO_ERR_FORMAT, "width digit 2 accepted");
    CHECK(ufo_arch_from_cvpr(&s, "l111111111111111111111111111111111141", UFO_PATH_BOTH, &a) ==
          UFO_ERR_FORMAT, "ratio digit 4 accepted");
    ufo_arch_largest(&s, &a);
    a.block[10].kept = 0;
    CHECK(ufo_arch_to_cvpr(&s, &a, out, sizeof out) == UFO_ERR_UNSUPPORTED,
          "non-prefix depth written");

    /* the challenge's 500 public strings */
    char path[4096];
    const char *dir = getenv("UFO_TEST_DATA");
    snprintf(path, sizeof path, "%s/data/cvpr2022-track2-archs.txt", dir ? dir : "tests");
    FILE *f = fopen(path, "r");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    char line[128];
    int n = 0, depths[13] = {0};
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        n++;
        ufo_status st = ufo_arch_from_cvpr(&s, line, UFO_PATH_SHARED, &a);
        CHECK(st == UFO_OK, "line %d \"%s\" does not parse", n, line);
        if (st != UFO_OK)
            continue;
        depths[ufo_arch_depth(&a)]++;
        CHECK(ufo_arch_to_cvpr(&s, &a, out, sizeof out) == UFO_OK && strcmp(out, line) == 0,
              "line %d: \"%s\" wrote back as \"%s\"", n, line, out);
    }
    fclose(f);
    CHECK(n == 500, "%d strings, expected 500", n);
    CHECK(depths[10] == 176 && depths[11] == 160 && depths[12] == 164,
          "depths 10/11/12: %d %d %d", depths[10], depths[11], depths[12]);
}

/* Files: save and load back; missing, empty, garbage and truncated files fail by name. */
static void test_files(void) {
    struct ufo_space s;
    three_tasks(&s);
    struct ufo_arch a, b;
    char path[] = "/tmp/ufo-test-arch-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    if (fd < 0)
        return;
    close(fd);
    ufo_arch_sample(&s, 3, 9, &a);
    CHECK(ufo_arch_save(&s, &a, path) == UFO_OK, "save");
    CHECK(ufo_arch_load(&s, path, &b) == UFO_OK && arch_equal(&a, &b), "load back");
    FILE *f = fopen(path, "rb");
    char text[65536];
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    if (f)
        fclose(f);
    for (size_t cut = 0; cut < n; cut += 5) {
        f = fopen(path, "wb");
        fwrite(text, 1, cut, f);
        fclose(f);
        CHECK(ufo_arch_load(&s, path, &b) == UFO_ERR_FORMAT && strstr(ufo_last_error(), path),
              "file cut at %zu loaded", cut);
    }
    f = fopen(path, "wb");
    fwrite("\x89PNG\0\0garbage", 1, 14, f);
    fclose(f);
    CHECK(ufo_arch_load(&s, path, &b) == UFO_ERR_FORMAT, "binary garbage loaded");
    unlink(path);
    CHECK(ufo_arch_load(&s, path, &b) == UFO_ERR_IO && strstr(ufo_last_error(), path),
          "missing file");

    /* truncated space documents */
    char *json;
    ufo_space_to_json(&s, &json);
    struct ufo_space s2;
    for (size_t cut = 0; cut + 1 < strlen(json); cut += 3) {
        char *part = strndup(json, cut);
        CHECK(ufo_space_from_json(part, "cut", &s2) == UFO_ERR_FORMAT, "space cut at %zu", cut);
        free(part);
    }
    free(json);
}

int main(void) {
    test_validation();
    test_files();
    test_sampling();
    test_json();
    test_cvpr();
    if (failures) {
        fprintf(stderr, "test_space: %d failures\n", failures);
        return 1;
    }
    printf("test_space: ok\n");
    return 0;
}
