// blas_tune.h: choosing OpenBLAS's kernels on CPUs its build does not know.
#pragma once

// Debian's OpenBLAS 0.3.21 does not recognise newer Xeons and falls back to
// its Prescott (SSE3) kernels, about 7x slower than its SkylakeX (AVX-512)
// kernels on the same CPU. When OPENBLAS_CORETYPE is unset, the CPU has
// AVX-512 and OpenBLAS chose Prescott, this re-executes the program with
// OPENBLAS_CORETYPE=SkylakeX (OpenBLAS reads it only at load time).
// CASCADE_BLAS_TUNE=0 turns this off. Returns only when nothing is done.
void blas_tune_reexec(char **argv);
