// cpu_network.c: fp32 NHWC execution of the model IR with OpenBLAS sgemm.
// Data-parallel over the cores: the batch is cut into micro-batches of at
// most CPU_MICRO_BATCH images, and each OpenMP worker runs whole micro-batches
// through the whole network in its own workspace (activations and im2col
// matrix, a few tens of MB), with single-threaded sgemm. Small layers (lenet's
// 6-channel convs, the linears) then cost no thread hand-offs: with OpenBLAS's
// own threads splitting each sgemm, a third of lenet's time was their
// sched_yield (profiling/PERF_LOG.md).
#include "cpu_network.h"
#include <cblas.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
    float *weight; // conv: (out, kh, kw, in); linear: (out, in) in NHWC feature order
} cpu_node;

typedef struct {
    float *activations[MODEL_MAX_NODES + 1]; // one buffer per IR tensor, CPU_MICRO_BATCH images
    float *columns;                          // im2col scratch
} cpu_workspace;

struct cpu_network {
    const model *m;
    cpu_node nodes[MODEL_MAX_NODES];
    int n_workers;         // OpenMP threads at creation (1 without OpenMP)
    cpu_workspace *work;   // one per worker
};

// The shape a linear node's input was flattened from, to permute its weight columns.
static tensor_shape flattened_from(const model *m, int tensor) {
    for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].output == tensor && m->nodes[i].kind == NODE_FLATTEN) return m->tensors[m->nodes[i].input];
    return m->tensors[tensor];
}

static cascade_status relayout_weights(cpu_network *net, cascade_error *err) {
    const model *m = net->m;
    for (int i = 0; i < m->n_nodes; i++) {
        const model_node *n = &m->nodes[i];
        if (n->kind != NODE_CONV && n->kind != NODE_LINEAR) continue;
        int out = n->out_features, in = n->in_features, kk = n->kind == NODE_CONV ? n->kernel * n->kernel : 1;
        float *w = malloc((size_t)out * in * kk * sizeof(float));
        if (!w) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for CPU weights");
        net->nodes[i].weight = w;
        if (n->kind == NODE_CONV) { // (o, c, k) -> (o, k, c)
            for (int o = 0; o < out; o++)
                for (int c = 0; c < in; c++)
                    for (int k = 0; k < kk; k++) w[((size_t)o * kk + k) * in + c] = n->weight[((size_t)o * in + c) * kk + k];
        } else { // feature (c, h, w) -> (h, w, c)
            tensor_shape s = flattened_from(m, n->input);
            int hw = s.height * s.width;
            for (int o = 0; o < out; o++)
                for (int c = 0; c < s.channels; c++)
                    for (int p = 0; p < hw; p++) w[(size_t)o * in + p * s.channels + c] = n->weight[(size_t)o * in + c * hw + p];
        }
    }
    return CASCADE_OK;
}

// One worker's buffers for CPU_MICRO_BATCH images.
static cascade_status allocate_workspace(const model *m, cpu_workspace *w, cascade_error *err) {
    size_t most_columns = 1;
    for (int i = 0; i < m->n_nodes; i++) {
        const model_node *n = &m->nodes[i];
        if (n->kind != NODE_CONV) continue;
        tensor_shape o = m->tensors[n->output];
        size_t cols = (size_t)o.height * o.width * n->kernel * n->kernel * n->in_features;
        if (cols > most_columns) most_columns = cols;
    }
    for (int t = 0; t < m->n_tensors; t++) {
        w->activations[t] = malloc(tensor_numel(m->tensors[t]) * CPU_MICRO_BATCH * sizeof(float));
        if (!w->activations[t]) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for CPU activations");
    }
    w->columns = malloc(most_columns * CPU_MICRO_BATCH * sizeof(float));
    if (!w->columns) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for im2col");
    return CASCADE_OK;
}

int cpu_network_workers(void) {
#ifdef _OPENMP
    return omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
#else
    return 1;
#endif
}

static int worker_index(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

cascade_status cpu_network_create(cpu_network **out, const model *m, cascade_error *err) {
    cpu_network *net = calloc(1, sizeof *net);
    if (!net) return cascade_fail(err, CASCADE_ENOMEM, "out of memory");
    net->m = m;
    net->n_workers = cpu_network_workers();
    net->work = calloc((size_t)net->n_workers, sizeof *net->work);
    cascade_status s = net->work ? CASCADE_OK : cascade_fail(err, CASCADE_ENOMEM, "out of memory");
    for (int w = 0; w < net->n_workers && !s; w++) s = allocate_workspace(m, &net->work[w], err);
    if (!s) s = relayout_weights(net, err);
    if (s) { cpu_network_destroy(net); return s; }
    *out = net;
    return CASCADE_OK;
}

void cpu_network_destroy(cpu_network *net) {
    if (!net) return;
    for (int i = 0; i < MODEL_MAX_NODES; i++) free(net->nodes[i].weight);
    for (int w = 0; net->work && w < net->n_workers; w++) {
        for (int t = 0; t <= MODEL_MAX_NODES; t++) free(net->work[w].activations[t]);
        free(net->work[w].columns);
    }
    free(net->work);
    free(net);
}

void cpu_preprocess(const uint8_t *images, int n, const float mean[3], const float std[3], float *nhwc) {
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            float scale = 1.0f / (255.0f * std[c]), shift = mean[c] / std[c];
            const uint8_t *plane = images + (size_t)i * 3072 + c * 1024;
            float *dst = nhwc + (size_t)i * 3072 + c;
            for (int p = 0; p < 1024; p++) dst[p * 3] = plane[p] * scale - shift;
        }
}

// im2col for NHWC: row (image, oy, ox), column (ky, kx, c); zero padding.
// For one (oy, ox, ky) the k taps kx read k adjacent input pixels, which are
// contiguous in NHWC: one copy of the in-bounds ones, zeros either side (a
// copy per tap cost lenet's 3-channel convs a call per 12 bytes).
static void im2col(const float *x, tensor_shape in, tensor_shape out, int k, int stride, int pad, int n, float *col) {
    size_t c = (size_t)in.channels, row_len = (size_t)k * k * c;
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < out.height; oy++)
            for (int ox = 0; ox < out.width; ox++) {
                float *row = col + (((size_t)b * out.height + oy) * out.width + ox) * row_len;
                int ix0 = ox * stride - pad;
                int first = ix0 < 0 ? -ix0 : 0, end = in.width - ix0 < k ? in.width - ix0 : k; // taps in bounds
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride - pad + ky;
                    float *dst = row + (size_t)ky * k * c;
                    if (iy < 0 || iy >= in.height || first >= end) {
                        memset(dst, 0, (size_t)k * c * sizeof(float));
                        continue;
                    }
                    if (first > 0) memset(dst, 0, first * c * sizeof(float));
                    memcpy(dst + first * c, x + (((size_t)b * in.height + iy) * in.width + ix0 + first) * c,
                           (size_t)(end - first) * c * sizeof(float));
                    if (end < k) memset(dst + end * c, 0, (size_t)(k - end) * c * sizeof(float));
                }
            }
}

// y[rows x out] = x[rows x in] * W^T, then + bias, + residual, ReLU.
static void gemm_epilogue(const float *x, const float *w, const float *bias, const float *residual, int relu,
                          int rows, int in, int out, float *y) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * out;
        const float *res = residual ? residual + (size_t)r * out : NULL;
        for (int o = 0; o < out; o++) {
            float v = yr[o] + bias[o] + (res ? res[o] : 0.0f);
            yr[o] = relu && v < 0 ? 0 : v;
        }
    }
}

static void run_conv(const cpu_network *net, cpu_workspace *w, int i, int n) {
    const model_node *node = &net->m->nodes[i];
    tensor_shape in = net->m->tensors[node->input], out = net->m->tensors[node->output];
    const float *x = w->activations[node->input];
    const float *cols = x;
    int k = node->kernel, depth = k * k * in.channels;
    if (!(k == 1 && node->stride == 1 && node->pad == 0)) {
        im2col(x, in, out, k, node->stride, node->pad, n, w->columns);
        cols = w->columns;
    }
    const float *res = node->residual >= 0 ? w->activations[node->residual] : NULL;
    gemm_epilogue(cols, net->nodes[i].weight, node->bias, res, node->relu, n * out.height * out.width, depth,
                  out.channels, w->activations[node->output]);
}

static void run_maxpool(const model_node *node, tensor_shape in, tensor_shape out, const float *x, float *y, int n) {
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < out.height; oy++)
            for (int ox = 0; ox < out.width; ox++) {
                float *dst = y + (((size_t)b * out.height + oy) * out.width + ox) * out.channels;
                for (int c = 0; c < out.channels; c++) dst[c] = -FLT_MAX;
                for (int ky = 0; ky < node->kernel; ky++)
                    for (int kx = 0; kx < node->kernel; kx++) {
                        int iy = oy * node->stride + ky, ix = ox * node->stride + kx;
                        const float *src = x + (((size_t)b * in.height + iy) * in.width + ix) * in.channels;
                        for (int c = 0; c < out.channels; c++) dst[c] = src[c] > dst[c] ? src[c] : dst[c];
                    }
            }
}

static void run_avgpool(tensor_shape in, const float *x, float *y, int n) {
    int hw = in.height * in.width;
    for (int b = 0; b < n; b++)
        for (int c = 0; c < in.channels; c++) {
            float sum = 0;
            for (int p = 0; p < hw; p++) sum += x[((size_t)b * hw + p) * in.channels + c];
            y[(size_t)b * in.channels + c] = sum / (float)hw;
        }
}

static void forward_micro_batch(const cpu_network *net, cpu_workspace *w, int n) {
    const model *m = net->m;
    for (int i = 0; i < m->n_nodes; i++) {
        const model_node *node = &m->nodes[i];
        tensor_shape in = m->tensors[node->input], out = m->tensors[node->output];
        float *x = w->activations[node->input], *y = w->activations[node->output];
        switch (node->kind) {
        case NODE_CONV: run_conv(net, w, i, n); break;
        case NODE_MAXPOOL: run_maxpool(node, in, out, x, y, n); break;
        case NODE_GLOBAL_AVGPOOL: run_avgpool(in, x, y, n); break;
        case NODE_FLATTEN: memcpy(y, x, (size_t)n * tensor_numel(in) * sizeof(float)); break;
        case NODE_LINEAR:
            gemm_epilogue(x, net->nodes[i].weight, node->bias, NULL, node->relu, n, node->in_features,
                          node->out_features, y);
            break;
        }
    }
}

cascade_status cpu_network_forward_u8(cpu_network *net, const uint8_t *images, int n, float *logits,
                                      cascade_error *err) {
    if (n < 0) return cascade_fail(err, CASCADE_EINVAL, "negative batch");
    if (n == 0) return CASCADE_OK;
    const model *m = net->m;
    int last = m->n_tensors - 1;
    // micro-batches of CPU_MICRO_BATCH whatever the number of workers: sgemm's rounding
    // depends on its row count, and the results must not depend on the machine's cores
    int micro = CPU_MICRO_BATCH, pieces = (n + micro - 1) / micro;
    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1); // each worker's sgemm on its own core
    #pragma omp parallel for schedule(dynamic, 1) num_threads(net->n_workers)
    for (int p = 0; p < pieces; p++) {
        cpu_workspace *w = &net->work[worker_index()];
        int start = p * micro, count = n - start < micro ? n - start : micro;
        cpu_preprocess(images + (size_t)start * 3072, count, m->mean, m->std, w->activations[0]);
        forward_micro_batch(net, w, count);
        memcpy(logits + (size_t)start * m->num_classes, w->activations[last],
               (size_t)count * m->num_classes * sizeof(float));
    }
    openblas_set_num_threads(blas_threads);
    return CASCADE_OK;
}
