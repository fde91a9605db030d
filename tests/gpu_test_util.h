// gpu_test_util.h: the GPU suites' common start: without a usable CUDA
// device they print "skipped: no CUDA device" and exit 77 (ctest's
// SKIP_RETURN_CODE), never a pass; where one is known to be there
// (CASCADE_EXPECT_GPU=1, set by profiling/device_check.sh) that is a failure:
// a card CUDA cannot open (a driver mismatch) must not read as skipped.
// CASCADE_TEST_IMAGES=N runs a suite on the first N test images only
// (compute-sanitizer runs, a quick device check).
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/gpu/gpu_probe.h"

// Returns the device's name; exits 77 when there is no device, 1 when there
// is one this build cannot use (a failure, not a skip: e.g. built for sm_90
// on an sm_80 card).
static inline const char *require_gpu_or_skip(void) {
    static char name[256];
    cascade_error err;
    cascade_status s = gpu_probe(name, sizeof name, &err);
    if (s == CASCADE_ENODEV) {
        const char *expect = getenv("CASCADE_EXPECT_GPU");
        if (!expect || strcmp(expect, "1")) {
            printf("skipped: no CUDA device\n");
            exit(77);
        }
        printf("FAIL: no usable CUDA device, and CASCADE_EXPECT_GPU=1: %s\n", err.message);
        exit(1);
    }
    if (s) {
        printf("FAIL: a CUDA device this build cannot use: %s\n", err.message);
        exit(1);
    }
    return name;
}

// How many of `available` test images a suite uses: all of them, or the
// first CASCADE_TEST_IMAGES when that is set and smaller.
static inline int test_image_limit(int available) {
    const char *env = getenv("CASCADE_TEST_IMAGES");
    int limit = env ? atoi(env) : 0;
    return limit > 0 && limit < available ? limit : available;
}
