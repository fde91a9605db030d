// confidence.cuh: per-image softmax confidence and argmax of fp32 logits,
// fused with the cascade's deferral and an ordered compaction.
// The GPU twin of confidence_from_logits (runtime/confidence.c): ties go to
// the lowest class, confidence = 1 / sum_k exp(l_k - l_max). With compaction
// the indices of the deferred images are written in ascending order (queue
// order = position order, which the pipeline relies on) and their count to
// *deferred_count. Two kernels: (1) confidence, deferral flags and a count
// per tile of CONFIDENCE_TILE images; (2) each tile sums the counts of the
// tiles before it and writes its indices at that offset (warp ballots give
// the ranks within the tile). No atomics, so the order is deterministic.
#pragma once
#include "launch.cuh"
#include <stdint.h>
#include <cuda_runtime.h>

#define CONFIDENCE_THREADS 256
#define CONFIDENCE_ITEMS 4                                    // images per thread
#define CONFIDENCE_TILE (CONFIDENCE_THREADS * CONFIDENCE_ITEMS) // images per block
// int32 scratch needed by the compaction of n images.
#define CONFIDENCE_SCRATCH_INTS(n) (((n) + CONFIDENCE_TILE - 1) / CONFIDENCE_TILE)

typedef struct {
    const float *logits;     // (n, classes)
    int n, classes;
    int32_t *prediction;     // (n) argmax
    float *confidence;       // (n) max softmax probability
    // Deferral (NULL: none computed). deferred[i] = defer && cascade_defers(confidence[i], threshold).
    uint8_t *deferred;       // (n)
    int defer;               // 0: nothing is deferred (a chunk with no expensive network)
    float threshold;
    // Compaction (all NULL: none; needs deferred).
    int32_t *deferred_index; // (n): the deferred images' indices, ascending
    int32_t *deferred_count; // (1): how many
    int32_t *tile_counts;    // scratch: CONFIDENCE_SCRATCH_INTS(n)
} confidence_params;

#ifdef __cplusplus
extern "C" {
#endif

// n == 0 launches no kernel (the count, if any, is set to 0).
KERNEL_MUST_CHECK cudaError_t confidence_launch(const confidence_params *p, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
