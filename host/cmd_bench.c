// cmd_bench.c: `cascade bench` — throughput of models alone and of cascades.
// Each configuration: build the backend once, warm up, then time several
// runs over the same replicated, shuffled input (pinned host uint8 in,
// results on the host out) and report the median with min and max. For a
// cascade, the pipeline efficiency divides its median by the ideal
// 1 / (1/T_cheap + p/T_full) from the same invocation's alone medians.
#include "commands.h"
#include "status_line.h"
#include "assets.h"
#include "atomic_file.h"
#include "output_paths.h"
#include "bench.h"
#include "interrupt.h"
#include "options.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

static const char bench_usage[] =
    "usage: cascade bench [options]\n"
    "Measures images/s of each model alone and of each cascade at each threshold:\n"
    "median of --runs timed runs after --warmup runs, over --images images (the\n"
    "data replicated in a seeded random order), from host uint8 to results on the host.\n"
    "The models alone in the order given; each cascade, in its order, as soon as its\n"
    "models are measured alone, at once for models --models does not name (a bench\n"
    "cut short keeps the first cascades too).\n\n"
    "  --models LIST        models alone, or none   [lenet,alexnet_shallower,alexnet_shallow,alexnet,resnet18,resnet34]\n"
    "  --cascades LIST      cheap:full pairs, or none   [alexnet_shallower:resnet34]\n"
    "  --thresholds LIST    thresholds for each cascade, or lo:hi:step   [0.8,0.9,0.95,0.99]\n"
    "  --batches LIST       batch (chunk) sizes for the models alone   [GPU 1024,8192; CPU 512, 128 per core past 4]\n"
    "                       (each at most --images; a default past it is --images, measured once)\n"
    "  --chunk C            cascade chunk size   [device default]\n"
    "  --batch B            cascade expensive batch size   [device default]\n"
    "  --images N           images per run   [GPU 1000000, CPU 2000]\n"
    "  --runs R             timed runs   [5]\n"
    "  --warmup W           untimed runs first   [1]\n"
    "  --warmup-images N    images in each warm-up run, at most --images   [all of --images]\n"
    "  --data FILE          CIFAR-10 binary file   [$CASCADE_ASSETS/data/cifar10/test_batch.bin]\n"
    "  --seed S             order of the replicated images   [1]\n"
    "  --device auto|cpu|gpu   [auto]\n"
    "  --json FILE          everything measured, as JSON, each timed run's images/s too\n"
    "                       (\"complete\": false when stopped early)\n"
    "  --no-alone / --no-cascades   skip a part, as --models none / --cascades none\n"
    "                       (efficiency needs the alone figures; a setting of the skipped\n"
    "                       part, --batches or --thresholds/--chunk/--batch, is refused)\n\n"
    "SIGINT or SIGTERM stops it early: the run in progress is dropped, the figures measured\n"
    "before it are printed and written; a second one exits at once, writing nothing.\n"
    "--json - is standard output (the table then goes to stderr); it may not be an input.\n"
    "Exit status: 0 done, 1 error, 2 bad usage, 130 / 143 stopped by SIGINT / SIGTERM,\n"
    "129 SIGHUP (at once, nothing written; ignored where it was ignored from the start).\n";

static cascade_status parse_bench(int argc, char **argv, bench_options *o, int *help, cascade_error *err) {
    *o = (bench_options){.device = "auto", .runs = 5, .warmup = 1, .seed = 1};
    const option_spec specs[] = {
        {"--models", OPT_LIST, &o->models, 0, 0},         {"--cascades", OPT_LIST, &o->cascades, 0, 0},
        {"--thresholds", OPT_LIST, &o->thresholds, 0, 0}, {"--batches", OPT_LIST, &o->batches, 0, 0},
        {"--data", OPT_STRING, &o->data, 0, 0},           {"--device", OPT_STRING, &o->device, 0, 0},
        {"--json", OPT_STRING, &o->json, 0, 0},           {"--chunk", OPT_INT, &o->chunk, 1, 1 << 22},
        {"--batch", OPT_INT, &o->batch, 1, 1 << 20},      {"--images", OPT_INT, &o->images, 1, 4e9},
        {"--runs", OPT_INT, &o->runs, 1, BENCH_RUNS_MAX}, {"--warmup", OPT_INT, &o->warmup, 0, 1000},
        {"--warmup-images", OPT_INT, &o->warmup_images, 1, 4e9},
        {"--seed", OPT_INT, &o->seed, 0, 9e18},           {"--no-alone", OPT_FLAG, &o->no_alone, 0, 0},
        {"--no-cascades", OPT_FLAG, &o->no_cascades, 0, 0}, {NULL, 0, NULL, 0, 0}};
    cascade_status s = parse_options("bench", argc, argv, specs, help, err);
    if (s || *help) return s;
    // a list named beside the flag that drops it: which was meant?
    if (o->no_alone && o->models && strcmp(o->models, "none"))
        return cascade_fail(err, CASCADE_EINVAL, "--models %s with --no-alone: one or the other", o->models);
    if (o->no_cascades && o->cascades && strcmp(o->cascades, "none"))
        return cascade_fail(err, CASCADE_EINVAL, "--cascades %s with --no-cascades: one or the other", o->cascades);
    if (!o->models) o->models = "lenet,alexnet_shallower,alexnet_shallow,alexnet,resnet18,resnet34";
    if (!o->cascades) o->cascades = "alexnet_shallower:resnet34";
    o->no_alone |= !strcmp(o->models, "none"), o->no_cascades |= !strcmp(o->cascades, "none");
    if (o->no_alone && o->no_cascades)
        return cascade_fail(err, CASCADE_EINVAL, "nothing to measure: no models alone and no cascades");
    // a setting for the part that is skipped would be silently unused
    const char *unused = !o->no_cascades ? NULL
                         : o->thresholds     ? "--thresholds"
                         : o->chunk          ? "--chunk"
                         : o->batch          ? "--batch"
                                             : NULL;
    if (unused) return cascade_fail(err, CASCADE_EINVAL, "%s with no cascades to measure: it would go unused", unused);
    if (o->warmup_images && !o->warmup)
        return cascade_fail(err, CASCADE_EINVAL, "--warmup-images with --warmup 0: there is no warm-up run to size");
    if (o->no_alone && o->batches)
        return cascade_fail(err, CASCADE_EINVAL, "--batches with no models alone to measure: it would go unused"
                            " (a cascade's sizes are --chunk and --batch)");
    if (!o->thresholds) o->thresholds = "0.8,0.9,0.95,0.99";
    if (!o->no_alone && (s = check_list_unique("--models", o->models, err))) return s;
    if (!o->no_cascades && (s = check_list_unique("--cascades", o->cascades, err))) return s;
    double values[BENCH_MAX];
    int n;
    if ((s = parse_float_list("--thresholds", o->thresholds, 0, 1, values, BENCH_MAX, &n, err))) return s;
    if ((s = check_thresholds("--thresholds", values, n, err))) return s;
    o->n_thresholds = n;
    memcpy(o->threshold_values, values, sizeof values);
    if (o->batches) {
        const char *step = strchr(o->batches, ':');
        step = step ? strchr(step + 1, ':') : NULL;
        char *end;
        double whole = step ? strtod(step + 1, &end) : 1;
        if (step && !*end && isfinite(whole) && whole != floor(whole)) // (before the count: "range has 385 values")
            return cascade_fail(err, CASCADE_EINVAL, "--batches: the step of %s: %s is not a whole number", o->batches,
                                step + 1);
        if ((s = parse_float_list("--batches", o->batches, 1, 1 << 22, values, BENCH_MAX, &n, err))) return s;
        o->n_batches = n;
        for (int i = 0; i < n; i++) {
            if (values[i] != floor(values[i])) // (32.9 ran as 32, beside a 32.2 that did too)
                return cascade_fail(err, CASCADE_EINVAL, "--batches: %g is not a whole number", values[i]);
            o->batch_values[i] = (int)values[i];
        }
    }
    return parse_device(o->device, &o->device_choice, err);
}

int cmd_bench(int argc, char **argv) {
    static bench_options o;
    cascade_error err = {{0}};
    int help = 0;
    if (parse_bench(argc, argv, &o, &help, &err)) {
        fprintf(stderr, "cascade bench: %s\n", err.message);
        return EXIT_USAGE;
    }
    if (help) { fputs(bench_usage, stdout); return 0; }
    atomic_file json = {0};
    char data[1024];
    named_path output = {"--json", o.json, 0}, inputs[] = {{"--data", data, 0}, {"--models", o.models, 1},
                                                           {"--cascades", o.cascades, 2}};
    cascade_status found = assets_data_path(o.data, data, sizeof data, &err); // (no assets: 1, not a usage error)
    if (found || output_paths_check(&output, 1, inputs, 3, &err)) {
        fprintf(stderr, "cascade bench: %s\n", err.message);
        return found == CASCADE_EIO ? EXIT_FAILURE : EXIT_USAGE;
    }
    interrupt_install(); // before the open: a FIFO's open waits for a reader, and a stop ends the wait
    cascade_status s = o.json ? atomic_file_open(&json, o.json, &err) : CASCADE_OK;
    if (s == CASCADE_EINTERRUPTED) { // while --json (a FIFO) waited for its reader: nothing measured, nothing to write
        interrupt_restore();
        status_line(2.0, "cascade bench: stopped by signal %d before anything was measured\n", command_signal);
        return interrupted_exit_code();
    }
    if (!s && o.json) interrupt_track(&json);
    o.stop = &command_stop;
    static bench_report report; // 3 MiB: its names hold paths, its figures every run
    if (!s) s = bench_execute(&o, &report, &err);
    int stopped = s == CASCADE_EINTERRUPTED; // what was measured before the stop is still reported
    if (!s || stopped) bench_print(&report, stdout);
    if ((!s || stopped) && o.json) { // still tracked: a second signal, even mid-commit, leaves no temporary file
        bench_write_json(&report, json.file);
        cascade_status w = atomic_file_commit(&json, &err);
        if (w) s = w;
    } else if (o.json) atomic_file_abort(&json);
    interrupt_restore(); // forgets the tracked output too
    bench_report_free(&report);
    if (s == CASCADE_EINTERRUPTED) {
        status_line(2.0, "cascade bench: stopped by signal %d; the figures measured before it are reported\n",
                    command_signal);
        return interrupted_exit_code();
    }
    return command_exit("bench", s, &err);
}
