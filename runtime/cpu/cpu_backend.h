// cpu_backend.h: the backend primitives (backend.h) on the CPU reference
// executor, run synchronously: submit does the work, finish hands it over.
#pragma once
#include "../backend.h"
#include "../../models/model.h"

#ifdef __cplusplus
extern "C" {
#endif

// Default sizes: a chunk of 256 images and an expensive batch of 64, or 32
// per worker where that is more (two micro-batches per core: a batch keeps
// every core busy); multiples of CPU_MICRO_BATCH, so that the predictions
// do not depend on them.
int cpu_backend_default_chunk(void);
int cpu_backend_default_batch(void);

// expensive may be NULL (the cheap network alone). The models must outlive the backend.
CASCADE_MUST_CHECK cascade_status cpu_backend_create(cascade_backend *be, const model *cheap, const model *expensive,
                                                     int chunk_capacity, int expensive_batch, cascade_error *err);

#ifdef __cplusplus
}
#endif
