/* The strict INI wrapper on a schema of its own: number grammar, every value type, line numbers
 * in messages, overrides, garbage and truncated files, and the write/read round trip. */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/cfg.h"

static int failures;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            failures++;                                                   \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);         \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

struct basic {
    long n;
    double x;
    bool b;
    const char *s;
    int e;
    struct cfg_ints li;
    struct cfg_floats lf;
    struct cfg_strings ls;
};

struct item {
    const char *label;
    double weight;
};

#define B(f) offsetof(struct basic, f)
#define I(f) offsetof(struct item, f)

static const struct cfg_key basic_keys[] = {
    {.name = "n", .type = CFG_INT, .def = "3", .min = 0, .max = 100, .offset = B(n),
     .help = "a count"},
    {.name = "x", .type = CFG_FLOAT, .def = "0.5", .min = 0, .max = 1, .min_open = true,
     .offset = B(x)},
    {.name = "b", .type = CFG_BOOL, .def = "false", .offset = B(b)},
    {.name = "s", .type = CFG_STRING, .def = "hello", .offset = B(s)},
    {.name = "e", .type = CFG_ENUM, .def = "red", .choices = "red|green|blue", .offset = B(e)},
    {.name = "li", .type = CFG_INTS, .def = "1, 2", .min = 0, .max = 10, .min_items = 1,
     .offset = B(li)},
    {.name = "lf", .type = CFG_FLOATS, .def = "", .offset = B(lf)},
    {.name = "ls", .type = CFG_STRINGS, .def = "a, b", .offset = B(ls)},
};

static const struct cfg_key item_keys[] = {
    {.name = "label", .type = CFG_STRING, .def = NULL, .min_items = 1, .offset = I(label)},
    {.name = "weight", .type = CFG_FLOAT, .def = "1", .offset = I(weight)},
};

static const struct cfg_section sections[] = {
    {"basic", basic_keys, sizeof basic_keys / sizeof basic_keys[0], "plain values"},
    {"item.", item_keys, sizeof item_keys / sizeof item_keys[0], "one per item"},
};
static const struct cfg_schema schema = {sections, 2};

static char dir[256];

/* Write `text` (of `size` bytes, or strlen when size is -1) to a file in the test folder. */
static const char *put(const char *name, const char *text, long size) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite(text, 1, size < 0 ? strlen(text) : (size_t)size, f);
    fclose(f);
    return path;
}

static void test_numbers(void) {
    static const struct { const char *text; bool ok; long v; } ints[] = {
        {"0", true, 0}, {"-12", true, -12}, {"123", true, 123},
        {"9223372036854775807", true, 9223372036854775807L},
        {"", false, 0}, {"0x10", false, 0}, {"1e3", false, 0}, {"012", false, 0},
        {"+5", false, 0}, {" 5", false, 0}, {"5 ", false, 0}, {"12abc", false, 0},
        {"9223372036854775808", false, 0}, {"-", false, 0}, {"1.0", false, 0}, {"--1", false, 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        long v = 777;
        bool ok = cfg_parse_long(ints[i].text, &v);
        CHECK(ok == ints[i].ok, "cfg_parse_long(\"%s\") returned %d", ints[i].text, ok);
        CHECK(ok ? v == ints[i].v : v == 777, "cfg_parse_long(\"%s\") gave %ld", ints[i].text, v);
    }
    static const struct { const char *text; bool ok; double v; } reals[] = {
        {"0.1", true, 0.1}, {"1e-4", true, 1e-4}, {"-2.5E3", true, -2500}, {".5", true, 0.5},
        {"5.", true, 5}, {"+1", true, 1}, {"0", true, 0}, {"0e-999", true, 0},
        {"", false, 0}, {"0x1p3", false, 0}, {"inf", false, 0}, {"nan", false, 0},
        {"1e", false, 0}, {"1e+", false, 0}, {"abc", false, 0}, {"1.0x", false, 0},
        {"1e999", false, 0}, {"1e-400", false, 0}, {"--1", false, 0}, {".", false, 0},
        {"1.2.3", false, 0}, {"1,5", false, 0}, {" 1", false, 0},
    };
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        double v = 777;
        bool ok = cfg_parse_double(reals[i].text, &v);
        CHECK(ok == reals[i].ok, "cfg_parse_double(\"%s\") returned %d", reals[i].text, ok);
        CHECK(ok ? v == reals[i].v : v == 777, "cfg_parse_double(\"%s\") gave %.17g",
              reals[i].text, v);
    }
    bool b = false;
    CHECK(cfg_parse_bool("Yes", &b) && b, "Yes");
    CHECK(cfg_parse_bool("off", &b) && !b, "off");
    CHECK(!cfg_parse_bool("2", &b) && !cfg_parse_bool("", &b) && !cfg_parse_bool("truee", &b),
          "bad bools accepted");
}

static void test_values(void) {
    const char *path = put("good.ini",
                           "; a comment\n"
                           "[basic]\n"
                           "n = 42\n"
                           "x = 1e-1   ; inline comment\n"
                           "# another comment\n"
                           "b = yes\n"
                           "s = \"quoted ; text\"\n"
                           "e = Green\n"
                           "li = 0, 10 ,5\n"
                           "lf = 0.25, -1e3\n"
                           "ls = one,two , three\n"
                           "\n"
                           "[item.first]\n"
                           "label = A\n"
                           "[ITEM.second]\n"
                           "label = B\n"
                           "weight = 2.5\n", -1);
    struct cfg_doc *doc;
    ufo_status st = cfg_load(&doc, &schema, path);
    CHECK(st == UFO_OK, "load good.ini: %s", ufo_last_error());
    if (st != UFO_OK) return;
    struct basic v;
    st = cfg_bind(doc, "basic", &v);
    CHECK(st == UFO_OK, "bind: %s", ufo_last_error());
    CHECK(v.n == 42 && v.x == 0.1 && v.b && strcmp(v.s, "quoted ; text") == 0 && v.e == 1,
          "basic values: n %ld x %g b %d s '%s' e %d", v.n, v.x, v.b, v.s, v.e);
    CHECK(v.li.n == 3 && v.li.v[0] == 0 && v.li.v[1] == 10 && v.li.v[2] == 5, "li");
    CHECK(v.lf.n == 2 && v.lf.v[0] == 0.25 && v.lf.v[1] == -1000, "lf");
    CHECK(v.ls.n == 3 && strcmp(v.ls.v[0], "one") == 0 && strcmp(v.ls.v[1], "two") == 0 &&
              strcmp(v.ls.v[2], "three") == 0, "ls");
    CHECK(cfg_instances(doc, "item.") == 2, "instances: %zu", cfg_instances(doc, "item."));
    CHECK(strcmp(cfg_instance(doc, "item.", 1), "item.second") == 0, "instance 1 name");
    struct item it;
    CHECK(cfg_bind(doc, "item.second", &it) == UFO_OK && strcmp(it.label, "B") == 0 &&
              it.weight == 2.5, "item.second");
    CHECK(cfg_bind(doc, "item.first", &it) == UFO_OK && it.weight == 1, "item.first default");

    /* where values came from */
    char want[600];
    snprintf(want, sizeof want, "%s:9", path);
    CHECK(strcmp(cfg_origin(doc, "basic", "li"), want) == 0, "origin of li: %s",
          cfg_origin(doc, "basic", "li"));
    CHECK(strcmp(cfg_origin(doc, "item.first", "weight"), "default") == 0, "origin default");
    CHECK(cfg_given(doc, "basic", "n") && !cfg_given(doc, "item.first", "weight"), "given");

    /* overrides are checked like the file and replace values */
    CHECK(cfg_set(doc, "basic.n=7") == UFO_OK, "set n: %s", ufo_last_error());
    CHECK(cfg_set(doc, "item.third.label = C") == UFO_OK, "new instance: %s", ufo_last_error());
    CHECK(cfg_bind(doc, "basic", &v) == UFO_OK && v.n == 7, "n after --set: %ld", v.n);
    CHECK(strcmp(cfg_origin(doc, "basic", "n"), "--set") == 0, "origin --set");
    CHECK(cfg_instances(doc, "item.") == 3, "third instance");
    cfg_free(doc);

    /* an empty file: every key at its default */
    CHECK(cfg_load(&doc, &schema, put("empty.ini", "", 0)) == UFO_OK, "empty file: %s",
          ufo_last_error());
    if (doc) {
        CHECK(cfg_bind(doc, "basic", &v) == UFO_OK && v.n == 3 && v.x == 0.5 && !v.b &&
                  strcmp(v.s, "hello") == 0 && v.e == 0 && v.li.n == 2 && v.lf.n == 0 &&
                  v.ls.n == 2, "defaults");
        cfg_free(doc);
    }
}

/* One file or override that must fail, with the exact message (FILE stands for the path). */
struct bad {
    const char *ini;      /* file contents; NULL: `set` is an override on an empty config */
    const char *set;
    ufo_status status;
    const char *message;
};

#define TEN "xxxxxxxxxx"
#define HUNDRED TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN
#define LONG_VALUE HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED HUNDRED \
    HUNDRED

static const struct bad bads[] = {
    {"[basic]\nn = 0x10\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.n = \"0x10\": not a base-10 integer"},
    {"[basic]\nn = 1e3\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.n = \"1e3\": not a base-10 integer"},
    {"[basic]\nn =\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.n = \"\": empty, expected an integer"},
    {"[basic]\nn = 5x\n", NULL, UFO_ERR_CONFIG, "FILE:2: basic.n = \"5x\": not a base-10 integer"},
    {"[basic]\nn = 101\n", NULL, UFO_ERR_CONFIG, "FILE:2: basic.n = \"101\": must be <= 100"},
    {"[basic]\nn = -1\n", NULL, UFO_ERR_CONFIG, "FILE:2: basic.n = \"-1\": must be >= 0"},
    {"[basic]\nx = 0\n", NULL, UFO_ERR_CONFIG, "FILE:2: basic.x = \"0\": must be > 0"},
    {"[basic]\nx = nan\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.x = \"nan\": not a finite decimal number"},
    {"[basic]\nb = maybe\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.b = \"maybe\": expected true or false"},
    {"[basic]\ne = purple\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.e = \"purple\": expected one of red|green|blue"},
    {"[basic]\nli = 1,,2\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.li = \"1,,2\": element 2 (\"\") is empty"},
    {"[basic]\nli = 1, 11\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.li = \"1, 11\": element 2 (\"11\") must be <= 10"},
    {"[basic]\nli =\n", NULL, UFO_ERR_CONFIG, "FILE:2: basic.li = \"\": needs at least 1 element"},
    {"[basic]\nlf = 1, 2e\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.lf = \"1, 2e\": element 2 (\"2e\") is not a finite decimal number"},
    {"[basic]\nn = 1\nbogus = 2\n", NULL, UFO_ERR_CONFIG,
     "FILE:3: unknown key basic.bogus (known in [basic]: n, x, b, s, e, li, lf, ls)"},
    {"[nope]\nn = 1\n", NULL, UFO_ERR_CONFIG,
     "FILE:1: unknown section [nope] (known: basic, item.NAME)"},
    {"[item.]\nlabel = x\n", NULL, UFO_ERR_CONFIG,
     "FILE:1: section [item.] needs a name: [item.NAME]"},
    {"[item.a b]\nlabel = x\n", NULL, UFO_ERR_CONFIG,
     "FILE:1: section [item.a b]: a name may hold only a-z, 0-9, '_' and '-'"},
    {"n = 1\n[basic]\n", NULL, UFO_ERR_CONFIG, "FILE:1: key n outside any [section]"},
    {"[basic]\nn = 1\nn = 2\n", NULL, UFO_ERR_CONFIG,
     "FILE:3: basic.n given twice (first at line 2)"},
    {"[basic]\n[item.a]\nlabel = x\n[basic]\n", NULL, UFO_ERR_CONFIG,
     "FILE:4: section [basic] appears again (first at line 1): keep one"},
    {"[basic]\njust words\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: expected key = value or [section], got: just words"},
    {"[basic\nn = 1\n", NULL, UFO_ERR_CONFIG, "FILE:1: a section header must end with ']': [basic"},
    {"[basic]\n = 4\n", NULL, UFO_ERR_CONFIG, "FILE:2: a key name is missing before '='"},
    {"[basic]\nn = 1\0\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: binary data (a NUL byte) in a text file"},
    {"[basic]\nn = 4", "basic.n=abc", UFO_ERR_CONFIG,
     "--set: basic.n = \"abc\": not a base-10 integer"},
    {NULL, "basic.n", UFO_ERR_CONFIG, "--set basic.n: expected section.key=value"},
    {NULL, "n=3", UFO_ERR_CONFIG, "--set n=3: expected section.key=value"},
    {NULL, "basic.=3", UFO_ERR_CONFIG, "--set basic.=3: expected section.key=value"},
    {NULL, "basic.q=3", UFO_ERR_CONFIG,
     "--set: unknown key basic.q (known in [basic]: n, x, b, s, e, li, lf, ls)"},
    {NULL, "other.n=3", UFO_ERR_CONFIG, "--set: unknown section [other] (known: basic, item.NAME)"},
    {NULL, "basic.s=a\"b'c", UFO_ERR_CONFIG,
     "--set: basic.s: value contains both kinds of quotes"},
    {NULL, "basic.s=a\tb", UFO_ERR_CONFIG, "--set: basic.s: value contains a control character"},
    {"[item.a]\nweight = 2\n", NULL, UFO_ERR_CONFIG, "FILE: [item.a] needs label (a string)"},
    {"\xEF\xBB\xBF[basic]\nn = 1\n", NULL, UFO_ERR_CONFIG,
     "FILE:1: the file starts with a UTF-8 byte-order mark, which iniparser cannot read: save it "
     "without one"},
    {"[basic]\r\nn = 1\r\ns = " LONG_VALUE "\r\n", NULL, UFO_ERR_CONFIG,
     "FILE:3: line longer than iniparser's limit of 1022 characters"},
    {"[basic]\ns = /data/a#1\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.s: '#' in the value would start a comment: quote the value (\"...\") to keep "
     "it, or put a space before the comment"},
    {"[basic]\nls = a, b;c\n", NULL, UFO_ERR_CONFIG,
     "FILE:2: basic.ls: ';' in the value would start a comment: quote the value (\"...\") to keep "
     "it, or put a space before the comment"},
};

static void test_bad(void) {
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        const struct bad *b = &bads[i];
        const char *path = NULL;
        struct cfg_doc *doc = NULL;
        ufo_status st;
        if (b->ini) {
            /* the NUL case: write through the embedded NUL */
            size_t len = strlen(b->ini);
            if (strstr(b->message, "NUL")) len += 2;
            path = put("bad.ini", b->ini, (long)len);
            st = cfg_load(&doc, &schema, path);
        } else {
            st = cfg_new(&doc, &schema);
        }
        if (st == UFO_OK && b->set) st = cfg_set(doc, b->set);
        if (st == UFO_OK) {
            /* bind every section present to reach the checks made there */
            struct basic v;
            struct item it;
            st = cfg_bind(doc, "basic", &v);
            for (size_t k = 0; st == UFO_OK && k < cfg_instances(doc, "item."); k++)
                st = cfg_bind(doc, cfg_instance(doc, "item.", k), &it);
        }
        char want[1024];
        const char *f = strstr(b->message, "FILE");
        if (f)
            snprintf(want, sizeof want, "%.*s%s%s", (int)(f - b->message), b->message,
                     path ? path : "", f + 4);
        else
            snprintf(want, sizeof want, "%s", b->message);
        CHECK(st == b->status, "case %zu: status %s, want %s (%s)", i, ufo_status_name(st),
              ufo_status_name(b->status), ufo_last_error());
        CHECK(strcmp(ufo_last_error(), want) == 0, "case %zu:\n  got  %s\n  want %s", i,
              ufo_last_error(), want);
        cfg_free(doc);
    }
}

static void test_garbage(void) {
    struct cfg_doc *doc = NULL;

    /* a missing file is an I/O error naming it */
    ufo_status st = cfg_load(&doc, &schema, "/nonexistent/run.ini");
    CHECK(st == UFO_ERR_IO && strstr(ufo_last_error(), "/nonexistent/run.ini"),
          "missing file: %s %s", ufo_status_name(st), ufo_last_error());

    /* random bytes never crash and never load */
    unsigned state = 12345;
    for (int round = 0; round < 50; round++) {
        char buf[300];
        for (size_t i = 0; i < sizeof buf; i++) {
            state = state * 1103515245u + 12345u;
            buf[i] = (char)(state >> 16);
        }
        st = cfg_load(&doc, &schema, put("garbage.ini", buf, sizeof buf));
        CHECK(st != UFO_OK && *ufo_last_error(), "garbage round %d loaded", round);
        if (st == UFO_OK) cfg_free(doc);
    }

    /* a good file cut at every byte either loads or fails with a message */
    const char *good = "[basic]\nn = 42\nx = 0.25\nli = 1, 2, 3\n[item.a]\nlabel = q\n";
    for (size_t cut = 0; cut <= strlen(good); cut++) {
        st = cfg_load(&doc, &schema, put("cut.ini", good, (long)cut));
        if (st == UFO_OK) {
            struct basic v;
            struct item it;
            st = cfg_bind(doc, "basic", &v);
            if (st == UFO_OK && cfg_instances(doc, "item."))
                st = cfg_bind(doc, "item.a", &it);
            cfg_free(doc);
        }
        CHECK(st == UFO_OK || *ufo_last_error(), "cut at %zu: failure without a message", cut);
    }
    /* the cut in the middle of "42" gives 4, one inside "0.25" a shorter number: both valid;
     * a cut right after "n =" is an empty integer */
    st = cfg_load(&doc, &schema, put("cut.ini", good, 12));
    CHECK(st == UFO_ERR_CONFIG && strstr(ufo_last_error(), "basic.n = \"\""),
          "cut after 'n =': %s", ufo_last_error());
    if (st == UFO_OK) cfg_free(doc);
}

/* Values that need quoting survive write → read → write unchanged. */
static void test_round_trip(void) {
    struct cfg_doc *doc;
    const char *path = put("rt.ini", "[basic]\nn = 9\nx = 0.3\nlf = 1e-7, 2.5\n"
                                     "[item.z]\nlabel = zed\n[item.a]\nlabel = ay\nweight = 3\n",
                           -1);
    if (cfg_load(&doc, &schema, path) != UFO_OK) {
        CHECK(0, "load rt.ini: %s", ufo_last_error());
        return;
    }
    static const char *sets[] = {
        "basic.s= has ; semicolon # and hash ",
        "basic.ls=x;y, \"q\", back\\",
        "item.a.label='single' start",
        "basic.b=ON",
        "basic.e=BLUE",
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        CHECK(cfg_set(doc, sets[i]) == UFO_OK, "set %s: %s", sets[i], ufo_last_error());
    char *text1 = NULL, *text2 = NULL;
    CHECK(cfg_write_string(doc, true, &text1) == UFO_OK, "write");
    const char *path2 = put("rt2.ini", text1, -1);
    struct cfg_doc *doc2;
    if (cfg_load(&doc2, &schema, path2) != UFO_OK) {
        CHECK(0, "reload: %s\n%s", ufo_last_error(), text1);
        free(text1);
        cfg_free(doc);
        return;
    }
    CHECK(cfg_write_string(doc2, true, &text2) == UFO_OK, "write 2");
    CHECK(strcmp(text1, text2) == 0, "round trip differs:\n%s\n----\n%s", text1, text2);

    struct basic a, b;
    CHECK(cfg_bind(doc, "basic", &a) == UFO_OK && cfg_bind(doc2, "basic", &b) == UFO_OK, "bind");
    CHECK(a.n == b.n && a.x == b.x && a.b == b.b && a.e == b.e && strcmp(a.s, b.s) == 0,
          "scalars differ after round trip: s '%s' vs '%s'", a.s, b.s);
    CHECK(strcmp(b.s, "has ; semicolon # and hash") == 0 && b.b && b.e == 2, "s '%s'", b.s);
    CHECK(b.lf.n == 2 && b.lf.v[0] == 1e-7 && b.lf.v[1] == 2.5, "lf after round trip");
    CHECK(b.ls.n == 3 && strcmp(b.ls.v[0], "x;y") == 0 && strcmp(b.ls.v[1], "\"q\"") == 0 &&
              strcmp(b.ls.v[2], "back\\") == 0, "ls after round trip: %zu", b.ls.n);
    struct item it;
    CHECK(cfg_bind(doc2, "item.a", &it) == UFO_OK && strcmp(it.label, "'single' start") == 0 &&
              it.weight == 3, "item.a after round trip: '%s'", it.label);
    CHECK(strcmp(cfg_instance(doc2, "item.", 0), "item.z") == 0, "instance order kept");

    /* the effective text is what we expect, defaults included */
    char *plain = NULL;
    CHECK(cfg_write_string(doc2, false, &plain) == UFO_OK, "write plain");
    const char *want =
        "[basic]\n"
        "n = 9\n"
        "x = 0.3\n"
        "b = true\n"
        "s = \"has ; semicolon # and hash\"\n"
        "e = blue\n"
        "li = 1, 2\n"
        "lf = 1e-07, 2.5\n"
        "ls = 'x;y, \"q\", back\\'\n"
        "\n"
        "[item.z]\n"
        "label = zed\n"
        "weight = 1\n"
        "\n"
        "[item.a]\n"
        "label = \"'single' start\"\n"
        "weight = 3\n";
    CHECK(plain && strcmp(plain, want) == 0, "effective config:\n%s\nwant:\n%s", plain, want);
    free(plain);
    free(text1);
    free(text2);
    cfg_free(doc);
    cfg_free(doc2);
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_cfg.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_numbers();
    test_values();
    test_bad();
    test_garbage();
    test_round_trip();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    if (failures) fprintf(stderr, "test_cfg: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
