// gather.cuh: appends a chunk's deferred images to the device-side expensive
// queue, a ring of fp16 NHWC images, and advances the queue's tail, with no
// host involvement: the count and the tail are read on the device.
// Two kernels in one stream: the copy (one block per image, grid-stride),
// then a single thread that advances the tail (so no block of the copy can
// see a tail already advanced).
#pragma once
#include "launch.cuh"
#include <stdint.h>
#include <cuda_runtime.h>

typedef struct {
    const void *images;            // (chunk, 32, 32, 3) fp16: the chunk's preprocessed images
    const int32_t *deferred_index; // (max_count): indices into images, ascending (queue order)
    const int32_t *deferred_count; // (1) device: how many of them
    int max_count;                 // bound of *deferred_count (the chunk's size): sizes the grid
    void *queue;                   // (capacity, 32, 32, 3) fp16 ring
    long long capacity;            // images the ring holds
    long long *queue_tail;         // (1) device: images ever appended; the next one goes to tail % capacity
} gather_params;

#ifdef __cplusplus
extern "C" {
#endif

// Image j of the list goes to ring slot (tail + j) % capacity; tail += count.
KERNEL_MUST_CHECK cudaError_t gather_launch(const gather_params *p, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
