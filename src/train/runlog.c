/* train.jsonl, the progress line and the run summary. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "core/log.h"
#include "train/runlog.h"

struct runlog {
    FILE *f;
    char *path;
    const char *const *task_names;
    size_t n_tasks;
};

ufo_status runlog_open(struct runlog **out, const char *run_dir, const char *const *task_names,
                       size_t n_tasks) {
    *out = NULL;
    struct runlog *log = calloc(1, sizeof *log);
    size_t n = strlen(run_dir) + sizeof "/train.jsonl";
    if (log) log->path = malloc(n);
    if (!log || !log->path) {
        free(log);
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", run_dir);
    }
    snprintf(log->path, n, "%s/train.jsonl", run_dir);
    log->f = fopen(log->path, "a");
    if (!log->f) {
        ufo_status st = ufo_fail(UFO_ERR_IO, "%s: cannot open for appending: %s", log->path,
                                 strerror(errno));
        free(log->path);
        free(log);
        return st;
    }
    log->task_names = task_names;
    log->n_tasks = n_tasks;
    *out = log;
    return UFO_OK;
}

void runlog_close(struct runlog *log) {
    if (!log) return;
    fclose(log->f);
    free(log->path);
    free(log);
}

/* A JSON number, or null where JSON has none (NaN, ±Inf). */
static json_t *runlog_real(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

/* One object as one line, flushed, so a crash loses at most the line being written. Takes
 * the reference to `obj`. */
static ufo_status runlog_put(struct runlog *log, json_t *obj) {
    if (!obj) return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", log->path);
    /* 9 significant digits give every float32 loss back exactly */
    char *text = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(obj);
    if (!text) return ufo_fail(UFO_ERR_NOMEM, "%s: cannot encode a line", log->path);
    bool ok = fputs(text, log->f) >= 0 && fputc('\n', log->f) != EOF && fflush(log->f) == 0;
    free(text);
    if (!ok) return ufo_fail(UFO_ERR_IO, "%s: write failed: %s", log->path, strerror(errno));
    return UFO_OK;
}

/* {"task": value, ...} from a per-task array. */
static json_t *runlog_per_task(const struct runlog *log, const double *v) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < log->n_tasks; i++)
        json_object_set_new(o, log->task_names[i], runlog_real(v[i]));
    return o;
}

ufo_status runlog_step(struct runlog *log, const struct runlog_step *s) {
    json_t *o = json_object();
    if (!o) return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", log->path);
    json_object_set_new(o, "step", json_integer(s->step));
    json_object_set_new(o, "lr", runlog_real(s->lr));
    json_object_set_new(o, "images_per_s", runlog_real(s->images_per_s));
    json_object_set_new(o, "loss", runlog_per_task(log, s->loss));
    if (s->epoch) json_object_set_new(o, "epoch", runlog_per_task(log, s->epoch));
    if (s->arch) json_object_set_new(o, "arch", json_string(s->arch));
    json_object_set_new(o, "skipped_steps", json_integer(s->skipped_steps));
    return runlog_put(log, o);
}

ufo_status runlog_eval(struct runlog *log, long step, const char *task, const char *set,
                       const char *const *names, const double *values, size_t n) {
    json_t *metrics = json_object();
    for (size_t i = 0; metrics && i < n; i++)
        json_object_set_new(metrics, names[i], runlog_real(values[i]));
    json_t *e = json_pack("{s:s, s:s, s:o*}", "task", task, "set", set ? set : "",
                          "metrics", metrics);
    return runlog_put(log, e ? json_pack("{s:I, s:o}", "step", (json_int_t)step, "eval", e)
                             : NULL);
}

ufo_status runlog_event(struct runlog *log, long step, const char *event, const char *message) {
    return runlog_put(log, json_pack("{s:I, s:s, s:s}", "step", (json_int_t)step, "event", event,
                                     "message", message ? message : ""));
}

/* ---- what the user sees ---- */

bool runlog_is_tty(FILE *f) {
    return isatty(fileno(f)) == 1;
}

void runlog_format_duration(char *buf, size_t size, double seconds) {
    if (!isfinite(seconds) || seconds < 0) {
        snprintf(buf, size, "?");
        return;
    }
    long s = (long)(seconds + 0.5);
    if (s < 60) snprintf(buf, size, "%lds", s);
    else if (s < 3600) snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
    else if (s < 86400) snprintf(buf, size, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    else snprintf(buf, size, "%ldd%02ldh", s / 86400, (s % 86400) / 3600);
}

/* snprintf at *len that keeps counting past the end of buf, as snprintf does. */
static void runlog_append(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void runlog_append(char *buf, size_t size, size_t *len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
    va_end(ap);
    if (n > 0) *len += (size_t)n;
}

int runlog_format_progress(char *buf, size_t size, const struct runlog_progress *p) {
    size_t len = 0;
#define PUT(...) runlog_append(buf, size, &len, __VA_ARGS__)

    long done = p->step + 1;
    PUT("step %ld/%ld (%.1f%%)", done, p->iterations,
        p->iterations > 0 ? 100.0 * (double)done / (double)p->iterations : 0.0);
    for (size_t i = 0; i < p->n_tasks; i++) {
        PUT(" | %s %.4g", p->task_names[i], p->loss[i]);
        if (p->epoch) PUT(" ep %.2f", p->epoch[i]);
    }
    PUT(" | lr %.4g | %.1f img/s", p->lr, p->images_per_s);

    /* time left at this process's average pace */
    char eta[32];
    double rate = p->elapsed_s > 0 ? (double)p->steps_done / p->elapsed_s : 0;
    runlog_format_duration(eta, sizeof eta,
                           rate > 0 ? (double)(p->iterations - done) / rate : NAN);
    PUT(" | ETA %s", eta);
#undef PUT
    return (int)len;
}

/* Columns of the terminal behind f, or 0 when unknown. */
static int runlog_columns(FILE *f) {
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 0;
}

void runlog_print_progress(FILE *f, bool tty, const struct runlog_progress *p) {
    char line[1024];
    runlog_format_progress(line, sizeof line, p);
    if (!tty) {
        log_info("%s", line);
        return;
    }

    /* a wrapped line cannot be rewritten with \r: cut it to the width */
    int cols = runlog_columns(f);
    if (cols > 1 && strlen(line) >= (size_t)cols) line[cols - 1] = '\0';
    fprintf(f, "\r%s\033[K", line);
    fflush(f);
}

void runlog_progress_done(FILE *f, bool tty) {
    if (tty) {
        fputc('\n', f);
        fflush(f);
    }
}

void runlog_print_summary(FILE *f, const struct runlog_summary *s) {
    char took[32];
    runlog_format_duration(took, sizeof took, s->seconds);
    if (s->stopped_by)
        fprintf(f, "training stopped by %s at step %ld\n", s->stopped_by, s->steps);
    else
        fprintf(f, "training finished: %ld steps\n", s->steps);
    fprintf(f, "  this run: %ld steps in %s (%.2f steps/s)\n", s->steps_this_run, took,
            s->seconds > 0 ? (double)s->steps_this_run / s->seconds : 0.0);
    for (size_t i = 0; i < s->n_tasks; i++) {
        fprintf(f, "  %s: %llu images", s->task_names[i], s->images[i]);
        if (s->skipped && s->skipped[i]) {
            fprintf(f, ", %llu skipped", s->skipped[i]);
            if (s->skip_reasons && s->skip_reasons[i] && *s->skip_reasons[i])
                fprintf(f, " (%s)", s->skip_reasons[i]);
        }
        if (s->final_loss) fprintf(f, ", final loss %.4g", s->final_loss[i]);
        fputc('\n', f);
    }
    if (s->skipped_steps)
        fprintf(f, "  %ld step(s) skipped for a non-finite loss or gradient\n", s->skipped_steps);
    if (s->last_checkpoint) fprintf(f, "  last checkpoint: %s\n", s->last_checkpoint);
    else fprintf(f, "  no checkpoint written\n");
    fprintf(f, "  run folder: %s (train.jsonl, config.ini)\n", s->run_dir);
    fflush(f);
}
