/* Atomic file replacement: temporary file beside the target, fsync, rename, fsync the folder. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic.h"

static atomic_uint atomic_counter;

ufo_status io_atomic_open(struct io_atomic *a, const char *path) {
    memset(a, 0, sizeof *a);
    size_t n = strlen(path) + 64;
    a->path = malloc(strlen(path) + 1);
    a->tmp_path = malloc(n);
    if (!a->path || !a->tmp_path) {
        io_atomic_abort(a);
        return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
    }
    strcpy(a->path, path);

    /* O_EXCL with a name unique to this process and call: no clash with a concurrent writer */
    int fd = -1;
    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        snprintf(a->tmp_path, n, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&atomic_counter, 1));
        fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        ufo_status st = ufo_fail(UFO_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                                 path, strerror(errno));
        free(a->tmp_path);
        a->tmp_path = NULL;
        io_atomic_abort(a);
        return st;
    }
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        ufo_status st = ufo_fail(UFO_ERR_IO, "%s: %s", a->tmp_path, strerror(errno));
        close(fd);
        io_atomic_abort(a);
        return st;
    }
    return UFO_OK;
}

void io_atomic_abort(struct io_atomic *a) {
    if (a->f) fclose(a->f);
    if (a->tmp_path) unlink(a->tmp_path);
    free(a->path);
    free(a->tmp_path);
    memset(a, 0, sizeof *a);
}

/* fsync the folder holding `path`, so the rename itself survives a power cut. */
static ufo_status atomic_sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ufo_status st = UFO_OK;
    if (fd < 0) {
        st = ufo_fail(UFO_ERR_IO, "%s: cannot open the folder to flush it: %s", dir,
                      strerror(errno));
    } else {
        /* some file systems refuse fsync on a folder (EINVAL): nothing more can be done there */
        if (fsync(fd) != 0 && errno != EINVAL)
            st = ufo_fail(UFO_ERR_IO, "%s: fsync of the folder: %s", dir, strerror(errno));
        close(fd);
    }
    free(dir);
    return st;
}

ufo_status io_atomic_commit(struct io_atomic *a) {
    if (!a->f) return ufo_fail(UFO_ERR_INVALID, "atomic write: commit without an open file");

    /* everything must be on the disk before the name moves */
    int err = 0;
    if (fflush(a->f) != 0 || ferror(a->f)) err = errno ? errno : EIO;
    if (!err && fsync(fileno(a->f)) != 0) err = errno;
    int closed = fclose(a->f);
    a->f = NULL;
    if (!err && closed != 0) err = errno;
    if (err) {
        ufo_status st = ufo_fail(UFO_ERR_IO, "%s: writing failed (%s); the previous file is "
                                 "unchanged", a->path, strerror(err));
        io_atomic_abort(a);
        return st;
    }
    if (rename(a->tmp_path, a->path) != 0) {
        ufo_status st = ufo_fail(UFO_ERR_IO, "%s: cannot rename %s over it: %s", a->path,
                                 a->tmp_path, strerror(errno));
        io_atomic_abort(a);
        return st;
    }
    free(a->tmp_path);
    a->tmp_path = NULL;
    ufo_status st = atomic_sync_dir(a->path);
    io_atomic_abort(a);
    return st;
}

ufo_status io_atomic_write(const char *path, const void *data, size_t size) {
    struct io_atomic a;
    ufo_status st = io_atomic_open(&a, path);
    if (st != UFO_OK) return st;
    if (size > 0 && fwrite(data, 1, size, a.f) != size) {
        st = ufo_fail(UFO_ERR_IO, "%s: writing failed (%s); the previous file is unchanged",
                      path, strerror(errno));
        io_atomic_abort(&a);
        return st;
    }
    return io_atomic_commit(&a);
}

int io_atomic_is_temp(const char *name) {
    const char *t = strstr(name, ".tmp.");
    if (!t) return 0;
    t += 5;
    int dots = 0, digits = 0;
    for (; *t; t++) {
        if (*t == '.') dots++, digits = 0;
        else if (*t >= '0' && *t <= '9') digits++;
        else return 0;
    }
    return dots == 1 && digits > 0;
}
