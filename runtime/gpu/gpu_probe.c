// gpu_probe.c: checks for a usable CUDA device (see gpu_probe.h).
#include "gpu_probe.h"
#include <cuda_runtime.h>
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
