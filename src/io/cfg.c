/* The strict INI configuration: iniparser reads the values, a line scan of the same file finds
 * where each name stands (iniparser keeps no line numbers and silently lets a repeated key win),
 * and every value is checked against the schema before anything uses it. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iniparser/iniparser.h>

#include "io/cfg.h"

/* iniparser reads lines into 1024-byte buffers; longer values could not be read back. */
#define CFG_MAX_VALUE 900

struct cfg_entry {
    char *section;              /* instance name: "train", "task.face" */
    char *key;
    char *text;                 /* the value, normalised */
    char *origin;               /* "run.ini:12", "--set" */
    const struct cfg_key *spec;
};

struct cfg_doc {
    const struct cfg_schema *schema;
    char *path;
    struct cfg_entry *entries;
    size_t n_entries, cap_entries;
    char **sections;            /* sections present, in order of first appearance */
    size_t n_sections, cap_sections;
    void **allocs;              /* arrays handed out by cfg_bind() */
    size_t n_allocs, cap_allocs;
};

/* A value parsed by cfg_parse(); the arrays are malloc'd. */
struct cfg_parsed {
    long i;
    double f;
    bool b;
    int e;
    size_t n;
    long *ints;
    double *floats;
    char **strings;             /* strings[k] point into `pool` */
    char *pool;
};

/* ---- small helpers ---- */

static char *cfg_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static char *cfg_strndup(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A copy of s[0..n) without surrounding whitespace, folded to lowercase when `lower`. */
static char *cfg_trimmed(const char *s, size_t n, bool lower) {
    while (n > 0 && isspace((unsigned char)*s)) s++, n--;
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    char *d = cfg_strndup(s, n);
    if (d && lower)
        for (char *p = d; *p; p++) *p = (char)tolower((unsigned char)*p);
    return d;
}

static bool cfg_grow(void **array, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t cap2 = *cap ? *cap * 2 : 8;
    while (cap2 < need) cap2 *= 2;
    void *p = realloc(*array, cap2 * elem);
    if (!p) return false;
    *array = p;
    *cap = cap2;
    return true;
}

static void cfg_parsed_free(struct cfg_parsed *p) {
    free(p->ints);
    free(p->floats);
    free(p->strings);
    free(p->pool);
    memset(p, 0, sizeof *p);
}

/* ---- numbers ---- */

bool cfg_parse_long(const char *text, long *out) {
    const char *s = text;
    if (*s == '-') s++;
    if (!isdigit((unsigned char)*s)) return false;
    if (s[0] == '0' && s[1] != '\0') return false;  /* "010" reads as octal elsewhere */
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p)) return false;
    errno = 0;
    char *end;
    long v = strtol(text, &end, 10);
    if (errno == ERANGE || *end != '\0') return false;
    *out = v;
    return true;
}

/* Accepts [-+]digits[.digits][e[-+]digits] (and ".5", "5."): no hex floats, inf or nan, which
 * strtod alone would take. */
bool cfg_parse_double(const char *text, double *out) {
    const char *s = text;
    if (*s == '-' || *s == '+') s++;
    size_t digits = 0;
    while (isdigit((unsigned char)*s)) s++, digits++;
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) s++, digits++;
    }
    if (digits == 0) return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+') s++;
        if (!isdigit((unsigned char)*s)) return false;
        while (isdigit((unsigned char)*s)) s++;
    }
    if (*s != '\0') return false;
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    if (*end != '\0' || !isfinite(v)) return false;
    if (errno == ERANGE && v != 0.0 && fabs(v) < 2.2250738585072014e-308) return false;
    if (errno == ERANGE && v == 0.0) {
        /* underflow to zero: accept only a written zero ("0e-999" is still zero) */
        for (const char *p = text; *p && *p != 'e' && *p != 'E'; p++)
            if (*p >= '1' && *p <= '9') return false;
    }
    *out = v;
    return true;
}

bool cfg_parse_bool(const char *text, bool *out) {
    static const char *yes[] = {"true", "yes", "on", "1"};
    static const char *no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(text, yes[i]) == 0) return *out = true, true;
        if (strcasecmp(text, no[i]) == 0) return *out = false, true;
    }
    return false;
}

/* The shortest "%.Ng" text that reads back as exactly `v`, with at least the integer digits so
 * 30 stays "30" rather than "3e+01". */
static void cfg_format_double(double v, char *buf, size_t size) {
    double a = fabs(v);
    int start = a >= 1 && a < 1e16 ? (int)floor(log10(a)) + 1 : 1;
    if (start > 17) start = 17;
    for (int prec = start; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

/* ---- values ---- */

static const char *cfg_type_name(enum cfg_type t) {
    switch (t) {
    case CFG_INT: return "an integer";
    case CFG_FLOAT: return "a number";
    case CFG_BOOL: return "true or false";
    case CFG_STRING: return "a string";
    case CFG_ENUM: return "one of the choices";
    case CFG_INTS: return "a comma-separated list of integers";
    case CFG_FLOATS: return "a comma-separated list of numbers";
    case CFG_STRINGS: return "a comma-separated list";
    }
    return "?";
}

/* Check a number against the key's range; on failure write the reason into `why`. */
static bool cfg_in_range(const struct cfg_key *spec, double v, char *why, size_t size) {
    if (!(spec->min < spec->max)) return true;
    if (spec->min_open ? v <= spec->min : v < spec->min) {
        snprintf(why, size, "must be %s %g", spec->min_open ? ">" : ">=", spec->min);
        return false;
    }
    if (v > spec->max) {
        snprintf(why, size, "must be <= %g", spec->max);
        return false;
    }
    return true;
}

/* Whether `text` is one of the '|'-separated `choices`; its index in *index. */
static bool cfg_find_choice(const char *choices, const char *text, int *index) {
    size_t len = strlen(text);
    int i = 0;
    for (const char *c = choices; *c; i++) {
        const char *bar = strchr(c, '|');
        size_t n = bar ? (size_t)(bar - c) : strlen(c);
        if (n == len && strncasecmp(c, text, n) == 0) return *index = i, true;
        if (!bar) break;
        c = bar + 1;
    }
    return false;
}

/* Split a list into trimmed elements (an empty or blank text is an empty list). */
static bool cfg_split(const char *text, struct cfg_parsed *p) {
    p->n = 0;
    p->pool = cfg_strdup(text);
    if (!p->pool) return false;
    bool blank = true;
    for (const char *c = text; *c; c++)
        if (!isspace((unsigned char)*c)) blank = false;
    if (blank) return true;
    size_t count = 1;
    for (const char *c = text; *c; c++) count += *c == ',';
    p->strings = malloc(count * sizeof *p->strings);
    if (!p->strings) return false;
    char *s = p->pool;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        char *a = s, *b = s + strlen(s);
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) *--b = '\0';
        p->strings[p->n++] = a;
        if (!comma) break;
        s = comma + 1;
    }
    return true;
}

/* Parse `text` as the key's type into *p. On failure return false with the reason in `why`. */
static bool cfg_parse(const struct cfg_key *spec, const char *text, struct cfg_parsed *p,
                      char *why, size_t size) {
    memset(p, 0, sizeof *p);
    switch (spec->type) {
    case CFG_INT:
        if (!cfg_parse_long(text, &p->i)) {
            /* digits alone that still fail are too long for a long */
            size_t digits = strspn(text + (*text == '-'), "0123456789");
            bool huge = digits > 1 && text[(*text == '-') + digits] == '\0' &&
                        text[*text == '-'] != '0';
            snprintf(why, size, "%s", !*text ? "empty, expected an integer"
                                      : huge ? "out of the 64-bit integer range"
                                             : "not a base-10 integer");
            return false;
        }
        return cfg_in_range(spec, (double)p->i, why, size);
    case CFG_FLOAT:
        if (!cfg_parse_double(text, &p->f)) {
            snprintf(why, size, "%s", *text ? "not a finite decimal number"
                                            : "empty, expected a number");
            return false;
        }
        return cfg_in_range(spec, p->f, why, size);
    case CFG_BOOL:
        if (!cfg_parse_bool(text, &p->b)) {
            snprintf(why, size, "expected true or false");
            return false;
        }
        return true;
    case CFG_STRING:
        if (spec->min_items > 0 && *text == '\0') {
            snprintf(why, size, "must not be empty");
            return false;
        }
        return true;
    case CFG_ENUM:
        if (!cfg_find_choice(spec->choices, text, &p->e)) {
            snprintf(why, size, "expected one of %s", spec->choices);
            return false;
        }
        return true;
    case CFG_INTS:
    case CFG_FLOATS:
    case CFG_STRINGS:
        break;
    }

    /* lists */
    if (!cfg_split(text, p)) {
        snprintf(why, size, "out of memory");
        return false;
    }
    if (p->n < spec->min_items) {
        snprintf(why, size, "needs at least %zu element%s", spec->min_items,
                 spec->min_items == 1 ? "" : "s");
        return false;
    }
    if (spec->type == CFG_INTS) p->ints = malloc((p->n ? p->n : 1) * sizeof *p->ints);
    if (spec->type == CFG_FLOATS) p->floats = malloc((p->n ? p->n : 1) * sizeof *p->floats);
    if ((spec->type == CFG_INTS && !p->ints) || (spec->type == CFG_FLOATS && !p->floats)) {
        snprintf(why, size, "out of memory");
        return false;
    }
    for (size_t k = 0; k < p->n; k++) {
        const char *el = p->strings[k];
        char reason[128];
        bool ok = true;
        if (*el == '\0') {
            snprintf(reason, sizeof reason, "is empty");
            ok = false;
        } else if (spec->type == CFG_INTS) {
            ok = cfg_parse_long(el, &p->ints[k]);
            if (!ok) snprintf(reason, sizeof reason, "is not a base-10 integer");
            else ok = cfg_in_range(spec, (double)p->ints[k], reason, sizeof reason);
        } else if (spec->type == CFG_FLOATS) {
            ok = cfg_parse_double(el, &p->floats[k]);
            if (!ok) snprintf(reason, sizeof reason, "is not a finite decimal number");
            else ok = cfg_in_range(spec, p->floats[k], reason, sizeof reason);
        }
        if (!ok) {
            snprintf(why, size, "element %zu (\"%s\") %s", k + 1, el, reason);
            return false;
        }
    }
    return true;
}

/* The canonical text of a parsed value, so that saved configurations compare equal. */
static char *cfg_normalise(const struct cfg_key *spec, const char *text,
                           const struct cfg_parsed *p) {
    char buf[64];
    switch (spec->type) {
    case CFG_INT:
        snprintf(buf, sizeof buf, "%ld", p->i);
        return cfg_strdup(buf);
    case CFG_FLOAT:
        cfg_format_double(p->f, buf, sizeof buf);
        return cfg_strdup(buf);
    case CFG_BOOL:
        return cfg_strdup(p->b ? "true" : "false");
    case CFG_STRING:
        return cfg_strdup(text);
    case CFG_ENUM: {
        const char *c = spec->choices;
        for (int i = 0; i < p->e; i++) c = strchr(c, '|') + 1;
        const char *bar = strchr(c, '|');
        return cfg_strndup(c, bar ? (size_t)(bar - c) : strlen(c));
    }
    case CFG_INTS:
    case CFG_FLOATS:
    case CFG_STRINGS:
        break;
    }
    size_t cap = strlen(text) + 32 * p->n + 1, len = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    out[0] = '\0';
    for (size_t k = 0; k < p->n; k++) {
        if (spec->type == CFG_INTS) snprintf(buf, sizeof buf, "%ld", p->ints[k]);
        else if (spec->type == CFG_FLOATS) cfg_format_double(p->floats[k], buf, sizeof buf);
        const char *el = spec->type == CFG_STRINGS ? p->strings[k] : buf;
        len += (size_t)snprintf(out + len, cap - len, "%s%s", k ? ", " : "", el);
    }
    return out;
}

/* Whether a value can be written on an INI line and read back unchanged by iniparser. */
static const char *cfg_writable(const char *text) {
    if (strlen(text) > CFG_MAX_VALUE) return "too long (iniparser reads lines of 1024 bytes)";
    for (const char *c = text; *c; c++)
        if (iscntrl((unsigned char)*c)) return "contains a control character";
    if (strchr(text, '"') && strchr(text, '\'')) return "contains both kinds of quotes";
    return NULL;
}

/* ---- the document ---- */

static const struct cfg_section *cfg_find_section(const struct cfg_schema *schema,
                                                  const char *name) {
    for (size_t i = 0; i < schema->n_sections; i++) {
        const struct cfg_section *s = &schema->sections[i];
        size_t n = strlen(s->name);
        if (n > 0 && s->name[n - 1] == '.') {
            if (strncmp(name, s->name, n) == 0) return s;
        } else if (strcmp(name, s->name) == 0) {
            return s;
        }
    }
    return NULL;
}

static bool cfg_is_dynamic(const struct cfg_section *s) {
    size_t n = strlen(s->name);
    return n > 0 && s->name[n - 1] == '.';
}

static const struct cfg_key *cfg_find_key(const struct cfg_section *s, const char *key) {
    for (size_t i = 0; i < s->n_keys; i++)
        if (strcmp(s->keys[i].name, key) == 0) return &s->keys[i];
    return NULL;
}

static struct cfg_entry *cfg_find_entry(const struct cfg_doc *doc, const char *section,
                                        const char *key) {
    for (size_t i = 0; i < doc->n_entries; i++)
        if (strcmp(doc->entries[i].section, section) == 0 && strcmp(doc->entries[i].key, key) == 0)
            return &doc->entries[i];
    return NULL;
}

/* "device, model, task.NAME, train" for messages. */
static void cfg_known_sections(const struct cfg_schema *schema, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < schema->n_sections && len < size; i++) {
        const struct cfg_section *s = &schema->sections[i];
        len += (size_t)snprintf(buf + len, size - len, "%s%s%s", i ? ", " : "", s->name,
                                cfg_is_dynamic(s) ? "NAME" : "");
    }
}

static void cfg_known_keys(const struct cfg_section *s, char *buf, size_t size) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->n_keys && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", s->keys[i].name);
}

/* Check a section name: known, and a dynamic instance has a name of [a-z0-9_-]. */
static ufo_status cfg_check_section(const struct cfg_doc *doc, const char *name,
                                    const char *where) {
    const struct cfg_section *s = cfg_find_section(doc->schema, name);
    if (!s) {
        char known[512];
        cfg_known_sections(doc->schema, known, sizeof known);
        return ufo_fail(UFO_ERR_CONFIG, "%s: unknown section [%s] (known: %s)", where, name,
                        known);
    }
    if (cfg_is_dynamic(s)) {
        const char *inst = name + strlen(s->name);
        if (*inst == '\0')
            return ufo_fail(UFO_ERR_CONFIG, "%s: section [%s] needs a name: [%sNAME]", where,
                            name, s->name);
        for (const char *c = inst; *c; c++)
            if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_' ||
                  *c == '-'))
                return ufo_fail(UFO_ERR_CONFIG,
                                "%s: section [%s]: a name may hold only a-z, 0-9, '_' and '-'",
                                where, name);
    }
    return UFO_OK;
}

static ufo_status cfg_add_section(struct cfg_doc *doc, const char *name) {
    for (size_t i = 0; i < doc->n_sections; i++)
        if (strcmp(doc->sections[i], name) == 0) return UFO_OK;
    if (!cfg_grow((void **)&doc->sections, &doc->cap_sections, doc->n_sections + 1,
                  sizeof *doc->sections))
        return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    if (!(doc->sections[doc->n_sections] = cfg_strdup(name)))
        return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    doc->n_sections++;
    return UFO_OK;
}

ufo_status cfg_new(struct cfg_doc **out, const struct cfg_schema *schema) {
    *out = calloc(1, sizeof **out);
    if (!*out) return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    (*out)->schema = schema;
    return UFO_OK;
}

void cfg_free(struct cfg_doc *doc) {
    if (!doc) return;
    for (size_t i = 0; i < doc->n_entries; i++) {
        free(doc->entries[i].section);
        free(doc->entries[i].key);
        free(doc->entries[i].text);
        free(doc->entries[i].origin);
    }
    for (size_t i = 0; i < doc->n_sections; i++) free(doc->sections[i]);
    for (size_t i = 0; i < doc->n_allocs; i++) free(doc->allocs[i]);
    free(doc->entries);
    free(doc->sections);
    free(doc->allocs);
    free(doc->path);
    free(doc);
}

ufo_status cfg_set_value(struct cfg_doc *doc, const char *section, const char *key,
                         const char *value, const char *origin) {
    if (!origin) origin = "--set";
    char *sec = cfg_trimmed(section, strlen(section), true);
    char *k = cfg_trimmed(key, strlen(key), true);
    char *v = cfg_trimmed(value, strlen(value), false);
    char *o = cfg_strdup(origin);
    char *text = NULL;
    struct cfg_parsed parsed = {0};
    ufo_status st = UFO_OK;
    if (!sec || !k || !v || !o) {
        st = ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
        goto done;
    }

    /* the name must be known */
    if ((st = cfg_check_section(doc, sec, origin)) != UFO_OK) goto done;
    const struct cfg_section *s = cfg_find_section(doc->schema, sec);
    const struct cfg_key *spec = cfg_find_key(s, k);
    if (!spec) {
        char known[768];
        cfg_known_keys(s, known, sizeof known);
        st = ufo_fail(UFO_ERR_CONFIG, "%s: unknown key %s.%s (known in [%s]: %s)", origin, sec,
                      k, sec, known);
        goto done;
    }

    /* the value must parse and be writable back */
    char why[256];
    const char *bad = cfg_writable(v);
    if (bad) {
        st = ufo_fail(UFO_ERR_CONFIG, "%s: %s.%s: value %s", origin, sec, k, bad);
        goto done;
    }
    if (!cfg_parse(spec, v, &parsed, why, sizeof why)) {
        st = ufo_fail(UFO_ERR_CONFIG, "%s: %s.%s = \"%s\": %s", origin, sec, k, v, why);
        goto done;
    }
    if (!(text = cfg_normalise(spec, v, &parsed))) {
        st = ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
        goto done;
    }
    if ((st = cfg_add_section(doc, sec)) != UFO_OK) goto done;

    /* replace an earlier value or add the key */
    struct cfg_entry *e = cfg_find_entry(doc, sec, k);
    if (e) {
        free(e->text);
        free(e->origin);
        e->text = text;
        e->origin = o;
        text = o = NULL;
    } else {
        if (!cfg_grow((void **)&doc->entries, &doc->cap_entries, doc->n_entries + 1,
                      sizeof *doc->entries)) {
            st = ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
            goto done;
        }
        doc->entries[doc->n_entries++] = (struct cfg_entry){sec, k, text, o, spec};
        sec = k = text = o = NULL;
    }

done:
    cfg_parsed_free(&parsed);
    free(sec);
    free(k);
    free(v);
    free(o);
    free(text);
    return st;
}

ufo_status cfg_set(struct cfg_doc *doc, const char *assignment) {
    const char *eq = strchr(assignment, '=');
    if (!eq)
        return ufo_fail(UFO_ERR_CONFIG, "--set %s: expected section.key=value", assignment);
    const char *dot = NULL;
    for (const char *c = assignment; c < eq; c++)
        if (*c == '.') dot = c;
    if (!dot || dot == assignment || dot + 1 == eq)
        return ufo_fail(UFO_ERR_CONFIG, "--set %s: expected section.key=value", assignment);
    char *sec = cfg_strndup(assignment, (size_t)(dot - assignment));
    char *key = cfg_strndup(dot + 1, (size_t)(eq - dot - 1));
    ufo_status st = sec && key ? cfg_set_value(doc, sec, key, eq + 1, "--set")
                               : ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    free(sec);
    free(key);
    return st;
}

/* ---- reading a file ---- */

/* Where a name stands in the file, from our own scan of its lines. */
struct cfg_mark {
    char *section;
    char *key;      /* NULL for a section header */
    int line;
};

struct cfg_scan {
    struct cfg_mark *marks;
    size_t n, cap;
};

static void cfg_scan_free(struct cfg_scan *scan) {
    for (size_t i = 0; i < scan->n; i++) {
        free(scan->marks[i].section);
        free(scan->marks[i].key);
    }
    free(scan->marks);
}

static int cfg_scan_line(const struct cfg_scan *scan, const char *section, const char *key) {
    for (size_t i = 0; i < scan->n; i++)
        if (strcmp(scan->marks[i].section, section) == 0 &&
            ((!key && !scan->marks[i].key) ||
             (key && scan->marks[i].key && strcmp(scan->marks[i].key, key) == 0)))
            return scan->marks[i].line;
    return 0;
}

/* Scan `text` the way iniparser reads it (comments ';' '#', [section], key = value, '\' at the
 * end of a line continues it) to find line numbers, repeated names and lines iniparser would
 * reject, which it reports without saying which. */
static ufo_status cfg_scan_text(const char *path, const char *text, size_t size,
                                struct cfg_scan *scan) {
    char *section = cfg_strdup("");
    if (!section) return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    bool continued = false;
    int line = 0;
    ufo_status st = UFO_OK;
    for (size_t pos = 0; pos < size && st == UFO_OK;) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', size - pos);
        size_t n = nl ? (size_t)(nl - s) : size - pos;
        pos += n + 1;
        line++;
        if (line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            st = ufo_fail(UFO_ERR_CONFIG, "%s:1: the file starts with a UTF-8 byte-order mark, "
                          "which iniparser cannot read: save it without one", path);
            break;
        }
        if (n >= 1023) {
            st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: line longer than iniparser's limit of 1022 "
                          "characters", path, line);
            break;
        }
        if (memchr(s, '\0', n)) {
            st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: binary data (a NUL byte) in a text file",
                          path, line);
            break;
        }
        while (n > 0 && isspace((unsigned char)*s)) s++, n--;
        while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
        bool was_continued = continued;
        continued = n > 0 && s[n - 1] == '\\';
        if (was_continued || n == 0 || *s == ';' || *s == '#') continue;

        struct cfg_mark mark = {0};
        mark.line = line;
        if (*s == '[') {
            if (s[n - 1] != ']') {
                st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: a section header must end with ']': %.*s",
                              path, line, (int)n, s);
                break;
            }
            free(section);
            section = cfg_trimmed(s + 1, n - 2, true);
            if (!section) return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
            if (*section == '\0' || strchr(section, ':')) {
                st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: bad section name [%s]", path, line,
                              section);
                break;
            }
            int before = cfg_scan_line(scan, section, NULL);
            if (before) {
                st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: section [%s] appears again (first at line "
                              "%d): keep one", path, line, section, before);
                break;
            }
            mark.section = cfg_strdup(section);
        } else {
            const char *eq = memchr(s, '=', n);
            if (!eq) {
                st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: expected key = value or [section], got: "
                              "%.*s", path, line, (int)n, s);
                break;
            }
            mark.key = cfg_trimmed(s, (size_t)(eq - s), true);
            if (mark.key && *mark.key == '\0') {
                free(mark.key);
                st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: a key name is missing before '='", path,
                              line);
                break;
            }
            if (*section == '\0') {
                st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: key %s outside any [section]", path, line,
                              mark.key ? mark.key : "?");
                free(mark.key);
                break;
            }
            /* iniparser ends an unquoted value at the first ';' or '#': one glued to the text
             * ("/data/a#1") is far more likely part of a path than a comment */
            const char *val = eq + 1, *end = s + n;
            while (val < end && isspace((unsigned char)*val)) val++;
            if (mark.key && val < end && *val != '"' && *val != '\'') {
                for (const char *c = val + 1; c < end; c++)
                    if ((*c == ';' || *c == '#') && !isspace((unsigned char)c[-1])) {
                        st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: %s.%s: '%c' in the value would start "
                                      "a comment: quote the value (\"...\") to keep it, or put a "
                                      "space before the comment", path, line, section, mark.key,
                                      *c);
                        break;
                    }
                if (st != UFO_OK) {
                    free(mark.key);
                    break;
                }
            }
            int before = mark.key ? cfg_scan_line(scan, section, mark.key) : 0;
            if (before) {
                st = ufo_fail(UFO_ERR_CONFIG, "%s:%d: %s.%s given twice (first at line %d)", path,
                              line, section, mark.key, before);
                free(mark.key);
                break;
            }
            mark.section = cfg_strdup(section);
        }
        if (!mark.section || !cfg_grow((void **)&scan->marks, &scan->cap, scan->n + 1,
                                       sizeof *scan->marks)) {
            free(mark.section);
            free(mark.key);
            st = ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
            break;
        }
        scan->marks[scan->n++] = mark;
    }
    free(section);
    return st;
}

static _Thread_local char cfg_ini_message[512];

/* iniparser reports syntax errors through a printf-like callback: keep the text. */
static int cfg_ini_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cfg_ini_message, sizeof cfg_ini_message, fmt, ap);
    va_end(ap);
    for (char *c = cfg_ini_message; *c; c++)
        if (*c == '\n') *c = ' ';
    return n;
}

static ufo_status cfg_read_file(const char *path, char **text, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return ufo_fail(UFO_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *b2 = cap < ((size_t)16 << 20) ? realloc(buf, cap * 2) : NULL;
        if (!b2) {
            free(buf);
            fclose(f);
            return cap >= ((size_t)16 << 20)
                       ? ufo_fail(UFO_ERR_CONFIG, "%s: larger than 16 MiB: not a configuration",
                                  path)
                       : ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
        }
        buf = b2;
        cap *= 2;
    }
    bool failed = ferror(f);
    fclose(f);
    if (!buf) return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
    if (failed) {
        free(buf);
        return ufo_fail(UFO_ERR_IO, "%s: read error", path);
    }
    *text = buf;
    *size = n;
    return UFO_OK;
}

ufo_status cfg_load(struct cfg_doc **out, const struct cfg_schema *schema, const char *path) {
    *out = NULL;
    char *text = NULL;
    size_t size = 0;
    struct cfg_scan scan = {0};
    struct cfg_doc *doc = NULL;
    dictionary *dict = NULL;
    ufo_status st;

    /* our scan first: it names the line of a syntax error, iniparser only counts them */
    if ((st = cfg_read_file(path, &text, &size)) != UFO_OK) return st;
    st = cfg_scan_text(path, text, size, &scan);
    free(text);
    if (st != UFO_OK) goto fail;

    cfg_ini_message[0] = '\0';
    iniparser_set_error_callback(cfg_ini_error);
    dict = iniparser_load(path);
    iniparser_set_error_callback(NULL);
    if (!dict) {
        st = ufo_fail(UFO_ERR_CONFIG, "%s: not a valid INI file: %s", path,
                      cfg_ini_message[0] ? cfg_ini_message : "iniparser could not read it");
        goto fail;
    }
    if ((st = cfg_new(&doc, schema)) != UFO_OK) goto fail;
    if (!(doc->path = cfg_strdup(path))) {
        st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
        goto fail;
    }

    /* iniparser keeps entries in the order read: "section" (no value), then "section:key" */
    for (ssize_t i = 0; i < dict->size; i++) {
        const char *name = dict->key[i];
        if (!name) continue;
        char where[1100];
        const char *colon = strchr(name, ':');
        if (!colon) {
            snprintf(where, sizeof where, "%s:%d", path, cfg_scan_line(&scan, name, NULL));
            if ((st = cfg_check_section(doc, name, where)) != UFO_OK) goto fail;
            if ((st = cfg_add_section(doc, name)) != UFO_OK) goto fail;
            continue;
        }
        char *sec = cfg_strndup(name, (size_t)(colon - name));
        if (!sec) {
            st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        int line = cfg_scan_line(&scan, sec, colon + 1);
        if (line) snprintf(where, sizeof where, "%s:%d", path, line);
        else snprintf(where, sizeof where, "%s", path);
        if (*sec == '\0') {
            free(sec);
            st = ufo_fail(UFO_ERR_CONFIG, "%s: key %s outside any [section]", where, colon + 1);
            goto fail;
        }
        st = cfg_set_value(doc, sec, colon + 1, dict->val[i] ? dict->val[i] : "", where);
        free(sec);
        if (st != UFO_OK) goto fail;
    }
    iniparser_freedict(dict);
    cfg_scan_free(&scan);
    *out = doc;
    return UFO_OK;

fail:
    if (dict) iniparser_freedict(dict);
    cfg_scan_free(&scan);
    cfg_free(doc);
    return st;
}

/* ---- using the values ---- */

size_t cfg_instances(const struct cfg_doc *doc, const char *prefix) {
    size_t n = 0, len = strlen(prefix);
    for (size_t i = 0; i < doc->n_sections; i++)
        n += strncmp(doc->sections[i], prefix, len) == 0;
    return n;
}

const char *cfg_instance(const struct cfg_doc *doc, const char *prefix, size_t index) {
    size_t n = 0, len = strlen(prefix);
    for (size_t i = 0; i < doc->n_sections; i++)
        if (strncmp(doc->sections[i], prefix, len) == 0 && n++ == index) return doc->sections[i];
    return NULL;
}

bool cfg_given(const struct cfg_doc *doc, const char *section, const char *key) {
    return cfg_find_entry(doc, section, key) != NULL;
}

const char *cfg_origin(const struct cfg_doc *doc, const char *section, const char *key) {
    const struct cfg_entry *e = cfg_find_entry(doc, section, key);
    return e ? e->origin : "default";
}

const char *cfg_path(const struct cfg_doc *doc) {
    return doc->path;
}

static bool cfg_keep(struct cfg_doc *doc, void *p) {
    if (!p) return true;
    if (!cfg_grow((void **)&doc->allocs, &doc->cap_allocs, doc->n_allocs + 1,
                  sizeof *doc->allocs))
        return false;
    doc->allocs[doc->n_allocs++] = p;
    return true;
}

ufo_status cfg_bind(struct cfg_doc *doc, const char *section, void *target) {
    const struct cfg_section *s = cfg_find_section(doc->schema, section);
    if (!s) return ufo_fail(UFO_ERR_CONFIG, "configuration: no section [%s] in the schema",
                            section);
    const char *file = doc->path ? doc->path : "configuration";
    for (size_t i = 0; i < s->n_keys; i++) {
        const struct cfg_key *spec = &s->keys[i];
        const struct cfg_entry *e = cfg_find_entry(doc, section, spec->name);
        const char *text = e ? e->text : spec->def;
        if (!text) {
            if (spec->type == CFG_ENUM)
                return ufo_fail(UFO_ERR_CONFIG, "%s: [%s] needs %s (one of %s)", file, section,
                                spec->name, spec->choices);
            return ufo_fail(UFO_ERR_CONFIG, "%s: [%s] needs %s (%s)", file, section, spec->name,
                            cfg_type_name(spec->type));
        }
        struct cfg_parsed p;
        char why[256];
        if (!cfg_parse(spec, text, &p, why, sizeof why)) {
            cfg_parsed_free(&p);
            return ufo_fail(UFO_ERR_CONFIG, "%s: %s.%s = \"%s\": %s", e ? e->origin : "default",
                            section, spec->name, text, why);
        }

        /* store at the schema's offset; list arrays move to the document */
        char *dst = (char *)target + spec->offset;
        bool kept = true;
        switch (spec->type) {
        case CFG_INT: memcpy(dst, &p.i, sizeof p.i); break;
        case CFG_FLOAT: memcpy(dst, &p.f, sizeof p.f); break;
        case CFG_BOOL: memcpy(dst, &p.b, sizeof p.b); break;
        case CFG_STRING: memcpy(dst, &text, sizeof text); break;
        case CFG_ENUM: memcpy(dst, &p.e, sizeof p.e); break;
        case CFG_INTS: {
            struct cfg_ints v = {p.ints, p.n};
            kept = cfg_keep(doc, p.ints);
            if (kept) p.ints = NULL;
            memcpy(dst, &v, sizeof v);
            break;
        }
        case CFG_FLOATS: {
            struct cfg_floats v = {p.floats, p.n};
            kept = cfg_keep(doc, p.floats);
            if (kept) p.floats = NULL;
            memcpy(dst, &v, sizeof v);
            break;
        }
        case CFG_STRINGS: {
            struct cfg_strings v = {(const char *const *)p.strings, p.n};
            kept = cfg_keep(doc, p.strings) && cfg_keep(doc, p.pool);
            if (kept) p.strings = NULL, p.pool = NULL;
            memcpy(dst, &v, sizeof v);
            break;
        }
        }
        cfg_parsed_free(&p);
        if (!kept) return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    }
    return UFO_OK;
}

/* One "key = value" line, quoted where iniparser would otherwise cut or change the value. */
static void cfg_write_value(FILE *f, const char *key, const char *text) {
    size_t n = strlen(text);
    bool quote = n > 0 && (strpbrk(text, ";#") || isspace((unsigned char)text[0]) ||
                           isspace((unsigned char)text[n - 1]) || text[0] == '"' ||
                           text[0] == '\'' || text[n - 1] == '\\');
    if (!quote) fprintf(f, "%s = %s\n", key, text);
    else if (!strchr(text, '"')) fprintf(f, "%s = \"%s\"\n", key, text);
    else fprintf(f, "%s = '%s'\n", key, text);
}

static void cfg_write_section(const struct cfg_doc *doc, FILE *f, const struct cfg_section *s,
                              const char *name, bool with_help, bool section_help, bool *first) {
    if (!*first) fputc('\n', f);
    *first = false;
    if (with_help && section_help && s->help) fprintf(f, "; %s\n", s->help);
    fprintf(f, "[%s]\n", name);
    for (size_t k = 0; k < s->n_keys; k++) {
        const struct cfg_key *spec = &s->keys[k];
        const struct cfg_entry *e = cfg_find_entry(doc, name, spec->name);
        if (with_help && spec->help) fprintf(f, "; %s\n", spec->help);
        if (e) {
            cfg_write_value(f, spec->name, e->text);
        } else if (spec->def) {
            /* defaults in the same canonical form as given values ("1e-4" → "0.0001"), so a
             * saved file re-reads and re-writes byte for byte */
            struct cfg_parsed p;
            char why[256];
            char *text = cfg_parse(spec, spec->def, &p, why, sizeof why)
                             ? cfg_normalise(spec, spec->def, &p) : NULL;
            cfg_write_value(f, spec->name, text ? text : spec->def);
            free(text);
            cfg_parsed_free(&p);
        } else {
            fprintf(f, "; %s = (required, not set)\n", spec->name);
        }
    }
}

ufo_status cfg_write(const struct cfg_doc *doc, FILE *f, bool with_help) {
    bool first = true;
    for (size_t i = 0; i < doc->schema->n_sections; i++) {
        const struct cfg_section *s = &doc->schema->sections[i];
        if (!cfg_is_dynamic(s)) {
            cfg_write_section(doc, f, s, s->name, with_help, true, &first);
            continue;
        }
        for (size_t j = 0; j < cfg_instances(doc, s->name); j++)
            cfg_write_section(doc, f, s, cfg_instance(doc, s->name, j), with_help, j == 0,
                              &first);
    }
    if (fflush(f) != 0 || ferror(f))
        return ufo_fail(UFO_ERR_IO, "writing the configuration: %s", strerror(errno));
    return UFO_OK;
}

ufo_status cfg_write_string(const struct cfg_doc *doc, bool with_help, char **out) {
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) return ufo_fail(UFO_ERR_NOMEM, "configuration: out of memory");
    ufo_status st = cfg_write(doc, f, with_help);
    fclose(f);
    if (st != UFO_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return UFO_OK;
}
