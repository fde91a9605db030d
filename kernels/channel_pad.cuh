// channel_pad.cuh: copies NHWC fp16 pixels into a wider channel layout,
// zero-filling the extra channels (the network input's 3 channels to 8,
// for convolution engines that want channel counts in multiples of 8).
// Includable from C: device pointers are void * to fp16 data.
#pragma once
#include "launch.cuh"
#include <stddef.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

// y[p][c] = c < in_channels ? x[p][c] : 0 for pixels p, c < out_channels.
KERNEL_MUST_CHECK cudaError_t channel_pad_launch(const void *x, void *y, size_t pixels, int in_channels,
                                                 int out_channels, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
