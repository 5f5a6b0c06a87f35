/* SIGINT/SIGTERM become a stop request; a second one of the same kind kills the process. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "train/signals.h"

int main(void) {
    int failures = 0;
    if (train_signals_install() != UFO_OK) {
        fprintf(stderr, "install: %s\n", ufo_last_error());
        return 1;
    }
    if (train_stop_requested() != 0) failures++, fprintf(stderr, "flag set before a signal\n");

    /* the process survives the signal and sees the flag */
    raise(SIGINT);
    if (train_stop_requested() != SIGINT)
        failures++, fprintf(stderr, "after SIGINT: %d\n", train_stop_requested());
    train_stop_clear();
    raise(SIGTERM);
    if (train_stop_requested() != SIGTERM)
        failures++, fprintf(stderr, "after SIGTERM: %d\n", train_stop_requested());
    if (strcmp(train_signal_name(SIGTERM), "SIGTERM") != 0 ||
        strcmp(train_signal_name(SIGINT), "SIGINT") != 0)
        failures++, fprintf(stderr, "signal names\n");

    /* the closing line names the signal, the checkpoint and the resume command */
    char msg[512];
    train_stop_message(msg, sizeof msg, SIGTERM, 1200, "runs/x/ckpt-00001200.safetensors",
                       "runs/x");
    const char *want = "stopped by SIGTERM after 1200 steps; checkpoint "
                       "runs/x/ckpt-00001200.safetensors written; resume with: ufo-train "
                       "--config runs/x/config.ini --resume";
    if (strcmp(msg, want) != 0) failures++, fprintf(stderr, "stop message: %s\n", msg);

    /* in a child: a second SIGINT takes the default action and ends it by that signal */
    train_stop_clear();
    pid_t pid = fork();
    if (pid == 0) {
        raise(SIGINT);
        if (train_stop_requested() != SIGINT) _exit(3);
        raise(SIGINT);
        _exit(4); /* not reached when the second signal kills */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGINT) {
        fprintf(stderr, "second SIGINT: child status %d (exited %d)\n", status,
                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        failures++;
    }

    /* restored: SIGTERM is ignored again after we set SIG_IGN before installing */
    train_signals_restore();
    signal(SIGTERM, SIG_IGN);
    train_signals_install();
    train_signals_restore();
    raise(SIGTERM);
    if (train_stop_requested() != 0) failures++, fprintf(stderr, "flag after restore\n");
    return failures ? 1 : 0;
}
