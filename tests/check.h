/* Small helpers shared by the test programs: failure counting and the skip convention. */
#ifndef UFO_TESTS_CHECK_H
#define UFO_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ufo/ufo.h>

/* Exit status of a test that cannot run here (automake's convention). */
#define TEST_SKIP 77

static int test_failures;

/* Record a failed expectation with its location; the test goes on to report more. */
#define EXPECT(cond, ...)                                                                  \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            test_failures++;                                                               \
            fprintf(stderr, "%s:%d: FAILED %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

/* A library call that must succeed; on failure print its message and stop the test. */
#define REQUIRE_OK(call)                                                                   \
    do {                                                                                   \
        ufo_status st_ = (call);                                                           \
        if (st_ != UFO_OK) {                                                               \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #call,       \
                    ufo_status_name(st_), ufo_last_error());                               \
            exit(1);                                                                       \
        }                                                                                  \
    } while (0)

/* Open the test device ($UFO_DEVICE or auto); exit 77 only when no OpenCL device exists. */
static inline ufo_device *test_open_device(void) {
    struct ufo_device_caps *list;
    size_t count = 0;
    if (ufo_device_list(&list, &count) != UFO_OK || count == 0) {
        fprintf(stderr, "no OpenCL device: skipping\n");
        exit(TEST_SKIP);
    }
    free(list);
    ufo_device *dev;
    REQUIRE_OK(ufo_device_open(NULL, &dev));
    return dev;
}

/* Print the verdict and return the exit status for main. */
static inline int test_finish(const char *name) {
    if (test_failures) fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
    else printf("%s: all checks passed\n", name);
    return test_failures ? 1 : 0;
}

#endif
