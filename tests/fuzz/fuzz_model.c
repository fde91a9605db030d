// fuzz_model.c: libFuzzer target for the model constructors (model_load_buffer).
// Input: one selector byte, then a .safetensors file. Selector bits 0-2 pick
// the architecture (0: the file's "arch" metadata, 1-6: each zoo architecture
// forced, 7: an unknown name); bit 3 appends zero bytes after the input (up
// to 48 MB) so that a header alone, with no data, reaches every tensor check
// of even ResNet-34. A model that loads must be well formed: node and tensor
// ids in range, positive shapes, every folded weight finite, finite mean and
// positive std, class names that are safe to print into CSV/JSON. LeNet is
// also run forward on one image through the CPU backend.
#include "fuzz_util.h"
#include "models/model.h"
#include "runtime/cpu/cpu_network.h"
#include <math.h>

#define ZERO_TAIL (48u << 20)

static void check_array(const float *v, size_t n, const char *what, const char *node) {
    for (size_t i = 0; i < n; i++) FUZZ_ASSERT(isfinite(v[i]), "%s of %s: non-finite value at %zu", what, node, i);
}

static void check_model(const model *m) {
    FUZZ_ASSERT(m->n_nodes > 0 && m->n_nodes <= MODEL_MAX_NODES, "%d nodes", m->n_nodes);
    FUZZ_ASSERT(m->n_tensors == m->n_nodes + 1, "%d tensors for %d nodes", m->n_tensors, m->n_nodes);
    for (int t = 0; t < m->n_tensors; t++)
        FUZZ_ASSERT(m->tensors[t].channels > 0 && m->tensors[t].height > 0 && m->tensors[t].width > 0, "tensor %d", t);
    for (int i = 0; i < m->n_nodes; i++) {
        const model_node *n = &m->nodes[i];
        FUZZ_ASSERT(n->input >= 0 && n->input < n->output && n->output < m->n_tensors, "node %d ids", i);
        FUZZ_ASSERT(n->residual < n->output, "node %d residual", i);
        if (n->kind == NODE_CONV || n->kind == NODE_LINEAR) {
            size_t k = n->kind == NODE_CONV ? (size_t)n->kernel * n->kernel : 1;
            check_array(n->weight, (size_t)n->out_features * n->in_features * k, "weight", n->name);
            check_array(n->bias, (size_t)n->out_features, "bias", n->name);
        }
    }
    FUZZ_ASSERT(tensor_numel(m->tensors[m->n_tensors - 1]) == (size_t)m->num_classes, "logits");
    for (int c = 0; c < 3; c++)
        FUZZ_ASSERT(isfinite(m->mean[c]) && isfinite(m->std[c]) && m->std[c] > 0, "mean/std %d", c);
    for (int c = 0; c < m->num_classes; c++) {
        const char *name = m->class_names[c];
        FUZZ_ASSERT(memchr(name, 0, 32) != NULL, "class %d unterminated", c);
        for (const char *p = name; *p; p++)
            FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '"' && *p != '\\' && *p != ',',
                        "class %d name has byte 0x%02x", c, (unsigned char)*p);
    }
}

static void run_lenet(const model *m) {
    cpu_network *net;
    cascade_error err;
    if (cpu_network_create(&net, m, &err)) return;
    uint8_t image[3072];
    for (int i = 0; i < 3072; i++) image[i] = (uint8_t)(i * 7);
    float logits[MODEL_MAX_CLASSES];
    FUZZ_ASSERT(!cpu_network_forward_u8(net, image, 1, logits, &err), "forward: %s", err.message);
    cpu_network_destroy(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const archs[8] = {NULL, "lenet", "alexnet", "alexnet_shallow", "alexnet_shallower",
                                         "resnet18", "resnet34", "vgg16"};
    static uint8_t *buffer;
    if (size < 1 || size - 1 > ZERO_TAIL) return 0;
    uint8_t selector = data[0];
    const uint8_t *file = data + 1;
    size_t file_size = size - 1, parsed_size = file_size;
    uint8_t *bytes;
    if (selector & 8) { // file followed by zeros, in a buffer kept zeroed between runs
        if (!buffer && !(buffer = calloc(1, 2 * (size_t)ZERO_TAIL))) return 0;
        memcpy(buffer, file, file_size);
        bytes = buffer;
        parsed_size = file_size + ZERO_TAIL;
    } else {
        if (!(bytes = malloc(file_size ? file_size : 1))) return 0;
        memcpy(bytes, file, file_size);
    }
    model m;
    cascade_error err = {{0}};
    cascade_status s = model_load_buffer(&m, bytes, parsed_size, archs[selector & 7], &err);
    if (s) {
        fuzz_check_message(&err);
        FUZZ_ASSERT(m.n_nodes == 0, "failed load kept %d nodes", m.n_nodes);
    } else {
        FUZZ_ASSERT((selector & 7) != 7, "loaded an unknown architecture");
        check_model(&m);
        if (!strcmp(m.arch, "lenet")) run_lenet(&m);
        model_free(&m);
    }
    if (bytes == buffer) memset(buffer, 0, file_size);
    else free(bytes);
    return 0;
}
