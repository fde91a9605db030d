// cpu_network.h: the fp32 CPU reference executor of the model IR.
// Activations are NHWC so that every conv is im2col + sgemm over blocks of a
// micro-batch (rows = images x output pixels, columns = output channels);
// the cores each run whole micro-batches (data-parallel, one workspace per
// OpenMP thread), so one network must not run two forwards at once.
// Weights are re-laid out once at creation (conv: (out, kh, kw, in); the
// linear after a flatten: features permuted from C,H,W to H,W,C order). The
// network keeps reading the model's structure and biases, not its weights:
// the model must outlive it, but model_drop_weights may free the weights.
#pragma once
#include <stdint.h>
#include "../../models/model.h"

typedef struct cpu_network cpu_network;

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status cpu_network_create(cpu_network **out, const model *m, cascade_error *err);
// How many workers (OpenMP threads) a network created now runs its micro-batches on.
int cpu_network_workers(void);
// Images per micro-batch: a batch of a multiple of it keeps every worker's
// sgemm the same size, and the results independent of the number of workers.
#define CPU_MICRO_BATCH 16
void cpu_network_destroy(cpu_network *net);
// One worker's workspace, in bytes: the shared activation buffers, the im2col scratch.
typedef struct {
    size_t activations, columns;
} cpu_workspace_bytes;
cpu_workspace_bytes cpu_network_workspace(const cpu_network *net);

// images: n CIFAR records' pixels, 3072 bytes each (1024 R, 1024 G, 1024 B);
// logits: n x num_classes. Normalisation uses the model's mean/std.
CASCADE_MUST_CHECK cascade_status cpu_network_forward_u8(cpu_network *net, const uint8_t *images, int n, float *logits,
                                                         cascade_error *err);

// u8 planar CIFAR -> normalised fp32 NHWC (n x 32 x 32 x 3).
void cpu_preprocess(const uint8_t *images, int n, const float mean[3], const float std[3], float *nhwc);

#ifdef __cplusplus
}
#endif
