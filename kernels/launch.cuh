// launch.cuh: what every kernel launcher's declaration shares.
// A launcher returns the launch's cudaError_t (cudaGetLastError after it);
// KERNEL_MUST_CHECK makes the compiler (-Werror=unused-result) refuse a call
// that drops it.
#pragma once
#define KERNEL_MUST_CHECK __attribute__((warn_unused_result))
