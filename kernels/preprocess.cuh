// preprocess.cuh: CIFAR uint8 planar pixels -> normalised fp16 NHWC.
// The GPU twin of cpu_preprocess (runtime/cpu/cpu_network.c): per channel c,
// out = x * scale[c] - shift[c] with scale = 1 / (255 * std[c]) and
// shift = mean[c] / std[c], computed in fp32 exactly as the CPU does (no FMA
// contraction), then rounded to the nearest fp16.
#pragma once
#include "launch.cuh"
#include <stdint.h>
#include <cuda_runtime.h>

typedef struct {
    const uint8_t *pixels; // (n, 3072): per image 1024 R, 1024 G, 1024 B; 4-byte aligned
    void *nhwc;            // (n, 32, 32, 3) fp16; 8-byte aligned
    int n;
    float scale[3];        // 1 / (255 * std[c])
    float shift[3];        // mean[c] / std[c]
} preprocess_params;

#ifdef __cplusplus
extern "C" {
#endif

// Fills scale/shift from a model's mean/std with the CPU reference's float arithmetic.
void preprocess_set_normalisation(preprocess_params *p, const float mean[3], const float std[3]);

// n == 0 launches nothing. cudaErrorInvalidValue for misaligned buffers or n < 0.
KERNEL_MUST_CHECK cudaError_t preprocess_launch(const preprocess_params *p, cudaStream_t stream);

// cudaSuccess when this build holds code the current device can run (the
// first kernel of every job stands for all of them); otherwise the error
// (cudaErrorNoKernelImageForDevice: built for other chips), left uncleared.
KERNEL_MUST_CHECK cudaError_t preprocess_runnable(void);

#ifdef __cplusplus
}
#endif
