// gpu_probe.h: is a usable CUDA device here? Used by host/ to pick the
// backend (GPU when usable, else the CPU with a notice).
#pragma once
#include <stddef.h>
#include "../status.h"

#ifdef __cplusplus
extern "C" {
#endif

// CASCADE_OK and the device's name (e.g. "NVIDIA H100 80GB HBM3", sm_90)
// when device 0 is usable; CASCADE_ENODEV with the reason otherwise.
cascade_status gpu_probe(char *name, size_t cap, cascade_error *err);

#ifdef __cplusplus
}
#endif
