// model.c: loading a safetensors file into the model IR.
// Holds the node builders that the architecture constructors call: each
// checks its tensors (name, dtype, shape, finite values), converts them to
// fp32 and folds BatchNorm (MODELS.md: s = gamma/sqrt(var+eps),
// W' = W*s, b' = (b-mean)*s + beta).
#include "model.h"
#include "../runtime/utf8.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BN_EPS 1e-5f

const char *const model_arch_names[] = {"lenet", "alexnet", "alexnet_shallow", "alexnet_shallower",
                                        "resnet18", "resnet34", NULL};

size_t tensor_numel(tensor_shape s) { return (size_t)s.channels * s.height * s.width; }

size_t model_max_activation(const model *m) {
    size_t most = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (tensor_numel(m->tensors[i]) > most) most = tensor_numel(m->tensors[i]);
    return most;
}

// Where a tensor the architecture names is missing, what the file has in its
// place, as " (...)": one whose name ends in ".name" (a prefix such as
// DataParallel's "module."), else one not yet taken of the shape wanted (the
// file's own naming); "" when neither.
static void missing_hint(const model_builder *b, const char *name, int ndim, const int64_t *shape, char *hint,
                         size_t cap) {
    size_t len = strlen(name);
    hint[0] = 0;
    for (int i = 0; i < b->file->n_tensors; i++) {
        const char *other = b->file->tensors[i].name;
        size_t n = strlen(other);
        if (n > len && other[n - len - 1] == '.' && !strcmp(other + n - len, name)) {
            snprintf(hint, cap, " (the file has '%.*s': its names carry the prefix '%.*s'; save them without it)",
                     64, other, (int)(n - len > 32 ? 32 : n - len), other);
            return;
        }
    }
    for (int i = 0; i < b->file->n_tensors; i++) {
        const st_tensor *t = &b->file->tensors[i];
        int same = t->ndim == ndim && !(b->taken && b->taken[i]);
        for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
        if (same) {
            snprintf(hint, cap, " (the file has '%.64s' of that shape: its tensors are named otherwise?)", t->name);
            return;
        }
    }
}

// Finds name, checks dtype class and exact shape, returns an fp32 copy (malloc'd) or NULL.
static float *take_tensor(model_builder *b, const char *name, int ndim, const int64_t *shape) {
    if (b->status) return NULL;
    const st_tensor *t = st_find(b->file, name);
    if (!t) {
        char hint[192];
        missing_hint(b, name, ndim, shape, hint, sizeof hint);
        b->status = cascade_fail(b->err, CASCADE_EFORMAT, "missing tensor '%s' for arch %s%s", name, b->m->arch, hint);
        return NULL;
    }
    if (b->taken) b->taken[t - b->file->tensors] = 1;
    if (t->dtype != ST_F16 && t->dtype != ST_F32) {
        b->status = cascade_fail(b->err, CASCADE_EFORMAT, "tensor '%s' has dtype %s, expected F16 or F32",
                                 name, st_dtype_name(t->dtype));
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char want[96] = "", got[96] = "";
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? "," : "", (long long)shape[i]);
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", (long long)t->shape[i]);
        b->status = cascade_fail(b->err, CASCADE_EFORMAT, "tensor '%s' has shape [%s], arch %s expects [%s]",
                                 name, got, b->m->arch, want);
        return NULL;
    }
    float *out = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    if (!out) {
        b->status = cascade_fail(b->err, CASCADE_ENOMEM, "out of memory loading '%s'", name);
        return NULL;
    }
    b->status = st_to_f32(t, out, b->err);
    if (b->status) { free(out); return NULL; }
    if (strstr(name, "running_") == NULL) b->m->params += t->numel;
    b->m->stored_values += t->numel;
    return out;
}

static model_node *new_node(model_builder *b, node_kind kind, const char *name, int input, tensor_shape out) {
    if (b->status) return NULL;
    model *m = b->m;
    if (m->n_nodes >= MODEL_MAX_NODES || input < 0 || input >= m->n_tensors) {
        b->status = cascade_fail(b->err, CASCADE_EINVAL, "internal: bad node %s", name);
        return NULL;
    }
    model_node *n = &m->nodes[m->n_nodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->residual = -1;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->input = input;
    n->output = m->n_tensors;
    m->tensors[m->n_tensors++] = out;
    return n;
}

static model_node *new_conv(model_builder *b, const char *conv, int input, int out_channels, int kernel,
                            int stride, int pad) {
    if (b->status) return NULL;
    tensor_shape in = b->m->tensors[input];
    tensor_shape out = {out_channels, (in.height + 2 * pad - kernel) / stride + 1,
                        (in.width + 2 * pad - kernel) / stride + 1};
    char key[ST_MAX_NAME];
    snprintf(key, sizeof key, "%s.weight", conv);
    int64_t shape[4] = {out_channels, in.channels, kernel, kernel};
    float *w = take_tensor(b, key, 4, shape);
    model_node *n = new_node(b, NODE_CONV, conv, input, out);
    if (!n) { free(w); return NULL; }
    n->weight = w;
    n->kernel = kernel, n->stride = stride, n->pad = pad;
    n->in_features = in.channels, n->out_features = out_channels;
    n->bias = calloc((size_t)out_channels, sizeof(float));
    if (!n->bias) b->status = cascade_fail(b->err, CASCADE_ENOMEM, "out of memory for %s's bias", n->name);
    b->m->macs += (long long)out_channels * in.channels * kernel * kernel * out.height * out.width;
    return n;
}

int build_conv_bias(model_builder *b, const char *conv, int input, int out_channels, int kernel, int relu) {
    model_node *n = new_conv(b, conv, input, out_channels, kernel, 1, 0);
    char key[ST_MAX_NAME];
    snprintf(key, sizeof key, "%s.bias", conv);
    int64_t shape[1] = {out_channels};
    float *bias = take_tensor(b, key, 1, shape);
    if (!n || !bias) { free(bias); return -1; }
    memcpy(n->bias, bias, (size_t)out_channels * sizeof(float));
    free(bias);
    n->relu = relu;
    return n->output;
}

int build_conv_bn(model_builder *b, const char *conv, const char *bn, int input, int out_channels,
                  int kernel, int stride, int pad, int residual, int relu) {
    model_node *n = new_conv(b, conv, input, out_channels, kernel, stride, pad);
    static const char *parts[4] = {"weight", "bias", "running_mean", "running_var"};
    float *p[4] = {0};
    int64_t shape[1] = {out_channels};
    for (int i = 0; i < 4; i++) {
        char key[ST_MAX_NAME];
        snprintf(key, sizeof key, "%s.%s", bn, parts[i]);
        p[i] = take_tensor(b, key, 1, shape);
    }
    if (n && !b->status && residual >= 0) {
        tensor_shape r = b->m->tensors[residual], o = b->m->tensors[n->output];
        if (r.channels != o.channels || r.height != o.height || r.width != o.width)
            b->status = cascade_fail(b->err, CASCADE_EINVAL, "internal: residual shape mismatch at %s", conv);
    }
    if (n && !b->status) {
        size_t per_out = (size_t)n->in_features * kernel * kernel;
        for (int o = 0; o < out_channels && !b->status; o++) {
            if (!(p[3][o] >= 0)) {
                b->status = cascade_fail(b->err, CASCADE_EFORMAT, "tensor '%s.running_var' has a negative value (%g) at channel %d",
                                         bn, p[3][o], o);
                break;
            }
            float s = p[0][o] / sqrtf(p[3][o] + BN_EPS);
            int finite = isfinite(s);
            for (size_t k = 0; k < per_out; k++) finite &= isfinite(n->weight[o * per_out + k] *= s);
            n->bias[o] = (n->bias[o] - p[2][o]) * s + p[1][o];
            if (!finite || !isfinite(n->bias[o]))
                b->status = cascade_fail(b->err, CASCADE_EFORMAT, "folding %s into %s overflows at channel %d (non-finite weights)",
                                         bn, conv, o);
        }
        n->residual = residual;
        n->relu = relu;
    }
    for (int i = 0; i < 4; i++) free(p[i]);
    return b->status ? -1 : n->output;
}

int build_maxpool(model_builder *b, int input, int kernel, int stride) {
    if (b->status) return -1;
    tensor_shape in = b->m->tensors[input];
    tensor_shape out = {in.channels, (in.height - kernel) / stride + 1, (in.width - kernel) / stride + 1};
    model_node *n = new_node(b, NODE_MAXPOOL, "maxpool", input, out);
    if (!n) return -1;
    n->kernel = kernel, n->stride = stride;
    return n->output;
}

int build_global_avgpool(model_builder *b, int input) {
    if (b->status) return -1;
    tensor_shape in = b->m->tensors[input];
    model_node *n = new_node(b, NODE_GLOBAL_AVGPOOL, "avgpool", input, (tensor_shape){in.channels, 1, 1});
    return n ? n->output : -1;
}

int build_flatten(model_builder *b, int input) {
    if (b->status) return -1;
    tensor_shape in = b->m->tensors[input];
    model_node *n = new_node(b, NODE_FLATTEN, "flatten", input, (tensor_shape){(int)tensor_numel(in), 1, 1});
    return n ? n->output : -1;
}

int build_linear(model_builder *b, const char *name, int input, int out_features, int relu) {
    if (b->status) return -1;
    int in_features = (int)tensor_numel(b->m->tensors[input]);
    char key[ST_MAX_NAME];
    snprintf(key, sizeof key, "%s.weight", name);
    int64_t wshape[2] = {out_features, in_features}, bshape[1] = {out_features};
    float *w = take_tensor(b, key, 2, wshape);
    snprintf(key, sizeof key, "%s.bias", name);
    float *bias = take_tensor(b, key, 1, bshape);
    model_node *n = new_node(b, NODE_LINEAR, name, input, (tensor_shape){out_features, 1, 1});
    if (!n || !w || !bias) { free(w); free(bias); return -1; }
    n->weight = w, n->bias = bias, n->relu = relu;
    n->in_features = in_features, n->out_features = out_features;
    b->m->macs += (long long)in_features * out_features;
    return n->output;
}

// Reads "a,b,c" floats from metadata key into out[n], each within [lo, hi];
// keeps defaults when absent. (mean and std are of pixels scaled to [0, 1]:
// mean within it, std from 1e-3 up, so that (x - mean) / std stays finite and
// far inside fp16's range on the GPU; pixel units, mean 125, are refused.)
static cascade_status read_float_list(const st_file *f, const char *key, float lo, float hi, float *out, int n,
                                      cascade_error *err) {
    const char *s = st_metadata(f, key);
    if (!s) return CASCADE_OK;
    for (int i = 0; i < n; i++) {
        char *end;
        float v = strtof(s, &end);
        if (end == s || !isfinite(v) || (i < n - 1 && *end != ',') || (i == n - 1 && *end))
            return cascade_fail(err, CASCADE_EFORMAT, "metadata '%s' must hold %d numbers: '%s'", key, n, st_metadata(f, key));
        if (!(v >= lo && v <= hi))
            return cascade_fail(err, CASCADE_EFORMAT, "metadata '%s': %g is outside [%g, %g] (pixels are scaled to "
                                "[0, 1])", key, v, lo, hi);
        out[i] = v;
        s = end + 1;
    }
    return CASCADE_OK;
}

// The first len bytes of text as a class name: names go into CSV, JSON and
// the terminal, so no quotes, backslashes or control characters, and only
// whole UTF-8 characters (a byte that is not one becomes '_'). -1 for a name
// past 31 bytes: cut, two names could become one (and the class-list checks
// between two models would pass on different names).
static int copy_class_name(char name[32], const char *text, size_t len) {
    size_t n = 0;
    for (size_t k = 0; k < len;) {
        int c = utf8_char_length(text + k);
        if ((size_t)c > len - k) c = 0; // (never: no UTF-8 sequence holds the "," that ends the name)
        if (n + (size_t)(c ? c : 1) > 31) {
            name[n] = 0;
            return -1;
        }
        if (!c || (unsigned char)text[k] < 0x20 || text[k] == 0x7f || text[k] == '"' || text[k] == '\\') name[n++] = '_';
        else memcpy(name + n, text + k, (size_t)c), n += (size_t)c;
        k += c ? (size_t)c : 1;
    }
    name[n] = 0;
    return 0;
}

// The "classes" metadata, when there: exactly one name per class, none empty
// and none twice once cleaned (each is a key of the run's JSON report and a
// class of its counts); CIFAR-10's names when there is none.
static cascade_status read_class_names(model *m, const st_file *f, cascade_error *err) {
    static const char *cifar10[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                      "dog", "frog", "horse", "ship", "truck"};
    for (int i = 0; i < m->num_classes && i < 10; i++) snprintf(m->class_names[i], 32, "%s", cifar10[i]);
    const char *s = st_metadata(f, "classes");
    if (!s) return CASCADE_OK;
    int n = 0;
    for (const char *p = s;; p++, n++) {
        size_t len = strcspn(p, ",");
        if (n < m->num_classes && copy_class_name(m->class_names[n], p, len) != 0)
            return cascade_fail(err, CASCADE_EFORMAT, "metadata 'classes': name %d ('%s...') is longer than 31 "
                                "bytes", n, m->class_names[n]);
        p += len;
        if (!*p) { n++; break; }
    }
    if (n != m->num_classes)
        return cascade_fail(err, CASCADE_EFORMAT, "metadata 'classes' has %d names for %d classes", n, m->num_classes);
    for (int i = 0; i < n; i++) {
        if (!m->class_names[i][0]) return cascade_fail(err, CASCADE_EFORMAT, "metadata 'classes': name %d is empty", i);
        for (int j = 0; j < i; j++)
            if (!strcmp(m->class_names[i], m->class_names[j]))
                return cascade_fail(err, CASCADE_EFORMAT, "metadata 'classes': '%s' names classes %d and %d",
                                    m->class_names[i], j, i);
    }
    return CASCADE_OK;
}

static cascade_status build_arch(model_builder *b, const char *arch) {
    static const int alexnet[] = {64, 192, 384, 256, 256}, shallow[] = {64, 192, 384, 256},
                     shallower[] = {64, 192, 256}, r18[] = {2, 2, 2, 2}, r34[] = {3, 4, 6, 3};
    if (!strcmp(arch, "lenet")) return build_lenet(b);
    if (!strcmp(arch, "alexnet")) return build_alexnet(b, alexnet, 5);
    if (!strcmp(arch, "alexnet_shallow")) return build_alexnet(b, shallow, 4);
    if (!strcmp(arch, "alexnet_shallower")) return build_alexnet(b, shallower, 3);
    if (!strcmp(arch, "resnet18")) return build_resnet(b, r18);
    if (!strcmp(arch, "resnet34")) return build_resnet(b, r34);
    return cascade_fail(b->err, CASCADE_EFORMAT, "unknown architecture '%s' (known: lenet, alexnet, alexnet_shallow, "
                        "alexnet_shallower, resnet18, resnet34)", arch);
}

// Every float tensor of the file is one the architecture used: a file whose
// metadata names another architecture (a resnet34 labelled resnet18) would
// otherwise build a smaller network from part of it. Tensors of other dtypes
// (U8 padding) are not weights and may stay, as may BatchNorm's step counter
// (*.num_batches_tracked, an I64, or a float where an export cast everything).
static cascade_status check_all_taken(const model_builder *b) {
    static const char counter[] = ".num_batches_tracked";
    for (int i = 0; i < b->file->n_tensors; i++) {
        const st_tensor *t = &b->file->tensors[i];
        size_t len = strlen(t->name);
        int is_counter = len >= sizeof counter - 1 && !strcmp(t->name + len - (sizeof counter - 1), counter);
        int is_float = t->dtype == ST_F16 || t->dtype == ST_BF16 || t->dtype == ST_F32 || t->dtype == ST_F64;
        if (!b->taken[i] && is_float && !is_counter)
            return cascade_fail(b->err, CASCADE_EFORMAT, "tensor '%s' is not part of arch %s (the file is of another "
                                "architecture?)", t->name, b->m->arch);
    }
    return CASCADE_OK;
}

// The metadata's "input" and "num_classes", where given, must be what this
// build runs: 3x32x32 images, 10 classes.
static cascade_status check_input_metadata(const st_file *f, const model *m, cascade_error *err) {
    const char *input = st_metadata(f, "input"), *classes = st_metadata(f, "num_classes");
    if (input && strcmp(input, "3x32x32"))
        return cascade_fail(err, CASCADE_EFORMAT, "input '%s' in the metadata: cascade runs 3x32x32 CIFAR images", input);
    char want[16];
    snprintf(want, sizeof want, "%d", m->num_classes);
    if (classes && strcmp(classes, want))
        return cascade_fail(err, CASCADE_EFORMAT, "num_classes '%s' in the metadata: cascade runs %d-class networks",
                            classes, m->num_classes);
    return CASCADE_OK;
}

// Builds the IR from an open file (closes it); name says where errors came from.
static cascade_status build_from_file(model *m, st_file *f, const char *name, const char *arch_override,
                                      cascade_error *err) {
    const char *arch = arch_override ? arch_override : st_metadata(f, "arch");
    if (!arch) {
        st_close(f);
        return cascade_fail(err, CASCADE_EFORMAT, "%s: no 'arch' in the metadata (its __metadata__ must name the "
                            "architecture: lenet, alexnet, alexnet_shallow, alexnet_shallower, resnet18 or resnet34)", name);
    }
    snprintf(m->arch, sizeof m->arch, "%s", arch);
    m->num_classes = 10;
    const float mean[3] = {0.4914f, 0.4822f, 0.4465f}, std[3] = {0.2470f, 0.2435f, 0.2616f};
    memcpy(m->mean, mean, sizeof mean);
    memcpy(m->std, std, sizeof std);
    cascade_status s = check_input_metadata(f, m, err);
    if (!s) s = read_float_list(f, "mean", 0.0f, 1.0f, m->mean, 3, err);
    if (!s) s = read_float_list(f, "std", 1e-3f, 1e3f, m->std, 3, err);
    if (!s) s = read_class_names(m, f, err);
    if (!s) {
        m->tensors[0] = (tensor_shape){3, 32, 32};
        m->n_tensors = 1;
        model_builder b = {m, f, err, CASCADE_OK, calloc((size_t)f->n_tensors + 1, 1)};
        s = b.taken ? build_arch(&b, m->arch) : cascade_fail(err, CASCADE_ENOMEM, "out of memory building %s", m->arch);
        if (!s) s = b.status;
        if (!s) s = check_all_taken(&b);
        free(b.taken);
    }
    st_close(f);
    if (!s && tensor_numel(m->tensors[m->n_tensors - 1]) != (size_t)m->num_classes)
        s = cascade_fail(err, CASCADE_EFORMAT, "%s: network does not end in %d logits", name, m->num_classes);
    if (s) {
        cascade_error_prefix(err, name);
        model_free(m);
    }
    return s;
}

cascade_status model_load(model *m, const char *path, const char *arch_override, cascade_error *err) {
    memset(m, 0, sizeof *m);
    st_file f;
    cascade_status s = st_open(&f, path, err);
    return s ? s : build_from_file(m, &f, path, arch_override, err);
}

cascade_status model_load_buffer(model *m, const uint8_t *bytes, size_t size, const char *arch_override,
                                 cascade_error *err) {
    memset(m, 0, sizeof *m);
    st_file f;
    cascade_status s = st_parse(&f, bytes, size, err);
    return s ? s : build_from_file(m, &f, "(buffer)", arch_override, err);
}

void model_drop_weights(model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        free(m->nodes[i].weight);
        m->nodes[i].weight = NULL;
    }
}

void model_free(model *m) {
    model_drop_weights(m);
    for (int i = 0; i < m->n_nodes; i++) free(m->nodes[i].bias);
    m->n_nodes = 0;
}

cascade_status model_check_pair(const model *cheap, const char *cheap_name, const model *full, const char *full_name,
                                cascade_error *err) {
    if (cheap->num_classes != full->num_classes)
        return cascade_fail(err, CASCADE_EINVAL, "%s has %d classes but %s has %d", cheap_name, cheap->num_classes,
                            full_name, full->num_classes);
    for (int c = 0; c < cheap->num_classes; c++)
        if (strcmp(cheap->class_names[c], full->class_names[c]))
            return cascade_fail(err, CASCADE_EINVAL, "class %d is '%s' in %s but '%s' in %s: a cascade needs one label "
                                "space", c, cheap->class_names[c], cheap_name, full->class_names[c], full_name);
    return CASCADE_OK;
}
