// blas_tune.c: see blas_tune.h. The CPU golden tests run under the same
// choice, so a wrong kernel choice shows up as a test failure.
#include "blas_tune.h"
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void blas_tune_reexec(char **argv) {
    const char *off = getenv("CASCADE_BLAS_TUNE");
    if ((off && !strcmp(off, "0")) || getenv("OPENBLAS_CORETYPE")) return;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || strcmp(openblas_get_corename(), "Prescott") != 0) return;
    if (setenv("OPENBLAS_CORETYPE", "SkylakeX", 1) != 0) return;
    execv("/proc/self/exe", argv); // on failure: carry on with Prescott kernels
    unsetenv("OPENBLAS_CORETYPE");
#else
    (void)argv;
#endif
}
