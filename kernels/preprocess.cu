// preprocess.cu: CIFAR uint8 planar pixels -> normalised fp16 NHWC (see preprocess.cuh).
// One thread per 4 pixels of one image: three 4-byte loads (one per colour
// plane, coalesced across the warp) and three 8-byte stores of the 12 halfs
// (pixel-major, channel-minor), contiguous across the warp.
#include "preprocess.cuh"
#include <cuda_fp16.h>

#define PREPROCESS_THREADS 256
#define PIXELS_PER_THREAD 4
#define GROUPS_PER_IMAGE (1024 / PIXELS_PER_THREAD) // 256

static __device__ __forceinline__ unsigned pack_halves(float lo, float hi) {
    return (unsigned)__half_as_ushort(__float2half_rn(lo)) | ((unsigned)__half_as_ushort(__float2half_rn(hi)) << 16);
}

static __global__ void preprocess_kernel(preprocess_params p) {
    size_t group = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (group >= (size_t)p.n * GROUPS_PER_IMAGE) return;
    size_t image = group / GROUPS_PER_IMAGE;
    int q = (int)(group % GROUPS_PER_IMAGE); // pixels 4q .. 4q+3
    const uint8_t *src = p.pixels + image * 3072 + q * PIXELS_PER_THREAD;
    float v[PIXELS_PER_THREAD * 3]; // v[pixel * 3 + channel]
#pragma unroll
    for (int c = 0; c < 3; c++) {
        uchar4 x = *(const uchar4 *)(src + c * 1024);
        // __fmul_rn/__fsub_rn: no FMA contraction, so the fp32 value equals the CPU's bit for bit.
        v[0 * 3 + c] = __fsub_rn(__fmul_rn((float)x.x, p.scale[c]), p.shift[c]);
        v[1 * 3 + c] = __fsub_rn(__fmul_rn((float)x.y, p.scale[c]), p.shift[c]);
        v[2 * 3 + c] = __fsub_rn(__fmul_rn((float)x.z, p.scale[c]), p.shift[c]);
        v[3 * 3 + c] = __fsub_rn(__fmul_rn((float)x.w, p.scale[c]), p.shift[c]);
    }
    uint2 *dst = (uint2 *)((__half *)p.nhwc + image * 3072 + (size_t)q * PIXELS_PER_THREAD * 3);
    dst[0] = make_uint2(pack_halves(v[0], v[1]), pack_halves(v[2], v[3]));
    dst[1] = make_uint2(pack_halves(v[4], v[5]), pack_halves(v[6], v[7]));
    dst[2] = make_uint2(pack_halves(v[8], v[9]), pack_halves(v[10], v[11]));
}

extern "C" void preprocess_set_normalisation(preprocess_params *p, const float mean[3], const float std[3]) {
    for (int c = 0; c < 3; c++) {
        p->scale[c] = 1.0f / (255.0f * std[c]);
        p->shift[c] = mean[c] / std[c];
    }
}

extern "C" cudaError_t preprocess_launch(const preprocess_params *p, cudaStream_t stream) {
    if (p->n < 0 || ((uintptr_t)p->pixels & 3) || ((uintptr_t)p->nhwc & 7)) return cudaErrorInvalidValue;
    if (p->n == 0) return cudaSuccess;
    size_t groups = (size_t)p->n * GROUPS_PER_IMAGE;
    unsigned blocks = (unsigned)((groups + PREPROCESS_THREADS - 1) / PREPROCESS_THREADS);
    preprocess_kernel<<<blocks, PREPROCESS_THREADS, 0, stream>>>(*p);
    return cudaGetLastError();
}

extern "C" cudaError_t preprocess_runnable(void) {
    struct cudaFuncAttributes attributes;
    return cudaFuncGetAttributes(&attributes, preprocess_kernel);
}
