// gpu_probe.c: checks for a usable CUDA device (see gpu_probe.h).
#include "gpu_probe.h"
#include "gpu_check.h"
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h>
#include <stdio.h>

cascade_status gpu_probe(char *name, size_t cap, cascade_error *err) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0)
        return cascade_fail(err, CASCADE_ENODEV, "no usable CUDA device (%s)",
                            e != cudaSuccess ? cudaGetErrorString(e) : "none found");
    struct cudaDeviceProp prop;
    if ((e = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess)
        return cascade_fail(err, CASCADE_ENODEV, "cannot query CUDA device 0: %s", cudaGetErrorString(e));
    if (prop.major < 7)
        return cascade_fail(err, CASCADE_ENODEV, "CUDA device 0 (%s) is sm_%d%d; cascade needs sm_70 or newer",
                            prop.name, prop.major, prop.minor);
    snprintf(name, cap, "%s (sm_%d%d, %d SMs, %.0f GiB)", prop.name, prop.major, prop.minor,
             prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0);
    return CASCADE_OK;
}

void gpu_versions(char *out, size_t cap) {
    int driver = 0, runtime = 0, cublas = 0;
    if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0; // reporting only: a failure shows 0
    if (cudaRuntimeGetVersion(&runtime) != cudaSuccess) runtime = 0;
    cublasHandle_t h;
    if (cublasCreate(&h) == CUBLAS_STATUS_SUCCESS) {
        if (cublasGetVersion(h, &cublas) != CUBLAS_STATUS_SUCCESS) cublas = 0;
        if (cublasDestroy(h) != CUBLAS_STATUS_SUCCESS) cublas = 0;
    }
    size_t cudnn = cudnnGetVersion();
    snprintf(out, cap, "driver %d.%d, runtime %d.%d, cuDNN %zu.%zu.%zu, cuBLAS %d.%d.%d", driver / 1000,
             driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10, cudnn / 10000, cudnn % 10000 / 100, cudnn % 100,
             cublas / 10000, cublas % 10000 / 100, cublas % 100);
}

static char teardown_error[256];

void gpu_teardown_note(int ok, const char *call, const char *file, int line) {
    if (!ok && !teardown_error[0]) snprintf(teardown_error, sizeof teardown_error, "%s failed (%s:%d)", call, file, line);
}

const char *gpu_teardown_error(void) { return teardown_error; }
