// interrupt.h: SIGINT and SIGTERM (a scheduler's stop) for every command. The
// first one sets command_signal and the stop flag command_stop (the pipeline
// drains the work in flight and stops); a second one removes the tracked
// outputs' temporary files and exits at once with 128 + the signal (130 for
// SIGINT, 143 for SIGTERM), as SIGHUP does at once (129; not where it was
// ignored from the start, as under nohup). While a set of outputs is renamed
// into place that exit waits for the renames (interrupt_publishing). The
// same signal again within 10 ms from the sender of the first, when that
// sender leads our process group, is not a second one: timeout(1) signals
// the command and then its group. `run`'s
// time budget sets the same stop flag through command_request_stop(),
// without a signal.
#pragma once
#include "atomic_file.h"
#include <signal.h>

extern volatile int command_signal;     // the stopping signal, 0 before one
extern volatile int command_stop;       // the pipeline's stop flag: a stop signal or command_request_stop()
extern volatile double command_stop_at; // CLOCK_MONOTONIC seconds of the first stop request

// The signals a handler holds while it runs (the stop signals and SIGALRM), so
// that none nests inside another on its thread: for a handler installed elsewhere.
void interrupt_handler_mask(sigset_t *set);
// Sets command_stop (and dates the first request); async-signal-safe, for a timer's handler.
void command_request_stop(void);
// command_stop, read so that command_signal and command_stop_at are seen as the
// stop set them (from any thread): the main thread's test before it reads them.
int command_stopped(void);
// 128 + the stopping signal: the exit code of an interrupted command.
int interrupted_exit_code(void);

// From main()'s start to the command's interrupt_install(), a SIGINT or
// SIGTERM is remembered, not fatal: a handler, since blocking them in main
// would not cover the threads OpenBLAS starts before main. interrupt_install()
// turns the one remembered into a stop.
void interrupt_early_install(void);
// Before blas_tune's re-exec: holds the two signals (a stop during the exec
// stays pending for the new image, whose interrupt_early_install takes it)
// and passes one remembered, up to the exec, in CASCADE_EARLY_STOP. When no
// exec follows, interrupt_early_install() again lets them through.
void interrupt_before_exec(void);
// For a command that does not stop cleanly (info): the default actions
// again, and a signal remembered so far acts now, as it would have.
void interrupt_early_release(void);
// The two-stage handler for SIGINT and SIGTERM; clears the stop state, then
// takes a signal remembered since main() as the first stop.
void interrupt_install(void);
// SIGBUS (a mapped input truncated while in use) as one clear line naming the
// command (NULL: none yet) and exit 1, removing the tracked outputs' temporary
// files; main() installs it for every command.
void input_fault_install(const char *command);
// Once a command is done with its outputs: forgets the tracked ones, and a stop
// signal from here on exits at once with 128 + the signal (one line says so).
void interrupt_restore(void);
// 1 while outputs are renamed into place, 0 after: an exit a signal asks for
// meanwhile (a second stop, SIGHUP) comes once the renames are done, so that
// a set of outputs is never left half published (or an old file, kept under
// the temporary name by an exchange, removed).
void interrupt_publishing(int on);
// A command's outputs are in place (a commit that published them): an exit at
// once from here on says so, not that nothing was written.
void interrupt_published(void);
// "SIGINT", "SIGTERM", "SIGHUP" (else "a signal"), for messages; async-signal-safe.
const char *interrupt_signal_name(int sig);
// Registers an open output whose temporary file a second SIGINT (or a SIGBUS,
// or an exit() from a library, such as libgomp's when an allocation fails)
// removes, until it is published or interrupt_restore() forgets it (at most 8).
void interrupt_track(const atomic_file *f);
