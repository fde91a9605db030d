// model.h: the model IR shared by both backends.
// A network is a short array of nodes over numbered activation tensors.
// Tensor 0 is the input (3x32x32, normalised); every node writes one new
// tensor. Weights are fp32 with BatchNorm already folded; layouts follow
// PyTorch: conv weight (out, in, k, k), linear weight (out, in). Activation
// shapes are per image, channel-major (C, H, W); a flattened vector has H=W=1
// and its features in C,H,W order of the tensor it came from.
#pragma once
#include <stddef.h>
#include "../runtime/status.h"
#include "safetensors.h"

#define MODEL_MAX_NODES 64
#define MODEL_MAX_CLASSES 16

typedef enum { NODE_CONV, NODE_MAXPOOL, NODE_GLOBAL_AVGPOOL, NODE_FLATTEN, NODE_LINEAR } node_kind;

typedef struct {
    int channels, height, width;
} tensor_shape;

typedef struct {
    node_kind kind;
    char name[48];     // PyTorch prefix of its weights, e.g. "layer2.0.conv1"
    int input;         // tensor id read
    int residual;      // tensor id added before the ReLU (conv only), -1 for none
    int output;        // tensor id written
    int relu;          // ReLU after (bias and residual)
    int kernel, stride, pad; // conv and maxpool
    int in_features, out_features; // conv: in/out channels; linear: in/out features
    float *weight;     // conv: (out, in, k, k); linear: (out, in); folded, fp32
    float *bias;       // (out); zero when the layer had none
} model_node;

typedef struct {
    char arch[32];
    int n_nodes;
    model_node nodes[MODEL_MAX_NODES];
    int n_tensors;
    tensor_shape tensors[MODEL_MAX_NODES + 1];
    int num_classes;
    float mean[3], std[3];                       // input normalisation
    char class_names[MODEL_MAX_CLASSES][32];
    long long params;                            // trainable parameters, as PyTorch counts them
    long long stored_values;                     // every value read, BatchNorm running statistics too
    long long macs;                              // multiply-accumulates per image
} model;

#ifdef __cplusplus
extern "C" {
#endif

// Loads path and builds the IR for its architecture: arch_override when
// non-NULL, else the file's "arch" metadata. Checks every expected tensor's
// name, dtype and shape, rejects non-finite values, folds BatchNorm.
CASCADE_MUST_CHECK cascade_status model_load(model *m, const char *path, const char *arch_override, cascade_error *err);
// The same over a safetensors file held in memory (the fuzzers' entry point);
// the model keeps no pointer into bytes.
CASCADE_MUST_CHECK cascade_status model_load_buffer(model *m, const uint8_t *bytes, size_t size,
                                                    const char *arch_override, cascade_error *err);
void model_free(model *m);
// CASCADE_EINVAL where full cannot refine cheap's answers: another number of
// classes, or another class at some index (one label space, or the expensive
// model's class 3 would be reported as the cheap model's class 3).
CASCADE_MUST_CHECK cascade_status model_check_pair(const model *cheap, const char *cheap_name, const model *full,
                                                   const char *full_name, cascade_error *err);
// Frees the conv and linear weights alone (the bulk: 85 MB for resnet34),
// keeping the structure and the biases: once a backend is open its network
// holds its own copy of the weights (re-laid out on the CPU, fp16 on the GPU).
void model_drop_weights(model *m);

// Architectures known to model_load, NULL-terminated.
extern const char *const model_arch_names[];

// Size in floats of the largest activation tensor (per image).
size_t model_max_activation(const model *m);
size_t tensor_numel(tensor_shape s);

// --- used by the architecture constructors (models/*.c) ---------------------
typedef struct {
    model *m;
    const st_file *file;
    cascade_error *err;
    cascade_status status; // first failure sticks; later calls are no-ops
    unsigned char *taken;  // per file tensor: 1 once the architecture took it (NULL: not tracked)
} model_builder;

// Each returns the id of the tensor it produced (or -1 once status is set).
int build_conv_bn(model_builder *b, const char *conv, const char *bn, int input, int out_channels,
                  int kernel, int stride, int pad, int residual, int relu);
int build_conv_bias(model_builder *b, const char *conv, int input, int out_channels, int kernel, int relu);
int build_maxpool(model_builder *b, int input, int kernel, int stride);
int build_global_avgpool(model_builder *b, int input);
int build_flatten(model_builder *b, int input);
int build_linear(model_builder *b, const char *name, int input, int out_features, int relu);

CASCADE_MUST_CHECK cascade_status build_lenet(model_builder *b);
CASCADE_MUST_CHECK cascade_status build_alexnet(model_builder *b, const int *widths, int n_convs);
CASCADE_MUST_CHECK cascade_status build_resnet(model_builder *b, const int *blocks_per_stage);

#ifdef __cplusplus
}
#endif
