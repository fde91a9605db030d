// pipeline.c: chunk loop, deferred queue bookkeeping, full expensive
// batches, final flush and early stop (see pipeline.h).
//
// The host mirrors the device's expensive queue as a FIFO of job positions
// (learnt from finish_chunk, one step late). Each submitted expensive batch
// takes the oldest `n` of them; finish_expensive returns results in the same
// order, so the pipeline scatters them to their positions.
#include "pipeline.h"
#include <stdlib.h>
#include <string.h>

#define MAX_EXPENSIVE_IN_FLIGHT 2

typedef struct {
    int64_t *positions; // ring of queued (deferred, not yet submitted) positions
    int64_t capacity, head, count;
} position_fifo;

typedef struct {
    int64_t *positions; // positions of the batch, in queue order
    int n;
} expensive_batch;

typedef struct {
    const cascade_job *job;
    float threshold; // the job's, as the backends compare it (cascade_threshold)
    cascade_results *results;
    cascade_summary *summary;
    position_fifo queue;
    expensive_batch batches[MAX_EXPENSIVE_IN_FLIGHT];
    int batch_head, batches_in_flight;
    int64_t chunk_first[16];
    int64_t next_position;            // first position not yet submitted
    int64_t finished_through;         // chunks finished cover [0, finished_through)
    int64_t submitted, finished;      // chunk counts
} pipeline;

static int64_t fifo_front(const position_fifo *q, int64_t i) { return q->positions[(q->head + i) % q->capacity]; }

// Positions [0, done) are final: every chunk before is finished and no
// earlier position waits in the queue or in an expensive batch.
static int64_t final_prefix(const pipeline *p) {
    int64_t done = p->finished_through;
    if (p->queue.count && fifo_front(&p->queue, 0) < done) done = fifo_front(&p->queue, 0);
    if (p->batches_in_flight) {
        int64_t first = p->batches[p->batch_head].positions[0];
        if (first < done) done = first;
    }
    return done;
}

static cascade_status finish_oldest_batch(pipeline *p, cascade_error *err) {
    cascade_backend *be = p->job->backend;
    expensive_batch *b = &p->batches[p->batch_head];
    expensive_result r;
    cascade_status s = be->finish_expensive(be->impl, &r, err);
    if (s) return s;
    if (r.n != b->n) return cascade_fail(err, CASCADE_EINVAL, "internal: expensive batch of %d came back as %d", b->n, r.n);
    for (int i = 0; i < b->n; i++) {
        int64_t pos = b->positions[i];
        p->results->prediction[pos] = r.prediction[i];
        p->results->confidence[pos] = r.confidence[i];
    }
    p->batch_head = (p->batch_head + 1) % MAX_EXPENSIVE_IN_FLIGHT;
    p->batches_in_flight--;
    return CASCADE_OK;
}

// Takes in every expensive batch that has already finished, without waiting,
// so the final prefix (and the progress shown) keeps up with the device.
static cascade_status collect_ready_batches(pipeline *p, cascade_error *err) {
    cascade_backend *be = p->job->backend;
    while (p->batches_in_flight && (!be->expensive_ready || be->expensive_ready(be->impl))) {
        cascade_status s = finish_oldest_batch(p, err);
        if (s) return s;
    }
    return CASCADE_OK;
}

static cascade_status submit_batch(pipeline *p, int n, cascade_error *err) {
    cascade_backend *be = p->job->backend;
    if (p->batches_in_flight == MAX_EXPENSIVE_IN_FLIGHT) {
        cascade_status s = finish_oldest_batch(p, err);
        if (s) return s;
    }
    expensive_batch *b = &p->batches[(p->batch_head + p->batches_in_flight) % MAX_EXPENSIVE_IN_FLIGHT];
    for (int i = 0; i < n; i++) b->positions[i] = fifo_front(&p->queue, i);
    b->n = n;
    p->queue.head = (p->queue.head + n) % p->queue.capacity;
    p->queue.count -= n;
    cascade_status s = be->submit_expensive(be->impl, n, err);
    if (s) return s;
    p->batches_in_flight++;
    p->summary->expensive_batches++;
    return CASCADE_OK;
}

static cascade_status finish_oldest_chunk(pipeline *p, cascade_error *err) {
    cascade_backend *be = p->job->backend;
    int slot = (int)(p->finished % be->n_slots);
    chunk_result r;
    cascade_status s = be->finish_chunk(be->impl, slot, &r, err);
    if (s) return s;
    int64_t first = p->chunk_first[slot];
    memcpy(p->results->prediction + first, r.prediction, (size_t)r.n * sizeof(int32_t));
    memcpy(p->results->confidence + first, r.confidence, (size_t)r.n * sizeof(float));
    if (p->job->has_expensive) {
        memcpy(p->results->deferred + first, r.deferred, (size_t)r.n);
        for (int i = 0; i < r.n; i++) {
            if (!r.deferred[i]) continue;
            if (p->queue.count == p->queue.capacity)
                return cascade_fail(err, CASCADE_EINVAL, "internal: expensive queue overflow");
            p->queue.positions[(p->queue.head + p->queue.count++) % p->queue.capacity] = first + i;
        }
        p->summary->deferred += r.n_deferred;
    } else {
        memset(p->results->deferred + first, 0, (size_t)r.n);
    }
    p->finished++;
    p->finished_through = first + r.n;
    while (p->job->has_expensive && p->queue.count >= be->expensive_batch)
        if ((s = submit_batch(p, be->expensive_batch, err))) return s;
    return collect_ready_batches(p, err);
}

static cascade_status submit_next_chunk(pipeline *p, cascade_error *err) {
    cascade_backend *be = p->job->backend;
    int slot = (int)(p->submitted % be->n_slots);
    int64_t left = p->job->total - p->next_position;
    int n = left < be->chunk_capacity ? (int)left : be->chunk_capacity;
    if (p->job->chunk_pixels && be->set_chunk_source)
        be->set_chunk_source(be->impl, slot, p->job->chunk_pixels(p->job->fill_ctx, p->next_position, n));
    else {
        if (be->set_chunk_source) be->set_chunk_source(be->impl, slot, NULL); // the slot's own buffer
        p->job->fill(p->job->fill_ctx, p->next_position, n, be->chunk_images(be->impl, slot));
    }
    cascade_status s = be->submit_chunk(be->impl, slot, n, p->job->has_expensive ? p->threshold : 0.0f, err);
    if (s) return s;
    p->chunk_first[slot] = p->next_position;
    p->next_position += n;
    p->submitted++;
    return CASCADE_OK;
}

// Flushes the partial batch and waits for every expensive batch.
static cascade_status drain_expensive(pipeline *p, cascade_error *err) {
    cascade_status s;
    if (p->queue.count && (s = submit_batch(p, (int)p->queue.count, err))) return s;
    while (p->batches_in_flight)
        if ((s = finish_oldest_batch(p, err))) return s;
    return CASCADE_OK;
}

static cascade_status run_loop(pipeline *p, cascade_error *err) {
    const cascade_job *job = p->job;
    cascade_backend *be = job->backend;
    int stopping = 0;
    int64_t reported = 0, screened = 0;
    cascade_status s;
    for (;;) {
        stopping |= job->stop && *job->stop;
        if (!stopping && p->next_position < job->total && p->submitted - p->finished < be->n_slots) {
            if ((s = submit_next_chunk(p, err))) return s;
            continue;
        }
        if (p->finished == p->submitted) break;
        if ((s = finish_oldest_chunk(p, err))) return s;
        if (p->finished == p->submitted && (stopping || p->next_position == job->total))
            if ((s = drain_expensive(p, err))) return s;
        int64_t done = final_prefix(p);
        if (done > reported || p->finished_through > screened) { // a heartbeat while the final prefix waits
            reported = done, screened = p->finished_through;
            if (job->progress && job->progress(job->progress_ctx, done, screened, p->results)) stopping = 1;
        }
    }
    if ((s = drain_expensive(p, err))) return s;
    p->summary->processed = final_prefix(p);
    if ((p->summary->processed > reported || p->finished_through > screened) && job->progress)
        job->progress(job->progress_ctx, p->summary->processed, p->finished_through, p->results);
    p->summary->complete = p->summary->processed == job->total;
    return CASCADE_OK;
}

cascade_status cascade_run(const cascade_job *job, cascade_results *results, cascade_summary *summary,
                           cascade_error *err) {
    cascade_backend *be = job->backend;
    memset(summary, 0, sizeof *summary);
    if (job->total < 0) return cascade_fail(err, CASCADE_EINVAL, "negative image count");
    if (!(job->threshold >= 0.0 && job->threshold <= 1.0))
        return cascade_fail(err, CASCADE_EINVAL, "threshold %g is outside [0, 1]", job->threshold);
    if (be->n_slots < 1 || be->n_slots > 16 || be->chunk_capacity < 1 || (job->has_expensive && be->expensive_batch < 1))
        return cascade_fail(err, CASCADE_EINVAL, "internal: bad backend geometry");
    pipeline p = {.job = job, .results = results, .summary = summary, .threshold = cascade_threshold(job->threshold)};
    cascade_status s = CASCADE_OK;
    if (job->has_expensive) {
        p.queue.capacity = be->expensive_batch + (int64_t)be->n_slots * be->chunk_capacity;
        p.queue.positions = malloc((size_t)p.queue.capacity * sizeof(int64_t));
        for (int i = 0; i < MAX_EXPENSIVE_IN_FLIGHT; i++)
            p.batches[i].positions = malloc((size_t)be->expensive_batch * sizeof(int64_t) + 1);
        if (!p.queue.positions || !p.batches[0].positions || !p.batches[1].positions)
            s = cascade_fail(err, CASCADE_ENOMEM, "out of memory for the deferred queue");
    }
    if (!s) s = run_loop(&p, err);
    free(p.queue.positions);
    for (int i = 0; i < MAX_EXPENSIVE_IN_FLIGHT; i++) free(p.batches[i].positions);
    return s;
}
