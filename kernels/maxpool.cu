// maxpool.cu: max pooling over NHWC fp16 activations (see maxpool.cuh).
// One thread per output pixel and group of 8 channels (16-byte loads) when
// the channel count and pointers allow it, else per output element. The
// maximum of fp16 values is exact, so this matches a CPU reference bit for bit.
#include "maxpool.cuh"
#include <cuda_fp16.h>
#include <stdint.h>

#define MAXPOOL_BLOCK 256
#define MAXPOOL_MAX_BLOCKS (1u << 20)

// Loads vec consecutive fp16 channels as floats (one 16-byte load when vec = 8).
template <int vec>
static __device__ void load_channels(const __half *src, float *out) {
    if constexpr (vec == 8) {
        const uint4 raw = *(const uint4 *)src;
        const __half *h = (const __half *)&raw;
        for (int v = 0; v < 8; v++) out[v] = __half2float(h[v]);
    } else {
        for (int v = 0; v < vec; v++) out[v] = __half2float(src[v]);
    }
}

template <int vec>
static __device__ void store_channels(__half *dst, const float *in) {
    if constexpr (vec == 8) {
        uint4 raw;
        __half *h = (__half *)&raw;
        for (int v = 0; v < 8; v++) h[v] = __float2half_rn(in[v]);
        *(uint4 *)dst = raw;
    } else {
        for (int v = 0; v < vec; v++) dst[v] = __float2half_rn(in[v]);
    }
}

// vec = 8: one thread per 8 channels; vec = 1: one thread per channel.
template <int vec>
static __global__ void maxpool_forward_kernel(const __half *__restrict__ x, __half *__restrict__ y, maxpool_shape s) {
    const int groups = s.channels / vec;
    const size_t total = (size_t)s.batch * s.out_height * s.out_width * groups;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total; i += (size_t)gridDim.x * blockDim.x) {
        const int g = (int)(i % groups);
        size_t rest = i / groups;
        const int ox = (int)(rest % s.out_width);
        rest /= s.out_width;
        const int oy = (int)(rest % s.out_height);
        const size_t b = rest / s.out_height;
        const __half *window = x + ((b * s.height + (size_t)oy * s.stride) * s.width + (size_t)ox * s.stride) * s.channels +
                               (size_t)g * vec;
        float best[vec], in[vec];
        load_channels<vec>(window, best);
        for (int ky = 0; ky < s.kernel; ky++)
            for (int kx = 0; kx < s.kernel; kx++) {
                load_channels<vec>(window + ((size_t)ky * s.width + kx) * s.channels, in);
                for (int v = 0; v < vec; v++) // a NaN wins, wherever it is (as on the CPU, and in PyTorch)
                    best[v] = in[v] > best[v] || in[v] != in[v] ? in[v] : best[v];
            }
        // Exact: every best[v] is an fp16 input value.
        store_channels<vec>(y + ((b * s.out_height + oy) * s.out_width + ox) * s.channels + (size_t)g * vec, best);
    }
}

extern "C" cudaError_t maxpool_launch(const void *x, void *y, maxpool_shape s, cudaStream_t stream) {
    if (!x || !y || s.batch < 0 || s.height <= 0 || s.width <= 0 || s.channels <= 0 || s.kernel <= 0 ||
        s.stride <= 0 || s.out_height <= 0 || s.out_width <= 0 ||
        (s.out_height - 1) * s.stride + s.kernel > s.height || (s.out_width - 1) * s.stride + s.kernel > s.width)
        return cudaErrorInvalidValue;
    if (s.batch == 0) return cudaSuccess;
    const int vectorised = s.channels % 8 == 0 && ((uintptr_t)x | (uintptr_t)y) % 16 == 0;
    const size_t total = (size_t)s.batch * s.out_height * s.out_width * (vectorised ? s.channels / 8 : s.channels);
    size_t blocks = (total + MAXPOOL_BLOCK - 1) / MAXPOOL_BLOCK;
    if (blocks > MAXPOOL_MAX_BLOCKS) blocks = MAXPOOL_MAX_BLOCKS;
    if (vectorised)
        maxpool_forward_kernel<8><<<(unsigned)blocks, MAXPOOL_BLOCK, 0, stream>>>((const __half *)x, (__half *)y, s);
    else
        maxpool_forward_kernel<1><<<(unsigned)blocks, MAXPOOL_BLOCK, 0, stream>>>((const __half *)x, (__half *)y, s);
    return cudaGetLastError();
}
