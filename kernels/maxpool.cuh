// maxpool.cuh: max pooling over NHWC fp16 activations (no padding, floor
// division: out = (in - kernel) / stride + 1, as PyTorch's MaxPool2d).
// Includable from C: device pointers are void * to fp16 data.
#pragma once
#include "launch.cuh"
#include <cuda_runtime.h>

typedef struct {
    int batch, height, width, channels; // x: batch x height x width x channels
    int kernel, stride;
    int out_height, out_width;          // y: batch x out_height x out_width x channels
} maxpool_shape;

#ifdef __cplusplus
extern "C" {
#endif

// y = maxpool(x). cudaErrorInvalidValue for a shape that does not fit
// (non-positive sizes, or a window reaching past the input).
KERNEL_MUST_CHECK cudaError_t maxpool_launch(const void *x, void *y, maxpool_shape shape, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
