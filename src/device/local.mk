# src/device: OpenCL platforms and devices, specs, kernel cache
libufo_la_SOURCES += src/device/device.c src/device/device.h src/device/spec.c \
	src/device/clerror.c src/device/kernels.c src/device/kernels.h \
	src/device/trace.c src/device/trace.h
ufoinclude_HEADERS += include/ufo/device.h
UFO_EMBEDDED += cl/common.h
