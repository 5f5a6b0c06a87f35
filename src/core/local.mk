# src/core: status codes and messages, logging, embedded files
libufo_la_SOURCES += src/core/error.c src/core/embedded.c src/core/embedded.h src/core/log.c src/core/log.h
ufoinclude_HEADERS += include/ufo/ufo.h include/ufo/status.h
