/* Checkpoint names, the newest for --resume, and rotation. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/ckpt_files.h"

static int failures;
static char dir[256];

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                                \
            fputc('\n', stderr);                                         \
        }                                                                \
    } while (0)

static void touch(const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
}

static bool exists(const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_ckpt.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;

    /* names */
    char name[64];
    train_ckpt_name(name, sizeof name, 1000);
    CHECK(strcmp(name, "ckpt-00001000.safetensors") == 0, "name %s", name);
    train_ckpt_name(name, sizeof name, 123456789);
    CHECK(strcmp(name, "ckpt-123456789.safetensors") == 0, "name %s", name);
    static const struct { const char *name; bool ok; long step; } names[] = {
        {"ckpt-00001000.safetensors", true, 1000}, {"ckpt-00000000.safetensors", true, 0},
        {"ckpt-123456789.safetensors", true, 123456789},
        {"ckpt-0001000.safetensors", false, 0},      /* 7 digits */
        {"ckpt-000001000.safetensors", false, 0},    /* not canonical */
        {"ckpt-0000100x.safetensors", false, 0}, {"ckpt-00001000.safetensor", false, 0},
        {"ckpt-00001000.safetensors.tmp.12.0", false, 0}, {"model.safetensors", false, 0},
        {"ckpt--0000100.safetensors", false, 0}, {"", false, 0},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        long step = -7;
        bool ok = train_ckpt_parse_name(names[i].name, &step);
        CHECK(ok == names[i].ok && (!ok || step == names[i].step), "parse %s: %d %ld",
              names[i].name, ok, step);
    }
    char *p = train_ckpt_path("/runs/a", 20);
    CHECK(p && strcmp(p, "/runs/a/ckpt-00000020.safetensors") == 0, "path %s", p);
    free(p);

    /* an empty folder: no checkpoint; a missing one: an error naming it */
    long step;
    char *latest;
    CHECK(train_ckpt_latest(dir, &step, &latest) == UFO_OK && step == -1 && !latest,
          "empty folder: %ld", step);
    CHECK(train_ckpt_latest("/nonexistent/run", &step, &latest) == UFO_ERR_IO &&
              strstr(ufo_last_error(), "/nonexistent/run"), "missing: %s", ufo_last_error());

    /* the newest by step (not by name order or time), ignoring temporaries and others */
    touch("ckpt-00000900.safetensors");
    touch("ckpt-00010000.safetensors");
    touch("ckpt-00002000.safetensors");
    touch("ckpt-00003000.safetensors");
    touch("ckpt-00020000.safetensors.tmp.4242.0");
    touch("train.jsonl");
    touch("config.ini");
    CHECK(train_ckpt_latest(dir, &step, &latest) == UFO_OK && step == 10000 && latest &&
              strstr(latest, "/ckpt-00010000.safetensors"), "latest %ld %s", step,
          latest ? latest : "(none)");
    free(latest);

    /* a folder with a checkpoint's name is passed over */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/ckpt-00050000.safetensors", dir);
    mkdir(sub, 0755);
    CHECK(train_ckpt_latest(dir, &step, &latest) == UFO_OK && step == 10000, "dir skipped: %ld",
          step);
    free(latest);
    rmdir(sub);

    long *steps;
    size_t n;
    CHECK(train_ckpt_list(dir, &steps, &n) == UFO_OK && n == 4 && steps[0] == 900 &&
              steps[1] == 2000 && steps[2] == 3000 && steps[3] == 10000, "list (%zu)", n);
    free(steps);

    /* keep 2: 900 and 2000 go, and the stray temporary */
    size_t removed = 0;
    CHECK(train_ckpt_rotate(dir, 2, &removed) == UFO_OK, "rotate: %s", ufo_last_error());
    CHECK(removed == 3, "removed %zu, want 3", removed);
    CHECK(!exists("ckpt-00000900.safetensors") && !exists("ckpt-00002000.safetensors") &&
              exists("ckpt-00003000.safetensors") && exists("ckpt-00010000.safetensors") &&
              !exists("ckpt-00020000.safetensors.tmp.4242.0") && exists("train.jsonl") &&
              exists("config.ini"), "files after rotation");

    /* keep 0 keeps everything; keep more than there are removes nothing */
    CHECK(train_ckpt_rotate(dir, 0, &removed) == UFO_OK && removed == 0, "keep 0: %zu", removed);
    CHECK(train_ckpt_rotate(dir, 10, &removed) == UFO_OK && removed == 0, "keep 10: %zu",
          removed);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return failures ? 1 : 0;
}
