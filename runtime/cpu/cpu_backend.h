// cpu_backend.h: the backend primitives (backend.h) on the CPU reference
// executor, run synchronously: submit does the work, finish hands it over.
#pragma once
#include "../backend.h"
#include "../../models/model.h"

#ifdef __cplusplus
extern "C" {
#endif

// expensive may be NULL (the cheap network alone). The models must outlive the backend.
cascade_status cpu_backend_create(cascade_backend *be, const model *cheap, const model *expensive,
                                  int chunk_capacity, int expensive_batch, cascade_error *err);

#ifdef __cplusplus
}
#endif
