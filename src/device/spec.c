/* Device specs: "auto", "gpu:N", "cpu:N", "accel:N", "P.D" or a name substring. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device/device.h"

/* Parse a whole non-negative base-10 number; -1 when `s` is anything else. */
static long parse_index(const char *s) {
    if (!*s || strlen(s) > 6) return -1;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p)) return -1;
    return strtol(s, NULL, 10);
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0) return 1;
    return n == 0;
}

/* One line listing every device, for error messages. */
static void list_devices(char *out, size_t size, const struct ufo_device_caps *list,
                         size_t count) {
    size_t used = 0;
    out[0] = '\0';
    if (count == 0) snprintf(out, size, "no OpenCL device is installed"
                             " (on Debian: apt-get install pocl-opencl-icd)");
    for (size_t i = 0; i < count && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s (%s)", i ? ", " : "devices: ",
                                 list[i].spec, list[i].name);
}

static ufo_status no_match(const char *spec, const char *why,
                           const struct ufo_device_caps *list, size_t count) {
    char devices[768];
    list_devices(devices, sizeof devices, list, count);
    return ufo_fail(UFO_ERR_NO_DEVICE, "device '%s' %s; %s", spec, why, devices);
}

ufo_status device_match(const char *spec, const struct ufo_device_caps *list, size_t count,
                        size_t *index) {
    if (!spec || !*spec) spec = "auto";

    /* auto: the first GPU, else the first device of any kind */
    if (strcmp(spec, "auto") == 0) {
        for (size_t i = 0; i < count; i++)
            if (list[i].type == UFO_DEVICE_GPU) return *index = i, UFO_OK;
        if (count) return *index = 0, UFO_OK;
        return no_match(spec, "found nothing", list, count);
    }

    /* TYPE:N counts devices of that type across platforms */
    static const struct { const char *prefix; enum ufo_device_type type; } types[] = {
        {"gpu:", UFO_DEVICE_GPU}, {"cpu:", UFO_DEVICE_CPU}, {"accel:", UFO_DEVICE_ACCEL}};
    for (size_t t = 0; t < 3; t++) {
        size_t plen = strlen(types[t].prefix);
        if (strncasecmp(spec, types[t].prefix, plen) != 0) continue;
        long n = parse_index(spec + plen);
        if (n < 0) return no_match(spec, "has no valid index after the colon", list, count);
        for (size_t i = 0; i < count; i++)
            if (list[i].type == types[t].type && n-- == 0) return *index = i, UFO_OK;
        return no_match(spec, "does not exist", list, count);
    }

    /* P.D: platform index, device index */
    const char *dot = strchr(spec, '.');
    if (dot && dot != spec && strchr(dot + 1, '.') == NULL) {
        char platform[16];
        size_t plen = (size_t)(dot - spec);
        if (plen < sizeof platform) {
            memcpy(platform, spec, plen);
            platform[plen] = '\0';
            long p = parse_index(platform), d = parse_index(dot + 1);
            if (p >= 0 && d >= 0) {
                for (size_t i = 0; i < count; i++)
                    if (list[i].platform_index == p && list[i].device_index == d)
                        return *index = i, UFO_OK;
                return no_match(spec, "does not exist", list, count);
            }
        }
    }

    /* otherwise a case-insensitive substring of the device name, which must be unambiguous */
    size_t found = count, matches = 0;
    for (size_t i = 0; i < count; i++)
        if (contains_nocase(list[i].name, spec)) {
            if (matches++ == 0) found = i;
        }
    if (matches == 1) return *index = found, UFO_OK;
    if (matches > 1) return no_match(spec, "matches several devices; name one by its spec",
                                     list, count);
    return no_match(spec, "matches no device", list, count);
}
