// gpu_probe.h: is a usable CUDA device here? Used by host/ to pick the
// backend (GPU when usable, else the CPU with a notice), and to describe it.
#pragma once
#include <stddef.h>
#include "../status.h"

#ifdef __cplusplus
extern "C" {
#endif

// CASCADE_OK and the device's name (e.g. "NVIDIA H100 80GB HBM3", sm_90)
// when device 0 is usable; otherwise the reason: CASCADE_ENODEV when there
// is no device (or driver), CASCADE_EDEVICE when device 0 is there but this
// build cannot use it (older than sm_70, or a chip the build has no code for,
// which the message says apart from a device that cannot be opened: busy,
// exclusive to another process, out of memory).
CASCADE_MUST_CHECK cascade_status gpu_probe(char *name, size_t cap, cascade_error *err);

// "driver 13.0, runtime 13.0, cuDNN 9.19.0 (for CUDA 13.0), cuBLAS 13.1.0" for reports.
void gpu_versions(char *out, size_t cap);

// Host-to-device copy rate in GB/s, the ceiling of the cheapest models: the
// median of 5 timed copies of `bytes` (after one warm-up) from `host` (pinned
// here for the measure, then unpinned) or, when host is NULL, from a
// cudaHostAlloc buffer. For `cascade bench`.
CASCADE_MUST_CHECK cascade_status gpu_upload_rate(const void *host, size_t bytes, double *gb_per_s, cascade_error *err);

// Pins [host, host + bytes) (cudaHostRegister) until gpu_unpin_host, so that
// every backend a job opens in turn reads it in place without pinning it
// again (pinning a few GB takes about a second each time). Memory pinned
// already is no failure: *pinned_here (may be NULL) says whether this call
// pinned it, and so whether its caller unpins it.
CASCADE_MUST_CHECK cascade_status gpu_pin_host(const void *host, size_t bytes, int *pinned_here, cascade_error *err);
void gpu_unpin_host(const void *host);

#ifdef __cplusplus
}
#endif
