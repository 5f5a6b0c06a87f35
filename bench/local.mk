# bench: benchmark programs, built by `make bench`, never run by `make check`
if HAVE_OPENBLAS
EXTRA_PROGRAMS += bench/gemm
UFO_BENCH += bench/gemm
bench_gemm_SOURCES = bench/gemm.c
bench_gemm_CFLAGS = $(AM_CFLAGS) $(OPENBLAS_CFLAGS)
bench_gemm_LDADD = $(UFO_LIBS) $(OPENBLAS_LIBS)
endif

# where the own GEMM's wall time goes on a CPU device (threads running, waiting, asleep)
EXTRA_PROGRAMS += bench/gemm_idle
UFO_BENCH += bench/gemm_idle
bench_gemm_idle_SOURCES = bench/gemm_idle.c
bench_gemm_idle_LDADD = $(UFO_LIBS)
CLEANFILES += $(UFO_BENCH)
