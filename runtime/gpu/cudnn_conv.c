// cudnn_conv.c: a convolution node as a cuDNN backend-API graph (see cudnn_conv.h).
// Every descriptor a graph is made of is kept until the conv is destroyed.
// Attribute types follow cudnn_graph.h: dims, strides, ids, paddings are
// INT64; descriptors are BACKEND_DESCRIPTOR (a pointer to the handle
// variable); alpha and beta are FLOAT; the virtual flag is a C bool.
#define _POSIX_C_SOURCE 199309L
#include "cudnn_conv.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "gpu_check.h"

#define CONV_MAX_DESCS 32       // tensors, ops and graph of one conv: 18 at most
#define CONV_MAX_CONFIGS 32     // heuristic configs kept (plans are finalized from the top)
#define CONV_PLAN_BUDGET_S 1.5  // stop finalizing more plans after this (runtime-compiled ones take ~1 s)
#define CONV_TIMED_RUNS 5

#define TRY(expr)                                 \
    do {                                          \
        cascade_status try_status_ = (expr);      \
        if (try_status_) return try_status_;      \
    } while (0)

enum { UID_X = 1, UID_W, UID_BIAS, UID_RESIDUAL, UID_Y, UID_VIRTUAL = 100 };

struct cudnn_conv {
    cudnn_conv_shape shape;
    cudnnBackendDescriptor_t descs[CONV_MAX_DESCS]; // in creation order; destroyed in reverse
    int n_descs;
    cudnnBackendDescriptor_t graph;                 // also in descs
    cudnnBackendDescriptor_t configs[CONV_MAX_CONFIGS];
    int n_configs;
    cudnnBackendDescriptor_t plans[CUDNN_CONV_MAX_PLANS];
    int plan_config[CUDNN_CONV_MAX_PLANS], plan_engine[CUDNN_CONV_MAX_PLANS];
    int64_t plan_workspace[CUDNN_CONV_MAX_PLANS];
    int plan_fp16_reduction[CUDNN_CONV_MAX_PLANS], plan_nondeterministic[CUDNN_CONV_MAX_PLANS];
    int n_plans;
    cudnnBackendDescriptor_t variant_pack;
    cudaEvent_t timing[2];
    int chosen; // 1 once choose kept plans[0]
    int none_ran; // 1 when the last choose found no plan that ran (every one failed or was too big)
    float chosen_ms;
};

// A cuDNN failure with cuDNN's own explanation of it: out of memory is
// CASCADE_ENOMEM (the batch is too big), anything else CASCADE_EDEVICE (this
// graph is unsupported; the caller may try it in another form).
static cascade_status conv_fail(cascade_error *err, cudnnStatus_t status, const char *what) {
    char detail[300] = "";
    cudnnGetLastErrorString(detail, sizeof detail);
    return cascade_fail(err, cudnn_out_of_memory(status) ? CASCADE_ENOMEM : CASCADE_EDEVICE, "cuDNN %s: %s%s%s", what,
                        cudnnGetErrorString(status), detail[0] ? ": " : "", detail);
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static cascade_status new_desc(cudnn_conv *c, cudnnBackendDescriptorType_t type, cudnnBackendDescriptor_t *out,
                               cascade_error *err) {
    *out = NULL;
    if (c->n_descs == CONV_MAX_DESCS) return cascade_fail(err, CASCADE_EINVAL, "internal: too many cuDNN descriptors");
    CUDNN_CHECK(cudnnBackendCreateDescriptor(type, out));
    c->descs[c->n_descs++] = *out;
    return CASCADE_OK;
}

// A 4-D tensor, dims in NCHW order [n, c, h, w], laid out NHWC (channels fastest).
static cascade_status new_tensor(cudnn_conv *c, int64_t uid, const int64_t dims[4], cudnnDataType_t type,
                                 bool is_virtual, cudnnBackendDescriptor_t *out, cascade_error *err) {
    const int64_t strides[4] = {dims[1] * dims[2] * dims[3], 1, dims[3] * dims[1], dims[1]};
    const int64_t alignment = 16;
    TRY(new_desc(c, CUDNN_BACKEND_TENSOR_DESCRIPTOR, out, err));
    CUDNN_CHECK(cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type));
    CUDNN_CHECK(cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, 4, dims));
    CUDNN_CHECK(cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, 4, strides));
    CUDNN_CHECK(cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid));
    CUDNN_CHECK(cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment));
    CUDNN_CHECK(cudnnBackendSetAttribute(*out, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &is_virtual));
    cudnnStatus_t status = cudnnBackendFinalize(*out);
    return status ? conv_fail(err, status, "tensor descriptor") : CASCADE_OK;
}

// The convolution: cross-correlation, fp32 compute, dilation 1, y = conv(x, w).
static cascade_status new_conv_op(cudnn_conv *c, cudnnBackendDescriptor_t x, cudnnBackendDescriptor_t w,
                                  cudnnBackendDescriptor_t y, cudnnBackendDescriptor_t *op, cascade_error *err) {
    const cudnn_conv_shape *s = &c->shape;
    cudnnDataType_t compute = CUDNN_DATA_FLOAT;
    cudnnConvolutionMode_t mode = CUDNN_CROSS_CORRELATION;
    const int64_t spatial = 2, pad[2] = {s->pad, s->pad}, stride[2] = {s->stride, s->stride}, dilation[2] = {1, 1};
    const float alpha = 1.0f, beta = 0.0f;
    cudnnBackendDescriptor_t conv;
    TRY(new_desc(c, CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR, &conv, err));
    CUDNN_CHECK(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &compute));
    CUDNN_CHECK(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_CONV_MODE, CUDNN_TYPE_CONVOLUTION_MODE, 1, &mode));
    CUDNN_CHECK(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_SPATIAL_DIMS, CUDNN_TYPE_INT64, 1, &spatial));
    CUDNN_CHECK(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_PRE_PADDINGS, CUDNN_TYPE_INT64, 2, pad));
    CUDNN_CHECK(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_POST_PADDINGS, CUDNN_TYPE_INT64, 2, pad));
    CUDNN_CHECK(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_DILATIONS, CUDNN_TYPE_INT64, 2, dilation));
    CUDNN_CHECK(cudnnBackendSetAttribute(conv, CUDNN_ATTR_CONVOLUTION_FILTER_STRIDES, CUDNN_TYPE_INT64, 2, stride));
    cudnnStatus_t status = cudnnBackendFinalize(conv);
    if (status) return conv_fail(err, status, "convolution descriptor");
    TRY(new_desc(c, CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR, op, err));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_X, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_W, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &w));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_Y, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_CONV_DESC,
                                         CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &conv));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_ALPHA, CUDNN_TYPE_FLOAT, 1, &alpha));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_CONVOLUTION_FORWARD_BETA, CUDNN_TYPE_FLOAT, 1, &beta));
    status = cudnnBackendFinalize(*op);
    return status ? conv_fail(err, status, "convolution operation") : CASCADE_OK;
}

// y = mode(x[, b]) elementwise, fp32 math; b (NULL for unary modes) broadcasts.
static cascade_status new_pointwise_op(cudnn_conv *c, cudnnPointwiseMode_t mode, cudnnBackendDescriptor_t x,
                                       cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t y,
                                       cudnnBackendDescriptor_t *op, cascade_error *err) {
    cudnnDataType_t precision = CUDNN_DATA_FLOAT;
    cudnnBackendDescriptor_t pw;
    TRY(new_desc(c, CUDNN_BACKEND_POINTWISE_DESCRIPTOR, &pw, err));
    CUDNN_CHECK(cudnnBackendSetAttribute(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode));
    CUDNN_CHECK(cudnnBackendSetAttribute(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &precision));
    cudnnStatus_t status = cudnnBackendFinalize(pw);
    if (status) return conv_fail(err, status, "pointwise descriptor");
    TRY(new_desc(c, CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, op, err));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &pw));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x));
    if (b) CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b));
    CUDNN_CHECK(cudnnBackendSetAttribute(*op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y));
    status = cudnnBackendFinalize(*op);
    return status ? conv_fail(err, status, "pointwise operation") : CASCADE_OK;
}

// The tensor a graph stage writes: y for the last stage, else a new fp32 virtual tensor.
static cascade_status stage_output(cudnn_conv *c, int last, cudnnBackendDescriptor_t y, const int64_t y_dims[4],
                                   int64_t *next_uid, cudnnBackendDescriptor_t *out, cascade_error *err) {
    if (last) {
        *out = y;
        return CASCADE_OK;
    }
    return new_tensor(c, (*next_uid)++, y_dims, CUDNN_DATA_FLOAT, true, out, err);
}

static cascade_status new_graph(cudnn_conv *c, cudnnHandle_t handle, cudnnBackendDescriptor_t *ops, int n_ops,
                                cascade_error *err) {
    TRY(new_desc(c, CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, &c->graph, err));
    CUDNN_CHECK(cudnnBackendSetAttribute(c->graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR, n_ops, ops));
    // The handle attribute is deprecated in cuDNN 9 but still honoured (the
    // frontend sets it); a failure here is tolerated and left to Finalize.
    cudnnStatus_t status = cudnnBackendSetAttribute(c->graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle);
    (void)status;
    status = cudnnBackendFinalize(c->graph);
    return status ? conv_fail(err, status, "operation graph") : CASCADE_OK;
}

// conv -> [+bias -> [+residual] -> [ReLU]] -> y as one operation graph.
static cascade_status build_graph(cudnn_conv *c, cudnnHandle_t handle, cascade_error *err) {
    const cudnn_conv_shape *s = &c->shape;
    const int64_t x_dims[4] = {s->batch, s->in_channels, s->in_height, s->in_width};
    const int64_t w_dims[4] = {s->out_channels, s->in_channels, s->kernel, s->kernel};
    const int64_t y_dims[4] = {s->batch, s->out_channels, s->out_height, s->out_width};
    const int64_t b_dims[4] = {1, s->out_channels, 1, 1};
    int stages = s->fused ? 1 + (s->residual != 0) + (s->relu != 0) : 0; // pointwise ops after the conv
    int64_t next_uid = UID_VIRTUAL;
    cudnnBackendDescriptor_t x, w, y, cur, operand, out, ops[4];
    int n_ops = 0;
    TRY(new_tensor(c, UID_X, x_dims, CUDNN_DATA_HALF, false, &x, err));
    TRY(new_tensor(c, UID_W, w_dims, CUDNN_DATA_HALF, false, &w, err));
    TRY(new_tensor(c, UID_Y, y_dims, CUDNN_DATA_HALF, false, &y, err));
    TRY(stage_output(c, stages == 0, y, y_dims, &next_uid, &cur, err));
    TRY(new_conv_op(c, x, w, cur, &ops[n_ops++], err));
    if (s->fused) {
        TRY(new_tensor(c, UID_BIAS, b_dims, CUDNN_DATA_HALF, false, &operand, err));
        TRY(stage_output(c, --stages == 0, y, y_dims, &next_uid, &out, err));
        TRY(new_pointwise_op(c, CUDNN_POINTWISE_ADD, cur, operand, out, &ops[n_ops++], err));
        cur = out;
    }
    if (s->fused && s->residual) {
        TRY(new_tensor(c, UID_RESIDUAL, y_dims, CUDNN_DATA_HALF, false, &operand, err));
        TRY(stage_output(c, --stages == 0, y, y_dims, &next_uid, &out, err));
        TRY(new_pointwise_op(c, CUDNN_POINTWISE_ADD, cur, operand, out, &ops[n_ops++], err));
        cur = out;
    }
    if (s->fused && s->relu) {
        TRY(stage_output(c, --stages == 0, y, y_dims, &next_uid, &out, err));
        TRY(new_pointwise_op(c, CUDNN_POINTWISE_RELU_FWD, cur, NULL, out, &ops[n_ops++], err));
    }
    return new_graph(c, handle, ops, n_ops, err);
}

// Engine configs from the heuristics, best first (at most CONV_MAX_CONFIGS).
static cascade_status query_configs(cudnn_conv *c, cascade_error *err) {
    cudnnBackendHeurMode_t mode = (cudnnBackendHeurMode_t)c->shape.heur_mode;
    cudnnBackendDescriptor_t heuristics, filled[CONV_MAX_CONFIGS];
    int64_t available = 0, returned = 0;
    TRY(new_desc(c, CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, &heuristics, err));
    CUDNN_CHECK(cudnnBackendSetAttribute(heuristics, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH,
                                         CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &c->graph));
    CUDNN_CHECK(cudnnBackendSetAttribute(heuristics, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode));
    cudnnStatus_t status = cudnnBackendFinalize(heuristics);
    if (status) return conv_fail(err, status, "engine heuristics");
    CUDNN_CHECK(cudnnBackendGetAttribute(heuristics, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR, 0,
                                         &available, NULL));
    if (available <= 0) return cascade_fail(err, CASCADE_EDEVICE, "cuDNN heuristics offer no engine config");
    if (available > CONV_MAX_CONFIGS) available = CONV_MAX_CONFIGS;
    for (int i = 0; i < available; i++) { // cuDNN fills descriptors we created
        CUDNN_CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, &c->configs[i]));
        c->n_configs = i + 1;
        filled[i] = c->configs[i];
    }
    CUDNN_CHECK(cudnnBackendGetAttribute(heuristics, CUDNN_ATTR_ENGINEHEUR_RESULTS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
                                         available, &returned, filled));
    if (returned <= 0) return cascade_fail(err, CASCADE_EDEVICE, "cuDNN heuristics returned no engine config");
    while (c->n_configs > returned) CUDNN_TEARDOWN_CHECK(cudnnBackendDestroyDescriptor(c->configs[--c->n_configs]));
    return CASCADE_OK;
}

cascade_status cudnn_conv_create(cudnn_conv **out, cudnnHandle_t handle, const cudnn_conv_shape *shape,
                                 cascade_error *err) {
    *out = NULL;
    if (!handle || !shape || shape->batch <= 0 || shape->in_channels <= 0 || shape->out_channels <= 0 ||
        shape->kernel <= 0 || shape->stride <= 0 || shape->pad < 0 || shape->out_height <= 0 || shape->out_width <= 0)
        return cascade_fail(err, CASCADE_EINVAL, "cudnn_conv_create: bad shape");
    cudnn_conv *c = calloc(1, sizeof *c);
    if (!c) return cascade_fail(err, CASCADE_ENOMEM, "out of host memory for a convolution");
    c->shape = *shape;
    cascade_status s = build_graph(c, handle, err);
    if (!s) s = query_configs(c, err);
    if (s) {
        cudnn_conv_destroy(c);
        return s;
    }
    *out = c;
    return CASCADE_OK;
}

// The engine behind a config: its global index, whether it reduces in fp16
// (we want fp32 accumulation) and whether its results may differ run to run
// (atomics: two runs of one job must write the same bytes). Best effort: -1,
// 0 and 0 when unknown.
static void config_engine(cudnnBackendDescriptor_t config, int *engine_id, int *reduces_in_fp16, int *nondeterministic) {
    cudnnBackendDescriptor_t engine = NULL, created;
    cudnnBackendNumericalNote_t notes[CUDNN_NUMERICAL_NOTE_TYPE_COUNT];
    int64_t n = 0, id = -1;
    *engine_id = -1, *reduces_in_fp16 = 0, *nondeterministic = 0;
    if (cudnnBackendCreateDescriptor(CUDNN_BACKEND_ENGINE_DESCRIPTOR, &engine) != CUDNN_STATUS_SUCCESS) return;
    created = engine; // cuDNN fills it in place; destroy what we created
    if (cudnnBackendGetAttribute(config, CUDNN_ATTR_ENGINECFG_ENGINE, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &n, &engine) ==
        CUDNN_STATUS_SUCCESS) {
        if (cudnnBackendGetAttribute(engine, CUDNN_ATTR_ENGINE_GLOBAL_INDEX, CUDNN_TYPE_INT64, 1, &n, &id) ==
            CUDNN_STATUS_SUCCESS)
            *engine_id = (int)id;
        n = 0;
        if (cudnnBackendGetAttribute(engine, CUDNN_ATTR_ENGINE_NUMERICAL_NOTE, CUDNN_TYPE_NUMERICAL_NOTE,
                                     CUDNN_NUMERICAL_NOTE_TYPE_COUNT, &n, notes) == CUDNN_STATUS_SUCCESS)
            for (int64_t i = 0; i < n && i < CUDNN_NUMERICAL_NOTE_TYPE_COUNT; i++) {
                if (notes[i] == CUDNN_NUMERICAL_NOTE_REDUCED_PRECISION_REDUCTION) *reduces_in_fp16 = 1;
                if (notes[i] == CUDNN_NUMERICAL_NOTE_NONDETERMINISTIC) *nondeterministic = 1;
            }
    }
    CUDNN_TEARDOWN_CHECK(cudnnBackendDestroyDescriptor(created));
}

// Finalizes config i into a plan. A config the engine turns down is noted
// in `why`, not an error (*out_of_memory set when it was for lack of memory);
// one that reduces in fp16 or is nondeterministic is passed over (and
// counted in *passed_over) unless allow_fp16_reduction.
static cascade_status try_plan(cudnn_conv *c, cudnnHandle_t handle, int i, int allow_fp16_reduction, int *passed_over,
                               int *out_of_memory, char *why, size_t cap, cascade_error *err) {
    int engine, reduces_in_fp16, nondeterministic;
    config_engine(c->configs[i], &engine, &reduces_in_fp16, &nondeterministic);
    if ((reduces_in_fp16 || nondeterministic) && !allow_fp16_reduction) {
        snprintf(why, cap, "config %d (engine %d) %s", i, engine,
                 reduces_in_fp16 ? "reduces in fp16" : "is nondeterministic");
        (*passed_over)++;
        return CASCADE_OK;
    }
    cudnnBackendDescriptor_t plan;
    CUDNN_CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, &plan));
    // Deprecated in cuDNN 9 and optional; tolerated if refused (see new_graph).
    cudnnStatus_t status = cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle);
    (void)status;
    status = cudnnBackendSetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1,
                                      &c->configs[i]);
    if (status == CUDNN_STATUS_SUCCESS) status = cudnnBackendFinalize(plan);
    if (status != CUDNN_STATUS_SUCCESS) {
        char detail[200] = "";
        cudnnGetLastErrorString(detail, sizeof detail);
        snprintf(why, cap, "config %d (engine %d): %s %s", i, engine, cudnnGetErrorString(status), detail);
        *out_of_memory |= cudnn_out_of_memory(status);
        CUDNN_TEARDOWN_CHECK(cudnnBackendDestroyDescriptor(plan));
        return CASCADE_OK;
    }
    int k = c->n_plans++;
    c->plans[k] = plan, c->plan_config[k] = i, c->plan_engine[k] = engine, c->plan_workspace[k] = 0;
    c->plan_fp16_reduction[k] = reduces_in_fp16, c->plan_nondeterministic[k] = nondeterministic;
    int64_t n = 0;
    CUDNN_CHECK(cudnnBackendGetAttribute(plan, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE, CUDNN_TYPE_INT64, 1, &n,
                                         &c->plan_workspace[k]));
    if (c->plan_workspace[k] < 0) return cascade_fail(err, CASCADE_EDEVICE, "cuDNN plan reports a negative workspace");
    return CASCADE_OK;
}

// Drops plan k, keeping the order of the others.
static void drop_plan(cudnn_conv *c, int k) {
    CUDNN_TEARDOWN_CHECK(cudnnBackendDestroyDescriptor(c->plans[k]));
    for (int j = k + 1; j < c->n_plans; j++) {
        c->plans[j - 1] = c->plans[j], c->plan_config[j - 1] = c->plan_config[j];
        c->plan_engine[j - 1] = c->plan_engine[j], c->plan_workspace[j - 1] = c->plan_workspace[j];
        c->plan_fp16_reduction[j - 1] = c->plan_fp16_reduction[j];
        c->plan_nondeterministic[j - 1] = c->plan_nondeterministic[j];
    }
    c->n_plans--;
}

int cudnn_conv_none_ran(const cudnn_conv *c) { return c && c->none_ran; }

void cudnn_conv_drop_plans(cudnn_conv *c) {
    while (c && !c->chosen && c->n_plans > 0) drop_plan(c, c->n_plans - 1);
}

cascade_status cudnn_conv_finalize_plans(cudnn_conv *c, cudnnHandle_t handle, int first_config, int max_plans,
                                         size_t workspace_cap, cascade_error *err) {
    if (!c || !handle || first_config < 0 || max_plans < 1 || c->chosen)
        return cascade_fail(err, CASCADE_EINVAL, "cudnn_conv_finalize_plans: bad arguments");
    if (max_plans > CUDNN_CONV_MAX_PLANS) max_plans = CUDNN_CONV_MAX_PLANS;
    char why[300] = "no config to try";
    int out_of_memory = 0;
    // Engines reducing in fp16 are admitted only when nothing else finalizes.
    for (int allow_fp16_reduction = 0, passed_over = 0; allow_fp16_reduction < 2; allow_fp16_reduction++) {
        double start = seconds_now();
        for (int i = first_config; i < c->n_configs && c->n_plans < max_plans; i++) {
            if (c->n_plans > 0 && seconds_now() - start > CONV_PLAN_BUDGET_S) break;
            TRY(try_plan(c, handle, i, allow_fp16_reduction, &passed_over, &out_of_memory, why, sizeof why, err));
        }
        if (c->n_plans > 0 || passed_over == 0) break;
    }
    if (c->n_plans == 0) // for lack of memory: the batch is too big, not the graph unsupported
        return cascade_fail(err, out_of_memory ? CASCADE_ENOMEM : CASCADE_EDEVICE,
                            "no cuDNN plan finalized from %d engine configs (last: %s)",
                            c->n_configs > first_config ? c->n_configs - first_config : 0, why);
    // Past the cap only when nothing fits, and then only the smallest: the
    // arena's workspace is sized to the largest plan kept.
    int64_t smallest = c->plan_workspace[0];
    for (int k = 1; k < c->n_plans; k++)
        if (c->plan_workspace[k] < smallest) smallest = c->plan_workspace[k];
    int64_t keep = (size_t)smallest <= workspace_cap ? (int64_t)workspace_cap : smallest;
    for (int k = c->n_plans - 1; k >= 0; k--)
        if (c->plan_workspace[k] > keep) drop_plan(c, k);
    return CASCADE_OK;
}

cascade_status cudnn_conv_finalize_config(cudnn_conv *c, cudnnHandle_t handle, int config, int engine,
                                          int allow_fp16_reduction, size_t workspace_cap, cascade_error *err) {
    if (!c || !handle || config < 0 || c->chosen || c->n_plans)
        return cascade_fail(err, CASCADE_EINVAL, "cudnn_conv_finalize_config: bad arguments");
    if (config >= c->n_configs)
        return cascade_fail(err, CASCADE_EDEVICE, "config %d not offered (%d configs)", config, c->n_configs);
    char why[300] = "";
    int passed_over = 0, out_of_memory = 0;
    cascade_status s = try_plan(c, handle, config, allow_fp16_reduction, &passed_over, &out_of_memory, why, sizeof why,
                                err);
    int fits = c->n_plans == 1 && (size_t)c->plan_workspace[0] <= workspace_cap;
    if (!s && fits && (engine < 0 || c->plan_engine[0] == engine)) return CASCADE_OK;
    if (!s && fits)
        s = cascade_fail(err, CASCADE_EDEVICE, "config %d is now engine %d, not %d", config, c->plan_engine[0], engine);
    else if (!s && c->n_plans == 1)
        s = cascade_fail(err, CASCADE_EDEVICE, "config %d needs %lld B of workspace, over %zu", config,
                         (long long)c->plan_workspace[0], workspace_cap);
    else if (!s)
        s = cascade_fail(err, CASCADE_EDEVICE, "config %d did not finalize: %s", config, why);
    while (c->n_plans) drop_plan(c, c->n_plans - 1);
    return s;
}

int cudnn_conv_plan_count(const cudnn_conv *c) { return c ? c->n_plans : 0; }
int cudnn_conv_config_count(const cudnn_conv *c) { return c ? c->n_configs : 0; }

size_t cudnn_conv_workspace_max(const cudnn_conv *c) {
    size_t most = 0;
    for (int k = 0; c && k < c->n_plans; k++)
        if ((size_t)c->plan_workspace[k] > most) most = (size_t)c->plan_workspace[k];
    return most;
}

cascade_status cudnn_conv_bind(cudnn_conv *c, const cudnn_conv_buffers *b, cascade_error *err) {
    if (!c || !b || c->variant_pack || !b->x || !b->weight || !b->y || !b->workspace ||
        (c->shape.fused && !b->bias) || (c->shape.fused && c->shape.residual && !b->residual))
        return cascade_fail(err, CASCADE_EINVAL, "cudnn_conv_bind: missing buffer or bound twice");
    int64_t uids[5] = {UID_X, UID_W, UID_Y};
    void *pointers[5] = {b->x, b->weight, b->y};
    int64_t n = 3;
    if (c->shape.fused) uids[n] = UID_BIAS, pointers[n++] = b->bias;
    if (c->shape.fused && c->shape.residual) uids[n] = UID_RESIDUAL, pointers[n++] = b->residual;
    void *workspace = b->workspace;
    CUDNN_CHECK(cudnnBackendCreateDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &c->variant_pack));
    CUDNN_CHECK(cudnnBackendSetAttribute(c->variant_pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64, n, uids));
    CUDNN_CHECK(cudnnBackendSetAttribute(c->variant_pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR, n,
                                         pointers));
    CUDNN_CHECK(cudnnBackendSetAttribute(c->variant_pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1,
                                         &workspace));
    cudnnStatus_t status = cudnnBackendFinalize(c->variant_pack);
    return status ? conv_fail(err, status, "variant pack") : CASCADE_OK;
}

// Mean milliseconds of plan k over CONV_TIMED_RUNS executions after one
// warm-up, or -1 (reason in why) when cuDNN declines to execute it.
static cascade_status time_plan(cudnn_conv *c, int k, cudnnHandle_t handle, cudaStream_t stream, float *ms,
                                char *why, size_t cap, cascade_error *err) {
    *ms = -1.0f;
    cudnnStatus_t status = cudnnBackendExecute(handle, c->plans[k], c->variant_pack);
    if (status != CUDNN_STATUS_SUCCESS) {
        snprintf(why, cap, "engine %d does not execute: %s", c->plan_engine[k], cudnnGetErrorString(status));
        (void)cudaGetLastError(); // a declined launch may leave a (non-sticky) error for the next check
        CUDA_CHECK(cudaStreamSynchronize(stream)); // nothing of it left running when the plan is dropped
        return CASCADE_OK;
    }
    CUDA_CHECK(cudaEventRecord(c->timing[0], stream));
    for (int r = 0; r < CONV_TIMED_RUNS; r++) {
        status = cudnnBackendExecute(handle, c->plans[k], c->variant_pack);
        if (status != CUDNN_STATUS_SUCCESS) break;
    }
    if (status != CUDNN_STATUS_SUCCESS) { // passed over like one failing its warm-up (a sticky fault shows next)
        snprintf(why, cap, "engine %d fails while timed: %s", c->plan_engine[k], cudnnGetErrorString(status));
        (void)cudaGetLastError();
        CUDA_CHECK(cudaStreamSynchronize(stream));
        return CASCADE_OK;
    }
    CUDA_CHECK(cudaEventRecord(c->timing[1], stream));
    CUDA_CHECK(cudaEventSynchronize(c->timing[1]));
    float total = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&total, c->timing[0], c->timing[1]));
    *ms = total / CONV_TIMED_RUNS;
    return CASCADE_OK;
}

cascade_status cudnn_conv_choose(cudnn_conv *c, cudnnHandle_t handle, cudaStream_t stream, size_t workspace_bytes,
                                 cascade_error *err) {
    if (!c || !handle || !c->variant_pack || c->n_plans == 0 || c->chosen)
        return cascade_fail(err, CASCADE_EINVAL, "cudnn_conv_choose: no bound plans");
    c->none_ran = 0; // (about this call: a CUDA error below returns before it is known)
    for (int i = 0; i < 2; i++)
        if (!c->timing[i]) CUDA_CHECK(cudaEventCreate(&c->timing[i]));
    char why[200] = "every plan needs more workspace than the arena holds";
    int best = -1;
    float best_ms = 0.0f, ms;
    for (int k = 0; k < c->n_plans; k++) {
        if ((size_t)c->plan_workspace[k] > workspace_bytes) continue;
        TRY(time_plan(c, k, handle, stream, &ms, why, sizeof why, err));
        if (ms >= 0.0f && (best < 0 || ms < best_ms)) best = k, best_ms = ms;
    }
    c->none_ran = best < 0;
    if (best < 0) return cascade_fail(err, CASCADE_EDEVICE, "no cuDNN plan ran (%s)", why);
    for (int k = c->n_plans - 1; k >= 0; k--)
        if (k != best) drop_plan(c, k), best -= k < best;
    c->chosen = 1;
    c->chosen_ms = best_ms;
    return CASCADE_OK;
}

int cudnn_conv_chosen_config(const cudnn_conv *c) { return c && c->chosen ? c->plan_config[0] : -1; }
int cudnn_conv_chosen_engine(const cudnn_conv *c) { return c && c->chosen ? c->plan_engine[0] : -1; }
size_t cudnn_conv_chosen_workspace(const cudnn_conv *c) { return c && c->chosen ? (size_t)c->plan_workspace[0] : 0; }
float cudnn_conv_chosen_ms(const cudnn_conv *c) { return c && c->chosen ? c->chosen_ms : -1.0f; }
int cudnn_conv_chosen_reduces_in_fp16(const cudnn_conv *c) { return c && c->chosen ? c->plan_fp16_reduction[0] : 0; }
int cudnn_conv_chosen_nondeterministic(const cudnn_conv *c) { return c && c->chosen ? c->plan_nondeterministic[0] : 0; }

cascade_status cudnn_conv_execute(const cudnn_conv *c, cudnnHandle_t handle, cascade_error *err) {
    if (!c || !c->chosen) return cascade_fail(err, CASCADE_EINVAL, "cudnn_conv_execute: no plan chosen");
    cudnnStatus_t status = cudnnBackendExecute(handle, c->plans[0], c->variant_pack);
    return status ? conv_fail(err, status, "execute") : CASCADE_OK;
}

void cudnn_conv_destroy(cudnn_conv *c) {
    if (!c) return;
    if (c->variant_pack) CUDNN_TEARDOWN_CHECK(cudnnBackendDestroyDescriptor(c->variant_pack));
    for (int k = 0; k < c->n_plans; k++) CUDNN_TEARDOWN_CHECK(cudnnBackendDestroyDescriptor(c->plans[k]));
    for (int i = 0; i < c->n_configs; i++) CUDNN_TEARDOWN_CHECK(cudnnBackendDestroyDescriptor(c->configs[i]));
    for (int i = c->n_descs - 1; i >= 0; i--) CUDNN_TEARDOWN_CHECK(cudnnBackendDestroyDescriptor(c->descs[i]));
    for (int i = 0; i < 2; i++)
        if (c->timing[i]) CUDA_TEARDOWN_CHECK(cudaEventDestroy(c->timing[i]));
    free(c);
}
