// test_util.h: small helpers shared by the ctest programs: checks that
// count failures, and loading of the golden logits and the test set.
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host/assets.h"
#include "host/cifar.h"
#include "models/model.h"
#include "models/safetensors.h"

static int test_failures = 0;
#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            test_failures++;                                                  \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
        }                                                                     \
    } while (0)

// Loads the zoo model `name` from the assets: 1, or 0 with a failed check.
static inline int load_test_model(const char *name, model *m) {
    char path[1024];
    cascade_error err;
    if (assets_model_path(name, path, sizeof path, &err) || model_load(m, path, NULL, &err)) {
        CHECK(0, "%s: %s", name, err.message);
        return 0;
    }
    return 1;
}

static inline int test_summary(const char *name) {
    if (test_failures) fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
    else printf("%s: all checks passed\n", name);
    return test_failures ? 1 : 0;
}

static inline int argmax10(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) if (v[i] > v[best]) best = i;
    return best;
}

// Loads "<model>.test_logits" (10000 x 10) from the golden file into a malloc'd array.
static inline float *load_golden_logits(const char *model_name, int *count) {
    char path[1024], key[128];
    st_file f;
    cascade_error err;
    if (assets_path("golden/test_logits.safetensors", path, sizeof path, &err) || st_open(&f, path, &err)) { fprintf(stderr, "golden: %s\n", err.message); exit(2); }
    snprintf(key, sizeof key, "%s.test_logits", model_name);
    const st_tensor *t = st_find(&f, key);
    if (!t || t->ndim != 2 || t->shape[1] != 10) { fprintf(stderr, "golden: no %s\n", key); exit(2); }
    float *out = malloc((size_t)t->numel * sizeof(float));
    if (st_to_f32(t, out, &err)) { fprintf(stderr, "golden: %s\n", err.message); exit(2); }
    *count = (int)t->shape[0];
    st_close(&f);
    return out;
}

static inline void open_test_set(cifar_file *f) {
    char path[1024];
    cascade_error err;
    if (assets_path("data/cifar10/test_batch.bin", path, sizeof path, &err) || cifar_open(f, path, &err) || cifar_check_labels(f, 0, f->count, &err)) {
        fprintf(stderr, "test set: %s\n", err.message);
        exit(2);
    }
}
