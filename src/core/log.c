/* Log lines to stderr, one write per line so threads do not interleave within a line. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

static int level_set;
static enum log_level current = LOG_INFO;

void log_set_level(enum log_level level) {
    current = level;
    level_set = 1;
}

enum log_level log_get_level(void) {
    if (!level_set) {
        const char *env = getenv("UFO_LOG");
        static const char *names[] = {"debug", "info", "warn", "error", "quiet"};
        int known = !env || !*env;
        for (int i = 0; env && i < 5; i++)
            if (strcmp(env, names[i]) == 0) current = (enum log_level)i, known = 1;
        if (!known)
            fprintf(stderr, "warning: UFO_LOG=%s is not one of debug, info, warn, error, quiet; "
                    "logging at info\n", env);
        level_set = 1;
    }
    return current;
}

void log_msg(enum log_level level, const char *fmt, ...) {
    if (level < log_get_level()) return;
    static const char *prefix[] = {"debug: ", "", "warning: ", "error: ", ""};
    char line[2048];
    int n = snprintf(line, sizeof line, "%s", prefix[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    if (len == 0 || line[len - 1] != '\n') line[len++] = '\n', line[len] = '\0';
    fputs(line, stderr);
}
