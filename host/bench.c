// bench.c: timing of models alone and cascades (see bench.h).
#include "bench.h"
#include "status_line.h"
#include "options.h" // number_text
#include "assets.h"
#include "bench_data.h"
#include "progress.h"
#include "sweep.h" // cascade_predicted_throughput
#include "../runtime/cpu/cpu_backend.h"
#include "../runtime/pipeline.h"
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef CASCADE_HAVE_CUDA
#include "../runtime/gpu/gpu_network.h"
#include "../runtime/gpu/gpu_probe.h"
#endif

// Every model the lists name, loaded once before anything is measured (a
// typo or a broken file in the last cascade must not throw away the minutes
// spent measuring the first ones) and measured from then on.
#define BENCH_MAX_MODELS 32
typedef struct {
    char names[BENCH_MAX_MODELS][MODEL_NAME_CAP]; // as named in --models / --cascades
    model models[BENCH_MAX_MODELS];
    int n;
} bench_models;

typedef struct {
    bench_models *models;
    bench_data data;
    cascade_results results;
    int on_gpu;
    int in_place; // the backend reads chunks straight from data.pixels
    int pinned;   // data.pixels pinned once for every backend (GPU)
    int64_t warmup_images; // images in each warm-up run (at most data.count)
    const char *erase;     // what the next figure line starts with: a terminal's run line erased, or ""
} bench_context;

// Lets the backend read the benchmark images in place (pinned, on the GPU),
// as a batch job reading from its own pinned buffers would. Where they cannot
// be pinned (a locked-memory limit) chunks are copied, and the bench says so.
static void attach_images(bench_context *c, cascade_backend *be) {
    c->in_place = 0;
    if (!be->register_host || !be->set_chunk_source) return;
    cascade_error why = {""};
    c->in_place = be->register_host(be->impl, c->data.pixels, (size_t)c->data.count * CIFAR_PIXELS, &why) == CASCADE_OK;
    if (!c->in_place) status_line(2.0, "  images copied per chunk, not read in place: %s\n", why.message);
}

static void detach_images(bench_context *c, cascade_backend *be) {
    if (c->in_place && be->unregister_host) be->unregister_host(be->impl, c->data.pixels);
    c->in_place = 0;
}

// backend_open, its seconds (building the networks; on a GPU, timing cuDNN
// plans) in *seconds and added to the report's total.
static cascade_status open_timed(cascade_backend *be, const bench_options *o, const model *cheap, const model *full,
                                 int chunk, int batch, bench_report *r, double *seconds, cascade_error *err) {
    char notice[256];
    double start = now_seconds();
    cascade_status s = backend_open(be, o->device_choice, cheap, full, chunk, batch, notice, sizeof notice, err);
    *seconds = now_seconds() - start;
    r->build_seconds += *seconds;
    return s;
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

// One run, a warm-up or a timed one: its images/s, and the deferred fraction.
static cascade_status time_one_run(bench_context *c, cascade_backend *be, const bench_options *o, int has_expensive,
                                   double threshold, int run, double *rate, double *deferred, cascade_error *err) {
    if (o->stop && *o->stop) return cascade_fail(err, CASCADE_EINTERRUPTED, "interrupted");
    int64_t images = run < o->warmup ? c->warmup_images : c->data.count;
    cascade_job job = {be, threshold, has_expensive, images, bench_data_fill, &c->data,
                       NULL, NULL, o->stop, c->in_place ? bench_data_chunk : NULL};
    cascade_summary sum;
    double start = now_seconds();
    cascade_status s = cascade_run(&job, &c->results, &sum, err);
    double seconds = now_seconds() - start;
    if (s) return s;
    // a run cut short, or one that ended after a stop came (the stop is seen between chunks, and a run of
    // one chunk ends whole): dropped either way, as bench --help says
    if (!sum.complete || (o->stop && *o->stop)) return cascade_fail(err, CASCADE_EINTERRUPTED, "interrupted");
    *rate = images / seconds;
    *deferred = (double)sum.deferred / c->data.count;
    return CASCADE_OK;
}

// A figure's runs on stderr as each ends (outside the timed part): redrawn
// in place on a terminal, a line at most every 30 s elsewhere (a log; a
// CPU's resnet34 figure takes minutes); on a terminal the figure's own line
// (or an error) takes its place.
typedef struct {
    const char *what;
    int tty, drawn;
    double last;
} run_news;

static void run_news_draw(run_news *n, const bench_options *o, int run, double rate) {
    double t = now_seconds();
    if (!n->tty && t - n->last < 30.0) return;
    n->last = t;
    int warmup = (int)o->warmup, timed = run >= warmup;
    n->drawn |= status_line(0, "%scascade bench: %s: %s %d of %d, %.0f img/s%s", n->tty ? "\r" : "", n->what,
                            timed ? "run" : "warm-up", timed ? run - warmup + 1 : run + 1,
                            timed ? (int)o->runs : warmup, rate, n->tty ? "\033[K" : "\n");
}

// Times warmup + runs passes of one configuration (what: its name on
// stderr); rates in images/s.
static cascade_status time_runs(bench_context *c, cascade_backend *be, const bench_options *o, int has_expensive,
                                double threshold, const char *what, rate_stats *rate, double *deferred,
                                double *accuracy, cascade_error *err) {
    double rates[BENCH_RUNS_MAX];
    run_news news = {what, isatty(STDERR_FILENO), 0, now_seconds()};
    cascade_status s = CASCADE_OK;
    for (int run = 0; run < o->warmup + o->runs; run++) {
        double one = 0;
        s = time_one_run(c, be, o, has_expensive, threshold, run, &one, deferred, err);
        if (s) break;
        if (run >= o->warmup) rates[run - o->warmup] = one;
        run_news_draw(&news, o, run, one);
    }
    c->erase = news.drawn && news.tty ? "\r\033[K" : "";
    if (s && *c->erase) status_line(0, "%s", c->erase);
    if (s) return s;
    int64_t correct = 0;
    for (int64_t i = 0; i < c->data.count; i++) correct += c->results.prediction[i] == c->data.labels[i];
    *accuracy = (double)correct / c->data.count;
    rate->n = (int)o->runs;
    memcpy(rate->each, rates, (size_t)o->runs * sizeof rates[0]);
    qsort(rates, (size_t)o->runs, sizeof rates[0], compare_double);
    rate->median = rates[o->runs / 2], rate->min = rates[0], rate->max = rates[o->runs - 1];
    if (o->runs % 2 == 0) rate->median = 0.5 * (rates[o->runs / 2 - 1] + rates[o->runs / 2]);
    return CASCADE_OK;
}

// The loaded model of a name check_lists saw (NULL: none).
static const model *loaded_model(const bench_models *loaded, const char *name) {
    for (int i = 0; i < loaded->n; i++)
        if (!strcmp(loaded->names[i], name)) return &loaded->models[i];
    return NULL;
}

static const model *named_model(const bench_context *c, const char *name) { return loaded_model(c->models, name); }

static cascade_status bench_alone(bench_context *c, const bench_options *o, const char *name, const model *m,
                                  int batch, bench_report *r, cascade_error *err) {
    cascade_backend be = {0};
    alone_figure *f = &r->alone[r->n_alone];
    cascade_status s = open_timed(&be, o, m, NULL, batch, 0, r, &f->build_seconds, err);
    double deferred;
    if (!s) attach_images(c, &be);
    int held = be.chunk_capacity < r->images ? be.chunk_capacity : (int)r->images; // what a run's chunks hold
    char what[MODEL_NAME_CAP + 32];
    snprintf(what, sizeof what, "%.*s batch %d", MODEL_NAME_CAP - 1, name, held);
    if (!s) s = time_runs(c, &be, o, 0, 0.0f, what, &f->rate, &deferred, &f->accuracy, err);
    detach_images(c, &be);
    if (!s) {
        snprintf(f->model, sizeof f->model, "%.*s", MODEL_NAME_CAP - 1, name); // two files of one arch: two rows
        f->batch = held;
        f->gflops = 2.0 * m->macs * f->rate.median / 1e9;
        snprintf(r->backend, sizeof r->backend, "%s", be.name);
        r->n_alone++;
        status_line(2.0, "%s  %-18s batch %-6d %12.0f img/s\n", c->erase, f->model, f->batch, f->rate.median);
    }
    backend_close(&be);
    return s;
}

// The best alone median of a model over the measured batch sizes, 0 when not measured.
static double alone_rate(const bench_report *r, const char *name) {
    double best = 0;
    for (int i = 0; i < r->n_alone; i++)
        if (!strcmp(r->alone[i].model, name) && r->alone[i].rate.median > best) best = r->alone[i].rate.median;
    return best;
}

static cascade_status bench_pair(bench_context *c, const bench_options *o, const char *cheap_name, const model *cheap,
                                 const char *full_name, const model *full, bench_report *r, cascade_error *err) {
    cascade_backend be = {0};
    double build_seconds;
    cascade_status s = open_timed(&be, o, cheap, full, (int)o->chunk, (int)o->batch, r, &build_seconds, err);
    if (!s) attach_images(c, &be);
    for (int t = 0; !s && t < o->n_thresholds; t++) {
        cascade_figure *f = &r->cascades[r->n_cascades];
        snprintf(f->cheap, sizeof f->cheap, "%s", cheap_name);
        snprintf(f->full, sizeof f->full, "%s", full_name);
        f->threshold = o->threshold_values[t];
        f->chunk = be.chunk_capacity, f->batch = be.expensive_batch;
        f->build_seconds = build_seconds;
        char thr[NUMBER_TEXT_CAP], what[2 * MODEL_NAME_CAP + NUMBER_TEXT_CAP + 16];
        snprintf(what, sizeof what, "%s -> %s @ %s", f->cheap, f->full, number_text(f->threshold, thr));
        s = time_runs(c, &be, o, 1, f->threshold, what, &f->rate, &f->deferred, &f->accuracy, err);
        if (s) break;
        double tc = alone_rate(r, f->cheap), tf = alone_rate(r, f->full);
        f->ideal = cascade_predicted_throughput(tc, tf, f->deferred); // (0 where a model is not measured alone)
        f->efficiency = f->ideal > 0 ? f->rate.median / f->ideal : 0;
        snprintf(r->backend, sizeof r->backend, "%s", be.name);
        r->n_cascades++;
        status_line(2.0, "%s  %s  %12.0f img/s\n", c->erase, what, f->rate.median);
    }
    detach_images(c, &be);
    backend_close(&be);
    return s;
}

static double measure_sgemm(void) {
    const int n = 2048;
    float *a = malloc((size_t)n * n * sizeof(float)), *b = malloc((size_t)n * n * sizeof(float)),
          *out = malloc((size_t)n * n * sizeof(float));
    if (!a || !b || !out) { free(a), free(b), free(out); return 0; }
    for (long i = 0; i < (long)n * n; i++) a[i] = (float)(i % 13) * 0.01f, b[i] = (float)(i % 7) * 0.02f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, out, n); // warm-up
    int reps = 3;
    double start = now_seconds();
    for (int i = 0; i < reps; i++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, out, n);
    double seconds = now_seconds() - start;
    free(a), free(b), free(out);
    return 2.0 * n * n * (double)n * reps / seconds / 1e9;
}

// Splits the list of option flag, "a,b,c", into items and calls each on
// them. An empty item (",,", a trailing comma) or list is refused, and so is
// an item longer than a model's name and a cascade's pair of them can be.
static cascade_status for_each_item(const char *flag, const char *list,
                                    cascade_status (*each)(void *, const char *, cascade_error *), void *ctx,
                                    cascade_error *err) {
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[2 * MODEL_NAME_CAP];
        if (len == 0) return cascade_fail(err, CASCADE_EINVAL, "%s: empty item in '%s'", flag, list);
        if (len >= sizeof item)
            return cascade_fail(err, CASCADE_EINVAL, "%s: item %.40s... is longer than %zu bytes", flag, p,
                                sizeof item - 1);
        memcpy(item, p, len);
        item[len] = 0;
        cascade_status s = each(ctx, item, err);
        if (s || !p[len]) return s;
        p += len + 1;
    }
}

typedef struct {
    bench_context *c;
    const bench_options *o;
    bench_report *r;
    int pairs_done, pair_index, blocked; // the cascades' walk: how many have run, the one at hand, one not ready
    const char *sought;                  // find_in_models: the name, and whether --models has it
    int found;
} bench_walk;

static cascade_status run_ready_cascades(bench_walk *w, cascade_error *err);

// The images a run's chunks hold at batch size b.
static int held_batch(const bench_report *r, int b) { return b < r->images ? b : (int)r->images; }

static cascade_status each_model(void *ctx, const char *name, cascade_error *err) {
    bench_walk *w = ctx;
    int cpu_batch = 4 * cpu_backend_default_batch(); // 128 per worker, at least 512
    if (cpu_batch < 512) cpu_batch = 512;
    int defaults[2] = {w->c->on_gpu ? 1024 : cpu_batch, 8192};
    const int *batches = w->o->n_batches ? w->o->batch_values : defaults;
    int n = w->o->n_batches ? w->o->n_batches : (w->c->on_gpu ? 2 : 1);
    for (int i = 0; i < n; i++) {
        // a default batch past the run's images is the images: measured once (a given one is refused, bench_execute)
        int again = 0;
        for (int k = 0; k < i; k++) again |= held_batch(w->r, batches[k]) == held_batch(w->r, batches[i]);
        if (again) continue;
        if (w->r->n_alone >= BENCH_MAX) return cascade_fail(err, CASCADE_EINVAL, "too many configurations");
        cascade_status s = bench_alone(w->c, w->o, name, named_model(w->c, name), batches[i], w->r, err);
        if (s) return s;
    }
    return run_ready_cascades(w, err);
}

// "cheap:full" into cheap (a copy) and *full (the rest of pair).
static cascade_status split_pair(const char *pair, char cheap[MODEL_NAME_CAP], const char **full, cascade_error *err) {
    const char *colon = strchr(pair, ':');
    if (!colon || colon == pair || !colon[1])
        return cascade_fail(err, CASCADE_EINVAL, "--cascades: '%s' is not cheap:full", pair);
    if (colon - pair >= MODEL_NAME_CAP || strlen(colon + 1) >= MODEL_NAME_CAP)
        return cascade_fail(err, CASCADE_EINVAL, "--cascades: a model in '%.40s...' is longer than %d bytes", pair,
                            MODEL_NAME_CAP - 1);
    snprintf(cheap, MODEL_NAME_CAP, "%.*s", (int)(colon - pair), pair);
    *full = colon + 1;
    return CASCADE_OK;
}

static cascade_status each_pair(void *ctx, const char *pair, cascade_error *err) {
    bench_walk *w = ctx;
    char cheap[MODEL_NAME_CAP];
    const char *full = NULL;
    cascade_status s = split_pair(pair, cheap, &full, err);
    if (s) return s;
    if (w->r->n_cascades + w->o->n_thresholds > BENCH_MAX * 4)
        return cascade_fail(err, CASCADE_EINVAL, "too many configurations");
    return bench_pair(w->c, w->o, cheap, named_model(w->c, cheap), full, named_model(w->c, full), w->r, err);
}

// ---- the order of the figures ----------------------------------------------
// Models alone in --models order; each cascade, in --cascades order, as soon
// as its two models are measured alone (or --models does not name them): a
// bench cut short by a deadline has the first cascades' figures too, not only
// the models'. The report lists both kinds in the order given.

static cascade_status find_in_models(void *ctx, const char *item, cascade_error *err) {
    (void)err;
    bench_walk *w = ctx;
    w->found |= !strcmp(item, w->sought);
    return CASCADE_OK;
}

static int measured_or_not_asked(bench_walk *w, const char *name) {
    if (w->o->no_alone) return 1;
    for (int i = 0; i < w->r->n_alone; i++)
        if (!strcmp(w->r->alone[i].model, name)) return 1;
    cascade_error ignored; // (the list was split once already: it splits again)
    w->sought = name, w->found = 0;
    for_each_item("--models", w->o->models, find_in_models, w, &ignored);
    return !w->found;
}

static cascade_status each_ready_pair(void *ctx, const char *pair, cascade_error *err) {
    bench_walk *w = ctx;
    if (w->pair_index++ < w->pairs_done || w->blocked) return CASCADE_OK;
    char cheap[MODEL_NAME_CAP];
    const char *full = NULL;
    cascade_status s = split_pair(pair, cheap, &full, err);
    if (s) return s;
    if (!measured_or_not_asked(w, cheap) || !measured_or_not_asked(w, full)) {
        w->blocked = 1; // the later ones wait for it: the cascades keep their order
        return CASCADE_OK;
    }
    w->pairs_done++;
    return each_pair(w, pair, err);
}

// The cascades not yet run whose turn has come (called before the first
// model and after each).
static cascade_status run_ready_cascades(bench_walk *w, cascade_error *err) {
    if (w->o->no_cascades) return CASCADE_OK;
    w->pair_index = 0, w->blocked = 0;
    return for_each_item("--cascades", w->o->cascades, each_ready_pair, w, err);
}

// ---- checks before anything is measured --------------------------------------

static cascade_status check_model(void *ctx, const char *name, cascade_error *err) {
    bench_models *loaded = ctx;
    if (loaded_model(loaded, name)) return CASCADE_OK;
    if (loaded->n == BENCH_MAX_MODELS)
        return cascade_fail(err, CASCADE_EINVAL, "more than %d different models named", BENCH_MAX_MODELS);
    cascade_status s = load_named_model(&loaded->models[loaded->n], name, err);
    if (!s) snprintf(loaded->names[loaded->n++], sizeof loaded->names[0], "%.*s", MODEL_NAME_CAP - 1, name);
    return s;
}

static cascade_status check_pair(void *ctx, const char *pair, cascade_error *err) {
    char cheap[MODEL_NAME_CAP];
    const char *full = NULL;
    cascade_status s = split_pair(pair, cheap, &full, err);
    if (!s) s = check_model(ctx, cheap, err);
    if (!s) s = check_model(ctx, full, err);
    if (s) return s;
    const bench_models *loaded = ctx;
    return model_check_pair(loaded_model(loaded, cheap), cheap, loaded_model(loaded, full), full, err);
}

// Sizes a GPU network refuses (the CPU has no such limit, only its memory):
// past GPU_NETWORK_MAX_BATCH, or a tensor of 2^31 values (gpu_network_max_batch).
static cascade_status check_gpu_size(const bench_context *c, const char *option, long long size, const char *name,
                                     cascade_error *err) {
#ifdef CASCADE_HAVE_CUDA
    int largest;
    cascade_status s = gpu_network_max_batch(named_model(c, name), &largest, err);
    if (s) return s == CASCADE_ENOMEM ? s : CASCADE_EINVAL; // (a model the GPU does not run: a usage error here)
    if (size > largest)
        return cascade_fail(err, CASCADE_EINVAL, "%s: %lld is more than %s's largest batch on a GPU, %d", option, size,
                            name, largest);
#else
    (void)c, (void)option, (void)size, (void)name, (void)err;
#endif
    return CASCADE_OK;
}

static cascade_status check_alone_sizes(void *ctx, const char *name, cascade_error *err) {
    const bench_walk *w = ctx;
    cascade_status s = CASCADE_OK;
    for (int i = 0; !s && i < w->o->n_batches; i++) s = check_gpu_size(w->c, "--batches", w->o->batch_values[i], name, err);
    return s;
}

static cascade_status check_pair_sizes(void *ctx, const char *pair, cascade_error *err) {
    const bench_walk *w = ctx;
    char cheap[MODEL_NAME_CAP];
    const char *full = NULL;
    cascade_status s = split_pair(pair, cheap, &full, err);
    if (!s && w->o->chunk) s = check_gpu_size(w->c, "--chunk", w->o->chunk, cheap, err);
    if (!s && w->o->batch) s = check_gpu_size(w->c, "--batch", w->o->batch, full, err);
    return s;
}

static cascade_status count_item(void *ctx, const char *item, cascade_error *err) {
    (void)item, (void)err;
    ++*(int *)ctx;
    return CASCADE_OK;
}

// The figures asked for fit the report (models x batches, pairs x thresholds):
// refused before the first is measured, not once the report is full.
static cascade_status check_counts(const bench_context *c, const bench_options *o, cascade_error *err) {
    int models = 0, pairs = 0;
    cascade_status s = o->no_alone ? CASCADE_OK : for_each_item("--models", o->models, count_item, &models, err);
    if (!s && !o->no_cascades) s = for_each_item("--cascades", o->cascades, count_item, &pairs, err);
    long long alone = (long long)models * (o->n_batches ? o->n_batches : c->on_gpu ? 2 : 1),
              cascades = (long long)pairs * o->n_thresholds;
    if (!s && alone > BENCH_MAX)
        s = cascade_fail(err, CASCADE_EINVAL, "%d models x %d batch sizes is %lld figures alone, at most %d", models,
                         (int)(alone / models), alone, BENCH_MAX);
    if (!s && cascades > BENCH_MAX * 4)
        s = cascade_fail(err, CASCADE_EINVAL, "%d cascades x %d thresholds is %lld cascade figures, at most %d", pairs,
                         o->n_thresholds, cascades, BENCH_MAX * 4);
    return s;
}

// Loads every model named into c->models (freed by free_models, also on
// failure), then, on a GPU, checks the sizes against each model's largest
// batch; first, that the figures asked for fit the report.
static cascade_status check_lists(bench_context *c, const bench_options *o, cascade_error *err) {
    if (!(c->models = calloc(1, sizeof *c->models)))
        return cascade_fail(err, CASCADE_ENOMEM, "out of memory for the models");
    bench_walk w = {c, o, NULL};
    cascade_status s = check_counts(c, o, err);
    if (!s && !o->no_alone) s = for_each_item("--models", o->models, check_model, c->models, err);
    if (!s && !o->no_cascades) s = for_each_item("--cascades", o->cascades, check_pair, c->models, err);
    if (!s && c->on_gpu && !o->no_alone) s = for_each_item("--models", o->models, check_alone_sizes, &w, err);
    if (!s && c->on_gpu && !o->no_cascades) s = for_each_item("--cascades", o->cascades, check_pair_sizes, &w, err);
    return s;
}

static void free_models(bench_context *c) {
    for (int i = 0; c->models && i < c->models->n; i++) model_free(&c->models->models[i]);
    free(c->models);
    c->models = NULL;
}

// The GPU when asked for (or, for auto, when usable: else the CPU, saying why).
static cascade_status describe_device(bench_context *c, const bench_options *o, bench_report *r,
                                      cascade_error *err) {
    char name[256];
    cascade_error why;
    c->on_gpu = o->device_choice != DEVICE_CPU && gpu_usable(name, sizeof name, &why) == CASCADE_OK;
#ifdef CASCADE_HAVE_CUDA
    if (c->on_gpu) gpu_versions(r->versions, sizeof r->versions);
#endif
    // as the backends name themselves (a bench stopped before its first figure still names its device)
    if (c->on_gpu) snprintf(r->backend, sizeof r->backend, "gpu (%.120s)", name);
    else snprintf(r->backend, sizeof r->backend, "cpu (fp32, OpenBLAS)");
    if (!c->on_gpu) {
        if (o->device_choice == DEVICE_GPU) return cascade_fail(err, CASCADE_ENODEV, "--device gpu: %s", why.message);
        if (o->device_choice == DEVICE_AUTO)
            status_line(2.0, "notice: %s; benchmarking the CPU backend\n", why.message);
        const char *config = openblas_get_config(); // "OpenBLAS 0.3.21 ..." (not "OpenBLAS OpenBLAS")
        snprintf(r->versions, sizeof r->versions, "%s%s, core %s, %d threads", strncmp(config, "OpenBLAS", 8) ? "OpenBLAS " : "",
                 config, openblas_get_corename(), openblas_get_num_threads());
        r->sgemm_gflops = r->sgemm_start_gflops = measure_sgemm();
    }
    return CASCADE_OK;
}

// The host->device ceiling of this run: from a cudaHostAlloc buffer, and
// from the benchmark's own images (pinned in place, as the runs use them).
static cascade_status measure_upload(bench_context *c, bench_report *r, cascade_error *err) {
#ifdef CASCADE_HAVE_CUDA
    size_t bytes = (size_t)c->data.count * CIFAR_PIXELS / 4096 * 4096, cap = (size_t)256 << 20;
    if (bytes > cap) bytes = cap;
    cascade_status s = gpu_upload_rate(NULL, cap, &r->upload_pinned_gbps, err);
    if (!s && bytes >= 4096) s = gpu_upload_rate(c->data.pixels, bytes, &r->upload_data_gbps, err);
    return s;
#else
    (void)c, (void)r, (void)err;
    return CASCADE_OK;
#endif
}

// The images pinned once (after measure_upload, which pins a part itself):
// each backend's register_host then costs nothing. A failure here is left to
// attach_images, which tries again and says so.
static void pin_images(bench_context *c) {
#ifdef CASCADE_HAVE_CUDA
    cascade_error why;
    if (gpu_pin_host(c->data.pixels, (size_t)c->data.count * CIFAR_PIXELS, &c->pinned, &why)) c->pinned = 0;
#else
    (void)c;
#endif
}

static void unpin_images(bench_context *c) {
#ifdef CASCADE_HAVE_CUDA
    if (c->pinned) gpu_unpin_host(c->data.pixels);
#endif
    c->pinned = 0;
}

// What the bench will measure, said before it starts: it said nothing of its
// size until the table (a default CPU bench takes about 20 minutes).
static void say_plan(const bench_context *c, const bench_options *o, const bench_report *r) {
    int models = 0, cascades = 0;
    cascade_error ignored; // (the lists were checked: check_counts)
    if (!o->no_alone) (void)for_each_item("--models", o->models, count_item, &models, &ignored);
    if (!o->no_cascades) (void)for_each_item("--cascades", o->cascades, count_item, &cascades, &ignored);
    status_line(2.0, "cascade bench: %d model%s alone, %d cascade%s at %d threshold%s; %lld images a run, %d warm-up "
                "and %d timed run%s of each%s\n", models, models == 1 ? "" : "s", cascades, cascades == 1 ? "" : "s",
                cascades ? o->n_thresholds : 0, cascades && o->n_thresholds == 1 ? "" : "s", (long long)r->images,
                r->warmup, r->runs, r->runs == 1 ? "" : "s",
                c->on_gpu || o->images ? "" : " (on a CPU: minutes; --images, --runs or --models shorten it)");
}

cascade_status bench_execute(const bench_options *o, bench_report *r, cascade_error *err) {
    memset(r, 0, sizeof *r);
    double start = now_seconds();
    bench_context c = {0};
    c.erase = "";
    cascade_status s = describe_device(&c, o, r, err);
    if (!s) s = check_lists(&c, o, err);
    if (s) { free_models(&c); return s; }
    char path[1024];
    cifar_file source;
    if (!(s = assets_data_path(o->data, path, sizeof path, err))) snprintf(r->data, sizeof r->data, "%s", path);
    if (s || (s = cifar_open(&source, path, err))) { free_models(&c); return s; }
    r->images = o->images ? o->images : (c.on_gpu ? 1000000 : 2000);
    r->runs = (int)o->runs, r->warmup = (int)o->warmup, r->seed = (uint64_t)o->seed;
    r->warmup_images = c.warmup_images = o->warmup_images && o->warmup_images < r->images ? o->warmup_images
                                                                                          : r->images;
    for (int i = 0; !s && i < o->n_batches; i++)
        if (o->batch_values[i] > r->images) // (measured, it would be a figure at --images, named so)
            s = cascade_fail(err, CASCADE_EINVAL, "--batches: %d is more than the %lld images of a run (--images)",
                             o->batch_values[i], (long long)r->images);
    if (s) {
        cifar_close(&source);
        free_models(&c);
        return s;
    }
    s = bench_data_make(&c.data, &source, r->images, (uint64_t)o->seed, err);
    if (s) cascade_error_prefix(err, path);
    if (!s) s = mapped_file_unchanged(&source.map, path, err); // (its copy taken whole: measured on one content)
    cifar_close(&source);
    c.results.prediction = malloc((size_t)r->images * sizeof(int32_t));
    c.results.confidence = malloc((size_t)r->images * sizeof(float));
    c.results.deferred = malloc((size_t)r->images);
    if (!s && c.on_gpu) s = measure_upload(&c, r, err);
    if (!s && c.on_gpu) pin_images(&c);
    if (!s && (!c.results.prediction || !c.results.confidence || !c.results.deferred))
        s = cascade_fail(err, CASCADE_ENOMEM, "out of memory for results");
    bench_walk w = {&c, o, r};
    if (!s) say_plan(&c, o, r);
    if (!s) s = run_ready_cascades(&w, err); // (those whose models --models does not name)
    if (!s && !o->no_alone) s = for_each_item("--models", o->models, each_model, &w, err);
    r->complete = s == CASCADE_OK;
    int stopped = o->stop && *o->stop;
    if (r->complete && !stopped && !c.on_gpu) { // again at the end: another load on the cores shows as a change
        r->sgemm_end_gflops = measure_sgemm();
        if (r->sgemm_end_gflops > r->sgemm_gflops) r->sgemm_gflops = r->sgemm_end_gflops;
    }
    if (r->complete && o->stop && *o->stop) // every figure measured, then a signal: its exit status, all reported
        s = cascade_fail(err, CASCADE_EINTERRUPTED, "interrupted after the last figure");
    r->seconds = now_seconds() - start;
    free(c.results.prediction), free(c.results.confidence), free(c.results.deferred);
    unpin_images(&c);
    bench_data_free(&c.data);
    free_models(&c);
    return s;
}

void bench_report_free(bench_report *r) { (void)r; }
