// test_sweep_core.c: the evaluation behind `cascade sweep` and `cascade
// calibrate`, fed the golden logits of all 10,000 test images.
//  - every (cheap, threshold) point equals a direct recount from the golden
//    decisions (deferred, correct, agree) and the throughput formula;
//  - the points match the naive PyTorch cascade anchors in docs/TARGETS.md
//    (deferred fraction and accuracy, e.g. alexnet_shallower @ 0.9: 0.240,
//    0.9061), and alexnet @ 0.8 with the TARGETS alone throughputs predicts
//    ~385k images/s;
//  - the Pareto marks equal a brute-force dominance check;
//  - calibrate_choose equals a brute-force argmax for many targets, returns
//    -1 when nothing qualifies, and picks the expensive model alone when
//    only it qualifies;
//  - calibrate_choose's ties: earlier cheap model, then lower threshold;
//  - thresholds printed so they read back the same, ranges kept within [lo, hi];
//  - parsing of --throughputs text and of `cascade bench --json` files (up to 64 KiB);
//  - records_in_common, calibrate's check of a --test against the validation images.
#include "test_util.h"
#include "host/options.h"
#include "host/record_match.h"
#include "host/sweep.h"
#include "runtime/backend.h"
#include "runtime/confidence.h"
#include <math.h>
#include <unistd.h>

#define N_CHEAP 4
static const char *cheap_names[N_CHEAP] = {"lenet", "alexnet_shallower", "alexnet_shallow", "alexnet"};
// TARGETS.md: each model alone, PyTorch eager e2e on an H100 (images/s)
static const double targets_alone[N_CHEAP + 1] = {2801683, 666063, 556487, 515763, 109826};

static model_pass golden_pass(const char *name, double images_per_s) {
    int n;
    float *logits = load_golden_logits(name, &n);
    model_pass m = {0};
    snprintf(m.name, sizeof m.name, "%s", name);
    snprintf(m.arch, sizeof m.arch, "%s", name);
    m.prediction = malloc(n * sizeof(int32_t));
    m.confidence = malloc(n * sizeof(float));
    confidence_from_logits(logits, n, 10, m.prediction, m.confidence);
    m.images_per_s = images_per_s;
    free(logits);
    return m;
}

static int dominates(const sweep_point *a, const sweep_point *b) {
    return a->predicted_images_per_s >= b->predicted_images_per_s && a->accuracy >= b->accuracy &&
           (a->predicted_images_per_s > b->predicted_images_per_s || a->accuracy > b->accuracy);
}

static void check_points(const sweep_input *in, const sweep_point *pts) {
    int bad = 0;
    for (int c = 0; c < in->n_cheap; c++)
        for (int j = 0; j < in->n_thresholds; j++) {
            const sweep_point *p = &pts[c * in->n_thresholds + j];
            const model_pass *m = &in->cheap[c];
            int64_t deferred = 0, correct = 0, agree = 0;
            for (int64_t i = 0; i < in->n; i++) {
                int d = (double)m->confidence[i] < in->thresholds[j] || in->thresholds[j] >= 1; // c < t, exactly
                int answer = d ? in->full->prediction[i] : m->prediction[i];
                deferred += d, correct += answer == in->labels[i], agree += answer == in->full->prediction[i];
            }
            double p_def = (double)deferred / in->n;
            double predicted = 1.0 / (1.0 / m->images_per_s + p_def / in->full->images_per_s);
            if (p->cheap != c || p->threshold != in->thresholds[j] || p->deferred != deferred ||
                p->correct != correct || p->agree != agree || fabs(p->accuracy - (double)correct / in->n) > 1e-15 ||
                fabs(p->predicted_images_per_s - predicted) > 1e-9 * predicted) {
                if (bad++ < 5)
                    CHECK(0, "%s @ %g: deferred %lld correct %lld agree %lld, recount %lld %lld %lld", m->name,
                          in->thresholds[j], (long long)p->deferred, (long long)p->correct, (long long)p->agree,
                          (long long)deferred, (long long)correct, (long long)agree);
            }
        }
    const sweep_point *alone = &pts[sweep_point_count(in) - 1];
    int64_t full_correct = 0;
    for (int64_t i = 0; i < in->n; i++) full_correct += in->full->prediction[i] == in->labels[i];
    CHECK(alone->cheap == -1 && alone->correct == full_correct && alone->deferred_fraction == 1 &&
              alone->agreement == 1 && alone->predicted_images_per_s == in->full->images_per_s,
          "the expensive model alone: correct %lld (want %lld)", (long long)alone->correct, (long long)full_correct);
    printf("points: %d (cheap, threshold) points recounted, %d differ\n", in->n_cheap * in->n_thresholds, bad);
}

static const sweep_point *find(const sweep_input *in, const sweep_point *pts, int cheap, double threshold) {
    for (int j = 0; j < in->n_thresholds; j++)
        if (fabs(in->thresholds[j] - threshold) < 1e-9) return &pts[cheap * in->n_thresholds + j];
    return NULL;
}

static void check_targets_anchors(const sweep_input *in, const sweep_point *pts) {
    // TARGETS.md, naive PyTorch cascade (fp16 on an H100): cheap, threshold, deferred, accuracy
    struct { int cheap; double thr, deferred, acc; } anchors[] = {
        {0, 0.8, 0.569, 0.8905}, {1, 0.9, 0.240, 0.9061}, {1, 0.95, 0.301, 0.9076},
        {2, 0.95, 0.164, 0.9045}, {2, 0.99, 0.244, 0.9086}, {3, 0.8, 0.074, 0.8946},
    };
    for (size_t k = 0; k < sizeof anchors / sizeof anchors[0]; k++) {
        const sweep_point *p = find(in, pts, anchors[k].cheap, anchors[k].thr);
        if (!p) { CHECK(0, "threshold %g not swept", anchors[k].thr); continue; }
        printf("anchor %-18s @ %.2f: deferred %.4f (TARGETS %.3f), accuracy %.4f (TARGETS %.4f)\n",
               cheap_names[anchors[k].cheap], anchors[k].thr, p->deferred_fraction, anchors[k].deferred, p->accuracy,
               anchors[k].acc);
        // fp32 golden vs fp16 PyTorch: a few images either way
        CHECK(fabs(p->deferred_fraction - anchors[k].deferred) <= 0.0015, "deferred %.4f vs %.3f",
              p->deferred_fraction, anchors[k].deferred);
        CHECK(fabs(p->accuracy - anchors[k].acc) <= 0.0010, "accuracy %.4f vs %.4f", p->accuracy, anchors[k].acc);
    }
    const sweep_point *a08 = find(in, pts, 3, 0.8);
    if (a08) {
        printf("alexnet @ 0.8 predicted %.0f images/s with the TARGETS alone figures (TARGETS: ideal ~385k)\n",
               a08->predicted_images_per_s);
        CHECK(fabs(a08->predicted_images_per_s - 385000) < 5000, "predicted %.0f", a08->predicted_images_per_s);
    }
    CHECK(cascade_predicted_throughput(1000, 100, 0) == 1000, "p = 0 is the cheap model's throughput");
    CHECK(fabs(cascade_predicted_throughput(1000, 100, 1) - 1.0 / (0.001 + 0.01)) < 1e-9, "p = 1");
    CHECK(cascade_predicted_throughput(0, 100, 0.5) == 0, "unknown throughput gives 0");
}

static void check_pareto(const sweep_point *pts, int n) {
    int marked = 0, bad = 0;
    for (int i = 0; i < n; i++) {
        int dominated = 0, duplicate_before = 0;
        for (int j = 0; j < n && !dominated; j++) {
            if (j == i) continue;
            dominated = dominates(&pts[j], &pts[i]);
            duplicate_before |= j < i && pts[j].predicted_images_per_s == pts[i].predicted_images_per_s &&
                                pts[j].accuracy == pts[i].accuracy;
        }
        int want = !dominated && !duplicate_before;
        marked += pts[i].pareto;
        if (pts[i].pareto != want && bad++ < 5) CHECK(0, "point %d: pareto %d, brute force %d", i, pts[i].pareto, want);
    }
    CHECK(marked > 1, "only %d frontier points", marked);
    printf("pareto: %d of %d points on the frontier, brute force agrees (%d differ)\n", marked, n, bad);
    // sweep_frontier_next: every marked point once, each slower than the one before
    int walked = 0, out_of_order = 0;
    for (int i = sweep_frontier_next(pts, n, -1), prev = -1; i >= 0 && walked <= n;
         prev = i, i = sweep_frontier_next(pts, n, i)) {
        walked++;
        double r = pts[i].predicted_images_per_s;
        out_of_order += !pts[i].pareto || (prev >= 0 && !(r < pts[prev].predicted_images_per_s));
    }
    CHECK(walked == marked && !out_of_order, "frontier walk: %d of %d marked points, %d out of order", walked, marked,
          out_of_order);
    CHECK(sweep_frontier_next(pts, 0, -1) == -1, "frontier walk of no points");
}

static int brute_choose(const sweep_point *pts, int n, calibrate_target target, double level) {
    int best = -1;
    for (int i = 0; i < n; i++) {
        double q = target == TARGET_ACCURACY ? pts[i].accuracy : pts[i].agreement;
        if (q < level) continue;
        double qb = best < 0 ? 0 : target == TARGET_ACCURACY ? pts[best].accuracy : pts[best].agreement;
        if (best < 0 || pts[i].predicted_images_per_s > pts[best].predicted_images_per_s ||
            (pts[i].predicted_images_per_s == pts[best].predicted_images_per_s && q > qb))
            best = i;
    }
    return best;
}

static void check_choose(const sweep_input *in, const sweep_point *pts, int n) {
    double acc_levels[] = {0.7, 0.85, 0.88, 0.89, 0.9, 0.905, 0.906, 0.907, 0.908, 0.91};
    double agree_levels[] = {0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999, 1.0};
    for (size_t k = 0; k < sizeof acc_levels / sizeof acc_levels[0]; k++) {
        int got = calibrate_choose(pts, n, TARGET_ACCURACY, acc_levels[k]);
        int want = brute_choose(pts, n, TARGET_ACCURACY, acc_levels[k]);
        CHECK(got == want, "accuracy >= %g: chose %d, brute force %d", acc_levels[k], got, want);
        if (got >= 0) {
            char name[256];
            sweep_point_name(in, &pts[got], name, sizeof name);
            printf("accuracy >= %-6g -> %-26s %10.0f images/s, accuracy %.4f, deferred %.4f\n", acc_levels[k], name,
                   pts[got].predicted_images_per_s, pts[got].accuracy, pts[got].deferred_fraction);
            CHECK(pts[got].accuracy >= acc_levels[k], "chosen accuracy below the target");
        }
    }
    for (size_t k = 0; k < sizeof agree_levels / sizeof agree_levels[0]; k++) {
        int got = calibrate_choose(pts, n, TARGET_AGREEMENT, agree_levels[k]);
        CHECK(got == brute_choose(pts, n, TARGET_AGREEMENT, agree_levels[k]), "agreement >= %g", agree_levels[k]);
        CHECK(got >= 0, "agreement >= %g: the expensive model alone always qualifies", agree_levels[k]);
    }
    CHECK(calibrate_choose(pts, n, TARGET_ACCURACY, 0.95) == -1, "nothing reaches accuracy 0.95");
    // (on these logits cascades beat resnet34 alone: "only it qualifies" is check_choose_ties')
    int perfect = calibrate_choose(pts, n, TARGET_AGREEMENT, 1.0);
    CHECK(pts[perfect].agreement == 1.0, "agreement 1 chose agreement %g", pts[perfect].agreement);
}

// Ties in speed and quality go to the earlier cheap model, then the lower
// threshold, whatever order the thresholds were listed in; the expensive
// model alone comes last; a better quality still beats an earlier point.
static void check_choose_ties(void) {
    sweep_point tied[] = {{.cheap = 1, .threshold = 0.8}, {.cheap = 0, .threshold = 0.9001},
                          {.cheap = 0, .threshold = 0.9},  {.cheap = -1, .threshold = 1}};
    for (int i = 0; i < 4; i++) tied[i].predicted_images_per_s = 1000, tied[i].accuracy = 0.9, tied[i].agreement = 0.95;
    CHECK(calibrate_choose(tied, 4, TARGET_ACCURACY, 0.9) == 2, "tie: chose %d, not lenet-like cheap 0 @ 0.9",
          calibrate_choose(tied, 4, TARGET_ACCURACY, 0.9));
    CHECK(calibrate_choose(tied + 3, 1, TARGET_ACCURACY, 0.9) == 0, "the expensive model alone, alone");
    tied[0].accuracy = 0.91;
    CHECK(calibrate_choose(tied, 4, TARGET_ACCURACY, 0.9) == 0, "tie in speed: the higher accuracy first");
    // ">= A" exactly: 401/500 holds for A = 0.802 (the same double) and not for A a hair above it
    // (a 1e-12 tolerance took 0.802 for 0.8020000000005)
    sweep_point one = {.cheap = 0, .threshold = 0.5, .accuracy = 401 / 500.0, .predicted_images_per_s = 1};
    CHECK(calibrate_choose(&one, 1, TARGET_ACCURACY, 0.802) == 0, "accuracy 401/500 >= 0.802");
    CHECK(calibrate_choose(&one, 1, TARGET_ACCURACY, 0.8020000000005) == -1, "accuracy 401/500 < 0.8020000000005");
    // only the expensive model alone qualifies: chosen, though every cascade is faster
    sweep_point below[] = {{.cheap = 0, .threshold = 0.5, .accuracy = 0.85, .predicted_images_per_s = 5000},
                           {.cheap = 1, .threshold = 0.9, .accuracy = 0.8999, .predicted_images_per_s = 3000},
                           {.cheap = -1, .threshold = 1, .accuracy = 0.9, .predicted_images_per_s = 1000}};
    CHECK(calibrate_choose(below, 3, TARGET_ACCURACY, 0.9) == 2, "only the expensive model alone qualifies: chose %d",
          calibrate_choose(below, 3, TARGET_ACCURACY, 0.9));
    tied[0].accuracy = 0.9, tied[2].cheap = -1, tied[1].cheap = -1; // only cheap 1 before the alone points
    CHECK(calibrate_choose(tied, 4, TARGET_ACCURACY, 0.9) == 0, "a cheap model before the expensive one alone");
}

// Thresholds as printed (number_text: they read back as the same number, so
// 0.9999995 is not "1", which would defer every image) and ranges (their
// values stay within [lo, hi] after the rounding that removes drift).
static void check_threshold_text(void) {
    char text[NUMBER_TEXT_CAP];
    const double given[] = {0.9, 0.99, 0.9999995, 1, 0, 0.5 + 1e-9, 0.1 + 0.2};
    const char *want[] = {"0.9", "0.99", "0.9999995", "1", "0", "0.500000001", "0.30000000000000004"};
    for (int i = 0; i < 7; i++)
        CHECK(!strcmp(number_text(given[i], text), want[i]), "number_text(%.17g) = '%s', not '%s'", given[i], text,
              want[i]);
    double values[64];
    int count = 0;
    cascade_error err;
    CHECK(!parse_float_list("--thresholds", "0.8:0.99:0.01", 0, 1, values, 64, &count, &err) && count == 20 &&
              values[19] == 0.99,
          "0.8:0.99:0.01: %d values, last %.17g", count, count ? values[count - 1] : -1);
    CHECK(!parse_float_list("--thresholds", "0:1:1.0000000008", 0, 1, values, 64, &count, &err) && count == 2 &&
              values[1] == 1,
          "0:1:1.0000000008: %d values, last %.17g (above the range's end)", count, count ? values[count - 1] : -1);
    CHECK(parse_float_list("--thresholds", "0.5,1.0000001", 0, 1, values, 64, &count, &err) &&
              strstr(err.message, "1.0000001 is outside"),
          "an out-of-range value named as given: '%s'", err.message);
}

// A threshold just above a float confidence c (a quarter of c's ulp above
// it, so that rounding to nearest gives c itself) defers c: c < t. The
// backends' float rule gets it through cascade_threshold (rounding up); a
// plain (float) cast kept c. Thresholds float32 cannot tell from 1, or from
// each other, are refused (check_thresholds).
static void check_threshold_rounding(void) {
    float c = 0.7f;
    double t = (double)c + (double)(nextafterf(c, 1.0f) - c) / 4;
    CHECK((float)t == c && cascade_defers(c, cascade_threshold(t)) && !cascade_defers(c, cascade_threshold((double)c)),
          "c = %.9g, t = %.17g: deferred %d (at t = c: %d)", c, t, cascade_defers(c, cascade_threshold(t)),
          cascade_defers(c, cascade_threshold((double)c)));
    int32_t prediction[2] = {3, 3};
    float confidence[2] = {c, 0.9f};
    model_pass cheap = {.name = "c", .prediction = prediction, .confidence = confidence, .images_per_s = 1},
               full = {.name = "f", .prediction = prediction, .confidence = confidence, .images_per_s = 1};
    sweep_input in = {2, NULL, &cheap, 1, &full, &t, 1};
    sweep_point pts[2];
    cascade_error err;
    CHECK(!sweep_evaluate(&in, pts, &err) && pts[0].deferred == 1, "sweep at %.17g deferred %lld of {%.9g, 0.9}", t,
          (long long)pts[0].deferred, c);
    double near_one[] = {0.99999999}, same[] = {0.9, 0.900000001}, fine[] = {0.9, 0.99999994, 1};
    CHECK(check_thresholds("t", near_one, 1, &err) == CASCADE_EINVAL && strstr(err.message, "closer to 1"),
          "0.99999999: %s", err.message);
    CHECK(check_thresholds("t", same, 2, &err) == CASCADE_EINVAL && strstr(err.message, "one threshold"),
          "0.9 and 0.900000001: %s", err.message);
    CHECK(check_thresholds("t", fine, 3, &err) == CASCADE_OK, "0.9, 0.99999994, 1 refused: %s", err.message);
}

static void check_throughput_parsing(void) {
    model_pass passes[3] = {0};
    snprintf(passes[0].name, 128, "lenet"), snprintf(passes[0].arch, 32, "lenet");
    snprintf(passes[1].name, 128, "/tmp/x/alexnet.safetensors"), snprintf(passes[1].arch, 32, "alexnet");
    snprintf(passes[2].name, 128, "my.safetensors"), snprintf(passes[2].arch, 32, "resnet34");
    cascade_error err;
    CHECK(!apply_throughputs("t", "lenet=1e6, alexnet=5e5\n# comment resnet34=1\nresnet34=1.5e5", passes, 3, &err),
          "%s", err.message);
    CHECK(passes[0].images_per_s == 1e6 && passes[0].throughput_given, "lenet %g", passes[0].images_per_s);
    CHECK(passes[1].images_per_s == 5e5, "path by file name: %g", passes[1].images_per_s);
    CHECK(passes[2].images_per_s == 1.5e5, "by architecture (comment ignored): %g", passes[2].images_per_s);
    const char *bad[] = {"lenet", "lenet=", "lenet=abc", "lenet=-5", "=5", "lenet=0", "lenet=1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(apply_throughputs("t", bad[i], passes, 3, &err) == CASCADE_EINVAL, "'%s' accepted", bad[i]);
    char path[] = "/tmp/cascade-bench-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "{\n  \"device\": \"x\",\n  \"alone\": [\n"
               "    {\"model\": \"lenet\", \"batch\": 512, \"images_per_s\": {\"median\": 2500.5, \"min\": 1, \"max\": 3}},\n"
               "    {\"model\": \"lenet\", \"batch\": 8192, \"images_per_s\": {\"median\": 4000.0, \"min\": 1, \"max\": 3}},\n"
               "    {\"model\": \"resnet34\", \"batch\": 512, \"images_per_s\": {\"median\": 99.5, \"min\": 1, \"max\": 3}}\n"
               "  ],\n  \"cascades\": [\n    {\"cheap\": \"alexnet\", \"full\": \"resnet34\", \"images_per_s\": "
               "{\"median\": 7}}\n  ]\n}\n");
    fclose(f);
    memset(passes, 0, sizeof passes);
    snprintf(passes[0].name, 128, "lenet"), snprintf(passes[1].name, 128, "alexnet");
    snprintf(passes[2].name, 128, "resnet34");
    CHECK(!apply_throughput_file(path, passes, 3, &err), "%s", err.message);
    CHECK(passes[0].images_per_s == 4000.0, "bench json: lenet best median %g", passes[0].images_per_s);
    CHECK(passes[1].images_per_s == 0 && !passes[1].throughput_given, "alexnet only in cascades: %g",
          passes[1].images_per_s);
    CHECK(passes[2].images_per_s == 99.5, "bench json: resnet34 %g", passes[2].images_per_s);
    // a file of exactly the largest size is read, one byte more is refused
    for (long size = SWEEP_THROUGHPUT_FILE_MAX - 1; size <= SWEEP_THROUGHPUT_FILE_MAX + 1; size++) {
        f = fopen(path, "w");
        long comment = size - (long)strlen("lenet=1234\n#") - 1;
        fprintf(f, "lenet=1234\n#%*s\n", (int)comment, "");
        fclose(f);
        cascade_status s = apply_throughput_file(path, passes, 3, &err);
        CHECK(size <= SWEEP_THROUGHPUT_FILE_MAX ? s == CASCADE_OK && passes[0].images_per_s == 1234 : s == CASCADE_EFORMAT,
              "a %ld-byte throughput file: status %d (%s)", size, s, s ? err.message : "read");
    }
    unlink(path);
    CHECK(apply_throughput_file("/nonexistent/t.txt", passes, 3, &err) == CASCADE_EIO, "missing file");
}

// records_in_common (calibrate's --test overlap): images matched by pixels, labels ignored,
// one differing byte enough to tell two apart, duplicates among counted once, empty runs 0.
static void check_record_match(const cifar_file *test_set) {
    enum { N = 6 };
    static uint8_t bytes[N * CIFAR_RECORD];
    const uint8_t labels[N] = {1, 2, 7, 1, 3, 2};
    const int image_of[N] = {0, 1, 0, 0, 2, 1}; // record -> which test image's pixels
    for (int r = 0; r < N; r++) {
        bytes[r * CIFAR_RECORD] = labels[r];
        memcpy(bytes + r * CIFAR_RECORD + 1, cifar_pixels(test_set, image_of[r]), CIFAR_PIXELS);
    }
    bytes[3 * CIFAR_RECORD + CIFAR_PIXELS] ^= 1; // record 3: record 0's pixels but the last byte
    cifar_file f;
    cascade_error err;
    CHECK(!cifar_parse(&f, bytes, sizeof bytes, &err), "%s", err.message);
    struct { int among_first, among_n, of_first, of_n; int64_t want; } cases[] = {
        {0, 2, 2, 4, 2}, // record 2 (another label) and 5 are seen; 3 (one byte off) and 4 are not
        {0, 3, 0, 1, 1}, // record 0 among itself and its copy: counted once
        {4, 1, 0, 4, 0}, {0, 0, 0, 6, 0}, {0, 6, 0, 0, 0}, {0, 6, 0, 6, 6}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t count = -1;
        record_run among = {&f, cases[i].among_first, cases[i].among_n}, of = {&f, cases[i].of_first, cases[i].of_n};
        CHECK(!records_in_common(among, of, &count, &err) && count == cases[i].want,
              "records_in_common case %zu: %lld, want %lld", i, (long long)count, (long long)cases[i].want);
    }
    int64_t count = -1; // the test set against itself: every image once, a prefix of it inside the whole
    CHECK(!records_in_common((record_run){test_set, 0, test_set->count}, (record_run){test_set, 5000, 300}, &count,
                             &err) && count == 300, "test set vs its records 5000..5299: %lld", (long long)count);
    CHECK(!records_in_common((record_run){test_set, 0, 5000}, (record_run){test_set, 5000, 300}, &count, &err) &&
          count == 0, "test set records 0..4999 vs 5000..5299: %lld", (long long)count);
}

// An expensive model of unknown throughput (0: not measured) predicts 0, as an unknown cheap one does
// (sweep.h: the prediction needs both figures): without the t_full guard, p = 0 gives 1/(1/T + 0/0) = NaN.
static void check_unknown_full_throughput(void) {
    CHECK(cascade_predicted_throughput(1000, 0, 0) == 0, "t_full 0, p 0: %g", cascade_predicted_throughput(1000, 0, 0));
    CHECK(cascade_predicted_throughput(1000, 0, 0.5) == 0, "t_full 0, p 0.5: %g",
          cascade_predicted_throughput(1000, 0, 0.5));
}

// Without labels (sweep_input.labels NULL) every point's accuracy is -1 (sweep.h: "accuracy: -1 without
// labels"; the CSV then leaves it empty), and the frontier is by agreement: a slower point that agrees
// more is on it. (An accuracy of 0 there would print as 0.000000 and hide the agreement frontier.)
static void check_unlabelled_points(void) {
    int32_t cheap_pred[4] = {1, 2, 3, 4}, full_pred[4] = {1, 2, 3, 5};
    float conf[4] = {0.95f, 0.95f, 0.95f, 0.6f};
    model_pass cheap = {.name = "c", .prediction = cheap_pred, .confidence = conf, .images_per_s = 1000},
               full = {.name = "f", .prediction = full_pred, .confidence = conf, .images_per_s = 100};
    double thr[2] = {0.5, 0.9};
    sweep_input in = {4, NULL, &cheap, 1, &full, thr, 2};
    sweep_point pts[3];
    cascade_error err;
    CHECK(!sweep_evaluate(&in, pts, &err), "%s", err.message);
    CHECK(pts[0].accuracy == -1 && pts[1].accuracy == -1 && pts[2].accuracy == -1,
          "no labels: accuracies %g %g %g, want -1", pts[0].accuracy, pts[1].accuracy, pts[2].accuracy);
    CHECK(pts[0].agreement == 0.75 && pts[1].agreement == 1 && pts[0].pareto && pts[1].pareto && !pts[2].pareto,
          "no labels: agreements %g %g, pareto %d %d %d (want 1 1 0: by agreement)", pts[0].agreement,
          pts[1].agreement, pts[0].pareto, pts[1].pareto, pts[2].pareto);
}

// Two points as fast, one more accurate: only that one is on the frontier (sweep.h: "no other point is at
// least as fast and at least as accurate and better in one"). The golden sweep has no two points of equal
// speed and different accuracy, so its brute-force check cannot see the order of equal-speed points; the CLI
// can make them (two cheap models given one --throughputs figure, at thresholds deferring as many images).
static void check_pareto_equal_speed(void) {
    sweep_point p[] = {{.cheap = 0, .threshold = 0.5, .accuracy = 0.8, .predicted_images_per_s = 100},
                       {.cheap = 1, .threshold = 0.5, .accuracy = 0.9, .predicted_images_per_s = 100},
                       {.cheap = -1, .threshold = 1, .accuracy = 0.95, .predicted_images_per_s = 50}};
    sweep_mark_pareto(p, 3);
    CHECK(!p[0].pareto && p[1].pareto && p[2].pareto, "equal speed: pareto %d %d %d, want 0 1 1", p[0].pareto,
          p[1].pareto, p[2].pareto);
}

int main(void) {
    static model_pass cheap[N_CHEAP];
    for (int c = 0; c < N_CHEAP; c++) cheap[c] = golden_pass(cheap_names[c], targets_alone[c]);
    model_pass full = golden_pass("resnet34", targets_alone[N_CHEAP]);
    cifar_file data;
    open_test_set(&data);
    uint8_t *labels = malloc(data.count);
    for (int i = 0; i < data.count; i++) labels[i] = (uint8_t)cifar_label(&data, i);
    static double thresholds[500];
    for (int j = 0; j < 500; j++) thresholds[j] = round((0.5 + 0.001 * j) * 1e9) / 1e9; // 0.5:0.999:0.001
    sweep_input in = {data.count, labels, cheap, N_CHEAP, &full, thresholds, 500};
    int n = sweep_point_count(&in);
    sweep_point *pts = malloc(n * sizeof *pts);
    cascade_error err;
    CHECK(!sweep_evaluate(&in, pts, &err), "%s", err.message);
    check_points(&in, pts);
    check_targets_anchors(&in, pts);
    check_pareto(pts, n);
    check_choose(&in, pts, n);
    check_choose_ties();
    check_threshold_text();
    check_threshold_rounding();
    check_throughput_parsing();
    check_record_match(&data);
    check_unknown_full_throughput();
    check_unlabelled_points();
    check_pareto_equal_speed();
    // bad input to the evaluation
    double bad_threshold = 1.5;
    sweep_input bad = in;
    bad.thresholds = &bad_threshold, bad.n_thresholds = 1;
    CHECK(sweep_evaluate(&bad, pts, &err) == CASCADE_EINVAL, "threshold 1.5 accepted");
    bad = in, bad.n = 0;
    CHECK(sweep_evaluate(&bad, pts, &err) == CASCADE_EINVAL, "no images accepted");
    for (int c = 0; c < N_CHEAP; c++) model_pass_free(&cheap[c]);
    model_pass_free(&full);
    free(labels), free(pts);
    cifar_close(&data);
    return test_summary("sweep_core");
}
