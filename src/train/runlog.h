/* What a training run tells its user: train.jsonl in the run folder (one JSON object per line,
 * appended and flushed line by line), the progress line (rewritten in place on a terminal,
 * plain log lines otherwise) and the summary at the end. */
#ifndef UFO_TRAIN_RUNLOG_H
#define UFO_TRAIN_RUNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <ufo/status.h>

struct runlog;

/* Open (or continue) "<run_dir>/train.jsonl" for appending. The task names label the per-task
 * fields of every line and must outlive the log. */
ufo_status runlog_open(struct runlog **out, const char *run_dir, const char *const *task_names,
                       size_t n_tasks);

/* One logged step. Non-finite numbers are written as null (JSON has no NaN). */
struct runlog_step {
    long step;                /* steps done, this one included (as checkpoints count) */
    double lr;                /* base learning rate of the step */
    double images_per_s;
    const double *loss;       /* [n_tasks] */
    const double *epoch;      /* [n_tasks] epoch-equivalents (images seen / dataset size); NULL */
    const char *arch;         /* the step's architecture in short; NULL */
    long skipped_steps;       /* non-finite steps so far */
};

/* {"step":…,"lr":…,"images_per_s":…,"loss":{"face":…,…},"epoch":{…},"arch":"…",
 *  "skipped_steps":…} */
ufo_status runlog_step(struct runlog *log, const struct runlog_step *s);

/* {"step":…,"eval":{"task":…,"set":…,"metrics":{"rank1":…,…}}} */
ufo_status runlog_eval(struct runlog *log, long step, const char *task, const char *set,
                       const char *const *names, const double *values, size_t n);

/* {"step":…,"event":"resume"|"stop"|…,"message":…}: resumptions, stops, skipped steps. */
ufo_status runlog_event(struct runlog *log, long step, const char *event, const char *message);

void runlog_close(struct runlog *log);

/* The progress of a run at one step. */
struct runlog_progress {
    long step, iterations;    /* step just finished (0-based), steps in the whole run */
    size_t n_tasks;
    const char *const *task_names;
    const double *loss;       /* [n_tasks] */
    const double *epoch;      /* [n_tasks], or NULL */
    double lr, images_per_s;
    double elapsed_s;         /* since this process started training */
    long steps_done;          /* steps this process made (the ETA's rate) */
};

/* "step 1200/120000 (1.0%) | face 2.314 ep 0.52 | … | lr 0.0123 | 412 img/s | ETA 3h12m";
 * returns the length as snprintf. */
int runlog_format_progress(char *buf, size_t size, const struct runlog_progress *p);

/* On a terminal: the line rewritten in place ("\r", cut to the terminal width, erase to the end
 * of line); otherwise a plain line through the log. */
void runlog_print_progress(FILE *f, bool tty, const struct runlog_progress *p);

/* End the rewritten line (a newline) before other output follows it. */
void runlog_progress_done(FILE *f, bool tty);

bool runlog_is_tty(FILE *f);

/* "45s", "12m05s", "3h12m", "2d03h". */
void runlog_format_duration(char *buf, size_t size, double seconds);

/* What the run did, for the summary at the end. */
struct runlog_summary {
    long steps;                         /* steps done in total, resumed ones included */
    long steps_this_run;
    double seconds;                     /* this process's training time */
    size_t n_tasks;
    const char *const *task_names;
    const unsigned long long *images;   /* [n_tasks] images seen this run */
    const unsigned long long *skipped;  /* [n_tasks] images skipped, or NULL */
    const char *const *skip_reasons;    /* [n_tasks] "12 unreadable, 3 missing", or NULL */
    long skipped_steps;                 /* steps with a non-finite loss or gradient */
    const double *final_loss;           /* [n_tasks], or NULL */
    const char *run_dir;
    const char *last_checkpoint;        /* or NULL */
    const char *stopped_by;             /* NULL: finished; "SIGINT", "non-finite loss", … */
};

void runlog_print_summary(FILE *f, const struct runlog_summary *s);

#endif
