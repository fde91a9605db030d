// bias_act.cuh: the epilogue of a layer whose GEMM or convolution ran
// without one (the split fallback): y = [ReLU](y + bias[c] [+ residual]),
// in place, over a row-major rows x channels matrix (NHWC activations are
// rows = batch*height*width). Includable from C: device pointers are void *.
#pragma once
#include "launch.cuh"
#include <stddef.h>
#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

// fp16 y, bias (channels) and residual (rows x channels, or NULL); fp32 arithmetic.
KERNEL_MUST_CHECK cudaError_t bias_act_f16_launch(void *y, const void *bias, const void *residual, size_t rows,
                                                  int channels, int relu, cudaStream_t stream);
// fp32 y and bias (logits); no residual.
KERNEL_MUST_CHECK cudaError_t bias_act_f32_launch(float *y, const float *bias, size_t rows, int channels, int relu,
                                                  cudaStream_t stream);

#ifdef __cplusplus
}
#endif
