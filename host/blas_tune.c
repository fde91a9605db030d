// blas_tune.c: see blas_tune.h. The CPU golden tests run under the same
// choice, so a wrong kernel choice shows up as a test failure.
#include "blas_tune.h"
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int wants_skylakex(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return !getenv("OPENBLAS_CORETYPE") && __builtin_cpu_supports("avx512f") &&
           strcmp(openblas_get_corename(), "Prescott") == 0;
#else
    return 0;
#endif
}

void blas_tune_reexec(char **argv) {
    const char *off = getenv("CASCADE_BLAS_TUNE");
    if (getenv("CASCADE_BLAS_TUNED") && argv[0]) { // re-executed: named as started (it read "exe", from
        const char *base = strrchr(argv[0], '/');     // /proc/self/exe: pgrep, pkill, ps -C, top missed it)
        (void)prctl(PR_SET_NAME, base ? base + 1 : argv[0], 0, 0, 0); // (cut to 15 bytes; a failure: "exe")
    }
    if ((off && !strcmp(off, "0")) || getenv("CASCADE_BLAS_TUNED")) return;
    int changed = 0;
    if (wants_skylakex()) changed |= setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) == 0;
    if (!getenv("OMP_WAIT_POLICY")) changed |= setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0;
    if (!changed || setenv("CASCADE_BLAS_TUNED", "1", 1) != 0) return;
    execv("/proc/self/exe", argv); // on failure: carry on as we are
}
