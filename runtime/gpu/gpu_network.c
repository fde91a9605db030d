// gpu_network.c: a model IR network resident on the GPU (see gpu_network.h).
//
// Layout. Activations are NHWC fp16. Every tensor but the network input
// stores its channels (or features) rounded up to a multiple of 8: the
// extra channels hold zeros (their weights and biases are zero), and every
// row is 16-byte aligned for the convolution engines and GEMMs. The input
// keeps exactly its 3 channels. A flattened tensor shares its source's
// buffer (NHWC order), so the linear layer after it has its weight columns
// permuted from (c,h,w) to (h,w,c) over the stored channels. The last
// linear layer writes the fp32 logits, exactly num_classes wide.
//
// Conv nodes take the first form that gets a cuDNN plan: fused graph; split
// graph + bias_act; then, for an input whose channels are not a multiple of
// 8 (the 3-channel image), both again over an 8-channel copy made by
// channel_pad; last, fallback-mode heuristics (timed like the others). Up to
// 8 mode-A plans are finalized per graph and timed on the real buffers; the
// fastest is kept. A conv whose graph equals an earlier one's (ResNet's
// repeated blocks) finalizes only that one's winning config; so does one
// whose graph an earlier network chose for, in this process or in an earlier
// one through the cache file (plan_memo).
//
// Arena, one cudaMalloc zeroed once: weights and biases | one buffer per
// IR tensor (flatten outputs alias) | 8-channel input copies | one workspace
// shared by every cuDNN plan and cuBLASLt matmul (they run in stream order).
// Creation: graphs and plans (host) -> arena -> upload -> variant packs and
// plan timing -> matmuls -> one eager forward -> CUDA graph capture.
#include "gpu_network.h"
#include <nvtx3/nvToolsExt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cudnn_conv.h"
#include "gpu_check.h"
#include "gpu_linear.h"
#include "half_host.h"
#include "plan_memo.h"
#include "../../kernels/avgpool.cuh"
#include "../../kernels/bias_act.cuh"
#include "../../kernels/channel_pad.cuh"
#include "../../kernels/conv_small.cuh"
#include "../../kernels/maxpool.cuh"

#define ARENA_ALIGN 256
#define CONV_WORKSPACE_CAP ((size_t)256 << 20) // plans wanting more are dropped when others exist
#define LINEAR_WORKSPACE ((size_t)32 << 20)    // cuBLASLt's recommendation for Hopper
#define NO_TENSOR (-1)

#define TRY(expr)                                 \
    do {                                          \
        cascade_status try_status_ = (expr);      \
        if (try_status_) return try_status_;      \
    } while (0)

typedef struct {
    const char *what;
    int fused, pad_input, heur_mode;
} conv_form;

static const conv_form conv_forms[] = {
    {"fused", 1, 0, CUDNN_HEUR_MODE_A},
    {"split", 0, 0, CUDNN_HEUR_MODE_A},
    {"fused over 8-channel input", 1, 1, CUDNN_HEUR_MODE_A},
    {"split over 8-channel input", 0, 1, CUDNN_HEUR_MODE_A},
    {"split, fallback heuristics", 0, 0, CUDNN_HEUR_MODE_FALLBACK},
    {"split over 8-channel input, fallback heuristics", 0, 1, CUDNN_HEUR_MODE_FALLBACK},
};
#define N_CONV_FORMS (int)(sizeof conv_forms / sizeof conv_forms[0])

typedef struct {
    node_kind kind;
    char name[48];
    int input, residual, output, relu;     // IR tensor ids (residual NO_TENSOR when none)
    int kernel, stride, pad;
    // conv
    const conv_form *form;
    cudnn_conv_shape conv_shape;
    cudnn_conv *conv;
    int leader;                            // earlier node whose plan choice this one reuses, -1 if none
    int remembered;                        // 1: its plan is the one an earlier network chose (plan_memo)
    int copied;                            // follower: 1 if it finalized its leader's choice, 0 if its own plans
    int replaced;                          // 1: a reused choice did not run, and plans were timed in its place
    int direct;                            // 1: runs as our conv_small kernel, which beat cuDNN's plan
    int direct_remembered;                 // 1: conv_small or cuDNN as an earlier network decided (plan_memo)
    float direct_ms;                       // conv_small's time when it was tried, else 0
    char direct_failure[160];              // why conv_small could not be timed (the node stays on cuDNN)
    size_t padded_at;                      // arena offset of the 8-channel input copy (pad_input forms)
    void *padded_input;
    // linear
    gpu_linear_shape linear_shape;
    gpu_linear *linear;
    // weights: conv (out, k, k, in) fp16; linear (out, in) fp16; bias fp16, fp32 for the logits
    size_t weight_at, bias_at;
    void *weight, *bias;
} gpu_node;

struct gpu_network {
    gpu_lane lane;
    char arch[32];
    int batch, num_classes, n_nodes, n_tensors;
    gpu_node nodes[MODEL_MAX_NODES];
    tensor_shape tensors[MODEL_MAX_NODES + 1]; // IR shapes, per image
    int stored[MODEL_MAX_NODES + 1];           // channels as stored (all features for H = W = 1)
    int alias[MODEL_MAX_NODES + 1];            // tensor whose buffer this one is (itself but for flatten)
    size_t tensor_at[MODEL_MAX_NODES + 1];
    void *tensor[MODEL_MAX_NODES + 1];
    cublasLtHandle_t lt;
    void *arena;
    size_t arena_bytes, weights_bytes, workspace_at, workspace_bytes;
    void *workspace;
    cudaGraph_t graph;
    cudaGraphExec_t graph_exec;
    char capture_failure[300];
    char plan_cache[300]; // where the plan choices were written, or why not
};

static int round_up8(int n) { return (n + 7) / 8 * 8; }
static size_t align_arena(size_t n) { return (n + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

static size_t carve(size_t *cursor, size_t bytes) {
    size_t at = *cursor;
    *cursor += align_arena(bytes ? bytes : 1);
    return at;
}

static int last_tensor(const gpu_network *net) { return net->n_tensors - 1; }

// Elements per image as stored.
static size_t stored_numel(const gpu_network *net, int t) {
    return (size_t)net->tensors[t].height * net->tensors[t].width * net->stored[t];
}

// The tensor a flattened tensor came from (itself when not a flatten output).
static int flatten_source(const gpu_network *net, int t) {
    const gpu_node *producer = t > 0 ? &net->nodes[t - 1] : NULL;
    return producer && producer->kind == NODE_FLATTEN ? producer->input : t;
}

// The first weight (or bias, where stored in fp16) of node i that fp16 cannot
// hold, as "weight 123 (7e+04)"; 0 when all fit. The last linear's bias stays fp32.
static int find_fp16_overflow(const model *m, int i, char *where, size_t cap) {
    const model_node *src = &m->nodes[i];
    size_t per_out = (size_t)src->in_features * (src->kind == NODE_CONV ? (size_t)src->kernel * src->kernel : 1);
    size_t weights = (size_t)src->out_features * per_out;
    for (size_t k = 0; k < weights; k++)
        if (!half_holds(src->weight[k])) return snprintf(where, cap, "weight %zu (%g)", k, src->weight[k]), 1;
    for (int o = 0; o < src->out_features && i < m->n_nodes - 1; o++)
        if (!half_holds(src->bias[o])) return snprintf(where, cap, "bias %d (%g)", o, src->bias[o]), 1;
    return 0;
}

static cascade_status check_fp16_range(const model *m, int i, cascade_error *err) {
    char where[64];
    if (!find_fp16_overflow(m, i, where, sizeof where)) return CASCADE_OK;
    return cascade_fail(err, CASCADE_EINVAL,
                        "%s: node %d (%s) has %s past fp16's range (65504), in which the GPU backend stores "
                        "weights; --device cpu runs it in fp32", m->arch, i, m->nodes[i].name, where);
}

// Checks node i of the IR against what this backend runs and copies it.
static cascade_status take_node(gpu_network *net, const model *m, int i, cascade_error *err) {
    const model_node *src = &m->nodes[i];
    gpu_node *n = &net->nodes[i];
    n->kind = src->kind, n->input = src->input, n->output = src->output, n->relu = src->relu;
    n->residual = src->residual >= 0 ? src->residual : NO_TENSOR;
    n->kernel = src->kernel, n->stride = src->stride, n->pad = src->pad, n->leader = -1;
    snprintf(n->name, sizeof n->name, "%s", src->name);
    if (src->output != i + 1 || src->input < 0 || src->input > i || src->residual > i)
        return cascade_fail(err, CASCADE_EINVAL, "%s: node %d (%s) breaks the IR's tensor order", m->arch, i, n->name);
    tensor_shape in = m->tensors[src->input], out = m->tensors[src->output];
    int ok = 1;
    switch (src->kind) {
    case NODE_CONV:
        ok = src->weight && src->bias && src->in_features == in.channels && src->out_features == out.channels &&
             src->kernel > 0 && src->stride > 0 && src->pad >= 0 &&
             out.height == (in.height + 2 * src->pad - src->kernel) / src->stride + 1 &&
             out.width == (in.width + 2 * src->pad - src->kernel) / src->stride + 1;
        if (n->residual != NO_TENSOR) // stored as y will be: the graph reads it with y's strides
            ok = ok && !memcmp(&m->tensors[n->residual], &out, sizeof out) && net->alias[n->residual] == n->residual &&
                 net->stored[n->residual] == round_up8(out.channels);
        break;
    case NODE_MAXPOOL:
        ok = src->kernel > 0 && src->stride > 0 && out.channels == in.channels && out.height > 0 && out.width > 0 &&
             (out.height - 1) * src->stride + src->kernel <= in.height &&
             (out.width - 1) * src->stride + src->kernel <= in.width;
        break;
    case NODE_GLOBAL_AVGPOOL: ok = out.channels == in.channels && out.height == 1 && out.width == 1; break;
    case NODE_FLATTEN: ok = tensor_numel(out) == tensor_numel(in); break;
    case NODE_LINEAR:
        ok = src->weight && src->bias && (size_t)src->in_features == tensor_numel(in) &&
             src->out_features == out.channels && out.height == 1 && out.width == 1;
        break;
    default: ok = 0;
    }
    if (src->kind != NODE_FLATTEN && src->kind != NODE_LINEAR && net->alias[src->input] != src->input) ok = 0;
    if (!ok) return cascade_fail(err, CASCADE_EINVAL, "%s: node %d (%s) is not one the GPU backend runs", m->arch, i, n->name);
    return src->kind == NODE_CONV || src->kind == NODE_LINEAR ? check_fp16_range(m, i, err) : CASCADE_OK;
}

// How node n's output is stored (see the layout note at the top).
static void store_output(gpu_network *net, const gpu_node *n, int is_last) {
    int o = n->output;
    net->alias[o] = o;
    switch (n->kind) {
    case NODE_CONV: net->stored[o] = round_up8(net->tensors[o].channels); break;
    case NODE_MAXPOOL:
    case NODE_GLOBAL_AVGPOOL: net->stored[o] = net->stored[n->input]; break;
    case NODE_FLATTEN:
        net->stored[o] = (int)stored_numel(net, n->input);
        net->alias[o] = net->alias[n->input];
        break;
    case NODE_LINEAR: net->stored[o] = is_last ? net->tensors[o].channels : round_up8(net->tensors[o].channels); break;
    }
}

static cascade_status plan_layout(gpu_network *net, const model *m, cascade_error *err) {
    if (m->n_nodes < 1 || m->n_nodes > MODEL_MAX_NODES || m->n_tensors != m->n_nodes + 1)
        return cascade_fail(err, CASCADE_EINVAL, "%s: malformed IR (%d nodes, %d tensors)", m->arch, m->n_nodes, m->n_tensors);
    tensor_shape in = m->tensors[0];
    if (in.channels != 3 || in.height != 32 || in.width != 32)
        return cascade_fail(err, CASCADE_EINVAL, "%s: the GPU backend takes 3x32x32 input, not %dx%dx%d", m->arch,
                            in.channels, in.height, in.width);
    snprintf(net->arch, sizeof net->arch, "%s", m->arch);
    net->n_nodes = m->n_nodes, net->n_tensors = m->n_tensors, net->num_classes = m->num_classes;
    memcpy(net->tensors, m->tensors, sizeof net->tensors);
    net->stored[0] = 3, net->alias[0] = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        TRY(take_node(net, m, i, err));
        store_output(net, &net->nodes[i], i == m->n_nodes - 1);
    }
    const model_node *last = &m->nodes[m->n_nodes - 1];
    if (last->kind != NODE_LINEAR || last->out_features != m->num_classes || m->num_classes < 1 ||
        m->num_classes > MODEL_MAX_CLASSES)
        return cascade_fail(err, CASCADE_EINVAL, "%s: the last node must be a linear layer giving the %d logits",
                            m->arch, m->num_classes);
    return CASCADE_OK;
}

static void conv_shape_for(const gpu_network *net, const gpu_node *n, const conv_form *form, cudnn_conv_shape *s) {
    tensor_shape in = net->tensors[n->input], out = net->tensors[n->output];
    memset(s, 0, sizeof *s);
    s->batch = net->batch;
    s->in_channels = form->pad_input ? round_up8(net->stored[n->input]) : net->stored[n->input];
    s->in_height = in.height, s->in_width = in.width;
    s->out_channels = net->stored[n->output], s->out_height = out.height, s->out_width = out.width;
    s->kernel = n->kernel, s->stride = n->stride, s->pad = n->pad;
    s->fused = form->fused;
    s->residual = form->fused && n->residual != NO_TENSOR;
    s->relu = form->fused && n->relu;
    s->heur_mode = form->heur_mode;
}

// An earlier node that finalized its own plans for exactly this graph.
static int find_leader(const gpu_network *net, int i, const cudnn_conv_shape *shape) {
    for (int j = 0; j < i; j++) {
        const gpu_node *n = &net->nodes[j];
        if (n->kind == NODE_CONV && n->conv && n->leader < 0 && !memcmp(&n->conv_shape, shape, sizeof *shape)) return j;
    }
    return -1;
}

// How many cuDNN plans per conv are finalized and timed: CUDNN_CONV_MAX_PLANS,
// or CASCADE_CUDNN_PLANS (1 = the heuristic's first, untimed choice; for
// compute-sanitizer runs and for measuring what the timing buys).
static int plan_limit(void) {
    const char *env = getenv("CASCADE_CUDNN_PLANS");
    int limit = env ? atoi(env) : 0;
    return limit >= 1 && limit < CUDNN_CONV_MAX_PLANS ? limit : CUDNN_CONV_MAX_PLANS;
}

// What keeps a conv's choice from being reused untimed, for the build report,
// or "": a last resort (nothing else finalized), or a workspace past the cap
// (the smallest when none fitted). plan_memo keeps only choices without one;
// a follower admits a last resort only when its leader's was one.
static const char *choice_caveat(const cudnn_conv *c) {
    return cudnn_conv_chosen_reduces_in_fp16(c)             ? ", REDUCES IN FP16"
           : cudnn_conv_chosen_nondeterministic(c)          ? ", NONDETERMINISTIC"
           : cudnn_conv_chosen_workspace(c) > CONV_WORKSPACE_CAP ? ", over the workspace cap"
                                                                 : "";
}

// Finalizes a leader's plans: the config an earlier network chose for this
// very graph alone (plan_memo; screened like a fresh choice: within the
// workspace cap, no fp16 reduction, deterministic), else the heuristic's top
// few, to be timed.
static cascade_status finalize_leader(gpu_network *net, gpu_node *n, const cudnn_conv_shape *shape,
                                      cascade_error *err) {
    int engine = -1, config = plan_memo_find(shape, &engine);
    cascade_error attempt = {""};
    n->remembered = config >= 0 && !cudnn_conv_finalize_config(n->conv, net->lane.cudnn, config, engine, 0,
                                                               CONV_WORKSPACE_CAP, &attempt);
    if (n->remembered) return CASCADE_OK;
    return cudnn_conv_finalize_plans(n->conv, net->lane.cudnn, 0, plan_limit(), CONV_WORKSPACE_CAP, err);
}

// Builds node i's cuDNN graph in the first form that gets a plan. A node
// with a leader only builds its graph here; its plan comes once the leader
// has chosen (choose_plans).
static cascade_status plan_conv(gpu_network *net, int i, cascade_error *err) {
    gpu_node *n = &net->nodes[i];
    char first_failure[300] = "";
    for (int f = 0; f < N_CONV_FORMS; f++) {
        const conv_form *form = &conv_forms[f];
        if (form->pad_input && net->stored[n->input] % 8 == 0) continue;
        cudnn_conv_shape shape;
        conv_shape_for(net, n, form, &shape);
        int leader = find_leader(net, i, &shape);
        cascade_error attempt = {""};
        cascade_status s = cudnn_conv_create(&n->conv, net->lane.cudnn, &shape, &attempt);
        if (!s && leader < 0) s = finalize_leader(net, n, &shape, &attempt);
        if (!s) {
            n->form = form, n->conv_shape = shape, n->leader = leader;
            return CASCADE_OK;
        }
        cudnn_conv_destroy(n->conv);
        n->conv = NULL;
        if (s != CASCADE_EDEVICE) return cascade_fail(err, s, "%s", attempt.message); // not "unsupported"
        if (!first_failure[0]) snprintf(first_failure, sizeof first_failure, "%s: %.280s", form->what, attempt.message);
    }
    return cascade_fail(err, CASCADE_EDEVICE, "%s: conv %s has no cuDNN plan in any form; %s", net->arch, n->name,
                        first_failure);
}

static void plan_linear(gpu_network *net, gpu_node *n) {
    gpu_linear_shape *s = &n->linear_shape;
    s->batch = net->batch;
    s->in_features = (int)stored_numel(net, n->input);
    s->out_features = net->stored[n->output];
    s->out_fp32 = n->output == last_tensor(net);
    s->relu = n->relu;
}

// The workspace a leader's plans need; a remembered choice (its only plan)
// needs its own alone. Should it not run, the
// plans timed in its place are those that fit the arena's workspace
// (choose_conv), which holds the linear layers' 32 MiB at least.
static size_t leader_workspace(const gpu_node *n) {
    return cudnn_conv_workspace_max(n->conv);
}

// Arena offsets of everything, and the arena's size (see the note at the top).
static void plan_arena(gpu_network *net) {
    size_t cursor = 0, conv_workspace = 0;
    for (int i = 0; i < net->n_nodes; i++) {
        gpu_node *n = &net->nodes[i];
        if (n->kind == NODE_CONV) {
            const cudnn_conv_shape *s = &n->conv_shape;
            n->weight_at = carve(&cursor, (size_t)s->out_channels * s->kernel * s->kernel * s->in_channels * 2);
            n->bias_at = carve(&cursor, (size_t)s->out_channels * 2);
            if (n->leader < 0 && leader_workspace(n) > conv_workspace) conv_workspace = leader_workspace(n);
        } else if (n->kind == NODE_LINEAR) {
            const gpu_linear_shape *s = &n->linear_shape;
            n->weight_at = carve(&cursor, (size_t)s->out_features * s->in_features * 2);
            n->bias_at = carve(&cursor, (size_t)s->out_features * (s->out_fp32 ? 4 : 2));
        }
    }
    net->weights_bytes = cursor;
    for (int t = 0; t < net->n_tensors; t++)
        if (net->alias[t] == t)
            net->tensor_at[t] = carve(&cursor, (size_t)net->batch * stored_numel(net, t) * (t == last_tensor(net) ? 4 : 2));
    for (int i = 0; i < net->n_nodes; i++) {
        gpu_node *n = &net->nodes[i];
        if (n->kind == NODE_CONV && n->form->pad_input)
            n->padded_at = carve(&cursor, (size_t)net->batch * n->conv_shape.in_height * n->conv_shape.in_width *
                                              n->conv_shape.in_channels * 2);
    }
    net->workspace_bytes = align_arena(conv_workspace > LINEAR_WORKSPACE ? conv_workspace : LINEAR_WORKSPACE);
    net->workspace_at = carve(&cursor, net->workspace_bytes);
    net->arena_bytes = cursor;
}

// A batch whose activations alone exceed the card's memory can never run:
// say so before planning any convolution at that size (cuDNN's planning of
// an absurd batch is slow and fails with its own, less useful, status).
static cascade_status check_batch_fits(const gpu_network *net, cascade_error *err) {
    double need = 0;
    for (int t = 0; t < net->n_tensors; t++)
        if (net->alias[t] == t) need += (double)net->batch * stored_numel(net, t) * (t == last_tensor(net) ? 4 : 2);
    size_t free_bytes = 0, total_bytes = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
    if (need > (double)total_bytes)
        return cascade_fail(err, CASCADE_ENOMEM,
                            "its activations alone need %.0f MiB, more than the device's %.0f MiB: out of memory",
                            need / 1048576.0, (double)total_bytes / 1048576.0);
    return CASCADE_OK;
}

// cuDNN's convolution engines index a tensor with 32-bit offsets: a conv whose
// input or output holds 2^31 values or more can fault (pytorch/pytorch#117736,
// where PyTorch splits the batch). The largest batch keeping every stored
// tensor, and any 8-channel copy of one, below that; *worst names the tensor.
#define INDEXED_VALUES_MAX 0x7fffffffLL
static int index_limit_batch(const gpu_network *net, int *worst) {
    long long largest = 0;
    *worst = 0;
    for (int t = 0; t < net->n_tensors; t++) { // channels rounded to 8: a conv may read the tensor's padded copy
        long long values = (long long)net->tensors[t].height * net->tensors[t].width * round_up8(net->stored[t]);
        if (values > largest) largest = values, *worst = t;
    }
    long long limit = largest ? INDEXED_VALUES_MAX / largest : GPU_NETWORK_MAX_BATCH;
    return limit < GPU_NETWORK_MAX_BATCH ? (int)limit : GPU_NETWORK_MAX_BATCH;
}

// The tensor's name in messages: "the input", or "conv1's output".
static void tensor_name(const gpu_network *net, int t, char *out, size_t cap) {
    if (t == 0) snprintf(out, cap, "the input");
    else snprintf(out, cap, "%s's output", net->nodes[t - 1].name);
}

static cascade_status check_index_range(const gpu_network *net, cascade_error *err) {
    int worst, limit = index_limit_batch(net, &worst);
    if (net->batch <= limit) return CASCADE_OK;
    char what[80];
    tensor_name(net, worst, what, sizeof what);
    return cascade_fail(err, CASCADE_EINVAL,
                        "%s at batch %d: %s would hold 2^31 values or more, past the 32-bit offsets of cuDNN's "
                        "convolutions: at most %d images per batch", net->arch, net->batch, what, limit);
}

cascade_status gpu_network_max_batch(const model *m, int *largest, cascade_error *err) {
    *largest = 0;
    gpu_network *net = calloc(1, sizeof *net);
    if (!net) return cascade_fail(err, CASCADE_ENOMEM, "out of host memory for the GPU network's layout");
    int worst;
    cascade_status s = plan_layout(net, m, err);
    if (!s && !(*largest = index_limit_batch(net, &worst))) // (not one image: no 32x32 model comes near)
        s = cascade_fail(err, CASCADE_EINVAL, "one image's tensors would hold 2^31 values or more");
    free(net);
    return s;
}

// Every buffer's address from the arena's base (plan_arena gave the offsets).
static void point_into_arena(gpu_network *net, void *arena) {
    char *base = arena;
    for (int t = 0; t < net->n_tensors; t++) net->tensor[t] = base + net->tensor_at[net->alias[t]];
    for (int i = 0; i < net->n_nodes; i++) {
        gpu_node *n = &net->nodes[i];
        if (n->kind != NODE_CONV && n->kind != NODE_LINEAR) continue;
        n->weight = base + n->weight_at, n->bias = base + n->bias_at;
        if (n->kind == NODE_CONV && n->form->pad_input) n->padded_input = base + n->padded_at;
    }
    net->workspace = base + net->workspace_at;
}

static cascade_status allocate_arena(gpu_network *net, cascade_error *err) {
    cudaError_t e = cudaMalloc(&net->arena, net->arena_bytes);
    if (e != cudaSuccess) {
        net->arena = NULL;
        (void)cudaGetLastError(); // clear it: the next call must not report it again
        return cascade_fail(err, e == cudaErrorMemoryAllocation ? CASCADE_ENOMEM : CASCADE_EDEVICE,
                            "cannot allocate its %.1f MiB device arena: %s", (double)net->arena_bytes / 1048576.0,
                            cudaGetErrorString(e));
    }
    CUDA_CHECK(cudaMemsetAsync(net->arena, 0, net->arena_bytes, net->lane.stream));
    point_into_arena(net, net->arena);
    return CASCADE_OK;
}

// Conv weight (out, in, k, k) -> (out_s, k, k, in_s) fp16; padded rows and channels stay zero.
static void fill_conv_weight(uint16_t *dst, const model_node *src, int in_stored) {
    size_t kk = (size_t)src->kernel * src->kernel;
    for (int o = 0; o < src->out_features; o++)
        for (int c = 0; c < src->in_features; c++)
            for (size_t k = 0; k < kk; k++)
                dst[((size_t)o * kk + k) * in_stored + c] =
                    half_from_float(src->weight[((size_t)o * src->in_features + c) * kk + k]);
}

// Linear weight (out, in) with in in (c,h,w) order of the flattened tensor
// -> (out_s, in_s) fp16 with columns in stored (h,w,c) order.
static void fill_linear_weight(uint16_t *dst, const gpu_network *net, const model_node *src, int in_stored) {
    int from = flatten_source(net, src->input), cs = net->stored[from];
    tensor_shape shape = net->tensors[from];
    size_t hw = (size_t)shape.height * shape.width;
    for (int o = 0; o < src->out_features; o++)
        for (int c = 0; c < shape.channels; c++)
            for (size_t p = 0; p < hw; p++)
                dst[(size_t)o * in_stored + p * cs + c] = half_from_float(src->weight[(size_t)o * src->in_features + c * hw + p]);
}

static void fill_node_weights(unsigned char *staging, const gpu_network *net, const model *m, int i) {
    const gpu_node *n = &net->nodes[i];
    const model_node *src = &m->nodes[i];
    if (n->kind == NODE_CONV) fill_conv_weight((uint16_t *)(staging + n->weight_at), src, n->conv_shape.in_channels);
    if (n->kind == NODE_LINEAR)
        fill_linear_weight((uint16_t *)(staging + n->weight_at), net, src, n->linear_shape.in_features);
    if (n->kind == NODE_LINEAR && n->linear_shape.out_fp32)
        memcpy(staging + n->bias_at, src->bias, (size_t)src->out_features * sizeof(float));
    else if (n->kind == NODE_CONV || n->kind == NODE_LINEAR)
        for (int o = 0; o < src->out_features; o++) ((uint16_t *)(staging + n->bias_at))[o] = half_from_float(src->bias[o]);
}

static cascade_status upload_weights(gpu_network *net, const model *m, cascade_error *err) {
    unsigned char *staging = calloc(1, net->weights_bytes ? net->weights_bytes : 1);
    if (!staging) return cascade_fail(err, CASCADE_ENOMEM, "out of host memory staging %s's weights", net->arch);
    for (int i = 0; i < net->n_nodes; i++) fill_node_weights(staging, net, m, i);
    cudaError_t e = cudaMemcpyAsync(net->arena, staging, net->weights_bytes, cudaMemcpyHostToDevice, net->lane.stream);
    if (e == cudaSuccess) e = cudaStreamSynchronize(net->lane.stream); // staging is pageable and freed next
    free(staging);
    if (e != cudaSuccess)
        return cascade_fail(err, CASCADE_EDEVICE, "uploading %s's weights failed: %s", net->arch, cudaGetErrorString(e));
    return CASCADE_OK;
}

// A follower finalizes its leader's winning config (the same engine, and
// admitted as the leader's was); should that fail or not fit the arena's
// workspace, it finalizes the top configs itself.
static cascade_status finalize_follower(gpu_network *net, gpu_node *n, cascade_error *err) {
    const cudnn_conv *leader = net->nodes[n->leader].conv;
    int config = cudnn_conv_chosen_config(leader);
    int last_resort = cudnn_conv_chosen_reduces_in_fp16(leader) || cudnn_conv_chosen_nondeterministic(leader);
    cascade_error attempt = {""};
    n->copied = config >= 0 && !cudnn_conv_finalize_config(n->conv, net->lane.cudnn, config,
                                                           cudnn_conv_chosen_engine(leader), last_resort,
                                                           net->workspace_bytes, &attempt);
    if (n->copied) return CASCADE_OK;
    return cudnn_conv_finalize_plans(n->conv, net->lane.cudnn, 0, plan_limit(), net->workspace_bytes, err);
}

static cascade_status bind_conv(gpu_network *net, gpu_node *n, cascade_error *err) {
    cudnn_conv_buffers b = {
        .x = n->padded_input ? n->padded_input : net->tensor[n->input],
        .weight = n->weight,
        .bias = n->bias,
        .residual = n->residual != NO_TENSOR ? net->tensor[n->residual] : NULL,
        .y = net->tensor[n->output],
        .workspace = net->workspace,
    };
    return cudnn_conv_bind(n->conv, &b, err);
}

// Times a bound conv's plans and keeps the fastest. A reused choice (an
// earlier network's, or an earlier node's) is its only plan: should it not
// run, the heuristic's top few are finalized and timed in its place.
static cascade_status choose_conv(gpu_network *net, gpu_node *n, cascade_error *err) {
    cascade_status s = cudnn_conv_choose(n->conv, net->lane.cudnn, net->lane.stream, net->workspace_bytes, err);
    if (!s || !cudnn_conv_none_ran(n->conv) || !(n->remembered || n->copied)) return s;
    cascade_error first = *err;
    cudnn_conv_drop_plans(n->conv);
    n->remembered = n->copied = 0, n->replaced = 1;
    s = cudnn_conv_finalize_plans(n->conv, net->lane.cudnn, 0, plan_limit(), net->workspace_bytes, err);
    if (!s) s = cudnn_conv_choose(n->conv, net->lane.cudnn, net->lane.stream, net->workspace_bytes, err);
    if (!s) return CASCADE_OK;
    cascade_error retry = *err; // (not formatted from the buffer it is written into)
    return cascade_fail(err, s, "%.200s (in place of a reused choice that did not run: %.200s)", retry.message,
                        first.message);
}

// Binds every conv to its buffers and times its plans: leaders first, then
// the followers with their leader's choice.
static cascade_status choose_plans(gpu_network *net, cascade_error *err) {
    for (int followers = 0; followers < 2; followers++)
        for (int i = 0; i < net->n_nodes; i++) {
            gpu_node *n = &net->nodes[i];
            if (n->kind != NODE_CONV || (n->leader >= 0) != followers) continue;
            if (followers) TRY(finalize_follower(net, n, err));
            TRY(bind_conv(net, n, err));
            cascade_status s = choose_conv(net, n, err);
            if (s) {
                cascade_error_prefix(err, n->name);
                return s;
            }
            // a choice with a caveat is not remembered: the next build looks again rather than
            // reuse it untimed (a remembered config is screened the same way: finalize_leader)
            if (!followers && !n->remembered && !choice_caveat(n->conv)[0])
                plan_memo_keep(&n->conv_shape, cudnn_conv_chosen_config(n->conv), cudnn_conv_chosen_engine(n->conv));
        }
    return CASCADE_OK;
}

// The choices into the cache file (plan_memo), for the next process; a file
// that cannot be written costs only the next process's timing: noted, not fatal.
static void note_plan_cache(gpu_network *net) {
    char path[1024];
    cascade_error why = {""};
    if (!plan_memo_enabled() || !plan_memo_cache_path(path, sizeof path)) snprintf(net->plan_cache, sizeof net->plan_cache, "off");
    else if (plan_memo_save(&why)) snprintf(net->plan_cache, sizeof net->plan_cache, "not written: %.280s", why.message);
    else snprintf(net->plan_cache, sizeof net->plan_cache, "%.290s", path);
}

static cascade_status create_linears(gpu_network *net, cascade_error *err) {
    for (int i = 0; i < net->n_nodes; i++) {
        gpu_node *n = &net->nodes[i];
        if (n->kind != NODE_LINEAR) continue;
        gpu_linear_buffers b = {
            .x = net->tensor[n->input],
            .weight = n->weight,
            .bias = n->bias,
            .y = net->tensor[n->output],
            .workspace = net->workspace,
            .workspace_bytes = net->workspace_bytes,
        };
        TRY(gpu_linear_create(&n->linear, net->lt, &n->linear_shape, &b, net->lane.stream, err));
    }
    return CASCADE_OK;
}

// The conv_small form of node n (its input as stored: never a padded form).
static conv_small_shape small_shape(const gpu_network *net, const gpu_node *n) {
    const cudnn_conv_shape *s = &n->conv_shape;
    conv_small_shape c = {net->batch, s->in_height, s->in_width, s->in_channels, s->out_channels, s->kernel, s->pad,
                          s->out_height, s->out_width, n->relu};
    return c;
}

static cascade_status run_conv(gpu_network *net, const gpu_node *n, cascade_error *err) {
    const cudnn_conv_shape *s = &n->conv_shape;
    cudaStream_t stream = net->lane.stream;
    if (n->direct) {
        CUDA_CHECK(conv_small_launch(net->tensor[n->input], n->weight, n->bias, net->tensor[n->output],
                                     small_shape(net, n), stream));
        return CASCADE_OK;
    }
    if (n->padded_input)
        CUDA_CHECK(channel_pad_launch(net->tensor[n->input], n->padded_input,
                                      (size_t)net->batch * s->in_height * s->in_width, net->stored[n->input],
                                      s->in_channels, stream));
    TRY(cudnn_conv_execute(n->conv, net->lane.cudnn, err));
    if (!s->fused)
        CUDA_CHECK(bias_act_f16_launch(net->tensor[n->output], n->bias,
                                       n->residual != NO_TENSOR ? net->tensor[n->residual] : NULL,
                                       (size_t)net->batch * s->out_height * s->out_width, s->out_channels, n->relu,
                                       stream));
    return CASCADE_OK;
}

// Milliseconds per launch of conv_small for node n: mean of 5 after a warm-up.
// On any failure the events are still destroyed and the node stays on cuDNN.
static cascade_status time_conv_small(gpu_network *net, gpu_node *n, float *ms, cascade_error *err) {
    cudaEvent_t ev[2] = {NULL, NULL};
    cudaStream_t stream = net->lane.stream;
    cascade_status s = CASCADE_OK;
    float total = 0;
    cudaError_t e = cudaEventCreate(&ev[0]);
    if (e == cudaSuccess) e = cudaEventCreate(&ev[1]);
    n->direct = 1; // run_conv takes the kernel while it is timed
    if (e == cudaSuccess) s = run_conv(net, n, err); // warm-up
    if (e == cudaSuccess && !s) e = cudaEventRecord(ev[0], stream);
    for (int r = 0; r < 5 && e == cudaSuccess && !s; r++) s = run_conv(net, n, err);
    if (e == cudaSuccess && !s) e = cudaEventRecord(ev[1], stream);
    if (e == cudaSuccess && !s) e = cudaEventSynchronize(ev[1]);
    if (e == cudaSuccess && !s) e = cudaEventElapsedTime(&total, ev[0], ev[1]);
    if (e != cudaSuccess && !s) s = cascade_fail(err, CASCADE_EDEVICE, "timing conv_small: %s", cudaGetErrorString(e));
    n->direct = 0;
    for (int i = 0; i < 2; i++)
        if (ev[i]) CUDA_TEARDOWN_CHECK(cudaEventDestroy(ev[i]));
    *ms = total / 5;
    return s;
}

// plan_memo's key for the conv_small-or-cuDNN decision on a conv graph (config
// 1: conv_small, 0: cuDNN): its shape, with the node's own ReLU (a split form's
// graph has none) and, for the heuristic mode, one cuDNN has not that also
// names the form, whose plan conv_small was timed against.
static cudnn_conv_shape conv_small_memo_key(const gpu_node *n) {
    cudnn_conv_shape key = n->conv_shape;
    key.relu = n->relu;
    key.heur_mode = PLAN_MEMO_CONV_SMALL_MODE + (int)(n->form - conv_forms);
    return key;
}

// Convs that conv_small can run (few channels: LeNet's first layer) run
// there when it beats cuDNN's chosen plan, timed on the same buffers; an
// earlier network's decision for the same graph (plan_memo) is kept, as its
// cuDNN plans are, so two runs compute alike. The kernel is optional: should
// it fail (a launch refused), the node stays on cuDNN and the build report
// says why; only a fault the device keeps (the stream no longer
// synchronises) fails the build.
// CASCADE_CONV_SMALL=0 keeps cuDNN everywhere (for measuring the difference).
static cascade_status choose_direct_convs(gpu_network *net, cascade_error *err) {
    const char *env = getenv("CASCADE_CONV_SMALL");
    if (env && !strcmp(env, "0")) return CASCADE_OK;
    for (int i = 0; i < net->n_nodes; i++) {
        gpu_node *n = &net->nodes[i];
        if (n->kind != NODE_CONV || n->form->pad_input || n->residual != NO_TENSOR ||
            !conv_small_supports(small_shape(net, n)))
            continue;
        cascade_error attempt = {""};
        if (time_conv_small(net, n, &n->direct_ms, &attempt)) {
            (void)cudaGetLastError(); // a refused launch's error is not sticky
            CUDA_CHECK(cudaStreamSynchronize(net->lane.stream)); // a sticky one shows here
            snprintf(n->direct_failure, sizeof n->direct_failure, "%.150s", attempt.message);
            n->direct_ms = 0;
            continue;
        }
        cudnn_conv_shape key = conv_small_memo_key(n);
        int earlier = plan_memo_find(&key, NULL);
        n->direct_remembered = earlier == 0 || earlier == 1;
        n->direct = n->direct_remembered ? earlier : n->direct_ms > 0 && n->direct_ms < cudnn_conv_chosen_ms(n->conv);
        if (!n->direct_remembered) plan_memo_keep(&key, n->direct, 0);
    }
    return CASCADE_OK;
}

// Enqueues node i on the lane's stream.
static cascade_status run_node(gpu_network *net, int i, cascade_error *err) {
    const gpu_node *n = &net->nodes[i];
    tensor_shape in = net->tensors[n->input], out = net->tensors[n->output];
    void *x = net->tensor[n->input], *y = net->tensor[n->output];
    switch (n->kind) {
    case NODE_CONV: return run_conv(net, n, err);
    case NODE_MAXPOOL: {
        maxpool_shape s = {net->batch, in.height, in.width, net->stored[n->input], n->kernel, n->stride, out.height, out.width};
        CUDA_CHECK(maxpool_launch(x, y, s, net->lane.stream));
        return CASCADE_OK;
    }
    case NODE_GLOBAL_AVGPOOL:
        CUDA_CHECK(global_avgpool_launch(x, y, net->batch, in.height * in.width, net->stored[n->input], net->lane.stream));
        return CASCADE_OK;
    case NODE_FLATTEN: return CASCADE_OK; // its output is its input's buffer
    case NODE_LINEAR: return gpu_linear_forward(n->linear, net->lane.stream, err);
    }
    return cascade_fail(err, CASCADE_EINVAL, "internal: unknown node kind %d", (int)n->kind);
}

// Node by node, each in an NVTX range named after its weights.
static cascade_status forward_eager(gpu_network *net, cascade_error *err) {
    CUDNN_CHECK(cudnnSetStream(net->lane.cudnn, net->lane.stream));
    for (int i = 0; i < net->n_nodes; i++) {
        nvtxRangePushA(net->nodes[i].name);
        cascade_status s = run_node(net, i, err);
        nvtxRangePop();
        if (s) {
            cascade_error_prefix(err, net->nodes[i].name);
            return s;
        }
    }
    return CASCADE_OK;
}

// Captures the whole forward into a CUDA graph (thread-local capture mode)
// and replays it once to check it. The capture always ends, even when a
// node fails, so the stream is usable afterwards.
static cascade_status capture_forward(gpu_network *net, cascade_error *err) {
    cudaStream_t stream = net->lane.stream;
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    cascade_status s = CASCADE_OK;
    for (int i = 0; i < net->n_nodes && !s; i++) s = run_node(net, i, err);
    cudaGraph_t graph = NULL;
    cudaError_t e = cudaStreamEndCapture(stream, &graph);
    if (!s && e != cudaSuccess) s = cascade_fail(err, CASCADE_EDEVICE, "cudaStreamEndCapture failed: %s", cudaGetErrorString(e));
    if (!s && !graph) s = cascade_fail(err, CASCADE_EDEVICE, "cudaStreamEndCapture gave no graph");
    if (s) {
        if (graph) CUDA_TEARDOWN_CHECK(cudaGraphDestroy(graph));
        return s;
    }
    net->graph = graph;
    CUDA_CHECK(cudaGraphInstantiate(&net->graph_exec, graph, 0));
    CUDA_CHECK(cudaGraphLaunch(net->graph_exec, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    return CASCADE_OK;
}

// A network whose capture fails still runs, node by node, and says why.
static cascade_status capture_or_run_eagerly(gpu_network *net, cascade_error *err) {
    cascade_error why = {""};
    if (!capture_forward(net, &why)) return CASCADE_OK;
    snprintf(net->capture_failure, sizeof net->capture_failure, "%s", why.message);
    if (net->graph_exec) CUDA_TEARDOWN_CHECK(cudaGraphExecDestroy(net->graph_exec));
    if (net->graph) CUDA_TEARDOWN_CHECK(cudaGraphDestroy(net->graph));
    net->graph_exec = NULL, net->graph = NULL;
    (void)cudaGetLastError(); // a failed capture leaves its error behind
    TRY(forward_eager(net, err));
    CUDA_CHECK(cudaStreamSynchronize(net->lane.stream));
    return CASCADE_OK;
}

static cascade_status build_network(gpu_network *net, const model *m, cascade_error *err) {
    TRY(plan_layout(net, m, err));
    TRY(check_batch_fits(net, err));
    TRY(check_index_range(net, err));
    CUDNN_CHECK(cudnnSetStream(net->lane.cudnn, net->lane.stream));
    if (net->lane.cublas) CUBLAS_CHECK(cublasSetStream(net->lane.cublas, net->lane.stream));
    CUBLAS_CHECK(cublasLtCreate(&net->lt));
    for (int i = 0; i < net->n_nodes; i++) {
        if (net->nodes[i].kind == NODE_CONV) TRY(plan_conv(net, i, err));
        if (net->nodes[i].kind == NODE_LINEAR) plan_linear(net, &net->nodes[i]);
    }
    (void)cudaGetLastError(); // engines cuDNN tried and declined may leave a non-sticky error
    plan_arena(net);
    TRY(allocate_arena(net, err));
    TRY(upload_weights(net, m, err));
    TRY(choose_plans(net, err));
    TRY(choose_direct_convs(net, err));
    note_plan_cache(net);
    TRY(create_linears(net, err));
    TRY(forward_eager(net, err)); // warm-up: libraries may allocate lazily on first use
    CUDA_CHECK(cudaStreamSynchronize(net->lane.stream));
    return capture_or_run_eagerly(net, err);
}

cascade_status gpu_network_create(gpu_network **out, const model *m, int batch, const gpu_lane *lane,
                                  cascade_error *err) {
    if (!out) return cascade_fail(err, CASCADE_EINVAL, "gpu_network_create: no output");
    *out = NULL;
    if (!m || !lane || !lane->stream || !lane->cudnn)
        return cascade_fail(err, CASCADE_EINVAL, "gpu_network_create: needs a model and a lane with its own stream");
    if (batch < 1 || batch > GPU_NETWORK_MAX_BATCH)
        return cascade_fail(err, CASCADE_EINVAL, "batch size %d outside 1..%d", batch, GPU_NETWORK_MAX_BATCH);
    gpu_network *net = calloc(1, sizeof *net);
    if (!net) return cascade_fail(err, CASCADE_ENOMEM, "out of host memory");
    net->lane = *lane, net->batch = batch;
    nvtxRangePushA("gpu_network_create");
    cascade_status s = build_network(net, m, err);
    nvtxRangePop();
    if (s) {
        if (s == CASCADE_ENOMEM) {
            char where[64];
            snprintf(where, sizeof where, "%.31s at batch %d", m->arch, batch);
            cascade_error_prefix(err, where);
        }
        gpu_network_destroy(net);
        return s;
    }
    *out = net;
    return CASCADE_OK;
}

void gpu_network_destroy(gpu_network *net) {
    if (!net) return;
    if (net->arena) CUDA_TEARDOWN_CHECK(cudaStreamSynchronize(net->lane.stream)); // nothing may still use the arena
    if (net->graph_exec) CUDA_TEARDOWN_CHECK(cudaGraphExecDestroy(net->graph_exec));
    if (net->graph) CUDA_TEARDOWN_CHECK(cudaGraphDestroy(net->graph));
    for (int i = 0; i < net->n_nodes; i++) {
        cudnn_conv_destroy(net->nodes[i].conv);
        gpu_linear_destroy(net->nodes[i].linear);
    }
    if (net->lt) CUBLAS_TEARDOWN_CHECK(cublasLtDestroy(net->lt));
    if (net->arena) CUDA_TEARDOWN_CHECK(cudaFree(net->arena));
    free(net);
}

void *gpu_network_input(gpu_network *net) { return net ? net->tensor[0] : NULL; }
float *gpu_network_logits(gpu_network *net) { return net ? (float *)net->tensor[last_tensor(net)] : NULL; }
int gpu_network_batch(const gpu_network *net) { return net ? net->batch : 0; }
size_t gpu_network_arena_bytes(const gpu_network *net) { return net ? net->arena_bytes : 0; }
int gpu_network_captured(const gpu_network *net) { return net && net->graph_exec; }

cascade_status gpu_network_forward(gpu_network *net, cascade_error *err) {
    if (!net) return cascade_fail(err, CASCADE_EINVAL, "gpu_network_forward: no network");
    if (!net->graph_exec) return forward_eager(net, err);
    CUDA_CHECK(cudaGraphLaunch(net->graph_exec, net->lane.stream));
    return CASCADE_OK;
}

static void append(char *out, size_t cap, size_t *len, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void append(char *out, size_t cap, size_t *len, const char *fmt, ...) {
    if (*len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0) *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

static void describe_node(const gpu_node *n, char *out, size_t cap, size_t *len) {
    if (n->kind == NODE_CONV) {
        const cudnn_conv_shape *s = &n->conv_shape;
        append(out, cap, len, "  %-20s conv %dx%d/%d %3d->%-3d %-30s engine %d (config %d of %d%s), %.3f ms, workspace %zu B%s\n",
               n->name, s->kernel, s->kernel, s->stride, s->in_channels, s->out_channels, n->form->what,
               cudnn_conv_chosen_engine(n->conv), cudnn_conv_chosen_config(n->conv),
               cudnn_conv_config_count(n->conv),
               n->replaced ? ", timed afresh: the reused choice did not run"
               : n->leader >= 0 ? (n->copied ? ", as an earlier node" : ", own plans: an earlier node's did not finalize")
               : n->remembered ? ", remembered from an earlier network" : "",
               (double)cudnn_conv_chosen_ms(n->conv), cudnn_conv_chosen_workspace(n->conv), choice_caveat(n->conv));
        if (n->direct_failure[0])
            append(out, cap, len, "  %-20s   conv_small kernel: did not run (%s) -> runs on cuDNN\n", "",
                   n->direct_failure);
        if (n->direct_ms > 0)
            append(out, cap, len, "  %-20s   conv_small kernel: %.3f ms -> runs on %s%s\n", "", (double)n->direct_ms,
                   n->direct ? "conv_small" : "cuDNN", n->direct_remembered ? ", as decided before (plan memo)" : "");
    } else if (n->kind == NODE_LINEAR) {
        const gpu_linear_shape *s = &n->linear_shape;
        append(out, cap, len, "  %-20s linear %d->%d (%s): cuBLASLt, %s\n", n->name, s->in_features, s->out_features,
               s->out_fp32 ? "fp32 logits" : "fp16", gpu_linear_fused_epilogue(n->linear) ? "bias/ReLU in the epilogue"
                                                                                        : "bias/ReLU by bias_act");
    }
}

void gpu_network_describe(const gpu_network *net, char *out, size_t cap) {
    size_t len = 0;
    if (!out || !cap) return;
    out[0] = 0;
    if (!net) return;
    append(out, cap, &len, "%s at batch %d: arena %.1f MiB (weights %.2f MiB, workspace %.1f MiB)\n", net->arch,
           net->batch, (double)net->arena_bytes / 1048576.0, (double)net->weights_bytes / 1048576.0,
           (double)net->workspace_bytes / 1048576.0);
    for (int i = 0; i < net->n_nodes; i++) describe_node(&net->nodes[i], out, cap, &len);
    append(out, cap, &len, "  plan cache: %s\n", net->plan_cache);
    if (net->graph_exec) append(out, cap, &len, "  forward: one CUDA graph of %d nodes\n", net->n_nodes);
    else append(out, cap, &len, "  forward: node by node; CUDA graph capture failed: %s\n", net->capture_failure);
}
