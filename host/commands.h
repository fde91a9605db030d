// commands.h: the subcommands of `cascade`; each returns the process exit code
// (0 done, 1 error, 2 bad usage, 130 interrupted) and prints its own errors.
#pragma once

#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130

int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
