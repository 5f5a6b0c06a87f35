/* Atomic replacement: the new contents appear whole, a failed or abandoned write leaves the old
 * file as it was and no temporary file behind. */
#include "config.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"

static int failures;
static char dir[256];

#define CHECK(cond, ...)                                                 \
    do {                                                                 \
        if (!(cond)) {                                                   \
            failures++;                                                  \
            fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);        \
            fprintf(stderr, __VA_ARGS__);                                \
            fputc('\n', stderr);                                         \
        }                                                                \
    } while (0)

/* The contents of path (NUL-terminated, free() it), or NULL. */
static char *slurp(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    if (size) *size = n;
    return buf;
}

/* Files in the test folder other than `keep`. */
static int strays(const char *keep) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && strcmp(e->d_name, keep) != 0) {
            fprintf(stderr, "  stray file %s\n", e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_atomic.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 1;
    char path[300];
    snprintf(path, sizeof path, "%s/ckpt.bin", dir);

    /* create, then replace */
    CHECK(io_atomic_write(path, "first", 5) == UFO_OK, "write: %s", ufo_last_error());
    char *got = slurp(path, NULL);
    CHECK(got && strcmp(got, "first") == 0, "after first write: %s", got ? got : "(none)");
    free(got);
    CHECK(io_atomic_write(path, "second!", 7) == UFO_OK, "rewrite: %s", ufo_last_error());
    got = slurp(path, NULL);
    CHECK(got && strcmp(got, "second!") == 0, "after rewrite: %s", got ? got : "(none)");
    free(got);
    CHECK(strays("ckpt.bin") == 0, "temporary files left after commits");

    /* the mode follows the umask like a plain fopen, not mkstemp's 0600 */
    mode_t old = umask(022);
    CHECK(io_atomic_write(path, "second!", 7) == UFO_OK, "rewrite: %s", ufo_last_error());
    umask(old);
    struct stat sb;
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0644, "mode %o", sb.st_mode & 0777);

    /* an abandoned write: the reader still sees the old file, nothing stays behind */
    struct io_atomic a;
    CHECK(io_atomic_open(&a, path) == UFO_OK, "open: %s", ufo_last_error());
    fputs("half a checkp", a.f);
    fflush(a.f);
    got = slurp(path, NULL);
    CHECK(got && strcmp(got, "second!") == 0, "during a write: %s", got ? got : "(none)");
    free(got);
    CHECK(io_atomic_is_temp(strrchr(a.tmp_path, '/') + 1), "temp name %s", a.tmp_path);
    io_atomic_abort(&a);
    got = slurp(path, NULL);
    CHECK(got && strcmp(got, "second!") == 0, "after abort: %s", got ? got : "(none)");
    free(got);
    CHECK(strays("ckpt.bin") == 0, "temporary file left after abort");

    /* a write that fails for real (file size limit, EFBIG): error, old file intact */
    struct rlimit lim, small;
    getrlimit(RLIMIT_FSIZE, &lim);
    small = lim;
    small.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &small) == 0) {
        static char big[100000];
        memset(big, 'x', sizeof big);
        ufo_status st = io_atomic_write(path, big, sizeof big);
        setrlimit(RLIMIT_FSIZE, &lim);
        CHECK(st == UFO_ERR_IO, "oversized write returned %s", ufo_status_name(st));
        CHECK(strstr(ufo_last_error(), path) && strstr(ufo_last_error(), "unchanged"),
              "message: %s", ufo_last_error());
        got = slurp(path, NULL);
        CHECK(got && strcmp(got, "second!") == 0, "after a failed write: %.20s",
              got ? got : "(none)");
        free(got);
        CHECK(strays("ckpt.bin") == 0, "temporary file left after a failed write");

        /* same through the streaming interface: the failure shows at commit */
        CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0, "setrlimit");
        CHECK(io_atomic_open(&a, path) == UFO_OK, "open: %s", ufo_last_error());
        fwrite(big, 1, sizeof big, a.f);
        st = io_atomic_commit(&a);
        setrlimit(RLIMIT_FSIZE, &lim);
        CHECK(st == UFO_ERR_IO, "streamed oversized commit returned %s", ufo_status_name(st));
        got = slurp(path, NULL);
        CHECK(got && strcmp(got, "second!") == 0, "after a failed commit");
        free(got);
        CHECK(strays("ckpt.bin") == 0, "temporary file left after a failed commit");
    } else {
        fprintf(stderr, "note: setrlimit(RLIMIT_FSIZE) refused; size-limit case not run\n");
    }

    /* a folder that does not exist: an error naming the path */
    char nowhere[320];
    snprintf(nowhere, sizeof nowhere, "%s/no/such/file", dir);
    CHECK(io_atomic_write(nowhere, "x", 1) == UFO_ERR_IO && strstr(ufo_last_error(), nowhere),
          "missing folder: %s", ufo_last_error());

    /* a big write round-trips byte for byte; empty contents are allowed */
    static char pattern[300000];
    for (size_t i = 0; i < sizeof pattern; i++) pattern[i] = (char)(i * 131 + 7);
    CHECK(io_atomic_write(path, pattern, sizeof pattern) == UFO_OK, "big: %s", ufo_last_error());
    size_t n = 0;
    got = slurp(path, &n);
    CHECK(got && n == sizeof pattern && memcmp(got, pattern, n) == 0, "big contents (%zu)", n);
    free(got);
    CHECK(io_atomic_write(path, NULL, 0) == UFO_OK, "empty: %s", ufo_last_error());
    CHECK(stat(path, &sb) == 0 && sb.st_size == 0, "empty size %ld", (long)sb.st_size);

    /* temp-name recognition */
    CHECK(io_atomic_is_temp("a.safetensors.tmp.123.0") && !io_atomic_is_temp("a.tmp") &&
              !io_atomic_is_temp("a.tmp.12") && !io_atomic_is_temp("a.tmp.1x.2") &&
              !io_atomic_is_temp("a.tmp.1.2.3"), "io_atomic_is_temp");

    unlink(path);
    rmdir(dir);
    return failures ? 1 : 0;
}
