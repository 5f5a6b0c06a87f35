/* Helpers for the dataset reader tests: a scratch folder, files written from strings, checks
 * that count failures and print the first ones. */
#ifndef UFO_TESTS_READ_UTIL_H
#define UFO_TESTS_READ_UTIL_H

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int t_failures;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            if (t_failures++ < 30) {                                                      \
                fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                      \
                fprintf(stderr, __VA_ARGS__);                                             \
                fputc('\n', stderr);                                                      \
            }                                                                             \
        }                                                                                 \
    } while (0)

#define CHECK_EQ(got, want, what)                                                         \
    CHECK((long long)(got) == (long long)(want), "%s: got %lld, want %lld", what,       \
          (long long)(got), (long long)(want))

static char t_root[512];

/* A scratch folder in /dev/shm when it is there (many small files are much faster in RAM). */
static inline void t_scratch(void) {
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base && stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        base = "/dev/shm";
    snprintf(t_root, sizeof t_root, "%s/ufo-read-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(t_root)) {
        perror("mkdtemp");
        exit(1);
    }
}

static inline int t_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static char **t_kept;
static size_t t_n_kept;

static inline void t_cleanup(void) {
    if (t_root[0])
        nftw(t_root, t_rm_one, 64, FTW_DEPTH | FTW_PHYS);
    for (size_t i = 0; i < t_n_kept; i++)
        free(t_kept[i]);
    free(t_kept);
}

/* Path under the scratch folder, in a rotating set of static buffers. */
static inline const char *t_path(const char *fmt, ...) {
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ & 7];
    int n = snprintf(b, 1024, "%s/", t_root);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, 1024 - (size_t)n, fmt, ap);
    va_end(ap);
    return b;
}

/* A path under the scratch folder that stays valid until t_cleanup (for specs kept across
 * other t_path calls). */
static inline const char *t_keep(const char *fmt, ...) {
    char *b = malloc(1024);
    int n = snprintf(b, 1024, "%s/", t_root);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, 1024 - (size_t)n, fmt, ap);
    va_end(ap);
    t_kept = realloc(t_kept, (t_n_kept + 1) * sizeof *t_kept);
    t_kept[t_n_kept++] = b;
    return b;
}

/* mkdir -p of the folder part of path (or all of it when dir is 1). */
static inline void t_mkdirs(const char *path, int dir) {
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    if (!dir) {
        char *slash = strrchr(tmp, '/');
        if (!slash)
            return;
        *slash = '\0';
    }
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

static inline void t_write(const char *path, const void *data, size_t size) {
    t_mkdirs(path, 0);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size)) {
        fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fclose(f);
}

/* An empty file whose parent folder exists. */
static inline void t_touch(const char *path) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        t_mkdirs(path, 0);
        f = fopen(path, "wb");
    }
    if (!f) {
        fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
        exit(1);
    }
    fclose(f);
}

static inline void t_text(const char *path, const char *text) {
    t_write(path, text, strlen(text));
}

/* A growing text buffer for generated list files. */
struct t_buf {
    char *data;
    size_t len, cap;
};

static inline void t_printf(struct t_buf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt,
                          ap);
        va_end(ap);
        if (b->data && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = (b->cap + (size_t)n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        if (!b->data)
            exit(1);
    }
}

static inline void t_buf_write(struct t_buf *b, const char *path) {
    t_write(path, b->data ? b->data : "", b->len);
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Log lines (stderr) written between t_capture_start and t_capture_stop, returned as a string
 * (free() it); the old stderr and log level come back. */
static int t_saved_stderr = -1;
static char t_capture_file[600];
static inline void t_capture_start(void) {
    fflush(stderr);
    snprintf(t_capture_file, sizeof t_capture_file, "%s/capture.log", t_root);
    t_saved_stderr = dup(2);
    FILE *f = fopen(t_capture_file, "w");
    if (f) {
        dup2(fileno(f), 2);
        fclose(f);
    }
}

static inline char *t_capture_stop(void) {
    fflush(stderr);
    dup2(t_saved_stderr, 2);
    close(t_saved_stderr);
    FILE *f = fopen(t_capture_file, "rb");
    char *text = calloc(1, 1 << 16);
    if (f && text)
        text[fread(text, 1, (1 << 16) - 1, f)] = 0;
    if (f)
        fclose(f);
    return text;
}

#endif
