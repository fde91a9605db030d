// gpu_probe.c: checks for a usable CUDA device (see gpu_probe.h).
#include "gpu_probe.h"
#include "gpu_check.h"
#include "../../kernels/preprocess.cuh"
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
        return cascade_fail(err, CASCADE_EDEVICE, "CUDA device 0 (%s) is sm_%d%d; cascade needs sm_70 or newer",
                            prop.name, prop.major, prop.minor);
    // (the process's first call that needs a context: a busy, exclusive or out-of-memory device fails here too)
    if ((e = preprocess_runnable()) != cudaSuccess) {
        (void)cudaGetLastError(); // not sticky: the CPU may carry on
        if (e == cudaErrorNoKernelImageForDevice || e == cudaErrorInvalidDeviceFunction ||
            e == cudaErrorUnsupportedPtxVersion)
            return cascade_fail(err, CASCADE_EDEVICE, "CUDA device 0 (%s) is sm_%d%d, which this build has no code "
                                "for (%s); rebuild with -DCMAKE_CUDA_ARCHITECTURES=%d%d", prop.name, prop.major,
                                prop.minor, cudaGetErrorString(e), prop.major, prop.minor);
        return cascade_fail(err, CASCADE_EDEVICE, "cannot open CUDA device 0 (%s): %s", prop.name,
                            cudaGetErrorString(e));
    }
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
    size_t cudnn = cudnnGetVersion(), cudnn_cuda = cudnnGetCudartVersion(); // the CUDA cuDNN was built for
    snprintf(out, cap, "driver %d.%d, runtime %d.%d, cuDNN %zu.%zu.%zu (for CUDA %zu.%zu), cuBLAS %d.%d.%d",
             driver / 1000, driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10, cudnn / 10000, cudnn % 10000 / 100,
             cudnn % 100, cudnn_cuda / 1000, cudnn_cuda % 1000 / 10, cublas / 10000, cublas % 10000 / 100, cublas % 100);
}

// Milliseconds of one copy host -> dev, timed with events on the default stream.
static cascade_status time_copy(void *dev, const void *host, size_t bytes, cudaEvent_t start, cudaEvent_t stop,
                                float *ms, cascade_error *err) {
    CUDA_CHECK(cudaEventRecord(start, 0));
    CUDA_CHECK(cudaMemcpyAsync(dev, host, bytes, cudaMemcpyHostToDevice, 0));
    CUDA_CHECK(cudaEventRecord(stop, 0));
    CUDA_CHECK(cudaEventSynchronize(stop));
    CUDA_CHECK(cudaEventElapsedTime(ms, start, stop));
    return CASCADE_OK;
}

// Median milliseconds of 5 copies host -> dev after a warm-up.
static cascade_status time_copies(void *dev, const void *host, size_t bytes, float *ms, cascade_error *err) {
    cudaEvent_t start, stop;
    float t[6];
    CUDA_CHECK(cudaEventCreate(&start));
    cascade_status s = CASCADE_OK;
    int have_stop = cudaEventCreate(&stop) == cudaSuccess;
    if (!have_stop) // (the error taken: it must not fail a later check)
        s = cascade_fail(err, CASCADE_EDEVICE, "cudaEventCreate failed: %s", cudaGetErrorString(cudaGetLastError()));
    for (int r = 0; r < 6 && !s; r++) s = time_copy(dev, host, bytes, start, stop, &t[r], err); // t[0]: warm-up
    if (s) CUDA_TEARDOWN_CHECK(cudaStreamSynchronize(0)); // a copy may still be in flight: then unpin and free
    if (have_stop) CUDA_TEARDOWN_CHECK(cudaEventDestroy(stop));
    CUDA_TEARDOWN_CHECK(cudaEventDestroy(start));
    for (int i = 2; i < 6 && !s; i++) // insertion sort of t[1..5]; t[3] is the median
        for (int j = i; j > 1 && t[j] < t[j - 1]; j--) { float x = t[j]; t[j] = t[j - 1], t[j - 1] = x; }
    *ms = s ? 0 : t[3];
    return s;
}

cascade_status gpu_upload_rate(const void *host, size_t bytes, double *gb_per_s, cascade_error *err) {
    void *dev = NULL, *pinned = NULL;
    float ms = 0;
    *gb_per_s = 0;
    CUDA_CHECK(cudaMalloc(&dev, bytes));
    cascade_status s = CASCADE_OK;
    if (!host && cudaHostAlloc(&pinned, bytes, cudaHostAllocDefault) != cudaSuccess)
        s = cascade_fail(err, CASCADE_ENOMEM, "cannot pin %zu host bytes: %s", bytes,
                         cudaGetErrorString(cudaGetLastError())); // taken, so no later check sees it
    else if (host && cudaHostRegister((void *)host, bytes, cudaHostRegisterDefault) != cudaSuccess)
        s = cascade_fail(err, CASCADE_EDEVICE, "cannot pin the host range: %s", cudaGetErrorString(cudaGetLastError()));
    if (!s) {
        s = time_copies(dev, host ? host : pinned, bytes, &ms, err);
        if (host) CUDA_TEARDOWN_CHECK(cudaHostUnregister((void *)host));
        else CUDA_TEARDOWN_CHECK(cudaFreeHost(pinned));
    }
    CUDA_TEARDOWN_CHECK(cudaFree(dev));
    if (!s && ms > 0) *gb_per_s = bytes / (ms * 1e-3) / 1e9;
    return s;
}

cascade_status gpu_pin_host(const void *host, size_t bytes, int *pinned_here, cascade_error *err) {
    cudaError_t e = cudaHostRegister((void *)host, bytes, cudaHostRegisterDefault);
    if (pinned_here) *pinned_here = e == cudaSuccess;
    if (e == cudaSuccess) return CASCADE_OK;
    (void)cudaGetLastError(); // not sticky: no later check may see it
    if (e == cudaErrorHostMemoryAlreadyRegistered) return CASCADE_OK;
    return cascade_fail(err, e == cudaErrorMemoryAllocation ? CASCADE_ENOMEM : CASCADE_EDEVICE,
                        "cannot pin %.1f MiB of host memory: %s", (double)bytes / 1048576.0, cudaGetErrorString(e));
}

void gpu_unpin_host(const void *host) { CUDA_TEARDOWN_CHECK(cudaHostUnregister((void *)host)); }

static char teardown_error[256];

void gpu_teardown_note(int ok, const char *call, const char *file, int line) {
    if (!ok && !teardown_error[0]) snprintf(teardown_error, sizeof teardown_error, "%s failed (%s:%d)", call, file, line);
}

const char *gpu_teardown_error(void) { return teardown_error; }
