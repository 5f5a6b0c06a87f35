# src/model: search space, architectures, costs, parameter layout, model files;
# src/io/safetensors (model file format) is kept here too.
libufo_la_SOURCES += src/model/space.c src/model/space.h src/model/arch_json.c \
	src/model/flops.c src/model/flops.h src/model/params.c src/model/params.h \
	src/model/checkpoint.c src/model/checkpoint.h
libufo_la_SOURCES += src/io/safetensors.c src/io/safetensors.h
check_PROGRAMS += tests/test_space
TESTS += tests/test_space
tests_test_space_LDADD = $(UFO_LIBS)
EXTRA_DIST += tests/data/cvpr2022-track2-archs.txt
check_PROGRAMS += tests/test_flops
TESTS += tests/test_flops
tests_test_flops_LDADD = $(UFO_LIBS)
check_PROGRAMS += tests/test_params
TESTS += tests/test_params
tests_test_params_LDADD = $(UFO_LIBS)
check_PROGRAMS += tests/test_safetensors
TESTS += tests/test_safetensors
tests_test_safetensors_LDADD = $(UFO_LIBS)
check_PROGRAMS += tests/test_supernet_host
TESTS += tests/test_supernet_host
tests_test_supernet_host_LDADD = $(UFO_LIBS)
