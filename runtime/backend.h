// backend.h: the primitives the cascade pipeline is written over.
// The pipeline (pipeline.c) holds all of the cascade's bookkeeping: chunking,
// the deferred queue's fill level, when an expensive batch is full, the
// final flush, mapping results to job positions, early abort. A backend only
// provides these primitives. The CPU backend runs each synchronously; the GPU
// backend enqueues them on streams and returns at once, so that "submit"
// starts work and "finish" waits for it.
//
// Order of calls the pipeline guarantees:
//  - at most n_slots chunks are submitted and not yet finished; chunks are
//    finished in submission order; the host refills a slot's images only
//    after finish_chunk returned for the chunk that last used it;
//  - the images queued for the expensive network never exceed
//    expensive_batch + n_slots * chunk_capacity;
//  - at most 2 expensive batches are submitted and not yet finished.
#pragma once
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "status.h"

typedef struct {
    int n;                     // images in the chunk
    int n_deferred;            // how many the cheap network deferred (appended to the queue)
    const int32_t *prediction; // n: argmax of the cheap network's logits
    const float *confidence;   // n: max softmax probability
    const uint8_t *deferred;   // n: 1 where the image went to the expensive queue
} chunk_result;

typedef struct {
    int n;                     // images in the batch
    const int32_t *prediction; // n, in queue order (= job position order)
    const float *confidence;   // n
} expensive_result;

typedef struct cascade_backend {
    char name[128];        // "cpu (OpenBLAS, 2 threads)", "gpu (NVIDIA H100 80GB HBM3)", ...
    void *impl;
    int chunk_capacity;    // images per chunk
    int expensive_batch;   // images per expensive batch (0 when there is no expensive network)
    int n_slots;           // chunk slots (>= 2: double buffering)

    // Host buffer (pinned on the GPU) of chunk_capacity x 3072 bytes for the slot's CIFAR pixels.
    uint8_t *(*chunk_images)(void *impl, int slot);
    // Upload, preprocess, cheap network, confidence; with an expensive network,
    // images with deferred = (threshold >= 1 || confidence < threshold) are
    // appended, in order, to the expensive queue.
    cascade_status (*submit_chunk)(void *impl, int slot, int n, float threshold, cascade_error *err);
    // Waits for the slot's chunk; out stays valid until the slot is submitted again.
    cascade_status (*finish_chunk)(void *impl, int slot, chunk_result *out, cascade_error *err);
    // Starts the expensive network on the n oldest queued images and removes them from the queue.
    cascade_status (*submit_expensive)(void *impl, int n, cascade_error *err);
    // Waits for the oldest submitted expensive batch; out stays valid until the next call.
    cascade_status (*finish_expensive)(void *impl, expensive_result *out, cascade_error *err);
    // Optional (NULL: always ready): 1 when the oldest submitted expensive batch
    // has finished, so finish_expensive would not wait. Never blocks.
    int (*expensive_ready)(void *impl);
    void (*destroy)(void *impl);

    // Optional (NULL where not supported): reading a chunk straight from the
    // caller's memory instead of copying it into chunk_images(slot) first.
    // register_host prepares [base, base + bytes) once (the GPU pins it);
    // set_chunk_source(slot, pixels) makes the next submit_chunk of the slot
    // read pixels (n x 3072 bytes inside registered memory, unchanged until
    // finish_chunk of the slot); pixels NULL goes back to chunk_images.
    cascade_status (*register_host)(void *impl, const void *base, size_t bytes, cascade_error *err);
    void (*unregister_host)(void *impl, const void *base);
    void (*set_chunk_source)(void *impl, int slot, const uint8_t *pixels);
} cascade_backend;

// The confidence rule, the same on every backend.
static inline int cascade_defers(float confidence, float threshold) {
    return threshold >= 1.0f || confidence < threshold;
}

// A threshold t in [0, 1] as the rule takes it: the smallest float32 at or
// above t, so that a float confidence c is below it exactly when c < t
// (rounding to nearest could fall below t, and a c equal to that float would
// then be kept though below t); 1 and above: 1.0f, every image deferred.
// (A t in (0.99999994, 1) would become 1.0f too: the host refuses those.)
static inline float cascade_threshold(double t) {
    if (t >= 1.0) return 1.0f;
    float f = (float)t;
    return (double)f < t ? nextafterf(f, 1.0f) : f;
}
