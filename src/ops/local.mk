# src/ops: forward and backward launchers of every operation, their double references, kernels
libufo_la_SOURCES += src/ops/tensor.h src/ops/ops.h src/ops/ops.c src/ops/ref.h src/ops/ref.c
UFO_EMBEDDED += cl/ops_embed.cl cl/ops_elementwise.cl cl/ops_norm.cl cl/ops_attention.cl \
	cl/ops_gate.cl cl/ops_loss.cl cl/ops_optim.cl

check_PROGRAMS += tests/test_ops_ref
TESTS += tests/test_ops_ref
tests_test_ops_ref_SOURCES = tests/test_ops_ref.c tests/ops_check.h
tests_test_ops_ref_LDADD = $(UFO_LIBS) -lm

check_PROGRAMS += tests/test_ops_device
TESTS += tests/test_ops_device
tests_test_ops_device_SOURCES = tests/test_ops_device.c tests/ops_check.h tests/check.h
tests_test_ops_device_LDADD = $(UFO_LIBS) -lm

# `make bench`: the non-GEMM work of a block on the benchmark shapes
EXTRA_PROGRAMS += bench/ops
UFO_BENCH += bench/ops
bench_ops_SOURCES = bench/ops.c
bench_ops_LDADD = $(UFO_LIBS)
