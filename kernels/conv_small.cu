// conv_small.cu: direct convolution for few channels (see conv_small.cuh).
// One block per image: the image (zero-padded) and the weights go to shared
// memory as fp32; each thread computes PIX neighbouring output pixels of a
// row for every output channel, so one row of inputs and one weight vector
// feed PIX x OC multiply-adds. Weights are kept (kh, kw, c, o) in shared
// memory so the OC weights of a tap are float4 loads that every lane shares.
#include "conv_small.cuh"
#include <cuda_fp16.h>
#include <stdint.h>

#define PIX 4                   // output pixels per thread, along a row
#define MAX_THREADS 256
#define MAX_SHARED_BYTES (48 << 10)

static int tile_width(conv_small_shape s) { return s.width + 2 * s.pad + PIX; } // overrun room for the last group
static int tile_floats(conv_small_shape s) {
    return ((s.height + 2 * s.pad) * tile_width(s) * s.in_channels + 3) / 4 * 4; // weights after it, 16-byte aligned
}
static size_t shared_bytes(conv_small_shape s) {
    return ((size_t)tile_floats(s) + (size_t)s.kernel * s.kernel * s.in_channels * s.out_channels + s.out_channels) *
           sizeof(float);
}

// Stages image `img` (zero-padded) and the weights and bias into shared memory.
template <int OC, int K, int C>
static __device__ __forceinline__ void stage_inputs(const __half *x, const __half *w, const __half *bias, float *tile, float *wt,
                                    float *bs, conv_small_shape s, int img, int tw, int n_tile) {
    for (int i = threadIdx.x; i < OC * K * K * C; i += blockDim.x) // (o, kh, kw, c) -> (kh, kw, c, o)
        wt[(i % (K * K * C)) * OC + i / (K * K * C)] = __half2float(w[i]);
    for (int o = threadIdx.x; o < OC; o += blockDim.x) bs[o] = __half2float(bias[o]);
    for (int i = threadIdx.x; i < n_tile; i += blockDim.x) tile[i] = 0.0f;
    __syncthreads();
    const __half *image = x + (size_t)img * s.height * s.width * C;
    for (int i = threadIdx.x; i < s.height * s.width * C; i += blockDim.x) {
        int c = i % C, p = i / C;
        tile[((p / s.width + s.pad) * tw + p % s.width + s.pad) * C + c] = __half2float(image[i]);
    }
    __syncthreads();
}

// Writes PIX pixels' OC channels (bias added, ReLU when asked) as 16-byte stores.
template <int OC>
static __device__ __forceinline__ void store_pixels(__half *y, const float (&acc)[PIX][OC], int valid, int relu) {
#pragma unroll
    for (int j = 0; j < PIX; j++) {
        if (j >= valid) break;
#pragma unroll
        for (int g = 0; g < OC / 8; g++) {
            uint4 raw;
            __half *h = (__half *)&raw;
#pragma unroll
            for (int v = 0; v < 8; v++) {
                float value = acc[j][g * 8 + v];
                h[v] = __float2half_rn(relu && value < 0.0f ? 0.0f : value); // (fmaxf would turn NaN into 0)
            }
            *(uint4 *)(y + (size_t)j * OC + g * 8) = raw;
        }
    }
}

template <int OC, int K, int C>
static __global__ void conv_small_kernel(const __half *__restrict__ x, const __half *__restrict__ w,
                                         const __half *__restrict__ bias, __half *__restrict__ y, conv_small_shape s,
                                         int tw, int n_tile) {
    extern __shared__ float4 shared4[];
    float *tile = (float *)shared4, *wt = tile + n_tile, *bs = wt + K * K * C * OC;
    const int img = blockIdx.x;
    stage_inputs<OC, K, C>(x, w, bias, tile, wt, bs, s, img, tw, n_tile);
    const int groups = (s.out_width + PIX - 1) / PIX;
    for (int task = threadIdx.x; task < s.out_height * groups; task += blockDim.x) {
        const int oh = task / groups, ow0 = task % groups * PIX;
        float acc[PIX][OC];
#pragma unroll
        for (int j = 0; j < PIX; j++)
#pragma unroll
            for (int o = 0; o < OC; o++) acc[j][o] = bs[o];
#pragma unroll 1 // one kernel row at a time keeps the accumulators in registers
        for (int kh = 0; kh < K; kh++) {
            const float *row = tile + ((oh + kh) * tw + ow0) * C;
            float in[PIX + K - 1][C];
#pragma unroll
            for (int q = 0; q < PIX + K - 1; q++)
#pragma unroll
                for (int c = 0; c < C; c++) in[q][c] = row[q * C + c];
#pragma unroll
            for (int kw = 0; kw < K; kw++)
#pragma unroll
                for (int c = 0; c < C; c++) {
                    const float4 *tap = (const float4 *)(wt + ((kh * K + kw) * C + c) * OC);
                    float wv[OC];
#pragma unroll
                    for (int g = 0; g < OC / 4; g++) *(float4 *)&wv[g * 4] = tap[g];
#pragma unroll
                    for (int j = 0; j < PIX; j++)
#pragma unroll
                        for (int o = 0; o < OC; o++) acc[j][o] = fmaf(in[j + kw][c], wv[o], acc[j][o]);
                }
        }
        __half *out = y + (((size_t)img * s.out_height + oh) * s.out_width + ow0) * OC;
        store_pixels<OC>(out, acc, s.out_width - ow0, s.relu);
    }
}

// (Height and width bounded first, so that the tile's size cannot wrap an int:
// anything near 4096 is far past the shared memory anyway.)
extern "C" int conv_small_supports(conv_small_shape s) {
    return s.batch > 0 && s.batch <= (1 << 24) && s.height > 0 && s.height <= 4096 && s.width > 0 &&
           s.width <= 4096 && s.in_channels == 3 &&
           (s.out_channels == 8 || s.out_channels == 16) && (s.kernel == 3 || s.kernel == 5) && s.pad >= 0 &&
           s.pad < s.kernel && s.out_height == s.height + 2 * s.pad - s.kernel + 1 &&
           s.out_width == s.width + 2 * s.pad - s.kernel + 1 && s.out_height > 0 && s.out_width > 0 &&
           shared_bytes(s) <= MAX_SHARED_BYTES;
}

template <int OC, int K>
static cudaError_t launch(const void *x, const void *w, const void *bias, void *y, conv_small_shape s,
                          cudaStream_t stream) {
    int tasks = s.out_height * ((s.out_width + PIX - 1) / PIX);
    int threads = tasks >= MAX_THREADS ? MAX_THREADS : (tasks + 31) / 32 * 32;
    conv_small_kernel<OC, K, 3><<<s.batch, threads, shared_bytes(s), stream>>>(
        (const __half *)x, (const __half *)w, (const __half *)bias, (__half *)y, s, tile_width(s), tile_floats(s));
    return cudaGetLastError();
}

extern "C" cudaError_t conv_small_launch(const void *x, const void *weight, const void *bias, void *y,
                                         conv_small_shape s, cudaStream_t stream) {
    if (!x || !weight || !bias || !y || !conv_small_supports(s) || ((uintptr_t)y & 15)) return cudaErrorInvalidValue;
    if (s.out_channels == 8) return s.kernel == 3 ? launch<8, 3>(x, weight, bias, y, s, stream)
                                                  : launch<8, 5>(x, weight, bias, y, s, stream);
    return s.kernel == 3 ? launch<16, 3>(x, weight, bias, y, s, stream) : launch<16, 5>(x, weight, bias, y, s, stream);
}
