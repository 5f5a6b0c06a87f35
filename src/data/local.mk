# src/data: files of this layer
libufo_la_SOURCES += src/data/dataset.c src/data/dataset.h src/data/reader.h \
	src/data/read_folder.c src/data/read_list.c src/data/read_idx.c \
	src/data/read_market1501.c src/data/read_msmt17.c src/data/read_veri776.c \
	src/data/read_vehicleid.c src/data/read_veriwild.c src/data/read_sop.c \
	src/data/read_mxrec.c src/data/read_facebin.c src/data/read_pairs.c

# reader tests (synthetic trees in a scratch folder)
check_PROGRAMS += tests/test_read_formats
TESTS += tests/test_read_formats
tests_test_read_formats_SOURCES = tests/test_read_formats.c tests/read_util.h tests/read_writers.h
tests_test_read_formats_LDADD = $(UFO_LIBS) $(ZLIB_LIBS)
check_PROGRAMS += tests/test_read_official
TESTS += tests/test_read_official
tests_test_read_official_SOURCES = tests/test_read_official.c tests/read_util.h
tests_test_read_official_LDADD = $(UFO_LIBS) $(ZLIB_LIBS)
check_PROGRAMS += tests/test_read_bad
TESTS += tests/test_read_bad
tests_test_read_bad_SOURCES = tests/test_read_bad.c tests/read_util.h tests/read_writers.h
tests_test_read_bad_LDADD = $(UFO_LIBS) $(ZLIB_LIBS)
EXTRA_DIST += tests/fixtures/facebin
