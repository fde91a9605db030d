// interrupt.c: two-stage SIGINT / SIGTERM (see interrupt.h).
#include "interrupt.h"
#include "commands.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAX_TRACKED 8

volatile int command_interrupted = 0;
volatile int command_signal = 0;
static const atomic_file *volatile tracked[MAX_TRACKED];

static void on_stop_signal(int sig) {
    if (command_interrupted) {
        for (int i = 0; i < MAX_TRACKED; i++)
            if (tracked[i]) atomic_file_abort_from_signal(tracked[i]);
        _exit(128 + sig);
    }
    command_signal = sig;
    command_interrupted = 1;
}

int interrupted_exit_code(void) { return 128 + (command_signal ? command_signal : SIGINT); }

// A mapped input that shrinks under us raises SIGBUS on the next read: one
// line, the tracked outputs' temporary files removed, exit 1.
static void on_sigbus(int sig) {
    (void)sig;
    static const char msg[] = "cascade: an input file was truncated or became unreadable while in use "
                              "(SIGBUS); no output written\n";
    for (int i = 0; i < MAX_TRACKED; i++)
        if (tracked[i]) atomic_file_abort_from_signal(tracked[i]);
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(1);
}

static void install_handler(int sig, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

void input_fault_install(void) { install_handler(SIGBUS, on_sigbus); }

void interrupt_install(void) {
    command_interrupted = 0, command_signal = 0;
    install_handler(SIGINT, on_stop_signal);
    install_handler(SIGTERM, on_stop_signal);
}

void interrupt_restore(void) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    for (int i = 0; i < MAX_TRACKED; i++) tracked[i] = NULL;
}

void interrupt_track(const atomic_file *f) {
    for (int i = 0; i < MAX_TRACKED; i++)
        if (!tracked[i]) { tracked[i] = f; return; }
}

