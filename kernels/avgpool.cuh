// avgpool.cuh: global average pooling of NHWC fp16 activations to one fp16
// value per (image, channel), accumulated in fp32 (ResNet's pool before its
// linear layer). Includable from C: device pointers are void * to fp16 data.
#pragma once
#include "launch.cuh"
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

// y[b][c] = mean over the pixels p of x[b][p][c]; x: batch x pixels x channels,
// y: batch x channels. cudaErrorInvalidValue for non-positive sizes.
KERNEL_MUST_CHECK cudaError_t global_avgpool_launch(const void *x, void *y, int batch, int pixels, int channels,
                                                    cudaStream_t stream);

#ifdef __cplusplus
}
#endif
