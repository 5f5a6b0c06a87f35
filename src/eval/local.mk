# src/eval: benchmark metrics, ranking on host or device; also the .npy and label-file
# readers, the ufo-eval program, its tests and benchmark (one owner, one fragment).
libufo_la_SOURCES += src/io/npy.c src/io/npy.h src/io/labels.c src/io/labels.h \
	src/eval/rank.c src/eval/rank.h src/eval/rank_host.c src/eval/metrics.c \
	src/eval/metrics.h src/eval/verify.c src/eval/report.c src/eval/rank_device.c \
	src/eval/model_eval.c src/eval/model_eval.h
UFO_EMBEDDED += cl/eval.cl

check_PROGRAMS += tests/test_npy tests/test_labels tests/test_metrics
TESTS += tests/test_npy tests/test_labels tests/test_metrics
tests_test_npy_LDADD = $(UFO_LIBS)
tests_test_labels_LDADD = $(UFO_LIBS)
tests_test_metrics_LDADD = $(UFO_LIBS) -lm
check_PROGRAMS += tests/test_eval_device
TESTS += tests/test_eval_device
tests_test_eval_device_LDADD = $(UFO_LIBS) -lm
# a tiny supernet evaluated through ufo-eval --model's path and ufo-train's [eval]
check_PROGRAMS += tests/test_model_eval
TESTS += tests/test_model_eval
tests_test_model_eval_LDADD = $(UFO_LIBS) $(PNG_LIBS) $(JANSSON_LIBS) -lm

bin_PROGRAMS += ufo-eval
ufo_eval_SOURCES = src/tools/ufo_eval.c
ufo_eval_LDADD = $(UFO_LIBS)

# bench/eval: SOP Recall@K and Market mAP at full size beside numpy (bench/eval_run.sh)
EXTRA_PROGRAMS += bench/eval
UFO_BENCH += bench/eval
bench_eval_SOURCES = bench/eval.c
bench_eval_LDADD = $(UFO_LIBS) -lm
EXTRA_DIST += bench/eval_peer.py bench/eval_run.sh
