/* Opening a configuration's evaluation datasets and scoring them during or after training. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "train/train_eval.h"

void train_dataset_spec(const struct train_dataset *d, unsigned parts, struct data_spec *out) {
    *out = (struct data_spec){
        .format = d->format, .root = d->root, .name = d->name, .parts = parts,
        .file = d->file && *d->file ? d->file : NULL,
        .images = d->images && *d->images ? d->images : NULL,
        .test_size = (int)d->test_size, .split = (enum data_split)d->split,
        .no_file_check = d->no_file_check,
        .query = d->query && *d->query ? d->query : NULL,
        .gallery = d->gallery && *d->gallery ? d->gallery : NULL,
    };
}

void train_eval_close(struct train_eval_set *sets, size_t n_sets) {
    for (size_t i = 0; sets && i < n_sets; i++) data_set_free(&sets[i].data);
    free(sets);
}

/* The tasks to evaluate, as a flag per configured task. */
static ufo_status train_eval_pick(const struct train_config *tc, const char *const *tasks,
                                  size_t n, bool *pick) {
    const char *where = cfg_path(tc->doc) ? cfg_path(tc->doc) : "configuration";
    if (n == 0 && tc->eval.tasks.n) {
        tasks = (const char *const *)tc->eval.tasks.v;
        n = tc->eval.tasks.n;
    }
    if (n == 0) {
        for (size_t t = 0; t < tc->n_tasks; t++) pick[t] = tc->tasks[t].n_eval_datasets > 0;
        return UFO_OK;
    }
    for (size_t i = 0; i < n; i++) {
        long k = train_config_task_index(tc, tasks[i]);
        if (k < 0) {
            char known[512] = "";
            for (size_t t = 0; t < tc->n_tasks; t++)
                snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                         t ? ", " : "", tc->tasks[t].name);
            return ufo_fail(UFO_ERR_INVALID, "%s: no task \"%s\" (tasks: %s)", where, tasks[i],
                            known);
        }
        if (tc->tasks[k].n_eval_datasets == 0)
            return ufo_fail(UFO_ERR_CONFIG, "%s: [task.%s] has no eval_datasets to evaluate on",
                            where, tasks[i]);
        pick[k] = true;
    }
    return UFO_OK;
}

ufo_status train_eval_open(const struct train_config *tc, const char *const *tasks, size_t n,
                           struct train_eval_set **sets, size_t *n_sets) {
    *sets = NULL;
    *n_sets = 0;
    bool pick[64] = {false};
    if (tc->n_tasks > 64) return ufo_fail(UFO_ERR_INVALID, "too many tasks");
    ufo_status st = train_eval_pick(tc, tasks, n, pick);
    if (st != UFO_OK) return st;
    size_t total = 0;
    for (size_t t = 0; t < tc->n_tasks; t++)
        if (pick[t]) total += tc->tasks[t].n_eval_datasets;
    if (total == 0) return UFO_OK;
    struct train_eval_set *s = calloc(total, sizeof *s);
    if (!s) return ufo_fail(UFO_ERR_NOMEM, "out of memory opening %zu eval datasets", total);
    size_t k = 0;
    for (size_t t = 0; t < tc->n_tasks && st == UFO_OK; t++) {
        if (!pick[t]) continue;
        for (size_t d = 0; d < tc->tasks[t].n_eval_datasets && st == UFO_OK; d++) {
            const struct train_dataset *td = &tc->tasks[t].eval_datasets[d];
            struct data_spec spec;
            train_dataset_spec(td, DATA_PART_EVAL, &spec);
            st = data_open(&spec, &s[k].data);
            if (st != UFO_OK) break;
            s[k].task = (long)t;
            s[k].task_name = tc->tasks[t].name;
            s[k].name = td->name ? td->name : td->root;
            s[k].protocol = eval_protocol_of(&s[k].data);
            log_info("eval: task %s, dataset %s scored as %s", s[k].task_name, s[k].name,
                     eval_protocol_name(s[k].protocol));
            k++;
        }
    }
    if (st != UFO_OK) {
        train_eval_close(s, k);
        return st;
    }
    *sets = s;
    *n_sets = k;
    return UFO_OK;
}

/* "rank-1 61.2% mAP 40.3% mINP 12.0%": the report's fractions, in its order. */
static void train_eval_headline(const struct eval_report *r, char *buf, size_t size) {
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->n_entries && at < size; i++) {
        const struct eval_entry *e = &r->entry[i];
        if (e->kind == EVAL_FRACTION)
            at += (size_t)snprintf(buf + at, size - at, "%s%s %.1f%%", at ? " " : "", e->name,
                                   100.0 * e->value);
        else if (strcmp(e->name, "skipped images") == 0 && e->value > 0)
            at += (size_t)snprintf(buf + at, size - at, "%s(%.0f skipped)", at ? " " : "",
                                   e->value);
    }
}

ufo_status train_eval_run(const struct train_eval_set *sets, size_t n_sets, struct vit *vit,
                          const struct ufo_arch *arch, const char *arch_text,
                          const struct eval_scorer *scorer, const struct eval_model_options *o,
                          long step, struct runlog *log) {
    const struct ufo_space *space = &vit_layout(vit)->space;
    for (size_t i = 0; i < n_sets; i++) {
        const struct train_eval_set *s = &sets[i];
        int task = ufo_space_task_index(space, s->task_name);
        if (task < 0)
            return ufo_fail(UFO_ERR_INVALID, "eval: the supernet has no task %s", s->task_name);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct eval_report rep;
        ufo_status st = eval_model(vit, arch, task, &s->data, scorer, o, &rep, NULL);
        if (st != UFO_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", ufo_last_error());
            return ufo_fail(st, "eval of task %s on %s: %s", s->task_name, s->name, why);
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        char line[512];
        train_eval_headline(&rep, line, sizeof line);
        log_info("eval step %ld, task %s on %s (%s, arch %s): %s [%.1f s]", step, s->task_name,
                 s->name, rep.metric, arch_text, line,
                 (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
        if (log) {
            const char *names[EVAL_MAX_ENTRIES];
            double values[EVAL_MAX_ENTRIES];
            for (size_t e = 0; e < rep.n_entries; e++) {
                names[e] = rep.entry[e].name;
                values[e] = rep.entry[e].value;
            }
            if ((st = runlog_eval(log, step, s->task_name, s->name, names, values,
                                  rep.n_entries)) != UFO_OK)
                return st;
        }
    }
    return UFO_OK;
}
