// cudnn_conv.h: one convolution node as a cuDNN backend-API operation graph.
// Fused: conv (fp16 x and w, fp32 compute) -> +bias -> [+residual] -> [ReLU]
// -> y, with fp32 virtual tensors in between; split: the conv alone writes y
// (the caller then runs kernels/bias_act). Tensors are NHWC: cuDNN dims are
// given in NCHW order [n, c, h, w] with strides [h*w*c, 1, w*c, c]; weights
// are KRSC, dims [k, c, r, s] with strides [r*s*c, 1, s*c, c].
//
// Life of a conv: create (graph + mode-A heuristic configs) -> finalize
// plans (the top few configs) -> bind (the fixed device pointers: one
// variant pack, kept) -> choose (time every plan that fits the workspace a
// few times on the stream, keep the fastest) -> execute, many times.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <cudnn.h>
#include "../status.h"

#define CUDNN_CONV_MAX_PLANS 8

typedef struct {
    int batch;
    int in_channels, in_height, in_width;    // x: NHWC fp16, channels as stored
    int out_channels, out_height, out_width; // y: NHWC fp16, channels as stored
    int kernel, stride, pad;                 // square kernel, symmetric padding, dilation 1
    int fused;                               // 1: bias [residual] [ReLU] inside the graph; 0: the conv alone
    int residual;                            // fused only: add a residual tensor shaped like y
    int relu;                                // fused only: ReLU last
    int heur_mode;                           // cudnnBackendHeurMode_t: CUDNN_HEUR_MODE_A or _FALLBACK
} cudnn_conv_shape;

typedef struct {
    void *x;         // batch x in_height x in_width x in_channels fp16
    void *weight;    // out_channels x kernel x kernel x in_channels fp16
    void *bias;      // out_channels fp16 (fused only)
    void *residual;  // like y (fused with residual only)
    void *y;         // batch x out_height x out_width x out_channels fp16
    void *workspace; // at least the chosen plan's workspace bytes
} cudnn_conv_buffers;

typedef struct cudnn_conv cudnn_conv;

#ifdef __cplusplus
extern "C" {
#endif

// Builds the operation graph and asks heuristics (shape->heur_mode) for
// engine configs. Fails (CASCADE_EDEVICE, with cuDNN's reason) when the
// graph is not supported or no config comes back; *out is then NULL.
CASCADE_MUST_CHECK cascade_status cudnn_conv_create(cudnn_conv **out, cudnnHandle_t handle,
                                                    const cudnn_conv_shape *shape, cascade_error *err);
// Finalizes plans from the heuristic's configs first_config, first_config+1,
// ... until max_plans finalized (or the configs or a time budget run out);
// configs whose engine reduces in fp16 or is nondeterministic are skipped
// unless nothing else finalizes. Plans needing more than workspace_cap bytes
// are dropped; when none fits, all but the smallest are. Fails when no plan
// finalized (CASCADE_ENOMEM when a config was refused for lack of memory).
CASCADE_MUST_CHECK cascade_status cudnn_conv_finalize_plans(cudnn_conv *c, cudnnHandle_t handle, int first_config,
                                                            int max_plans, size_t workspace_cap, cascade_error *err);
// Finalizes heuristic config `config` alone, and only if its engine id is
// `engine` (-1: any), its workspace within workspace_cap and, unless
// allow_fp16_reduction, its engine neither reduces in fp16 nor is
// nondeterministic: the way to reuse a choice made for the same graph, in
// this network or an earlier one (or a cache file's line, which is screened
// as a fresh choice is). Fails, holding no plan, otherwise; the caller then
// finalizes the top few.
CASCADE_MUST_CHECK cascade_status cudnn_conv_finalize_config(cudnn_conv *c, cudnnHandle_t handle, int config,
                                                             int engine, int allow_fp16_reduction,
                                                             size_t workspace_cap, cascade_error *err);
// Before a choice: destroys every plan held (the bound buffers stay), so
// that others can be finalized in their place.
void cudnn_conv_drop_plans(cudnn_conv *c);
// 1 when the last cudnn_conv_choose failed because none of its plans ran
// (each failed its timed runs or needed more workspace), not for a CUDA error.
int cudnn_conv_none_ran(const cudnn_conv *c);
int cudnn_conv_plan_count(const cudnn_conv *c);
size_t cudnn_conv_workspace_max(const cudnn_conv *c); // over the plans held
// Builds the variant pack over fixed device pointers (call once).
CASCADE_MUST_CHECK cascade_status cudnn_conv_bind(cudnn_conv *c, const cudnn_conv_buffers *buffers, cascade_error *err);
// Times each held plan whose workspace fits workspace_bytes (executions on
// the handle's stream, which must be `stream`), keeps the fastest and
// destroys the others. Synchronises the stream.
CASCADE_MUST_CHECK cascade_status cudnn_conv_choose(cudnn_conv *c, cudnnHandle_t handle, cudaStream_t stream,
                                                    size_t workspace_bytes, cascade_error *err);
// After choose: the chosen plan's heuristic config index, engine id (-1 if
// unknown), workspace bytes and mean time per execution.
int cudnn_conv_chosen_config(const cudnn_conv *c);
int cudnn_conv_chosen_engine(const cudnn_conv *c);
size_t cudnn_conv_chosen_workspace(const cudnn_conv *c);
float cudnn_conv_chosen_ms(const cudnn_conv *c);
int cudnn_conv_chosen_reduces_in_fp16(const cudnn_conv *c); // 1 if only such an engine finalized
int cudnn_conv_chosen_nondeterministic(const cudnn_conv *c); // likewise
int cudnn_conv_config_count(const cudnn_conv *c);
// Enqueues the chosen plan on the handle's stream.
CASCADE_MUST_CHECK cascade_status cudnn_conv_execute(const cudnn_conv *c, cudnnHandle_t handle, cascade_error *err);
void cudnn_conv_destroy(cudnn_conv *c);

#ifdef __cplusplus
}
#endif
