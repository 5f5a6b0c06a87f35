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

# decode + augment throughput beside PIL/torchvision (make bench; bench/bench_augment)
EXTRA_PROGRAMS += bench/bench_augment
UFO_BENCH += bench/bench_augment
bench_bench_augment_LDADD = $(UFO_LIBS) $(TURBOJPEG_LIBS)
EXTRA_DIST += bench/peer_augment.py
