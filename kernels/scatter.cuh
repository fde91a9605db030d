// scatter.cuh: writes a batch's (prediction, confidence) pairs into result
// slots: slot_prediction[result_slot[i]] = prediction[i] (same for the
// confidence), for i < n. The count may come from the device (e.g. a
// compaction's count) so that no host round trip is needed.
#pragma once
#include "launch.cuh"
#include <stdint.h>
#include <cuda_runtime.h>

typedef struct {
    const int32_t *prediction;   // (n) in batch order
    const float *confidence;     // (n)
    const int32_t *result_slot;  // (n): destination index of each; distinct
    int n;                       // entries (bound when device_count is set)
    const int32_t *device_count; // optional (1) device: the entries are min(*device_count, n)
    int32_t *slot_prediction;    // destination arrays, indexed by result_slot
    float *slot_confidence;
} scatter_params;

#ifdef __cplusplus
extern "C" {
#endif

KERNEL_MUST_CHECK cudaError_t scatter_launch(const scatter_params *p, cudaStream_t stream);

#ifdef __cplusplus
}
#endif
