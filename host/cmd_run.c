// cmd_run.c: `cascade run` — the cascade over a CIFAR-10 binary file.
// Images go through in a seeded random order (every prefix a uniform
// sample, so the intervals hold; --order file gives none), with running
// estimates, early stop (SIGINT, time budget, target interval width), and
// outputs written atomically for exactly the images processed.
#include "commands.h"
#include "status_line.h"
#include "version.h"
#include "assets.h"
#include "atomic_file.h"
#include "output_paths.h"
#include "interrupt.h"
#include "job.h"
#include "options.h"
#include "progress.h"
#include "sweep.h" // json_string
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

typedef struct {
    const char *cheap, *full, *data, *range, *output, *json, *progress_json, *watch_class, *device, *order;
    double threshold, time_budget, target_ci, progress_interval;
    long long limit, batch, chunk, seed;
    long long range_first, range_end; // --range FIRST:END (when range is given)
    int quiet;
} run_options;

static const char run_usage[] =
    "usage: cascade run [options]\n"
    "Runs the cascade: the cheap network on every image, the expensive network on\n"
    "the images whose softmax confidence is below the threshold.\n\n"
    "  --cheap NAME|PATH      cheap model (zoo name or .safetensors)   [alexnet_shallower]\n"
    "  --full NAME|PATH       expensive model; 'none' runs the cheap one alone   [resnet34]\n"
    "  --threshold T          defer images with confidence < T, in [0, 1]; 1 defers all\n"
    "                         (not with --full none)   [0.9]\n"
    "  --data FILE            CIFAR-10 binary file   [$CASCADE_ASSETS/data/cifar10/test_batch.bin]\n"
    "  --range FIRST:END      only records FIRST..END-1 of the file, in either order (a\n"
    "                         shard of a large file: index stays the file's record number)   [all]\n"
    "  --limit N              process only the first N images of the order (all of them\n"
    "                         when the file, or its --range, has fewer)\n"
    "  --seed S               seed of the random processing order (not with --order file)   [1]\n"
    "  --order random|file    random (seeded) order, or the file's own   [random]\n"
    "  --device auto|cpu|gpu  backend; auto = GPU when usable, else CPU   [auto]\n"
    "  --batch B              expensive-network batch size (not with --full none)   [GPU 1024, CPU 64, 32 per core past 2]\n"
    "  --chunk C              images per chunk through the cheap network   [GPU 8192, CPU 256, 32 per core past 8]\n"
    "  --output FILE          per-image CSV: index,prediction,confidence,deferred,label\n"
    "                         (confidence: the deciding model's, the expensive one's when deferred;\n"
    "                         rows in processing order, the seeded random one by default;\n"
    "                         index is the record's number in the file)\n"
    "  --json FILE            final report as JSON\n"
    "  --progress-json FILE   one JSON object per progress update, written live (removed\n"
    "                         if the run fails or a second signal stops it, an existing\n"
    "                         FILE put back); a reader that falls behind misses lines,\n"
    "                         never holds up the run\n"
    "  --progress-interval S  seconds between progress updates   [terminal 0.25, else 5; JSON 0.25]\n"
    "  --time-budget S        take no new images after S seconds; those in flight are\n"
    "                         finished first (on a CPU a few chunks' time: --chunk bounds it)\n"
    "  --target-ci W          stop once the 95% interval of the accuracy (or of\n"
    "                         --watch-class's share) is narrower than W; the interval is\n"
    "                         about the run's images (the file, its --range, its --limit): a\n"
    "                         finished run's is exact. Random order only: a prefix of\n"
    "                         the file's order is no sample, and gets no intervals\n"
    "  --watch-class NAME     a class whose share the progress shows and --target-ci watches\n"
    "  --quiet                no progress display\n\n"
    "SIGINT or SIGTERM stops early (drains in-flight work, then reports and writes the outputs);\n"
    "a second one (or SIGHUP) exits at once, writing nothing.\n"
    "Outputs cover exactly the images processed and appear whole or not at all; an output\n"
    "FILE of - is standard output (the summary then goes to stderr); no output may be an\n"
    "input or another output (exit 2).\n"
    "Exit status: 0 done (also when a budget stopped it), 1 error, 2 bad usage,\n"
    "130 / 143 stopped by SIGINT / SIGTERM (the outputs are written), 129 SIGHUP (at once,\n"
    "nothing written; ignored where it was ignored from the start, as under nohup).\n";

// The time budget's timer stops the pipeline like a signal does (interrupt.h's
// stop flag), so that a stop takes effect at once, not at the next progress
// update (which can be several expensive batches away).
static void on_time_budget(int sig) {
    (void)sig;
    command_request_stop();
}

// Arms (seconds > 0) or disarms (0) the one-shot timer of --time-budget.
static void time_budget_timer(double seconds) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = seconds > 0 ? on_time_budget : SIG_DFL;
    sa.sa_flags = SA_RESTART;
    interrupt_handler_mask(&sa.sa_mask); // the stop signals held while it runs, as in interrupt.c's handlers
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_sec = (time_t)seconds;
    t.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
    if (seconds > 0 && !t.it_value.tv_sec && !t.it_value.tv_usec) t.it_value.tv_usec = 1;
    if (seconds > 0) sigaction(SIGALRM, &sa, NULL);
    setitimer(ITIMER_REAL, &t, NULL);
    if (seconds <= 0) sigaction(SIGALRM, &sa, NULL);
}

static cascade_status parse_run(int argc, char **argv, run_options *o, int *help, cascade_error *err) {
    *o = (run_options){.cheap = "alexnet_shallower", .full = "resnet34", .threshold = -1, .seed = -1,
                       .device = "auto", .order = "random", .progress_interval = -1};
    const option_spec specs[] = {
        {"--cheap", OPT_STRING, &o->cheap, 0, 0},       {"--full", OPT_STRING, &o->full, 0, 0},
        {"--data", OPT_STRING, &o->data, 0, 0},         {"--range", OPT_STRING, &o->range, 0, 0},
        {"--output", OPT_STRING, &o->output, 0, 0},
        {"--json", OPT_STRING, &o->json, 0, 0},         {"--progress-json", OPT_STRING, &o->progress_json, 0, 0},
        {"--watch-class", OPT_STRING, &o->watch_class, 0, 0}, {"--device", OPT_STRING, &o->device, 0, 0},
        {"--order", OPT_STRING, &o->order, 0, 0},       {"--threshold", OPT_FLOAT, &o->threshold, 0, 1},
        {"--time-budget", OPT_FLOAT, &o->time_budget, 1e-3, 1e9},
        {"--target-ci", OPT_FLOAT, &o->target_ci, 1e-9, 1},
        {"--progress-interval", OPT_FLOAT, &o->progress_interval, 0, 1e6},
        {"--limit", OPT_INT, &o->limit, 1, 0x7fffffff}, {"--batch", OPT_INT, &o->batch, 1, 1 << 20},
        {"--chunk", OPT_INT, &o->chunk, 1, 1 << 22},    {"--seed", OPT_INT, &o->seed, 0, 9e18},
        {"--quiet", OPT_FLAG, &o->quiet, 0, 0},         {NULL, 0, NULL, 0, 0}};
    cascade_status s = parse_options("run", argc, argv, specs, help, err);
    if (s || *help) return s;
    if (strcmp(o->order, "random") && strcmp(o->order, "file"))
        return cascade_fail(err, CASCADE_EINVAL, "--order: '%s' is not 'random' or 'file'", o->order);
    if (o->seed >= 0 && !strcmp(o->order, "file")) // it orders nothing: which was meant?
        return cascade_fail(err, CASCADE_EINVAL, "--seed with --order file: the file's order takes no seed");
    if (o->target_ci > 0 && !strcmp(o->order, "file")) // a prefix of the file's order is no sample of the rest
        return cascade_fail(err, CASCADE_EINVAL, "--target-ci with --order file: its interval needs the random order "
                            "(a prefix of the file says nothing of the rest)");
    if (o->seed < 0) o->seed = 1;
    if (o->threshold >= 0 && !strcmp(o->full, "none"))
        return cascade_fail(err, CASCADE_EINVAL, "--threshold with --full none: the cheap model alone defers nothing");
    if (o->batch > 0 && !strcmp(o->full, "none"))
        return cascade_fail(err, CASCADE_EINVAL, "--batch with --full none: there is no expensive network to batch");
    if (o->threshold < 0) o->threshold = 0.9;
    if (o->range && (s = parse_record_range("--range", o->range, &o->range_first, &o->range_end, err))) return s;
    return check_thresholds("--threshold", &o->threshold, 1, err);
}

typedef struct {
    run_options opt;
    model cheap, full;
    int has_full;
    cifar_file data;   // the file's records, or its --range alone (data.first: the range's FIRST)
    int records_in_file; // (the whole file's count, data.count before a --range)
    uint32_t *order;
    int64_t total;
    cascade_backend backend;
    cascade_results results;
    atomic_file output, json, progress_json;
    char data_file[1024]; // --data, or the test set
    char notice[512];
} run_state;

#define EAGER_LABEL_CHECK ((size_t)256 << 20)

// Whether to read the whole data file once, in file order, checking every
// label, before the run (else each label is checked as its image is
// aggregated, progress_update). Yes for a small file (fails before any work),
// and for a random order over much of the file: it reads all of it anyway,
// and one sequential pass brings a cold file in faster than the random reads
// would (3 GB file, cold cache, 2 cores: 9.7k images in a 2 s budget after the
// pass, 1.0k without it). No for a run over a prefix (--order file) or a small
// random sample of a large file: those read only the records they use; nor
// for a large file under --time-budget or --target-ci, which may stop after a
// few images: the pass came before the budget's clock (15.7 s for a 2 s
// budget on a cold 9 GB file), where the budget is to bound the job.
static int scan_whole_file(const run_state *r) {
    size_t bytes = (size_t)r->data.count * CIFAR_RECORD;
    int in_file_order = !strcmp(r->opt.order, "file");
    int may_stop_early = r->opt.time_budget > 0 || r->opt.target_ci > 0;
    return bytes <= EAGER_LABEL_CHECK || (!in_file_order && !may_stop_early && r->total >= r->data.count / 512);
}

// That pass, a block of records at a time: a stop signal ends it (seconds or
// minutes on a large cold file: it ignored SIGINT), and the run then takes
// no image, stopped before its first.
static cascade_status check_all_labels(const run_state *r, cascade_error *err) {
    enum { BLOCK = 4096 };
    for (int first = 0; first < r->data.count && !command_stopped(); first += BLOCK) {
        cascade_status s = cifar_check_labels(&r->data, first, r->data.count - first < BLOCK ? r->data.count - first
                                                                                           : BLOCK, err);
        if (s) return s;
    }
    return CASCADE_OK;
}

// --range: the data file's records FIRST..END-1 are the run's.
static cascade_status keep_range(run_state *r, cascade_error *err) {
    long long first = r->opt.range_first, end = r->opt.range_end;
    if (end > r->data.count)
        return cascade_fail(err, CASCADE_EINVAL, "--range: records %lld..%lld are not all in %s (%d records)", first,
                            end - 1, r->data_file, r->data.count);
    r->records_in_file = r->data.count;
    cifar_keep_range(&r->data, (int)first, (int)end);
    return CASCADE_OK;
}

static cascade_status open_inputs(run_state *r, cascade_error *err) {
    const char *path = r->data_file;
    cascade_status s = assets_data_path(r->opt.data, r->data_file, sizeof r->data_file, err);
    if (!s) s = load_named_model(&r->cheap, r->opt.cheap, err);
    r->has_full = strcmp(r->opt.full, "none") != 0;
    if (!s && r->has_full) s = load_named_model(&r->full, r->opt.full, err);
    if (!s && r->has_full) s = model_check_pair(&r->cheap, r->opt.cheap, &r->full, r->opt.full, err);
    if (!s) s = cifar_open(&r->data, path, err);
    if (!s && r->opt.range) s = keep_range(r, err);
    if (s) return s;
    r->total = r->opt.limit && r->opt.limit < r->data.count ? r->opt.limit : r->data.count;
    if (scan_whole_file(r) && (s = check_all_labels(r, err))) {
        cascade_error_prefix(err, path);
        return s;
    }
    int in_file_order = !strcmp(r->opt.order, "file"); // the first total records: an order of those alone
    r->order = malloc((size_t)(in_file_order ? r->total : r->data.count) * sizeof(uint32_t));
    r->results.prediction = malloc((size_t)r->total * sizeof(int32_t));
    r->results.confidence = malloc((size_t)r->total * sizeof(float));
    r->results.deferred = malloc((size_t)r->total);
    if (!r->order || !r->results.prediction || !r->results.confidence || !r->results.deferred)
        return cascade_fail(err, CASCADE_ENOMEM, "out of memory for %lld results", (long long)r->total);
    if (in_file_order)
        for (int64_t i = 0; i < r->total; i++) r->order[i] = (uint32_t)i;
    else if (!command_stopped()) shuffled_order(r->order, r->data.count, (uint64_t)r->opt.seed); // (stopped: no image)
    if (!in_file_order) mapped_file_expect_random(&r->data.map); // (after the whole-file pass, which reads in order)
    return CASCADE_OK;
}

// Outputs are opened before the run, so a bad path fails in a second, not after the job.
static cascade_status open_outputs_early(run_state *r, cascade_error *err) {
    const run_options *o = &r->opt;
    named_path outputs[] = {{"--output", o->output, 0}, {"--json", o->json, 0}, {"--progress-json", o->progress_json, 0}},
               inputs[] = {{"--data", r->data_file, 0}, {"--cheap", o->cheap, 3}, {"--full", o->full, 3}};
    cascade_status s = output_paths_check(outputs, 3, inputs, 3, err);
    if (s) return s;
    if (r->opt.output && !(s = atomic_file_open(&r->output, r->opt.output, err))) interrupt_track(&r->output);
    if (!s && r->opt.json && !(s = atomic_file_open(&r->json, r->opt.json, err))) interrupt_track(&r->json);
    if (!s && r->opt.progress_json && !(s = atomic_file_open(&r->progress_json, r->opt.progress_json, err)))
        interrupt_track(&r->progress_json); // live once the work starts (execute)
    return s;
}

static void write_predictions(run_state *r, int64_t processed) {
    FILE *f = r->output.file;
    fprintf(f, "index,prediction,confidence,deferred,label\n");
    for (int64_t pos = 0; pos < processed; pos++) {
        uint32_t rec = r->order[pos];
        fprintf(f, "%lld,%d,%.9g,%d,%d\n", (long long)rec + r->data.first, r->results.prediction[pos],
                r->results.confidence[pos],
                r->results.deferred[pos], cifar_label(&r->data, (int)rec));
    }
}

// "watched" (the --watch-class share) and "target_ci" (the rule, and where it was met: the in-flight
// images drained after it may widen the final interval a little, as Wilson's width is not monotone in n)
static void write_stop_rule(FILE *f, const run_state *r, const progress_state *p) {
    const running_estimate *e = &p->estimate;
    if (p->watch_class >= 0) {
        int64_t k = e->predicted[p->watch_class];
        fprintf(f, "  \"watched\": {\"class\": ");
        json_string(f, r->opt.watch_class);
        fprintf(f, ", \"count\": %lld, ", (long long)k);
        json_proportion_fields(f, "share", k, e->seen, p->sampled, progress_watched(p), 1);
        fprintf(f, "},\n");
    } else fprintf(f, "  \"watched\": null,\n");
    char w[NUMBER_TEXT_CAP];
    if (p->target_ci <= 0) fprintf(f, "  \"target_ci\": null,\n");
    else if (!p->rule_met_at)
        fprintf(f, "  \"target_ci\": {\"width\": %s, \"met_at\": null},\n", number_text(p->target_ci, w));
    else
        fprintf(f, "  \"target_ci\": {\"width\": %s, \"met_at\": %lld, \"low\": %.6f, \"high\": %.6f},\n",
                number_text(p->target_ci, w), (long long)p->rule_met_at, p->rule_met.low, p->rule_met.high);
}

static void write_report(FILE *f, const run_state *r, const progress_state *p, const cascade_summary *sum,
                         double elapsed) {
    const running_estimate *e = &p->estimate;
    fprintf(f, "{\n  \"cheap\": "); // as named (a zoo name or a path), then the architecture
    json_string(f, r->opt.cheap);
    fprintf(f, ",\n  \"full\": ");
    json_string(f, r->opt.full);
    fprintf(f, ",\n  \"cheap_arch\": \"%s\",\n  \"full_arch\": \"%s\",\n  \"threshold\": ", r->cheap.arch,
            r->has_full ? r->full.arch : "none");
    char thr[NUMBER_TEXT_CAP];
    if (r->has_full) fprintf(f, "%s,\n  \"backend\": ", number_text(r->opt.threshold, thr));
    else fprintf(f, "null,\n  \"backend\": "); // the cheap model alone: no threshold applies
    json_string(f, r->backend.name);
    fprintf(f, ",\n  \"version\": ");
    json_string(f, cascade_version());
    fprintf(f, ",\n  \"data\": "); // what reproduces the run: the file, its records, the geometry
    json_string(f, r->data_file);
    fprintf(f, ",\n  \"records\": %lld,\n", (long long)(r->opt.range ? r->records_in_file : r->data.count));
    if (r->opt.range)
        fprintf(f, "  \"range\": {\"first\": %d, \"end\": %lld},\n", r->data.first,
                (long long)r->data.first + r->data.count);
    else fprintf(f, "  \"range\": null,\n");
    fprintf(f, "  \"chunk\": %d,\n  \"batch\": ", r->backend.chunk_capacity);
    if (r->has_full) fprintf(f, "%d,\n", r->backend.expensive_batch);
    else fprintf(f, "null,\n");
    fprintf(f, "  \"total\": %lld,\n  \"processed\": %lld,\n  \"complete\": %s,\n  \"stopped_by\": \"%s\",\n",
            (long long)r->total, (long long)sum->processed, sum->complete ? "true" : "false",
            stop_reason_name(p->stop));
    if (p->stop) fprintf(f, "  \"stop_requested_s\": %.3f,\n", p->stop_elapsed);
    else fprintf(f, "  \"stop_requested_s\": null,\n");
    fprintf(f, "  \"deferred\": {\"count\": %lld, ", (long long)e->deferred);
    json_proportion_fields(f, "fraction", e->deferred, e->seen, p->sampled, progress_deferred(p), 1);
    fprintf(f, "},\n  \"accuracy\": {\"correct\": %lld, ", (long long)e->correct);
    json_proportion_fields(f, "value", e->correct, e->labelled, p->sampled,
                           wilson_interval(e->correct, e->labelled, e->population), 1);
    fprintf(f, "},\n");
    write_stop_rule(f, r, p);
    fprintf(f, "  \"elapsed_s\": %.3f,\n  \"images_per_s\": %.1f,\n", elapsed,
            elapsed > 0 ? sum->processed / elapsed : 0);
    if (!strcmp(r->opt.order, "file")) fprintf(f, "  \"seed\": null,\n  \"order\": \"file\",\n");
    else fprintf(f, "  \"seed\": %lld,\n  \"order\": \"random\",\n", r->opt.seed);
    fprintf(f, "  \"predicted\": {");
    for (int c = 0; c < e->num_classes; c++)
        fprintf(f, "%s\"%s\": %lld", c ? ", " : "", r->cheap.class_names[c], (long long)e->predicted[c]);
    fprintf(f, "}\n}\n");
}

static void print_summary(const run_state *r, const progress_state *p, const cascade_summary *sum, double elapsed) {
    const running_estimate *e = &p->estimate;
    char thr[NUMBER_TEXT_CAP];
    if (r->has_full)
        printf("cascade     %s -> %s at threshold %s\n", r->opt.cheap, r->opt.full, number_text(r->opt.threshold, thr));
    else printf("model       %s alone\n", r->opt.cheap);
    printf("backend     %s\n", r->backend.name);
    if (r->opt.range)
        printf("range       records %d..%lld of %d\n", r->data.first, (long long)r->data.first + r->data.count - 1,
               r->records_in_file);
    printf("images      %lld of %lld%s\n", (long long)sum->processed, (long long)r->total,
           sum->complete ? "" : " (complete: false)");
    if (!sum->complete)
        printf("stopped by  %s, requested at %.2f s (in-flight work drained by %.2f s)\n", stop_reason_name(p->stop),
               p->stop_elapsed, elapsed);
    else if (p->stop != STOP_NONE) // as the JSON says it: the stop came after the last image was taken
        printf("stopped by  %s, requested at %.2f s, after the last image was taken (none left out)\n",
               stop_reason_name(p->stop), p->stop_elapsed);
    if (e->seen) printf("deferred    %.4f", (double)e->deferred / e->seen);
    else printf("deferred    -"); // no image: no fraction (null in the JSON)
    printf(" (%lld images, %lld expensive batches)\n", (long long)e->deferred, (long long)sum->expensive_batches);
    if (e->labelled) {
        interval a = wilson_interval(e->correct, e->labelled, e->population);
        printf("accuracy    %.4f", (double)e->correct / e->labelled);
        if (!sum->complete && p->sampled) printf("  95%% CI [%.4f, %.4f]", a.low, a.high);
        printf("\n");
    }
    if (p->watch_class >= 0 && !e->seen) printf("watched     %s: - (no image processed)\n", r->opt.watch_class);
    else if (p->watch_class >= 0) {
        int64_t k = e->predicted[p->watch_class];
        interval w = progress_watched(p);
        printf("watched     %s: %.4f of the images (%lld)", r->opt.watch_class, (double)k / e->seen, (long long)k);
        if (!sum->complete && p->sampled) printf("  95%% CI [%.4f, %.4f]", w.low, w.high);
        printf("\n");
    }
    char w[NUMBER_TEXT_CAP];
    if (p->rule_met_at) // (the drained images after it may widen the final interval a little)
        printf("target-ci   met at %lld images: [%.6f, %.6f], narrower than %s\n", (long long)p->rule_met_at,
               p->rule_met.low, p->rule_met.high, number_text(p->target_ci, w));
    printf("images/s    %.1f (%.2f s)\n", elapsed > 0 ? sum->processed / elapsed : 0, elapsed);
}

// All outputs or none: every file is flushed and synced (where a full disk
// shows) before the first is renamed into place.
static int finish_outputs(run_state *r, progress_state *p, const cascade_summary *sum, double elapsed,
                          cascade_error *err) {
    cascade_status s = mapped_file_unchanged(&r->data.map, r->data_file, err); // (or the results may mix two files)
    if (s) return s;
    if (r->opt.output) write_predictions(r, sum->processed);
    if (r->opt.json) write_report(r->json.file, r, p, sum, elapsed);
    atomic_file *outputs[3] = {r->opt.output ? &r->output : NULL, r->opt.json ? &r->json : NULL,
                               r->opt.progress_json ? &r->progress_json : NULL};
    return atomic_files_commit(outputs, 3, err); // still tracked: a second signal now leaves no temporary file
}

static cascade_status execute(run_state *r, progress_state *p, cascade_summary *sum, double *elapsed,
                              cascade_error *err) {
    device_choice device;
    cascade_status s = parse_device(r->opt.device, &device, err);
    if (!s) s = open_inputs(r, err);
    int watch = -1;
    if (!s && r->opt.watch_class) {
        for (int c = 0; c < r->cheap.num_classes; c++)
            if (!strcmp(r->cheap.class_names[c], r->opt.watch_class)) watch = c;
        if (watch < 0) s = cascade_fail(err, CASCADE_EINVAL, "--watch-class: no class named '%s'", r->opt.watch_class);
    }
    if (!s) s = open_outputs_early(r, err);
    if (!s) s = backend_open(&r->backend, device, &r->cheap, r->has_full ? &r->full : NULL, (int)r->opt.chunk,
                             (int)r->opt.batch, r->notice, sizeof r->notice, err);
    if (!s && r->opt.progress_json) s = atomic_file_go_live(&r->progress_json, r->opt.progress_json, err);
    if (s) return s;
    model_drop_weights(&r->cheap); // the networks hold their own copies now
    if (r->has_full) model_drop_weights(&r->full);
    if (r->notice[0]) status_line(2.0, "%s\n", r->notice);
    progress_init(p, &r->data, r->order, &r->cheap, r->total);
    p->quiet = r->opt.quiet, p->time_budget = r->opt.time_budget, p->target_ci = r->opt.target_ci;
    p->watch_class = watch, p->interrupted = &command_signal, p->json = r->progress_json.file;
    p->alone = !r->has_full;
    p->sampled = strcmp(r->opt.order, "file") != 0;
    if (r->opt.progress_interval >= 0) p->draw_interval = p->json_interval = r->opt.progress_interval;
    image_source src = {&r->data, r->order};
    cascade_job job = {&r->backend, r->opt.threshold, r->has_full, r->total, image_source_fill, &src,
                       progress_update, p, &command_stop};
    if (r->opt.time_budget > 0) time_budget_timer(r->opt.time_budget - (now_seconds() - p->start));
    s = cascade_run(&job, &r->results, sum, err);
    if (r->opt.time_budget > 0) time_budget_timer(0);
    *elapsed = now_seconds() - p->start;
    if (!s && p->bad_record >= 0) { // found as its image was aggregated: an error, no output
        s = cifar_bad_label(r->data.first + (int)p->bad_record, cifar_label(&r->data, (int)p->bad_record), err);
        cascade_error_prefix(err, r->data_file);
        return s;
    }
    if (!s && command_stopped()) {
        // a stop requested between progress updates: name it and date it
        if (p->stop == STOP_NONE) p->stop = command_signal ? STOP_INTERRUPT : STOP_TIME_BUDGET;
        double at = command_stop_at - p->start; // (before the start: while the models loaded, 0)
        if (at < 0) at = 0;
        if (p->stop_elapsed <= 0 || at < p->stop_elapsed) p->stop_elapsed = at;
    }
    if (!s) progress_finish(p);
    return s;
}

static void release(run_state *r) {
    atomic_file_abort(&r->output), atomic_file_abort(&r->json), atomic_file_abort(&r->progress_json);
    backend_close(&r->backend);
    model_free(&r->cheap);
    if (r->has_full) model_free(&r->full);
    cifar_close(&r->data);
    free(r->order), free(r->results.prediction), free(r->results.confidence), free(r->results.deferred);
}

int cmd_run(int argc, char **argv) {
    static run_state r; // large; zeroed
    memset(&r, 0, sizeof r);
    cascade_error err = {{0}};
    int help = 0;
    if (parse_run(argc, argv, &r.opt, &help, &err)) {
        fprintf(stderr, "cascade run: %s\n", err.message);
        return EXIT_USAGE;
    }
    if (help) { fputs(run_usage, stdout); return 0; }
    interrupt_install();
    progress_state p;
    cascade_summary sum;
    double elapsed = 0;
    cascade_status s = execute(&r, &p, &sum, &elapsed, &err);
    if (!s) s = finish_outputs(&r, &p, &sum, elapsed, &err);
    if (!s) print_summary(&r, &p, &sum, elapsed);
    release(&r);
    interrupt_restore(); // forgets the tracked outputs too
    if (s) {
        fprintf(stderr, "cascade run: %s\n", err.message);
        return s == CASCADE_EINVAL ? EXIT_USAGE : s == CASCADE_EINTERRUPTED ? interrupted_exit_code() : 1;
    }
    return p.stop == STOP_INTERRUPT ? interrupted_exit_code() : 0;
}
