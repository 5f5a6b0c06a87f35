# src/train: training configuration, learning-rate schedule, run log, checkpoint files, signals,
# NaN policy; plus src/io/cfg.* (strict INI) and src/io/atomic.* (atomic file writes)
libufo_la_SOURCES += src/io/cfg.c src/io/cfg.h
libufo_la_SOURCES += src/io/atomic.c src/io/atomic.h
libufo_la_SOURCES += src/train/train_config.c src/train/train_config.h

check_PROGRAMS += tests/test_cfg
TESTS += tests/test_cfg
tests_test_cfg_LDADD = $(UFO_LIBS)
