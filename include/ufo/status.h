/* Status codes returned by every libufo function, and the message that goes with the last one. */
#ifndef UFO_STATUS_H
#define UFO_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ufo_status {
    UFO_OK = 0,
    UFO_ERR_INVALID,     /* a bad argument, option or value */
    UFO_ERR_IO,          /* a file could not be opened, read or written */
    UFO_ERR_FORMAT,      /* a file's contents are malformed or truncated */
    UFO_ERR_CONFIG,      /* a configuration key is unknown, missing or out of range */
    UFO_ERR_NOMEM,       /* host memory ran out */
    UFO_ERR_OPENCL,      /* an OpenCL call failed */
    UFO_ERR_CLBLAST,     /* a CLBlast call failed */
    UFO_ERR_NO_DEVICE,   /* no OpenCL device, or none matching the spec */
    UFO_ERR_NUMERIC,     /* NaN or Inf where a finite value is required */
    UFO_ERR_INTERRUPTED, /* stopped by a signal */
    UFO_ERR_UNSUPPORTED, /* valid input that this build or device cannot handle */
} ufo_status;

/* Name of a status code ("UFO_ERR_IO"). */
const char *ufo_status_name(ufo_status status);

/* The message recorded with the last failure on this thread (empty when none). It names the
 * file, key, value or OpenCL call at fault. The text stays valid until the next failure. */
const char *ufo_last_error(void);

/* Record a failure message for this thread and return `status`, so a caller can write
 * `return ufo_fail(UFO_ERR_IO, "%s: %s", path, strerror(errno));`. */
ufo_status ufo_fail(ufo_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Forget the recorded message (used by code that recovers from a failure). */
void ufo_clear_error(void);

#ifdef __cplusplus
}
#endif
#endif
