# src/data pipeline: decoding, augmentation, batches
libufo_la_SOURCES += src/data/image.c src/data/image.h src/data/rng.h src/data/augment.c \
	src/data/augment.h src/data/batch.c src/data/batch.h

check_PROGRAMS += tests/test_image
TESTS += tests/test_image
tests_test_image_LDADD = $(UFO_LIBS) $(PNG_LIBS) $(TURBOJPEG_LIBS)

check_PROGRAMS += tests/test_augment
TESTS += tests/test_augment
tests_test_augment_LDADD = $(UFO_LIBS)

check_PROGRAMS += tests/test_batch
TESTS += tests/test_batch
tests_test_batch_LDADD = $(UFO_LIBS)
