// gpu_backend.c: the backend primitives on streams and events (see gpu_backend.h).
//
// Chunk c uses slot s = c mod GPU_SLOTS (the pipeline picks s). Per chunk:
//   copy      : wait consumed[s] -> H2D pixels_host[s] -> pixels_dev[s] -> record uploaded[s]
//   cheap     : wait uploaded[s] -> preprocess pixels_dev[s] into the cheap net's input -> record consumed[s]
//               -> cheap forward -> confidence + compaction -> [gather the deferred images from the
//               cheap net's input into the queue ring, advance the device tail] -> D2H results[s]
//               -> record done[s]
//   finish_chunk(s): cudaEventSynchronize(done[s]); by then chunk c+1 is already queued.
// The cheap net's input is overwritten by the next chunk's preprocess, which the
// cheap stream orders after this chunk's gather.
//
// Expensive batch k uses buffer b = k mod GPU_RESULT_BUFFERS, stream expensive:
//   take ring[head, head+n) into the expensive net's input -> record taken[b] -> expensive forward
//   -> confidence -> D2H results[b] -> record done[b];  finish_expensive: cudaEventSynchronize(done[b]).
// The take reads only images appended by chunks the host has already
// finished (cudaEventSynchronize'd), so it needs no event from the cheap
// stream; being on the expensive stream, it runs after the previous
// expensive forward has consumed the input buffer. The ring is never
// shifted: taking is head += n on the host. An append must not overwrite a
// ring slot whose take has not run yet: the ring holds 3 * expensive_batch +
// GPU_SLOTS * chunk_capacity images, more than pipeline.c can ever have live
// (< expensive_batch queued + GPU_SLOTS chunks in flight + 2 batches not yet
// taken), and submit_chunk still makes the cheap stream wait for a batch's
// taken event whenever the bound says an append could reach its slots.
#include "gpu_backend.h"
#include "gpu_check.h"
#include "gpu_context.h"
#include "gpu_network.h"
#include "gpu_probe.h"
#include "../../kernels/confidence.cuh"
#include "../../kernels/gather.cuh"
#include "../../kernels/preprocess.cuh"
#include "../../kernels/queue_take.cuh"
#include <nvtx3/nvToolsExt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GPU_SLOTS 3                // chunks in flight
#define GPU_RESULT_BUFFERS 3       // expensive result buffers: 2 in flight + the one last handed back
#define GPU_EXPENSIVE_IN_FLIGHT 2  // backend.h: at most 2 expensive batches submitted and not finished
#define IMAGE_PIXELS 3072          // uint8 per CIFAR image, and fp16 values per NHWC image
#define ARENA_ALIGN 256

// A result block, host (pinned) and device alike: [deferred count | prediction | confidence | deferred].
typedef struct {
    size_t count, prediction, confidence, deferred, bytes; // byte offsets, total size
} result_layout;

typedef struct {
    uint8_t *pixels_host;  // pinned (chunk_capacity, 3072)
    const uint8_t *source; // registered caller memory to upload from instead (set_chunk_source), or NULL
    uint8_t *pixels_dev;   // (chunk_capacity, 3072)
    uint8_t *results_host; // pinned, chunk_layout
    uint8_t *results_dev;  // chunk_layout
    cudaEvent_t uploaded;  // copy stream: pixels_dev holds the chunk
    cudaEvent_t consumed;  // cheap stream: preprocess has read pixels_dev
    cudaEvent_t done;      // cheap stream: results downloaded, deferred images appended
    int n;
    long long sequence;    // submission number of the chunk in the slot
    int in_flight;
} gpu_slot;

typedef struct {
    uint8_t *results_host; // pinned, expensive_layout
    uint8_t *results_dev;  // expensive_layout
    cudaEvent_t taken;     // expensive stream: the batch's images are out of the ring
    cudaEvent_t done;      // expensive stream: results downloaded
    long long head;        // queue position of the batch's first image
    int n;
} gpu_batch;

typedef struct {
    gpu_context ctx;
    gpu_network *cheap_net, *expensive_net;
    int chunk_capacity, expensive_batch;
    int cheap_classes, expensive_classes;
    float scale[3], shift[3]; // the normalisation (preprocess.cuh)
    void *device_arena, *host_arena;
    result_layout chunk_layout, expensive_layout;
    gpu_slot slots[GPU_SLOTS];
    int32_t *deferred_index;  // (chunk_capacity): the chunk on the cheap stream's compaction
    int32_t *tile_counts;     // compaction scratch
    // The expensive queue: a ring of fp16 NHWC images. Positions count every
    // image ever appended; position p lives in slot p % queue_capacity.
    void *queue;              // (queue_capacity, 32, 32, 3) fp16
    long long queue_capacity;
    long long *queue_tail;    // device: images ever appended (advanced by the gather, cheap stream)
    long long queue_head;     // images ever taken by expensive batches
    long long queue_known;    // appended by finished chunks: the device tail after the last finished chunk
    long long queue_pending;  // images in submitted, unfinished chunks: a bound on what they append
    long long chunks_submitted, chunks_finished;
    gpu_batch batches[GPU_RESULT_BUFFERS];
    long long batches_submitted, batches_finished;
    int broken;               // a primitive failed (the device's state unknown) or refused (the pipeline's
                              // queue and the device's may disagree): refuse further calls; set by the wrappers
    const void *pinned;       // caller memory register_host pinned (not what the caller pinned itself)
} gpu_backend;

// Runs one enqueue stage inside an NVTX range; returns from the caller on failure.
#define STAGE(name, call)                                                                                 \
    do {                                                                                                  \
        nvtxRangePushA(name);                                                                             \
        cascade_status stage_status_ = (call);                                                            \
        nvtxRangePop();                                                                                   \
        if (stage_status_) return stage_status_;                                                          \
    } while (0)

static size_t align_up(size_t x) { return (x + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN; }

static size_t carve(size_t *used, size_t bytes) {
    size_t at = align_up(*used);
    *used = at + bytes;
    return at;
}

static result_layout make_result_layout(int n) {
    result_layout l;
    l.count = 0;
    l.prediction = align_up(sizeof(int32_t));
    l.confidence = align_up(l.prediction + (size_t)n * sizeof(int32_t));
    l.deferred = align_up(l.confidence + (size_t)n * sizeof(float));
    l.bytes = align_up(l.deferred + (size_t)n);
    return l;
}

static int32_t *count_at(const result_layout *l, uint8_t *block) { return (int32_t *)(block + l->count); }
static int32_t *prediction_at(const result_layout *l, uint8_t *block) { return (int32_t *)(block + l->prediction); }
static float *confidence_at(const result_layout *l, uint8_t *block) { return (float *)(block + l->confidence); }
static uint8_t *deferred_at(const result_layout *l, uint8_t *block) { return block + l->deferred; }

static cascade_status refuse_broken(cascade_error *err) {
    return cascade_fail(err, CASCADE_EDEVICE, "GPU backend unusable after an earlier failure");
}

// ---- chunks ----------------------------------------------------------------

static uint8_t *gpu_chunk_images(void *impl, int slot) {
    gpu_backend *g = impl;
    return slot >= 0 && slot < GPU_SLOTS ? g->slots[slot].pixels_host : NULL;
}

// Caller memory that chunks are uploaded from in place (backend.h register_host):
// pinned once, unless the caller pinned it already (gpu_pin_host: a bench
// pins its images once for all its backends).
static cascade_status gpu_register_host(void *impl, const void *base, size_t bytes, cascade_error *err) {
    gpu_backend *g = impl;
    if (g->pinned && g->pinned != base) // one range at a time: the first would stay pinned, unknown
        return cascade_fail(err, CASCADE_EINVAL, "register_host: another range is registered; unregister it first");
    int pinned_here = 0;
    cascade_status s = gpu_pin_host(base, bytes, &pinned_here, err);
    if (pinned_here) g->pinned = base;
    return s;
}

// After an error the pipeline stops with chunks perhaps still uploading from
// this memory: every stream is drained before it is unpinned.
static void gpu_unregister_host(void *impl, const void *base) {
    gpu_backend *g = impl;
    for (int i = 0; i < GPU_SLOTS; i++) g->slots[i].source = NULL;
    cudaStream_t streams[3] = {g->ctx.copy, g->ctx.cheap.stream, g->ctx.expensive.stream};
    for (int i = 0; i < 3; i++)
        if (streams[i] && cudaStreamSynchronize(streams[i]) != cudaSuccess) g->broken = 1;
    if (base != g->pinned) return; // the caller's own pinning stays
    g->pinned = NULL;
    if (cudaHostUnregister((void *)base) != cudaSuccess) g->broken = 1; // the next primitive reports it
}

static void gpu_set_chunk_source(void *impl, int slot, const uint8_t *pixels) {
    gpu_backend *g = impl;
    if (slot >= 0 && slot < GPU_SLOTS) g->slots[slot].source = pixels;
}

static cascade_status enqueue_upload(gpu_backend *g, gpu_slot *slot, int n, cascade_error *err) {
    cudaStream_t copy = g->ctx.copy;
    CUDA_CHECK(cudaStreamWaitEvent(copy, slot->consumed, 0)); // the slot's previous chunk was preprocessed
    const uint8_t *pixels = slot->source ? slot->source : slot->pixels_host;
    CUDA_CHECK(cudaMemcpyAsync(slot->pixels_dev, pixels, (size_t)n * IMAGE_PIXELS, cudaMemcpyHostToDevice, copy));
    CUDA_CHECK(cudaEventRecord(slot->uploaded, copy));
    return CASCADE_OK;
}

static cascade_status enqueue_preprocess(gpu_backend *g, gpu_slot *slot, int n, cascade_error *err) {
    cudaStream_t cheap = g->ctx.cheap.stream;
    CUDA_CHECK(cudaStreamWaitEvent(cheap, slot->uploaded, 0));
    preprocess_params p = {.pixels = slot->pixels_dev, .nhwc = gpu_network_input(g->cheap_net), .n = n};
    memcpy(p.scale, g->scale, sizeof p.scale);
    memcpy(p.shift, g->shift, sizeof p.shift);
    CUDA_CHECK(preprocess_launch(&p, cheap));
    CUDA_CHECK(cudaEventRecord(slot->consumed, cheap)); // pixels_dev may now take the slot's next chunk
    return CASCADE_OK;
}

static cascade_status enqueue_chunk_confidence(gpu_backend *g, gpu_slot *slot, int n, float threshold,
                                               cascade_error *err) {
    const result_layout *l = &g->chunk_layout;
    confidence_params p = {
        .logits = gpu_network_logits(g->cheap_net),
        .n = n,
        .classes = g->cheap_classes,
        .prediction = prediction_at(l, slot->results_dev),
        .confidence = confidence_at(l, slot->results_dev),
        .deferred = deferred_at(l, slot->results_dev),
        .defer = g->expensive_net != NULL,
        .threshold = threshold,
        .deferred_index = g->deferred_index,
        .deferred_count = count_at(l, slot->results_dev),
        .tile_counts = g->tile_counts,
    };
    CUDA_CHECK(confidence_launch(&p, g->ctx.cheap.stream));
    return CASCADE_OK;
}

// Ring space: positions [tail, tail + count) are written, with tail + count
// <= bound. Batch j reads positions [head_j, head_j + n_j); an append at
// position p >= head_j + capacity would land in one of its slots, so the
// cheap stream first waits for batch j's take when bound > head_j + capacity.
static cascade_status enqueue_gather(gpu_backend *g, gpu_slot *slot, int n, long long bound, cascade_error *err) {
    cudaStream_t cheap = g->ctx.cheap.stream;
    for (long long k = g->batches_finished; k < g->batches_submitted; k++) {
        gpu_batch *b = &g->batches[k % GPU_RESULT_BUFFERS];
        if (bound > b->head + g->queue_capacity) CUDA_CHECK(cudaStreamWaitEvent(cheap, b->taken, 0));
    }
    gather_params p = {
        .images = gpu_network_input(g->cheap_net),
        .deferred_index = g->deferred_index,
        .deferred_count = count_at(&g->chunk_layout, slot->results_dev),
        .max_count = n,
        .queue = g->queue,
        .capacity = g->queue_capacity,
        .queue_tail = g->queue_tail,
    };
    CUDA_CHECK(gather_launch(&p, cheap));
    return CASCADE_OK;
}

static cascade_status enqueue_chunk_download(gpu_backend *g, gpu_slot *slot, int n, cascade_error *err) {
    cudaStream_t cheap = g->ctx.cheap.stream;
    // One copy: the count, then prediction and confidence (full capacity), then n deferred flags.
    size_t bytes = g->chunk_layout.deferred + (size_t)n;
    CUDA_CHECK(cudaMemcpyAsync(slot->results_host, slot->results_dev, bytes, cudaMemcpyDeviceToHost, cheap));
    CUDA_CHECK(cudaEventRecord(slot->done, cheap));
    return CASCADE_OK;
}

static cascade_status submit_chunk(gpu_backend *g, int slot_id, int n, float threshold, cascade_error *err) {
    if (slot_id < 0 || slot_id >= GPU_SLOTS || n < 0 || n > g->chunk_capacity)
        return cascade_fail(err, CASCADE_EINVAL, "internal: bad chunk submission (slot %d, %d images of %d)",
                            slot_id, n, g->chunk_capacity);
    gpu_slot *slot = &g->slots[slot_id];
    if (slot->in_flight)
        return cascade_fail(err, CASCADE_EINVAL, "internal: chunk slot %d submitted again before it was finished",
                            slot_id);
    long long bound = g->queue_known + g->queue_pending + n; // device tail after this chunk is at most this
    if (g->expensive_net && bound - g->queue_head > g->queue_capacity)
        return cascade_fail(err, CASCADE_EINVAL, "internal: expensive queue overflow (%lld images, capacity %lld)",
                            bound - g->queue_head, g->queue_capacity);

    STAGE("upload", enqueue_upload(g, slot, n, err));
    STAGE("preprocess", enqueue_preprocess(g, slot, n, err));
    STAGE("cheap forward", gpu_network_forward(g->cheap_net, err));
    STAGE("confidence", enqueue_chunk_confidence(g, slot, n, threshold, err));
    if (g->expensive_net) STAGE("gather", enqueue_gather(g, slot, n, bound, err));
    STAGE("download", enqueue_chunk_download(g, slot, n, err));

    slot->n = n;
    slot->sequence = g->chunks_submitted++;
    slot->in_flight = 1;
    if (g->expensive_net) g->queue_pending += n;
    return CASCADE_OK;
}

static cascade_status gpu_submit_chunk(void *impl, int slot, int n, float threshold, cascade_error *err) {
    gpu_backend *g = impl;
    if (g->broken) return refuse_broken(err);
    nvtxRangePushA("submit_chunk");
    cascade_status s = submit_chunk(g, slot, n, threshold, err);
    nvtxRangePop();
    if (s) g->broken = 1;
    return s;
}

static cascade_status finish_chunk(gpu_backend *g, int slot_id, chunk_result *out, cascade_error *err) {
    if (slot_id < 0 || slot_id >= GPU_SLOTS || !g->slots[slot_id].in_flight ||
        g->slots[slot_id].sequence != g->chunks_finished)
        return cascade_fail(err, CASCADE_EINVAL, "internal: chunk slot %d finished out of order", slot_id);
    gpu_slot *slot = &g->slots[slot_id];
    const result_layout *l = &g->chunk_layout;
    CUDA_CHECK(cudaEventSynchronize(slot->done));
    int n_deferred = *count_at(l, slot->results_host), flagged = 0;
    const uint8_t *deferred = deferred_at(l, slot->results_host);
    for (int i = 0; i < slot->n; i++) flagged += deferred[i] != 0;
    // The pipeline queues positions by the flags, the device by the count: they must agree.
    if (n_deferred != flagged || (!g->expensive_net && n_deferred))
        return cascade_fail(err, CASCADE_EDEVICE, "internal: chunk of %d images reports %d deferred but flags %d",
                            slot->n, n_deferred, flagged);
    if (g->expensive_net) {
        g->queue_known += n_deferred;
        g->queue_pending -= slot->n;
    }
    slot->in_flight = 0;
    g->chunks_finished++;
    *out = (chunk_result){
        .n = slot->n,
        .n_deferred = n_deferred,
        .prediction = prediction_at(l, slot->results_host),
        .confidence = confidence_at(l, slot->results_host),
        .deferred = deferred_at(l, slot->results_host),
    };
    return CASCADE_OK;
}

static cascade_status gpu_finish_chunk(void *impl, int slot, chunk_result *out, cascade_error *err) {
    gpu_backend *g = impl;
    if (g->broken) return refuse_broken(err);
    nvtxRangePushA("finish_chunk");
    cascade_status s = finish_chunk(g, slot, out, err);
    nvtxRangePop();
    if (s) g->broken = 1;
    return s;
}

// ---- expensive batches -------------------------------------------------------

static cascade_status enqueue_take(gpu_backend *g, gpu_batch *b, int n, cascade_error *err) {
    cudaStream_t expensive = g->ctx.expensive.stream;
    queue_take_params p = {
        .queue = g->queue,
        .capacity = g->queue_capacity,
        .head = g->queue_head,
        .n = n,
        .batch = gpu_network_input(g->expensive_net),
    };
    CUDA_CHECK(queue_take_launch(&p, expensive));
    CUDA_CHECK(cudaEventRecord(b->taken, expensive));
    return CASCADE_OK;
}

static cascade_status enqueue_expensive_confidence(gpu_backend *g, gpu_batch *b, int n, cascade_error *err) {
    const result_layout *l = &g->expensive_layout;
    confidence_params p = {
        .logits = gpu_network_logits(g->expensive_net), // rows past n belong to no image
        .n = n,
        .classes = g->expensive_classes,
        .prediction = prediction_at(l, b->results_dev),
        .confidence = confidence_at(l, b->results_dev),
    };
    CUDA_CHECK(confidence_launch(&p, g->ctx.expensive.stream));
    return CASCADE_OK;
}

static cascade_status enqueue_expensive_download(gpu_backend *g, gpu_batch *b, int n, cascade_error *err) {
    cudaStream_t expensive = g->ctx.expensive.stream;
    size_t bytes = g->expensive_layout.confidence + (size_t)n * sizeof(float);
    CUDA_CHECK(cudaMemcpyAsync(b->results_host, b->results_dev, bytes, cudaMemcpyDeviceToHost, expensive));
    CUDA_CHECK(cudaEventRecord(b->done, expensive));
    return CASCADE_OK;
}

static cascade_status submit_expensive(gpu_backend *g, int n, cascade_error *err) {
    if (!g->expensive_net)
        return cascade_fail(err, CASCADE_EINVAL, "internal: expensive batch submitted without an expensive network");
    if (n < 1 || n > g->expensive_batch || n > g->queue_known - g->queue_head)
        return cascade_fail(err, CASCADE_EINVAL,
                            "internal: expensive batch of %d (batch size %d, %lld queued by finished chunks)", n,
                            g->expensive_batch, g->queue_known - g->queue_head);
    if (g->batches_submitted - g->batches_finished >= GPU_EXPENSIVE_IN_FLIGHT)
        return cascade_fail(err, CASCADE_EINVAL, "internal: more than %d expensive batches in flight",
                            GPU_EXPENSIVE_IN_FLIGHT);
    gpu_batch *b = &g->batches[g->batches_submitted % GPU_RESULT_BUFFERS];
    STAGE("queue take", enqueue_take(g, b, n, err));
    STAGE("expensive forward", gpu_network_forward(g->expensive_net, err));
    STAGE("confidence", enqueue_expensive_confidence(g, b, n, err));
    STAGE("download", enqueue_expensive_download(g, b, n, err));
    b->head = g->queue_head;
    b->n = n;
    g->queue_head += n;
    g->batches_submitted++;
    return CASCADE_OK;
}

static cascade_status gpu_submit_expensive(void *impl, int n, cascade_error *err) {
    gpu_backend *g = impl;
    if (g->broken) return refuse_broken(err);
    nvtxRangePushA("submit_expensive");
    cascade_status s = submit_expensive(g, n, err);
    nvtxRangePop();
    if (s) g->broken = 1;
    return s;
}

static cascade_status finish_expensive(gpu_backend *g, expensive_result *out, cascade_error *err) {
    if (g->batches_finished == g->batches_submitted)
        return cascade_fail(err, CASCADE_EINVAL, "internal: no expensive batch to finish");
    gpu_batch *b = &g->batches[g->batches_finished % GPU_RESULT_BUFFERS];
    const result_layout *l = &g->expensive_layout;
    CUDA_CHECK(cudaEventSynchronize(b->done));
    g->batches_finished++;
    *out = (expensive_result){
        .n = b->n,
        .prediction = prediction_at(l, b->results_host),
        .confidence = confidence_at(l, b->results_host),
    };
    return CASCADE_OK;
}

static cascade_status gpu_finish_expensive(void *impl, expensive_result *out, cascade_error *err) {
    gpu_backend *g = impl;
    if (g->broken) return refuse_broken(err);
    nvtxRangePushA("finish_expensive");
    cascade_status s = finish_expensive(g, out, err);
    nvtxRangePop();
    if (s) g->broken = 1;
    return s;
}

static int gpu_expensive_ready(void *impl) {
    gpu_backend *g = impl;
    if (g->broken || g->batches_finished == g->batches_submitted) return 0;
    cudaError_t e = cudaEventQuery(g->batches[g->batches_finished % GPU_RESULT_BUFFERS].done);
    if (e == cudaErrorNotReady) (void)cudaGetLastError(); // not an error: no later launch's check may see it
    return e != cudaErrorNotReady; // done, or failed: finish_expensive then reports the error
}

// ---- create / destroy ----------------------------------------------------------

static void destroy_event(cudaEvent_t e) {
    if (e) CUDA_TEARDOWN_CHECK(cudaEventDestroy(e));
}

static void gpu_destroy(void *impl) {
    gpu_backend *g = impl;
    if (!g) return;
    nvtxRangePushA("gpu_backend destroy");
    // Everything enqueued must be done before its buffers go.
    if (g->ctx.copy) CUDA_TEARDOWN_CHECK(cudaStreamSynchronize(g->ctx.copy));
    if (g->ctx.cheap.stream) CUDA_TEARDOWN_CHECK(cudaStreamSynchronize(g->ctx.cheap.stream));
    if (g->ctx.expensive.stream) CUDA_TEARDOWN_CHECK(cudaStreamSynchronize(g->ctx.expensive.stream));
    if (g->pinned) CUDA_TEARDOWN_CHECK(cudaHostUnregister((void *)g->pinned)); // not unregistered by its caller
    if (g->cheap_net) gpu_network_destroy(g->cheap_net);
    if (g->expensive_net) gpu_network_destroy(g->expensive_net);
    for (int i = 0; i < GPU_SLOTS; i++) {
        destroy_event(g->slots[i].uploaded);
        destroy_event(g->slots[i].consumed);
        destroy_event(g->slots[i].done);
    }
    for (int i = 0; i < GPU_RESULT_BUFFERS; i++) {
        destroy_event(g->batches[i].taken);
        destroy_event(g->batches[i].done);
    }
    if (g->device_arena) CUDA_TEARDOWN_CHECK(cudaFree(g->device_arena));
    if (g->host_arena) CUDA_TEARDOWN_CHECK(cudaFreeHost(g->host_arena));
    gpu_context_destroy(&g->ctx);
    nvtxRangePop();
    free(g);
}

// One network at `batch` on `lane`; *net stays NULL on failure.
static cascade_status create_network(gpu_network **net, const model *m, int batch, const gpu_lane *lane,
                                     const char *role, cascade_error *err) {
    cascade_status s = gpu_network_create(net, m, batch, lane, err);
    if (s) {
        *net = NULL;
        cascade_error_prefix(err, role);
        return s;
    }
    if (gpu_network_batch(*net) != batch)
        return cascade_fail(err, CASCADE_EINVAL, "internal: %s built for %d images, not %d", role,
                            gpu_network_batch(*net), batch);
    return CASCADE_OK;
}

static cascade_status create_networks(gpu_backend *g, const model *cheap, const model *expensive,
                                      cascade_error *err) {
    cascade_status s = create_network(&g->cheap_net, cheap, g->chunk_capacity, &g->ctx.cheap, "cheap network", err);
    if (s || !expensive) return s;
    return create_network(&g->expensive_net, expensive, g->expensive_batch, &g->ctx.expensive, "expensive network",
                          err);
}

// One device arena and one pinned host block for every pipeline buffer.
static cascade_status allocate_buffers(gpu_backend *g, cascade_error *err) {
    int chunk = g->chunk_capacity, batch = g->expensive_batch, with_queue = g->expensive_net != NULL;
    g->chunk_layout = make_result_layout(chunk);
    g->expensive_layout = make_result_layout(with_queue ? batch : 0);
    g->queue_capacity = with_queue ? 3LL * batch + (long long)GPU_SLOTS * chunk : 0;

    size_t dev = 0, host = 0;
    size_t pixels_dev[GPU_SLOTS], results_dev[GPU_SLOTS], pixels_host[GPU_SLOTS], results_host[GPU_SLOTS];
    size_t batch_dev[GPU_RESULT_BUFFERS] = {0}, batch_host[GPU_RESULT_BUFFERS] = {0};
    for (int i = 0; i < GPU_SLOTS; i++) {
        pixels_dev[i] = carve(&dev, (size_t)chunk * IMAGE_PIXELS);
        results_dev[i] = carve(&dev, g->chunk_layout.bytes);
        pixels_host[i] = carve(&host, (size_t)chunk * IMAGE_PIXELS);
        results_host[i] = carve(&host, g->chunk_layout.bytes);
    }
    size_t deferred_index = carve(&dev, (size_t)chunk * sizeof(int32_t));
    size_t tile_counts = carve(&dev, (size_t)CONFIDENCE_SCRATCH_INTS(chunk) * sizeof(int32_t));
    size_t queue = 0, queue_tail = 0;
    if (with_queue) {
        queue = carve(&dev, (size_t)g->queue_capacity * IMAGE_PIXELS * 2);
        queue_tail = carve(&dev, sizeof(long long));
        for (int i = 0; i < GPU_RESULT_BUFFERS; i++) {
            batch_dev[i] = carve(&dev, g->expensive_layout.bytes);
            batch_host[i] = carve(&host, g->expensive_layout.bytes);
        }
    }
    dev = align_up(dev), host = align_up(host);

    void *device_arena = NULL, *host_arena = NULL;
    cudaError_t e = cudaMalloc(&device_arena, dev);
    if (e != cudaSuccess) {
        (void)cudaGetLastError(); // not sticky: clear it so that later launch checks do not see it
        return cascade_fail(err, e == cudaErrorMemoryAllocation ? CASCADE_ENOMEM : CASCADE_EDEVICE,
                            "cannot allocate %.2f GiB of device memory for the pipeline buffers (chunk %d, "
                            "expensive batch %d, queue %lld images): %s",
                            dev / 1073741824.0, chunk, batch, g->queue_capacity, cudaGetErrorString(e));
    }
    g->device_arena = device_arena;
    e = cudaHostAlloc(&host_arena, host, cudaHostAllocDefault);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return cascade_fail(err, e == cudaErrorMemoryAllocation ? CASCADE_ENOMEM : CASCADE_EDEVICE,
                            "cannot allocate %.2f GiB of pinned host memory (chunk %d, expensive batch %d): %s",
                            host / 1073741824.0, chunk, batch, cudaGetErrorString(e));
    }
    g->host_arena = host_arena;

    uint8_t *d = device_arena, *h = host_arena;
    for (int i = 0; i < GPU_SLOTS; i++) {
        g->slots[i].pixels_dev = d + pixels_dev[i];
        g->slots[i].results_dev = d + results_dev[i];
        g->slots[i].pixels_host = h + pixels_host[i];
        g->slots[i].results_host = h + results_host[i];
    }
    g->deferred_index = (int32_t *)(d + deferred_index);
    g->tile_counts = (int32_t *)(d + tile_counts);
    if (with_queue) {
        g->queue = d + queue;
        g->queue_tail = (long long *)(d + queue_tail);
        for (int i = 0; i < GPU_RESULT_BUFFERS; i++) {
            g->batches[i].results_dev = d + batch_dev[i];
            g->batches[i].results_host = h + batch_host[i];
        }
    }
    return CASCADE_OK;
}

static cascade_status create_events(gpu_backend *g, cascade_error *err) {
    cascade_status s = CASCADE_OK;
    for (int i = 0; i < GPU_SLOTS && !s; i++) {
        gpu_slot *slot = &g->slots[i];
        if (!s) s = gpu_event_create(&slot->uploaded, err);
        if (!s) s = gpu_event_create(&slot->consumed, err);
        if (!s) s = gpu_event_create(&slot->done, err);
    }
    for (int i = 0; i < GPU_RESULT_BUFFERS && !s && g->expensive_net; i++) {
        if (!s) s = gpu_event_create(&g->batches[i].taken, err);
        if (!s) s = gpu_event_create(&g->batches[i].done, err);
    }
    return s;
}

// Defined contents before the first chunk: network inputs zeroed (rows past
// a partial chunk or batch are computed and ignored; zeros keep them finite),
// the queue empty. The only synchronisation of the backend's life besides destroy.
static cascade_status initialise(gpu_backend *g, cascade_error *err) {
    cudaStream_t cheap = g->ctx.cheap.stream, expensive = g->ctx.expensive.stream;
    CUDA_CHECK(cudaMemsetAsync(gpu_network_input(g->cheap_net), 0, (size_t)g->chunk_capacity * IMAGE_PIXELS * 2, cheap));
    if (g->expensive_net) {
        CUDA_CHECK(cudaMemsetAsync(g->queue_tail, 0, sizeof(long long), cheap));
        CUDA_CHECK(cudaMemsetAsync(gpu_network_input(g->expensive_net), 0,
                                   (size_t)g->expensive_batch * IMAGE_PIXELS * 2, expensive));
        CUDA_CHECK(cudaStreamSynchronize(expensive));
    }
    CUDA_CHECK(cudaStreamSynchronize(cheap));
    return CASCADE_OK;
}

static int same_normalisation(const model *a, const model *b) {
    for (int c = 0; c < 3; c++)
        if (a->mean[c] != b->mean[c] || a->std[c] != b->std[c]) return 0;
    return 1;
}

cascade_status gpu_backend_create(cascade_backend *be, const model *cheap, const model *expensive,
                                  int chunk_capacity, int expensive_batch, cascade_error *err) {
    if (!be || !cheap) return cascade_fail(err, CASCADE_EINVAL, "gpu_backend_create: no backend or cheap model");
    if (chunk_capacity < 1 || (expensive && expensive_batch < 1))
        return cascade_fail(err, CASCADE_EINVAL, "batch sizes must be positive (chunk %d, expensive batch %d)",
                            chunk_capacity, expensive_batch);
    if (chunk_capacity > GPU_NETWORK_MAX_BATCH || (expensive && expensive_batch > GPU_NETWORK_MAX_BATCH))
        return cascade_fail(err, CASCADE_EINVAL, "chunk %d / expensive batch %d: at most %d images", chunk_capacity,
                            expensive_batch, GPU_NETWORK_MAX_BATCH);
    if (expensive && !same_normalisation(cheap, expensive))
        return cascade_fail(err, CASCADE_EINVAL,
                            "the GPU backend needs the cheap (%s) and expensive (%s) networks to share the input "
                            "normalisation (its queue holds normalised images)",
                            cheap->arch, expensive->arch);
    gpu_backend *g = calloc(1, sizeof *g);
    if (!g) return cascade_fail(err, CASCADE_ENOMEM, "out of host memory");
    g->chunk_capacity = chunk_capacity;
    g->expensive_batch = expensive ? expensive_batch : 0;
    g->cheap_classes = cheap->num_classes;
    g->expensive_classes = expensive ? expensive->num_classes : 0;
    preprocess_params norm;
    preprocess_set_normalisation(&norm, cheap->mean, cheap->std);
    memcpy(g->scale, norm.scale, sizeof g->scale);
    memcpy(g->shift, norm.shift, sizeof g->shift);

    nvtxRangePushA("gpu_backend_create");
    cascade_status s = gpu_context_create(&g->ctx, err);
    if (!s) s = create_networks(g, cheap, expensive, err);
    if (!s) s = allocate_buffers(g, err);
    if (!s) s = create_events(g, err);
    if (!s) s = initialise(g, err);
    nvtxRangePop();
    if (s) {
        gpu_destroy(g);
        return s;
    }

    memset(be, 0, sizeof *be);
    snprintf(be->name, sizeof be->name, "gpu (%.120s)", g->ctx.device_name);
    be->impl = g;
    be->chunk_capacity = chunk_capacity;
    be->expensive_batch = g->expensive_batch;
    be->n_slots = GPU_SLOTS;
    be->chunk_images = gpu_chunk_images;
    be->submit_chunk = gpu_submit_chunk;
    be->finish_chunk = gpu_finish_chunk;
    be->submit_expensive = gpu_submit_expensive;
    be->finish_expensive = gpu_finish_expensive;
    be->destroy = gpu_destroy;
    be->expensive_ready = gpu_expensive_ready;
    be->register_host = gpu_register_host;
    be->unregister_host = gpu_unregister_host;
    be->set_chunk_source = gpu_set_chunk_source;
    return CASCADE_OK;
}
