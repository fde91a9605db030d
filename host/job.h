// job.h: what `run`, `bench`, `sweep` and `calibrate` share: the dataset,
// the models, the processing order and the backend, set up from options.
#pragma once
#include <stdint.h>
#include "cifar.h"
#include "../models/model.h"
#include "../runtime/backend.h"

typedef enum { DEVICE_AUTO, DEVICE_CPU, DEVICE_GPU } device_choice;

// Room for a model as the user names it: a zoo name, or a path of up to 1023
// bytes (the longest assets_model_path takes).
#define MODEL_NAME_CAP 1024

typedef struct {
    uint64_t state;
} seeded_rng;

uint64_t rng_next(seeded_rng *r);
// A uniform random permutation of 0..n-1 (Fisher-Yates, splitmix64 stream).
void shuffled_order(uint32_t *order, int64_t n, uint64_t seed);

typedef struct {
    const cifar_file *data;
    const uint32_t *order; // position -> record
} image_source;

// pipeline fill callback over an image_source.
void image_source_fill(void *source, int64_t first, int n, uint8_t *pixels);

CASCADE_MUST_CHECK cascade_status parse_device(const char *text, device_choice *out, cascade_error *err);

// CASCADE_OK and the device's name when the GPU backend can be used; the
// reason otherwise (no device, one this build cannot use, no GPU backend built).
CASCADE_MUST_CHECK cascade_status gpu_usable(char *name, size_t cap, cascade_error *err);

// Opens the backend for device (auto: GPU when usable, else CPU with a notice
// written into notice). expensive may be NULL. chunk/batch <= 0: defaults
// for the device.
CASCADE_MUST_CHECK cascade_status backend_open(cascade_backend *be, device_choice device, const model *cheap,
                                               const model *expensive, int chunk, int batch, char *notice,
                                               size_t notice_cap, cascade_error *err);
void backend_close(cascade_backend *be);

// Loads a model given by zoo name or path.
CASCADE_MUST_CHECK cascade_status load_named_model(model *m, const char *name, cascade_error *err);
