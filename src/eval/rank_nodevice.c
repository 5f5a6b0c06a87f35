/* Stand-in for the device path until the device layer and GEMM are in the library. */
#include "config.h"

#include "eval/rank.h"

/* TODO: replace with rank_device.c once libufo provides ufo_gemm and kernels_get. */
ufo_status eval_device_run(const struct eval_scorer *s, struct eval_problem *p) {
    return ufo_fail(UFO_ERR_UNSUPPORTED, "ranking on a device is not built in yet");
}
