// gpu_network.h: one network of the model IR, resident on the GPU.
// fp16 NHWC activations, fp32 accumulation, BN-folded fp16 weights uploaded
// once. Each conv node is a cuDNN backend-API graph (conv -> bias ->
// [residual add] -> ReLU) whose plan is chosen once (the fastest of the
// timed top heuristic configs) at creation for the network's batch size;
// linear layers go through cuBLAS(Lt). All device memory (weights,
// activations, workspaces) comes from one arena allocated at creation. The
// whole forward is captured once as a CUDA graph and replayed.
#pragma once
#include <stdint.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h>
#include "../../models/model.h"

// A compute stream with the library handles bound to it (one per stream:
// handles are not shared across concurrently used streams).
typedef struct {
    cudaStream_t stream;
    cudnnHandle_t cudnn;
    cublasHandle_t cublas;
} gpu_lane;

typedef struct gpu_network gpu_network;

#define GPU_NETWORK_MAX_BATCH (1 << 20) // the largest batch gpu_network_create takes

#ifdef __cplusplus
extern "C" {
#endif

// Builds the graphs, plans, arena and CUDA graph for exactly `batch` images.
// The model may be freed after this returns. Out of device memory is
// CASCADE_ENOMEM with a message naming the batch size.
CASCADE_MUST_CHECK cascade_status gpu_network_create(gpu_network **out, const model *m, int batch, const gpu_lane *lane,
                                                     cascade_error *err);
void gpu_network_destroy(gpu_network *net);
// The largest batch gpu_network_create takes for m: GPU_NETWORK_MAX_BATCH, or
// fewer where a tensor would hold 2^31 values or more (cuDNN's convolutions
// index with 32 bits: 32767 images for a 64x32x32 activation). Needs no
// device. CASCADE_EINVAL (or EFORMAT) for a model the GPU backend does not
// run, CASCADE_ENOMEM where the check itself found no memory.
CASCADE_MUST_CHECK cascade_status gpu_network_max_batch(const model *m, int *largest, cascade_error *err);

// The network's input buffer: batch x 32 x 32 x 3 fp16 (NHWC), owned by the network.
void *gpu_network_input(gpu_network *net);
// Its output: batch x num_classes fp32 logits, owned by the network.
float *gpu_network_logits(gpu_network *net);
int gpu_network_batch(const gpu_network *net);
size_t gpu_network_arena_bytes(const gpu_network *net);

// Enqueues one forward over the whole batch on the lane's stream (rows past
// the caller's count are computed and ignored). Asynchronous.
CASCADE_MUST_CHECK cascade_status gpu_network_forward(gpu_network *net, cascade_error *err);

// 1 when the forward replays a captured CUDA graph; 0 when the capture
// failed and the forward runs node by node (gpu_network_describe says why).
int gpu_network_captured(const gpu_network *net);
// How each node runs (cuDNN graph form, engine, timed ms, workspace; cuBLASLt
// epilogue), the arena and the CUDA graph: a few lines of text for logs and
// tests. Truncated to cap.
void gpu_network_describe(const gpu_network *net, char *out, size_t cap);

#ifdef __cplusplus
}
#endif
