// gpu_backend.h: the backend primitives (backend.h) on the GPU, asynchronous.
// submit_* enqueue work on the context's streams and return at once;
// finish_* wait on the work's event (one step late: by then the next chunk
// is already queued). Same contract as cpu_backend_create. All device
// buffers of the pipeline come from one arena and all host buffers from one
// pinned allocation, both made here: the primitives allocate nothing and
// never synchronise a whole stream or the device.
#pragma once
#include "../backend.h"
#include "../../models/model.h"

#ifdef __cplusplus
extern "C" {
#endif

// expensive may be NULL (the cheap network alone). The models may be freed
// after this returns. gpu_probe's status without a usable CUDA device,
// CASCADE_ENOMEM (naming the chunk/batch size) when the buffers or networks
// do not fit, CASCADE_EINVAL for bad sizes or models whose input
// normalisations differ (the queue holds the cheap network's normalised input).
// After any failed primitive the backend is unusable (later calls fail); destroy it.
CASCADE_MUST_CHECK cascade_status gpu_backend_create(cascade_backend *be, const model *cheap, const model *expensive,
                                                     int chunk_capacity, int expensive_batch, cascade_error *err);

#ifdef __cplusplus
}
#endif
