/* Lookup in the table of files compiled into the library. */
#include "config.h"

#include <string.h>

#include "core/embedded.h"

const struct ufo_embedded_file *embedded_find(const char *name) {
    for (const struct ufo_embedded_file *f = ufo_embedded_files; f->name; f++)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}
