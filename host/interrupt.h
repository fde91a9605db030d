// interrupt.h: SIGINT and SIGTERM (a scheduler's stop) for sweep, calibrate
// and bench. The first one sets command_interrupted (the pipeline's stop
// flag: the current pass drains and stops) and command_signal; a second one
// removes the tracked outputs' temporary files and exits at once with
// 128 + the signal (130 for SIGINT, 143 for SIGTERM).
#pragma once
#include "atomic_file.h"

extern volatile int command_interrupted;
extern volatile int command_signal; // the signal that set command_interrupted

// 128 + the stopping signal: the exit code of an interrupted command.
int interrupted_exit_code(void);

void interrupt_install(void);
// SIGBUS (a mapped input truncated while in use) as one clear line and exit 1,
// removing the tracked outputs' temporary files; main() installs it for every command.
void input_fault_install(void);
// Default SIGINT / SIGTERM again, and forgets the tracked outputs.
void interrupt_restore(void);
// Registers an open output whose temporary file a second SIGINT removes (at most 8).
void interrupt_track(const atomic_file *f);
