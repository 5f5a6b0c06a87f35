/* Command tracing (UFO_TRACE): profiling events per command, summarised by kernel name. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "device/trace.h"

struct trace_command {
    cl_event event;
    char name[48];
    size_t items, groups;
    int blocking;
};

struct device_trace {
    struct trace_command *cmd;
    size_t n, cap;
    size_t finishes;
    int pending; /* a slot was handed out and not yet added */
};

int device_trace_wanted(void) {
    const char *v = getenv("UFO_TRACE");
    return v && *v && strcmp(v, "0") != 0;
}

struct device_trace *device_trace_create(void) {
    return calloc(1, sizeof(struct device_trace));
}

void device_trace_reset(struct device_trace *t) {
    for (size_t i = 0; i < t->n; i++)
        if (t->cmd[i].event) clReleaseEvent(t->cmd[i].event);
    t->n = 0;
    t->finishes = 0;
}

void device_trace_destroy(struct device_trace *t) {
    if (!t) return;
    device_trace_reset(t);
    free(t->cmd);
    free(t);
}

cl_event *device_trace_slot(struct device_trace *t) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4096;
        void *p = realloc(t->cmd, cap * sizeof *t->cmd);
        if (!p) return NULL;
        t->cmd = p;
        t->cap = cap;
    }
    t->cmd[t->n].event = NULL;
    return &t->cmd[t->n].event;
}

void device_trace_add(struct device_trace *t, const char *name, size_t items, size_t groups,
                      int blocking) {
    if (t->n == t->cap || !t->cmd[t->n].event) return;
    struct trace_command *c = &t->cmd[t->n++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->items = items;
    c->groups = groups;
    c->blocking = blocking;
}

void device_trace_finish(struct device_trace *t) {
    t->finishes++;
}

struct trace_sum {
    char name[48];
    size_t launches, items, groups, sized;
    double ns;
};

static int by_time(const void *a, const void *b) {
    double x = ((const struct trace_sum *)a)->ns, y = ((const struct trace_sum *)b)->ns;
    return (x < y) - (x > y);
}

void device_trace_report(struct device_trace *t, cl_command_queue q, FILE *out, double per) {
    clFinish(q);
    struct trace_sum *sum = calloc(t->n + 1, sizeof *sum);
    if (!sum) return;
    size_t kinds = 0, blocking = 0;
    double busy = 0, idle = 0, first = 0, last = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct trace_command *c = &t->cmd[i];
        cl_ulong s = 0, e = 0;
        clGetEventProfilingInfo(c->event, CL_PROFILING_COMMAND_START, sizeof s, &s, NULL);
        clGetEventProfilingInfo(c->event, CL_PROFILING_COMMAND_END, sizeof e, &e, NULL);
        double start = (double)s, end = (double)e;
        if (i == 0) first = start;
        else if (start > last) idle += start - last;
        if (end > last) last = end;
        busy += end - start;
        blocking += (size_t)c->blocking;
        size_t k = 0;
        while (k < kinds && strcmp(sum[k].name, c->name) != 0) k++;
        if (k == kinds) snprintf(sum[kinds++].name, sizeof sum[0].name, "%s", c->name);
        sum[k].launches++;
        sum[k].items += c->items;
        if (c->groups) sum[k].groups += c->groups, sum[k].sized++;
        sum[k].ns += end - start;
    }
    qsort(sum, kinds, sizeof *sum, by_time);
    fprintf(out, "%-26s %9s %10s %7s %12s %10s\n", "command", "launches", "device ms", "share",
            "items/launch", "wg/launch");
    for (size_t k = 0; k < kinds; k++) {
        char wg[32] = "driver";
        if (sum[k].sized == sum[k].launches)
            snprintf(wg, sizeof wg, "%.1f", (double)sum[k].groups / (double)sum[k].launches);
        fprintf(out, "%-26s %9.1f %10.2f %6.1f%% %12.0f %10s\n", sum[k].name,
                (double)sum[k].launches / per, sum[k].ns / 1e6 / per,
                busy > 0 ? 100.0 * sum[k].ns / busy : 0.0,
                (double)sum[k].items / (double)sum[k].launches, wg);
    }
    fprintf(out, "per %g: %.1f commands, %.1f blocking copies, %.1f clFinish; device busy "
            "%.2f ms, idle between commands %.2f ms, span %.2f ms\n", per, (double)t->n / per,
            (double)blocking / per, (double)t->finishes / per, busy / 1e6 / per,
            idle / 1e6 / per, (last - first) / 1e6 / per);
    free(sum);
}
