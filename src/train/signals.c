/* SIGINT/SIGTERM into a flag; the handler only touches a sig_atomic_t. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "train/signals.h"

static volatile sig_atomic_t stop_signal;
static struct sigaction old_int, old_term;
static int installed;

/* First signal: remember it. Second: the default action, so a user can still kill the run. */
static void signals_handler(int sig) {
    if (stop_signal == sig) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_signal = sig;
}

ufo_status train_signals_install(void) {
    if (installed) return UFO_OK;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = signals_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;   /* reads and waits in the data threads carry on */
    if (sigaction(SIGINT, &sa, &old_int) != 0)
        return ufo_fail(UFO_ERR_INVALID, "sigaction(SIGINT): %s", strerror(errno));
    if (sigaction(SIGTERM, &sa, &old_term) != 0) {
        sigaction(SIGINT, &old_int, NULL);
        return ufo_fail(UFO_ERR_INVALID, "sigaction(SIGTERM): %s", strerror(errno));
    }
    installed = 1;
    stop_signal = 0;
    return UFO_OK;
}

void train_signals_restore(void) {
    if (!installed) return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    installed = 0;
    stop_signal = 0;
}

int train_stop_requested(void) {
    return stop_signal;
}

void train_stop_clear(void) {
    stop_signal = 0;
}

const char *train_signal_name(int sig) {
    static _Thread_local char buf[32];
    if (sig == SIGINT) return "SIGINT";
    if (sig == SIGTERM) return "SIGTERM";
    snprintf(buf, sizeof buf, "signal %d", sig);
    return buf;
}

int train_stop_message(char *buf, size_t size, int sig, long steps_done, const char *checkpoint,
                       const char *run_dir) {
    if (!checkpoint)
        return snprintf(buf, size, "stopped by %s after %ld steps; no checkpoint could be "
                        "written: the newest in %s is where a resume starts: ufo-train --config "
                        "%s/config.ini --resume", train_signal_name(sig), steps_done, run_dir,
                        run_dir);
    return snprintf(buf, size, "stopped by %s after %ld steps; checkpoint %s written; resume "
                    "with: ufo-train --config %s/config.ini --resume", train_signal_name(sig),
                    steps_done, checkpoint, run_dir);
}
