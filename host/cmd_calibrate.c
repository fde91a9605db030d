// cmd_calibrate.c: `cascade calibrate` — on the validation split, the cheap
// model and threshold with the highest predicted throughput whose accuracy
// (against labels) or agreement with the expensive model (labels unused,
// as in NoScope) reaches a target; optionally, what that choice really
// achieves when run as a cascade on a test file.
#include "commands.h"
#include "status_line.h"
#include "version.h"
#include "assets.h"
#include "atomic_file.h"
#include "output_paths.h"
#include "interrupt.h"
#include "options.h"
#include "progress.h"
#include "record_match.h"
#include "sweep.h"
#include "../runtime/pipeline.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_VAL "data/cifar10/data_batch_5.bin"
#define DEFAULT_VAL_FIRST 5000 // records 5000..9999 of data_batch_5.bin = training records 45000..49999
#define DEFAULT_VAL_END 10000

typedef struct {
    const char *cheap, *full, *thresholds, *val, *val_range, *test, *device, *csv, *json, *throughputs,
        *throughput_from;
    double target_accuracy, target_agreement;
    long long limit, test_limit, chunk, batch;
    int quiet;
} calibrate_options;

static const char calibrate_usage[] =
    "usage: cascade calibrate (--target-accuracy A | --target-agreement A) [options]\n"
    "Chooses, on the validation split, the cheap model and threshold whose cascade has\n"
    "the highest predicted throughput 1 / (1/T_cheap + p/T_full) while its accuracy\n"
    "(against the labels) or its agreement with the expensive model (labels unused)\n"
    "is at least A. Each model runs alone once over the validation images; every\n"
    "(model, threshold) is then evaluated exactly (see `cascade sweep`). The expensive\n"
    "model alone is a candidate too. With --test, runs the chosen cascade there.\n\n"
    "  --target-accuracy A    accuracy against the labels >= A, in [0, 1]\n"
    "  --target-agreement A   share of answers equal to the expensive model's >= A\n"
    "  --cheap LIST           candidate cheap models, none the --full one\n"
    "                         [lenet,alexnet_shallower,alexnet_shallow,alexnet, but the --full model]\n"
    "  --full NAME|PATH       expensive model   [resnet34]\n"
    "  --thresholds LIST      candidate thresholds: a,b,c or lo:hi:step   [0.5:0.999:0.001]\n"
    "  --val FILE             validation file   [$CASCADE_ASSETS/" DEFAULT_VAL "]\n"
    "  --val-range FIRST:END  its records FIRST..END-1   [5000:10000 of the default file\n"
    "                         (training records 45000..49999, never trained on), named or not;\n"
    "                         all of any other --val FILE]\n"
    "  --limit N              only the first N validation images\n"
    "  --test FILE            then run the chosen cascade over FILE and report what it achieves\n"
    "                         (a notice says when it shares images with the validation ones\n"
    "                         or the default file's trained-on records 0..4999, in\n"
    "                         whatever file: images are matched by their pixels)\n"
    "  --test-limit N         only the first N images of --test\n"
    "  --device auto|cpu|gpu  backend   [auto]\n"
    "  --chunk C              images per chunk through each model   [device default]\n"
    "  --batch B              --test's expensive batch size (needs --test)   [device default]\n"
    "  --throughputs LIST     name=images_per_s,... instead of the measured throughputs\n"
    "                         (one figure per model)\n"
    "  --throughput-from FILE the same from a file (name=images_per_s items, or the JSON\n"
    "                         of `cascade bench --json`); --throughputs wins over it\n"
    "  --csv FILE             every validation point (columns as `cascade sweep --csv`)\n"
    "  --json FILE            the choice, its predicted and (with --test) realised figures\n"
    "  --quiet                no progress nor line per model pass on stderr\n\n"
    "Ties in predicted throughput go to the higher accuracy (agreement), then to the\n"
    "earlier cheap model and the lower threshold. Outputs appear whole or not at all;\n"
    "an output FILE of - is standard output (the report then goes to stderr); no output\n"
    "may be an input or another output.\n"
    "Exit status: 0 done, 1 error, or no candidate reaches the target (--csv and --json\n"
    "are still written, the JSON's choice null; the report gives what was measured, and\n"
    "stderr the reason, with the best reached), 2 bad usage,\n"
    "130 / 143 stopped by SIGINT / SIGTERM (during the validation passes no output is\n"
    "written; during --test the choice is, without test figures), 129 SIGHUP (at once,\n"
    "nothing written; ignored where it was ignored from the start, as under nohup).\n";

static cascade_status parse_calibrate(int argc, char **argv, calibrate_options *o, int *help, cascade_error *err) {
    *o = (calibrate_options){.cheap = sweep_default_cheap, .full = "resnet34",
                             .thresholds = "0.5:0.999:0.001", .device = "auto", .target_accuracy = -1,
                             .target_agreement = -1};
    const option_spec specs[] = {
        {"--cheap", OPT_LIST, &o->cheap, 0, 0},             {"--full", OPT_STRING, &o->full, 0, 0},
        {"--thresholds", OPT_LIST, &o->thresholds, 0, 0},   {"--val", OPT_STRING, &o->val, 0, 0},
        {"--val-range", OPT_STRING, &o->val_range, 0, 0},   {"--test", OPT_STRING, &o->test, 0, 0},
        {"--device", OPT_STRING, &o->device, 0, 0},         {"--csv", OPT_STRING, &o->csv, 0, 0},
        {"--json", OPT_STRING, &o->json, 0, 0},             {"--throughputs", OPT_LIST, &o->throughputs, 0, 0},
        {"--throughput-from", OPT_STRING, &o->throughput_from, 0, 0},
        {"--target-accuracy", OPT_FLOAT, &o->target_accuracy, 0, 1},
        {"--target-agreement", OPT_FLOAT, &o->target_agreement, 0, 1},
        {"--limit", OPT_INT, &o->limit, 1, 0x7fffffff},     {"--test-limit", OPT_INT, &o->test_limit, 1, 0x7fffffff},
        {"--chunk", OPT_INT, &o->chunk, 1, 1 << 22},        {"--batch", OPT_INT, &o->batch, 1, 1 << 20},
        {"--quiet", OPT_FLAG, &o->quiet, 0, 0},             {NULL, 0, NULL, 0, 0}};
    cascade_status s = parse_options("calibrate", argc, argv, specs, help, err);
    if (s || *help) return s;
    if ((o->target_accuracy >= 0) == (o->target_agreement >= 0))
        return cascade_fail(err, CASCADE_EINVAL, "give one of --target-accuracy A or --target-agreement A");
    if (o->test_limit && !o->test) return cascade_fail(err, CASCADE_EINVAL, "--test-limit needs --test");
    if (o->batch && !o->test) // (the validation passes run each model alone: no expensive batch)
        return cascade_fail(err, CASCADE_EINVAL, "--batch needs --test");
    return CASCADE_OK;
}

// What the chosen cascade did on the test file.
typedef struct {
    int64_t images, deferred, correct, agree;
    int have_agreement;
    int stopped; // a stop signal during it: no figures (the choice is still reported and written)
    double seconds, images_per_s;
    double predicted_images_per_s; // 1/(1/T_cheap + p_test/T_full) with the validation throughputs
    char backend[128];
} test_result;

typedef struct {
    calibrate_options opt;
    calibrate_target target;
    double level;
    sweep_setup setup;
    data_range val, test;
    sweep_input input;
    sweep_point *points;
    int choice;
    test_result tested;
    int stopped; // a stop signal once the validation passes were whole: reported and written all the same
    atomic_file csv, json;
    pass_settings settings;
    int64_t test_shared, test_trained; // test images also among the validation ones / trained on
    int64_t val_trained;               // validation images trained on
} calibrate_state;

// How many of images are the default file's trained-on records (its first
// DEFAULT_VAL_FIRST), matched by their pixels, in whatever file they are;
// without the default file (an asset tree of its own) none is known to be.
static cascade_status count_trained_on(const char *default_path, record_run images, int64_t *count,
                                       cascade_error *err) {
    *count = 0;
    cifar_file trained_file;
    if (cifar_open(&trained_file, default_path, &(cascade_error){0})) return CASCADE_OK;
    int trained = trained_file.count < DEFAULT_VAL_FIRST ? trained_file.count : DEFAULT_VAL_FIRST;
    cascade_status st = records_in_common((record_run){&trained_file, 0, trained}, images, count, err);
    cifar_close(&trained_file);
    return st;
}

// Validation images that were trained on make the choice's accuracies too
// high (it may miss its target on new images): said at once, the run goes on.
static cascade_status note_val_trained(calibrate_state *s, const char *default_path, cascade_error *err) {
    cascade_status st = count_trained_on(default_path, (record_run){&s->val.file, s->val.first, s->val.n},
                                         &s->val_trained, err);
    if (!st && s->val_trained)
        status_line(2.0, "notice: %lld of the validation images were trained on (the pixels of records 0..%d of %s):"
                    " their accuracies overstate, the choice may miss its target on new images\n",
                    (long long)s->val_trained, DEFAULT_VAL_FIRST - 1, DEFAULT_VAL);
    return st;
}

// A --test that holds validation images, or the default file's trained-on records, is no
// independent test: said at once on stderr (and in the JSON), the run goes on.
static cascade_status note_test_overlap(calibrate_state *s, const char *default_path, cascade_error *err) {
    record_run test = {&s->test.file, s->test.first, s->test.n}, val = {&s->val.file, s->val.first, s->val.n};
    cascade_status st = records_in_common(val, test, &s->test_shared, err);
    if (!st) st = count_trained_on(default_path, test, &s->test_trained, err);
    if (st) return st;
    if (s->test_shared)
        status_line(2.0, "notice: %lld of the --test images are validation images too (the same pixels): the test"
                    " figures are not independent of the choice\n", (long long)s->test_shared);
    if (s->test_trained)
        status_line(2.0, "notice: %lld of the --test images were trained on (the pixels of records 0..%d of %s): the"
                    " test figures overstate accuracy\n", (long long)s->test_trained, DEFAULT_VAL_FIRST - 1, DEFAULT_VAL);
    return CASCADE_OK;
}

static cascade_status prepare(calibrate_state *s, cascade_error *err) {
    const calibrate_options *o = &s->opt;
    s->target = o->target_accuracy >= 0 ? TARGET_ACCURACY : TARGET_AGREEMENT;
    s->level = o->target_accuracy >= 0 ? o->target_accuracy : o->target_agreement;
    sweep_setup_options so = {o->cheap, o->full, o->device, o->thresholds, o->throughputs, o->throughput_from,
                              "calibration needs an expensive model"};
    named_path outputs[] = {{"--csv", o->csv, 0}, {"--json", o->json, 0}},
               read_first[] = {{"--throughput-from", o->throughput_from, 0}, {"--val", o->val, 0},
                               {"--test", o->test, 0}};
    // (before those files are read, and their notices said, for a command refused anyway)
    cascade_status st = output_paths_check(outputs, 2, read_first, 3, err);
    if (!st) st = sweep_setup_prepare(&s->setup, &so, err);
    if (st) return st;
    char val_path[1024], default_path[1024];
    if ((st = assets_path(DEFAULT_VAL, default_path, sizeof default_path, err)) ||
        (st = assets_data_path(o->val ? o->val : default_path, val_path, sizeof val_path, err)) ||
        (!o->val && (st = assets_have("data", err))))
        return st;
    // the default file named on the command line is still split: its first records were trained on
    int default_file = !o->val || output_paths_same(o->val, default_path);
    st = data_range_open(&s->val, val_path, "--val-range", o->val_range, default_file ? DEFAULT_VAL_FIRST : 0,
                         default_file ? DEFAULT_VAL_END : -1, o->limit, err);
    if (!st) st = note_val_trained(s, default_path, err);
    if (!st && o->test) st = data_range_open(&s->test, o->test, "--test", NULL, 0, -1, o->test_limit, err);
    if (!st && o->test) st = note_test_overlap(s, default_path, err);
    named_path inputs[] = {{"--val", val_path, 0}, {"--test", o->test, 0}, {"--cheap", o->cheap, 1},
                           {"--full", o->full, 3}, {"--throughput-from", o->throughput_from, 0}};
    if (!st) st = output_paths_check(outputs, 2, inputs, 5, err);
    if (!st && o->csv && !(st = atomic_file_open(&s->csv, o->csv, err))) interrupt_track(&s->csv);
    if (!st && o->json && !(st = atomic_file_open(&s->json, o->json, err))) interrupt_track(&s->json);
    return st;
}

static int pipeline_stop(void *ctx, int64_t done, int64_t screened, const cascade_results *results) {
    (void)done, (void)screened, (void)results;
    return *(volatile int *)ctx != 0;
}

// Runs the chosen cascade (or the expensive model alone) through the pipeline over the test images.
static cascade_status run_on_test(calibrate_state *s, const sweep_point *choice, cascade_error *err) {
    test_result *t = &s->tested;
    const data_range *d = &s->test;
    int has_cheap = choice->cheap >= 0;
    const model *full = &s->setup.models.full, *cheap = has_cheap ? &s->setup.models.cheap[choice->cheap] : NULL;
    cascade_backend be = {0};
    char notice[512];
    cascade_status st = backend_open(&be, s->setup.device, has_cheap ? cheap : full, has_cheap ? full : NULL,
                                     (int)s->opt.chunk, (int)s->opt.batch, notice, sizeof notice, err);
    cascade_results res = {malloc((size_t)d->n * sizeof(int32_t)), malloc((size_t)d->n * sizeof(float)),
                           malloc((size_t)d->n)};
    if (!st && (!res.prediction || !res.confidence || !res.deferred))
        st = cascade_fail(err, CASCADE_ENOMEM, "out of memory for %lld results", (long long)d->n);
    image_source src = {&d->file, d->order};
    cascade_job job = {&be, choice->threshold, has_cheap, d->n, image_source_fill, &src, pipeline_stop,
                       (void *)&command_stop, &command_stop};
    cascade_summary sum;
    if (!st && strncmp(be.name, "cpu", 3)) { // untimed warm-up chunk on the GPU
        cascade_job warm = job;
        warm.total = d->n < be.chunk_capacity ? d->n : be.chunk_capacity;
        st = cascade_run(&warm, &res, &sum, err);
    }
    double start = now_seconds();
    if (!st) st = cascade_run(&job, &res, &sum, err);
    t->seconds = now_seconds() - start;
    if (!st && !sum.complete) st = cascade_fail(err, CASCADE_EINTERRUPTED, "interrupted");
    if (!st) {
        snprintf(t->backend, sizeof t->backend, "%s", be.name);
        t->images = d->n;
        t->images_per_s = t->seconds > 0 ? d->n / t->seconds : 0;
        for (int64_t i = 0; i < d->n; i++) {
            t->deferred += has_cheap ? res.deferred[i] != 0 : 1;
            t->correct += res.prediction[i] == d->labels[i];
        }
        const model_pass *mc = has_cheap ? &s->setup.cheap[choice->cheap] : NULL, *full = &s->setup.full;
        t->predicted_images_per_s = has_cheap ? cascade_predicted_throughput(mc->images_per_s, full->images_per_s,
                                                                             (double)t->deferred / d->n)
                                              : full->images_per_s;
        if (!s->opt.quiet)
            status_line(2.0, "cascade calibrate: the choice on %lld test images: %.1f images/s (%.2f s, %s)\n",
                        (long long)d->n, t->images_per_s, t->seconds, be.name);
    }
    backend_close(&be);
    // agreement with the expensive model needs its answer on every image: one more pass
    if (!st && s->target == TARGET_AGREEMENT) {
        if (!has_cheap) t->agree = d->n;
        else {
            model_pass full_pass;
            st = model_pass_run(&full_pass, s->opt.full, full, &d->file, d->order, d->n, &s->settings, err);
            if (!st) {
                for (int64_t i = 0; i < d->n; i++) t->agree += res.prediction[i] == full_pass.prediction[i];
                model_pass_free(&full_pass);
            }
        }
        t->have_agreement = 1;
    }
    free(res.prediction), free(res.confidence), free(res.deferred);
    return st;
}

static const char *file_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// What was measured, with or without a choice: the target, the data, each model alone.
static void print_measured(const calibrate_state *s) {
    const char *what = s->target == TARGET_ACCURACY ? "accuracy" : "agreement";
    char level[NUMBER_TEXT_CAP]; // as given: 0.9999995 is not "1.0000"
    printf("target      %s >= %s on the validation images\n", what, number_text(s->level, level));
    char trained[48] = "";
    if (s->val_trained == s->val.n) snprintf(trained, sizeof trained, ", all trained on");
    else if (s->val_trained) snprintf(trained, sizeof trained, ", %lld trained on", (long long)s->val_trained);
    printf("validation  %s records %d..%lld (%lld images%s)\n", file_name(s->val.path), s->val.first,
           (long long)(s->val.first + s->val.n - 1), (long long)s->val.n, trained);
    printf("backend     %s\n", s->settings.backend);
    int width = 22;
    for (int i = 0; i <= s->setup.n_cheap; i++)
        width = column_width(width, i < s->setup.n_cheap ? s->setup.cheap[i].name : s->setup.full.name);
    for (int i = 0; i <= s->setup.n_cheap; i++) {
        const model_pass *m = i < s->setup.n_cheap ? &s->setup.cheap[i] : &s->setup.full;
        int64_t correct = 0;
        for (int64_t k = 0; k < s->val.n; k++) correct += m->prediction[k] == s->val.labels[k];
        printf("%-12s%-*s %10.1f images/s (%s), accuracy %.4f\n", i ? "" : "alone", pad_width(width, m->name),
               m->name, m->images_per_s,
               m->throughput_given ? "given" : "measured", (double)correct / s->val.n);
    }
}

static void print_report(const calibrate_state *s) {
    const sweep_point *c = &s->points[s->choice];
    print_measured(s);
    const model_pass *full = &s->setup.full;
    char thr[NUMBER_TEXT_CAP];
    if (c->cheap >= 0)
        printf("choice      %s -> %s at threshold %s\n", s->setup.cheap[c->cheap].name, full->name,
               number_text(c->threshold, thr));
    else printf("choice      %s alone (no cascade reaches the target faster)\n", full->name);
    printf("predicted   %.1f images/s (%.2fx %s alone), accuracy %.4f, agreement %.4f, deferred %.4f\n",
           c->predicted_images_per_s, full->images_per_s > 0 ? c->predicted_images_per_s / full->images_per_s : 0,
           full->name, c->accuracy, c->agreement, c->deferred_fraction);
    if (!s->opt.test) return;
    const test_result *t = &s->tested;
    if (t->stopped) {
        printf("test        %s records %d..%lld (%lld images): stopped before it ended, no figures\n",
               file_name(s->test.path), s->test.first, (long long)(s->test.first + s->test.n - 1),
               (long long)s->test.n);
        return;
    }
    printf("test        %s records %d..%lld (%lld images), run %s on %s\n", file_name(s->test.path),
           s->test.first, (long long)(s->test.first + s->test.n - 1), (long long)s->test.n,
           c->cheap >= 0 ? "as the cascade" : "alone", t->backend);
    if (s->test_shared || s->test_trained)
        printf("            not independent: %lld also validation images, %lld trained on\n",
               (long long)s->test_shared, (long long)s->test_trained);
    printf("realised    accuracy %.4f, ", (double)t->correct / t->images);
    if (t->have_agreement) printf("agreement %.4f, ", (double)t->agree / t->images);
    printf("deferred %.4f, %.1f images/s measured (predicted %.1f at this deferral)\n",
           (double)t->deferred / t->images, t->images_per_s, t->predicted_images_per_s);
}

// The best accuracy any candidate reaches (what a target above it misses).
static double best_accuracy(const calibrate_state *s) {
    double best = 0;
    for (int i = 0, n = sweep_point_count(&s->input); i < n; i++)
        best = s->points[i].accuracy > best ? s->points[i].accuracy : best;
    return best;
}

static void write_choice(FILE *f, const calibrate_state *s) {
    const sweep_point *c = &s->points[s->choice];
    fprintf(f, "{\"cheap\": ");
    if (c->cheap >= 0) json_string(f, s->setup.cheap[c->cheap].name);
    else fprintf(f, "null");
    fprintf(f, ", \"full\": ");
    json_string(f, s->setup.full.name);
    char thr[NUMBER_TEXT_CAP];
    if (c->cheap >= 0) fprintf(f, ", \"threshold\": %s", number_text(c->threshold, thr));
    else fprintf(f, ", \"threshold\": null");
    fprintf(f, ", \"predicted_images_per_s\": %.9g, \"accuracy\": %.6f, \"agreement\": %.6f, "
               "\"deferred_fraction\": %.6f, \"deferred\": %lld, \"correct\": %lld, \"agree\": %lld}",
            c->predicted_images_per_s, c->accuracy, c->agreement, c->deferred_fraction, (long long)c->deferred,
            (long long)c->correct, (long long)c->agree);
}

// "choice" is null, with "reached" false, when no candidate reaches the target.
static void write_json(FILE *f, const calibrate_state *s) {
    char level[NUMBER_TEXT_CAP];
    fprintf(f, "{\n  \"target\": {\"kind\": \"%s\", \"level\": %s},\n  \"reached\": %s,\n",
            s->target == TARGET_ACCURACY ? "accuracy" : "agreement", number_text(s->level, level),
            s->choice >= 0 ? "true" : "false");
    fprintf(f, "  \"validation\": {\"data\": ");
    json_string(f, s->val.path);
    fprintf(f, ", \"first\": %d, \"images\": %lld, \"trained_on\": %lld},\n  \"backend\": ", s->val.first,
            (long long)s->val.n, (long long)s->val_trained);
    json_string(f, s->settings.backend);
    fprintf(f, ",\n  \"version\": ");
    json_string(f, cascade_version());
    fprintf(f, ",\n  \"models\": "); // (an array: the expensive model may be named among the cheap ones too)
    sweep_write_models_json(f, &s->setup, &s->val);
    fprintf(f, ",\n  \"best_accuracy\": %.6f,\n  \"choice\": ", best_accuracy(s));
    if (s->choice >= 0) write_choice(f, s);
    else fprintf(f, "null");
    if (s->opt.test && s->choice >= 0) {
        const test_result *t = &s->tested;
        fprintf(f, ",\n  \"test\": {\"data\": ");
        json_string(f, s->test.path);
        fprintf(f, ", \"complete\": %s", t->stopped ? "false" : "true");
        if (t->stopped) { // (stopped by a signal: none of its figures)
            fprintf(f, "}\n}\n");
            return;
        }
        fprintf(f, ", \"images\": %lld, \"shared_with_validation\": %lld, \"trained_on\": %lld, \"accuracy\": %.6f, "
                "\"deferred_fraction\": %.6f, ", (long long)t->images, (long long)s->test_shared,
                (long long)s->test_trained, (double)t->correct / t->images, (double)t->deferred / t->images);
        if (t->have_agreement) fprintf(f, "\"agreement\": %.6f, ", (double)t->agree / t->images);
        fprintf(f, "\"images_per_s\": %.9g, \"predicted_images_per_s\": %.9g, \"seconds\": %.6f, \"backend\": ",
                t->images_per_s, t->predicted_images_per_s, t->seconds);
        json_string(f, t->backend);
        fprintf(f, "}");
    }
    fprintf(f, "\n}\n");
}

static cascade_status execute(calibrate_state *s, cascade_error *err) {
    cascade_status st = prepare(s, err);
    if (st) return st;
    s->settings = (pass_settings){.device = s->setup.device, .chunk = (int)s->opt.chunk, .stop = &command_stop,
                                  .quiet = s->opt.quiet, .command = "calibrate"};
    st = sweep_setup_run(&s->setup, &s->val, &s->settings, &s->input, err);
    if (st) return st;
    int n = sweep_point_count(&s->input);
    s->points = malloc((size_t)n * sizeof *s->points);
    if (!s->points) return cascade_fail(err, CASCADE_ENOMEM, "out of memory for the candidates");
    if ((st = sweep_evaluate(&s->input, s->points, err))) return st;
    s->choice = calibrate_choose(s->points, n, s->target, s->level);
    // the validation passes whole: a stop from here on still reports and writes the choice (minutes of work),
    // with the --test figures where the test ended before it
    if (s->choice >= 0 && s->opt.test) {
        if (command_stopped()) s->tested.stopped = 1; // (not begun)
        else if ((st = run_on_test(s, &s->points[s->choice], err))) {
            if (st != CASCADE_EINTERRUPTED) return st;
            s->tested.stopped = 1, s->tested.have_agreement = 0;
        }
    }
    s->stopped = command_stopped();
    if ((st = mapped_file_unchanged(&s->val.file.map, s->val.path, err))) return st;
    if (s->opt.test && (st = mapped_file_unchanged(&s->test.file.map, s->test.path, err))) return st;
    // all outputs or none; still tracked (until release): a second signal removes what is not yet published
    if (s->opt.csv) sweep_write_csv(s->csv.file, &s->input, s->points);
    if (s->opt.json) write_json(s->json.file, s);
    atomic_file *outputs[2] = {s->opt.csv ? &s->csv : NULL, s->opt.json ? &s->json : NULL};
    st = atomic_files_commit(outputs, 2, err);
    char level[NUMBER_TEXT_CAP];
    if (!st && s->choice < 0) { // the outputs say what was reached: every point, and choice null
        print_measured(s);
        return cascade_fail(err, CASCADE_EFORMAT, "no candidate reaches accuracy %s on the %lld validation images"
                            " (the best reaches %.4f)%s", number_text(s->level, level), (long long)s->val.n, best_accuracy(s),
                            s->opt.csv || s->opt.json ? "; the outputs are written, with no choice" : "");
    }
    if (!st) print_report(s);
    return st;
}

static void release(calibrate_state *s) {
    atomic_file_abort(&s->csv), atomic_file_abort(&s->json); // the unpublished ones
    interrupt_restore();
    sweep_setup_free(&s->setup);
    data_range_close(&s->val), data_range_close(&s->test);
    free(s->points);
}

int cmd_calibrate(int argc, char **argv) {
    static calibrate_state s;
    memset(&s, 0, sizeof s);
    cascade_error err = {{0}};
    int help = 0;
    if (parse_calibrate(argc, argv, &s.opt, &help, &err)) {
        fprintf(stderr, "cascade calibrate: %s\n", err.message);
        return EXIT_USAGE;
    }
    if (help) { fputs(calibrate_usage, stdout); return 0; }
    interrupt_install();
    cascade_status st = execute(&s, &err);
    release(&s);
    if (!st && s.stopped) {
        status_line(2.0, "cascade calibrate: stopped by %s; the choice is reported%s%s\n",
                    interrupt_signal_name(command_signal), s.opt.csv || s.opt.json ? " and written" : "",
                    s.tested.stopped ? ", without test figures" : "");
        return interrupted_exit_code();
    }
    return command_exit("calibrate", st, &err);
}
