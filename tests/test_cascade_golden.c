// test_cascade_golden.c: the cascade's decisions through the pipeline and
// the CPU backend equal the decisions computed from PyTorch's golden logits
// (alexnet_shallower -> resnet34 at 0.9, first N test images in file order):
// same deferred set, same predictions, same accuracy, allowing only images
// whose golden confidence is within 1e-4 of the threshold; each image's
// confidence is the deciding model's golden one (the expensive model's when
// deferred) within 1e-4. Also checks the
// pipeline's bookkeeping: chunk and batch sizes that do not divide N, and
// thresholds 0 (nothing deferred) and 1 (everything deferred).
#include "test_util.h"
#include "host/blas_tune.h"
#include "host/job.h"
#include "runtime/confidence.h"
#include "runtime/cpu/cpu_backend.h"
#include "runtime/pipeline.h"
#include <math.h>

typedef struct {
    int32_t prediction[10000];
    float confidence[10000]; // the cheap model's
    float decided[10000];    // the deciding model's: the expensive one's when deferred
    uint8_t deferred[10000];
} golden_decisions;

static void golden_cascade(const float *cheap, const float *full, int n, float threshold, golden_decisions *g) {
    int32_t full_pred[1];
    float full_conf[1];
    confidence_from_logits(cheap, n, 10, g->prediction, g->confidence);
    for (int i = 0; i < n; i++) {
        g->deferred[i] = (uint8_t)cascade_defers(g->confidence[i], threshold);
        g->decided[i] = g->confidence[i];
        if (!g->deferred[i]) continue;
        confidence_from_logits(full + i * 10, 1, 10, full_pred, full_conf);
        g->prediction[i] = full_pred[0], g->decided[i] = full_conf[0];
    }
}

// drop_weights: the models' weights are freed once the backend is open (as
// `cascade run` does), so the networks must run from their own copies.
static void check_run(model *cheap, model *full, const cifar_file *data, int n, float threshold, int chunk, int batch,
                      const float *gcheap, const float *gfull, int drop_weights) {
    static golden_decisions g;
    golden_cascade(gcheap, gfull, n, threshold, &g);
    cascade_backend be;
    cascade_error err;
    if (cpu_backend_create(&be, cheap, full, chunk, batch, &err)) { CHECK(0, "%s", err.message); return; }
    if (drop_weights) model_drop_weights(cheap), model_drop_weights(full);
    uint32_t *order = malloc((size_t)n * sizeof *order);
    for (int i = 0; i < n; i++) order[i] = (uint32_t)i;
    size_t count = (size_t)n;
    cascade_results res = {malloc(count * sizeof(int32_t)), malloc(count * sizeof(float)), malloc(count)};
    memset(res.prediction, 0xff, count * sizeof(int32_t)); // poison
    memset(res.deferred, 0xff, count);
    for (size_t i = 0; i < count; i++) res.confidence[i] = NAN;
    image_source src = {data, order};
    cascade_job job = {&be, threshold, 1, n, image_source_fill, &src, NULL, NULL, NULL};
    cascade_summary sum;
    CHECK(!cascade_run(&job, &res, &sum, &err), "%s", err.message);
    CHECK(sum.processed == n && sum.complete, "processed %lld of %d", (long long)sum.processed, n);
    int near = 0, deferred_diff = 0, pred_diff = 0, conf_diff = 0, correct = 0, golden_correct = 0, deferred = 0;
    for (int i = 0; i < n; i++) {
        int label = cifar_label(data, i);
        correct += res.prediction[i] == label;
        golden_correct += g.prediction[i] == label;
        deferred += res.deferred[i] == 1;
        // (at 0 and 1 no confidence is near: nothing, or everything, is deferred whatever it is)
        if (threshold > 0 && threshold < 1 && fabsf(g.confidence[i] - threshold) <= 1e-4f) { near++; continue; }
        deferred_diff += res.deferred[i] != g.deferred[i];
        pred_diff += res.prediction[i] != g.prediction[i];
        conf_diff += !(fabsf(res.confidence[i] - g.decided[i]) <= 1e-4f);
    }
    printf("threshold %.2f chunk %d batch %d: deferred %d, accuracy %.4f (golden %.4f), %d near the threshold\n",
           threshold, chunk, batch, deferred, (double)correct / n, (double)golden_correct / n, near);
    CHECK(deferred_diff == 0, "%d images deferred differently from the golden decisions", deferred_diff);
    CHECK(pred_diff == 0, "%d predictions differ from the golden cascade", pred_diff);
    CHECK(conf_diff == 0, "%d confidences differ from the deciding model's golden one by more than 1e-4", conf_diff);
    CHECK(abs(correct - golden_correct) <= near, "accuracy differs: %d vs %d correct", correct, golden_correct);
    if (threshold <= 0) CHECK(deferred == 0, "threshold 0 deferred %d images", deferred);
    if (threshold >= 1) CHECK(deferred == n, "threshold 1 deferred %d of %d images", deferred, n);
    CHECK(sum.deferred == deferred, "summary says %lld deferred, results %d", (long long)sum.deferred, deferred);
    // whole batches but the last (run's summary prints the count): one batch fewer or more is a queue off by one
    CHECK(sum.expensive_batches == (deferred + batch - 1) / batch, "%lld expensive batches for %d deferred at batch %d",
          (long long)sum.expensive_batches, deferred, batch);
    free(order), free(res.prediction), free(res.confidence), free(res.deferred);
    be.destroy(be.impl);
}

// Plain rows: softmax's largest share and its class; a tie goes to the first.
static void check_plain_logits(void) {
    const float rows[2][3] = {{1, 2, 3}, {4, 4, 1}};
    int32_t prediction[2];
    float confidence[2];
    confidence_from_logits(&rows[0][0], 2, 3, prediction, confidence);
    double e = exp(1.0), want0 = e * e / (1 + e + e * e), want1 = 1 / (2 + exp(-3.0));
    CHECK(prediction[0] == 2 && fabs(confidence[0] - want0) < 1e-6, "{1,2,3}: class %d, confidence %.7f (want 2, %.7f)",
          prediction[0], confidence[0], want0);
    CHECK(prediction[1] == 0 && fabs(confidence[1] - want1) < 1e-6, "{4,4,1}: class %d, confidence %.7f (want 0, %.7f)",
          prediction[1], confidence[1], want1);
}

// Logits an overflowed fp16 network gives: NaN or +inf anywhere makes the
// confidence 0, so the image is deferred; -inf in a loser's place is harmless.
static void check_non_finite_logits(void) {
    const float rows[4][3] = {{NAN, 1, 2}, {1, INFINITY, 2}, {1, NAN, 9}, {-INFINITY, 4, 4}};
    int32_t prediction[4];
    float confidence[4];
    confidence_from_logits(&rows[0][0], 4, 3, prediction, confidence);
    for (int i = 0; i < 3; i++)
        CHECK(confidence[i] == 0 && cascade_defers(confidence[i], 0.5f), "row %d: confidence %g, not deferred", i,
              confidence[i]);
    CHECK(prediction[3] == 1 && fabsf(confidence[3] - 0.5f) < 1e-6f, "-inf loser: class %d, confidence %g",
          prediction[3], confidence[3]);
}

int main(int argc, char **argv) {
    blas_tune_reexec(argv);
    check_plain_logits();
    check_non_finite_logits();
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    cifar_file data;
    open_test_set(&data);
    model cheap, full;
    cascade_error err;
    if (load_named_model(&cheap, "alexnet_shallower", &err) || load_named_model(&full, "resnet34", &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    int golden_n;
    float *gcheap = load_golden_logits("alexnet_shallower", &golden_n);
    float *gfull = load_golden_logits("resnet34", &golden_n);
    check_run(&cheap, &full, &data, n, 0.9f, 512, 256, gcheap, gfull, 0);   // the default cascade
    check_run(&cheap, &full, &data, 300, 0.9f, 37, 16, gcheap, gfull, 0);   // sizes that do not divide N
    check_run(&cheap, &full, &data, 100, 0.0f, 64, 32, gcheap, gfull, 0);   // nothing deferred
    check_run(&cheap, &full, &data, 100, 1.0f, 64, 32, gcheap, gfull, 0);   // everything deferred
    check_run(&cheap, &full, &data, 1, 1.0f, 64, 32, gcheap, gfull, 0);     // a single image
    check_run(&cheap, &full, &data, 300, 0.9f, 64, 32, gcheap, gfull, 1);   // last: weights freed once open
    free(gcheap), free(gfull);
    model_free(&cheap), model_free(&full);
    cifar_close(&data);
    return test_summary("cascade_golden");
}
