/* Command tracing for performance work: with UFO_TRACE set, the queue records a profiling
 * event per kernel and copy, and a report lists per kernel its launches, device time and
 * work-groups, and the device's idle time between commands. Off (the default), the library
 * pays one pointer test per launch. */
#ifndef UFO_DEVICE_TRACE_H
#define UFO_DEVICE_TRACE_H

#include <stdio.h>

#include <ufo/device.h>

struct device_trace;

/* Whether UFO_TRACE asks for tracing (any value but empty or 0); read once per device. */
int device_trace_wanted(void);

/* A new, empty trace (NULL when out of memory: tracing is then off). */
struct device_trace *device_trace_create(void);
void device_trace_destroy(struct device_trace *t);

/* The event slot for the next command and, once enqueued, its description. `groups` is the
 * number of work-groups, 0 when the driver chose the local size. `blocking` marks copies the
 * host waited for. */
cl_event *device_trace_slot(struct device_trace *t);
void device_trace_add(struct device_trace *t, const char *name, size_t items, size_t groups,
                      int blocking);

/* Count a clFinish the host waited for. */
void device_trace_finish(struct device_trace *t);

/* Forget what was recorded (after a warm-up, say). */
void device_trace_reset(struct device_trace *t);

/* Wait for the queue, then print per kernel name: launches, device ms, mean work-groups, share
 * of device time; then commands, blocking calls, device busy and idle time and the span, all
 * divided by `per` (steps, say). */
void device_trace_report(struct device_trace *t, cl_command_queue q, FILE *out, double per);

#endif
