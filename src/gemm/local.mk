# src/gemm: the GEMM wrapper and its two engines (CLBlast, ufo's own kernels)
libufo_la_SOURCES += src/gemm/gemm.c src/gemm/engine.h src/gemm/own.c src/gemm/clblast.c \
	src/gemm/settings.c
ufoinclude_HEADERS += include/ufo/gemm.h
UFO_EMBEDDED += cl/gemm.cl data/devices/default.ini data/devices/cpu.ini
