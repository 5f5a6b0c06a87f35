# src/train: the training run's parts that do not need the model: the run.ini schema, the
# learning-rate schedule, the NaN/Inf policy, stop signals, checkpoint files and the run log.
# Also src/io/cfg.* (the strict INI wrapper) and src/io/atomic.* (atomic file replacement).
libufo_la_SOURCES += src/io/cfg.c src/io/cfg.h
libufo_la_SOURCES += src/io/atomic.c src/io/atomic.h
libufo_la_SOURCES += src/train/train_config.c src/train/train_config.h
libufo_la_SOURCES += src/train/schedule.c src/train/schedule.h
libufo_la_SOURCES += src/train/nanguard.c src/train/nanguard.h
libufo_la_SOURCES += src/train/signals.c src/train/signals.h
libufo_la_SOURCES += src/train/ckpt_files.c src/train/ckpt_files.h
libufo_la_SOURCES += src/train/runlog.c src/train/runlog.h

# tests (each links libufo; test_runlog also reads JSON with jansson)
UFO_TRAIN_TESTS = tests/test_cfg tests/test_train_config tests/test_schedule tests/test_nanguard \
	tests/test_signals tests/test_atomic tests/test_ckpt_files tests/test_runlog
check_PROGRAMS += $(UFO_TRAIN_TESTS)
TESTS += $(UFO_TRAIN_TESTS)
tests_test_cfg_LDADD = $(UFO_LIBS)
tests_test_train_config_LDADD = $(UFO_LIBS)
tests_test_schedule_LDADD = $(UFO_LIBS)
tests_test_nanguard_LDADD = $(UFO_LIBS)
tests_test_signals_LDADD = $(UFO_LIBS)
tests_test_atomic_LDADD = $(UFO_LIBS)
tests_test_ckpt_files_LDADD = $(UFO_LIBS)
tests_test_runlog_LDADD = $(UFO_LIBS) $(JANSSON_LIBS)
