// commands.h: the subcommands of `cascade`; each returns the process exit code
// (0 done, 1 error, 2 bad usage, 130 / 143 stopped by SIGINT / SIGTERM) and
// prints its own errors.
#pragma once
#include "../runtime/status.h"

#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130

int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);

// Prints "cascade COMMAND: message" for a failure (or that it was interrupted)
// and returns the exit code for the status: 0, 1, EXIT_USAGE for CASCADE_EINVAL,
// 128 + the stopping signal for CASCADE_EINTERRUPTED (EXIT_INTERRUPTED for SIGINT).
int command_exit(const char *command, cascade_status s, const cascade_error *err);
