// progress.h: the running estimates of a job, shown while it runs, and
// the early-stop rules (time budget, target interval width).
// Every `draw_interval` seconds one status line is redrawn on a terminal
// (default 0.25 s), or a plain line printed elsewhere (default 5 s);
// optionally one JSON object per update into a file for programs.
#pragma once
#include <stdio.h>
#include "estimate.h"
#include "cifar.h"
#include "../models/model.h"
#include "../runtime/pipeline.h"
#include "status_line.h" // now_seconds

typedef enum { STOP_NONE, STOP_TIME_BUDGET, STOP_TARGET_CI, STOP_INTERRUPT } stop_reason;

typedef struct {
    running_estimate estimate;
    const cifar_file *data;
    const uint32_t *order;            // position -> record (labels)
    const model *classes;             // class names
    int64_t aggregated;               // positions [0, aggregated) are in the estimate
    int64_t screened;                 // positions [0, screened) through the cheap network (the rate's)
    int64_t drawn_seen;               // images shown by the last drawn line
    int64_t json_seen;                // images in the last JSON line (-1: none yet)
    stop_reason json_stop;            // and its "stopping"
    double start, last_draw, last_json;
    int tty, quiet;
    double draw_interval;             // seconds between redraws (terminal) or plain lines
    double json_interval;             // seconds between JSON updates (0: every update)
    FILE *json;                       // --progress-json, or NULL
    double time_budget;               // seconds, 0 = none
    double target_ci;                 // interval width, 0 = none
    int watch_class;                  // -1: watch accuracy
    int alone;                        // the cheap model alone: nothing deferred, by construction (no interval)
    int sampled;                      // images in a seeded random order: every prefix a uniform sample, so the
                                      // intervals mean something (a file-order prefix: none are given)
    int64_t rule_met_at;              // images aggregated when --target-ci's rule was met (0: not met)
    interval rule_met;                // the watched interval then (the drain may move it after)
    stop_reason stop;
    int64_t bad_record;               // a record whose label is not 0..9 (stops the run: an error), else -1
    double stop_elapsed;              // seconds from start when the stop was requested (0: not yet)
    volatile int *interrupted;        // the stopping signal (SIGINT / SIGTERM), 0 before one
} progress_state;

#ifdef __cplusplus
extern "C" {
#endif

void progress_init(progress_state *p, const cifar_file *data, const uint32_t *order, const model *classes,
                   int64_t total);
// The pipeline's progress callback: aggregates [aggregated, done), draws, returns 1 to stop.
// The rate and the ETA shown are of the images screened (through the cheap
// network): the final prefix can wait a whole expensive batch for one early
// deferred image, and its rate then read as 1 img/s.
int progress_update(void *ctx, int64_t done, int64_t screened, const cascade_results *results);
// Ends the status line (terminal) and writes the last JSON update.
void progress_finish(progress_state *p);
// The interval width stop rules watch: accuracy, or the watched class's share.
interval progress_watched(const progress_state *p);
// The deferred fraction's interval: [0, 0] for a model alone (it defers nothing; a
// Wilson interval read as if a cascade might have deferred 1% of the rest).
interval progress_deferred(const progress_state *p);
const char *stop_reason_name(stop_reason r);
// JSON fields ,"low":L,"high":H (", " between them when spaced); both null where the images are
// no sample (--order file: a prefix of the file says nothing of the rest)
void json_interval_fields(FILE *f, int sampled, interval ci, int spaced);
// "value_key": k/n and the interval's fields (as json_interval_fields); all null while n is 0.
void json_proportion_fields(FILE *f, const char *value_key, int64_t k, int64_t n, int sampled, interval ci,
                            int spaced);

#ifdef __cplusplus
}
#endif
