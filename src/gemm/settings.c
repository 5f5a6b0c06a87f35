/* Per-device GEMM settings: which engine serves which shape class, and tuned parameters.
 *
 * Settings files are INI (data/devices/NAME.ini, compiled into the library). The file whose
 * [match] section fits the device's capabilities with the highest priority wins; the
 * environment variable UFO_DEVICE_SETTINGS may name a file to use instead. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <iniparser/iniparser.h>

#include "core/embedded.h"
#include "gemm/engine.h"

/* iniparser reads only from a path, so embedded text goes through a private temporary file. */
static dictionary *load_text(const char *text) {
    char path[] = "/tmp/ufo-settings-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len;
    close(fd);
    dictionary *d = ok ? iniparser_load(path) : NULL;
    unlink(path);
    return d;
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return n == 0;
}

/* Priority of a settings file for a device; -1 when its [match] section rules it out. */
static int match_priority(dictionary *d, const struct ufo_device_caps *caps) {
    static const char *types[] = {"gpu", "cpu", "accel", "other"};
    const char *type = iniparser_getstring(d, "match:type", "any");
    const char *name = iniparser_getstring(d, "match:name", "");
    if (strcmp(type, "any") != 0 && strcmp(type, types[caps->type]) != 0) return -1;
    if (!contains_nocase(caps->name, name)) return -1;
    return iniparser_getint(d, "match:priority", 0);
}

static ufo_status parse_engine(dictionary *d, const char *key, const char *source,
                               enum ufo_gemm_engine *out) {
    const char *v = iniparser_getstring(d, key, "own");
    if (strcmp(v, "own") == 0) *out = UFO_GEMM_OWN;
    else if (strcmp(v, "clblast") == 0) *out = UFO_GEMM_CLBLAST;
    else return ufo_fail(UFO_ERR_CONFIG, "%s: %s = %s: expected own or clblast", source, key, v);
    return UFO_OK;
}

static ufo_status parse_own_kernel(dictionary *d, const char *key, const char *source,
                                   const char *def, enum gemm_own_kernel *out) {
    const char *v = iniparser_getstring(d, key, def);
    if (strcmp(v, "simple") == 0) *out = GEMM_OWN_SIMPLE;
    else if (strcmp(v, "kblocked") == 0) *out = GEMM_OWN_KBLOCKED;
    else if (strcmp(v, "packed") == 0) *out = GEMM_OWN_PACKED;
    else return ufo_fail(UFO_ERR_CONFIG, "%s: %s = %s: expected simple, kblocked or packed",
                         source, key, v);
    return UFO_OK;
}

static ufo_status parse_pack_a(dictionary *d, const char *key, const char *source,
                               enum gemm_pack_a *out) {
    const char *v = iniparser_getstring(d, key, "always");
    if (strcmp(v, "always") == 0) *out = GEMM_PACK_A_ALWAYS;
    else if (strcmp(v, "transposed") == 0) *out = GEMM_PACK_A_TRANSPOSED;
    else if (strcmp(v, "never") == 0) *out = GEMM_PACK_A_NEVER;
    else return ufo_fail(UFO_ERR_CONFIG, "%s: %s = %s: expected always, transposed or never",
                         source, key, v);
    return UFO_OK;
}

static ufo_status parse_pack(dictionary *d, const char *key, const char *source,
                             enum gemm_pack_kernel *out) {
    const char *v = iniparser_getstring(d, key, "elements");
    if (strcmp(v, "elements") == 0) *out = GEMM_PACK_ELEMENTS;
    else if (strcmp(v, "runs") == 0) *out = GEMM_PACK_RUNS;
    else return ufo_fail(UFO_ERR_CONFIG, "%s: %s = %s: expected elements or runs", source, key,
                         v);
    return UFO_OK;
}

static ufo_status parse_int(dictionary *d, const char *key, const char *source, long def,
                            long lo, long hi, long *out) {
    const char *v = iniparser_getstring(d, key, NULL);
    if (!v) return *out = def, UFO_OK;
    char *end;
    long x = strtol(v, &end, 10);
    if (end == v || *end || x < lo || x > hi)
        return ufo_fail(UFO_ERR_CONFIG, "%s: %s = %s: expected a whole number in %ld..%ld",
                        source, key, v, lo, hi);
    *out = x;
    return UFO_OK;
}

/* iniparser lower-cases section names; CLBlast wants its own spelling of kernel families. */
static const char *clblast_kernel_name(const char *lower) {
    static const char *names[] = {"Xgemm", "XgemmDirect", "Copy", "Pad", "Transpose",
                                  "Padtranspose", "GemmRoutine", "Xaxpy", "Xgemv"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(lower, names[i]) == 0) return names[i];
    return lower;
}

static ufo_status parse_settings(dictionary *d, const char *source, struct gemm_settings *s) {
    memset(s, 0, sizeof *s);
    snprintf(s->source, sizeof s->source, "%s", source);
    ufo_status st;
    long tm, vw, wg0, wg1, kb, nv;
    if ((st = parse_engine(d, "gemm:engine", source, &s->engine)) ||
        (st = parse_engine(d, "gemm:engine_batched", source, &s->engine_batched)) ||
        (st = parse_int(d, "gemm:own_tm", source, 8, 1, 8, &tm)) ||
        (st = parse_int(d, "gemm:own_vw", source, 8, 4, 16, &vw)) ||
        (st = parse_int(d, "gemm:own_wg0", source, 0, 0, 1024, &wg0)) ||
        (st = parse_int(d, "gemm:own_wg1", source, 0, 0, 1024, &wg1)) ||
        (st = parse_int(d, "gemm:own_kb", source, 256, 1, 4096, &kb)) ||
        (st = parse_int(d, "gemm:own_nv", source, 1, 1, 2, &nv)) ||
        (st = parse_pack_a(d, "gemm:own_pack_a", source, &s->own_pack_a)) ||
        (st = parse_pack(d, "gemm:own_pack", source, &s->own_pack)) ||
        (st = parse_own_kernel(d, "gemm:own_kernel", source, "simple", &s->own_kernel)) ||
        (st = parse_own_kernel(d, "gemm:own_kernel_batched", source,
                               iniparser_getstring(d, "gemm:own_kernel", "simple"),
                               &s->own_kernel_batched)))
        return st;
    /* the blocked kernels share k blocks within a work-group, so they need its shape */
    if ((s->own_kernel != GEMM_OWN_SIMPLE || s->own_kernel_batched != GEMM_OWN_SIMPLE) &&
        (wg0 == 0 || wg1 == 0))
        return ufo_fail(UFO_ERR_CONFIG, "%s: gemm.own_kernel kblocked or packed needs "
                        "gemm.own_wg0 and gemm.own_wg1", source);
    if (vw != 4 && vw != 8 && vw != 16)
        return ufo_fail(UFO_ERR_CONFIG, "%s: gemm.own_vw = %ld: expected 4, 8 or 16", source, vw);
    s->own_tm = (int)tm;
    s->own_vw = (int)vw;
    s->own_wg0 = (size_t)wg0;
    s->own_wg1 = (size_t)wg1;
    s->own_kb = (int)kb;
    s->own_nv = (int)nv;

    /* sections [clblast.KERNEL] hold CLBlast's tuning parameters for that kernel family */
    for (int i = 0; i < iniparser_getnsec(d); i++) {
        const char *sec = iniparser_getsecname(d, i);
        if (strncmp(sec, "clblast.", 8) != 0) continue;
        int nkeys = iniparser_getsecnkeys(d, sec);
        const char **keys = calloc((size_t)nkeys + 1, sizeof *keys);
        if (!keys) return ufo_fail(UFO_ERR_NOMEM, "out of memory");
        iniparser_getseckeys(d, sec, keys);
        for (int k = 0; k < nkeys && st == UFO_OK; k++) {
            if (s->n_clblast == sizeof s->clblast / sizeof s->clblast[0]) {
                st = ufo_fail(UFO_ERR_CONFIG, "%s: too many CLBlast parameters", source);
                break;
            }
            struct clblast_override *o = &s->clblast[s->n_clblast];
            long v;
            st = parse_int(d, keys[k], source, 0, 0, 1 << 20, &v);
            /* CLBlast's names are upper case (MWG); iniparser lower-cases keys */
            snprintf(o->kernel, sizeof o->kernel, "%s", clblast_kernel_name(sec + 8));
            const char *name = strchr(keys[k], ':') + 1;
            size_t n = 0;
            for (; name[n] && n + 1 < sizeof o->name; n++)
                o->name[n] = (char)(name[n] >= 'a' && name[n] <= 'z' ? name[n] - 32 : name[n]);
            o->name[n] = '\0';
            o->value = (size_t)v;
            s->n_clblast++;
        }
        free(keys);
        if (st != UFO_OK) return st;
    }
    return UFO_OK;
}

ufo_status gemm_settings_for(const struct ufo_device_caps *caps, struct gemm_settings *out) {
    const char *path = getenv("UFO_DEVICE_SETTINGS");
    if (path && *path) {
        if (access(path, R_OK) != 0)
            return ufo_fail(UFO_ERR_IO, "%s: cannot read the device settings file "
                            "(UFO_DEVICE_SETTINGS)", path);
        dictionary *d = iniparser_load(path);
        if (!d) return ufo_fail(UFO_ERR_CONFIG, "%s: not a valid settings file", path);
        ufo_status st = parse_settings(d, path, out);
        iniparser_freedict(d);
        return st;
    }

    /* the best-matching embedded file */
    const struct ufo_embedded_file *best = NULL;
    int best_priority = -1;
    for (const struct ufo_embedded_file *f = ufo_embedded_files; f->name; f++) {
        if (strncmp(f->name, "devices/", 8) != 0) continue;
        dictionary *d = load_text(f->data);
        if (!d) return ufo_fail(UFO_ERR_CONFIG, "embedded %s cannot be parsed", f->name);
        int p = match_priority(d, caps);
        iniparser_freedict(d);
        if (p > best_priority) best = f, best_priority = p;
    }
    if (!best) return ufo_fail(UFO_ERR_CONFIG, "no device settings match %s", caps->name);
    dictionary *d = load_text(best->data);
    if (!d) return ufo_fail(UFO_ERR_CONFIG, "embedded %s cannot be parsed", best->name);
    ufo_status st = parse_settings(d, best->name, out);
    iniparser_freedict(d);
    return st;
}
