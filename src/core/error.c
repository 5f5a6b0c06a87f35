/* The per-thread error message behind ufo_fail() and ufo_last_error(). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include <ufo/status.h>

static _Thread_local char last_message[1024];

const char *ufo_status_name(ufo_status status) {
    switch (status) {
    case UFO_OK: return "UFO_OK";
    case UFO_ERR_INVALID: return "UFO_ERR_INVALID";
    case UFO_ERR_IO: return "UFO_ERR_IO";
    case UFO_ERR_FORMAT: return "UFO_ERR_FORMAT";
    case UFO_ERR_CONFIG: return "UFO_ERR_CONFIG";
    case UFO_ERR_NOMEM: return "UFO_ERR_NOMEM";
    case UFO_ERR_OPENCL: return "UFO_ERR_OPENCL";
    case UFO_ERR_CLBLAST: return "UFO_ERR_CLBLAST";
    case UFO_ERR_NO_DEVICE: return "UFO_ERR_NO_DEVICE";
    case UFO_ERR_NUMERIC: return "UFO_ERR_NUMERIC";
    case UFO_ERR_INTERRUPTED: return "UFO_ERR_INTERRUPTED";
    case UFO_ERR_UNSUPPORTED: return "UFO_ERR_UNSUPPORTED";
    }
    return "UFO_ERR_?";
}

const char *ufo_last_error(void) {
    return last_message;
}

ufo_status ufo_fail(ufo_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_message, sizeof last_message, fmt, ap);
    va_end(ap);
    return status;
}

void ufo_clear_error(void) {
    last_message[0] = '\0';
}
