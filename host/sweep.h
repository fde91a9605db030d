// sweep.h: what `cascade sweep` and `cascade calibrate` share.
//
// A cascade's decisions are a pure function of each model's per-image
// prediction and confidence when run alone: image i is deferred at threshold
// t iff cascade_defers(conf_cheap[i], t), and its answer is then the
// expensive model's. So one pass of every cheap model and one pass of the
// expensive model over the data give every (cheap, threshold)'s deferred
// fraction p, accuracy and agreement with the expensive model exactly, and
// with the models' throughputs alone the predicted cascade throughput
// 1 / (1/T_cheap + p/T_full).
//
// The evaluation (sweep_evaluate, sweep_mark_pareto, calibrate_choose) is
// pure over per-image arrays, so tests feed it arrays derived from the golden
// logits. model_pass_run makes those arrays by running one model alone
// through the pipeline on a backend, timing it.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include "cifar.h"
#include "job.h"

#define SWEEP_MAX_MODELS 8
#define SWEEP_MAX_THRESHOLDS 10001

// One model run alone over the job's images.
typedef struct {
    char name[MODEL_NAME_CAP]; // as the user gave it (zoo name or path)
    char arch[32];
    int num_classes;
    int32_t *prediction;     // n: argmax
    float *confidence;       // n: max softmax probability
    double images_per_s;     // its throughput alone (measured, or given)
    double seconds;          // measured wall time of the pass (0: not measured)
    int throughput_given;    // 1: images_per_s came from --throughputs / --throughput-from
} model_pass;

// One point of the sweep: a (cheap model, threshold) cascade, or the expensive model alone.
typedef struct {
    int cheap;               // index of the cheap model; -1: the expensive model alone
    double threshold;        // (unused for the expensive model alone)
    int64_t images;
    int64_t deferred;        // images the expensive model decides
    int64_t correct;         // cascade answer == label (0 without labels)
    int64_t agree;           // cascade answer == the expensive model's answer
    double deferred_fraction, accuracy, agreement; // accuracy: -1 without labels
    double predicted_images_per_s;
    int pareto;              // on the accuracy (or agreement) vs images/s frontier
} sweep_point;

typedef struct {
    int64_t n;                     // images
    const uint8_t *labels;         // n labels, or NULL (no accuracy)
    const model_pass *cheap;       // n_cheap models
    int n_cheap;
    const model_pass *full;        // the expensive model
    const double *thresholds;      // n_thresholds, each in [0, 1]
    int n_thresholds;
} sweep_input;

#ifdef __cplusplus
extern "C" {
#endif

// 1 / (1/t_cheap + p/t_full): the cascade's throughput when the cheap model
// runs on every image and the expensive one on a fraction p, each at its own
// throughput alone.
double cascade_predicted_throughput(double t_cheap, double t_full, double deferred_fraction);

// Number of points sweep_evaluate writes: n_cheap * n_thresholds + 1.
static inline int sweep_point_count(const sweep_input *in) { return in->n_cheap * in->n_thresholds + 1; }

// Fills points[sweep_point_count(in)]: (cheap i, threshold j) at
// i * n_thresholds + j, the expensive model alone last; marks the frontier.
CASCADE_MUST_CHECK cascade_status sweep_evaluate(const sweep_input *in, sweep_point *points, cascade_error *err);

// Marks the Pareto frontier of accuracy (agreement when accuracy < 0) vs
// predicted images/s: a point is on it when no other point is at least as
// fast and at least as accurate and better in one. Of identical points only
// the first (lowest index) is marked.
void sweep_mark_pareto(sweep_point *points, int n);
// The frontier's points one at a time, fastest first, with no scratch memory
// (a report never fails for want of it): the marked point after `after` (-1:
// the first) in order of decreasing predicted images/s, -1 after the last.
// A whole walk is O(points x frontier): about 0.35 s at the largest sweep
// (80,009 points, 10k on the frontier), milliseconds at usual ones.
int sweep_frontier_next(const sweep_point *points, int n, int after);

typedef enum { TARGET_ACCURACY, TARGET_AGREEMENT } calibrate_target;

// The point with the highest predicted images/s whose accuracy (or agreement)
// is >= level; ties go to the higher accuracy (agreement), then to the
// earlier cheap model (the expensive one alone last), then to the lower
// threshold, whatever order the thresholds were listed in. -1 when none qualifies.
int calibrate_choose(const sweep_point *points, int n, calibrate_target target, double level);

// The largest --throughput-from file: a bench JSON of 320 figures of 1,000
// runs each, with long names escaped.
#define SWEEP_THROUGHPUT_FILE_MAX (16 << 20)

// "name=img/s" items separated by commas, newlines or spaces ('#' starts a
// comment to the end of the line) applied to the passes whose name, file
// name without directory and .safetensors, or architecture matches; names that match no
// pass are ignored here (sweep_setup_prepare refuses them in --throughputs; a
// --throughput-from file may hold other models). what names the source in errors.
CASCADE_MUST_CHECK cascade_status apply_throughputs(const char *what, const char *text, model_pass *passes,
                                                    int n_passes, cascade_error *err);
// A --throughput-from FILE's text (at most SWEEP_THROUGHPUT_FILE_MAX bytes, no NUL), read once into
// *text (malloc'd; free it): the checks before the passes and the figures
// after them come from the same bytes, and a pipe (<(...)) can be read.
CASCADE_MUST_CHECK cascade_status read_throughput_file(const char *path, char **text, cascade_error *err);
// Applies the text read from path (named in errors) as above: either such
// items, or the JSON of `cascade bench --json` (each model's best "alone" median).
CASCADE_MUST_CHECK cascade_status apply_throughput_text(const char *path, const char *text, model_pass *passes,
                                                        int n_passes, cascade_error *err);
// read_throughput_file, then apply_throughput_text.
CASCADE_MUST_CHECK cascade_status apply_throughput_file(const char *path, model_pass *passes, int n_passes,
                                                        cascade_error *err);

// Splits "a,b,c" into at most cap names (each < MODEL_NAME_CAP bytes) in out.
CASCADE_MUST_CHECK cascade_status parse_name_list(const char *flag, const char *text, char out[][MODEL_NAME_CAP], int cap,
                                                  int *count, cascade_error *err);

// A run of records of a CIFAR-10 binary file, taken in file order.
typedef struct {
    cifar_file file;
    char path[1024];
    int first;               // records [first, first + n)
    int64_t n;
    uint32_t *order;         // n: position -> record (first + i)
    uint8_t *labels;         // n
} data_range;

// Opens path and takes records range ("A:B" = A..B-1; NULL = [default_first,
// default_end), default_end < 0 = to the end), then at most limit of them
// (limit 0 = all). flag names the range option in errors.
CASCADE_MUST_CHECK cascade_status data_range_open(data_range *d, const char *path, const char *flag, const char *range,
                                                  int default_first, int default_end, long long limit,
                                                  cascade_error *err);
void data_range_close(data_range *d);

typedef struct {
    device_choice device;
    int chunk;               // <= 0: the backend's default
    volatile int *stop;      // set (by SIGINT) to abandon the pass
    int quiet;               // no line per pass on stderr
    const char *command;     // "sweep", "calibrate": prefix of the lines
    char backend[128];       // filled: the backend's name
    int notice_shown;
} pass_settings;

// Runs model m (called name) alone over images order[0..n) of data on the
// chosen backend (GPU backends get an untimed warm-up chunk first) and fills
// pass (arrays malloc'd; free with model_pass_free) with its predictions,
// confidences, wall time and images/s. CASCADE_EINTERRUPTED when *stop was set.
CASCADE_MUST_CHECK cascade_status model_pass_run(model_pass *pass, const char *name, const model *m,
                                                 const cifar_file *data, const uint32_t *order, int64_t n,
                                                 pass_settings *ps, cascade_error *err);
void model_pass_free(model_pass *pass);

// The cheap models and the expensive one, loaded before any pass so that a
// bad file fails in a second, not after minutes of passes.
typedef struct {
    model cheap[SWEEP_MAX_MODELS];
    model full;
    int n_loaded; // cheap[0..n_loaded) loaded; full too when n_loaded > n_cheap
    int n_cheap;
} sweep_models;

// Loads names[0..n_cheap) and full_name; checks every cheap model has as
// many classes as the expensive one. On failure nothing stays loaded.
CASCADE_MUST_CHECK cascade_status sweep_models_load(sweep_models *ms, char names[][MODEL_NAME_CAP], int n_cheap,
                                                    const char *full_name, cascade_error *err);
void sweep_models_free(sweep_models *ms);

// Where the throughputs given instead of measured ones come from: the text
// read from file (both NULL: none) and the --throughputs list (NULL: none).
typedef struct {
    const char *file, *file_text, *list;
} throughput_source;

// Runs each cheap model, then the expensive one, alone over d; then applies
// the throughputs of the file and of the list (the list wins over the file).
// On failure every pass is freed.
CASCADE_MUST_CHECK cascade_status sweep_run_passes(model_pass *cheap, char names[][MODEL_NAME_CAP], int n_cheap, model_pass *full,
                                                   const char *full_name, const sweep_models *ms, const data_range *d,
                                                   pass_settings *ps, const throughput_source *given,
                                                   cascade_error *err);

// One CSV row per point (header first): cheap,threshold,images,deferred,
// deferred_fraction,correct,accuracy,agree,agreement,cheap_images_per_s,
// full_images_per_s,predicted_images_per_s,pareto. The expensive model alone
// is the last row, with cheap "none" and an empty threshold.
void sweep_write_csv(FILE *f, const sweep_input *in, const sweep_point *points);
// The point's name for people: "lenet @ 0.9" or "resnet34 alone".
void sweep_point_name(const sweep_input *in, const sweep_point *p, char *out, size_t cap);

// --cheap's default, the zoo's cheap models; without --cheap (cheap is this
// very string) the --full model is left out of it (no model against itself).
extern const char sweep_default_cheap[];

typedef struct {
    const char *cheap, *full, *device, *thresholds, *throughputs, *throughput_from;
    const char *needs_full; // the error when --full is none, e.g. "a sweep needs an expensive model"
} sweep_setup_options;

// What both commands set up from --cheap, --full, --device, --thresholds and
// --throughputs/--throughput-from before any pass, and the passes once run.
typedef struct {
    sweep_setup_options opt; // the option strings (owned by the command)
    char cheap_names[SWEEP_MAX_MODELS][MODEL_NAME_CAP];
    int n_cheap;
    double *thresholds;
    int n_thresholds;
    char *throughput_text;   // --throughput-from's file, read once (NULL: none given)
    device_choice device;
    sweep_models models;
    model_pass cheap[SWEEP_MAX_MODELS], full;
    int have_passes;
} sweep_setup;

// Parses and checks the options and loads the models (a bad file fails here,
// in a second). sweep_setup_free releases what it holds, also after a failure.
CASCADE_MUST_CHECK cascade_status sweep_setup_prepare(sweep_setup *s, const sweep_setup_options *o, cascade_error *err);
// Runs the passes over d (sweep_run_passes) and describes them in *in.
CASCADE_MUST_CHECK cascade_status sweep_setup_run(sweep_setup *s, const data_range *d, pass_settings *ps,
                                                  sweep_input *in, cascade_error *err);
void sweep_setup_free(sweep_setup *s);

// Writes s as a JSON string literal (quoted, escaped).
void json_string(FILE *f, const char *s);
// The report JSON's "models" array (sweep's and calibrate's): each model's name, role (cheap, full), arch,
// images_per_s (%.9g: a given 1e-300 or 1e300 stays what it is), whether that was given or measured, the
// seconds of its pass and its accuracy on d.
void sweep_write_models_json(FILE *f, const sweep_setup *s, const data_range *d);


#ifdef __cplusplus
}
#endif
