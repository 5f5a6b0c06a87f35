/* Replace a file atomically: write a temporary file in the same folder, flush it to the disk,
 * rename it over the target and flush the folder, so a crash or kill at any moment leaves
 * either the old file or the complete new one. */
#ifndef UFO_IO_ATOMIC_H
#define UFO_IO_ATOMIC_H

#include <stddef.h>
#include <stdio.h>

#include <ufo/status.h>

/* A file being written; `f` takes the contents. */
struct io_atomic {
    FILE *f;
    char *path;      /* the target */
    char *tmp_path;  /* "<target>.tmp.<pid>.<n>", same folder */
};

/* Start writing `path`: creates the temporary file (mode 0666 less the umask). */
ufo_status io_atomic_open(struct io_atomic *a, const char *path);

/* Flush, fsync, close, rename over the target and fsync the folder. On any failure the
 * temporary file is removed and the old target stays as it was. */
ufo_status io_atomic_commit(struct io_atomic *a);

/* Give up: close and remove the temporary file; the target is untouched. Safe after commit. */
void io_atomic_abort(struct io_atomic *a);

/* The whole of `data` as the new contents of `path`. */
ufo_status io_atomic_write(const char *path, const void *data, size_t size);

/* Whether `name` (a file name, no folder) is one of our temporary files, left by a crash. */
int io_atomic_is_temp(const char *name);

#endif
