# bench: benchmark programs, built by `make bench`, never run by `make check`
if HAVE_OPENBLAS
EXTRA_PROGRAMS += bench/gemm
UFO_BENCH += bench/gemm
bench_gemm_SOURCES = bench/gemm.c
bench_gemm_CFLAGS = $(AM_CFLAGS) $(OPENBLAS_CFLAGS)
bench_gemm_LDADD = $(UFO_LIBS) $(OPENBLAS_LIBS)
endif
CLEANFILES += $(UFO_BENCH)
