// cmd_sweep.c: `cascade sweep` — every (cheap model, threshold) cascade's
// accuracy, deferred fraction and predicted throughput from one pass of each
// model alone over the data; the Pareto frontier as a table, a CSV of every
// point, an SVG plot and a JSON report.
#include "commands.h"
#include "version.h"
#include "assets.h"
#include "atomic_file.h"
#include "output_paths.h"
#include "interrupt.h"
#include "options.h"
#include "sweep.h"
#include "sweep_svg.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *cheap, *full, *thresholds, *data, *range, *device, *csv, *svg, *json, *throughputs, *throughput_from;
    long long limit, chunk;
    int quiet;
} sweep_options;

static const char sweep_usage[] =
    "usage: cascade sweep [options]\n"
    "Runs each cheap model and the expensive model alone, once, over the data and\n"
    "derives from their per-image predictions and confidences, exactly, every\n"
    "(cheap model, threshold) cascade's deferred fraction p, accuracy and agreement\n"
    "with the expensive model; with each model's measured throughput alone T, the\n"
    "predicted cascade throughput 1 / (1/T_cheap + p/T_full). Prints the Pareto\n"
    "frontier (accuracy vs predicted images/s).\n\n"
    "  --cheap LIST           cheap models, comma-separated, none the --full one\n"
    "                         [lenet,alexnet_shallower,alexnet_shallow,alexnet, but the --full model]\n"
    "  --full NAME|PATH       expensive model   [resnet34]\n"
    "  --thresholds LIST      thresholds: a,b,c or lo:hi:step   [0.5:0.99:0.01]\n"
    "  --data FILE            CIFAR-10 binary file   [$CASCADE_ASSETS/data/cifar10/test_batch.bin]\n"
    "  --range FIRST:END      only records FIRST..END-1 of the file   [all]\n"
    "  --limit N              only the first N images (of the range)\n"
    "  --device auto|cpu|gpu  backend; auto = GPU when usable, else CPU   [auto]\n"
    "  --chunk C              images per chunk   [GPU 8192, CPU 256, 32 per core past 8]\n"
    "  --throughputs LIST     name=images_per_s,... : use these throughputs instead of the\n"
    "                         measured ones for the prediction (e.g. GPU figures while\n"
    "                         sweeping on a CPU); the models still run for their predictions;\n"
    "                         one figure per model, by the name or path it was given with\n"
    "                         (a name no model has is taken as an architecture); a model\n"
    "                         without one keeps its measured figure, marked so in the table\n"
    "  --throughput-from FILE the same as a file: name=images_per_s items separated by\n"
    "                         commas or newlines, '#' comments; or the JSON of\n"
    "                         `cascade bench --json`; --throughputs wins over it\n"
    "  --csv FILE             every point: cheap,threshold,images,deferred,deferred_fraction,\n"
    "                         correct,accuracy,agree,agreement,cheap_images_per_s,\n"
    "                         full_images_per_s,predicted_images_per_s,pareto\n"
    "                         (the expensive model alone is the row with cheap 'none')\n"
    "  --svg FILE             plot: points per cheap model, the frontier, the expensive model alone\n"
    "  --json FILE            report: models, throughputs, the frontier\n"
    "  --quiet                no progress nor line per model pass on stderr\n\n"
    "Throughputs are measured as wall time of each model alone through the pipeline\n"
    "(after an untimed warm-up chunk on the GPU); on the CPU backend they describe the\n"
    "CPU. Outputs appear whole or not at all; an output FILE of - is standard output\n"
    "(the report then goes to stderr); no output may be an input or another output.\n"
    "Exit status: 0 done, 1 error, 2 bad usage, 130 / 143 stopped by SIGINT / SIGTERM\n"
    "(no output is written), 129 SIGHUP (at once, nothing written; ignored where it was\n"
    "ignored from the start, as under nohup).\n";

static cascade_status parse_sweep(int argc, char **argv, sweep_options *o, int *help, cascade_error *err) {
    *o = (sweep_options){.cheap = sweep_default_cheap, .full = "resnet34",
                         .thresholds = "0.5:0.99:0.01", .device = "auto"};
    const option_spec specs[] = {
        {"--cheap", OPT_LIST, &o->cheap, 0, 0},             {"--full", OPT_STRING, &o->full, 0, 0},
        {"--thresholds", OPT_LIST, &o->thresholds, 0, 0},   {"--data", OPT_STRING, &o->data, 0, 0},
        {"--range", OPT_STRING, &o->range, 0, 0},           {"--device", OPT_STRING, &o->device, 0, 0},
        {"--csv", OPT_STRING, &o->csv, 0, 0},               {"--svg", OPT_STRING, &o->svg, 0, 0},
        {"--json", OPT_STRING, &o->json, 0, 0},             {"--throughputs", OPT_LIST, &o->throughputs, 0, 0},
        {"--throughput-from", OPT_STRING, &o->throughput_from, 0, 0},
        {"--limit", OPT_INT, &o->limit, 1, 0x7fffffff},     {"--chunk", OPT_INT, &o->chunk, 1, 1 << 22},
        {"--quiet", OPT_FLAG, &o->quiet, 0, 0},             {NULL, 0, NULL, 0, 0}};
    return parse_options("sweep", argc, argv, specs, help, err);
}

typedef struct {
    sweep_options opt;
    sweep_setup setup;
    data_range data;
    sweep_input input;
    sweep_point *points;
    atomic_file csv, svg, json;
    pass_settings settings;
} sweep_state;

// Everything that can be checked before the (long) passes is checked here.
static cascade_status prepare(sweep_state *s, cascade_error *err) {
    const sweep_options *o = &s->opt;
    sweep_setup_options so = {o->cheap, o->full, o->device, o->thresholds, o->throughputs, o->throughput_from,
                              "a sweep needs an expensive model"};
    named_path outputs[] = {{"--csv", o->csv, 0}, {"--svg", o->svg, 0}, {"--json", o->json, 0}},
               read_first[] = {{"--throughput-from", o->throughput_from, 0}};
    // (before that file is read, and its notices said, for a command refused anyway)
    cascade_status st = output_paths_check(outputs, 3, read_first, 1, err);
    if (!st) st = sweep_setup_prepare(&s->setup, &so, err);
    if (st) return st;
    char data_path[1024];
    st = assets_data_path(o->data, data_path, sizeof data_path, err);
    if (!st) st = data_range_open(&s->data, data_path, "--range", o->range, 0, -1, o->limit, err);
    named_path inputs[] = {{"--data", data_path, 0}, {"--cheap", o->cheap, 1}, {"--full", o->full, 3},
                           {"--throughput-from", o->throughput_from, 0}};
    if (!st) st = output_paths_check(outputs, 3, inputs, 4, err);
    if (!st && o->csv && !(st = atomic_file_open(&s->csv, o->csv, err))) interrupt_track(&s->csv);
    if (!st && o->svg && !(st = atomic_file_open(&s->svg, o->svg, err))) interrupt_track(&s->svg);
    if (!st && o->json && !(st = atomic_file_open(&s->json, o->json, err))) interrupt_track(&s->json);
    return st;
}

static const char *data_name(const data_range *d) {
    const char *slash = strrchr(d->path, '/');
    return slash ? slash + 1 : d->path;
}

static void point_name(const sweep_input *in, const sweep_point *p, char *name, size_t cap) {
    if (p->cheap >= 0) snprintf(name, cap, "%s", in->cheap[p->cheap].name);
    else snprintf(name, cap, "%s alone", in->full->name);
}

static void print_point_row(const sweep_input *in, const sweep_point *p, int width) {
    char name[MODEL_NAME_CAP + 8];
    point_name(in, p, name, sizeof name);
    printf("  %-*s ", pad_width(width, name), name);
    char thr[NUMBER_TEXT_CAP];
    if (p->cheap >= 0) printf("%9s", number_text(p->threshold, thr));
    else printf("%9s", "-");
    printf("  %8.4f  ", p->deferred_fraction);
    if (p->accuracy >= 0) printf("%8.4f", p->accuracy);
    else printf("%8s", "-");
    printf("  %9.4f  %12.1f  %7.2fx\n", p->agreement, p->predicted_images_per_s,
           in->full->images_per_s > 0 ? p->predicted_images_per_s / in->full->images_per_s : 0);
}

static void print_report(const sweep_state *s) {
    const sweep_input *in = &s->input;
    int n = sweep_point_count(in), n_front = 0;
    printf("sweep       %d cheap model(s) x %d threshold(s) -> %s\n", s->setup.n_cheap, s->setup.n_thresholds,
           s->opt.full);
    printf("data        %s records %d..%lld (%lld images)\n", data_name(&s->data), s->data.first,
           (long long)(s->data.first + s->data.n - 1), (long long)s->data.n);
    printf("backend     %s\n", s->settings.backend);
    int width = 22;
    for (int i = 0; i <= s->setup.n_cheap; i++)
        width = column_width(width, i < s->setup.n_cheap ? s->setup.cheap[i].name : s->setup.full.name);
    printf("alone       %-*s %10s    accuracy\n", width, "model", "images/s");
    for (int i = 0; i <= s->setup.n_cheap; i++) {
        const model_pass *m = i < s->setup.n_cheap ? &s->setup.cheap[i] : &s->setup.full;
        int64_t correct = 0;
        for (int64_t k = 0; k < s->data.n; k++) correct += m->prediction[k] == s->data.labels[k];
        printf("            %-*s %10.1f    %.4f  (%s)\n", pad_width(width, m->name), m->name, m->images_per_s,
               (double)correct / s->data.n,
               m->throughput_given ? "throughput given" : "throughput measured");
    }
    for (int i = 0; i < n; i++) n_front += s->points[i].pareto;
    printf("\nPareto frontier, accuracy vs predicted images/s (%d of %d points, fastest first):\n", n_front, n);
    width = 22;
    char name[MODEL_NAME_CAP + 8];
    for (int i = sweep_frontier_next(s->points, n, -1); i >= 0; i = sweep_frontier_next(s->points, n, i))
        point_name(in, &s->points[i], name, sizeof name), width = column_width(width, name);
    printf("  %-*s %9s  %8s  %8s  %9s  %12s  %8s\n", width, "cheap", "threshold", "deferred", "accuracy", "agreement",
           "images/s", "speed-up");
    for (int i = sweep_frontier_next(s->points, n, -1); i >= 0; i = sweep_frontier_next(s->points, n, i))
        print_point_row(in, &s->points[i], width);
    printf("(speed-up: predicted images/s over %s alone)\n", s->opt.full);
}

static void write_json(FILE *f, const sweep_state *s) {
    const sweep_input *in = &s->input;
    fprintf(f, "{\n  \"data\": ");
    json_string(f, s->data.path);
    fprintf(f, ",\n  \"first\": %d,\n  \"images\": %lld,\n  \"backend\": ", s->data.first, (long long)s->data.n);
    json_string(f, s->settings.backend);
    fprintf(f, ",\n  \"version\": ");
    json_string(f, cascade_version());
    fprintf(f, ",\n  \"models\": ");
    sweep_write_models_json(f, &s->setup, &s->data);
    fprintf(f, ",\n  \"thresholds\": %d,\n  \"frontier\": [\n", s->setup.n_thresholds);
    int n = sweep_point_count(in), first = 1;
    for (int i = 0; i < n; i++) {
        const sweep_point *p = &s->points[i];
        if (!p->pareto) continue;
        fprintf(f, "%s    {\"cheap\": ", first ? "" : ",\n");
        char thr[NUMBER_TEXT_CAP];
        if (p->cheap >= 0) json_string(f, in->cheap[p->cheap].name), fprintf(f, ", \"threshold\": %s", number_text(p->threshold, thr));
        else fprintf(f, "null, \"threshold\": null");
        fprintf(f, ", \"deferred_fraction\": %.6f, \"accuracy\": %.6f, \"agreement\": %.6f, "
                   "\"predicted_images_per_s\": %.9g}",
                p->deferred_fraction, p->accuracy, p->agreement, p->predicted_images_per_s);
        first = 0;
    }
    fprintf(f, "\n  ]\n}\n");
}

static void write_svg(FILE *f, const sweep_state *s) {
    const char *names[SWEEP_MAX_MODELS];
    for (int i = 0; i < s->setup.n_cheap; i++) names[i] = s->setup.cheap_names[i];
    int given = s->setup.full.throughput_given;
    for (int i = 0; i < s->setup.n_cheap; i++) given += s->setup.cheap[i].throughput_given;
    char subtitle[2048];
    snprintf(subtitle, sizeof subtitle, "%s, %lld images; thresholds %s; throughputs %s%s", data_name(&s->data),
             (long long)s->data.n, s->opt.thresholds,
             given == s->setup.n_cheap + 1 ? "given" : given ? "partly given, partly measured on " : "measured on ",
             given == s->setup.n_cheap + 1 ? "" : s->settings.backend);
    char title[256];
    snprintf(title, sizeof title, "Cascades in front of %s: accuracy vs predicted throughput", s->opt.full);
    sweep_plot plot = {s->points, sweep_point_count(&s->input), names, s->setup.n_cheap, s->opt.full, title, subtitle};
    sweep_write_svg(f, &plot);
}

// All outputs or none. They stay tracked until release(): a second signal
// while they are written removes those not yet published.
static cascade_status finish_outputs(sweep_state *s, cascade_error *err) {
    if (command_stopped()) return CASCADE_EINTERRUPTED; // a stop after the last pass: still no output (once they are
                                                   // being written, it is too late: they are done, exit 0)
    cascade_status st = mapped_file_unchanged(&s->data.file.map, s->data.path, err);
    if (st) return st;
    if (s->opt.csv) sweep_write_csv(s->csv.file, &s->input, s->points);
    if (s->opt.svg) write_svg(s->svg.file, s);
    if (s->opt.json) write_json(s->json.file, s);
    atomic_file *outputs[3] = {s->opt.csv ? &s->csv : NULL, s->opt.svg ? &s->svg : NULL, s->opt.json ? &s->json : NULL};
    return atomic_files_commit(outputs, 3, err);
}

static cascade_status execute(sweep_state *s, cascade_error *err) {
    cascade_status st = prepare(s, err);
    if (st) return st;
    s->settings = (pass_settings){.device = s->setup.device, .chunk = (int)s->opt.chunk, .stop = &command_stop,
                                  .quiet = s->opt.quiet, .command = "sweep"};
    st = sweep_setup_run(&s->setup, &s->data, &s->settings, &s->input, err);
    if (st) return st;
    s->points = malloc((size_t)sweep_point_count(&s->input) * sizeof *s->points);
    if (!s->points) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for the sweep's points");
    st = sweep_evaluate(&s->input, s->points, err);
    if (!st) st = finish_outputs(s, err);
    if (!st) print_report(s);
    return st;
}

static void release(sweep_state *s) {
    atomic_file_abort(&s->csv), atomic_file_abort(&s->svg), atomic_file_abort(&s->json); // the unpublished ones
    interrupt_restore();
    sweep_setup_free(&s->setup);
    data_range_close(&s->data);
    free(s->points);
}

int cmd_sweep(int argc, char **argv) {
    static sweep_state s;
    memset(&s, 0, sizeof s);
    cascade_error err = {{0}};
    int help = 0;
    if (parse_sweep(argc, argv, &s.opt, &help, &err)) {
        fprintf(stderr, "cascade sweep: %s\n", err.message);
        return EXIT_USAGE;
    }
    if (help) { fputs(sweep_usage, stdout); return 0; }
    interrupt_install();
    cascade_status st = execute(&s, &err);
    release(&s);
    return command_exit("sweep", st, &err);
}
