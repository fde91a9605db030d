// bench.h: the measurements behind `cascade bench`.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "job.h"

#define BENCH_MAX 64
#define BENCH_RUNS_MAX 1000 // --runs' bound

typedef struct {
    const char *models, *cascades, *thresholds, *batches, *data, *device, *json;
    long long chunk, batch, images, runs, warmup, warmup_images, seed;
    int no_alone, no_cascades;
    device_choice device_choice;
    int n_thresholds, n_batches;
    double threshold_values[BENCH_MAX];
    int batch_values[BENCH_MAX];
    volatile int *stop;  // when set (SIGINT / SIGTERM), no further run starts; NULL: never
} bench_options;

typedef struct {
    double median, min, max; // images/s
    int n;
    double each[BENCH_RUNS_MAX]; // every timed run's images/s, in the order run (--json lists them)
} rate_stats;

typedef struct {
    char model[MODEL_NAME_CAP]; // as named in --models (a zoo name or a path)
    int batch;
    rate_stats rate;
    double gflops;       // 2 x MACs x median images/s
    double accuracy;
    double build_seconds; // opening the backend: the network built, its cuDNN plans timed
} alone_figure;

typedef struct {
    char cheap[MODEL_NAME_CAP], full[MODEL_NAME_CAP]; // as named in --cascades
    double threshold;
    int chunk, batch;
    rate_stats rate;
    double deferred, accuracy;
    double ideal;        // 1 / (1/T_cheap + p/T_full), 0 when an alone figure is missing
    double efficiency;   // median / ideal
    double build_seconds; // opening the backend (both networks), shared by the pair's thresholds
} cascade_figure;

typedef struct {
    char backend[256], versions[256];
    char data[1024];     // the CIFAR file replicated (--data, or the assets' test set)
    int64_t images;
    int runs, warmup;
    int64_t warmup_images; // images in each warm-up run (at most images)
    uint64_t seed;       // of the images' order (job.c's shuffled_order): the PyTorch peer reads the same
    double sgemm_gflops; // CPU only: OpenBLAS sgemm 2048^3 in the same run, the better of its start and end
    double sgemm_start_gflops, sgemm_end_gflops; // the two (end 0 when stopped early): apart, the load changed
    double upload_pinned_gbps, upload_data_gbps; // GPU only: host->device copy rates, same run
    int complete;        // 0 when a stop request ended it early: the figures so far
    double build_seconds, seconds; // backends opened (networks built), and the whole bench
    int n_alone, n_cascades;
    alone_figure alone[BENCH_MAX];
    cascade_figure cascades[BENCH_MAX * 4];
} bench_report;

#ifdef __cplusplus
extern "C" {
#endif

// Fills r; CASCADE_EINTERRUPTED when o->stop ended it, with r holding every
// figure completed before (r->complete 0).
CASCADE_MUST_CHECK cascade_status bench_execute(const bench_options *o, bench_report *r, cascade_error *err);
void bench_print(const bench_report *r, FILE *out);
void bench_write_json(const bench_report *r, FILE *out);
void bench_report_free(bench_report *r);

#ifdef __cplusplus
}
#endif
