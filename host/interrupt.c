// interrupt.c: two-stage SIGINT / SIGTERM, SIGHUP at once, and the start-up
// and publishing windows around them (see interrupt.h).
#include "interrupt.h"
#include "commands.h"
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_TRACKED 8

volatile int command_signal = 0;
volatile int command_stop = 0;
volatile double command_stop_at = 0;
static const atomic_file *volatile tracked[MAX_TRACKED];
// Publishing and exiting exclude each other, whichever thread a signal lands
// on (OpenMP's and OpenBLAS's threads take them too): one word, changed by
// compare-and-swap only.
enum { IDLE, PUBLISHING, EXIT_AFTER_PUBLISHING, EXITING };
static int exit_state = IDLE;
static volatile sig_atomic_t exit_signal; // the signal of an EXIT_AFTER_PUBLISHING

// The stop flags are set by handlers on whichever thread a signal lands on
// and read by the main thread: command_stop is stored with release and read
// with acquire (command_stopped), so that a reader who sees it set sees
// command_signal and command_stop_at as they were set before it (volatile
// alone orders nothing between threads; weakly ordered CPUs reorder).
static double monotonic_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t); // async-signal-safe
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

void command_request_stop(void) {
    if (!__atomic_load_n(&command_stop, __ATOMIC_ACQUIRE)) command_stop_at = monotonic_now();
    __atomic_store_n(&command_stop, 1, __ATOMIC_RELEASE);
}

int command_stopped(void) { return __atomic_load_n(&command_stop, __ATOMIC_ACQUIRE); }

// 1 when sig is the first stop signal of *first (set to it), 0 when one came
// before it: one compare-and-swap, so that two at once, on two threads, are
// never both the first.
static int first_signal(volatile int *first, int sig) {
    int none = 0;
    return __atomic_compare_exchange_n(first, &none, sig, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

static void abort_tracked(void) {
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i]) atomic_file_abort_from_signal(tracked[i]);
}

static volatile sig_atomic_t outputs_published;

void interrupt_published(void) { outputs_published = 1; }

const char *interrupt_signal_name(int sig) {
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : "a signal";
}

// The one line of an exit at once (it said nothing: a user could not tell it
// from a finished run), from the handler: async-signal-safe calls only, and
// only where stderr has room now (a stalled reader must not hold the exit;
// a reader gone must not turn it into SIGPIPE's death).
static void say_stopped_at_once(int sig, int second) {
    const char *parts[] = {"cascade: ", interrupt_signal_name(sig), second ? " (a second stop signal)" : "",
                           outputs_published ? ": stopped at once; the outputs were written\n"
                                             : ": stopped at once, no output written\n"};
    char line[160];
    size_t n = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t len = strlen(parts[i]); // (strlen and memcpy: async-signal-safe since POSIX.1-2016)
        memcpy(line + n, parts[i], len), n += len;
    }
    struct pollfd err = {.fd = STDERR_FILENO, .events = POLLOUT};
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal), sigaddset(&pipe_signal, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_signal, NULL); // (left blocked: the process ends next)
    if (poll(&err, 1, 0) == 1 && err.revents == POLLOUT) {
        ssize_t ignored = write(STDERR_FILENO, line, n);
        (void)ignored;
    }
}

static int swap_state(int from, int to) {
    return __atomic_compare_exchange_n(&exit_state, &from, to, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

// At exit() (a library's: libgomp's when an allocation fails): the tracked
// outputs' temporary files go, but not while a set is being published (after
// an exchange a temporary name holds an old output's content).
static void abort_tracked_at_exit(void) {
    if (swap_state(IDLE, EXITING)) abort_tracked();
}

// Leaves at once, no partial file; but not halfway through a set of renames:
// once they are done (interrupt_publishing). Tries until one swap takes: the
// publishing may end between the two (IDLE again), which dropped the exit.
static void exit_now(int sig) {
    for (;;) {
        if (swap_state(IDLE, EXITING)) {
            abort_tracked();
            say_stopped_at_once(sig, sig != SIGHUP);
            _exit(128 + sig);
        }
        exit_signal = sig;
        if (swap_state(PUBLISHING, EXIT_AFTER_PUBLISHING)) return;
        int state = __atomic_load_n(&exit_state, __ATOMIC_SEQ_CST);
        if (state == EXIT_AFTER_PUBLISHING || state == EXITING) return; // another signal's exit is under way
    }
}

// timeout(1) (and supervisors like it) sends its signal to the command and
// then to the command's process group, which it leads: when the first has
// been handled before the second arrives, the two would read as a second
// stop. So the same signal again, within REPEAT_S, from the sender of the
// first when that sender leads our process group, is the same request. (A
// terminal's Ctrl-C comes from the kernel, not a process: never folded.)
#define REPEAT_S 0.010
static volatile pid_t first_sender; // of the first stop signal (0: the kernel, or none yet)
static volatile double first_at;    // CLOCK_MONOTONIC seconds it was handled

static pid_t sender_of(const siginfo_t *info) { return info && info->si_code == SI_USER ? info->si_pid : 0; }

static void note_first(const siginfo_t *info) { first_at = monotonic_now(), first_sender = sender_of(info); }

static int repeated_request(int sig, int first, const siginfo_t *info) {
    pid_t from = sender_of(info);
    return sig == first && from != 0 && from == first_sender && from == getpgrp() &&
           monotonic_now() - first_at < REPEAT_S; // (getpgrp is async-signal-safe)
}

static void on_stop_signal(int sig, siginfo_t *info, void *context) {
    (void)context;
    if (sig != SIGHUP && first_signal(&command_signal, sig)) {
        note_first(info);
        command_request_stop();
        return;
    }
    if (sig != SIGHUP && repeated_request(sig, command_signal, info)) return; // timeout(1)'s second copy
    exit_now(sig); // a hang-up, or the second one
}

void interrupt_publishing(int on) {
    if (on) {
        while (!swap_state(IDLE, PUBLISHING)) pause(); // another thread is leaving: let it
        return;
    }
    if (!swap_state(PUBLISHING, IDLE) && swap_state(EXIT_AFTER_PUBLISHING, EXITING)) {
        abort_tracked(); // what is not published (a set that failed half-way) goes too
        say_stopped_at_once(exit_signal, exit_signal != SIGHUP);
        _exit(128 + exit_signal);
    }
}

// Once a command is done with its outputs: a stop signal ends the process
// at once with 128 + the signal, as a second one does (not by the signal's
// default action while it exits), with the line that says so and whether the
// outputs were written (it said nothing: its report, cut short, read as whole).
static void on_late_signal(int sig, siginfo_t *info, void *context) {
    (void)context;
    if (sig != SIGHUP && repeated_request(sig, command_signal, info)) return; // timeout(1)'s second copy
    say_stopped_at_once(sig, sig != SIGHUP && !first_signal(&command_signal, sig));
    _exit(128 + sig);
}

int interrupted_exit_code(void) {
    (void)command_stopped(); // acquire: command_signal as the stop set it
    int sig = __atomic_load_n(&command_signal, __ATOMIC_ACQUIRE);
    return 128 + (sig ? sig : SIGINT);
}

// A mapped input that shrinks under us raises SIGBUS on the next read: one
// line, the tracked outputs' temporary files removed, exit 1.
static char sigbus_message[160];

static void on_sigbus(int sig) {
    (void)sig;
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i]) atomic_file_abort_from_signal(tracked[i]);
    ssize_t ignored = write(STDERR_FILENO, sigbus_message, strlen(sigbus_message));
    (void)ignored;
    _exit(1);
}

// SA_RESTART: a stop must not fail the write it interrupts (a blocked write
// to a slow pipe would return EINTR, and stdio would count the output as
// failed); what waits for a stop polls command_stop instead (a FIFO's open,
// atomic_file.c). The stop signals and the time budget's SIGALRM are held
// while a handler runs, so that none nests inside another on its thread.
static void stop_signal_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

void interrupt_handler_mask(sigset_t *set) {
    stop_signal_set(set);
    sigaddset(set, SIGALRM);
}

static void install_action(int sig, struct sigaction sa) {
    sa.sa_flags |= SA_RESTART;
    interrupt_handler_mask(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void install_handler(int sig, void (*handler)(int)) {
    install_action(sig, (struct sigaction){.sa_handler = handler});
}

// The stop signals' handlers, which see the sender (repeated_request).
static void install_stop_handler(int sig, void (*handler)(int, siginfo_t *, void *)) {
    install_action(sig, (struct sigaction){.sa_sigaction = handler, .sa_flags = SA_SIGINFO});
}

void input_fault_install(const char *command) {
    snprintf(sigbus_message, sizeof sigbus_message, "cascade%s%s: an input file was truncated or became unreadable "
             "while in use (SIGBUS); no output written\n", command ? " " : "", command ? command : "");
    install_handler(SIGBUS, on_sigbus);
}

static void stop_signals(int how) {
    sigset_t set;
    stop_signal_set(&set);
    sigprocmask(how, &set, NULL);
}

static volatile int early_signal; // a stop before the command's handler, 0 if none
// In the environment from interrupt_before_exec on (putenv keeps this very
// buffer): the handler writes the signal's number into it, so one taken by
// any thread up to the exec itself reaches the new image.
static char early_env[] = "CASCADE_EARLY_STOP=-"; // '-' none, 'I' SIGINT, 'T' SIGTERM: one byte, written whole
#define EARLY_MARK (sizeof early_env - 2)

// Still a gap: one taken by another thread during the exec itself, after
// the kernel copied the environment (about a millisecond), is lost.
static void on_early_signal(int sig, siginfo_t *info, void *context) {
    (void)context;
    if (sig != SIGHUP && first_signal(&early_signal, sig)) {
        note_first(info);
        early_env[EARLY_MARK] = sig == SIGINT ? 'I' : 'T';
        return;
    }
    if (sig != SIGHUP && repeated_request(sig, early_signal, info)) return; // timeout(1)'s second copy
    exit_now(sig); // a second one while starting: at once, as once the command runs
}

// The dispositions the process started with (SIG_IGN for a script's
// background job; SIGHUP under nohup), for interrupt_early_release.
static struct sigaction started_with[3];
static int saved_start;

// SIGHUP (the terminal or ssh session gone): the process ends at once, as on
// a second stop signal, but not where it was ignored from the start (nohup).
static void install_hangup(void (*handler)(int, siginfo_t *, void *)) {
    if (started_with[2].sa_handler != SIG_IGN) install_stop_handler(SIGHUP, handler);
}

void interrupt_early_install(void) {
    if (!saved_start) {
        sigaction(SIGINT, NULL, &started_with[0]);
        sigaction(SIGTERM, NULL, &started_with[1]);
        sigaction(SIGHUP, NULL, &started_with[2]);
    }
    saved_start = 1;
    const char *carried = getenv("CASCADE_EARLY_STOP"); // from the image before blas_tune's re-exec
    if (carried) {
        if (!early_signal && (carried[0] == 'I' || carried[0] == 'T')) early_signal = carried[0] == 'I' ? SIGINT : SIGTERM;
        unsetenv("CASCADE_EARLY_STOP");
    }
    install_stop_handler(SIGINT, on_early_signal);
    install_stop_handler(SIGTERM, on_early_signal);
    install_hangup(on_early_signal);
    stop_signals(SIG_UNBLOCK); // one held over the exec arrives now
}

void interrupt_before_exec(void) {
    putenv(early_env); // '-' until a signal comes: none
    stop_signals(SIG_BLOCK); // the main thread's: OpenBLAS's threads may still take one (see on_early_signal)
}

static int command_handled; // interrupt_install ran: its handlers (then the late ones) stay to the end

void interrupt_early_release(void) {
    if (command_handled) return; // a signal while the process exits: 128 + n, not the default action
    sigaction(SIGINT, &started_with[0], NULL);
    sigaction(SIGTERM, &started_with[1], NULL);
    sigaction(SIGHUP, &started_with[2], NULL);
    int sig = __atomic_exchange_n(&early_signal, 0, __ATOMIC_SEQ_CST);
    if (sig) raise(sig); // as it would have acted (nothing, where it was ignored)
}

void interrupt_install(void) {
    command_signal = 0, command_stop = 0, command_stop_at = 0;
    if (!command_handled) atexit(abort_tracked_at_exit); // a library's exit (libgomp's out of memory): nothing left
    command_handled = 1;
    install_stop_handler(SIGINT, on_stop_signal);
    install_stop_handler(SIGTERM, on_stop_signal);
    install_hangup(on_stop_signal);
    int early = __atomic_exchange_n(&early_signal, 0, __ATOMIC_SEQ_CST);
    if (early) { // one came while the process started: the first stop, unless another came since (the second)
        if (!first_signal(&command_signal, early)) exit_now(command_signal);
        command_request_stop();
    }
}

void interrupt_restore(void) {
    for (int i = 0; i < MAX_TRACKED; i++) tracked[i] = NULL;
    install_stop_handler(SIGINT, on_late_signal);
    install_stop_handler(SIGTERM, on_late_signal);
    install_hangup(on_late_signal);
}

void interrupt_track(const atomic_file *f) {
    for (int i = 0; i < MAX_TRACKED; i++)
        if (!tracked[i]) { tracked[i] = f; return; }
}

