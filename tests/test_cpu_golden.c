// test_cpu_golden.c: the CPU reference backend against PyTorch's fp32 logits.
// For all six zoo models on the first N test images (argv[1], default 256):
// per-image relative L2 error <= 1e-3 and the same argmax on every image;
// each worker's activation buffers no more than the most that is ever live
// at once (tensors share them: one buffer per tensor was 66 MB for
// resnet34) and its whole workspace at most 32 MB (convs run im2col in
// blocks: a whole micro-batch's im2col was another 38 MB).
#include "test_util.h"
#include "host/blas_tune.h"
#include "models/model.h"
#include "runtime/cpu/cpu_network.h"
#include <math.h>

// The most bytes of activations live at once in a micro-batch: at node i, its
// output and every tensor written before it and read at i or later.
static double peak_live_activations(const model *m) {
    int last_read[MODEL_MAX_NODES + 1], written[MODEL_MAX_NODES + 1];
    for (int t = 0; t < m->n_tensors; t++) last_read[t] = -1, written[t] = -1;
    for (int i = 0; i < m->n_nodes; i++) {
        last_read[m->nodes[i].input] = i, written[m->nodes[i].output] = i;
        if (m->nodes[i].residual >= 0) last_read[m->nodes[i].residual] = i;
    }
    double peak = 0;
    for (int i = 0; i < m->n_nodes; i++) {
        double live = 0;
        for (int t = 0; t < m->n_tensors; t++)
            if (t == m->nodes[i].output || (written[t] < i && last_read[t] >= i)) live += (double)tensor_numel(m->tensors[t]);
        if (live > peak) peak = live;
    }
    return peak * CPU_MICRO_BATCH * sizeof(float);
}

static void check_model(const char *name, const cifar_file *data, int n) {
    char path[1024];
    cascade_error err;
    model m;
    CHECK(!assets_model_path(name, path, sizeof path, &err), "%s", err.message);
    if (model_load(&m, path, NULL, &err)) { CHECK(0, "%s", err.message); return; }
    cpu_network *net;
    if (cpu_network_create(&net, &m, &err)) { CHECK(0, "%s", err.message); model_free(&m); return; }
    uint8_t *pixels = malloc((size_t)n * CIFAR_PIXELS);
    float *logits = malloc((size_t)n * 10 * sizeof(float));
    for (int i = 0; i < n * 10; i++) logits[i] = NAN; // poison
    cifar_copy(data, 0, n, pixels, NULL);
    CHECK(!cpu_network_forward_u8(net, pixels, n, logits, &err), "%s", err.message);
    int golden_n;
    float *golden = load_golden_logits(name, &golden_n);
    double worst = 0;
    int argmax_diff = 0;
    for (int i = 0; i < n && i < golden_n; i++) {
        double diff = 0, norm = 0;
        for (int k = 0; k < 10; k++) {
            double d = logits[i * 10 + k] - golden[i * 10 + k];
            diff += d * d;
            norm += golden[i * 10 + k] * golden[i * 10 + k];
        }
        double rel = sqrt(diff) / (sqrt(norm) + 1e-12);
        if (!(rel <= worst)) worst = isnan(rel) ? INFINITY : rel;
        argmax_diff += argmax10(logits + i * 10, 10) != argmax10(golden + i * 10, 10);
    }
    cpu_workspace_bytes work = cpu_network_workspace(net);
    double peak = peak_live_activations(&m), total = (double)work.activations + (double)work.columns;
    printf("%-18s n=%d  max rel L2 err %.3g  argmax mismatches %d  workspace %.1f MB per worker "
           "(activations %.1f, most live at once %.1f; im2col %.1f)\n", name, n, worst, argmax_diff, total / 1e6,
           work.activations / 1e6, peak / 1e6, work.columns / 1e6);
    CHECK(worst <= 1e-3, "%s: max relative error %.3g > 1e-3", name, worst);
    CHECK(argmax_diff == 0, "%s: %d argmax mismatches", name, argmax_diff);
    CHECK(work.activations <= peak, "%s: activation buffers %.1f MB, more than the %.1f MB live at once", name,
          work.activations / 1e6, peak / 1e6);
    CHECK(total <= 32e6, "%s: workspace %.1f MB per worker, over 32 MB", name, total / 1e6);
    free(golden), free(pixels), free(logits);
    cpu_network_destroy(net);
    model_free(&m);
}

int main(int argc, char **argv) {
    blas_tune_reexec(argv);
    int n = argc > 1 ? atoi(argv[1]) : 256;
    cifar_file data;
    open_test_set(&data);
    if (n > data.count) n = data.count;
    for (int i = 0; model_arch_names[i]; i++) check_model(model_arch_names[i], &data, n);
    cifar_close(&data);
    return test_summary("cpu_golden");
}
