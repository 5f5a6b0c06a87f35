# src/model/vit: the supernet's forward and backward passes on the device
libufo_la_SOURCES += src/model/vit.c src/model/vit.h
check_PROGRAMS += tests/test_vit_ref
TESTS += tests/test_vit_ref
tests_test_vit_ref_LDADD = $(UFO_LIBS)
EXTRA_DIST += tests/reference/supernet_ref.py tests/reference/supernet_ref.safetensors
