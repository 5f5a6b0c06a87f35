/* train.jsonl lines read back with a JSON parser, the progress line, durations, the summary. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "train/runlog.h"

static int failures;

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                                \
            fputc('\n', stderr);                                         \
        }                                                                \
    } while (0)

static const char *const tasks[] = {"face", "person"};

static double num(json_t *o, const char *path1, const char *path2) {
    json_t *v = json_object_get(o, path1);
    if (path2) v = json_object_get(v, path2);
    return json_is_number(v) ? json_number_value(v) : -12345;
}

static void test_jsonl(const char *dir) {
    struct runlog *log;
    CHECK(runlog_open(&log, dir, tasks, 2) == UFO_OK, "open: %s", ufo_last_error());
    if (!log) return;

    /* a float32 loss must come back exactly */
    float lf = 2.71828183f;
    double loss[2] = {lf, NAN}, epoch[2] = {0.5, 1.25};
    struct runlog_step s = {.step = 19, .lr = 0.001, .images_per_s = 123.5, .loss = loss,
                            .epoch = epoch, .arch = "d12 h12x12 m4x12", .skipped_steps = 1};
    CHECK(runlog_step(log, &s) == UFO_OK, "step: %s", ufo_last_error());

    /* each line is on disk as soon as it is written */
    char path[512];
    snprintf(path, sizeof path, "%s/train.jsonl", dir);
    FILE *f = fopen(path, "r");
    char line[4096];
    CHECK(f && fgets(line, sizeof line, f), "first line not flushed");
    if (f) fclose(f);

    const char *names[] = {"rank1", "map"};
    double values[] = {0.875, 0.5};
    CHECK(runlog_eval(log, 19, "person", "market1501", names, values, 2) == UFO_OK, "eval");
    CHECK(runlog_event(log, 20, "stop", "SIGINT: resume with --resume") == UFO_OK, "event");
    runlog_close(log);

    /* reopening appends */
    CHECK(runlog_open(&log, dir, tasks, 2) == UFO_OK, "reopen: %s", ufo_last_error());
    s.step = 39;
    s.arch = NULL;
    s.epoch = NULL;
    loss[1] = INFINITY;
    CHECK(runlog_step(log, &s) == UFO_OK, "step 39");
    runlog_close(log);

    f = fopen(path, "r");
    int n = 0;
    while (f && fgets(line, sizeof line, f)) {
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        CHECK(o != NULL, "line %d is not JSON: %s (%s)", n + 1, err.text, line);
        CHECK(strchr(line, '\n') == line + strlen(line) - 1, "line %d: one line per object", n);
        if (!o) {
            n++;
            continue;
        }
        if (n == 0) {
            CHECK(num(o, "step", NULL) == 19 && num(o, "lr", NULL) == 0.001 &&
                      num(o, "images_per_s", NULL) == 123.5, "line 1 numbers: %s", line);
            CHECK((float)num(o, "loss", "face") == lf, "face loss %.9g", num(o, "loss", "face"));
            CHECK(json_is_null(json_object_get(json_object_get(o, "loss"), "person")),
                  "NaN loss must be null: %s", line);
            CHECK(num(o, "epoch", "person") == 1.25, "epoch: %s", line);
            CHECK(strcmp(json_string_value(json_object_get(o, "arch")), "d12 h12x12 m4x12") == 0,
                  "arch: %s", line);
            CHECK(num(o, "skipped_steps", NULL) == 1, "skipped_steps: %s", line);
        } else if (n == 1) {
            json_t *e = json_object_get(o, "eval");
            CHECK(num(o, "step", NULL) == 19 &&
                      strcmp(json_string_value(json_object_get(e, "task")), "person") == 0 &&
                      strcmp(json_string_value(json_object_get(e, "set")), "market1501") == 0 &&
                      num(e, "metrics", "rank1") == 0.875 && num(e, "metrics", "map") == 0.5,
                  "eval line: %s", line);
        } else if (n == 2) {
            CHECK(strcmp(json_string_value(json_object_get(o, "event")), "stop") == 0 &&
                      num(o, "step", NULL) == 20, "event line: %s", line);
        } else if (n == 3) {
            CHECK(num(o, "step", NULL) == 39 && !json_object_get(o, "arch") &&
                      !json_object_get(o, "epoch") &&
                      json_is_null(json_object_get(json_object_get(o, "loss"), "person")),
                  "appended line: %s", line);
        }
        json_decref(o);
        n++;
    }
    if (f) fclose(f);
    CHECK(n == 4, "%d lines, want 4", n);

    /* a run folder that does not exist */
    CHECK(runlog_open(&log, "/nonexistent/run", tasks, 2) == UFO_ERR_IO &&
              strstr(ufo_last_error(), "/nonexistent/run/train.jsonl"), "missing folder: %s",
          ufo_last_error());
}

static void test_progress(void) {
    char buf[512];
    static const struct { double s; const char *want; } d[] = {
        {0, "0s"}, {44.6, "45s"}, {59.4, "59s"}, {60, "1m00s"}, {725, "12m05s"},
        {3600, "1h00m"}, {11520, "3h12m"}, {86400 * 2 + 3 * 3600 + 5, "2d03h"}, {-1, "?"},
        {NAN, "?"},
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        runlog_format_duration(buf, sizeof buf, d[i].s);
        CHECK(strcmp(buf, d[i].want) == 0, "duration %g: %s, want %s", d[i].s, buf, d[i].want);
    }

    /* 100 steps in 50 s: 2 steps/s; 1000 - 200 left → 400 s */
    double loss[2] = {2.3141, 4.5}, epoch[2] = {0.52, 1.3};
    struct runlog_progress p = {.step = 199, .iterations = 1000, .n_tasks = 2,
                                .task_names = tasks, .loss = loss, .epoch = epoch,
                                .lr = 0.0123, .images_per_s = 412.25, .elapsed_s = 50,
                                .steps_done = 100};
    runlog_format_progress(buf, sizeof buf, &p);
    const char *want = "step 200/1000 (20.0%) | face 2.314 ep 0.52 | person 4.5 ep 1.30 | "
                       "lr 0.0123 | 412.2 img/s | ETA 6m40s";
    CHECK(strcmp(buf, want) == 0, "progress:\n  got  %s\n  want %s", buf, want);

    /* a short buffer is cut, not overrun, and the full length comes back */
    char small[16];
    int len = runlog_format_progress(small, sizeof small, &p);
    CHECK(len == (int)strlen(want) && strlen(small) == 15 && strncmp(small, want, 15) == 0,
          "short buffer: %d '%s'", len, small);

    /* the terminal form rewrites in place */
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    runlog_print_progress(f, true, &p);
    runlog_progress_done(f, true);
    fclose(f);
    char tty[600];
    snprintf(tty, sizeof tty, "\r%s\033[K\n", want);
    CHECK(out && strcmp(out, tty) == 0, "tty form: %s", out);
    free(out);
}

static void test_summary(void) {
    unsigned long long images[2] = {1000, 2000}, skipped[2] = {0, 7};
    const char *reasons[2] = {"", "5 unreadable, 2 missing"};
    double loss[2] = {1.5, 0.25};
    struct runlog_summary s = {.steps = 500, .steps_this_run = 250, .seconds = 125,
                               .n_tasks = 2, .task_names = tasks, .images = images,
                               .skipped = skipped, .skip_reasons = reasons, .skipped_steps = 2,
                               .final_loss = loss, .run_dir = "runs/x",
                               .last_checkpoint = "runs/x/ckpt-00000500.safetensors",
                               .stopped_by = "SIGINT"};
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    runlog_print_summary(f, &s);
    fclose(f);
    const char *want = "training stopped by SIGINT at step 500\n"
                       "  this run: 250 steps in 2m05s (2.00 steps/s)\n"
                       "  face: 1000 images, final loss 1.5\n"
                       "  person: 2000 images, 7 skipped (5 unreadable, 2 missing), "
                       "final loss 0.25\n"
                       "  2 step(s) skipped for a non-finite loss or gradient\n"
                       "  last checkpoint: runs/x/ckpt-00000500.safetensors\n"
                       "  run folder: runs/x (train.jsonl, config.ini)\n";
    CHECK(out && strcmp(out, want) == 0, "summary:\n%s\nwant:\n%s", out, want);
    free(out);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/test_runlog.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    test_jsonl(dir);
    test_progress();
    test_summary();
    char path[512];
    snprintf(path, sizeof path, "%s/train.jsonl", dir);
    unlink(path);
    rmdir(dir);
    return failures ? 1 : 0;
}
