/* libufo: Unified Feature Optimization on OpenCL. Include this header for the whole API. */
#ifndef UFO_UFO_H
#define UFO_UFO_H

#include <ufo/status.h>
#include <ufo/device.h>
#include <ufo/gemm.h>

#endif
