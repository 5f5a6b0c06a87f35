/* Stop requests: SIGINT and SIGTERM set a flag that the training loop reads between steps, so
 * it can finish the step, write a checkpoint and exit. A second signal of the same kind ends
 * the process at once (the default action), for a user who does not want to wait. */
#ifndef UFO_TRAIN_SIGNALS_H
#define UFO_TRAIN_SIGNALS_H

#include <ufo/status.h>

/* Install the handlers (remembering the previous ones). */
ufo_status train_signals_install(void);

/* Put the previous handlers back and clear the flag. */
void train_signals_restore(void);

/* The signal that asked to stop (SIGINT, SIGTERM), or 0. */
int train_stop_requested(void);

/* Forget a request (tests, or a loop that handled it). */
void train_stop_clear(void);

/* "SIGINT", "SIGTERM", or "signal N". */
const char *train_signal_name(int sig);

/* The line a stopped run ends with: what stopped it, after which step (the number of steps
 * done), the checkpoint written (NULL: none could be) and the command that resumes it from the
 * configuration saved in the run folder. Returns the length as snprintf. */
int train_stop_message(char *buf, size_t size, int sig, long steps_done, const char *checkpoint,
                       const char *run_dir);

#endif
