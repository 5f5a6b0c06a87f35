/* Files compiled into the library: OpenCL kernel sources and default device settings. */
#ifndef UFO_CORE_EMBEDDED_H
#define UFO_CORE_EMBEDDED_H

#include <stddef.h>

struct ufo_embedded_file {
    const char *name; /* path below its top folder: "gemm.cl", "devices/default.ini" */
    const char *data; /* NUL-terminated */
    size_t size;      /* bytes, without the NUL */
};

/* The table written by scripts/embed.sh, ended by a NULL name. */
extern const struct ufo_embedded_file ufo_embedded_files[];

/* Find an embedded file by name; NULL when there is none. */
const struct ufo_embedded_file *embedded_find(const char *name);

#endif
