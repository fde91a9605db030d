// cmd_stubs.c: subcommands not built yet report so plainly (temporary).
#include "commands.h"
#include <stdio.h>
int cmd_sweep(int argc, char **argv) { (void)argc, (void)argv; fprintf(stderr, "cascade sweep: not built yet\n"); return 1; }
int cmd_calibrate(int argc, char **argv) { (void)argc, (void)argv; fprintf(stderr, "cascade calibrate: not built yet\n"); return 1; }
