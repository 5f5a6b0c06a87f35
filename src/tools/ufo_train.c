/* ufo-train: train the multi-task supernet described by an INI configuration. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ufo/ufo.h>

#include "train/train.h"
#include "train/train_config.h"

static const char *usage =
    "usage: ufo-train --config RUN.ini [options]\n"
    "Train the elastic multi-task ViT supernet on every task of the configuration.\n"
    "  --config FILE        the run's INI configuration (see data/demo.ini, data/vitb-ufo.ini)\n"
    "  --device SPEC        auto, gpu:N, cpu:N, accel:N, P.D or a name part (default:\n"
    "                       $UFO_DEVICE when set, else the config's device.spec)\n"
    "  --set SEC.KEY=VALUE  override one key (repeatable), e.g. --set train.iterations=100\n"
    "  --print-config       print the effective configuration with every default and exit\n"
    "  --resume             continue from the newest checkpoint in the run folder\n"
    "  --stop-after N       stop after N steps of this run, with a checkpoint (for tests)\n"
    "The run folder (train.run_dir) receives config.ini, train.jsonl, ckpt-*.safetensors and,\n"
    "at the end, supernet.safetensors. Exit status: 0 done, 1 error, 2 bad usage,\n"
    "130 stopped by a signal (resume with --resume).\n";

static int fail_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "ufo-train: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see --help)\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *config = NULL, *device = getenv("UFO_DEVICE");
    const char **overrides = calloc((size_t)argc, sizeof *overrides);
    size_t n_overrides = 0;
    int print_config = 0;
    struct train_request req = {0};
    if (device && !*device) device = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--print-config") == 0) {
            print_config = 1;
        } else if (strcmp(a, "--resume") == 0) {
            req.resume = true;
        } else if (strcmp(a, "--config") == 0 || strcmp(a, "--device") == 0 ||
                   strcmp(a, "--set") == 0 || strcmp(a, "--stop-after") == 0) {
            if (!value) return fail_usage("%s needs a value", a);
            i++;
            if (strcmp(a, "--config") == 0) config = value;
            else if (strcmp(a, "--device") == 0) device = value;
            else if (strcmp(a, "--set") == 0) overrides[n_overrides++] = value;
            else {
                char *end;
                errno = 0;
                req.stop_after = strtol(value, &end, 10);
                if (*end || end == value || errno == ERANGE || req.stop_after < 1)
                    return fail_usage("--stop-after takes a positive whole number, not '%s'",
                                      value);
            }
        } else {
            return fail_usage("unknown argument '%s'", a);
        }
    }
    if (!config && !print_config) return fail_usage("%s", "--config FILE is required");

    struct train_config *tc;
    if (train_config_load(&tc, config, overrides, n_overrides) != UFO_OK) {
        fprintf(stderr, "ufo-train: %s\n", ufo_last_error());
        free(overrides);
        return 1;
    }
    free(overrides);
    if (print_config) {
        ufo_status st = train_config_write(tc, stdout, true);
        train_config_free(tc);
        if (st != UFO_OK) fprintf(stderr, "ufo-train: %s\n", ufo_last_error());
        return st == UFO_OK ? 0 : 1;
    }
    req.device = device;
    ufo_status st = train_run(tc, &req);
    train_config_free(tc);
    if (st == UFO_ERR_INTERRUPTED) {
        fprintf(stderr, "ufo-train: %s\n", ufo_last_error());
        return 130;
    }
    if (st != UFO_OK) {
        fprintf(stderr, "ufo-train: %s\n", ufo_last_error());
        return 1;
    }
    return 0;
}
