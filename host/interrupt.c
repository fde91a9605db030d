// interrupt.c: two-stage SIGINT (see interrupt.h).
#include "interrupt.h"
#include "commands.h"
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAX_TRACKED 8

volatile int command_interrupted = 0;
static const atomic_file *volatile tracked[MAX_TRACKED];

static void on_sigint(int sig) {
    (void)sig;
    if (command_interrupted) {
        for (int i = 0; i < MAX_TRACKED; i++)
            if (tracked[i]) atomic_file_abort_from_signal(tracked[i]);
        _exit(EXIT_INTERRUPTED);
    }
    command_interrupted = 1;
}

void interrupt_install(void) {
    command_interrupted = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
}

void interrupt_restore(void) {
    signal(SIGINT, SIG_DFL);
    interrupt_untrack_all();
}

void interrupt_track(const atomic_file *f) {
    for (int i = 0; i < MAX_TRACKED; i++)
        if (!tracked[i]) { tracked[i] = f; return; }
}

void interrupt_untrack_all(void) {
    for (int i = 0; i < MAX_TRACKED; i++) tracked[i] = NULL;
}
