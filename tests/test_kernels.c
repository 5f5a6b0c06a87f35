/* The kernel cache: one program per (file, options), and build failures that say where. */
#include "config.h"

#include <unistd.h>

#include "check.h"
#include "device/device.h"
#include "device/kernels.h"

int main(void) {
    ufo_device *dev = test_open_device();
    cl_kernel k1, k2, k3;
    REQUIRE_OK(kernels_get(dev, "gemm.cl", "transpose", NULL, &k1));
    REQUIRE_OK(kernels_get(dev, "gemm.cl", "transpose", "", &k2));
    REQUIRE_OK(kernels_get(dev, "gemm.cl", "transpose", "-D TM=2", &k3));
    EXPECT(k1 == k2, "the same file and options give the cached kernel");
    EXPECT(k1 != k3, "other options give another program");

    EXPECT(kernels_get(dev, "nonexistent.cl", "x", NULL, &k1) == UFO_ERR_INVALID &&
               strstr(ufo_last_error(), "nonexistent.cl"),
           "an unknown file is named: %s", ufo_last_error());
    EXPECT(kernels_get(dev, "gemm.cl", "no_such_kernel", NULL, &k1) == UFO_ERR_OPENCL &&
               strstr(ufo_last_error(), "CL_INVALID_KERNEL_NAME"),
           "an unknown kernel is named with its OpenCL error: %s", ufo_last_error());

    /* a broken source from UFO_CL_DIR: the message names the file, the options and the log */
    char dir[] = "/tmp/ufo-test-kernels-XXXXXX";
    EXPECT(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    snprintf(path, sizeof path, "%s/common.h", dir);
    FILE *f = fopen(path, "w");
    fputs("#define UFO_KERNEL 1\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/broken.cl", dir);
    f = fopen(path, "w");
    fputs("__kernel void broken(__global float *x) { x[0] = undefined_name; }\n", f);
    fclose(f);
    setenv("UFO_CL_DIR", dir, 1);
    setenv("UFO_LOG", "quiet", 1);
    ufo_status st = kernels_get(dev, "broken.cl", "broken", "-D MARK=7", &k1);
    const char *msg = ufo_last_error();
    EXPECT(st == UFO_ERR_OPENCL, "a broken kernel fails to build");
    EXPECT(strstr(msg, "broken.cl") && strstr(msg, "-D MARK=7") &&
               strstr(msg, "CL_BUILD_PROGRAM_FAILURE") && strstr(msg, "undefined_name"),
           "the message names file, options, error and the log's first line: %s", msg);
    unlink(path);
    snprintf(path, sizeof path, "%s/common.h", dir);
    unlink(path);
    rmdir(dir);
    unsetenv("UFO_CL_DIR");
    ufo_device_close(dev);
    return test_finish("test_kernels");
}
