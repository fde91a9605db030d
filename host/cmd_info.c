// cmd_info.c: `cascade info MODEL` — architecture, parameters, MACs, layers.
#include "commands.h"
#include "job.h"
#include "options.h"
#include <stdio.h>
#include <string.h>
#ifdef CASCADE_HAVE_CUDA
#include "../runtime/gpu/gpu_network.h"
#endif

static const char info_usage[] =
    "usage: cascade info [--layers] MODEL\n"
    "Prints a model's architecture, parameter count and multiply-accumulates per image.\n"
    "MODEL is a zoo name (lenet, alexnet_shallower, alexnet_shallow, alexnet, resnet18,\n"
    "resnet34) or a path to a .safetensors file.\n"
    "  --layers   also list the IR nodes with their output shapes\n"
    "The gpu line says whether the GPU backend runs the model (fp16 weights) and\n"
    "its largest batch, or why not; it needs no device.\n";

static const char *kind_name(node_kind k) {
    static const char *names[] = {"conv", "maxpool", "avgpool", "flatten", "linear"};
    return names[k];
}

// Whether this build's GPU backend takes the model (the checks
// gpu_network_create makes before touching a device), as info's gpu line
// says it; CASCADE_ENOMEM (err set) where the check could not be made.
static cascade_status gpu_support(const model *m, char *line, size_t cap, cascade_error *err) {
#ifdef CASCADE_HAVE_CUDA
    cascade_error why = {""};
    int largest;
    cascade_status s = gpu_network_max_batch(m, &largest, &why);
    if (s == CASCADE_ENOMEM) return cascade_fail(err, s, "%s", why.message);
    if (s) snprintf(line, cap, "does not run it: %s", why.message);
    else snprintf(line, cap, "runs it in fp16, up to %d images per batch", largest);
#else
    (void)m, (void)err;
    snprintf(line, cap, "this build has no GPU backend");
#endif
    return CASCADE_OK;
}

static void print_layers(const model *m) {
    for (int i = 0; i < m->n_nodes; i++) {
        const model_node *n = &m->nodes[i];
        tensor_shape o = m->tensors[n->output];
        printf("  %2d %-8s %-22s -> %4dx%2dx%-2d", i, kind_name(n->kind), n->name, o.channels, o.height, o.width);
        if (n->kind == NODE_CONV) printf("  k%d s%d p%d", n->kernel, n->stride, n->pad);
        if (n->residual >= 0) printf(" +residual(t%d)", n->residual);
        if (n->relu) printf(" relu");
        printf("\n");
    }
}

int cmd_info(int argc, char **argv) {
    const char *name = NULL;
    int layers = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { fputs(info_usage, stdout); return 0; }
        if (!strcmp(argv[i], "--layers")) layers = 1;
        else if (argv[i][0] == '-' || name) {
            fprintf(stderr, "cascade info: unexpected argument '%s' (see cascade info --help)\n", argv[i]);
            return EXIT_USAGE;
        } else name = argv[i];
    }
    if (!name) {
        fprintf(stderr, "cascade info: no MODEL given (see cascade info --help)\n");
        return EXIT_USAGE;
    }
    model m;
    cascade_error err;
    cascade_status s = load_named_model(&m, name, &err);
    if (s) {
        fprintf(stderr, "cascade info: %s\n", err.message);
        return s == CASCADE_EINVAL ? EXIT_USAGE : 1;
    }
    char gpu[sizeof err.message + 32];
    if ((s = gpu_support(&m, gpu, sizeof gpu, &err))) { // (before the first line: all of the report or none)
        fprintf(stderr, "cascade info: %s\n", err.message);
        model_free(&m);
        return 1;
    }
    int convs = 0, linears = 0;
    for (int i = 0; i < m.n_nodes; i++) convs += m.nodes[i].kind == NODE_CONV, linears += m.nodes[i].kind == NODE_LINEAR;
    printf("arch        %s\n", m.arch);
    printf("input       3x32x32 (mean %.4f,%.4f,%.4f std %.4f,%.4f,%.4f)\n", m.mean[0], m.mean[1], m.mean[2],
           m.std[0], m.std[1], m.std[2]);
    printf("classes     %d:", m.num_classes); // in index order: the CSV's prediction and label columns
    for (int c = 0; c < m.num_classes; c++) printf("%s %s", c ? "," : "", m.class_names[c]);
    printf("\n");
    printf("layers      %d conv, %d linear (%d IR nodes, BatchNorm folded)\n", convs, linears, m.n_nodes);
    printf("parameters  %lld trainable (%lld stored values with BatchNorm statistics)\n", m.params, m.stored_values);
    printf("MACs/image  %lld (%.2f M; %.3f GFLOP)\n", m.macs, m.macs / 1e6, 2.0 * m.macs / 1e9);
    printf("gpu         %s\n", gpu);
    if (layers) print_layers(&m);
    model_free(&m);
    return 0;
}
