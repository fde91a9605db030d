// gpu_context.h: the device, its named streams and the library handles.
// Created and destroyed explicitly (no lazy globals). Three streams:
//   copy      - host-to-device uploads of chunk pixels
//   cheap     - preprocess, cheap network, confidence + compaction, gather, result download
//   expensive - queue take, expensive network, confidence, result download
// The cheap and expensive streams each come as a gpu_lane (gpu_network.h):
// a cuDNN and a cuBLAS handle bound to that stream, never shared across
// streams. Streams are non-blocking (no implicit sync with the legacy
// default stream) and named for Nsight (nvtxNameCudaStreamA).
#pragma once
#include "gpu_network.h"

typedef struct {
    int device;
    char device_name[256]; // cudaDeviceProp.name, e.g. "NVIDIA H100 80GB HBM3"
    cudaStream_t copy;
    gpu_lane cheap;
    gpu_lane expensive;
} gpu_context;

#ifdef __cplusplus
extern "C" {
#endif

// Uses device 0. gpu_probe's status (with the reason) when no usable CUDA
// device is present; on failure nothing is left allocated.
CASCADE_MUST_CHECK cascade_status gpu_context_create(gpu_context *ctx, cascade_error *err);
// Waits for the streams, then releases everything; safe on a zeroed or partly created context.
void gpu_context_destroy(gpu_context *ctx);

// An event for ordering only (timing disabled); *event is NULL on failure.
CASCADE_MUST_CHECK cascade_status gpu_event_create(cudaEvent_t *event, cascade_error *err);

#ifdef __cplusplus
}
#endif
