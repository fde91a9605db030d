// blas_tune.h: the CPU backend's threading and BLAS kernels, chosen before
// the libraries read their environment (they do so only at load time).
#pragma once

// Re-executes the program once, with the environment below, when it needs
// changing; returns only when nothing is done. CASCADE_BLAS_TUNE=0 turns it off.
//  - OPENBLAS_CORETYPE=SkylakeX when unset, the CPU has AVX-512 and OpenBLAS
//    chose Prescott: Debian's OpenBLAS 0.3.21 does not recognise newer Xeons
//    and its SSE3 kernels are about 7x slower than its AVX-512 ones there.
//  - OMP_WAIT_POLICY=PASSIVE when unset: OpenMP's spinning workers (im2col,
//    epilogues) otherwise steal the cores from OpenBLAS's sgemm threads
//    (alexnet_shallower on 2 cores: 312 img/s spinning, 1400 passive).
void blas_tune_reexec(char **argv);
