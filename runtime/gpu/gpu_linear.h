// gpu_linear.h: a linear layer as one cuBLASLt matmul over fixed device
// buffers: y (batch x out) = x (batch x in) . W^T + bias, [ReLU], row-major,
// fp16 x and W, fp32 compute and scale. Bias and ReLU ride in the matmul's
// epilogue (CUBLASLT_EPILOGUE_BIAS / RELU_BIAS) when cuBLASLt offers an
// algorithm for it, else kernels/bias_act runs after a plain matmul. The
// workspace is passed on every call, so nothing is allocated at run time
// and the matmul can be captured in a CUDA graph.
#pragma once
#include <stddef.h>
#include <cublasLt.h>
#include <cuda_runtime.h>
#include "../status.h"

typedef struct {
    int batch, in_features, out_features; // as stored (row strides)
    int out_fp32;                         // y and bias fp32 (logits), else fp16
    int relu;
} gpu_linear_shape;

typedef struct {
    const void *x;      // batch x in_features fp16
    const void *weight; // out_features x in_features fp16 (PyTorch's (out, in))
    const void *bias;   // out_features, fp32 when out_fp32 else fp16
    void *y;            // batch x out_features
    void *workspace;
    size_t workspace_bytes;
} gpu_linear_buffers;

typedef struct gpu_linear gpu_linear;

#ifdef __cplusplus
extern "C" {
#endif

// Describes the matmul and picks cuBLASLt's first heuristic algorithm; the
// fused-epilogue algorithm is tried once on stream (writing y), and the
// layer falls back to the plain matmul + bias_act if cuBLASLt refuses it.
CASCADE_MUST_CHECK cascade_status gpu_linear_create(gpu_linear **out, cublasLtHandle_t lt,
                                                    const gpu_linear_shape *shape, const gpu_linear_buffers *buffers,
                                                    cudaStream_t stream, cascade_error *err);
// Enqueues the layer on stream.
CASCADE_MUST_CHECK cascade_status gpu_linear_forward(const gpu_linear *l, cudaStream_t stream, cascade_error *err);
int gpu_linear_fused_epilogue(const gpu_linear *l); // 1 when bias/ReLU run inside the matmul
void gpu_linear_destroy(gpu_linear *l);

#ifdef __cplusplus
}
#endif
