// gpu_check.h: one checking macro family for CUDA, cuDNN and cuBLAS calls.
// Each macro evaluates the call once; on failure it formats "<call> failed:
// <library's error string> (function file:line)" into `err` and returns
// CASCADE_EDEVICE (CASCADE_ENOMEM for allocation failures) from the
// enclosing function, which must return cascade_status and have a
// `cascade_error *err` in scope. Library code never prints or exits.
#pragma once
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h>
#include "../status.h"

// out_of_memory(status): 1 for the library's allocation failures, reported as CASCADE_ENOMEM.
#define GPU_CHECK_GEN(call, ok, to_string, out_of_memory)                                                 \
    do {                                                                                                  \
        __typeof__(call) gpu_check_status_ = (call);                                                      \
        if (gpu_check_status_ != (ok))                                                                    \
            return cascade_fail(err, out_of_memory(gpu_check_status_) ? CASCADE_ENOMEM : CASCADE_EDEVICE, \
                                "%s failed: %s (%s %s:%d)", #call, to_string(gpu_check_status_), __func__, \
                                __FILE__, __LINE__);                                                      \
    } while (0)

// A failed call's error is also taken from the runtime (cudaGetLastError): it
// is reported here, so a non-sticky one must not fail the next check again.
#define CUDA_CHECK(call)                                                                                  \
    do {                                                                                                  \
        cudaError_t gpu_check_cuda_ = (call);                                                             \
        if (gpu_check_cuda_ != cudaSuccess) {                                                             \
            (void)cudaGetLastError();                                                                     \
            return cascade_fail(err, gpu_check_cuda_ == cudaErrorMemoryAllocation ? CASCADE_ENOMEM : CASCADE_EDEVICE, \
                                "%s failed: %s (%s %s:%d)", #call, cudaGetErrorString(gpu_check_cuda_), __func__, \
                                __FILE__, __LINE__);                                                      \
        }                                                                                                 \
    } while (0)

static inline int cudnn_out_of_memory(cudnnStatus_t s) {
    return s == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED || s == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED;
}
#define CUDNN_CHECK(call) GPU_CHECK_GEN(call, CUDNN_STATUS_SUCCESS, cudnnGetErrorString, cudnn_out_of_memory)

static inline const char *cublas_status_string(cublasStatus_t s) {
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
    }
}
static inline int cublas_out_of_memory(cublasStatus_t s) { return s == CUBLAS_STATUS_ALLOC_FAILED; }
#define CUBLAS_CHECK(call) GPU_CHECK_GEN(call, CUBLAS_STATUS_SUCCESS, cublas_status_string, cublas_out_of_memory)

// Teardown: destroy functions return nothing, so a failed release cannot be
// returned to a caller; its status is still checked, and the first failure is
// kept for gpu_teardown_error() (which the GPU tests assert is empty).
#ifdef __cplusplus
extern "C" {
#endif
void gpu_teardown_note(int ok, const char *call, const char *file, int line);
const char *gpu_teardown_error(void); // "" when every teardown call succeeded
#ifdef __cplusplus
}
#endif
#define CUDA_TEARDOWN_CHECK(call) gpu_teardown_note((call) == cudaSuccess, #call, __FILE__, __LINE__)
#define CUDNN_TEARDOWN_CHECK(call) gpu_teardown_note((call) == CUDNN_STATUS_SUCCESS, #call, __FILE__, __LINE__)
#define CUBLAS_TEARDOWN_CHECK(call) gpu_teardown_note((call) == CUBLAS_STATUS_SUCCESS, #call, __FILE__, __LINE__)
