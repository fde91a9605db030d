// test_gpu_layout.c: the GPU backend's host-side layout, checked on the CPU
// (no device needed, so CI runs it). It includes gpu_network.c to reach its
// static planning code: stored (padded) channel counts, flatten aliasing,
// the arena plan, and the weight relayout (conv to KRSC over stored
// channels; the first linear after a flatten permuted to (h,w,c) order).
// A CPU emulation of the forward over exactly that arena, with fp16 storage
// between layers, must match the golden logits to fp16 accuracy.
//   test_gpu_layout [model images] ...   (default: a few zoo models)
#include "../runtime/gpu/gpu_network.c"
#include <math.h>
#include "test_util.h"

#define EMULATED_BATCH 4

static float load_half(const void *p, size_t i) { return half_to_float(((const uint16_t *)p)[i]); }
static void store_half(void *p, size_t i, float v) { ((uint16_t *)p)[i] = half_from_float(v); }

// channel_pad, then conv + bias [+ residual] [ReLU], as the node's cuDNN graph computes it.
static void emulate_conv(gpu_network *net, const gpu_node *n) {
    const cudnn_conv_shape *s = &n->conv_shape;
    const void *x = net->tensor[n->input];
    if (n->padded_input) {
        size_t pixels = (size_t)net->batch * s->in_height * s->in_width;
        int stored = net->stored[n->input];
        for (size_t p = 0; p < pixels; p++)
            for (int c = 0; c < s->in_channels; c++)
                store_half(n->padded_input, p * s->in_channels + c, c < stored ? load_half(x, p * stored + c) : 0.0f);
        x = n->padded_input;
    }
    for (int b = 0; b < s->batch; b++)
        for (int oy = 0; oy < s->out_height; oy++)
            for (int ox = 0; ox < s->out_width; ox++)
                for (int o = 0; o < s->out_channels; o++) {
                    double acc = 0;
                    for (int ky = 0; ky < s->kernel; ky++)
                        for (int kx = 0; kx < s->kernel; kx++) {
                            int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                            if (iy < 0 || ix < 0 || iy >= s->in_height || ix >= s->in_width) continue;
                            size_t xi = (((size_t)b * s->in_height + iy) * s->in_width + ix) * s->in_channels;
                            size_t wi = (((size_t)o * s->kernel + ky) * s->kernel + kx) * s->in_channels;
                            for (int c = 0; c < s->in_channels; c++) acc += load_half(x, xi + c) * load_half(n->weight, wi + c);
                        }
                    size_t yi = (((size_t)b * s->out_height + oy) * s->out_width + ox) * s->out_channels + o;
                    float v = (float)acc + load_half(n->bias, o);
                    if (n->residual != NO_TENSOR) v += load_half(net->tensor[n->residual], yi);
                    store_half(net->tensor[n->output], yi, n->relu && v < 0 ? 0.0f : v);
                }
}

static void emulate_pool(gpu_network *net, const gpu_node *n) {
    tensor_shape in = net->tensors[n->input], out = net->tensors[n->output];
    int c = net->stored[n->input], hw = in.height * in.width;
    const void *x = net->tensor[n->input];
    for (int b = 0; b < net->batch; b++)
        for (int oy = 0; oy < out.height; oy++)
            for (int ox = 0; ox < out.width; ox++)
                for (int ch = 0; ch < c; ch++) {
                    float best = -INFINITY, sum = 0;
                    for (int p = 0; n->kind == NODE_GLOBAL_AVGPOOL && p < hw; p++) sum += load_half(x, ((size_t)b * hw + p) * c + ch);
                    for (int ky = 0; n->kind == NODE_MAXPOOL && ky < n->kernel; ky++)
                        for (int kx = 0; kx < n->kernel; kx++) {
                            int iy = oy * n->stride + ky, ix = ox * n->stride + kx;
                            float v = load_half(x, (((size_t)b * in.height + iy) * in.width + ix) * c + ch);
                            best = v > best ? v : best;
                        }
                    store_half(net->tensor[n->output], (((size_t)b * out.height + oy) * out.width + ox) * c + ch,
                               n->kind == NODE_MAXPOOL ? best : sum / hw);
                }
}

static void emulate_linear(gpu_network *net, const gpu_node *n) {
    const gpu_linear_shape *s = &n->linear_shape;
    const void *x = net->tensor[n->input];
    for (int b = 0; b < s->batch; b++)
        for (int o = 0; o < s->out_features; o++) {
            double acc = 0;
            for (int k = 0; k < s->in_features; k++)
                acc += load_half(x, (size_t)b * s->in_features + k) * load_half(n->weight, (size_t)o * s->in_features + k);
            float v = (float)acc + (s->out_fp32 ? ((const float *)n->bias)[o] : load_half(n->bias, o));
            if (s->relu && v < 0) v = 0;
            if (s->out_fp32) ((float *)net->tensor[n->output])[(size_t)b * s->out_features + o] = v;
            else store_half(net->tensor[n->output], (size_t)b * s->out_features + o, v);
        }
}

// The planning steps of build_network that need no device; conv forms
// alternate fused/split, and a 3-channel input is read through the
// 8-channel copy when pad_input.
static gpu_network *plan_on_host(const model *m, int pad_input, void **arena) {
    gpu_network *net = calloc(1, sizeof *net);
    cascade_error err;
    net->batch = EMULATED_BATCH;
    if (plan_layout(net, m, &err)) {
        CHECK(0, "%s", err.message);
        free(net);
        return NULL;
    }
    for (int i = 0; i < net->n_nodes; i++) {
        gpu_node *n = &net->nodes[i];
        if (n->kind == NODE_CONV) {
            n->form = &conv_forms[pad_input && net->stored[n->input] % 8 ? 2 : i % 2];
            conv_shape_for(net, n, n->form, &n->conv_shape);
        }
        if (n->kind == NODE_LINEAR) plan_linear(net, n);
    }
    plan_arena(net);
    *arena = calloc(1, net->arena_bytes);
    point_into_arena(net, *arena);
    for (int i = 0; i < net->n_nodes; i++) fill_node_weights(*arena, net, m, i);
    return net;
}

static void check_layout(const char *name, int images, int pad_input, const cifar_file *data) {
    model m;
    void *arena = NULL;
    if (!load_test_model(name, &m)) return;
    gpu_network *net = plan_on_host(&m, pad_input, &arena);
    int golden_n;
    float *golden = load_golden_logits(name, &golden_n);
    double worst = 0;
    for (int start = 0; net && start + EMULATED_BATCH <= images; start += EMULATED_BATCH) {
        for (int b = 0; b < EMULATED_BATCH; b++)
            for (int c = 0; c < 3; c++)
                for (int p = 0; p < 1024; p++)
                    store_half(net->tensor[0], (size_t)b * 3072 + p * 3 + c,
                               (cifar_pixels(data, start + b)[c * 1024 + p] / 255.0f - m.mean[c]) / m.std[c]);
        for (int i = 0; i < net->n_nodes; i++) {
            gpu_node *n = &net->nodes[i];
            if (n->kind == NODE_CONV) emulate_conv(net, n);
            if (n->kind == NODE_MAXPOOL || n->kind == NODE_GLOBAL_AVGPOOL) emulate_pool(net, n);
            if (n->kind == NODE_LINEAR) emulate_linear(net, n);
        }
        const float *logits = gpu_network_logits(net);
        for (int b = 0; b < EMULATED_BATCH; b++) {
            const float *g = golden + (size_t)(start + b) * 10, *l = logits + (size_t)b * 10;
            double diff = 0, norm = 0;
            for (int k = 0; k < 10; k++) diff += (l[k] - g[k]) * (l[k] - g[k]), norm += g[k] * g[k];
            double rel = sqrt(diff / norm);
            if (!(rel <= worst)) worst = isnan(rel) ? INFINITY : rel;
            CHECK(argmax10(l, 10) == argmax10(g, 10), "%s: image %d argmax differs", name, start + b);
        }
    }
    printf("%-18s %d images, %s input: worst rel L2 %.2e\n", name, images, pad_input ? "padded" : "3-channel", worst);
    CHECK(worst <= 5e-3, "%s: worst relative error %.3g", name, worst);
    free(net), free(arena), free(golden);
    model_free(&m);
}

// The largest batch cuDNN's 32-bit offsets allow: (2^31 - 1) / the most values
// per image of any tensor (or 8-channel copy of one). gpu_network_create refuses
// one image more, in one line naming the tensor and the limit.
static void check_index_limit(const char *name, int expected, const char *tensor) {
    model m;
    if (!load_test_model(name, &m)) return;
    cascade_error err = {""};
    int limit = -1;
    CHECK(gpu_network_max_batch(&m, &limit, &err) == CASCADE_OK && limit == expected,
          "%s: largest batch %d, expected %d (%s)", name, limit, expected, err.message);
    gpu_network *net = calloc(1, sizeof *net);
    CHECK(plan_layout(net, &m, &err) == CASCADE_OK, "%s: %s", name, err.message);
    net->batch = expected;
    CHECK(check_index_range(net, &err) == CASCADE_OK, "%s: batch %d refused: %s", name, expected, err.message);
    net->batch = expected + 1;
    err.message[0] = 0;
    cascade_status s = check_index_range(net, &err);
    char limit_text[64];
    snprintf(limit_text, sizeof limit_text, "at most %d images", expected);
    CHECK(s == CASCADE_EINVAL && strstr(err.message, tensor) && strstr(err.message, limit_text),
          "%s: batch %d: %s \"%s\"", name, expected + 1, cascade_status_name(s), err.message);
    printf("%s: largest batch %d; one more: %s\n", name, limit, err.message);
    free(net);
    model_free(&m);
}

// A tiny IR: conv 3->C (3x3, pad 1) adding tensor `residual` (-1: none)
// when C is 3, then flatten and a linear layer to 10 logits.
static void tiny_model(model *m, int channels, int residual) {
    static float weight[8 * 3 * 9], bias[8], fc_weight[10 * 8 * 1024], fc_bias[10];
    memset(m, 0, sizeof *m);
    snprintf(m->arch, sizeof m->arch, "tiny");
    m->n_nodes = 3, m->n_tensors = 4, m->num_classes = 10;
    m->tensors[0] = (tensor_shape){3, 32, 32};
    m->tensors[1] = (tensor_shape){channels, 32, 32};
    m->tensors[2] = (tensor_shape){channels * 1024, 1, 1};
    m->tensors[3] = (tensor_shape){10, 1, 1};
    m->nodes[0] = (model_node){NODE_CONV, "conv", 0, residual, 1, 1, 3, 1, 1, 3, channels, weight, bias};
    m->nodes[1] = (model_node){NODE_FLATTEN, "flatten", 1, -1, 2, 0, 0, 0, 0, 0, 0, NULL, NULL};
    m->nodes[2] = (model_node){NODE_LINEAR, "fc", 2, -1, 3, 0, 0, 0, 0, channels * 1024, 10, fc_weight, fc_bias};
}

// A residual is read with the strides of the conv's output (channels stored
// rounded up to 8): one stored otherwise (the 3-channel input) is refused,
// not read past its end.
static void check_residual_layout(void) {
    model m;
    cascade_error err = {""};
    gpu_network *net = calloc(1, sizeof *net);
    tiny_model(&m, 3, -1);
    CHECK(plan_layout(net, &m, &err) == CASCADE_OK, "tiny conv without residual: %s", err.message);
    memset(net, 0, sizeof *net);
    tiny_model(&m, 3, 0);
    err.message[0] = 0;
    cascade_status s = plan_layout(net, &m, &err);
    CHECK(s == CASCADE_EINVAL && strstr(err.message, "node 0 (conv)"),
          "a residual stored with 3 channels, added to an output stored with 8: %s \"%s\"", cascade_status_name(s),
          err.message);
    free(net);
}

// fp16 holds |w| < 65520 (65504 and what rounds to it): a weight, or a bias
// stored in fp16, past that is refused naming the node and the value, since
// the GPU would compute with infinity. The last linear's bias stays fp32.
static void check_fp16_refusal(float *value, float past, const char *expected) {
    model m;
    cascade_error err = {""};
    int limit = -1;
    gpu_network *net = calloc(1, sizeof *net);
    tiny_model(&m, 8, -1);
    *value = 65504.0f;
    CHECK(plan_layout(net, &m, &err) == CASCADE_OK, "a weight of 65504 refused: %s", err.message);
    *value = past;
    memset(net, 0, sizeof *net), err.message[0] = 0;
    cascade_status s = plan_layout(net, &m, &err);
    if (expected)
        CHECK(s == CASCADE_EINVAL && strstr(err.message, expected) && strstr(err.message, "fp16") &&
                  gpu_network_max_batch(&m, &limit, &err) == CASCADE_EINVAL && limit == 0,
              "%g where %s: %s \"%s\"", past, expected, cascade_status_name(s), err.message);
    else CHECK(s == CASCADE_OK, "%g in the fp32 bias refused: %s", past, err.message);
    *value = 0.0f;
    free(net);
}

static void check_fp16_range_refusals(void) {
    const float edges[] = {65504.0f, 65519.0f, 65520.0f, 65536.0f, -65519.0f, -65520.0f, 1e30f};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        int finite = isfinite(half_to_float(half_from_float(edges[i])));
        CHECK(half_holds(edges[i]) == finite, "half_holds(%g) = %d but fp16 gives %s", edges[i], half_holds(edges[i]),
              finite ? "a finite value" : "infinity");
    }
    model m;
    tiny_model(&m, 8, -1);
    check_fp16_refusal((float *)&m.nodes[0].weight[5], 7e4f, "node 0 (conv) has weight 5 (70000)");
    check_fp16_refusal((float *)&m.nodes[0].bias[2], -65520.0f, "node 0 (conv) has bias 2 (-65520)");
    check_fp16_refusal((float *)&m.nodes[2].weight[8 * 1024 * 10 - 1], 1e30f, "node 2 (fc) has weight 81919 (1e+30)");
    check_fp16_refusal((float *)&m.nodes[2].bias[9], 1e30f, NULL);
}

// conv_small's shared-memory bound, a host function: a tile whose size would
// wrap an int must be refused, not taken for a small one.
static void check_conv_small_bounds(void) {
    conv_small_shape lenet = {4, 32, 32, 3, 8, 5, 0, 28, 28, 1}, s = lenet;
    CHECK(conv_small_supports(lenet), "conv_small: lenet's first conv not supported");
    s.height = 3, s.width = 477218585, s.kernel = 3, s.out_height = 1, s.out_width = s.width - 2;
    CHECK(!conv_small_supports(s), "conv_small: a %dx%d image (its tile wraps an int) supported", s.height, s.width);
    s = lenet, s.height = 1 << 30, s.width = 1, s.kernel = 3, s.pad = 1, s.out_height = s.height, s.out_width = 1;
    CHECK(!conv_small_supports(s), "conv_small: a %dx%d image supported", s.height, s.width);
}

int main(int argc, char **argv) {
    check_residual_layout();
    check_conv_small_bounds();
    check_fp16_range_refusals();
    check_index_limit("alexnet_shallower", 32767, "conv1's output"); // 64 x 32 x 32 = 65,536 values an image
    check_index_limit("resnet34", 32767, "conv1's output");          // the same first conv
    check_index_limit("lenet", 262143, "the input");                 // 3 channels read as 8: 8,192
    cifar_file data;
    open_test_set(&data);
    if (argc > 2)
        for (int i = 1; i + 1 < argc; i += 2) check_layout(argv[i], atoi(argv[i + 1]), 0, &data);
    else {
        check_layout("lenet", 32, 0, &data);
        check_layout("lenet", 32, 1, &data);
        check_layout("alexnet_shallower", 4, 1, &data);
        check_layout("resnet18", 4, 0, &data);
    }
    cifar_close(&data);
    return test_summary("gpu_layout");
}
