// channel_pad.cu: zero-padding of the channel dimension (see channel_pad.cuh).
// One thread per output element.
#include "channel_pad.cuh"
#include <cuda_fp16.h>

#define CHANNEL_PAD_BLOCK 256
#define CHANNEL_PAD_MAX_BLOCKS (1u << 20)

static __global__ void channel_pad_kernel(const __half *__restrict__ x, __half *__restrict__ y, size_t total,
                                          int in_channels, int out_channels) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const size_t p = i / out_channels;
        const int c = (int)(i % out_channels);
        y[i] = c < in_channels ? x[p * in_channels + c] : __float2half_rn(0.0f);
    }
}

extern "C" cudaError_t channel_pad_launch(const void *x, void *y, size_t pixels, int in_channels, int out_channels,
                                          cudaStream_t stream) {
    if (!x || !y || in_channels <= 0 || out_channels < in_channels) return cudaErrorInvalidValue;
    const size_t total = pixels * (size_t)out_channels;
    if (total == 0) return cudaSuccess;
    size_t blocks = (total + CHANNEL_PAD_BLOCK - 1) / CHANNEL_PAD_BLOCK;
    if (blocks > CHANNEL_PAD_MAX_BLOCKS) blocks = CHANNEL_PAD_MAX_BLOCKS;
    channel_pad_kernel<<<(unsigned)blocks, CHANNEL_PAD_BLOCK, 0, stream>>>((const __half *)x, (__half *)y, total,
                                                                           in_channels, out_channels);
    return cudaGetLastError();
}
