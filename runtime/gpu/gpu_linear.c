// gpu_linear.c: a linear layer as one cuBLASLt matmul (see gpu_linear.h).
// Row-major y = x W^T is, in cuBLASLt's column-major terms, D (out x batch)
// = op(A) B with A the stored W (in x out, ld in) transposed and B the
// stored x (in x batch, ld in); the bias vector runs along D's rows (out).
#include "gpu_linear.h"
#include <stdint.h>
#include <stdlib.h>
#include "gpu_check.h"
#include "../../kernels/bias_act.cuh"

#define LINEAR_HEURISTIC_RESULTS 4

struct gpu_linear {
    gpu_linear_shape shape;
    gpu_linear_buffers buffers;
    cublasLtHandle_t lt;
    cublasLtMatmulDesc_t matmul;
    cublasLtMatrixLayout_t w_layout, x_layout, y_layout;
    cublasLtMatmulAlgo_t algo;
    int fused_epilogue;
};

static cascade_status describe_matmul(gpu_linear *l, cublasLtEpilogue_t epilogue, cascade_error *err) {
    cublasOperation_t transa = CUBLAS_OP_T, transb = CUBLAS_OP_N;
    const void *bias = l->buffers.bias;
    if (l->matmul) CUBLAS_TEARDOWN_CHECK(cublasLtMatmulDescDestroy(l->matmul));
    l->matmul = NULL;
    CUBLAS_CHECK(cublasLtMatmulDescCreate(&l->matmul, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(l->matmul, CUBLASLT_MATMUL_DESC_TRANSA, &transa, sizeof transa));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(l->matmul, CUBLASLT_MATMUL_DESC_TRANSB, &transb, sizeof transb));
    CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(l->matmul, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue));
    if (epilogue != CUBLASLT_EPILOGUE_DEFAULT) // bias in D's type (fp16, or fp32 for the logits)
        CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(l->matmul, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias));
    return CASCADE_OK;
}

static cascade_status describe_layouts(gpu_linear *l, cascade_error *err) {
    const gpu_linear_shape *s = &l->shape;
    cudaDataType_t y_type = s->out_fp32 ? CUDA_R_32F : CUDA_R_16F;
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l->w_layout, CUDA_R_16F, (uint64_t)s->in_features,
                                            (uint64_t)s->out_features, s->in_features));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l->x_layout, CUDA_R_16F, (uint64_t)s->in_features, (uint64_t)s->batch,
                                            s->in_features));
    CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l->y_layout, y_type, (uint64_t)s->out_features, (uint64_t)s->batch,
                                            s->out_features));
    return CASCADE_OK;
}

// cuBLASLt's first algorithm for the current description that fits the
// workspace; *found = 0 when it offers none.
static cascade_status find_algo(gpu_linear *l, int *found, cascade_error *err) {
    cublasLtMatmulPreference_t preference;
    cublasLtMatmulHeuristicResult_t results[LINEAR_HEURISTIC_RESULTS];
    uint64_t workspace = l->buffers.workspace_bytes;
    int returned = 0;
    *found = 0;
    CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&preference));
    cublasStatus_t status = cublasLtMatmulPreferenceSetAttribute(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                                 &workspace, sizeof workspace);
    if (status == CUBLAS_STATUS_SUCCESS)
        status = cublasLtMatmulAlgoGetHeuristic(l->lt, l->matmul, l->w_layout, l->x_layout, l->y_layout, l->y_layout,
                                                preference, LINEAR_HEURISTIC_RESULTS, results, &returned);
    CUBLAS_TEARDOWN_CHECK(cublasLtMatmulPreferenceDestroy(preference));
    if (status == CUBLAS_STATUS_NOT_SUPPORTED) return CASCADE_OK;
    if (status != CUBLAS_STATUS_SUCCESS)
        return cascade_fail(err, CASCADE_EDEVICE, "cublasLtMatmulAlgoGetHeuristic failed: %s", cublas_status_string(status));
    for (int i = 0; i < returned && !*found; i++)
        if (results[i].state == CUBLAS_STATUS_SUCCESS && results[i].workspaceSize <= workspace) {
            l->algo = results[i].algo;
            *found = 1;
        }
    return CASCADE_OK;
}

static cublasStatus_t run_matmul(const gpu_linear *l, cudaStream_t stream) {
    const gpu_linear_buffers *b = &l->buffers;
    const float alpha = 1.0f, beta = 0.0f;
    return cublasLtMatmul(l->lt, l->matmul, &alpha, b->weight, l->w_layout, b->x, l->x_layout, &beta, b->y,
                          l->y_layout, b->y, l->y_layout, &l->algo, b->workspace, b->workspace_bytes, stream);
}

static cascade_status describe(gpu_linear *l, cudaStream_t stream, cascade_error *err) {
    cublasLtEpilogue_t fused = l->shape.relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
    int found = 0;
    cascade_status s = describe_layouts(l, err);
    if (!s) s = describe_matmul(l, fused, err);
    if (!s) s = find_algo(l, &found, err);
    if (!s && found && run_matmul(l, stream) != CUBLAS_STATUS_SUCCESS) {
        found = 0;                // proposed but refused at run time
        (void)cudaGetLastError(); // a refused launch may leave a (non-sticky) error behind
    }
    if (s || found) {
        l->fused_epilogue = found;
        return s;
    }
    s = describe_matmul(l, CUBLASLT_EPILOGUE_DEFAULT, err); // bias and ReLU by bias_act
    if (!s) s = find_algo(l, &found, err);
    if (!s && !found)
        s = cascade_fail(err, CASCADE_EDEVICE, "cuBLASLt offers no algorithm for a %d x %d x %d fp16 matmul",
                         l->shape.batch, l->shape.out_features, l->shape.in_features);
    return s;
}

cascade_status gpu_linear_create(gpu_linear **out, cublasLtHandle_t lt, const gpu_linear_shape *shape,
                                 const gpu_linear_buffers *buffers, cudaStream_t stream, cascade_error *err) {
    *out = NULL;
    if (!lt || !shape || !buffers || shape->batch <= 0 || shape->in_features <= 0 || shape->out_features <= 0 ||
        !buffers->x || !buffers->weight || !buffers->bias || !buffers->y || !buffers->workspace)
        return cascade_fail(err, CASCADE_EINVAL, "gpu_linear_create: bad shape or missing buffer");
    gpu_linear *l = calloc(1, sizeof *l);
    if (!l) return cascade_fail(err, CASCADE_ENOMEM, "out of host memory for a linear layer");
    l->shape = *shape, l->buffers = *buffers, l->lt = lt;
    cascade_status s = describe(l, stream, err);
    if (s) {
        gpu_linear_destroy(l);
        return s;
    }
    *out = l;
    return CASCADE_OK;
}

cascade_status gpu_linear_forward(const gpu_linear *l, cudaStream_t stream, cascade_error *err) {
    if (!l) return cascade_fail(err, CASCADE_EINVAL, "gpu_linear_forward: no layer");
    const gpu_linear_buffers *b = &l->buffers;
    CUBLAS_CHECK(run_matmul(l, stream));
    if (l->fused_epilogue) return CASCADE_OK;
    if (l->shape.out_fp32)
        CUDA_CHECK(bias_act_f32_launch((float *)b->y, (const float *)b->bias, (size_t)l->shape.batch,
                                       l->shape.out_features, l->shape.relu, stream));
    else
        CUDA_CHECK(bias_act_f16_launch(b->y, b->bias, NULL, (size_t)l->shape.batch, l->shape.out_features,
                                       l->shape.relu, stream));
    return CASCADE_OK;
}

int gpu_linear_fused_epilogue(const gpu_linear *l) { return l ? l->fused_epilogue : 0; }

void gpu_linear_destroy(gpu_linear *l) {
    if (!l) return;
    if (l->matmul) CUBLAS_TEARDOWN_CHECK(cublasLtMatmulDescDestroy(l->matmul));
    if (l->w_layout) CUBLAS_TEARDOWN_CHECK(cublasLtMatrixLayoutDestroy(l->w_layout));
    if (l->x_layout) CUBLAS_TEARDOWN_CHECK(cublasLtMatrixLayoutDestroy(l->x_layout));
    if (l->y_layout) CUBLAS_TEARDOWN_CHECK(cublasLtMatrixLayoutDestroy(l->y_layout));
    free(l);
}
