// cpu_network.c: fp32 NHWC execution of the model IR with OpenBLAS sgemm.
// Works through the batch in micro-batches of CPU_MICRO_BATCH images so that
// activations and the im2col matrix stay a few tens of MB. im2col, the
// epilogue and pooling are split over the cores with OpenMP (sgemm has its
// own OpenBLAS threads).
#include "cpu_network.h"
#include <cblas.h>
#include <float.h>
#include <stdlib.h>
#include <string.h>

#define CPU_MICRO_BATCH 16

typedef struct {
    float *weight; // conv: (out, kh, kw, in); linear: (out, in) in NHWC feature order
} cpu_node;

struct cpu_network {
    const model *m;
    cpu_node nodes[MODEL_MAX_NODES];
    float *activations[MODEL_MAX_NODES + 1]; // one buffer per IR tensor, CPU_MICRO_BATCH images
    float *columns;                          // im2col scratch
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

cascade_status cpu_network_create(cpu_network **out, const model *m, cascade_error *err) {
    cpu_network *net = calloc(1, sizeof *net);
    if (!net) return cascade_fail(err, CASCADE_ENOMEM, "out of memory");
    net->m = m;
    size_t most_columns = 1;
    for (int i = 0; i < m->n_nodes; i++) {
        const model_node *n = &m->nodes[i];
        if (n->kind != NODE_CONV) continue;
        tensor_shape o = m->tensors[n->output];
        size_t cols = (size_t)o.height * o.width * n->kernel * n->kernel * n->in_features;
        if (cols > most_columns) most_columns = cols;
    }
    cascade_status s = CASCADE_OK;
    for (int t = 0; t < m->n_tensors && !s; t++) {
        net->activations[t] = malloc(tensor_numel(m->tensors[t]) * CPU_MICRO_BATCH * sizeof(float));
        if (!net->activations[t]) s = cascade_fail(err, CASCADE_ENOMEM, "out of memory for CPU activations");
    }
    net->columns = malloc(most_columns * CPU_MICRO_BATCH * sizeof(float));
    if (!s && !net->columns) s = cascade_fail(err, CASCADE_ENOMEM, "out of memory for im2col");
    if (!s) s = relayout_weights(net, err);
    if (s) { cpu_network_destroy(net); return s; }
    *out = net;
    return CASCADE_OK;
}

void cpu_network_destroy(cpu_network *net) {
    if (!net) return;
    for (int i = 0; i < MODEL_MAX_NODES; i++) free(net->nodes[i].weight);
    for (int t = 0; t <= MODEL_MAX_NODES; t++) free(net->activations[t]);
    free(net->columns);
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
static void im2col(const float *x, tensor_shape in, tensor_shape out, int k, int stride, int pad, int n, float *col) {
    size_t row_len = (size_t)k * k * in.channels;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < n; b++)
        for (int oy = 0; oy < out.height; oy++)
            for (int ox = 0; ox < out.width; ox++) {
                float *row = col + (((size_t)b * out.height + oy) * out.width + ox) * row_len;
                for (int ky = 0; ky < k; ky++) {
                    int iy = oy * stride - pad + ky;
                    for (int kx = 0; kx < k; kx++) {
                        int ix = ox * stride - pad + kx;
                        float *dst = row + (ky * k + kx) * in.channels;
                        if (iy < 0 || iy >= in.height || ix < 0 || ix >= in.width)
                            memset(dst, 0, (size_t)in.channels * sizeof(float));
                        else
                            memcpy(dst, x + (((size_t)b * in.height + iy) * in.width + ix) * in.channels,
                                   (size_t)in.channels * sizeof(float));
                    }
                }
            }
}

// y[rows x out] = x[rows x in] * W^T, then + bias, + residual, ReLU.
static void gemm_epilogue(const float *x, const float *w, const float *bias, const float *residual, int relu,
                          int rows, int in, int out, float *y) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
    #pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * out;
        const float *res = residual ? residual + (size_t)r * out : NULL;
        for (int o = 0; o < out; o++) {
            float v = yr[o] + bias[o] + (res ? res[o] : 0.0f);
            yr[o] = relu && v < 0 ? 0 : v;
        }
    }
}

static void run_conv(cpu_network *net, int i, int n) {
    const model_node *node = &net->m->nodes[i];
    tensor_shape in = net->m->tensors[node->input], out = net->m->tensors[node->output];
    const float *x = net->activations[node->input];
    const float *cols = x;
    int k = node->kernel, depth = k * k * in.channels;
    if (!(k == 1 && node->stride == 1 && node->pad == 0)) {
        im2col(x, in, out, k, node->stride, node->pad, n, net->columns);
        cols = net->columns;
    }
    const float *res = node->residual >= 0 ? net->activations[node->residual] : NULL;
    gemm_epilogue(cols, net->nodes[i].weight, node->bias, res, node->relu, n * out.height * out.width, depth,
                  out.channels, net->activations[node->output]);
}

static void run_maxpool(const model_node *node, tensor_shape in, tensor_shape out, const float *x, float *y, int n) {
    #pragma omp parallel for schedule(static)
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
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < n; b++)
        for (int c = 0; c < in.channels; c++) {
            float sum = 0;
            for (int p = 0; p < hw; p++) sum += x[((size_t)b * hw + p) * in.channels + c];
            y[(size_t)b * in.channels + c] = sum / (float)hw;
        }
}

static void forward_micro_batch(cpu_network *net, int n) {
    const model *m = net->m;
    for (int i = 0; i < m->n_nodes; i++) {
        const model_node *node = &m->nodes[i];
        tensor_shape in = m->tensors[node->input], out = m->tensors[node->output];
        float *x = net->activations[node->input], *y = net->activations[node->output];
        switch (node->kind) {
        case NODE_CONV: run_conv(net, i, n); break;
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
    const model *m = net->m;
    int last = m->n_tensors - 1;
    for (int start = 0; start < n; start += CPU_MICRO_BATCH) {
        int count = n - start < CPU_MICRO_BATCH ? n - start : CPU_MICRO_BATCH;
        cpu_preprocess(images + (size_t)start * 3072, count, m->mean, m->std, net->activations[0]);
        forward_micro_batch(net, count);
        memcpy(logits + (size_t)start * m->num_classes, net->activations[last],
               (size_t)count * m->num_classes * sizeof(float));
    }
    return CASCADE_OK;
}
