// conv_small.cuh: a direct convolution for the layers cuDNN runs far below
// the card's rate: 3 input channels, 8 or 16 output channels (as stored),
// a 3x3 or 5x5 kernel at stride 1 — LeNet's first layer, where cuDNN's best
// engine on the H100 takes 0.104 ms per 1,024 images (about 7 TFLOP/s) and
// holds three quarters of the network's time. y = [ReLU](conv(x, w) + bias),
// NHWC fp16 in and out, fp32 accumulation. gpu_network times it against
// cuDNN's chosen plan when a network is built and keeps the faster.
// Includable from C: device pointers are void * to fp16 data.
#pragma once
#include "launch.cuh"
#include <cuda_runtime.h>

typedef struct {
    int batch, height, width, in_channels; // x: batch x height x width x in_channels
    int out_channels;                      // y and weight rows, as stored
    int kernel, pad;                       // square kernel, stride 1, zero padding
    int out_height, out_width;             // y: batch x out_height x out_width x out_channels
    int relu;
} conv_small_shape;

#ifdef __cplusplus
extern "C" {
#endif

// 1 when conv_small_launch runs this shape.
int conv_small_supports(conv_small_shape s);
// weight: (out_channels, kernel, kernel, in_channels) fp16; bias: out_channels fp16.
// cudaErrorInvalidValue for a shape conv_small_supports refuses.
KERNEL_MUST_CHECK cudaError_t conv_small_launch(const void *x, const void *weight, const void *bias, void *y,
                                                conv_small_shape s, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
