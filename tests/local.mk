# tests: the engine foundation's check programs (each layer lists its own in its fragment)
EXTRA_DIST += tests/check.h tests/ref_file.h
check_PROGRAMS += tests/test_device_spec tests/test_gemm tests/test_gemm_settings \
	tests/test_kernels
TESTS += tests/test_device_spec tests/test_gemm tests/test_gemm_settings tests/test_kernels
tests_test_device_spec_SOURCES = tests/test_device_spec.c tests/check.h
tests_test_device_spec_LDADD = $(UFO_LIBS)
tests_test_gemm_SOURCES = tests/test_gemm.c tests/check.h
tests_test_gemm_LDADD = $(UFO_LIBS)
tests_test_gemm_settings_SOURCES = tests/test_gemm_settings.c tests/check.h
tests_test_gemm_settings_LDADD = $(UFO_LIBS)
tests_test_kernels_SOURCES = tests/test_kernels.c tests/check.h
tests_test_kernels_LDADD = $(UFO_LIBS)
