// gpu_context.c: device, named streams, per-stream cuDNN/cuBLAS handles (see gpu_context.h).
#include "gpu_context.h"
#include "gpu_check.h"
#include "gpu_probe.h"
#include <nvtx3/nvToolsExt.h>
#include <nvtx3/nvToolsExtCudaRt.h>
#include <stdio.h>
#include <string.h>

static cascade_status create_stream(cudaStream_t *stream, const char *name, cascade_error *err) {
    cudaStream_t created = NULL;
    CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    *stream = created;
    nvtxNameCudaStreamA(created, name);
    return CASCADE_OK;
}

static cascade_status create_lane(gpu_lane *lane, const char *name, cascade_error *err) {
    cascade_status s = create_stream(&lane->stream, name, err);
    if (s) return s;
    cudnnHandle_t cudnn = NULL;
    CUDNN_CHECK(cudnnCreate(&cudnn));
    lane->cudnn = cudnn;
    CUDNN_CHECK(cudnnSetStream(lane->cudnn, lane->stream));
    cublasHandle_t cublas = NULL;
    CUBLAS_CHECK(cublasCreate(&cublas));
    lane->cublas = cublas;
    CUBLAS_CHECK(cublasSetStream(lane->cublas, lane->stream));
    return CASCADE_OK;
}

static cascade_status create_all(gpu_context *ctx, cascade_error *err) {
    char probe_name[256];
    cascade_status s = gpu_probe(probe_name, sizeof probe_name, err);
    if (s) return s;
    ctx->device = 0;
    CUDA_CHECK(cudaSetDevice(ctx->device));
    struct cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, ctx->device));
    snprintf(ctx->device_name, sizeof ctx->device_name, "%s", prop.name);
    if ((s = create_stream(&ctx->copy, "copy", err))) return s;
    if ((s = create_lane(&ctx->cheap, "cheap", err))) return s;
    return create_lane(&ctx->expensive, "expensive", err);
}

cascade_status gpu_context_create(gpu_context *ctx, cascade_error *err) {
    memset(ctx, 0, sizeof *ctx);
    cascade_status s = create_all(ctx, err);
    if (s) gpu_context_destroy(ctx);
    return s;
}

static void destroy_lane(gpu_lane *lane) {
    if (lane->stream) CUDA_TEARDOWN_CHECK(cudaStreamSynchronize(lane->stream));
    if (lane->cublas) CUBLAS_TEARDOWN_CHECK(cublasDestroy(lane->cublas));
    if (lane->cudnn) CUDNN_TEARDOWN_CHECK(cudnnDestroy(lane->cudnn));
    if (lane->stream) CUDA_TEARDOWN_CHECK(cudaStreamDestroy(lane->stream));
}

void gpu_context_destroy(gpu_context *ctx) {
    if (!ctx) return;
    if (ctx->copy) {
        CUDA_TEARDOWN_CHECK(cudaStreamSynchronize(ctx->copy));
        CUDA_TEARDOWN_CHECK(cudaStreamDestroy(ctx->copy));
    }
    destroy_lane(&ctx->cheap);
    destroy_lane(&ctx->expensive);
    memset(ctx, 0, sizeof *ctx);
}

cascade_status gpu_event_create(cudaEvent_t *event, cascade_error *err) {
    cudaEvent_t created = NULL;
    CUDA_CHECK(cudaEventCreateWithFlags(&created, cudaEventDisableTiming));
    *event = created;
    return CASCADE_OK;
}
