// bias_act.cu: in-place bias, residual add and ReLU (see bias_act.cuh).
// One thread per element; the arithmetic is fp32, rounded once to fp16.
#include "bias_act.cuh"
#include <cuda_fp16.h>

#define BIAS_ACT_BLOCK 256
#define BIAS_ACT_MAX_BLOCKS (1u << 20)

static __global__ void bias_act_f16_kernel(__half *__restrict__ y, const __half *__restrict__ bias,
                                           const __half *__restrict__ residual, size_t total, int channels, int relu) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float v = __half2float(y[i]) + __half2float(bias[i % channels]);
        if (residual) v += __half2float(residual[i]);
        if (relu) v = v < 0.0f ? 0.0f : v; // NaN stays NaN (as on the CPU): the image's confidence 0, deferred
        y[i] = __float2half_rn(v);
    }
}

static __global__ void bias_act_f32_kernel(float *__restrict__ y, const float *__restrict__ bias, size_t total,
                                           int channels, int relu) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        float v = y[i] + bias[i % channels];
        y[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

static unsigned bias_act_blocks(size_t total) {
    size_t blocks = (total + BIAS_ACT_BLOCK - 1) / BIAS_ACT_BLOCK;
    return (unsigned)(blocks > BIAS_ACT_MAX_BLOCKS ? BIAS_ACT_MAX_BLOCKS : blocks);
}

extern "C" cudaError_t bias_act_f16_launch(void *y, const void *bias, const void *residual, size_t rows, int channels,
                                           int relu, cudaStream_t stream) {
    if (!y || !bias || channels <= 0) return cudaErrorInvalidValue;
    const size_t total = rows * (size_t)channels;
    if (total == 0) return cudaSuccess;
    bias_act_f16_kernel<<<bias_act_blocks(total), BIAS_ACT_BLOCK, 0, stream>>>(
        (__half *)y, (const __half *)bias, (const __half *)residual, total, channels, relu);
    return cudaGetLastError();
}

extern "C" cudaError_t bias_act_f32_launch(float *y, const float *bias, size_t rows, int channels, int relu,
                                           cudaStream_t stream) {
    if (!y || !bias || channels <= 0) return cudaErrorInvalidValue;
    const size_t total = rows * (size_t)channels;
    if (total == 0) return cudaSuccess;
    bias_act_f32_kernel<<<bias_act_blocks(total), BIAS_ACT_BLOCK, 0, stream>>>(y, bias, total, channels, relu);
    return cudaGetLastError();
}
