/* Checkpoint names, discovery and rotation in the run folder. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic.h"
#include "train/ckpt_files.h"

#define CKPT_PREFIX "ckpt-"
#define CKPT_SUFFIX ".safetensors"

int train_ckpt_name(char *buf, size_t size, long step) {
    return snprintf(buf, size, CKPT_PREFIX "%08ld" CKPT_SUFFIX, step);
}

char *train_ckpt_path(const char *run_dir, long step) {
    char name[64];
    train_ckpt_name(name, sizeof name, step);
    size_t n = strlen(run_dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (path) snprintf(path, n, "%s/%s", run_dir, name);
    return path;
}

bool train_ckpt_parse_name(const char *name, long *step) {
    size_t pre = strlen(CKPT_PREFIX), suf = strlen(CKPT_SUFFIX), n = strlen(name);
    if (n < pre + 8 + suf || n > pre + 18 + suf) return false;
    if (strncmp(name, CKPT_PREFIX, pre) != 0 || strcmp(name + n - suf, CKPT_SUFFIX) != 0)
        return false;
    long v = 0;
    for (size_t i = pre; i < n - suf; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        v = v * 10 + (name[i] - '0');
    }

    /* only the canonical spelling, so one step never has two files */
    char canon[64];
    train_ckpt_name(canon, sizeof canon, v);
    if (strcmp(canon, name) != 0) return false;
    *step = v;
    return true;
}

static int ckpt_cmp(const void *a, const void *b) {
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

ufo_status train_ckpt_list(const char *run_dir, long **steps, size_t *n) {
    *steps = NULL;
    *n = 0;
    DIR *d = opendir(run_dir);
    if (!d) return ufo_fail(UFO_ERR_IO, "%s: cannot open the run folder: %s", run_dir,
                            strerror(errno));
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long step;
        if (!train_ckpt_parse_name(e->d_name, &step)) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            long *p = realloc(*steps, cap * sizeof *p);
            if (!p) {
                closedir(d);
                free(*steps);
                *steps = NULL;
                *n = 0;
                return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", run_dir);
            }
            *steps = p;
        }
        (*steps)[(*n)++] = step;
    }
    closedir(d);
    if (*n > 1) qsort(*steps, *n, sizeof **steps, ckpt_cmp);
    return UFO_OK;
}

ufo_status train_ckpt_latest(const char *run_dir, long *step, char **path) {
    *step = -1;
    *path = NULL;
    long *steps;
    size_t n;
    ufo_status st = train_ckpt_list(run_dir, &steps, &n);
    if (st != UFO_OK) return st;

    /* the newest that is a regular file (a folder by that name is not a checkpoint) */
    for (size_t i = n; i-- > 0;) {
        char *p = train_ckpt_path(run_dir, steps[i]);
        if (!p) {
            free(steps);
            return ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", run_dir);
        }
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
            *step = steps[i];
            *path = p;
            break;
        }
        free(p);
    }
    free(steps);
    return UFO_OK;
}

ufo_status train_ckpt_rotate(const char *run_dir, long keep, size_t *removed) {
    if (removed) *removed = 0;
    long *steps;
    size_t n;
    ufo_status st = train_ckpt_list(run_dir, &steps, &n);
    if (st != UFO_OK) return st;

    /* the oldest go first */
    size_t drop = keep > 0 && n > (size_t)keep ? n - (size_t)keep : 0;
    for (size_t i = 0; i < drop && st == UFO_OK; i++) {
        char *p = train_ckpt_path(run_dir, steps[i]);
        if (!p) st = ufo_fail(UFO_ERR_NOMEM, "%s: out of memory", run_dir);
        else if (unlink(p) != 0 && errno != ENOENT)
            st = ufo_fail(UFO_ERR_IO, "%s: cannot remove an old checkpoint: %s", p,
                          strerror(errno));
        else if (removed) (*removed)++;
        free(p);
    }
    free(steps);
    if (st != UFO_OK) return st;

    /* temporary files of checkpoint writes that never finished */
    DIR *d = opendir(run_dir);
    if (!d) return ufo_fail(UFO_ERR_IO, "%s: cannot open the run folder: %s", run_dir,
                            strerror(errno));
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, CKPT_PREFIX, strlen(CKPT_PREFIX)) != 0 ||
            !io_atomic_is_temp(e->d_name))
            continue;
        size_t len = strlen(run_dir) + strlen(e->d_name) + 2;
        char *p = malloc(len);
        if (!p) continue;
        snprintf(p, len, "%s/%s", run_dir, e->d_name);
        if (unlink(p) == 0 && removed) (*removed)++;
        free(p);
    }
    closedir(d);
    return UFO_OK;
}
