// image_copy.cuh: device helper shared by the queue kernels: one block copies
// one fp16 32x32x3 image (3072 halfs = 6144 bytes) in 16-byte words when both
// ends are 16-byte aligned, else in halfs.
#pragma once
#include <stdint.h>
#include <cuda_runtime.h>

#define IMAGE_HALFS 3072
#define IMAGE_BYTES (IMAGE_HALFS * 2)
#define IMAGE_COPY_THREADS 128

template <typename Word>
static __device__ __forceinline__ void copy_image(void *dst, const void *src) {
    const int words = IMAGE_BYTES / (int)sizeof(Word);
    Word *d = (Word *)dst;
    const Word *s = (const Word *)src;
    for (int w = threadIdx.x; w < words; w += blockDim.x) d[w] = s[w];
}

static inline int image_copy_aligned16(const void *a, const void *b) {
    return (((uintptr_t)a | (uintptr_t)b) & 15) == 0;
}
