# bench: benchmark programs, built by `make bench`, never run by `make check`
if HAVE_OPENBLAS
EXTRA_PROGRAMS += bench/gemm
UFO_BENCH += bench/gemm
bench_gemm_SOURCES = bench/gemm.c
bench_gemm_CFLAGS = $(AM_CFLAGS) $(OPENBLAS_CFLAGS)
bench_gemm_LDADD = $(UFO_LIBS) $(OPENBLAS_LIBS)
endif

# one supernet training step against PyTorch (issue 3), and the training loop with data
# loading against a PyTorch DataLoader loop (issue 5); bench/train_run.sh runs both sides
EXTRA_PROGRAMS += bench/train_step
UFO_BENCH += bench/train_step
bench_train_step_SOURCES = bench/train_step.c
bench_train_step_LDADD = $(UFO_LIBS)
EXTRA_DIST += bench/train_step_peer.py bench/train_loop_peer.py bench/train_run.sh

# where the own GEMM's wall time goes on a CPU device (threads running, waiting, asleep)
EXTRA_PROGRAMS += bench/gemm_idle
UFO_BENCH += bench/gemm_idle
bench_gemm_idle_SOURCES = bench/gemm_idle.c
bench_gemm_idle_LDADD = $(UFO_LIBS)
CLEANFILES += $(UFO_BENCH)
