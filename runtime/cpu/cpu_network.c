// cpu_network.c: fp32 NHWC execution of the model IR with OpenBLAS sgemm.
// Data-parallel over the cores: the batch is cut into micro-batches of at
// most CPU_MICRO_BATCH images, and each OpenMP worker runs whole micro-batches
// through the whole network in its own workspace (activations and an im2col
// block, at most 22 MB for the zoo), with single-threaded sgemm. Small layers (lenet's
// 6-channel convs, the linears) then cost no thread hand-offs: with OpenBLAS's
// own threads splitting each sgemm, a third of lenet's time was their
// sched_yield (profiling/PERF_LOG.md). The workspace stays small as cores
// grow: tensors whose lives do not overlap share a buffer, and each conv's
// im2col + sgemm runs over blocks of about CONV_BLOCK_ROWS output pixels.
#include "cpu_network.h"
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct {
    float *weight; // conv: (out, kh, kw, in); linear: (out, in) in NHWC feature order
} cpu_node;

typedef struct {
    float *buffers[MODEL_MAX_NODES + 1];     // CPU_MICRO_BATCH images each, shared by tensors in turn
    float *activations[MODEL_MAX_NODES + 1]; // each IR tensor's buffer
    float *columns;                          // im2col scratch for one block of a conv
} cpu_workspace;

struct cpu_network {
    const model *m;
    cpu_node nodes[MODEL_MAX_NODES];
    int buffer_of[MODEL_MAX_NODES + 1];        // tensor -> buffer (plan_buffers)
    size_t buffer_floats[MODEL_MAX_NODES + 1]; // per image
    int n_buffers;
    size_t column_floats;  // im2col scratch, the largest conv block
    int n_workers;         // OpenMP threads at creation (1 without OpenMP)
    cpu_workspace *work;   // one per worker
};

// Images per im2col block of a conv: about CONV_BLOCK_ROWS sgemm rows, so
// that the block's columns stay in cache (and the scratch is a few MB rather
// than the whole micro-batch's, 38 MB for resnet34); at least one image.
// It depends on the layer alone, so results do not depend on the cores.
#define CONV_BLOCK_ROWS 1024
static int conv_block_images(tensor_shape out) {
    int images = CONV_BLOCK_ROWS / (out.height * out.width);
    return images < 1 ? 1 : images > CPU_MICRO_BATCH ? CPU_MICRO_BATCH : images;
}

static int needs_columns(const model_node *n) { return !(n->kernel == 1 && n->stride == 1 && n->pad == 0); }

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

// Gives tensor a free buffer (holder[b] < 0): the smallest that holds it,
// else the largest free one, grown, else a new one.
static void take_buffer(cpu_network *net, int holder[], int tensor) {
    size_t need = tensor_numel(net->m->tensors[tensor]);
    int fit = -1, largest = -1;
    for (int b = 0; b < net->n_buffers; b++) {
        size_t have = net->buffer_floats[b];
        if (holder[b] >= 0) continue;
        if (have >= need && (fit < 0 || have < net->buffer_floats[fit])) fit = b;
        if (largest < 0 || have > net->buffer_floats[largest]) largest = b;
    }
    int b = fit >= 0 ? fit : largest >= 0 ? largest : net->n_buffers++;
    if (net->buffer_floats[b] < need) net->buffer_floats[b] = need;
    holder[b] = tensor, net->buffer_of[tensor] = b;
}

// Tensors share buffers where their lives do not overlap. A tensor lives from
// the node that writes it to the last node that reads it (the logits to the
// end); a node's output is placed while its inputs still hold theirs.
static void plan_buffers(cpu_network *net) {
    const model *m = net->m;
    int last_read[MODEL_MAX_NODES + 1], holder[MODEL_MAX_NODES + 1];
    for (int t = 0; t < m->n_tensors; t++) last_read[t] = -1;
    for (int i = 0; i < m->n_nodes; i++) {
        last_read[m->nodes[i].input] = i;
        if (m->nodes[i].residual >= 0) last_read[m->nodes[i].residual] = i;
    }
    last_read[m->n_tensors - 1] = m->n_nodes;
    take_buffer(net, holder, 0);
    for (int i = 0; i < m->n_nodes; i++) {
        take_buffer(net, holder, m->nodes[i].output);
        for (int b = 0; b < net->n_buffers; b++)
            if (holder[b] >= 0 && last_read[holder[b]] <= i) holder[b] = -1;
    }
    net->column_floats = 1;
    for (int i = 0; i < m->n_nodes; i++) {
        const model_node *n = &m->nodes[i];
        if (n->kind != NODE_CONV || !needs_columns(n)) continue;
        tensor_shape o = m->tensors[n->output];
        size_t cols = (size_t)conv_block_images(o) * o.height * o.width * n->kernel * n->kernel * n->in_features;
        if (cols > net->column_floats) net->column_floats = cols;
    }
}

// One worker's buffers for CPU_MICRO_BATCH images, as plan_buffers laid out.
static cascade_status allocate_workspace(const cpu_network *net, cpu_workspace *w, cascade_error *err) {
    for (int b = 0; b < net->n_buffers; b++) {
        w->buffers[b] = malloc(net->buffer_floats[b] * CPU_MICRO_BATCH * sizeof(float));
        if (!w->buffers[b]) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for CPU activations");
    }
    for (int t = 0; t < net->m->n_tensors; t++) w->activations[t] = w->buffers[net->buffer_of[t]];
    w->columns = malloc(net->column_floats * sizeof(float));
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
    if (!net) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for the CPU network of %s", m->arch);
    net->m = m;
    net->n_workers = cpu_network_workers();
    plan_buffers(net);
    net->work = calloc((size_t)net->n_workers, sizeof *net->work);
    cascade_status s =
        net->work ? CASCADE_OK : cascade_fail(err, CASCADE_ENOMEM, "out of memory for %s's workers", m->arch);
    for (int w = 0; w < net->n_workers && !s; w++) s = allocate_workspace(net, &net->work[w], err);
    if (!s) s = relayout_weights(net, err);
    if (s) { cpu_network_destroy(net); return s; }
    *out = net;
    return CASCADE_OK;
}

cpu_workspace_bytes cpu_network_workspace(const cpu_network *net) {
    cpu_workspace_bytes w = {0, net->column_floats * sizeof(float)};
    for (int b = 0; b < net->n_buffers; b++) w.activations += net->buffer_floats[b] * CPU_MICRO_BATCH * sizeof(float);
    return w;
}

void cpu_network_destroy(cpu_network *net) {
    if (!net) return;
    for (int i = 0; i < MODEL_MAX_NODES; i++) free(net->nodes[i].weight);
    for (int w = 0; net->work && w < net->n_workers; w++) {
        for (int b = 0; b <= MODEL_MAX_NODES; b++) free(net->work[w].buffers[b]);
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

// A 1x1 stride-1 conv is one sgemm over its input; any other, im2col and
// sgemm block by block (conv_block_images images at a time).
static void run_conv(const cpu_network *net, cpu_workspace *w, int i, int n) {
    const model_node *node = &net->m->nodes[i];
    tensor_shape in = net->m->tensors[node->input], out = net->m->tensors[node->output];
    const float *x = w->activations[node->input], *res = node->residual >= 0 ? w->activations[node->residual] : NULL;
    float *y = w->activations[node->output];
    int k = node->kernel, depth = k * k * in.channels, pixels = out.height * out.width;
    int columns = needs_columns(node), block = columns ? conv_block_images(out) : n;
    size_t in_numel = tensor_numel(in), out_numel = tensor_numel(out);
    for (int b = 0; b < n; b += block) {
        int count = n - b < block ? n - b : block;
        const float *cols = x + b * in_numel;
        if (columns) {
            im2col(cols, in, out, k, node->stride, node->pad, count, w->columns);
            cols = w->columns;
        }
        gemm_epilogue(cols, net->nodes[i].weight, node->bias, res ? res + b * out_numel : NULL, node->relu,
                      count * pixels, depth, out.channels, y + b * out_numel);
    }
}

// A plain maximum: a NaN does not reach it in fp32 (finite weights, inputs in
// 0..255), so it is not tested for here (that cost lenet a few percent); the
// GPU's fp16 activations can overflow, and its maxpool passes a NaN on.
static void run_maxpool(const model_node *node, tensor_shape in, tensor_shape out, const float *x, float *y, int n) {
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < out.height; oy++)
            for (int ox = 0; ox < out.width; ox++) {
                float *dst = y + (((size_t)b * out.height + oy) * out.width + ox) * out.channels;
                for (int c = 0; c < out.channels; c++) dst[c] = -INFINITY;
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
