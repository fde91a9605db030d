// bench_data.h: the benchmark's input — a CIFAR file replicated to N
// images in a seeded random order, materialised once in host memory, so
// a run measures the pipeline, not the dataset reader.
#pragma once
#include <stdint.h>
#include "cifar.h"

typedef struct {
    int64_t count;
    uint8_t *pixels; // count x 3072
    uint8_t *labels; // count
} bench_data;

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status bench_data_make(bench_data *d, const cifar_file *source, int64_t count, uint64_t seed,
                                                  cascade_error *err);
void bench_data_free(bench_data *d);
// pipeline fill callback: contiguous copy of positions [first, first + n).
void bench_data_fill(void *data, int64_t first, int n, uint8_t *pixels);
// pipeline chunk_pixels callback: positions [first, first + n) read in place.
const uint8_t *bench_data_chunk(void *data, int64_t first, int n);

#ifdef __cplusplus
}
#endif
