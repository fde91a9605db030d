// queue_take.cuh: copies the n oldest images of the expensive queue's ring
// (slots head % capacity, (head+1) % capacity, ...) to a contiguous batch,
// e.g. the expensive network's input. head and n are known to the host (the
// pipeline decides them); removing the images from the queue is the host's
// head += n: the ring needs no shifting.
#pragma once
#include "launch.cuh"
#include <stdint.h>
#include <cuda_runtime.h>

typedef struct {
    const void *queue;  // (capacity, 32, 32, 3) fp16 ring
    long long capacity; // images the ring holds
    long long head;     // images ever taken: the oldest queued one is at head % capacity
    int n;              // images to copy
    void *batch;        // (n, 32, 32, 3) fp16
} queue_take_params;

#ifdef __cplusplus
extern "C" {
#endif

KERNEL_MUST_CHECK cudaError_t queue_take_launch(const queue_take_params *p, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
