/* Metric reports: a named list of values, printed as a table or written as JSON. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "eval/metrics.h"

void eval_report_init(struct eval_report *r, const char *metric, const char *protocol,
                      enum eval_distance distance) {
    memset(r, 0, sizeof *r);
    snprintf(r->metric, sizeof r->metric, "%s", metric);
    snprintf(r->protocol, sizeof r->protocol, "%s", protocol);
    snprintf(r->distance, sizeof r->distance, "%s",
             distance == EVAL_COSINE ? "cosine" : "euclidean");
}

void eval_report_add(struct eval_report *r, const char *name, double value, enum eval_kind kind) {
    if (r->n_entries == EVAL_MAX_ENTRIES) return; /* callers add a fixed, small set */
    struct eval_entry *e = &r->entry[r->n_entries++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->value = value;
    e->kind = kind;
}

double eval_report_get(const struct eval_report *r, const char *name) {
    for (size_t i = 0; i < r->n_entries; i++)
        if (strcmp(r->entry[i].name, name) == 0) return r->entry[i].value;
    return NAN;
}

void eval_report_print(FILE *f, const struct eval_report *r) {
    fprintf(f, "%s: %s\n", r->metric, r->protocol);
    fprintf(f, "  %-20s %12s\n", "distance", r->distance);
    for (size_t i = 0; i < r->n_entries; i++) {
        const struct eval_entry *e = &r->entry[i];
        if (e->kind == EVAL_FRACTION)
            fprintf(f, "  %-20s %10.2f %%\n", e->name, 100.0 * e->value);
        else if (e->kind == EVAL_COUNT)
            fprintf(f, "  %-20s %12.0f\n", e->name, e->value);
        else
            fprintf(f, "  %-20s %12.4f\n", e->name, e->value);
    }
}

/* The report's fields into `root`: metric, protocol, distance and the values. */
static void report_fill(json_t *root, const struct eval_report *r) {
    json_t *values = json_object();
    json_object_set_new(root, "metric", json_string(r->metric));
    json_object_set_new(root, "protocol", json_string(r->protocol));
    json_object_set_new(root, "distance", json_string(r->distance));
    for (size_t i = 0; i < r->n_entries; i++) {
        const struct eval_entry *e = &r->entry[i];
        json_object_set_new(values, e->name, e->kind == EVAL_COUNT
                            ? json_integer((json_int_t)e->value) : json_real(e->value));
    }
    json_object_set_new(root, "values", values);
}

static ufo_status report_dump(json_t *root, const char *path) {
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (rc != 0) return ufo_fail(UFO_ERR_IO, "%s: cannot write JSON: %s", path, strerror(errno));
    return UFO_OK;
}

ufo_status eval_report_write_json(const char *path, const struct eval_report *r) {
    json_t *root = json_object();
    report_fill(root, r);
    return report_dump(root, path);
}

ufo_status eval_reports_write_json(const char *path, const char *const *meta, size_t n_meta,
                                   const char *const *sets, const struct eval_report *r,
                                   size_t n) {
    json_t *root = json_object(), *results = json_array();
    for (size_t i = 0; i < n_meta; i++)
        json_object_set_new(root, meta[2 * i], json_string(meta[2 * i + 1]));
    for (size_t i = 0; i < n; i++) {
        json_t *one = json_object();
        json_object_set_new(one, "set", json_string(sets[i]));
        report_fill(one, &r[i]);
        json_array_append_new(results, one);
    }
    json_object_set_new(root, "results", results);
    return report_dump(root, path);
}
