// test_gpu_network.c: the GPU backend's networks against PyTorch's golden
// logits, and its pooling/epilogue kernels against CPU references.
//   test_gpu_network [model ...]     (default: the six zoo models, or CASCADE_TEST_MODELS=a,b)
// Per model: built at batch 1024, the whole 10,000-image test set runs batch
// by batch (logits poisoned with NaN bytes before each run); per image the
// relative L2 error must be <= 1e-2 on average and <= 5e-2 at worst, and the
// argmax must agree on >= 99.8% of images. For lenet and resnet18, a network
// built at batch 1 must give row 0 of the batch run within fp16 tolerance
// (a few of them: each build times cuDNN plans). The last model is built a
// second time: every cuDNN conv must take its plan from the first build
// (plan_memo) and the logits must still match golden. Last, building a
// network that cannot fit must fail with CASCADE_ENOMEM naming the batch
// size, and give its memory back. Without a CUDA device: "skipped: no CUDA device", 77.
#include "test_util.h"
#include "gpu_test_util.h"
#include "runtime/gpu/gpu_check.h"
#include <math.h>
#include <time.h>
#include <cublas_v2.h>
#include <cudnn.h>
#include <cuda_runtime.h>
#include "kernels/avgpool.cuh"
#include "kernels/bias_act.cuh"
#include "kernels/channel_pad.cuh"
#include "kernels/conv_small.cuh"
#include "kernels/maxpool.cuh"
#include "models/model.h"
#include "runtime/gpu/gpu_network.h"
#include "runtime/gpu/gpu_probe.h"
#include "runtime/gpu/half_host.h"
#include "runtime/gpu/plan_memo.h"

#define TEST_BATCH 1024
#define IMAGE_VALUES 3072 // 32 x 32 x 3
#define HALF_NAN 0x7e00u  // a quiet NaN in fp16
#define HALF_INF 0x7c00u  // +infinity

static int half_is_nan(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu); }

// Device calls in the test itself: a failure ends the test.
#define DEVICE_OK(call)                                                                              \
    do {                                                                                             \
        int device_ok_ = (int)(call);                                                                \
        if (device_ok_) {                                                                            \
            fprintf(stderr, "FATAL %s:%d: %s failed with status %d\n", __FILE__, __LINE__, #call, device_ok_); \
            exit(1);                                                                                 \
        }                                                                                            \
    } while (0)

static gpu_lane lane;

static void lane_create(void) {
    DEVICE_OK(cudaStreamCreateWithFlags(&lane.stream, cudaStreamNonBlocking));
    DEVICE_OK(cudnnCreate(&lane.cudnn));
    DEVICE_OK(cublasCreate(&lane.cublas));
    DEVICE_OK(cudnnSetStream(lane.cudnn, lane.stream));
    DEVICE_OK(cublasSetStream(lane.cublas, lane.stream));
}

static void lane_destroy(void) {
    DEVICE_OK(cublasDestroy(lane.cublas));
    DEVICE_OK(cudnnDestroy(lane.cudnn));
    DEVICE_OK(cudaStreamDestroy(lane.stream));
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// whether what occurs in text exactly once
static int named_once(const char *text, const char *what) {
    const char *at = strstr(text, what);
    return at && !strstr(at + 1, what);
}

static uint32_t rng_state = 12345;
static float random_uniform(float lo, float hi) { // xorshift32
    rng_state ^= rng_state << 13, rng_state ^= rng_state >> 17, rng_state ^= rng_state << 5;
    return lo + (hi - lo) * (float)(rng_state >> 8) / 16777216.0f;
}

// Copies on the lane's stream: it does not synchronise with the legacy
// default stream, which plain cudaMemcpy/cudaMemset would use.
static void *device_copy(const void *host, size_t bytes) {
    void *d;
    DEVICE_OK(cudaMalloc(&d, bytes));
    DEVICE_OK(cudaMemcpyAsync(d, host, bytes, cudaMemcpyHostToDevice, lane.stream));
    DEVICE_OK(cudaStreamSynchronize(lane.stream));
    return d;
}

static uint16_t *random_halves(size_t n, float lo, float hi) {
    uint16_t *h = malloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++) h[i] = half_from_float(random_uniform(lo, hi));
    return h;
}

// --- kernels against CPU references --------------------------------------

static void check_maxpool(int batch, int h, int w, int c, int k, int s) {
    maxpool_shape shape = {batch, h, w, c, k, s, (h - k) / s + 1, (w - k) / s + 1};
    size_t n_in = (size_t)batch * h * w * c, n_out = (size_t)batch * shape.out_height * shape.out_width * c;
    uint16_t *x = random_halves(n_in, -4, 4), *y = malloc(n_out * 2), *ref = malloc(n_out * 2);
    x[(size_t)(w + 1) * c] = HALF_NAN; // inside the first window, not its first element: a NaN wins wherever it is
    for (int b = 0; b < batch; b++)
        for (int oy = 0; oy < shape.out_height; oy++)
            for (int ox = 0; ox < shape.out_width; ox++)
                for (int ch = 0; ch < c; ch++) {
                    uint16_t best = x[(((size_t)b * h + oy * s) * w + ox * s) * c + ch];
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            uint16_t v = x[(((size_t)b * h + oy * s + ky) * w + ox * s + kx) * c + ch];
                            if (half_to_float(v) > half_to_float(best) || isnan(half_to_float(v))) best = v;
                        }
                    ref[(((size_t)b * shape.out_height + oy) * shape.out_width + ox) * c + ch] = best;
                }
    void *dx = device_copy(x, n_in * 2), *dy;
    DEVICE_OK(cudaMalloc(&dy, n_out * 2));
    DEVICE_OK(cudaMemsetAsync(dy, 0x7B, n_out * 2, lane.stream)); // 61280: finite, so an unwritten NaN shows
    DEVICE_OK(maxpool_launch(dx, dy, shape, lane.stream));
    DEVICE_OK(cudaStreamSynchronize(lane.stream));
    DEVICE_OK(cudaMemcpy(y, dy, n_out * 2, cudaMemcpyDeviceToHost));
    size_t wrong = 0;
    for (size_t i = 0; i < n_out; i++) wrong += y[i] != ref[i] && !(half_is_nan(y[i]) && half_is_nan(ref[i]));
    CHECK(wrong == 0, "maxpool %dx%dx%dx%d k%d s%d: %zu of %zu outputs differ", batch, h, w, c, k, s, wrong, n_out);
    DEVICE_OK(cudaFree(dx));
    DEVICE_OK(cudaFree(dy));
    free(x), free(y), free(ref);
}

static void check_global_avgpool(int batch, int pixels, int c) {
    size_t n_in = (size_t)batch * pixels * c, n_out = (size_t)batch * c;
    uint16_t *x = random_halves(n_in, -4, 4), *y = malloc(n_out * 2);
    void *dx = device_copy(x, n_in * 2), *dy;
    DEVICE_OK(cudaMalloc(&dy, n_out * 2));
    DEVICE_OK(cudaMemsetAsync(dy, 0xFF, n_out * 2, lane.stream)); // poison: NaN halves where nothing is written
    DEVICE_OK(global_avgpool_launch(dx, dy, batch, pixels, c, lane.stream));
    DEVICE_OK(cudaStreamSynchronize(lane.stream));
    DEVICE_OK(cudaMemcpy(y, dy, n_out * 2, cudaMemcpyDeviceToHost));
    double worst = 0;
    for (int b = 0; b < batch; b++)
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int p = 0; p < pixels; p++) sum += half_to_float(x[((size_t)b * pixels + p) * c + ch]);
            double ref = sum / pixels, got = half_to_float(y[(size_t)b * c + ch]);
            double e = fabs(got - ref) / (fabs(ref) + 1e-2); // fp16 output: ~5e-4 relative
            if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
        }
    CHECK(worst <= 2e-3, "global avgpool %dx%dx%d: worst relative error %.3g", batch, pixels, c, worst);
    DEVICE_OK(cudaFree(dx));
    DEVICE_OK(cudaFree(dy));
    free(x), free(y);
}

// bias_act (fp16, with residual and ReLU) and channel_pad: both exact.
static void check_bias_act_and_pad(size_t rows, int c) {
    size_t n = rows * c;
    uint16_t *y = random_halves(n, -4, 4), *res = random_halves(n, -4, 4), *bias = random_halves(c, -1, 1);
    uint16_t *got = malloc(n * 2), *padded = malloc(rows * (c + 5) * 2);
    y[0] = HALF_NAN, res[1] = HALF_INF; // NaN through ReLU stays NaN (as on the CPU), +inf stays +inf
    void *dy = device_copy(y, n * 2), *dres = device_copy(res, n * 2), *dbias = device_copy(bias, c * 2), *dpad;
    DEVICE_OK(cudaMalloc(&dpad, rows * (c + 5) * 2));
    DEVICE_OK(cudaMemsetAsync(dpad, 0xFF, rows * (c + 5) * 2, lane.stream)); // poison: the zero fill must be written
    DEVICE_OK(channel_pad_launch(dy, dpad, rows, c, c + 5, lane.stream));
    DEVICE_OK(bias_act_f16_launch(dy, dbias, dres, rows, c, 1, lane.stream));
    DEVICE_OK(cudaStreamSynchronize(lane.stream));
    DEVICE_OK(cudaMemcpy(got, dy, n * 2, cudaMemcpyDeviceToHost));
    DEVICE_OK(cudaMemcpy(padded, dpad, rows * (c + 5) * 2, cudaMemcpyDeviceToHost));
    size_t wrong_act = 0, wrong_pad = 0;
    for (size_t i = 0; i < n; i++) {
        float v = half_to_float(y[i]) + half_to_float(bias[i % c]);
        v += half_to_float(res[i]);
        uint16_t want = half_from_float(v < 0 ? 0 : v);
        wrong_act += got[i] != want && !(half_is_nan(got[i]) && half_is_nan(want));
    }
    for (size_t r = 0; r < rows; r++)
        for (int ch = 0; ch < c + 5; ch++)
            wrong_pad += padded[r * (c + 5) + ch] != (ch < c ? y[r * c + ch] : 0);
    CHECK(wrong_act == 0, "bias_act %zux%d: %zu outputs differ", rows, c, wrong_act);
    CHECK(wrong_pad == 0, "channel_pad %zux%d: %zu outputs differ", rows, c, wrong_pad);
    DEVICE_OK(cudaFree(dy));
    DEVICE_OK(cudaFree(dres));
    DEVICE_OK(cudaFree(dbias));
    DEVICE_OK(cudaFree(dpad));
    free(y), free(res), free(bias), free(got), free(padded);
}

// conv_small against a direct fp32 convolution of the same fp16 values; the
// output is fp16, so agreement is to half a unit in its last place or so.
static void check_conv_small(int batch, int h, int w, int oc, int k, int pad, int relu) {
    conv_small_shape s = {batch, h, w, 3, oc, k, pad, h + 2 * pad - k + 1, w + 2 * pad - k + 1, relu};
    size_t n_in = (size_t)batch * h * w * 3, n_w = (size_t)oc * k * k * 3;
    size_t n_out = (size_t)batch * s.out_height * s.out_width * oc;
    uint16_t *x = random_halves(n_in, -2, 2), *wt = random_halves(n_w, -0.3f, 0.3f), *bias = random_halves(oc, -1, 1);
    uint16_t *y = malloc(n_out * 2);
    if (relu) x[0] = HALF_NAN; // the outputs over it NaN through the ReLU, as on the CPU (fmaxf made them 0)
    CHECK(conv_small_supports(s), "conv_small refuses %dx%d k%d pad %d -> %d channels", h, w, k, pad, oc);
    void *dx = device_copy(x, n_in * 2), *dw = device_copy(wt, n_w * 2), *db = device_copy(bias, oc * 2), *dy;
    DEVICE_OK(cudaMalloc(&dy, n_out * 2));
    DEVICE_OK(cudaMemsetAsync(dy, 0x7B, n_out * 2, lane.stream)); // 61280: finite, so an unwritten NaN shows
    DEVICE_OK(conv_small_launch(dx, dw, db, dy, s, lane.stream));
    DEVICE_OK(cudaStreamSynchronize(lane.stream));
    DEVICE_OK(cudaMemcpy(y, dy, n_out * 2, cudaMemcpyDeviceToHost));
    double worst = 0;
    size_t nan_lost = 0;
    for (int b = 0; b < batch; b++)
        for (int oy = 0; oy < s.out_height; oy++)
            for (int ox = 0; ox < s.out_width; ox++)
                for (int o = 0; o < oc; o++) {
                    double ref = half_to_float(bias[o]);
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int iy = oy + ky - pad, ix = ox + kx - pad;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (int c = 0; c < 3; c++)
                                ref += (double)half_to_float(x[(((size_t)b * h + iy) * w + ix) * 3 + c]) *
                                       half_to_float(wt[(((size_t)o * k + ky) * k + kx) * 3 + c]);
                        }
                    if (relu && ref < 0) ref = 0;
                    double got = half_to_float(y[(((size_t)b * s.out_height + oy) * s.out_width + ox) * oc + o]);
                    if (isnan(ref)) {
                        nan_lost += !isnan(got);
                        continue;
                    }
                    double e = fabs(got - ref) / (fabs(ref) + 1e-1);
                    if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
                }
    printf("conv_small %dx%dx%dx3 k%d pad %d -> %d channels%s: worst relative error %.2e\n", batch, h, w, k, pad, oc,
           relu ? " + ReLU" : "", worst);
    CHECK(worst <= 2e-3, "conv_small %dx%d k%d pad %d -> %d: worst relative error %.3g", h, w, k, pad, oc, worst);
    CHECK(nan_lost == 0, "conv_small %dx%d k%d: %zu outputs over a NaN input are not NaN", h, w, k, nan_lost);
    DEVICE_OK(cudaFree(dx));
    DEVICE_OK(cudaFree(dw));
    DEVICE_OK(cudaFree(db));
    DEVICE_OK(cudaFree(dy));
    free(x), free(wt), free(bias), free(y);
}

static void check_kernels(void) {
    check_conv_small(5, 32, 32, 8, 5, 0, 1);  // LeNet's first layer (6 channels stored as 8)
    check_conv_small(3, 32, 32, 16, 3, 1, 0); // 3x3 with padding, 16 channels
    check_conv_small(2, 13, 11, 8, 5, 2, 1);  // odd sizes: a last group of fewer than 4 pixels
    check_maxpool(3, 8, 8, 64, 2, 2);   // vectorised path
    check_maxpool(2, 28, 28, 8, 2, 2);  // LeNet's first pool, padded channels
    check_maxpool(2, 5, 7, 3, 2, 2);    // odd sizes (floor), scalar path
    check_maxpool(2, 9, 9, 16, 3, 2);   // overlapping windows
    check_global_avgpool(5, 16, 512);   // ResNet's pool
    check_global_avgpool(3, 49, 6);
    check_bias_act_and_pad(1000, 24);
    check_bias_act_and_pad(77, 3);
    printf("kernels: conv_small, maxpool, global avgpool, bias_act, channel_pad checked\n");
}

// --- networks against the golden logits ----------------------------------

// The test set as the network's input: x/255, then (x - mean)/std, fp16 NHWC.
static uint16_t *preprocess(const cifar_file *data, const model *m) {
    uint16_t *out = malloc((size_t)data->count * IMAGE_VALUES * sizeof *out);
    for (int i = 0; i < data->count; i++) {
        const uint8_t *pixels = cifar_pixels(data, i);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 1024; p++)
                out[(size_t)i * IMAGE_VALUES + p * 3 + c] =
                    half_from_float((pixels[c * 1024 + p] / 255.0f - m->mean[c]) / m->std[c]);
    }
    return out;
}

// Runs images [0, count) through net batch by batch into logits (count x classes).
static void run_images(gpu_network *net, const uint16_t *input, int count, int classes, float *logits) {
    int batch = gpu_network_batch(net);
    cascade_error err;
    for (int start = 0; start < count; start += batch) {
        int n = count - start < batch ? count - start : batch;
        DEVICE_OK(cudaMemcpyAsync(gpu_network_input(net), input + (size_t)start * IMAGE_VALUES,
                                  (size_t)n * IMAGE_VALUES * 2, cudaMemcpyHostToDevice, lane.stream));
        DEVICE_OK(cudaMemsetAsync(gpu_network_logits(net), 0xFF, (size_t)batch * classes * sizeof(float), lane.stream));
        if (gpu_network_forward(net, &err)) {
            CHECK(0, "forward: %s", err.message);
            return;
        }
        DEVICE_OK(cudaMemcpyAsync(logits + (size_t)start * classes, gpu_network_logits(net),
                                  (size_t)n * classes * sizeof(float), cudaMemcpyDeviceToHost, lane.stream));
        DEVICE_OK(cudaStreamSynchronize(lane.stream));
    }
}

static double relative_l2(const float *got, const float *want, int n) {
    double diff = 0, norm = 0;
    for (int k = 0; k < n; k++) {
        double d = (double)got[k] - want[k];
        diff += d * d, norm += (double)want[k] * want[k];
    }
    double rel = sqrt(diff) / (sqrt(norm) + 1e-12);
    return isnan(rel) ? INFINITY : rel;
}

// Images per second of the replayed forward (informational).
static double throughput(gpu_network *net) {
    cudaEvent_t start, stop;
    cascade_error err;
    float ms = 0;
    DEVICE_OK(cudaEventCreate(&start));
    DEVICE_OK(cudaEventCreate(&stop));
    DEVICE_OK(cudaEventRecord(start, lane.stream));
    for (int r = 0; r < 20; r++) CHECK(!gpu_network_forward(net, &err), "forward: %s", err.message);
    DEVICE_OK(cudaEventRecord(stop, lane.stream));
    DEVICE_OK(cudaEventSynchronize(stop));
    DEVICE_OK(cudaEventElapsedTime(&ms, start, stop));
    DEVICE_OK(cudaEventDestroy(start));
    DEVICE_OK(cudaEventDestroy(stop));
    return ms > 0 ? 20.0 * gpu_network_batch(net) / (ms / 1000.0) : 0;
}

// A network built at batch 1 gives row 0 of the batch run, within fp16 tolerance.
static void check_batch_one(const char *name, const model *m, const uint16_t *input, const float *batch_row0,
                            const float *golden_row0) {
    gpu_network *net;
    cascade_error err;
    float row[MODEL_MAX_CLASSES];
    if (gpu_network_create(&net, m, 1, &lane, &err)) {
        CHECK(0, "%s at batch 1: %s", name, err.message);
        return;
    }
    run_images(net, input, 1, m->num_classes, row);
    double vs_batch = relative_l2(row, batch_row0, m->num_classes), vs_golden = relative_l2(row, golden_row0, m->num_classes);
    printf("%-18s batch 1: image 0 vs batch %d row 0: rel L2 %.2e (vs golden %.2e)\n", name, TEST_BATCH, vs_batch,
           vs_golden);
    CHECK(vs_batch <= 1e-2, "%s: batch-1 logits differ from the batch run by %.3g", name, vs_batch);
    CHECK(vs_golden <= 5e-2, "%s: batch-1 logits differ from golden by %.3g", name, vs_golden);
    gpu_network_destroy(net);
}

static void compare_with_golden(const char *name, const float *logits, const float *golden, int count, int classes) {
    double sum = 0, worst = 0;
    int same = 0;
    for (int i = 0; i < count; i++) {
        double rel = relative_l2(logits + (size_t)i * classes, golden + (size_t)i * classes, classes);
        sum += rel;
        if (!(rel <= worst)) worst = rel;
        same += argmax10(logits + (size_t)i * classes, classes) == argmax10(golden + (size_t)i * classes, classes);
    }
    double mean = count ? sum / count : INFINITY;
    printf("%-18s n=%d  rel L2 mean %.2e worst %.2e  argmax agreement %.4f\n", name, count, mean, worst,
           count ? (double)same / count : 0.0);
    CHECK(mean <= 1e-2, "%s: mean relative L2 error %.3g > 1e-2", name, mean);
    CHECK(worst <= 5e-2, "%s: worst relative L2 error %.3g > 5e-2", name, worst);
    // 0.2% may flip (fp16 near-ties), at least one from 100 images up (the sanitizer's 300), none below
    int slack = count >= 100 ? (int)fmax(1.0, 0.002 * count) : 0;
    CHECK(same >= count - slack, "%s: argmax agrees on %d of %d images", name, same, count);
}

static const char *next_line(const char *line) {
    const char *end = strchr(line, '\n');
    return end ? end + 1 : NULL;
}

// One build-report line, without its newline.
static void line_text(const char *line, char *out, size_t cap) {
    snprintf(out, cap, "%.*s", (int)strcspn(line, "\n"), line);
}

// A conv line whose choice is not remembered, by design: the report names its
// caveat (a last resort, or a workspace over the cap); a rebuild times it afresh.
static int not_remembered_by_design(const char *line) {
    char text[512];
    line_text(line, text, sizeof text);
    return strstr(text, ", REDUCES IN FP16") || strstr(text, ", NONDETERMINISTIC") ||
           strstr(text, ", over the workspace cap");
}

// In a build report, the cuDNN conv lines (one "engine " each; those not
// remembered by design left out) and how many of them took an earlier
// choice (their own network's or an earlier network's).
static void count_conv_plans(const char *description, int *convs, int *reused) {
    char text[512];
    *convs = *reused = 0;
    for (const char *line = description; line && *line; line = next_line(line)) {
        line_text(line, text, sizeof text);
        if (!strstr(text, "engine ") || not_remembered_by_design(text)) continue;
        (*convs)++;
        *reused += strstr(text, ", as an earlier node") || strstr(text, ", remembered from an earlier network");
    }
}

// One build-report line: 1 if it is a cuDNN conv's, with its node name and
// its "engine E (config C" text.
static int conv_line(const char *line, char name[64], char *engine_text, size_t cap) {
    const char *end = strchr(line, '\n'), *engine = strstr(line, "engine ");
    if (!engine || (end && engine > end) || sscanf(line, " %63s", name) != 1) return 0;
    const char *close = strstr(engine, " of ");
    size_t len = close && (!end || close < end) ? (size_t)(close - engine) : 0;
    snprintf(engine_text, cap, "%.*s", (int)len, engine);
    return 1;
}

// The "engine E (config C" of the conv named `node` in a build report, or "".
static void conv_engine_of(const char *description, const char *node, char *out, size_t cap) {
    char name[64];
    out[0] = 0;
    for (const char *line = description; line && *line; line = next_line(line))
        if (conv_line(line, name, out, cap) && !strcmp(name, node)) return;
    out[0] = 0;
}

// Each cuDNN conv of the second build runs the engine and config the first
// build chose for it: the memo's config index still names the same engine.
static void check_same_engines(const char *name, const char *first, const char *again) {
    int convs = 0, same = 0;
    char node[64], was[64], now[64];
    for (const char *line = again; line && *line; line = next_line(line)) {
        if (!conv_line(line, node, now, sizeof now) || not_remembered_by_design(line)) continue;
        conv_engine_of(first, node, was, sizeof was);
        convs++;
        same += was[0] && !strcmp(was, now);
        CHECK(was[0] && !strcmp(was, now), "%s %s built again: %s, first build %s", name, node, now,
              was[0] ? was : "(not found)");
    }
    printf("%-18s built again: %d of %d cuDNN convs on the engine and config of the first build\n", name, same, convs);
}

// The conv_small decision in a build report for the conv named node: the
// "runs on X" of the conv_small line under its conv line ("" when none),
// and whether that line says it was remembered.
static void direct_decision(const char *description, const char *node, char *out, size_t cap, int *remembered) {
    char name[64], engine[64], text[512];
    out[0] = 0, *remembered = 0;
    for (const char *line = description; line && *line; line = next_line(line)) {
        if (!conv_line(line, name, engine, sizeof engine) || strcmp(name, node)) continue;
        const char *below = next_line(line);
        if (!below) return;
        line_text(below, text, sizeof text);
        const char *on = strstr(text, "conv_small kernel: ") ? strstr(text, "-> runs on ") : NULL;
        if (!on) return;
        snprintf(out, cap, "%.*s", (int)strcspn(on + 11, ","), on + 11);
        *remembered = strstr(text, ", as decided before (plan memo)") != NULL;
        return;
    }
}

// How many convs a build report says conv_small was tried on.
static int conv_small_lines(const char *description) {
    int count = 0;
    for (const char *p = description; (p = strstr(p, "conv_small kernel: ")); p++) count++;
    return count;
}

// Each conv of the second build that conv_small was timed for runs where
// the first build decided (conv_small or cuDNN), remembered, not re-timed:
// a near tie timed again could go the other way and round differently.
// Every conv the first build tried it on is among them.
static void check_same_direct(const char *name, const char *first, const char *again) {
    char node[64], engine[64], was[32], now[32];
    int remembered, ignored, checked = 0;
    for (const char *line = again; line && *line; line = next_line(line)) {
        if (!conv_line(line, node, engine, sizeof engine)) continue;
        direct_decision(again, node, now, sizeof now, &remembered);
        if (!now[0]) continue;
        direct_decision(first, node, was, sizeof was, &ignored);
        checked++;
        CHECK(remembered && !strcmp(was, now), "%s %s built again: runs on %s%s, first build on %s", name, node, now,
              remembered ? "" : " (timed afresh)", was[0] ? was : "(no decision)");
    }
    CHECK(checked == conv_small_lines(first), "%s built again: %d conv_small decision(s), the first build had %d", name,
          checked, conv_small_lines(first));
    if (checked) printf("%-18s built again: %d conv_small decision(s) as the first build's\n", name, checked);
}

#define FIRST_BUILDS 16
static char first_names[FIRST_BUILDS][64], first_descriptions[FIRST_BUILDS][16384];

// The first build's report of model name (kept by check_model_build), or NULL.
static char *first_build_of(const char *name, int make) {
    for (int i = 0; i < FIRST_BUILDS; i++) {
        if (!strcmp(first_names[i], name)) return first_descriptions[i];
        if (!first_names[i][0] && make) {
            snprintf(first_names[i], sizeof first_names[i], "%s", name);
            return first_descriptions[i];
        }
    }
    return NULL;
}

// again: this model was built before in this process, so every cuDNN conv
// must reuse a choice (plan_memo), not time plans of its own, and get the
// engine the first build chose; conv_small's decisions are kept too.
static void check_model_build(const char *name, const cifar_file *data, int again) {
    static char description[16384];
    cascade_error err;
    model m;
    if (!load_test_model(name, &m)) return;
    int golden_n, classes = m.num_classes;
    float *golden = load_golden_logits(name, &golden_n);
    int count = test_image_limit(data->count < golden_n ? data->count : golden_n);
    uint16_t *input = preprocess(data, &m);
    float *logits = malloc((size_t)count * classes * sizeof(float));
    gpu_network *net;
    double start = now_seconds();
    if (gpu_network_create(&net, &m, TEST_BATCH, &lane, &err)) {
        CHECK(0, "%s at batch %d: %s", name, TEST_BATCH, err.message);
    } else {
        double built = now_seconds() - start;
        gpu_network_describe(net, description, sizeof description);
        printf("%s", description);
        int convs, reused;
        count_conv_plans(description, &convs, &reused);
        printf("%-18s built in %.2f s%s: %d cuDNN convs, %d reuse an earlier choice\n", name, built,
               again ? " (again)" : "", convs, reused);
        CHECK(!strstr(description, "conv_small kernel: did not run"), "%s: conv_small did not run (see above)", name);
        const char *small = getenv("CASCADE_CONV_SMALL"); // (=0: cuDNN everywhere, by choice)
        if (!strcmp(name, "lenet") && !(small && !strcmp(small, "0")))
            CHECK(conv_small_lines(description) > 0, "lenet: conv_small was not tried on its first conv");
        if (again) CHECK(convs > 0 && reused == convs, "%s built again: %d of its %d cuDNN convs timed their own plans",
                         name, convs - reused, convs);
        char *first = first_build_of(name, !again);
        if (again && first) check_same_engines(name, first, description);
        if (again && first) check_same_direct(name, first, description);
        if (!again && first) snprintf(first, sizeof first_descriptions[0], "%s", description);
        CHECK(gpu_network_captured(net), "%s: the forward is not a CUDA graph", name);
        run_images(net, input, count, classes, logits);
        compare_with_golden(name, logits, golden, count, classes);
        const char *timed = getenv("CASCADE_TEST_THROUGHPUT"); // 0 under compute-sanitizer
        if (!(timed && !strcmp(timed, "0")))
            printf("%-18s %.0f images/s (batch %d, CUDA graph replay)\n", name, throughput(net), TEST_BATCH);
        gpu_network_destroy(net);
        static int residual_checked; // odd channel counts (lenet); residual blocks (the first resnet of the list)
        int residual = !strncmp(m.arch, "resnet", 6) && !residual_checked;
        if (!again && (!strcmp(name, "lenet") || residual)) {
            residual_checked |= residual;
            check_batch_one(name, &m, input, logits, golden);
        }
    }
    free(golden), free(input), free(logits);
    model_free(&m);
}

static void check_model(const char *name, const cifar_file *data) { check_model_build(name, data, 0); }

// The last model checked, and lenet (its first conv is conv_small's) when
// it was checked, built again in the same process (plan_memo).
static void check_plan_memo(const char *name, const cifar_file *data) {
    if (!name) return;
    if (!plan_memo_enabled()) {
        printf("plan memo: off (CASCADE_PLAN_MEMO=0): %s not built again\n", name);
        return;
    }
    check_model_build(name, data, 1);
    if (strcmp(name, "lenet") && first_build_of("lenet", 0)) check_model_build("lenet", data, 1);
}

// Building a network that cannot fit fails with CASCADE_ENOMEM naming the
// batch size, and gives back what it took.
static void check_out_of_memory(void) {
    cascade_error err = {""};
    model m;
    if (!load_test_model("lenet", &m)) return;
    size_t free_before, free_after, total, headroom = (size_t)512 << 20;
    DEVICE_OK(cudaMemGetInfo(&free_before, &total));
    void *hog = NULL; // leaves 512 MiB: LeNet's arena at batch 65536 needs ~1.6 GiB
    if (free_before > headroom) DEVICE_OK(cudaMalloc(&hog, free_before - headroom));
    gpu_network *net = NULL;
    cascade_status s = gpu_network_create(&net, &m, 65536, &lane, &err);
    printf("out of memory: %s: %s\n", cascade_status_name(s), err.message);
    CHECK(s == CASCADE_ENOMEM && !net, "expected CASCADE_ENOMEM, got %s", cascade_status_name(s));
    CHECK(strstr(err.message, "batch 65536") != NULL, "the message does not name the batch size");
    CHECK(named_once(err.message, "at batch"), "the model and batch named twice: %s", err.message);
    // the arena's allocation fails, or before it a cuDNN plan's for lack of memory (CASCADE_ENOMEM too)
    CHECK(strstr(err.message, "device arena") || strstr(err.message, "cuDNN"),
          "neither the arena's nor a cuDNN plan's allocation failing: %s", err.message);
    if (net) gpu_network_destroy(net);
    if (hog) DEVICE_OK(cudaFree(hog));
    DEVICE_OK(cudaMemGetInfo(&free_after, &total));
    CHECK(free_after + ((size_t)256 << 20) >= free_before, "%.0f MiB not given back",
          ((double)free_before - (double)free_after) / 1048576.0);
    model_free(&m);
}

// A batch whose activations exceed the whole card fails at once, before any
// convolution is planned at that size (ResNet-34 at 2^20 images: ~2 TB).
static void check_never_fits(void) {
    cascade_error err = {""};
    model m;
    if (!load_test_model("resnet34", &m)) return;
    gpu_network *net = NULL;
    double start = now_seconds();
    cascade_status s = gpu_network_create(&net, &m, 1 << 20, &lane, &err);
    double took = now_seconds() - start;
    printf("never fits: %s in %.3f s: %s\n", cascade_status_name(s), took, err.message);
    CHECK(s == CASCADE_ENOMEM && !net, "expected CASCADE_ENOMEM, got %s", cascade_status_name(s));
    CHECK(strstr(err.message, "batch 1048576") && strstr(err.message, "more than the device's"),
          "the message does not say the batch can never fit: %s", err.message);
    CHECK(named_once(err.message, "at batch"), "the model and batch named twice: %s", err.message);
    CHECK(took < 5.0, "%.1f s to refuse it: it planned first", took);
    if (net) gpu_network_destroy(net);
    model_free(&m);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); // a run killed by a time limit still shows how far it got
    const char *device = require_gpu_or_skip();
    printf("device: %s, cuDNN %zu, assets %s\n", device, cudnnGetVersion(), assets_dir());
    lane_create();
    check_kernels();
    cifar_file data;
    open_test_set(&data);
    static char names[256];
    const char *env = getenv("CASCADE_TEST_MODELS"); // e.g. "lenet,resnet18", or "none": kernels only
    const char *last = NULL;
    if (env && !strcmp(env, "none"))
        printf("networks skipped (CASCADE_TEST_MODELS=none)\n");
    else if (argc > 1)
        for (int i = 1; i < argc; i++) check_model(last = argv[i], &data);
    else if (env && snprintf(names, sizeof names, "%s", env) < (int)sizeof names)
        for (char *name = strtok(names, ","); name; name = strtok(NULL, ",")) check_model(last = name, &data);
    else
        for (int i = 0; model_arch_names[i]; i++) check_model(last = model_arch_names[i], &data);
    check_plan_memo(last, &data);
    if (last) { // networks: their memory limits too (not under "none", the sanitizers' kernels-only runs)
        check_out_of_memory();
        check_never_fits();
    }
    cifar_close(&data);
    lane_destroy();
    CHECK(gpu_teardown_error()[0] == 0, "a teardown call failed: %s", gpu_teardown_error());
    return test_summary("gpu_network");
}
