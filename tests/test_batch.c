/* Batch checks on hand-built datasets: task sizes and label renumbering, P × K identity
 * sampling, uniform draws, bad files replaced and counted, determinism per (seed, step),
 * resuming at a step, worker threads giving the single-threaded bytes, clean shutdown. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "data/batch.h"

static int failures;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            failures++;                                                                   \
            if (failures < 40) {                                                          \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                      \
                fprintf(stderr, __VA_ARGS__);                                             \
                fprintf(stderr, "\n");                                                    \
            }                                                                             \
        }                                                                                 \
    } while (0)

enum { S = 16 };  /* network input */

static char dir[256], bad_empty[300], bad_garbage[300], bad_missing[300];
static uint8_t pixels[1 << 16];
static struct data_item items_a[64], items_b[16], items_c[40];
static struct data_set set_a, set_b, set_c;
static size_t n_train_a;   /* training refs of set A in task 0 */

/* Set A: 12 identities with 2..6 images each (camera i % 3), a query-only identity 12 and two
 * distractors, all RGB 10 × 8 in memory. Set B: 4 identities with one image and a fifth with
 * three good and two bad files (cameras 0-1). Set C: 30 grey 8 × 8 images of 10 classes, then
 * an empty, a garbage and a missing file. */
static void build_sets(void) {
    size_t off = 0, n = 0;
    uint32_t x = 99;
    for (size_t i = 0; i < sizeof pixels; i++) {
        x = x * 1664525u + 1013904223u;
        pixels[i] = (uint8_t)(x >> 24);
    }
    for (int l = 0; l < 12; l++)
        for (int i = 0; i < 2 + l % 5; i++) {
            items_a[n] = (struct data_item){.source = DATA_MEMORY, .offset = off, .width = 10,
                                            .height = 8, .channels = 3, .split = DATA_TRAIN,
                                            .label = l, .camera = (int32_t)(n % 3)};
            off += 240;
            n++;
        }
    n_train_a = n;
    items_a[n++] = (struct data_item){.source = DATA_MEMORY, .offset = 0, .width = 10,
                                      .height = 8, .channels = 3, .split = DATA_QUERY,
                                      .label = 12, .camera = 0};
    for (int d = 0; d < 2; d++)
        items_a[n++] = (struct data_item){.source = DATA_MEMORY, .offset = 240, .width = 10,
                                          .height = 8, .channels = 3, .split = DATA_TRAIN,
                                          .label = -1, .camera = 1};
    set_a = (struct data_set){.name = "A", .format = "test", .items = items_a, .count = n,
                              .n_labels = 13, .n_cameras = 3, .pixels = pixels};

    n = 0;
    for (int l = 0; l < 5; l++)
        for (int i = 0; i < (l < 4 ? 1 : 3); i++, n++)
            items_b[n] = (struct data_item){.source = DATA_MEMORY, .offset = off + 240 * n,
                                            .width = 10, .height = 8, .channels = 3,
                                            .split = DATA_TRAIN, .label = l,
                                            .camera = (int32_t)(n % 2)};
    items_b[n++] = (struct data_item){.source = DATA_FILE, .path = bad_garbage,
                                      .split = DATA_TRAIN, .label = 4, .camera = 0};
    items_b[n++] = (struct data_item){.source = DATA_FILE, .path = bad_missing,
                                      .split = DATA_TRAIN, .label = 4, .camera = 1};
    set_b = (struct data_set){.name = "B", .format = "test", .items = items_b, .count = n,
                              .n_labels = 5, .n_cameras = 2, .pixels = pixels};
    off += 240 * 16;

    n = 0;
    for (int i = 0; i < 30; i++)
        items_c[n++] = (struct data_item){.source = DATA_MEMORY, .offset = off + 64 * i,
                                          .width = 8, .height = 8, .channels = 1,
                                          .split = DATA_TRAIN, .label = i % 10, .camera = -1};
    const char *bad[3] = {bad_empty, bad_garbage, bad_missing};
    for (int i = 0; i < 3; i++)
        items_c[n++] = (struct data_item){.source = DATA_FILE, .path = bad[i],
                                          .split = DATA_TRAIN, .label = i, .camera = -1};
    set_c = (struct data_set){.name = "C", .format = "test", .items = items_c, .count = n,
                              .n_labels = 10, .n_cameras = 0, .pixels = pixels};
}

static const struct data_set *sets_ab[2] = {&set_a, &set_b};
static const struct data_set *sets_c[1] = {&set_c};
static struct data_task tasks[2];

static struct data_batcher_config config(bool synchronous, int workers, uint64_t start) {
    for (int t = 0; t < 2; t++)
        data_transform_defaults(&tasks[t].transform, S, S);
    tasks[0] = (struct data_task){.name = "retrieval", .sets = sets_ab, .n_sets = 2,
                                  .batch = 16, .retrieval = true, .k = 4,
                                  .transform = tasks[0].transform};
    tasks[1] = (struct data_task){.name = "classes", .sets = sets_c, .n_sets = 1, .batch = 0,
                                  .transform = tasks[1].transform};
    return (struct data_batcher_config){.tasks = tasks, .n_tasks = 2, .total_batch = 26,
                                        .width = S, .height = S, .seed = 1234,
                                        .start_step = start, .workers = workers,
                                        .synchronous = synchronous, .depth = 2};
}

/* A copy of a batch's contents for comparisons. */
struct copy {
    float images[26 * 3 * S * S];
    int32_t labels[26], cameras[26];
    uint32_t items[26];
};

/* Copies the batch's own samples (at most 26); the rest of the copy is zero. */
static void take(const struct data_batch *b, struct copy *c) {
    size_t n = b->size < 26 ? (size_t)b->size : 26;
    memset(c, 0, sizeof *c);
    memcpy(c->images, b->images, n * 3 * S * S * sizeof(float));
    memcpy(c->labels, b->labels, n * sizeof c->labels[0]);
    memcpy(c->cameras, b->cameras, n * sizeof c->cameras[0]);
    memcpy(c->items, b->items, n * sizeof c->items[0]);
}

static int same(const struct copy *a, const struct copy *b) {
    return memcmp(a, b, sizeof *a) == 0;
}

static void test_split(void) {
    int sizes[3];
    size_t c1[3] = {100, 300, 600};
    CHECK(data_split_batch(10, c1, 3, sizes) == UFO_OK && sizes[0] == 1 && sizes[1] == 3 &&
              sizes[2] == 6,
          "split 10 by 1:3:6 gave %d %d %d", sizes[0], sizes[1], sizes[2]);
    size_t c2[2] = {1, 1000};
    CHECK(data_split_batch(5, c2, 2, sizes) == UFO_OK && sizes[0] == 1 && sizes[1] == 4,
          "split 5 by 1:1000 gave %d %d", sizes[0], sizes[1]);
    size_t c3[3] = {10, 10, 10};
    CHECK(data_split_batch(8, c3, 3, sizes) == UFO_OK && sizes[0] + sizes[1] + sizes[2] == 8,
          "split 8 three ways does not add up");
    CHECK(data_split_batch(2, c3, 3, sizes) == UFO_ERR_CONFIG, "split 2 three ways accepted");
}

static void test_layout_and_sampling(void) {
    struct data_batcher_config cfg = config(true, 0, 0);
    struct data_batcher *b;
    ufo_status st = data_batcher_new(&cfg, &b);
    CHECK(st == UFO_OK, "batcher: %s", ufo_last_error());
    if (st)
        return;
    CHECK(data_batcher_task_size(b, 0) == 16 && data_batcher_task_size(b, 1) == 10,
          "task sizes %d %d, expected 16 10", data_batcher_task_size(b, 0),
          data_batcher_task_size(b, 1));
    CHECK(data_batcher_task_classes(b, 0) == 17, "retrieval classes %d, expected 12 + 5",
          data_batcher_task_classes(b, 0));
    CHECK(data_batcher_task_classes(b, 1) == 10, "classes %d", data_batcher_task_classes(b, 1));
    CHECK(data_batcher_task_items(b, 0) == n_train_a + 9, "retrieval items %zu",
          data_batcher_task_items(b, 0));

    int counts[33] = {0};
    int label_seen[17] = {0};
    for (uint64_t step = 0; step < 200; step++) {
        const struct data_batch *batch;
        st = data_batcher_next(b, &batch);
        CHECK(st == UFO_OK, "step %llu: %s", (unsigned long long)step, ufo_last_error());
        if (st)
            break;
        CHECK(batch->step == step && batch->size == 26 && batch->task_start[1] == 16 &&
                  batch->task_size[0] == 16,
              "batch layout wrong at step %llu", (unsigned long long)step);

        /* retrieval: four identities, four samples each, contiguous */
        for (int p = 0; p < 4; p++) {
            int32_t l = batch->labels[4 * p];
            CHECK(l >= 0 && l < 17, "label %d out of range", l);
            label_seen[l] = 1;
            for (int q = 1; q < 4; q++)
                CHECK(batch->labels[4 * p + q] == l, "step %llu: identity block %d mixes labels",
                      (unsigned long long)step, p);
            for (int o = 0; o < p; o++)
                CHECK(batch->labels[4 * o] != l, "step %llu: identity %d drawn twice",
                      (unsigned long long)step, l);
            /* identities of set A with at least four images give four distinct images */
            if (l < 12 && 2 + l % 5 >= 4)
                for (int q = 0; q < 4; q++)
                    for (int r = 0; r < q; r++)
                        CHECK(batch->items[4 * p + q] != batch->items[4 * p + r],
                              "step %llu: identity %d repeats an image",
                              (unsigned long long)step, l);
            for (int q = 0; q < 4; q++) {
                uint32_t item = batch->items[4 * p + q];
                CHECK(item < n_train_a + 7, "bad file (item %u) reached the batch", item);
                /* set B's cameras come after set A's three */
                CHECK(l < 12 ? batch->cameras[4 * p + q] < 3 : batch->cameras[4 * p + q] >= 3,
                      "camera %d for label %d", batch->cameras[4 * p + q], l);
            }
        }

        /* uniform: labels match the items, bad files never appear */
        for (int j = 16; j < 26; j++) {
            uint32_t item = batch->items[j];
            CHECK(item < 30, "bad file (item %u) reached the batch", item);
            if (item < 30) {
                counts[item]++;
                CHECK(batch->labels[j] == (int32_t)(item % 10), "label %d for item %u",
                      batch->labels[j], item);
            }
        }
    }
    for (int i = 0; i < 30; i++)
        CHECK(counts[i] > 30 && counts[i] < 110, "item %d drawn %d times in 2000", i, counts[i]);
    for (int l = 0; l < 17; l++)
        CHECK(label_seen[l], "identity %d never drawn in 200 steps", l);

    size_t bad, replaced;
    data_batcher_skipped(b, 1, &bad, &replaced);
    CHECK(bad == 3 && replaced >= 3, "task 1: %zu bad files, %zu replaced; expected 3", bad,
          replaced);
    data_batcher_skipped(b, 0, &bad, &replaced);
    CHECK(bad == 2 && replaced >= 2, "task 0: %zu bad files, %zu replaced; expected 2", bad,
          replaced);
    data_batcher_free(b);
}

static void test_determinism_and_threads(void) {
    enum { STEPS = 6 };
    static struct copy ref[STEPS], other;
    struct data_batcher *b;
    const struct data_batch *batch;

    struct data_batcher_config cfg = config(true, 0, 0);
    if (data_batcher_new(&cfg, &b) != UFO_OK) {
        CHECK(0, "batcher: %s", ufo_last_error());
        return;
    }
    for (int s = 0; s < STEPS; s++) {
        CHECK(data_batcher_next(b, &batch) == UFO_OK, "step %d: %s", s, ufo_last_error());
        take(batch, &ref[s]);
    }
    data_batcher_free(b);
    for (int s = 1; s < STEPS; s++)
        CHECK(memcmp(ref[s].images, ref[0].images, sizeof ref[0].images) != 0 &&
                  memcmp(ref[s].items, ref[0].items, sizeof ref[0].items) != 0,
              "step %d equals step 0", s);

    /* same seed again, and a run resumed at step 3 */
    cfg = config(true, 0, 3);
    data_batcher_new(&cfg, &b);
    for (int s = 3; s < STEPS; s++) {
        data_batcher_next(b, &batch);
        take(batch, &other);
        CHECK(same(&other, &ref[s]), "resumed run differs at step %d", s);
    }
    data_batcher_free(b);

    /* another seed differs */
    cfg = config(true, 0, 0);
    cfg.seed = 99;
    data_batcher_new(&cfg, &b);
    data_batcher_next(b, &batch);
    take(batch, &other);
    CHECK(!same(&other, &ref[0]), "another seed gave the same batch");
    data_batcher_free(b);

    /* worker threads, several counts: byte-identical to the single-threaded path */
    int counts[3] = {1, 3, 4};
    for (int w = 0; w < 3; w++) {
        cfg = config(false, counts[w], 0);
        ufo_status st = data_batcher_new(&cfg, &b);
        CHECK(st == UFO_OK, "threaded batcher: %s", ufo_last_error());
        if (st)
            continue;
        for (int s = 0; s < STEPS; s++) {
            st = data_batcher_next(b, &batch);
            CHECK(st == UFO_OK && batch->step == (uint64_t)s, "threaded step %d: %s", s,
                  ufo_last_error());
            if (st)
                break;
            take(batch, &other);
            CHECK(same(&other, &ref[s]), "%d workers: step %d differs from the single thread",
                  counts[w], s);
        }
        data_batcher_free(b);
    }

    /* shutdown with work in flight, and without ever asking */
    cfg = config(false, 2, 0);
    cfg.depth = 4;
    data_batcher_new(&cfg, &b);
    data_batcher_next(b, &batch);
    data_batcher_free(b);
    data_batcher_new(&cfg, &b);
    data_batcher_free(b);
}

static void test_errors(void) {
    struct data_batcher *b;
    struct data_item query = {.source = DATA_MEMORY, .width = 1, .height = 1, .channels = 1,
                              .split = DATA_GALLERY, .label = 0};
    struct data_set empty = {.name = "galleryonly", .items = &query, .count = 1,
                             .pixels = pixels};
    const struct data_set *sets[1] = {&empty};
    struct data_batcher_config cfg = config(true, 0, 0);
    tasks[1].sets = sets;
    ufo_status st = data_batcher_new(&cfg, &b);
    CHECK(st == UFO_ERR_CONFIG && strstr(ufo_last_error(), "classes"),
          "task without training items: status %d '%s'", st, ufo_last_error());

    cfg = config(true, 0, 0);
    tasks[1].transform.width = 20;
    st = data_batcher_new(&cfg, &b);
    CHECK(st == UFO_ERR_CONFIG, "transform size mismatch accepted");

    /* a task whose every file is bad fails the batch instead of looping */
    struct data_item bad = {.source = DATA_FILE, .path = bad_missing, .label = 0};
    struct data_set all_bad = {.name = "allbad", .items = &bad, .count = 1};
    sets[0] = &all_bad;
    cfg = config(true, 0, 0);
    tasks[1].sets = sets;
    log_set_level(LOG_ERROR);
    st = data_batcher_new(&cfg, &b);
    CHECK(st == UFO_OK, "all-bad batcher: %s", ufo_last_error());
    if (!st) {
        const struct data_batch *batch;
        st = data_batcher_next(b, &batch);
        CHECK(st == UFO_ERR_FORMAT && strstr(ufo_last_error(), "missing") &&
                  strstr(ufo_last_error(), "no decodable image in 65 draws in a row (of 1 "
                                           "training images)") &&
                  strstr(ufo_last_error(), "dataset allbad"),
              "all-bad task: status %d '%s'", st, ufo_last_error());
        data_batcher_free(b);
    }
    log_set_level(LOG_INFO);
}

/* Cards-like: 12 identities of 3 good in-memory images, and identity 5 whose 30 images are
 * all garbage files. */
enum { CARD_IDS = 12, CARD_BAD = 5, CARD_BAD_N = 30 };
static struct data_item items_cards[CARD_IDS * 3 + CARD_BAD_N];
static char card_paths[CARD_BAD_N][300];
static struct data_set set_cards;
static const struct data_set *sets_cards[1] = {&set_cards};

static void build_cards(void) {
    size_t n = 0;
    for (int l = 0; l < CARD_IDS; l++) {
        if (l == CARD_BAD) {
            for (int i = 0; i < CARD_BAD_N; i++) {
                snprintf(card_paths[i], sizeof card_paths[i], "%s/card%02d.png", dir, i);
                FILE *f = fopen(card_paths[i], "wb");
                fprintf(f, "garbage %d", i);
                fclose(f);
                items_cards[n++] = (struct data_item){.source = DATA_FILE, .path = card_paths[i],
                                                      .split = DATA_TRAIN, .label = l,
                                                      .camera = -1};
            }
            continue;
        }
        for (int i = 0; i < 3; i++)
            items_cards[n++] = (struct data_item){.source = DATA_MEMORY, .offset = 240 * n,
                                                  .width = 10, .height = 8, .channels = 3,
                                                  .split = DATA_TRAIN, .label = l,
                                                  .camera = -1};
    }
    set_cards = (struct data_set){.name = "cards", .format = "list", .items = items_cards,
                                  .count = n, .n_labels = CARD_IDS, .pixels = pixels};
}

static struct data_batcher_config cards_config(bool synchronous, int workers, uint64_t start) {
    data_transform_defaults(&tasks[0].transform, S, S);
    tasks[0] = (struct data_task){.name = "cards", .sets = sets_cards, .n_sets = 1, .batch = 16,
                                  .retrieval = true, .k = 4, .transform = tasks[0].transform};
    return (struct data_batcher_config){.tasks = tasks, .n_tasks = 1, .width = S, .height = S,
                                        .seed = 77, .start_step = start, .workers = workers,
                                        .synchronous = synchronous, .depth = 3};
}

/* stderr into a file while `run` goes, returned as text (free() it). */
static char *captured(void (*run)(void *), void *arg) {
    char path[320];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(path, "w");
    dup2(fileno(f), 2);
    fclose(f);
    run(arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char *text = calloc(1, 1 << 16);
    f = fopen(path, "rb");
    text[fread(text, 1, (1 << 16) - 1, f)] = 0;
    fclose(f);
    unlink(path);
    return text;
}

enum { CARD_STEPS = 40 };
static struct copy cards_ref[CARD_STEPS];

static void cards_reference(void *arg) {
    (void)arg;
    struct data_batcher *b;
    const struct data_batch *batch;
    struct data_batcher_config cfg = cards_config(true, 0, 0);
    ufo_status st = data_batcher_new(&cfg, &b);
    CHECK(st == UFO_OK, "cards batcher: %s", ufo_last_error());
    if (st)
        return;
    for (int s = 0; s < CARD_STEPS; s++) {
        st = data_batcher_next(b, &batch);
        CHECK(st == UFO_OK, "cards step %d: %s", s, ufo_last_error());
        if (st)
            break;
        take(batch, &cards_ref[s]);
        for (int i = 0; i < 16; i++) {
            CHECK(batch->labels[i] != CARD_BAD && batch->items[i] < CARD_IDS * 3 + CARD_BAD_N &&
                      (batch->items[i] < 3 * CARD_BAD || batch->items[i] >= 3 * CARD_BAD +
                                                                            CARD_BAD_N),
                  "cards step %d sample %d: item %u of the bad identity", s, i, batch->items[i]);
        }
    }
    size_t bad = 0, replaced = 0;
    data_batcher_skipped(b, 0, &bad, &replaced);
    CHECK(bad == CARD_BAD_N && replaced > 0 && replaced % 4 == 0,
          "cards: %zu bad files, %zu samples replaced; want %d bad, a multiple of 4 replaced", bad,
          replaced, CARD_BAD_N);
    data_batcher_free(b);
}

/* An identity whose every image is bad: its samples move to other identities, one warning names
 * it, the run goes on, and the batches stay a function of (seed, step) whatever the threads. */
static void test_dead_identity(void) {
    build_cards();
    log_set_level(LOG_INFO);
    char *log = captured(cards_reference, NULL);
    log_set_level(LOG_ERROR);
    const char *warn = "task cards: identity 5 (dataset cards, 30 images, the first ";
    const char *at = strstr(log, warn);
    CHECK(at && strstr(at, "card00.png) has no decodable image; its samples now come from "
                           "other identities") && !strstr(at + 1, warn),
          "want one warning naming identity 5, got:\n%s", log);
    CHECK(strstr(log, "task cards: 30 undecodable images found and skipped, "),
          "summary count, got:\n%s", log);
    free(log);

    /* threads and a resumed run give the same batches, bad files or not */
    int counts[3] = {1, 2, 4};
    for (int w = 0; w < 3; w++) {
        struct data_batcher *b;
        const struct data_batch *batch;
        uint64_t start = w == 2 ? 17 : 0;
        struct data_batcher_config cfg = cards_config(false, counts[w], start);
        if (data_batcher_new(&cfg, &b) != UFO_OK) {
            CHECK(0, "cards threaded batcher: %s", ufo_last_error());
            continue;
        }
        for (uint64_t s = start; s < CARD_STEPS; s++) {
            ufo_status st = data_batcher_next(b, &batch);
            CHECK(st == UFO_OK, "cards %d workers step %llu: %s", counts[w],
                  (unsigned long long)s, ufo_last_error());
            if (st)
                break;
            static struct copy other;
            take(batch, &other);
            CHECK(memcmp(other.items, cards_ref[s].items, 16 * sizeof(uint32_t)) == 0 &&
                      memcmp(other.images, cards_ref[s].images, 16 * 3 * S * S * sizeof(float))
                      == 0, "cards %d workers from step %llu: step %llu differs", counts[w],
                  (unsigned long long)start, (unsigned long long)s);
        }
        data_batcher_free(b);
    }

    /* only bad images: the task still fails, saying how far it looked */
    set_cards.items = items_cards + 3 * CARD_BAD;
    set_cards.count = CARD_BAD_N;
    struct data_batcher *b;
    struct data_batcher_config cfg = cards_config(true, 0, 0);
    ufo_status st = data_batcher_new(&cfg, &b);
    CHECK(st == UFO_OK, "all-bad cards batcher: %s", ufo_last_error());
    if (!st) {
        const struct data_batch *batch;
        st = data_batcher_next(b, &batch);
        CHECK(st == UFO_ERR_FORMAT &&
                  strstr(ufo_last_error(), "task cards: sample 0 of step 0: no decodable image "
                                           "in 64 identities drawn in a row (1920 images tried, "
                                           "of 1 identities)") &&
                  strstr(ufo_last_error(), "in dataset cards"),
              "all-bad cards: status %d '%s'", st, ufo_last_error());
        data_batcher_free(b);
    }
    for (int i = 0; i < CARD_BAD_N; i++)
        unlink(card_paths[i]);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/ufo-test-batch-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(bad_empty, sizeof bad_empty, "%s/empty.jpg", dir);
    snprintf(bad_garbage, sizeof bad_garbage, "%s/garbage.png", dir);
    snprintf(bad_missing, sizeof bad_missing, "%s/missing.jpg", dir);
    FILE *f = fopen(bad_empty, "wb");
    fclose(f);
    f = fopen(bad_garbage, "wb");
    fputs("\x89PNG\r\n\x1a\nnot really a png at all", f);
    fclose(f);
    build_sets();

    test_split();
    test_layout_and_sampling();
    log_set_level(LOG_ERROR);
    test_determinism_and_threads();
    test_errors();
    test_dead_identity();

    unlink(bad_empty);
    unlink(bad_garbage);
    rmdir(dir);
    if (failures) {
        fprintf(stderr, "test_batch: %d failures\n", failures);
        return 1;
    }
    printf("test_batch: all passed\n");
    return 0;
}
