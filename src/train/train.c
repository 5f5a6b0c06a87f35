/* The training loop: every step draws a heterogeneous batch and an architecture, runs the
 * supernet forward and backward on the device, then the optimiser step (train/optim.c) with
 * the step's learning rate. Every random draw is keyed by (seed, step), so a resumed run
 * repeats the uninterrupted one exactly. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "data/batch.h"
#include "data/dataset.h"
#include "device/device.h"
#include "io/safetensors.h"
#include "model/checkpoint.h"
#include "model/vit.h"
#include "ops/ops.h"
#include "train/ckpt_files.h"
#include "train/nanguard.h"
#include "train/optim.h"
#include "train/runlog.h"
#include "train/schedule.h"
#include "train/signals.h"
#include "train/train.h"
#include "train/train_eval.h"

#define META_STEP "ufo.step"
#define META_CONFIG "ufo.config"
#define MOMENTUM_PREFIX "momentum."

/* Everything one run holds. */
struct trainer {
    const struct train_config *tc;
    ufo_device *dev;
    struct ufo_space space;
    struct vit *vit;
    struct data_set *sets;          /* every dataset of every task, opened once */
    size_t n_sets;
    struct data_task tasks[UFO_MAX_TASKS];
    const struct data_set **task_sets[UFO_MAX_TASKS];
    struct data_batcher *batcher;
    struct runlog *log;
    struct train_schedule schedule;
    struct train_nanguard guard;
    struct train_optim optim;       /* the [train] section's SGD and the tasks' lr_scale */
    double lr_scale[UFO_MAX_TASKS];
    const char *task_names[UFO_MAX_TASKS];
    cl_mem norm_work;               /* scratch of the clipped SGD and the finite check */
    float *host_params, *host_momentum, *gumbel, *drop;
    size_t batch_max;
    long step;                      /* steps done */
    char *last_checkpoint;
    unsigned long long images[UFO_MAX_TASKS];
    struct train_eval_set *eval_sets; /* [eval]: the tasks' evaluation data, opened once */
    size_t n_eval_sets;
    struct ufo_arch eval_arch;      /* eval.arch in the space */
    char eval_arch_text[192];       /* "largest (d4 h3.0 m2.00)" for the log */
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* mkdir -p for the run folder. */
static ufo_status make_dirs(const char *path) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ufo_fail(UFO_ERR_INVALID, "run folder path is too long: %s", path);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return ufo_fail(UFO_ERR_IO, "%s: cannot create the folder: %s", buf,
                                strerror(errno));
            *p = c;
        }
        if (c == '\0') break;
    }
    return UFO_OK;
}

/* Open every dataset of every task and describe the tasks to the batcher. */
static ufo_status open_data(struct trainer *tr) {
    const struct train_config *tc = tr->tc;
    size_t total = 0;
    for (size_t t = 0; t < tc->n_tasks; t++) total += tc->tasks[t].n_datasets;
    tr->sets = calloc(total ? total : 1, sizeof *tr->sets);
    if (!tr->sets) return ufo_fail(UFO_ERR_NOMEM, "out of memory");
    for (size_t t = 0; t < tc->n_tasks; t++) {
        const struct train_task_config *task = &tc->tasks[t];
        tr->task_sets[t] = calloc(task->n_datasets, sizeof *tr->task_sets[t]);
        if (!tr->task_sets[t]) return ufo_fail(UFO_ERR_NOMEM, "out of memory");
        for (size_t d = 0; d < task->n_datasets; d++) {
            struct data_spec spec;
            train_dataset_spec(&task->datasets[d], DATA_PART_TRAIN, &spec);
            struct data_set *set = &tr->sets[tr->n_sets];
            ufo_status st = data_open(&spec, set);
            if (st != UFO_OK) return st;
            tr->n_sets++;
            tr->task_sets[t][d] = set;
        }
        struct data_task *dt = &tr->tasks[t];
        dt->name = task->name;
        dt->sets = tr->task_sets[t];
        dt->n_sets = task->n_datasets;
        dt->batch = (int)task->batch;
        dt->retrieval = task->triplet;
        dt->k = (int)task->instances_per_label;
        data_transform_defaults(&dt->transform, (int)tc->model.image_size,
                                (int)tc->model.image_size);
        dt->transform.autoaugment = task->autoaugment;
        dt->transform.pad_crop = task->pad_crop;
        dt->transform.pad = (int)task->pad;
        dt->transform.flip = task->flip;
        dt->transform.erase = task->random_erasing;
        tr->task_names[t] = task->name;
    }
    struct data_batcher_config bc = {
        .tasks = tr->tasks, .n_tasks = (int)tc->n_tasks, .total_batch = (int)tc->train.batch_size,
        .width = (int)tc->model.image_size, .height = (int)tc->model.image_size,
        .seed = (uint64_t)tc->train.seed, .start_step = (uint64_t)tr->step,
        .workers = (int)tc->train.workers, .synchronous = tc->train.workers < 0,
    };
    return data_batcher_new(&bc, &tr->batcher);
}

/* The search space and tasks of the configuration; classes come from the data. */
static ufo_status make_space(struct trainer *tr) {
    const struct train_config *tc = tr->tc;
    const struct train_model_config *mc = &tc->model;
    struct ufo_space *s = &tr->space;
    memset(s, 0, sizeof *s);
    s->embed_dim = (int)mc->embed_dim;
    s->head_dim = (int)mc->head_dim;
    s->max_heads = (int)mc->heads;
    s->depth = (int)mc->depth;
    s->patch = (int)mc->patch_size;
    s->image_size = (int)mc->image_size;
    s->mlp_ratio_max = mc->mlp_ratio_max;
    s->n_heads_choices = (int)mc->heads_choices.n;
    for (size_t i = 0; i < mc->heads_choices.n; i++)
        s->heads_choices[i] = (int)mc->heads_choices.v[i];
    s->n_mlp_choices = (int)mc->mlp_ratio_choices.n;
    for (size_t i = 0; i < mc->mlp_ratio_choices.n; i++)
        s->mlp_ratio_choices[i] = mc->mlp_ratio_choices.v[i];
    s->min_depth = (int)mc->min_depth;
    s->n_tasks = (int)tc->n_tasks;
    for (size_t t = 0; t < tc->n_tasks; t++) {
        const struct train_task_config *task = &tc->tasks[t];
        struct ufo_task *ut = &s->tasks[t];
        snprintf(ut->name, sizeof ut->name, "%s", task->name);
        ut->classes = (int)data_batcher_task_classes(tr->batcher, (int)t);
        ut->triplet = task->triplet;
        ut->cosface_scale = task->cosface_scale;
        ut->cosface_margin = task->cosface_margin;
        ut->loss_weight = task->loss_weight;
    }
    return ufo_space_validate(s);
}

/* Write params and momentum with the step and configuration: a temporary file, then rename. */
static ufo_status save_checkpoint(struct trainer *tr) {
    const struct ufo_layout *L = vit_layout(tr->vit);
    ufo_status st;
    if ((st = vit_download(tr->vit, tr->host_params)) ||
        (st = device_read(tr->dev, vit_momentum(tr->vit), 0, L->total * sizeof(float),
                          tr->host_momentum)))
        return st;
    char *path = train_ckpt_path(tr->tc->train.run_dir, tr->step);
    struct ufo_st_out *outs = calloc(2 * (size_t)L->n, sizeof *outs);
    char (*names)[UFO_PARAM_NAME_MAX + 16] = calloc((size_t)L->n, sizeof *names);
    char *space_json = NULL, *config_text = NULL, step_text[32];
    if (!path || !outs || !names) {
        st = ufo_fail(UFO_ERR_NOMEM, "out of memory writing a checkpoint");
        goto done;
    }
    if ((st = ufo_space_to_json(&tr->space, &space_json)) ||
        (st = cfg_write_string(tr->tc->doc, false, &config_text)))
        goto done;
    size_t n = 0;
    for (int i = 0; i < L->n; i++) {
        const struct ufo_param *p = &L->params[i];
        outs[n] = (struct ufo_st_out){.name = p->name, .ndim = p->ndim,
                                      .data = tr->host_params + p->offset};
        memcpy(outs[n].shape, p->shape, sizeof p->shape);
        n++;
    }
    for (int i = 0; i < L->n; i++) {
        const struct ufo_param *p = &L->params[i];
        if (p->kind != UFO_PARAM_DECAY && p->kind != UFO_PARAM_NO_DECAY) continue;
        snprintf(names[i], sizeof names[i], MOMENTUM_PREFIX "%s", p->name);
        outs[n] = (struct ufo_st_out){.name = names[i], .ndim = p->ndim,
                                      .data = tr->host_momentum + p->offset};
        memcpy(outs[n].shape, p->shape, sizeof p->shape);
        n++;
    }
    snprintf(step_text, sizeof step_text, "%ld", tr->step);
    const char *meta[] = {UFO_META_FORMAT, "ufo-supernet-1", UFO_META_SPACE, space_json,
                          META_STEP, step_text, META_CONFIG, config_text};
    st = ufo_st_write(path, outs, n, meta, 4);
    if (st == UFO_OK) {
        free(tr->last_checkpoint);
        tr->last_checkpoint = path;
        path = NULL;
        size_t removed = 0;
        st = train_ckpt_rotate(tr->tc->train.run_dir, tr->tc->train.keep_checkpoints, &removed);
        log_debug("checkpoint %s written", tr->last_checkpoint);
    }
done:
    free(path);
    free(outs);
    free(names);
    free(space_json);
    free(config_text);
    return st;
}

/* Continue from the newest checkpoint: parameters, momentum and the step count. */
/* Keys a resumed run may change: where it runs, how it logs, checkpoints and evaluates,
 * where its data lives. Every other key decides the course of the run (batches, draws,
 * updates), so a resume that changed it would not continue the run it claims to. */
static int resume_may_change(const char *section, const char *key) {
    static const char *const train_keys[] = {"run_dir", "workers", "log_interval",
                                             "checkpoint_interval", "keep_checkpoints",
                                             "max_bad_steps", "iterations", NULL};
    if (strcmp(section, "device") == 0 || strcmp(section, "eval") == 0) return 1;
    if (strcmp(section, "train") == 0)
        for (int i = 0; train_keys[i]; i++)
            if (strcmp(key, train_keys[i]) == 0) return 1;
    if (strncmp(section, "dataset.", 8) == 0)
        return strcmp(key, "root") == 0 || strcmp(key, "no_file_check") == 0;
    if (strncmp(section, "task.", 5) == 0) return strcmp(key, "eval_datasets") == 0;
    return 0;
}

/* One "key = value" line of a configuration text as cfg_write_string writes it. */
struct ini_line {
    char section[128], key[128];
    const char *value;
    size_t value_len;
};

/* The key lines of `text` (malloc'ed array, *n of them). */
static ufo_status ini_lines(const char *text, struct ini_line **out, size_t *n) {
    size_t cap = 16;
    char section[128] = "";
    *n = 0;
    *out = malloc(cap * sizeof **out);
    if (!*out) return ufo_fail(UFO_ERR_NOMEM, "out of memory");
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *eq = memchr(line, '=', len);
        if (len > 2 && line[0] == '[' && line[len - 1] == ']' && len - 2 < sizeof section) {
            memcpy(section, line + 1, len - 2);
            section[len - 2] = '\0';
        } else if (line[0] != ';' && eq && eq > line && (size_t)(eq - line) < 128) {
            if (*n == cap) {
                struct ini_line *grown = realloc(*out, 2 * cap * sizeof **out);
                if (!grown) return ufo_fail(UFO_ERR_NOMEM, "out of memory");
                *out = grown;
                cap *= 2;
            }
            struct ini_line *l = &(*out)[(*n)++];
            size_t kl = (size_t)(eq - line);
            while (kl && line[kl - 1] == ' ') kl--;
            memcpy(l->key, line, kl);
            l->key[kl] = '\0';
            snprintf(l->section, sizeof l->section, "%s", section);
            l->value = eq + 1 + (eq[1] == ' ');
            l->value_len = (size_t)(line + len - l->value);
        }
        line = end ? end + 1 : NULL;
    }
    return UFO_OK;
}

static const struct ini_line *ini_find(const struct ini_line *lines, size_t n,
                                       const struct ini_line *like) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(lines[i].section, like->section) == 0 && strcmp(lines[i].key, like->key) == 0)
            return &lines[i];
    return NULL;
}

/* The first key that decides the run's course and differs between the checkpoint's
 * configuration `was` and this run's `now` is an error naming it. */
static ufo_status resume_check_config(const char *path, const char *was, const char *now) {
    struct ini_line *then = NULL, *here = NULL;
    size_t n_then = 0, n_here = 0;
    ufo_status st = ini_lines(was, &then, &n_then);
    if (st == UFO_OK) st = ini_lines(now, &here, &n_here);
    for (int pass = 0; st == UFO_OK && pass < 2; pass++) {
        const struct ini_line *mine = pass ? then : here, *theirs = pass ? here : then;
        size_t n_mine = pass ? n_then : n_here, n_theirs = pass ? n_here : n_then;
        for (size_t i = 0; i < n_mine; i++) {
            const struct ini_line *l = &mine[i], *o = ini_find(theirs, n_theirs, l);
            if (resume_may_change(l->section, l->key) ||
                (o && o->value_len == l->value_len &&
                 memcmp(o->value, l->value, l->value_len) == 0))
                continue;
            const struct ini_line *h = pass ? o : l, *t = pass ? l : o;
            st = ufo_fail(UFO_ERR_CONFIG, "%s: this resume sets %s.%s = %.*s, the run used "
                          "%.*s; resume with the run's own config.ini or start a new run", path,
                          l->section, l->key, h ? (int)h->value_len : 7,
                          h ? h->value : "nothing", t ? (int)t->value_len : 7,
                          t ? t->value : "nothing");
            break;
        }
    }
    free(then);
    free(here);
    return st;
}

static ufo_status load_checkpoint(struct trainer *tr, const char *path) {
    const struct ufo_layout *L = vit_layout(tr->vit);
    ufo_st_file *f;
    ufo_status st = ufo_st_open(path, &f);
    if (st != UFO_OK) return st;
    const char *step_text = ufo_st_metadata(f, META_STEP);
    const char *space_text = ufo_st_metadata(f, UFO_META_SPACE);
    char *want = NULL;
    long step = -1;
    if (!step_text || sscanf(step_text, "%ld", &step) != 1 || step < 0) {
        st = ufo_fail(UFO_ERR_FORMAT, "%s: no step in the checkpoint's metadata", path);
        goto done;
    }
    if ((st = ufo_space_to_json(&tr->space, &want)) != UFO_OK) goto done;
    if (!space_text || strcmp(space_text, want) != 0) {
        st = ufo_fail(UFO_ERR_CONFIG, "%s: the checkpoint's model or tasks differ from the "
                      "configuration's; resume with the run's own config.ini", path);
        goto done;
    }
    if (step > tr->tc->train.iterations) {
        st = ufo_fail(UFO_ERR_CONFIG, "%s: the checkpoint is at step %ld, past "
                      "train.iterations = %ld", path, step, tr->tc->train.iterations);
        goto done;
    }
    const char *config_was = ufo_st_metadata(f, META_CONFIG);
    if (config_was) {
        char *config_now = NULL;
        if ((st = cfg_write_string(tr->tc->doc, false, &config_now)) != UFO_OK) goto done;
        st = resume_check_config(path, config_was, config_now);
        free(config_now);
        if (st != UFO_OK) goto done;
    }
    memset(tr->host_momentum, 0, L->total * sizeof(float));
    for (int i = 0; i < L->n; i++) {
        const struct ufo_param *p = &L->params[i];
        if (p->kind != UFO_PARAM_DECAY && p->kind != UFO_PARAM_NO_DECAY) continue;
        char name[UFO_PARAM_NAME_MAX + 16];
        snprintf(name, sizeof name, MOMENTUM_PREFIX "%s", p->name);
        const struct ufo_st_tensor *t = ufo_st_find(f, name);
        if (!t || t->numel != p->numel) {
            st = ufo_fail(UFO_ERR_FORMAT, "%s: tensor %s is missing or has the wrong size", path,
                          name);
            goto done;
        }
        if ((st = ufo_st_read_f32(f, t, tr->host_momentum + p->offset)) != UFO_OK) goto done;
    }
    if ((st = ufo_params_load_ignoring(L, tr->host_params, path, MOMENTUM_PREFIX)) ||
        (st = vit_upload(tr->vit, tr->host_params)) ||
        (st = device_write(tr->dev, vit_momentum(tr->vit), 0, L->total * sizeof(float),
                           tr->host_momentum)))
        goto done;
    tr->step = step;
done:
    free(want);
    ufo_st_close(f);
    return st;
}

/* Gumbel noise [B, depth, 2] and drop-path masks [B, depth] of architecture `sub` of the step. */
static void draw_noise(struct trainer *tr, const struct data_batch *b, int sub) {
    int depth = tr->space.depth;
    uint64_t seed = (uint64_t)tr->tc->train.seed, step = (uint64_t)tr->step;
    double rate = tr->tc->model.drop_path_rate;
    for (int i = 0; i < b->size; i++)
        for (int d = 0; d < depth; d++) {
            uint64_t index = ((uint64_t)sub << 40) | ((uint64_t)i * (uint64_t)depth + (uint64_t)d);
            uint32_t w[4];
            ufo_philox(seed, step, UFO_RNG_GUMBEL, index, w);
            for (int k = 0; k < 2; k++) {
                double u = ufo_uniform01(w[2 * k], w[2 * k + 1]);
                tr->gumbel[((size_t)i * depth + d) * 2 + k] = (float)-log(-log(u));
            }
            ufo_philox(seed, step, UFO_RNG_DROPPATH, index, w);
            double block_rate = depth > 1 ? rate * d / (depth - 1) : 0.0;
            tr->drop[(size_t)i * depth + d] = ufo_uniform01(w[0], w[1]) >= block_rate ? 1.0f
                                                                                        : 0.0f;
        }
}

/* The architectures of a step: one uniform draw, the largest, or the sandwich of three. */
static int step_archs(struct trainer *tr, struct ufo_arch *archs) {
    uint64_t seed = (uint64_t)tr->tc->train.seed, step = (uint64_t)tr->step;
    switch (tr->tc->train.sampling) {
    case TRAIN_SAMPLE_LARGEST:
        ufo_arch_largest(&tr->space, &archs[0]);
        return 1;
    case TRAIN_SAMPLE_SANDWICH:
        ufo_arch_largest(&tr->space, &archs[0]);
        ufo_arch_smallest(&tr->space, &archs[1]);
        ufo_arch_sample(&tr->space, seed, step, &archs[2]);
        return 3;
    default:
        ufo_arch_sample(&tr->space, seed, step, &archs[0]);
        return 1;
    }
}

/* "d11 h11.2 m3.5": kept blocks, mean heads and mean expansion of the kept blocks. */
static void arch_summary(const struct ufo_arch *a, char *buf, size_t size) {
    int d = 0;
    double h = 0, m = 0;
    for (int i = 0; i < a->n_blocks; i++)
        if (a->block[i].kept) d++, h += a->block[i].heads, m += a->block[i].mlp_ratio;
    snprintf(buf, size, "d%d h%.1f m%.2f", d, d ? h / d : 0, d ? m / d : 0);
}

/* One optimiser step; *applied is false when the step was skipped as non-finite. */
static ufo_status train_step(struct trainer *tr, const struct data_batch *db, double lr,
                             double *task_loss, char *arch_text, size_t arch_size,
                             bool *applied) {
    struct ufo_arch archs[3];
    int n_archs = step_archs(tr, archs), kept[UFO_MAX_BLOCKS] = {0};
    struct vit_batch vb = {.size = (size_t)db->size, .images = db->images,
                           .labels = db->labels, .gumbel = tr->gumbel, .drop_mask = tr->drop,
                           .drop_path_rate = (float)tr->tc->model.drop_path_rate};
    for (int t = 0; t < db->n_tasks; t++) {
        vb.task_begin[t] = (size_t)db->task_start[t];
        vb.task_begin[t + 1] = (size_t)(db->task_start[t] + db->task_size[t]);
    }
    for (size_t t = 0; t < tr->tc->n_tasks; t++) task_loss[t] = 0;
    bool finite = true;
    for (int a = 0; a < n_archs; a++) {
        struct vit_losses losses;
        draw_noise(tr, db, a);
        ufo_status st = vit_train_step(tr->vit, &archs[a], &vb, a > 0, &losses);
        if (st != UFO_OK) return st;
        for (size_t t = 0; t < tr->tc->n_tasks; t++)
            task_loss[t] += (losses.cosface[t] + losses.triplet[t]) / n_archs;
        finite = finite && isfinite(losses.total);
        for (int i = 0; i < archs[a].n_blocks; i++) kept[i] |= archs[a].block[i].kept;
    }
    arch_summary(&archs[n_archs - 1], arch_text, arch_size);

    /* a NaN or Inf anywhere in the gradients skips the update */
    const struct ufo_layout *L = vit_layout(tr->vit);
    float bad = 0;
    ufo_status st;
    if ((st = ops_count_nonfinite(tr->dev, ops_vec(vit_grads(tr->vit), 0), L->total,
                                  ops_vec(tr->norm_work, 0))) ||
        (st = device_read(tr->dev, tr->norm_work, 0, sizeof bad, &bad)))
        return st;
    finite = finite && bad == 0;
    char what[64];
    snprintf(what, sizeof what, bad ? "%.0f gradient values" : "the loss", (double)bad);
    enum train_step_verdict v = train_nanguard_step(&tr->guard, tr->step, finite, what);
    if (v == TRAIN_STEP_STOP) return UFO_ERR_NUMERIC;
    *applied = v == TRAIN_STEP_APPLY;
    return *applied ? train_optim_step(tr->dev, tr->vit, &tr->optim, lr, kept, tr->norm_work)
                    : UFO_OK;
}

/* The [eval] section: the evaluation data of the tasks it names and the architecture, checked
 * before the first step so that a typo does not surface after hours of training. */
static ufo_status open_eval(struct trainer *tr) {
    const struct train_config *tc = tr->tc;
    if (tc->eval.interval == 0 && !tc->eval.at_end) return UFO_OK;
    ufo_status st = train_eval_open(tc, NULL, 0, &tr->eval_sets, &tr->n_eval_sets);
    if (st != UFO_OK) return st;
    if (tr->n_eval_sets == 0) {
        if (tc->eval.interval > 0)
            log_warn("eval.interval is %ld, but no task has eval_datasets: nothing to evaluate",
                     tc->eval.interval);
        return UFO_OK;
    }
    st = eval_arch_parse(&tr->space, tc->eval.arch, UFO_PATH_BOTH, &tr->eval_arch);
    if (st != UFO_OK) {
        char why[512];
        snprintf(why, sizeof why, "%s", ufo_last_error());
        return ufo_fail(st, "%s: eval.arch: %s", cfg_origin(tc->doc, "eval", "arch"), why);
    }
    char summary[64];
    eval_arch_summary(&tr->eval_arch, summary, sizeof summary);
    snprintf(tr->eval_arch_text, sizeof tr->eval_arch_text, "%.120s (%s)", tc->eval.arch,
             summary);
    char when[64] = "at the end";
    if (tc->eval.interval)
        snprintf(when, sizeof when, "every %ld steps%s", tc->eval.interval,
                 tc->eval.at_end ? " and at the end" : "");
    log_info("eval: %zu dataset(s) on the %s architecture, %s", tr->n_eval_sets,
             tr->eval_arch_text, when);
    return UFO_OK;
}

/* Score every evaluation set on the eval architecture after `tr->step` steps. */
static ufo_status run_eval(struct trainer *tr) {
    if (tr->n_eval_sets == 0) return UFO_OK;
    struct eval_model_options o;
    eval_model_options_default(&o);
    o.batch = (size_t)tr->tc->eval.batch_size;
    o.stop = train_stop_requested;
    struct eval_scorer sc = {tr->dev, 0, 0};
    return train_eval_run(tr->eval_sets, tr->n_eval_sets, tr->vit, &tr->eval_arch,
                          tr->eval_arch_text, &sc, &o, tr->step, tr->log);
}

static void trainer_free(struct trainer *tr) {
    train_eval_close(tr->eval_sets, tr->n_eval_sets);
    data_batcher_free(tr->batcher);
    for (size_t i = 0; i < tr->n_sets; i++) data_set_free(&tr->sets[i]);
    free(tr->sets);
    for (int t = 0; t < UFO_MAX_TASKS; t++) free(tr->task_sets[t]);
    if (tr->norm_work) clReleaseMemObject(tr->norm_work);
    vit_destroy(tr->vit);
    runlog_close(tr->log);
    if (tr->dev) ufo_device_close(tr->dev);
    free(tr->host_params);
    free(tr->host_momentum);
    free(tr->gumbel);
    free(tr->drop);
    free(tr->last_checkpoint);
}

/* After the newest checkpoint (at `step`) failed to load with `st`: point at the next older
 * one, which the user can resume from by moving the newest away. */
static void resume_hint_older(const char *run_dir, long step, ufo_status st) {
    long *steps = NULL;
    size_t n = 0;
    if (st == UFO_ERR_NOMEM || train_ckpt_list(run_dir, &steps, &n) != UFO_OK) return;
    long older = -1;
    for (size_t i = 0; i < n; i++)
        if (steps[i] < step && steps[i] > older) older = steps[i];
    free(steps);
    if (older < 0) return;
    char msg[1024], *path = train_ckpt_path(run_dir, older);
    snprintf(msg, sizeof msg, "%s", ufo_last_error());
    if (path) ufo_fail(st, "%s (an older checkpoint, %s, is there: move the newest away to "
                       "resume from it)", msg, path);
    free(path);
}

ufo_status train_run(const struct train_config *tc, const struct train_request *req) {
    struct trainer tr = {.tc = tc};
    ufo_status st;
    const char *run_dir = tc->train.run_dir;
    char path[4096];
    int lock_fd = -1;   /* held (flock) while this run owns the folder */
#define CHECK(call) do { if ((st = (call)) != UFO_OK) goto done; } while (0)

    /* the run folder, its configuration, and where to start */
    CHECK(make_dirs(run_dir));
    snprintf(path, sizeof path, "%s/lock", run_dir);
    lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) {
        st = ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
        goto done;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        st = ufo_fail(errno == EWOULDBLOCK ? UFO_ERR_CONFIG : UFO_ERR_IO, "%s: %s",
                      run_dir, errno == EWOULDBLOCK ? "another ufo-train is running in this "
                      "run folder" : strerror(errno));
        goto done;
    }
    long resume_step = -1;
    char *resume_path = NULL;
    CHECK(train_ckpt_latest(run_dir, &resume_step, &resume_path));
    if (req->resume) {
        if (!resume_path) {
            st = ufo_fail(UFO_ERR_IO, "%s: no checkpoint to resume from", run_dir);
            goto done;
        }
        tr.step = resume_step;
    } else {
        /* a fresh run would interleave its log and checkpoints with the old run's */
        snprintf(path, sizeof path, "%s/train.jsonl", run_dir);
        if (resume_path) {
            st = ufo_fail(UFO_ERR_CONFIG, "%s holds an earlier run (%s): continue it with "
                          "--resume, or set another train.run_dir", run_dir, resume_path);
            free(resume_path);
            goto done;
        }
        if (access(path, F_OK) == 0) {
            st = ufo_fail(UFO_ERR_CONFIG, "%s holds the log of an earlier run that wrote no "
                          "checkpoint (%s): move it away, or set another train.run_dir",
                          run_dir, path);
            goto done;
        }
    }

    /* device, data, model */
    CHECK(ufo_device_open(req->device ? req->device : tc->device.spec, &tr.dev));
    const struct ufo_device_caps *caps = ufo_device_caps(tr.dev);
    log_info("device %s: %s (%s)", caps->spec, caps->name, caps->platform);
    CHECK(open_data(&tr));
    CHECK(make_space(&tr));
    tr.batch_max = (size_t)tc->train.batch_size;
    CHECK(vit_create(tr.dev, &tr.space, tr.batch_max, &tr.vit));
    CHECK(open_eval(&tr));
    struct vit_options *vo = vit_options(tr.vit);
    vo->gumbel_tau = (float)tc->model.gumbel_temperature;
    for (size_t t = 0; t < tc->n_tasks; t++) vo->triplet_weight[t] = (float)tc->tasks[t].triplet_weight;
    const struct ufo_layout *L = vit_layout(tr.vit);
    tr.host_params = calloc(L->total, sizeof(float));
    tr.host_momentum = calloc(L->total, sizeof(float));
    tr.gumbel = calloc(tr.batch_max * (size_t)tr.space.depth * 2, sizeof(float));
    tr.drop = calloc(tr.batch_max * (size_t)tr.space.depth, sizeof(float));
    if (!tr.host_params || !tr.host_momentum || !tr.gumbel || !tr.drop) {
        st = ufo_fail(UFO_ERR_NOMEM, "out of memory");
        goto done;
    }
    CHECK(device_alloc(tr.dev, train_optim_work_floats(L) * sizeof(float), "norm scratch",
                       &tr.norm_work));
    if (resume_path) {
        st = load_checkpoint(&tr, resume_path);
        if (st != UFO_OK) {
            free(resume_path);
            resume_hint_older(run_dir, resume_step, st);
            goto done;
        }
        tr.last_checkpoint = resume_path;
        log_info("resuming from %s at step %ld", tr.last_checkpoint ? tr.last_checkpoint : run_dir,
                 tr.step);
    } else {
        ufo_layout_init(L, (uint64_t)tc->train.seed, tr.host_params);
        if (tc->train.init && *tc->train.init)
            CHECK(ufo_params_init_timm(L, tr.host_params, tc->train.init));
        CHECK(vit_upload(tr.vit, tr.host_params));
    }
    /* the effective configuration, once the checkpoint (if any) has been accepted */
    snprintf(path, sizeof path, "%s/config.ini", run_dir);
    CHECK(train_config_save(tc, path));

    /* the loop */
    CHECK(runlog_open(&tr.log, run_dir, tr.task_names, tc->n_tasks));
    if (req->resume) runlog_event(tr.log, tr.step, "resume", "resumed from the newest checkpoint");
    train_schedule_init(&tr.schedule, tc->train.base_lr, tc->train.warmup_fraction,
                        tc->train.final_lr_fraction, tc->train.iterations);
    train_nanguard_init(&tr.guard, tc->train.max_bad_steps);
    for (size_t t = 0; t < tc->n_tasks; t++) tr.lr_scale[t] = tc->tasks[t].lr_scale;
    tr.optim = (struct train_optim){.loop = &tc->train, .task_lr_scale = tr.lr_scale,
                                    .space = &tr.space};
    CHECK(train_signals_install());
    bool tty = runlog_is_tty(stdout);
    double t_start = now_s(), t_window = t_start, loss_sum[UFO_MAX_TASKS] = {0};
    long steps_this_run = 0, window_steps = 0, window_images = 0;
    int stop_signal = 0;
    const char *stopped_by = NULL;
    double last_loss[UFO_MAX_TASKS] = {0};
    bool logged_loss = false;   /* some step of this run was logged */
    while (tr.step < tc->train.iterations) {
        const struct data_batch *db;
        CHECK(data_batcher_next(tr.batcher, &db));
        double lr = train_schedule_lr(&tr.schedule, tr.step), task_loss[UFO_MAX_TASKS];
        char arch_text[64];
        bool applied = false;
        CHECK(train_step(&tr, db, lr, task_loss, arch_text, sizeof arch_text, &applied));
        for (int t = 0; t < db->n_tasks; t++) tr.images[t] += (unsigned long long)db->task_size[t];
        tr.step++;
        steps_this_run++;
        window_steps++;
        window_images += db->size;
        for (size_t t = 0; t < tc->n_tasks; t++) loss_sum[t] += task_loss[t];

        /* log a line every log_interval steps and at the end */
        if (tr.step % tc->train.log_interval == 0 || tr.step == tc->train.iterations) {
            double t_now = now_s(), epoch[UFO_MAX_TASKS];
            logged_loss = true;
            for (size_t t = 0; t < tc->n_tasks; t++) {
                last_loss[t] = loss_sum[t] / (double)window_steps;
                loss_sum[t] = 0;
                epoch[t] = (double)tr.step * data_batcher_task_size(tr.batcher, (int)t) /
                           (double)data_batcher_task_items(tr.batcher, (int)t);
            }
            double rate = window_images / fmax(t_now - t_window, 1e-9);
            struct runlog_step ls = {.step = tr.step, .lr = lr, .images_per_s = rate,
                                     .loss = last_loss, .epoch = epoch, .arch = arch_text,
                                     .skipped_steps = tr.guard.skipped};
            CHECK(runlog_step(tr.log, &ls));
            struct runlog_progress pr = {.step = tr.step - 1, .iterations = tc->train.iterations,
                                         .n_tasks = tc->n_tasks, .task_names = tr.task_names,
                                         .loss = last_loss, .epoch = epoch, .lr = lr,
                                         .images_per_s = rate, .elapsed_s = t_now - t_start,
                                         .steps_done = steps_this_run};
            runlog_print_progress(stdout, tty, &pr);
            t_window = t_now;
            window_steps = window_images = 0;
        }

        /* checkpoints, stop requests */
        stop_signal = train_stop_requested();
        bool stop_test = req->stop_after > 0 && steps_this_run >= req->stop_after;
        bool periodic = tc->train.checkpoint_interval > 0 &&
                        tr.step % tc->train.checkpoint_interval == 0;
        if (periodic || stop_signal || stop_test || tr.step == tc->train.iterations)
            CHECK(save_checkpoint(&tr));
        if (stop_signal || stop_test) break;

        /* evaluation every eval.interval steps (the last step's waits for the supernet file) */
        if (tc->eval.interval > 0 && tr.step % tc->eval.interval == 0 &&
            tr.step < tc->train.iterations) {
            st = run_eval(&tr);
            if (st == UFO_ERR_INTERRUPTED) {
                /* stopped during the evaluation: keep this step's weights, as between steps */
                stop_signal = train_stop_requested();
                ufo_clear_error();
                if (!periodic) CHECK(save_checkpoint(&tr));
                st = UFO_OK;
                break;
            }
            if (st != UFO_OK) goto done;
        }
    }
    runlog_progress_done(stdout, tty);

    /* the supernet file ufo-search and ufo-extract read */
    if (tr.step == tc->train.iterations) {
        snprintf(path, sizeof path, "%s/supernet.safetensors", run_dir);
        CHECK(vit_download(tr.vit, tr.host_params));
        CHECK(ufo_params_save(L, tr.host_params, path, NULL, 0));
        bool due = tc->eval.interval > 0 && tr.step % tc->eval.interval == 0;
        if (tc->eval.at_end || due) {
            st = run_eval(&tr);
            if (st == UFO_ERR_INTERRUPTED) {
                /* the weights are saved; --resume runs this evaluation again */
                stop_signal = train_stop_requested();
                ufo_clear_error();
                st = UFO_OK;
            }
            if (st != UFO_OK) goto done;
        }
    }
    if (stop_signal) stopped_by = train_signal_name(stop_signal);
    else if (tr.step < tc->train.iterations) stopped_by = "--stop-after";

    /* the summary */
    unsigned long long skipped[UFO_MAX_TASKS] = {0};
    char reasons[UFO_MAX_TASKS][64];
    const char *reason_ptr[UFO_MAX_TASKS];
    for (size_t t = 0; t < tc->n_tasks; t++) {
        size_t bad = 0, replaced = 0;
        data_batcher_skipped(tr.batcher, (int)t, &bad, &replaced);
        skipped[t] = bad;
        snprintf(reasons[t], sizeof reasons[t], "%zu undecodable, %zu samples replaced", bad,
                 replaced);
        reason_ptr[t] = reasons[t];
    }
    struct runlog_summary sum = {
        .steps = tr.step, .steps_this_run = steps_this_run, .seconds = now_s() - t_start,
        .n_tasks = tc->n_tasks, .task_names = tr.task_names, .images = tr.images,
        .skipped = skipped, .skip_reasons = reason_ptr, .skipped_steps = tr.guard.skipped,
        .final_loss = logged_loss ? last_loss : NULL, .run_dir = run_dir,
        .last_checkpoint = tr.last_checkpoint,
        .stopped_by = stopped_by,
    };
    runlog_print_summary(stdout, &sum);
    if (stop_signal) {
        char msg[1024];
        train_stop_message(msg, sizeof msg, stop_signal, tr.step, tr.last_checkpoint, run_dir);
        runlog_event(tr.log, tr.step, "stop", msg);
        st = ufo_fail(UFO_ERR_INTERRUPTED, "%s", msg);
    }
#undef CHECK
done:
    if (st == UFO_ERR_NUMERIC) {
        /* say what is left to go back to */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", ufo_last_error());
        if (tr.last_checkpoint)
            ufo_fail(st, "%s; the newest checkpoint, %s, is intact", msg, tr.last_checkpoint);
        else
            ufo_fail(st, "%s; no checkpoint was written", msg);
        if (tr.log) runlog_event(tr.log, tr.step, "stop", ufo_last_error());
    }
    train_signals_restore();
    trainer_free(&tr);
    if (lock_fd >= 0) close(lock_fd);
    return st;
}
