/* ufo-train's loop end to end on tiny synthetic data (two IDX datasets written here): every
 * task's loss falls; a run stopped and resumed reproduces the uninterrupted run's losses bit
 * for bit; checkpoints and the run folder hold what they should. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "check.h"
#include "train/ckpt_files.h"
#include "train/train.h"

#define SIDE 16
#define PER_CLASS 24
#define CLASSES 4

static void put_be32(FILE *f, uint32_t v) {
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, v};
    fwrite(b, 1, 4, f);
}

/* An IDX pair whose class c shows a bright bar at row band c (plus noise), easy to learn. */
static void write_idx(const char *dir, unsigned seed) {
    char path[512];
    size_t n = (size_t)PER_CLASS * CLASSES;
    snprintf(path, sizeof path, "%s/train-images-idx3-ubyte", dir);
    FILE *f = fopen(path, "wb");
    put_be32(f, 0x00000803);
    put_be32(f, (uint32_t)n);
    put_be32(f, SIDE);
    put_be32(f, SIDE);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % CLASSES);
        for (int y = 0; y < SIDE; y++)
            for (int x = 0; x < SIDE; x++) {
                seed = seed * 1103515245u + 12345u;
                int v = (int)((seed >> 16) % 60);
                if (y / (SIDE / CLASSES) == c) v += 180;
                fputc(v > 255 ? 255 : v, f);
            }
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/train-labels-idx1-ubyte", dir);
    f = fopen(path, "wb");
    put_be32(f, 0x00000801);
    put_be32(f, (uint32_t)n);
    for (size_t i = 0; i < n; i++) fputc((int)(i % CLASSES), f);
    fclose(f);
}

static struct train_config *load(const char *ini, const char *run_dir, long iterations) {
    char a[600], b[64];
    snprintf(a, sizeof a, "train.run_dir=%s", run_dir);
    snprintf(b, sizeof b, "train.iterations=%ld", iterations);
    const char *over[] = {a, b};
    struct train_config *tc;
    REQUIRE_OK(train_config_load(&tc, ini, over, 2));
    return tc;
}

/* The first size - 1 bytes of a file as a string ("" when it cannot be read). */
static void read_text(const char *path, char *text, size_t size) {
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(text, 1, size - 1, f) : 0;
    text[n] = '\0';
    if (f) fclose(f);
}

/* Losses per logged step from train.jsonl: loss[step][task] as the exact text written. */
static int read_losses(const char *run_dir, char text[][2][32], int max_steps) {
    char path[600];
    snprintf(path, sizeof path, "%s/train.jsonl", run_dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[4096];
    int count = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        json_t *loss = o ? json_object_get(o, "loss") : NULL;
        json_t *step = o ? json_object_get(o, "step") : NULL;
        if (loss && step) {
            int s = (int)json_integer_value(step) - 1;  /* lines count the steps done */
            if (s >= 0 && s < max_steps) {
                snprintf(text[s][0], 32, "%.9g", json_real_value(json_object_get(loss, "bars")));
                snprintf(text[s][1], 32, "%.9g", json_real_value(json_object_get(loss, "shapes")));
                count++;
            }
        }
        json_decref(o);
    }
    fclose(f);
    return count;
}

int main(void) {
    struct ufo_device_caps *list;
    size_t count = 0;
    if (ufo_device_list(&list, &count) != UFO_OK || count == 0) return TEST_SKIP;
    free(list);

    char dir[] = "/tmp/ufo-test-train-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    char bars[600], shapes[600], ini[600], run_a[600], run_b[600];
    snprintf(bars, sizeof bars, "%s/bars", dir);
    snprintf(shapes, sizeof shapes, "%s/shapes", dir);
    mkdir(bars, 0777);
    mkdir(shapes, 0777);
    write_idx(bars, 1);
    write_idx(shapes, 2);
    snprintf(ini, sizeof ini, "%s/run.ini", dir);
    FILE *f = fopen(ini, "w");
    fprintf(f,
            "[model]\nembed_dim = 32\ndepth = 3\nheads = 2\nhead_dim = 16\npatch_size = 8\n"
            "image_size = 16\nmlp_ratio_max = 2\nheads_choices = 1, 2\n"
            "mlp_ratio_choices = 1, 2\nmin_depth = 2\ndrop_path_rate = 0.1\n"
            "[task.bars]\nkind = classification\ndatasets = idx:%s\nbatch_size = 8\n"
            "cosface_scale = 16\ncosface_margin = 0.1\nautoaugment = false\n"
            "random_erasing = false\n"
            "[task.shapes]\nkind = retrieval\ndatasets = idx:%s\nbatch_size = 8\n"
            "instances_per_label = 4\ncosface_scale = 16\ncosface_margin = 0.1\ntriplet = true\n"
            "autoaugment = false\n"
            "[train]\nbatch_size = 16\nbase_lr = 0.1\nwarmup_fraction = 0.1\nlog_interval = 1\n"
            "checkpoint_interval = 4\nkeep_checkpoints = 2\nworkers = 2\nseed = 7\n",
            bars, shapes);
    fclose(f);
    setenv("UFO_LOG", "warn", 1);

    /* run A: 40 steps straight */
    enum { STEPS = 40 };
    snprintf(run_a, sizeof run_a, "%s/a", dir);
    struct train_config *tc = load(ini, run_a, STEPS);
    struct train_request req = {0};
    REQUIRE_OK(train_run(tc, &req));
    train_config_free(tc);
    static char la[STEPS][2][32], lb[STEPS][2][32];
    EXPECT(read_losses(run_a, la, STEPS) == STEPS, "run A logged every step");

    /* the losses fall: the mean of the last 5 steps well below the first 5 */
    for (int t = 0; t < 2; t++) {
        double first = 0, last = 0;
        for (int s = 0; s < 5; s++) first += atof(la[s][t]) / 5;
        for (int s = STEPS - 5; s < STEPS; s++) last += atof(la[s][t]) / 5;
        printf("task %d: loss %.3f over the first 5 steps, %.3f over the last 5\n", t, first,
               last);
        EXPECT(last < 0.7 * first, "task %d's loss falls clearly (%.3f -> %.3f)", t, first, last);
    }

    /* run B: stopped after 13 steps (between checkpoints), then resumed to the end */
    snprintf(run_b, sizeof run_b, "%s/b", dir);
    tc = load(ini, run_b, STEPS);
    req.stop_after = 13;
    REQUIRE_OK(train_run(tc, &req));
    long step;
    char *latest;
    REQUIRE_OK(train_ckpt_latest(run_b, &step, &latest));
    EXPECT(step == 13, "the stop wrote a checkpoint at step 13 (found %ld)", step);
    free(latest);
    req.stop_after = 0;
    req.resume = true;
    REQUIRE_OK(train_run(tc, &req));
    train_config_free(tc);
    int nb = read_losses(run_b, lb, STEPS);
    EXPECT(nb == STEPS, "run B logged every step once (%d lines)", nb);
    int differ = 0;
    for (int s = 0; s < STEPS; s++)
        for (int t = 0; t < 2; t++)
            if (strcmp(la[s][t], lb[s][t]) != 0 && differ++ < 5)
                fprintf(stderr, "  step %d task %d: %s uninterrupted, %s resumed\n", s, t,
                        la[s][t], lb[s][t]);
    EXPECT(differ == 0, "the resumed run's losses equal the uninterrupted run's bit for bit");

    /* the run folder: the effective config, the two newest checkpoints, the supernet */
    long *steps;
    size_t n;
    REQUIRE_OK(train_ckpt_list(run_a, &steps, &n));
    EXPECT(n == 2 && steps[0] == 36 && steps[1] == 40, "two newest checkpoints kept (%zu)", n);
    free(steps);
    char path[700];
    snprintf(path, sizeof path, "%s/supernet.safetensors", run_a);
    EXPECT(access(path, R_OK) == 0, "supernet.safetensors written");
    snprintf(path, sizeof path, "%s/config.ini", run_a);
    struct train_config *saved;
    EXPECT(train_config_load(&saved, path, NULL, 0) == UFO_OK, "config.ini re-reads: %s",
           ufo_last_error());
    if (saved) train_config_free(saved);

    /* a fresh run in run A's folder is refused: it would mix its log with the old one's */
    tc = load(ini, run_a, STEPS);
    req = (struct train_request){0};
    ufo_status st = train_run(tc, &req);
    EXPECT(st == UFO_ERR_CONFIG && strstr(ufo_last_error(), "--resume"),
           "a new run in a used folder: %s: %s", ufo_status_name(st), ufo_last_error());
    train_config_free(tc);

    /* a resume whose configuration does not fit the checkpoint leaves config.ini alone */
    static char was[8192], now[8192];
    read_text(path, was, sizeof was);
    char over_dir[700];
    snprintf(over_dir, sizeof over_dir, "train.run_dir=%s", run_a);
    const char *sets[] = {over_dir, "model.embed_dim=48"};
    REQUIRE_OK(train_config_load(&tc, ini, sets, 2));
    req.resume = true;
    st = train_run(tc, &req);
    EXPECT(st != UFO_OK, "resume with another model width fails");
    train_config_free(tc);
    read_text(path, now, sizeof now);
    EXPECT(strcmp(was, now) == 0 && strstr(now, "embed_dim = 32"),
           "config.ini unchanged by the failed resume");

    /* a resume may not change what decides the run's course, nor end before its checkpoint;
     * where it logs may change */
    static const struct {
        const char *set, *message;
    } resumes[] = {
        {"train.seed=8", "train.seed = 8, the run used 7"},
        {"task.bars.pad=3", "task.bars.pad = 3, the run used 10"},
        {"train.iterations=20", "at step 40, past train.iterations = 20"},
    };
    for (size_t i = 0; i < sizeof resumes / sizeof resumes[0]; i++) {
        const char *sets2[] = {over_dir, resumes[i].set};
        REQUIRE_OK(train_config_load(&tc, ini, sets2, 2));
        st = train_run(tc, &req);
        EXPECT(st == UFO_ERR_CONFIG && strstr(ufo_last_error(), resumes[i].message),
               "resume with %s: %s: %s", resumes[i].set, ufo_status_name(st), ufo_last_error());
        train_config_free(tc);
    }
    /* a second process in the folder: refused while the first holds it */
    char lock[720];
    snprintf(lock, sizeof lock, "%s/lock", run_a);
    int held = open(lock, O_RDWR);
    EXPECT(held >= 0 && flock(held, LOCK_EX | LOCK_NB) == 0, "%s exists and can be locked", lock);
    pid_t child = fork();
    if (child == 0) {
        /* the lock is per open file: a child holding its own descriptor sees it taken */
        const char *sets_c[] = {over_dir, "train.iterations=40"};
        struct train_config *tcc;
        if (train_config_load(&tcc, ini, sets_c, 2) != UFO_OK) _exit(3);
        ufo_status sc = train_run(tcc, &req);
        _exit(sc == UFO_ERR_CONFIG && strstr(ufo_last_error(), "another ufo-train") ? 0 : 1);
    }
    int wst = 0;
    waitpid(child, &wst, 0);
    EXPECT(WIFEXITED(wst) && WEXITSTATUS(wst) == 0, "a locked run folder is refused (child %d)",
           WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
    if (held >= 0) close(held);

    const char *sets3[] = {over_dir, "train.log_interval=3", "train.iterations=40"};
    REQUIRE_OK(train_config_load(&tc, ini, sets3, 3));
    st = train_run(tc, &req);
    EXPECT(st == UFO_OK, "a resume with another log_interval: %s", ufo_last_error());
    train_config_free(tc);

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish("test_train");
}
