# src/tools: ufo-devices (the other programs live with their layer)
bin_PROGRAMS += ufo-devices
ufo_devices_SOURCES = src/tools/ufo_devices.c
ufo_devices_LDADD = $(UFO_LIBS)
