// command_exit.c: how every subcommand ends — one line for a failure, and
// the exit code for the status (see commands.h).
#include "commands.h"
#include "status_line.h"
#include <stdio.h>
#include "interrupt.h"

int command_exit(const char *command, cascade_status s, const cascade_error *err) {
    if (s == CASCADE_OK) return 0;
    if (s == CASCADE_EINTERRUPTED) {
        status_line(2.0, "cascade %s: interrupted; no output written\n", command);
        return interrupted_exit_code();
    }
    fprintf(stderr, "cascade %s: %s\n", command, err->message);
    return s == CASCADE_EINVAL ? EXIT_USAGE : 1;
}
