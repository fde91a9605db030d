// queue_take.cu: the n oldest queued images -> a contiguous batch (see queue_take.cuh).
#include "queue_take.cuh"
#include "image_copy.cuh"

#define TAKE_MAX_BLOCKS 4096

template <typename Word>
static __global__ void queue_take_kernel(queue_take_params p) {
    for (int j = blockIdx.x; j < p.n; j += gridDim.x) {
        const uint16_t *src = (const uint16_t *)p.queue + (size_t)((p.head + j) % p.capacity) * IMAGE_HALFS;
        uint16_t *dst = (uint16_t *)p.batch + (size_t)j * IMAGE_HALFS;
        copy_image<Word>(dst, src);
    }
}

extern "C" cudaError_t queue_take_launch(const queue_take_params *p, cudaStream_t stream) {
    if (p->n < 0 || p->capacity < 1 || p->head < 0 || p->n > p->capacity) return cudaErrorInvalidValue;
    if (p->n == 0) return cudaSuccess;
    unsigned blocks = (unsigned)(p->n < TAKE_MAX_BLOCKS ? p->n : TAKE_MAX_BLOCKS);
    if (image_copy_aligned16(p->queue, p->batch))
        queue_take_kernel<uint4><<<blocks, IMAGE_COPY_THREADS, 0, stream>>>(*p);
    else
        queue_take_kernel<unsigned short><<<blocks, IMAGE_COPY_THREADS, 0, stream>>>(*p);
    return cudaGetLastError();
}
