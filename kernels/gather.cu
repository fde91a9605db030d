// gather.cu: deferred images -> the expensive queue's ring (see gather.cuh).
#include "gather.cuh"
#include "image_copy.cuh"

#define GATHER_MAX_BLOCKS 4096

static __device__ __forceinline__ int deferred_total(const gather_params &p) {
    int count = *p.deferred_count;
    return count < 0 ? 0 : count > p.max_count ? p.max_count : count;
}

template <typename Word>
static __global__ void gather_kernel(gather_params p) {
    int count = deferred_total(p);
    long long tail = *p.queue_tail;
    for (int j = blockIdx.x; j < count; j += gridDim.x) {
        const uint16_t *src = (const uint16_t *)p.images + (size_t)p.deferred_index[j] * IMAGE_HALFS;
        uint16_t *dst = (uint16_t *)p.queue + (size_t)((tail + j) % p.capacity) * IMAGE_HALFS;
        copy_image<Word>(dst, src);
    }
}

static __global__ void queue_advance_kernel(gather_params p) { *p.queue_tail += deferred_total(p); }

extern "C" cudaError_t gather_launch(const gather_params *p, cudaStream_t stream) {
    if (p->max_count < 0 || p->capacity < 1) return cudaErrorInvalidValue;
    if (p->max_count > 0) {
        unsigned blocks = (unsigned)(p->max_count < GATHER_MAX_BLOCKS ? p->max_count : GATHER_MAX_BLOCKS);
        if (image_copy_aligned16(p->images, p->queue))
            gather_kernel<uint4><<<blocks, IMAGE_COPY_THREADS, 0, stream>>>(*p);
        else
            gather_kernel<unsigned short><<<blocks, IMAGE_COPY_THREADS, 0, stream>>>(*p);
        cudaError_t e = cudaGetLastError();
        if (e != cudaSuccess) return e;
    }
    queue_advance_kernel<<<1, 1, 0, stream>>>(*p);
    return cudaGetLastError();
}
