/* format = facebin: insightface's verification packs (lfw.bin, cfp_fp.bin, agedb_30.bin, ...):
 * a Python pickle of the tuple (images, same), images a list of encoded JPEG/PNG byte strings
 * and same a list (or numpy array) of booleans, pair i being images 2i and 2i+1.
 *
 * Python is not needed: a small pickle machine below runs the opcodes that Python 2 and
 * Python 3 writers emit for such a tuple (protocols 2 to 5), including the numpy array
 * reconstruction calls, and nothing else: no callable named in the file is ever executed, they
 * are only recognised by name. Every read is bounds-checked against the file size.
 *
 * The image bytes stay in the file: items are DATA_RANGE into the .bin. Bytes that a Python 3
 * protocol-2 writer stored as latin-1 text (`_codecs.encode`) are rebuilt into DATA_BLOB items. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "data/reader.h"

/* Memo indices beyond this are refused (a real pack uses one per image). */
#define PK_MAX_MEMO (1u << 24)

enum pk_type { PK_NONE, PK_BOOL, PK_INT, PK_BYTES, PK_STR, PK_LIST, PK_TUPLE, PK_GLOBAL, PK_OBJ };

struct pk_obj {
    enum pk_type type;
    int64_t i;                 /* PK_BOOL, PK_INT */
    const uint8_t *data;       /* PK_BYTES, PK_STR: the bytes (in the file unless `owned`) */
    uint64_t len;
    uint8_t *owned;
    struct pk_obj **items;     /* PK_LIST, PK_TUPLE */
    size_t n, cap;
    const char *module, *name; /* PK_GLOBAL: NUL-terminated copies in `owned` */
    struct pk_obj *call, *args, *state; /* PK_OBJ: a REDUCE result, its BUILD state */
};

struct pk_vm {
    const char *path;
    const uint8_t *base;
    size_t size, pos;
    struct pk_obj **stack;
    size_t depth, stack_cap;
    size_t *marks;
    size_t n_marks, marks_cap;
    struct pk_obj **memo;
    size_t memo_cap, memo_used;
    struct pk_obj **all; /* every object, for freeing */
    size_t n_all, all_cap;
};

static ufo_status pk_bad(struct pk_vm *vm, const char *why) {
    return ufo_fail(UFO_ERR_FORMAT, "%s: pickle %s at byte %zu", vm->path, why, vm->pos);
}

static int pk_grow(void **arr, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *p = realloc(*arr, c * elem);
    if (!p)
        return -1;
    *arr = p;
    *cap = c;
    return 0;
}

static struct pk_obj *pk_new(struct pk_vm *vm, enum pk_type type) {
    if (pk_grow((void **)&vm->all, &vm->all_cap, vm->n_all + 1, sizeof *vm->all))
        return NULL;
    struct pk_obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->type = type;
    vm->all[vm->n_all++] = o;
    return o;
}

static void pk_free(struct pk_vm *vm) {
    for (size_t i = 0; i < vm->n_all; i++) {
        free(vm->all[i]->items);
        free(vm->all[i]->owned);
        free(vm->all[i]);
    }
    free(vm->all);
    free(vm->stack);
    free(vm->marks);
    free(vm->memo);
}

static ufo_status pk_push(struct pk_vm *vm, struct pk_obj *o) {
    if (!o || pk_grow((void **)&vm->stack, &vm->stack_cap, vm->depth + 1, sizeof *vm->stack))
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory unpickling", vm->path);
    vm->stack[vm->depth++] = o;
    return UFO_OK;
}

/* The floor of the stack: objects below the last mark are out of reach. */
static size_t pk_floor(const struct pk_vm *vm) {
    return vm->n_marks ? vm->marks[vm->n_marks - 1] : 0;
}

static struct pk_obj *pk_pop(struct pk_vm *vm) {
    return vm->depth > pk_floor(vm) ? vm->stack[--vm->depth] : NULL;
}

static int pk_take(struct pk_vm *vm, size_t n, const uint8_t **p) {
    if (n > vm->size - vm->pos)
        return -1;
    *p = vm->base + vm->pos;
    vm->pos += n;
    return 0;
}

static uint64_t pk_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Append items to a list (APPEND, APPENDS). */
static ufo_status pk_extend(struct pk_vm *vm, struct pk_obj *list, struct pk_obj **items,
                            size_t n) {
    if (!list || list->type != PK_LIST)
        return pk_bad(vm, "append to something that is not a list");
    if (n == 0)
        return UFO_OK;
    if (pk_grow((void **)&list->items, &list->cap, list->n + n, sizeof *list->items))
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory unpickling", vm->path);
    memcpy(list->items + list->n, items, n * sizeof *items);
    list->n += n;
    return UFO_OK;
}

/* A tuple or list of the top n objects. */
static ufo_status pk_collect(struct pk_vm *vm, enum pk_type type, size_t n) {
    if (vm->depth - pk_floor(vm) < n)
        return pk_bad(vm, "stack underflow");
    struct pk_obj *t = pk_new(vm, type);
    if (!t || (n && !(t->items = malloc(n * sizeof *t->items))))
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory unpickling", vm->path);
    if (n)
        memcpy(t->items, vm->stack + vm->depth - n, n * sizeof *t->items);
    t->n = t->cap = n;
    vm->depth -= n;
    return pk_push(vm, t);
}

static int pk_str_is(const struct pk_obj *o, const char *s) {
    return o && o->type == PK_STR && o->len == strlen(s) && !memcmp(o->data, s, o->len);
}

static int pk_global_is(const struct pk_obj *o, const char *module_suffix, const char *name) {
    if (!o || o->type != PK_GLOBAL || strcmp(o->name, name))
        return 0;
    size_t lm = strlen(o->module), ls = strlen(module_suffix);
    return lm >= ls && !strcmp(o->module + lm - ls, module_suffix);
}

static ufo_status pk_global(struct pk_vm *vm, const uint8_t *module, size_t lm,
                            const uint8_t *name, size_t ln) {
    struct pk_obj *g = pk_new(vm, PK_GLOBAL);
    if (!g || !(g->owned = malloc(lm + ln + 2)))
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory unpickling", vm->path);
    memcpy(g->owned, module, lm);
    g->owned[lm] = '\0';
    memcpy(g->owned + lm + 1, name, ln);
    g->owned[lm + 1 + ln] = '\0';
    g->module = (const char *)g->owned;
    g->name = (const char *)g->owned + lm + 1;
    return pk_push(vm, g);
}

/* UTF-8 text of code points below 256 back to the latin-1 bytes it encodes. */
static struct pk_obj *pk_latin1(struct pk_vm *vm, const struct pk_obj *s) {
    struct pk_obj *b = pk_new(vm, PK_BYTES);
    if (!b || !(b->owned = malloc(s->len ? s->len : 1)))
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < s->len; i++) {
        uint8_t c = s->data[i];
        if (c < 0x80) {
            b->owned[n++] = c;
        } else if ((c == 0xc2 || c == 0xc3) && i + 1 < s->len && (s->data[i + 1] & 0xc0) == 0x80) {
            b->owned[n++] = (uint8_t)((c & 0x03) << 6 | (s->data[i + 1] & 0x3f));
            i++;
        } else {
            return NULL;
        }
    }
    b->data = b->owned;
    b->len = n;
    return b;
}

/* REDUCE: a few callables are evaluated because they only rebuild bytes; every other call is
 * kept as an object for the caller to recognise (numpy arrays). */
static ufo_status pk_reduce(struct pk_vm *vm) {
    struct pk_obj *args = pk_pop(vm), *call = pk_pop(vm);
    if (!args || !call || args->type != PK_TUPLE || call->type != PK_GLOBAL)
        return pk_bad(vm, "REDUCE without a global and an argument tuple");
    if (pk_global_is(call, "_codecs", "encode") && args->n == 2 &&
        args->items[0]->type == PK_STR && pk_str_is(args->items[1], "latin1")) {
        struct pk_obj *b = pk_latin1(vm, args->items[0]);
        return b ? pk_push(vm, b) : pk_bad(vm, "_codecs.encode of text that is not latin-1");
    }
    if ((pk_global_is(call, "__builtin__", "bytes") || pk_global_is(call, "builtins", "bytes")) &&
        args->n == 0) {
        struct pk_obj *b = pk_new(vm, PK_BYTES);
        if (b)
            b->data = vm->base;
        return pk_push(vm, b);
    }
    struct pk_obj *o = pk_new(vm, PK_OBJ);
    if (o) {
        o->call = call;
        o->args = args;
    }
    return pk_push(vm, o);
}

static ufo_status pk_memo_put(struct pk_vm *vm, uint64_t index) {
    if (vm->depth == 0 || index >= PK_MAX_MEMO || index > vm->size)
        return pk_bad(vm, "bad memo store");
    size_t old = vm->memo_cap;
    if (pk_grow((void **)&vm->memo, &vm->memo_cap, index + 1, sizeof *vm->memo))
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory unpickling", vm->path);
    if (vm->memo_cap > old)
        memset(vm->memo + old, 0, (vm->memo_cap - old) * sizeof *vm->memo);
    if (!vm->memo[index])
        vm->memo_used++;
    vm->memo[index] = vm->stack[vm->depth - 1];
    return UFO_OK;
}

static ufo_status pk_memo_get(struct pk_vm *vm, uint64_t index) {
    if (index >= vm->memo_cap || !vm->memo[index])
        return pk_bad(vm, "memo fetch of an unknown index");
    return pk_push(vm, vm->memo[index]);
}

/* A length-prefixed string: PK_BYTES or PK_STR over the file's bytes. */
static ufo_status pk_string(struct pk_vm *vm, enum pk_type type, int len_bytes) {
    const uint8_t *p;
    if (pk_take(vm, (size_t)len_bytes, &p))
        return pk_bad(vm, "truncated string length");
    uint64_t len = pk_le(p, len_bytes);
    if (len > vm->size - vm->pos)
        return pk_bad(vm, "string runs past the end of the file");
    struct pk_obj *o = pk_new(vm, type);
    if (o) {
        o->data = vm->base + vm->pos;
        o->len = len;
    }
    vm->pos += len;
    return pk_push(vm, o);
}

static ufo_status pk_int(struct pk_vm *vm, int64_t v) {
    struct pk_obj *o = pk_new(vm, PK_INT);
    if (o)
        o->i = v;
    return pk_push(vm, o);
}

/* Run the pickle to STOP; *result is the object it returns. */
static ufo_status pk_run(struct pk_vm *vm, struct pk_obj **result) {
    const uint8_t *p;
    ufo_status st = UFO_OK;
    while (st == UFO_OK) {
        if (pk_take(vm, 1, &p))
            return pk_bad(vm, "ends without STOP");
        uint8_t op = *p;
        switch (op) {
        case 0x80: /* PROTO */
            if (pk_take(vm, 1, &p) || *p > 5)
                return pk_bad(vm, "unsupported protocol");
            break;
        case 0x95: /* FRAME: only a read-ahead hint */
            if (pk_take(vm, 8, &p))
                return pk_bad(vm, "truncated FRAME");
            break;
        case '(':
            if (pk_grow((void **)&vm->marks, &vm->marks_cap, vm->n_marks + 1, sizeof *vm->marks))
                return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory unpickling", vm->path);
            vm->marks[vm->n_marks++] = vm->depth;
            break;
        case ']': st = pk_push(vm, pk_new(vm, PK_LIST)); break;
        case ')': st = pk_collect(vm, PK_TUPLE, 0); break;
        case 0x85: st = pk_collect(vm, PK_TUPLE, 1); break;
        case 0x86: st = pk_collect(vm, PK_TUPLE, 2); break;
        case 0x87: st = pk_collect(vm, PK_TUPLE, 3); break;
        case 't':
        case 'l':
        case 'e': {
            /* everything above the last mark */
            if (!vm->n_marks)
                return pk_bad(vm, "no MARK before TUPLE, LIST or APPENDS");
            size_t from = vm->marks[--vm->n_marks], n = vm->depth - from;
            if (op == 'e') {
                if (from == pk_floor(vm))
                    return pk_bad(vm, "APPENDS without a list");
                st = pk_extend(vm, vm->stack[from - 1], vm->stack + from, n);
                vm->depth = from;
            } else {
                size_t saved = vm->n_marks;
                vm->n_marks = 0;
                st = pk_collect(vm, op == 't' ? PK_TUPLE : PK_LIST, n);
                vm->n_marks = saved;
            }
            break;
        }
        case 'a': {
            struct pk_obj *item = pk_pop(vm);
            if (!item || vm->depth == pk_floor(vm))
                return pk_bad(vm, "APPEND without a list and an item");
            st = pk_extend(vm, vm->stack[vm->depth - 1], &item, 1);
            break;
        }
        case 'N': st = pk_push(vm, pk_new(vm, PK_NONE)); break;
        case 0x88:
        case 0x89: {
            struct pk_obj *o = pk_new(vm, PK_BOOL);
            if (o)
                o->i = op == 0x88;
            st = pk_push(vm, o);
            break;
        }
        case 'J':
            if (pk_take(vm, 4, &p))
                return pk_bad(vm, "truncated BININT");
            st = pk_int(vm, (int32_t)(uint32_t)pk_le(p, 4));
            break;
        case 'K':
            if (pk_take(vm, 1, &p))
                return pk_bad(vm, "truncated BININT1");
            st = pk_int(vm, p[0]);
            break;
        case 'M':
            if (pk_take(vm, 2, &p))
                return pk_bad(vm, "truncated BININT2");
            st = pk_int(vm, (int64_t)pk_le(p, 2));
            break;
        case 0x8a: { /* LONG1: little-endian two's complement */
            const uint8_t *q;
            if (pk_take(vm, 1, &p) || *p > 8 || pk_take(vm, *p, &q))
                return pk_bad(vm, "bad LONG1");
            uint64_t v = pk_le(q, *p);
            if (*p && *p < 8 && (q[*p - 1] & 0x80))
                v |= ~(uint64_t)0 << (8 * *p);
            st = pk_int(vm, (int64_t)v);
            break;
        }
        case 'T': st = pk_string(vm, PK_BYTES, 4); break;
        case 'U': st = pk_string(vm, PK_BYTES, 1); break;
        case 'B': st = pk_string(vm, PK_BYTES, 4); break;
        case 'C': st = pk_string(vm, PK_BYTES, 1); break;
        case 0x8e: st = pk_string(vm, PK_BYTES, 8); break;  /* BINBYTES8 */
        case 0x96: st = pk_string(vm, PK_BYTES, 8); break;  /* BYTEARRAY8 */
        case 'X': st = pk_string(vm, PK_STR, 4); break;
        case 0x8c: st = pk_string(vm, PK_STR, 1); break;    /* SHORT_BINUNICODE */
        case 0x8d: st = pk_string(vm, PK_STR, 8); break;    /* BINUNICODE8 */
        case 'c': { /* GLOBAL: "module\nname\n" */
            const uint8_t *m = vm->base + vm->pos, *end = vm->base + vm->size;
            const uint8_t *nl1 = memchr(m, '\n', (size_t)(end - m));
            const uint8_t *nl2 = nl1 ? memchr(nl1 + 1, '\n', (size_t)(end - nl1 - 1)) : NULL;
            if (!nl2 || nl1 - m > 200 || nl2 - nl1 > 200)
                return pk_bad(vm, "bad GLOBAL");
            vm->pos = (size_t)(nl2 + 1 - vm->base);
            st = pk_global(vm, m, (size_t)(nl1 - m), nl1 + 1, (size_t)(nl2 - nl1 - 1));
            break;
        }
        case 0x93: { /* STACK_GLOBAL */
            struct pk_obj *name = pk_pop(vm), *module = pk_pop(vm);
            if (!name || !module || name->type != PK_STR || module->type != PK_STR ||
                name->len > 200 || module->len > 200)
                return pk_bad(vm, "bad STACK_GLOBAL");
            st = pk_global(vm, module->data, module->len, name->data, name->len);
            break;
        }
        case 'R': st = pk_reduce(vm); break;
        case 'b': {
            struct pk_obj *state = pk_pop(vm);
            if (!state || vm->depth == pk_floor(vm) || vm->stack[vm->depth - 1]->type != PK_OBJ)
                return pk_bad(vm, "BUILD without an object");
            vm->stack[vm->depth - 1]->state = state;
            break;
        }
        case 'q':
            if (pk_take(vm, 1, &p))
                return pk_bad(vm, "truncated BINPUT");
            st = pk_memo_put(vm, p[0]);
            break;
        case 'r':
            if (pk_take(vm, 4, &p))
                return pk_bad(vm, "truncated LONG_BINPUT");
            st = pk_memo_put(vm, pk_le(p, 4));
            break;
        case 0x94: st = pk_memo_put(vm, vm->memo_used); break; /* MEMOIZE */
        case 'h':
            if (pk_take(vm, 1, &p))
                return pk_bad(vm, "truncated BINGET");
            st = pk_memo_get(vm, p[0]);
            break;
        case 'j':
            if (pk_take(vm, 4, &p))
                return pk_bad(vm, "truncated LONG_BINGET");
            st = pk_memo_get(vm, pk_le(p, 4));
            break;
        case '.':
            *result = pk_pop(vm);
            if (!*result || vm->n_marks)
                return pk_bad(vm, "STOP with an unbalanced stack");
            return UFO_OK;
        default:
            vm->pos--;
            return ufo_fail(UFO_ERR_FORMAT,
                            "%s: pickle opcode 0x%02x at byte %zu is not one a verification pack "
                            "uses", vm->path, op, vm->pos);
        }
    }
    return st;
}

/* The raw data, element count, element size and byte order of a numpy array object, rebuilt
 * either by numpy's _reconstruct + BUILD (protocols 2 to 4) or by _frombuffer (protocol 5).
 * 0 on success. */
static int pk_ndarray(const struct pk_obj *o, const struct pk_obj **data, uint64_t *count,
                      int *item_size, int *big_endian) {
    if (!o || o->type != PK_OBJ)
        return -1;
    const struct pk_obj *shape, *dtype;
    if (pk_global_is(o->call, "multiarray", "_reconstruct")) {
        const struct pk_obj *s = o->state;
        if (!s || s->type != PK_TUPLE || s->n < 5)
            return -1;
        shape = s->items[1];
        dtype = s->items[2];
        *data = s->items[4];
    } else if (pk_global_is(o->call, "numeric", "_frombuffer")) {
        if (o->args->n < 3)
            return -1;
        *data = o->args->items[0];
        dtype = o->args->items[1];
        shape = o->args->items[2];
    } else {
        return -1;
    }
    if (shape->type != PK_TUPLE || (*data)->type != PK_BYTES)
        return -1;
    uint64_t n = 1;
    for (size_t i = 0; i < shape->n; i++) {
        if (shape->items[i]->type != PK_INT || shape->items[i]->i < 0 ||
            shape->items[i]->i > (int64_t)1 << 40)
            return -1;
        n *= (uint64_t)shape->items[i]->i;
        if (n > (uint64_t)1 << 40)
            return -1;
    }

    /* dtype('b1' | 'u1' | 'i8' ...), its byte order in the BUILD state */
    if (!dtype || dtype->type != PK_OBJ || !pk_global_is(dtype->call, "numpy", "dtype") ||
        dtype->args->n < 1 || dtype->args->items[0]->type != PK_STR)
        return -1;
    const struct pk_obj *code = dtype->args->items[0];
    if (code->len < 2 || !strchr("biu", code->data[0]))
        return -1;
    int size = 0;
    for (size_t i = 1; i < code->len; i++) {
        if (code->data[i] < '0' || code->data[i] > '9' || size > 8)
            return -1;
        size = size * 10 + (code->data[i] - '0');
    }
    if (size != 1 && size != 2 && size != 4 && size != 8)
        return -1;
    *big_endian = 0;
    const struct pk_obj *ds = dtype->state;
    if (ds && ds->type == PK_TUPLE && ds->n >= 2 && pk_str_is(ds->items[1], ">"))
        *big_endian = 1;
    if ((*data)->len / (uint64_t)size < n)
        return -1;
    *count = n;
    *item_size = size;
    return 0;
}

/* The pair flags from a list of booleans/ints or a numpy array. */
static ufo_status pk_flags(struct pk_vm *vm, const struct pk_obj *o, uint8_t **out, size_t *n) {
    const struct pk_obj *data;
    uint64_t count;
    int size, big;
    if (o->type == PK_LIST || o->type == PK_TUPLE) {
        *out = malloc(o->n ? o->n : 1);
        if (!*out)
            return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", vm->path);
        for (size_t i = 0; i < o->n; i++) {
            const struct pk_obj *f = o->items[i];
            if (f->type != PK_BOOL && f->type != PK_INT) {
                free(*out);
                *out = NULL;
                return ufo_fail(UFO_ERR_FORMAT, "%s: pair flag %zu is not a boolean", vm->path,
                                i);
            }
            (*out)[i] = f->i != 0;
        }
        *n = o->n;
        return UFO_OK;
    }
    if (pk_ndarray(o, &data, &count, &size, &big))
        return ufo_fail(UFO_ERR_FORMAT, "%s: the pair flags are neither a list nor a numpy "
                        "array of booleans or integers", vm->path);
    *out = malloc(count ? count : 1);
    if (!*out)
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", vm->path);
    for (uint64_t i = 0; i < count; i++) {
        int any = 0;
        for (int b = 0; b < size; b++)
            any |= data->data[i * (uint64_t)size + (uint64_t)b];
        (*out)[i] = any != 0;
    }
    (void)big; /* nonzero in any byte order */
    *n = (size_t)count;
    return UFO_OK;
}

/* One image of the list: bytes (or a numpy uint8 array of them) into an item. */
static ufo_status pk_add_image(struct pk_vm *vm, struct data_set *ds, const char *stored,
                               const struct pk_obj *o, size_t index) {
    const struct pk_obj *data = o;
    uint64_t count;
    int size, big;
    if (o->type == PK_OBJ && (pk_ndarray(o, &data, &count, &size, &big) || size != 1))
        data = o;
    if (data->type != PK_BYTES)
        return ufo_fail(UFO_ERR_FORMAT, "%s: image %zu is not a byte string", vm->path, index);
    struct data_item item = {
        .source = DATA_RANGE, .path = stored, .offset = (uint64_t)(data->data - vm->base),
        .size = data->len, .split = DATA_TEST, .label = -1, .camera = -1,
    };
    if (data->owned) {
        int64_t at = data_pixels_grow(ds, data->len);
        if (at < 0)
            return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", vm->path);
        memcpy(ds->pixels + at, data->data, data->len);
        item.source = DATA_BLOB;
        item.offset = (uint64_t)at;
    }
    if (data->len == 0)
        ds->report.bad_records++;
    return data_add_item(ds, &item);
}

/* The pack is root itself when root is a file, else root/<file> (default lfw.bin). */
ufo_status data_read_facebin(const struct data_spec *spec, struct data_set *ds) {
    char path[4096];
    ufo_status st = UFO_OK;
    if (data_is_file(spec->root))
        snprintf(path, sizeof path, "%s", spec->root);
    else
        st = data_path_join(path, sizeof path, spec->root, spec->file ? spec->file : "lfw.bin");
    if (st != UFO_OK)
        return st;
    const char *stored = data_intern(ds, path);
    if (!stored)
        return ufo_fail(UFO_ERR_NOMEM, "out of memory");
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size == 0) {
        close(fd);
        return ufo_fail(UFO_ERR_FORMAT, "%s: empty file, not a verification pack", path);
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED)
        return ufo_fail(UFO_ERR_IO, "%s: mmap: %s", path, strerror(errno));

    struct pk_vm vm = {.path = stored, .base = map, .size = (size_t)sb.st_size};
    struct pk_obj *top = NULL;
    st = pk_run(&vm, &top);
    if (st == UFO_OK && (!top || (top->type != PK_TUPLE && top->type != PK_LIST) ||
                         top->n != 2 || top->items[0]->type != PK_LIST))
        st = ufo_fail(UFO_ERR_FORMAT, "%s: the pickle is not an (images, pair flags) pair", path);

    /* images, then the flags that pair them */
    uint8_t *flags = NULL;
    size_t n_flags = 0;
    if (st == UFO_OK)
        st = pk_flags(&vm, top->items[1], &flags, &n_flags);
    const struct pk_obj *images = st == UFO_OK ? top->items[0] : NULL;
    for (size_t i = 0; st == UFO_OK && i < images->n; i++)
        st = pk_add_image(&vm, ds, stored, images->items[i], i);
    if (st == UFO_OK) {
        size_t n_pairs = ds->count / 2 < n_flags ? ds->count / 2 : n_flags;
        if (n_pairs != n_flags || ds->count != 2 * n_flags) {
            log_warn("dataset %s: %s holds %zu images for %zu pair flags; using %zu pairs",
                     ds->name, path, ds->count, n_flags, n_pairs);
            ds->report.bad_pairs += n_flags - n_pairs;
        }
        struct data_pairs *pr = &ds->pairs;
        pr->first = malloc((n_pairs ? n_pairs : 1) * sizeof *pr->first);
        pr->second = malloc((n_pairs ? n_pairs : 1) * sizeof *pr->second);
        pr->same = malloc(n_pairs ? n_pairs : 1);
        if (!pr->first || !pr->second || !pr->same)
            st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
        for (size_t i = 0; st == UFO_OK && i < n_pairs; i++) {
            pr->first[i] = 2 * i;
            pr->second[i] = 2 * i + 1;
            pr->same[i] = flags[i];
        }
        if (st == UFO_OK)
            pr->count = n_pairs;
        if (st == UFO_OK && n_pairs == 0)
            st = ufo_fail(UFO_ERR_FORMAT, "dataset %s: %s holds no complete pair", ds->name, path);
    }
    free(flags);
    pk_free(&vm);
    munmap(map, (size_t)sb.st_size);
    return st;
}
