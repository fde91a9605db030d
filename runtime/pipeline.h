// pipeline.h: the cascade, written once over the backend primitives.
// A job is a sequence of images at positions 0..total-1 (the host maps
// positions to dataset records, e.g. through a seeded permutation). The
// pipeline keeps n_slots chunks in flight, learns each chunk's deferred
// count one step late, launches the expensive network only on full batches
// and flushes the partial one at the end (or on early stop). Results are
// final for a growing prefix of positions, reported through `progress`.
#pragma once
#include <stdint.h>
#include "backend.h"

typedef struct {
    int32_t *prediction; // per position: the cascade's prediction
    float *confidence;   // per position: confidence of the network that decided
    uint8_t *deferred;   // per position: 1 when the expensive network decided
} cascade_results;

typedef struct {
    cascade_backend *backend;
    double threshold;         // as given: images with confidence < threshold are deferred (cascade_threshold)
    int has_expensive;        // 0: the cheap network alone decides everything
    int64_t total;            // images in the job
    // Writes the pixels of positions first .. first+n-1 (n x 3072 bytes) into pixels.
    void (*fill)(void *ctx, int64_t first, int n, uint8_t *pixels);
    void *fill_ctx;
    // Called after every chunk the cheap network finishes (and at the end):
    // positions [0, done) are final, [0, screened) through the cheap network
    // (decided, or queued for the expensive one: screened - done is bounded by
    // the queue and the batches in flight). Returns nonzero to stop early
    // (in-flight work is drained first).
    int (*progress)(void *ctx, int64_t done, int64_t screened, const cascade_results *results);
    void *progress_ctx;
    volatile int *stop;       // optional: set asynchronously (e.g. by SIGINT) to stop early
    // Optional: the pixels of positions first .. first+n-1 as one contiguous
    // block in memory registered with the backend (backend.h register_host),
    // read in place when the backend supports it; fill is used otherwise.
    const uint8_t *(*chunk_pixels)(void *fill_ctx, int64_t first, int n);
} cascade_job;

typedef struct {
    int64_t processed;        // positions [0, processed) hold final results
    int64_t deferred;         // of which the expensive network decided
    int64_t expensive_batches;
    int complete;             // processed == total
} cascade_summary;

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status cascade_run(const cascade_job *job, cascade_results *results,
                                              cascade_summary *summary, cascade_error *err);

#ifdef __cplusplus
}
#endif
