// avgpool.cu: global average pooling of NHWC fp16 activations (see avgpool.cuh).
// One thread per (image, channel): neighbouring threads read neighbouring
// channels of the same pixel, so the loads coalesce; the sum is fp32.
#include "avgpool.cuh"
#include <cuda_fp16.h>

#define AVGPOOL_BLOCK 256
#define AVGPOOL_MAX_BLOCKS (1u << 20)

static __global__ void global_avgpool_forward_kernel(const __half *__restrict__ x, __half *__restrict__ y, int batch,
                                                     int pixels, int channels) {
    const size_t total = (size_t)batch * channels;
    const float scale = 1.0f / (float)pixels;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t b = i / channels;
        const int c = (int)(i % channels);
        const __half *src = x + b * pixels * channels + c;
        float sum = 0.0f;
        for (int p = 0; p < pixels; p++) sum += __half2float(src[(size_t)p * channels]);
        y[i] = __float2half_rn(sum * scale);
    }
}

extern "C" cudaError_t global_avgpool_launch(const void *x, void *y, int batch, int pixels, int channels,
                                             cudaStream_t stream) {
    if (!x || !y || batch < 0 || pixels <= 0 || channels <= 0) return cudaErrorInvalidValue;
    if (batch == 0) return cudaSuccess;
    size_t blocks = ((size_t)batch * channels + AVGPOOL_BLOCK - 1) / AVGPOOL_BLOCK;
    if (blocks > AVGPOOL_MAX_BLOCKS) blocks = AVGPOOL_MAX_BLOCKS;
    global_avgpool_forward_kernel<<<(unsigned)blocks, AVGPOOL_BLOCK, 0, stream>>>((const __half *)x, (__half *)y, batch,
                                                                                  pixels, channels);
    return cudaGetLastError();
}
