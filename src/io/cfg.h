/* A strict INI configuration over iniparser: a schema of sections and typed keys, base-10
 * numbers only, unknown names and out-of-range values rejected with the file, line, key and
 * value in the message, `section.key=value` overrides, and the effective configuration written
 * back as INI that re-reads to the same values. */
#ifndef UFO_IO_CFG_H
#define UFO_IO_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <ufo/status.h>

enum cfg_type {
    CFG_INT,     /* long; optional '-', digits, no leading zeros: "12", "-3" */
    CFG_FLOAT,   /* double; decimal with optional exponent: "0.1", "1e-4", "-2.5E3" */
    CFG_BOOL,    /* bool; true|false|yes|no|on|off|1|0 */
    CFG_STRING,  /* const char *; any text, empty allowed unless min_items is 1 */
    CFG_ENUM,    /* int: the index of the value in `choices` */
    CFG_INTS,    /* struct cfg_ints: comma-separated CFG_INT elements */
    CFG_FLOATS,  /* struct cfg_floats: comma-separated CFG_FLOAT elements */
    CFG_STRINGS, /* struct cfg_strings: comma-separated, trimmed, non-empty elements */
};

/* Bound list values; the arrays belong to the configuration they were bound from. */
struct cfg_ints { const long *v; size_t n; };
struct cfg_floats { const double *v; size_t n; };
struct cfg_strings { const char *const *v; size_t n; };

/* One key of a section. Numbers (and each element of a numeric list) must lie in [min, max]
 * when min < max; `min_open` makes the lower bound strict (> min). */
struct cfg_key {
    const char *name;      /* lowercase: iniparser folds names to lowercase */
    enum cfg_type type;
    const char *def;       /* the default, written as in a file; NULL: the key is required */
    double min, max;
    bool min_open;
    const char *choices;   /* CFG_ENUM: "uniform|sandwich|largest" */
    size_t min_items;      /* lists: fewest elements; CFG_STRING: 1 forbids an empty value */
    size_t offset;         /* where cfg_bind() stores the value in the section's struct */
    const char *help;      /* one line, written above the key by cfg_write() when asked */
};

/* A section. A name ending in '.' is dynamic: "task." matches [task.face], [task.reid], ...
 * (each an instance with its own values); other sections appear at most once. */
struct cfg_section {
    const char *name;
    const struct cfg_key *keys;
    size_t n_keys;
    const char *help;
};

struct cfg_schema {
    const struct cfg_section *sections;
    size_t n_sections;
};

/* A loaded configuration: the values given in the file and by overrides, with where each came
 * from. Keys that were not given take their schema default when bound or written. */
struct cfg_doc;

/* An empty configuration (every key at its default) for `schema`, which must outlive it. */
ufo_status cfg_new(struct cfg_doc **out, const struct cfg_schema *schema);

/* Read `path` and check every section, key and value against the schema. Duplicate keys or
 * sections, keys outside a section, unknown names and invalid values are UFO_ERR_CONFIG errors
 * naming path:line, section.key and the value. Section and key names are case-insensitive
 * (iniparser folds them to lowercase). Not thread-safe: iniparser reports syntax errors through
 * one process-wide callback. */
ufo_status cfg_load(struct cfg_doc **out, const struct cfg_schema *schema, const char *path);

/* Apply one override "section.key=value" (the section part may itself contain dots:
 * "task.face.batch_size=64"), checked like a line of the file. A dynamic section that does not
 * exist yet is created. */
ufo_status cfg_set(struct cfg_doc *doc, const char *assignment);

/* Same as cfg_set() with the parts apart; `origin` names where the value came from in messages
 * ("--set" when NULL). */
ufo_status cfg_set_value(struct cfg_doc *doc, const char *section, const char *key,
                         const char *value, const char *origin);

/* Number of instances of dynamic section `prefix` ("task.") and the full name of the i-th one
 * ("task.face"), in the order they first appeared. */
size_t cfg_instances(const struct cfg_doc *doc, const char *prefix);
const char *cfg_instance(const struct cfg_doc *doc, const char *prefix, size_t i);

/* Whether `key` was given in section `section` (by the file or an override). */
bool cfg_given(const struct cfg_doc *doc, const char *section, const char *key);

/* Where the value of section.key came from: "run.ini:12", "--set" or "default". */
const char *cfg_origin(const struct cfg_doc *doc, const char *section, const char *key);

/* Fill the struct at `target` with every key of `section` (an instance name for a dynamic
 * section) at the offsets of the schema: given values, defaults otherwise. A missing required
 * key is an error. Strings and lists point into `doc` and live as long as it does. */
ufo_status cfg_bind(struct cfg_doc *doc, const char *section, void *target);

/* Write the effective configuration as INI: every section of the schema in order (dynamic
 * instances in order of appearance), every key with its value or default, a `; help` line above
 * each key when `with_help`. Reading the output back gives the same values. */
ufo_status cfg_write(const struct cfg_doc *doc, FILE *f, bool with_help);

/* cfg_write() into a new string (free() it). */
ufo_status cfg_write_string(const struct cfg_doc *doc, bool with_help, char **out);

/* The file the configuration was read from, or NULL. */
const char *cfg_path(const struct cfg_doc *doc);

void cfg_free(struct cfg_doc *doc);

/* Strict base-10 parsers, exposed for command-line options: the whole of `text` must be the
 * number. They return false (and leave *out alone) on anything else. */
bool cfg_parse_long(const char *text, long *out);
bool cfg_parse_double(const char *text, double *out);
bool cfg_parse_bool(const char *text, bool *out);

#endif
