# src/train/train: the training loop and ufo-train
libufo_la_SOURCES += src/train/train.c src/train/train.h
libufo_la_SOURCES += src/train/optim.c src/train/optim.h
bin_PROGRAMS += ufo-train
ufo_train_SOURCES = src/tools/ufo_train.c
ufo_train_LDADD = $(UFO_LIBS)
check_PROGRAMS += tests/test_train
TESTS += tests/test_train
tests_test_train_LDADD = $(UFO_LIBS)
libufo_la_SOURCES += src/train/train_eval.c src/train/train_eval.h
check_PROGRAMS += tests/test_optim_ref
TESTS += tests/test_optim_ref
tests_test_optim_ref_LDADD = $(UFO_LIBS) $(JANSSON_LIBS)
check_PROGRAMS += tests/test_optim_rate
TESTS += tests/test_optim_rate
tests_test_optim_rate_LDADD = $(UFO_LIBS)
