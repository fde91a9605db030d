// gpu_test_util.h: the GPU suites' common start: without a usable CUDA
// device they print "skipped: no CUDA device" and exit 77 (ctest's
// SKIP_RETURN_CODE), never a pass.
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include "runtime/gpu/gpu_probe.h"

// Returns the device's name, or exits 77 when there is no usable device.
static inline const char *require_gpu_or_skip(void) {
    static char name[256];
    cascade_error err;
    if (gpu_probe(name, sizeof name, &err)) {
        printf("skipped: no CUDA device\n");
        exit(77);
    }
    return name;
}
