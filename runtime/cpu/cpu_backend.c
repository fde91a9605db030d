// cpu_backend.c: synchronous CPU implementation of the backend primitives.
// The expensive queue holds the deferred images' pixels in order; an
// expensive batch takes the oldest n and the rest moves to the front.
#include "cpu_backend.h"
#include "cpu_network.h"
#include "../confidence.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define CPU_SLOTS 2
#define CPU_BATCHES 2

typedef struct {
    uint8_t *images;   // chunk_capacity x 3072
    float *logits;     // chunk_capacity x classes
    int32_t *prediction;
    float *confidence;
    uint8_t *deferred;
    int n, n_deferred;
} cpu_slot;

typedef struct {
    int32_t *prediction;
    float *confidence;
    int n;
} cpu_batch;

typedef struct {
    const model *cheap, *expensive;
    cpu_network *cheap_net, *expensive_net;
    cpu_slot slots[CPU_SLOTS];
    uint8_t *queue;    // queued pixels, queue_capacity x 3072
    int queue_count, queue_capacity;
    float *expensive_logits;
    cpu_batch batches[CPU_BATCHES];
    int batch_head, batches_ready;
} cpu_backend;

static uint8_t *cpu_chunk_images(void *impl, int slot) { return ((cpu_backend *)impl)->slots[slot].images; }

static cascade_status cpu_submit_chunk(void *impl, int slot_id, int n, float threshold, cascade_error *err) {
    cpu_backend *cb = impl;
    cpu_slot *slot = &cb->slots[slot_id];
    cascade_status s = cpu_network_forward_u8(cb->cheap_net, slot->images, n, slot->logits, err);
    if (s) return s;
    confidence_from_logits(slot->logits, n, cb->cheap->num_classes, slot->prediction, slot->confidence);
    slot->n = n;
    slot->n_deferred = 0;
    for (int i = 0; i < n; i++) {
        slot->deferred[i] = cb->expensive && cascade_defers(slot->confidence[i], threshold);
        if (!slot->deferred[i]) continue;
        if (cb->queue_count == cb->queue_capacity)
            return cascade_fail(err, CASCADE_EINVAL, "internal: CPU expensive queue overflow");
        memcpy(cb->queue + (size_t)cb->queue_count++ * 3072, slot->images + (size_t)i * 3072, 3072);
        slot->n_deferred++;
    }
    return CASCADE_OK;
}

static cascade_status cpu_finish_chunk(void *impl, int slot_id, chunk_result *out, cascade_error *err) {
    (void)err;
    cpu_slot *slot = &((cpu_backend *)impl)->slots[slot_id];
    *out = (chunk_result){slot->n, slot->n_deferred, slot->prediction, slot->confidence, slot->deferred};
    return CASCADE_OK;
}

static cascade_status cpu_submit_expensive(void *impl, int n, cascade_error *err) {
    cpu_backend *cb = impl;
    if (!cb->expensive || n > cb->queue_count || cb->batches_ready == CPU_BATCHES)
        return cascade_fail(err, CASCADE_EINVAL, "internal: bad expensive submission of %d", n);
    cpu_batch *b = &cb->batches[(cb->batch_head + cb->batches_ready) % CPU_BATCHES];
    cascade_status s = cpu_network_forward_u8(cb->expensive_net, cb->queue, n, cb->expensive_logits, err);
    if (s) return s;
    confidence_from_logits(cb->expensive_logits, n, cb->expensive->num_classes, b->prediction, b->confidence);
    b->n = n;
    cb->batches_ready++;
    memmove(cb->queue, cb->queue + (size_t)n * 3072, (size_t)(cb->queue_count - n) * 3072);
    cb->queue_count -= n;
    return CASCADE_OK;
}

static cascade_status cpu_finish_expensive(void *impl, expensive_result *out, cascade_error *err) {
    cpu_backend *cb = impl;
    if (!cb->batches_ready) return cascade_fail(err, CASCADE_EINVAL, "internal: no expensive batch to finish");
    cpu_batch *b = &cb->batches[cb->batch_head];
    *out = (expensive_result){b->n, b->prediction, b->confidence};
    cb->batch_head = (cb->batch_head + 1) % CPU_BATCHES;
    cb->batches_ready--;
    return CASCADE_OK;
}

static void cpu_destroy(void *impl) {
    cpu_backend *cb = impl;
    if (!cb) return;
    cpu_network_destroy(cb->cheap_net);
    cpu_network_destroy(cb->expensive_net);
    for (int i = 0; i < CPU_SLOTS; i++) {
        cpu_slot *s = &cb->slots[i];
        free(s->images), free(s->logits), free(s->prediction), free(s->confidence), free(s->deferred);
    }
    for (int i = 0; i < CPU_BATCHES; i++) free(cb->batches[i].prediction), free(cb->batches[i].confidence);
    free(cb->queue);
    free(cb->expensive_logits);
    free(cb);
}

// Bytes of the buffers below. Linux hands out more than it has and kills the
// process when the pages are touched, so a size beyond physical memory (or
// the process's memory limit) is refused up front with a clear message instead.
static double buffer_bytes(const cpu_backend *cb, int chunk, int batch) {
    double slot = (double)chunk * (3072 + cb->cheap->num_classes * sizeof(float) + sizeof(int32_t) + sizeof(float) + 1);
    double expensive = cb->expensive ? ((double)batch + CPU_SLOTS * (double)chunk) * 3072 +
                                           (double)batch * cb->expensive->num_classes * sizeof(float) +
                                           CPU_BATCHES * (double)batch * (sizeof(int32_t) + sizeof(float))
                                     : 0;
    return CPU_SLOTS * slot + expensive;
}

// The most memory the buffers may take: the machine's, or less where the
// process's address-space or data limit (ulimit -v, -d) is lower; *limited
// then names the limit.
static double memory_cap(const char **limited) {
    double cap = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    const int limits[] = {RLIMIT_AS, RLIMIT_DATA};
    const char *names[] = {"this process's address-space limit (ulimit -v) is", "this process's data limit (ulimit -d) is"};
    *limited = "this machine has";
    for (int i = 0; i < 2; i++) {
        struct rlimit r;
        if (getrlimit(limits[i], &r) == 0 && r.rlim_cur != RLIM_INFINITY && (double)r.rlim_cur < cap)
            cap = (double)r.rlim_cur, *limited = names[i];
    }
    return cap;
}

static cascade_status allocate(cpu_backend *cb, int chunk, int batch, cascade_error *err) {
    double need = buffer_bytes(cb, chunk, batch);
    const char *limited;
    double have = memory_cap(&limited);
    if (have > 0 && need > have && !cb->expensive) // (no expensive batch: --batch is refused without one)
        return cascade_fail(err, CASCADE_ENOMEM, "out of memory: CPU buffers for chunk %d need %.1f GB, %s %.1f GB "
                            "(use a smaller --chunk)", chunk, need / 1e9, limited, have / 1e9);
    if (have > 0 && need > have)
        return cascade_fail(err, CASCADE_ENOMEM, "out of memory: CPU buffers for chunk %d and batch %d need %.1f GB, "
                            "%s %.1f GB (use a smaller --chunk/--batch)", chunk, batch, need / 1e9, limited, have / 1e9);
    int ok = 1;
    for (int i = 0; i < CPU_SLOTS; i++) {
        cpu_slot *s = &cb->slots[i];
        s->images = malloc((size_t)chunk * 3072);
        s->logits = malloc((size_t)chunk * cb->cheap->num_classes * sizeof(float));
        s->prediction = malloc((size_t)chunk * sizeof(int32_t));
        s->confidence = malloc((size_t)chunk * sizeof(float));
        s->deferred = malloc((size_t)chunk);
        ok &= s->images && s->logits && s->prediction && s->confidence && s->deferred;
    }
    if (cb->expensive) {
        cb->queue_capacity = batch + CPU_SLOTS * chunk;
        cb->queue = malloc((size_t)cb->queue_capacity * 3072);
        cb->expensive_logits = malloc((size_t)batch * cb->expensive->num_classes * sizeof(float));
        ok &= cb->queue && cb->expensive_logits;
        for (int i = 0; i < CPU_BATCHES; i++) {
            cb->batches[i].prediction = malloc((size_t)batch * sizeof(int32_t));
            cb->batches[i].confidence = malloc((size_t)batch * sizeof(float));
            ok &= cb->batches[i].prediction && cb->batches[i].confidence;
        }
    }
    if (ok) return CASCADE_OK;
    if (!cb->expensive)
        return cascade_fail(err, CASCADE_ENOMEM, "out of memory for CPU buffers (chunk %d: %.2f GB)", chunk, need / 1e9);
    return cascade_fail(err, CASCADE_ENOMEM, "out of memory for CPU buffers (chunk %d, batch %d: %.2f GB)", chunk, batch,
                        need / 1e9);
}

// Two micro-batches per worker, or `floor` where that is more.
static int per_workers_or(int floor) {
    int per_workers = 2 * CPU_MICRO_BATCH * cpu_network_workers();
    return per_workers > floor ? per_workers : floor;
}

int cpu_backend_default_chunk(void) { return per_workers_or(256); }
int cpu_backend_default_batch(void) { return per_workers_or(64); }

cascade_status cpu_backend_create(cascade_backend *be, const model *cheap, const model *expensive,
                                  int chunk_capacity, int expensive_batch, cascade_error *err) {
    if (chunk_capacity < 1 || (expensive && expensive_batch < 1))
        return cascade_fail(err, CASCADE_EINVAL, "batch sizes must be positive");
    cpu_backend *cb = calloc(1, sizeof *cb);
    if (!cb) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for the CPU backend");
    cb->cheap = cheap, cb->expensive = expensive;
    cascade_status s = allocate(cb, chunk_capacity, expensive_batch, err);
    if (!s) s = cpu_network_create(&cb->cheap_net, cheap, err);
    if (!s && expensive) s = cpu_network_create(&cb->expensive_net, expensive, err);
    if (s) { cpu_destroy(cb); return s; }
    memset(be, 0, sizeof *be);
    snprintf(be->name, sizeof be->name, "cpu (fp32, OpenBLAS)");
    be->impl = cb;
    be->chunk_capacity = chunk_capacity;
    be->expensive_batch = expensive ? expensive_batch : 0;
    be->n_slots = CPU_SLOTS;
    be->chunk_images = cpu_chunk_images;
    be->submit_chunk = cpu_submit_chunk;
    be->finish_chunk = cpu_finish_chunk;
    be->submit_expensive = cpu_submit_expensive;
    be->finish_expensive = cpu_finish_expensive;
    be->destroy = cpu_destroy;
    return CASCADE_OK;
}
