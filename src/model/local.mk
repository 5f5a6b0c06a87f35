# src/model: search space, architectures, costs, parameter layout, supernet files;
# src/io/safetensors (the model file format) is listed here too.
libufo_la_SOURCES += src/model/space.c src/model/space.h src/model/arch_json.c \
	src/model/flops.c src/model/flops.h src/model/params.c src/model/params.h \
	src/model/checkpoint.c src/model/checkpoint.h \
	src/io/safetensors.c src/io/safetensors.h

check_PROGRAMS += tests/test_space tests/test_flops tests/test_params tests/test_safetensors \
	tests/test_supernet_host
TESTS += tests/test_space tests/test_flops tests/test_params tests/test_safetensors \
	tests/test_supernet_host
tests_test_space_LDADD = $(UFO_LIBS)
tests_test_flops_LDADD = $(UFO_LIBS)
tests_test_params_LDADD = $(UFO_LIBS)
tests_test_safetensors_LDADD = $(UFO_LIBS)
tests_test_supernet_host_LDADD = $(UFO_LIBS)

# the challenge's public arch strings, and the PyTorch reference with its committed outputs
EXTRA_DIST += tests/data/cvpr2022-track2-archs.txt tests/reference/supernet_ref.py \
	tests/reference/supernet_ref.safetensors
