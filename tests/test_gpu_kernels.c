// test_gpu_kernels.c: the cascade pipeline's kernels against CPU references
// on random inputs: preprocess (vs cpu_preprocess, within fp16 rounding),
// conv_small (every instantiation, vs a direct convolution in double),
// confidence + compaction (vs confidence_from_logits and cascade_defers:
// same predictions, confidence within 1e-6 relative, the exact deferred
// index set in ascending order), gather, queue_take and scatter (exact
// bytes; nothing outside the written range touched), and a sequence of
// appends and takes on a small ring against a host FIFO. Every output
// buffer is poisoned (0xff) before each run.
// Without a CUDA device: prints "skipped: no CUDA device" and exits 77.
#include "test_util.h"
#include "gpu_test_util.h"
#include "kernels/confidence.cuh"
#include "kernels/conv_small.cuh"
#include "kernels/gather.cuh"
#include "kernels/preprocess.cuh"
#include "kernels/queue_take.cuh"
#include "kernels/scatter.cuh"
#include "runtime/backend.h"
#include "runtime/confidence.h"
#include "runtime/cpu/cpu_network.h"
#include "runtime/gpu/gpu_probe.h"
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#define IMAGE_HALFS 3072
#define POISON 0xff

#define TCUDA(call)                                                                                        \
    do {                                                                                                   \
        cudaError_t tcuda_ = (call);                                                                       \
        if (tcuda_ != cudaSuccess) {                                                                       \
            fprintf(stderr, "FATAL %s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(tcuda_)); \
            exit(1);                                                                                       \
        }                                                                                                  \
    } while (0)

static cudaStream_t stream;

// ---- helpers ---------------------------------------------------------------

static uint64_t rng_state = 0x1234567887654321ull;
static uint64_t rnd(void) { // splitmix64
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double rnd_unit(void) { return (rnd() >> 11) * (1.0 / 9007199254740992.0); }
static int rnd_int(int n) { return (int)(rnd() % (uint64_t)n); }

static void *dev_alloc(size_t bytes) {
    void *p = NULL;
    TCUDA(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}
static void *host_alloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) { fprintf(stderr, "FATAL: out of host memory\n"); exit(1); }
    return p;
}
// cudaMemset and pageable cudaMemcpy run on the legacy default stream, which
// does not order itself with our non-blocking stream: wait for them.
static void poison(void *dev, size_t bytes) {
    TCUDA(cudaMemset(dev, POISON, bytes));
    TCUDA(cudaDeviceSynchronize());
}
static void upload(void *dev, const void *host, size_t bytes) {
    TCUDA(cudaMemcpy(dev, host, bytes, cudaMemcpyHostToDevice));
    TCUDA(cudaDeviceSynchronize());
}
static void download(void *host, const void *dev, size_t bytes) { TCUDA(cudaMemcpy(host, dev, bytes, cudaMemcpyDeviceToHost)); }
static void sync_stream(void) { TCUDA(cudaStreamSynchronize(stream)); }

static float half_bits_to_float(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0x1f) v = mant ? NAN : INFINITY;
    else if (exp == 0) v = ldexpf((float)mant, -24);
    else v = ldexpf((float)(mant | 0x400), exp - 25);
    return sign ? -v : v;
}

// Is h the fp16 rounding of f (within half an fp16 ulp)?
static int is_fp16_rounding(uint16_t h, float f) {
    float g = half_bits_to_float(h);
    return fabsf(g - f) <= ldexpf(fabsf(f), -11) + ldexpf(1.0f, -25);
}

// ---- preprocess ----------------------------------------------------------------

static void test_preprocess(int n, const float mean[3], const float std[3]) {
    size_t in_bytes = (size_t)n * 3072, out_halfs = (size_t)(n + 1) * IMAGE_HALFS; // one spare image: must stay poisoned
    uint8_t *pixels = host_alloc(in_bytes);
    for (size_t i = 0; i < in_bytes; i++) pixels[i] = (uint8_t)rnd();
    if (n > 0) pixels[0] = 0, pixels[in_bytes - 1] = 255;
    float *ref = host_alloc((size_t)n * IMAGE_HALFS * sizeof(float));
    cpu_preprocess(pixels, n, mean, std, ref);

    uint8_t *d_pixels = dev_alloc(in_bytes);
    uint16_t *d_out = dev_alloc(out_halfs * 2), *out = host_alloc(out_halfs * 2);
    upload(d_pixels, pixels, in_bytes);
    poison(d_out, out_halfs * 2);
    preprocess_params p = {.pixels = d_pixels, .nhwc = d_out, .n = n};
    preprocess_set_normalisation(&p, mean, std);
    TCUDA(preprocess_launch(&p, stream));
    sync_stream();
    download(out, d_out, out_halfs * 2);

    long bad = 0, first_bad = -1;
    for (size_t i = 0; i < (size_t)n * IMAGE_HALFS; i++)
        if (!is_fp16_rounding(out[i], ref[i])) bad++, first_bad = first_bad < 0 ? (long)i : first_bad;
    long touched = 0;
    for (size_t i = (size_t)n * IMAGE_HALFS; i < out_halfs; i++) touched += out[i] != 0xffff;
    CHECK(bad == 0, "preprocess n=%d: %ld values not the fp16 rounding of the CPU's (first at %ld: %g vs %g)", n, bad,
          first_bad, first_bad >= 0 ? half_bits_to_float(out[first_bad]) : 0.0, first_bad >= 0 ? ref[first_bad] : 0.0);
    CHECK(touched == 0, "preprocess n=%d: wrote %ld halfs past the last image", n, touched);
    printf("preprocess n=%-5d ok=%d\n", n, bad == 0 && touched == 0);
    cudaFree(d_pixels), cudaFree(d_out);
    free(pixels), free(ref), free(out);
}

// ---- confidence + compaction ---------------------------------------------------

// Logits with a spread of confidences, exact ties (at the max and elsewhere),
// all-equal rows, and rows with a huge gap (confidence exactly 1).
static void random_logits(float *l, int n, int classes) {
    for (int i = 0; i < n; i++) {
        float *row = l + (size_t)i * classes;
        double scale = rnd_unit() * 12.0;
        for (int k = 0; k < classes; k++) row[k] = (float)((rnd_unit() - 0.5) * scale);
        int kind = rnd_int(20);
        if (kind == 0) { // tie at the max
            int best = 0;
            for (int k = 1; k < classes; k++) if (row[k] > row[best]) best = k;
            row[rnd_int(classes)] = row[best];
        } else if (kind == 1) { // all equal
            float v = row[0];
            for (int k = 0; k < classes; k++) row[k] = v;
        } else if (kind == 2) { // a certain image
            row[rnd_int(classes)] = 200.0f;
        } else if (kind == 3 && classes > 2) { // ties below the max
            row[1] = row[2];
        } else if (kind == 4) { // an overflowed network: NaN or +inf (confidence 0), or -inf (harmless)
            row[rnd_int(classes)] = rnd_int(3) == 0 ? NAN : rnd_int(2) ? INFINITY : -INFINITY;
        }
    }
}

typedef struct {
    int n, classes, defer, compact;
    float threshold;
} confidence_case;

static void test_confidence(confidence_case c) {
    int n = c.n, classes = c.classes, tiles = CONFIDENCE_SCRATCH_INTS(n > 0 ? n : 1);
    float *logits = host_alloc((size_t)n * classes * sizeof(float));
    random_logits(logits, n, classes);
    int32_t *ref_pred = host_alloc(n * sizeof(int32_t) + 4);
    float *ref_conf = host_alloc(n * sizeof(float) + 4);
    confidence_from_logits(logits, n, classes, ref_pred, ref_conf);

    // One spare element after each output: must stay poisoned.
    float *d_logits = dev_alloc((size_t)n * classes * sizeof(float));
    int32_t *d_pred = dev_alloc((n + 1) * sizeof(int32_t)), *d_index = dev_alloc((n + 1) * sizeof(int32_t));
    float *d_conf = dev_alloc((n + 1) * sizeof(float));
    uint8_t *d_deferred = dev_alloc(n + 1);
    int32_t *d_count = dev_alloc(sizeof(int32_t)), *d_tiles = dev_alloc(tiles * sizeof(int32_t));
    upload(d_logits, logits, (size_t)n * classes * sizeof(float));
    poison(d_pred, (n + 1) * sizeof(int32_t)), poison(d_index, (n + 1) * sizeof(int32_t));
    poison(d_conf, (n + 1) * sizeof(float)), poison(d_deferred, n + 1);
    poison(d_count, sizeof(int32_t)), poison(d_tiles, tiles * sizeof(int32_t));

    confidence_params p = {.logits = d_logits, .n = n, .classes = classes, .prediction = d_pred, .confidence = d_conf};
    if (c.defer >= 0) p.deferred = d_deferred, p.defer = c.defer, p.threshold = c.threshold;
    if (c.compact) p.deferred_index = d_index, p.deferred_count = d_count, p.tile_counts = d_tiles;
    TCUDA(confidence_launch(&p, stream));
    sync_stream();

    int32_t *pred = host_alloc((n + 1) * sizeof(int32_t)), *index = host_alloc((n + 1) * sizeof(int32_t)), count;
    float *conf = host_alloc((n + 1) * sizeof(float));
    uint8_t *deferred = host_alloc(n + 1);
    download(pred, d_pred, (n + 1) * sizeof(int32_t)), download(index, d_index, (n + 1) * sizeof(int32_t));
    download(conf, d_conf, (n + 1) * sizeof(float)), download(deferred, d_deferred, n + 1);
    download(&count, d_count, sizeof count);

    int pred_bad = 0, conf_bad = 0, flag_bad = 0, flag_vs_cpu = 0, expected = 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        pred_bad += pred[i] != ref_pred[i];
        double rel = ref_conf[i] > 0 ? fabs((double)conf[i] - ref_conf[i]) / ref_conf[i] : conf[i] != ref_conf[i];
        if (!(rel <= 1e-6)) conf_bad++;
        if (rel > worst) worst = rel;
        if (c.defer >= 0) {
            int want = c.defer && cascade_defers(conf[i], c.threshold);
            flag_bad += deferred[i] != want;
            // Against the CPU's confidence: may differ only within 1e-6 of the threshold.
            int cpu_want = c.defer && cascade_defers(ref_conf[i], c.threshold);
            if (want != cpu_want && fabs((double)ref_conf[i] - c.threshold) > 1e-6) flag_vs_cpu++;
            expected += want;
        }
    }
    CHECK(pred_bad == 0, "confidence n=%d thr=%g: %d predictions differ from the CPU's", n, c.threshold, pred_bad);
    CHECK(conf_bad == 0, "confidence n=%d thr=%g: %d confidences off by > 1e-6 relative (worst %.3g)", n,
          c.threshold, conf_bad, worst);
    uint32_t conf_past;
    memcpy(&conf_past, &conf[n], sizeof conf_past);
    CHECK(pred[n] == -1 && deferred[n] == POISON && conf_past == 0x01010101u * POISON,
          "confidence n=%d: wrote past the last image", n);
    if (c.defer >= 0) {
        CHECK(flag_bad == 0, "confidence n=%d thr=%g: %d deferred flags break cascade_defers", n, c.threshold, flag_bad);
        CHECK(flag_vs_cpu == 0, "confidence n=%d thr=%g: %d deferred flags differ from the CPU's", n, c.threshold,
              flag_vs_cpu);
    }
    if (c.compact) {
        CHECK(count == expected, "compaction n=%d thr=%g: count %d, expected %d", n, c.threshold, count, expected);
        int k = 0, order_bad = 0;
        for (int i = 0; i < n && k <= count; i++)
            if (c.defer >= 0 && deferred[i] == 1) order_bad += k >= count || index[k++] != i;
        CHECK(order_bad == 0 && k == count, "compaction n=%d thr=%g: index list is not the ascending deferred set "
              "(%d wrong)", n, c.threshold, order_bad);
        int tail_touched = 0;
        for (int j = count > 0 ? count : 0; j <= n; j++) tail_touched += index[j] != -1;
        CHECK(tail_touched == 0, "compaction n=%d: %d index entries written past the count", n, tail_touched);
        if (c.threshold >= 1.0f && c.defer) CHECK(count == n, "threshold 1: %d of %d deferred", count, n);
        if (c.threshold == 0.0f) CHECK(count == 0, "threshold 0: %d deferred", count);
    }
    printf("confidence n=%-6d classes=%-2d defer=%-2d compact=%d thr=%.2f: deferred %d, worst rel %.2g\n", n, classes,
           c.defer, c.compact, c.threshold, c.compact ? count : expected, worst);
    cudaFree(d_logits), cudaFree(d_pred), cudaFree(d_index), cudaFree(d_conf), cudaFree(d_deferred);
    cudaFree(d_count), cudaFree(d_tiles);
    free(logits), free(ref_pred), free(ref_conf), free(pred), free(index), free(conf), free(deferred);
}

// ---- conv_small ------------------------------------------------------------------

// A random fp16 value of magnitude in [2^(lo-15), 2^(hi-14)) or, one time in
// eight, zero; its bits (random mantissa, both signs).
static uint16_t random_half(int lo, int hi) {
    if (rnd_int(8) == 0) return 0;
    return (uint16_t)((rnd_int(2) << 15) | ((lo + rnd_int(hi - lo + 1)) << 10) | rnd_int(1024));
}

// Output (b, oy, ox, o) of the convolution in double, before any ReLU; *magnitude:
// the sum of its terms' absolute values (the scale of fp32's accumulation error).
static double conv_reference(const uint16_t *x, const uint16_t *w, const uint16_t *bias, conv_small_shape s, int b,
                             int oy, int ox, int o, double *magnitude) {
    double sum = half_bits_to_float(bias[o]);
    *magnitude = fabs(sum);
    for (int ky = 0; ky < s.kernel; ky++)
        for (int kx = 0; kx < s.kernel; kx++) {
            int iy = oy + ky - s.pad, ix = ox + kx - s.pad;
            if (iy < 0 || iy >= s.height || ix < 0 || ix >= s.width) continue;
            for (int c = 0; c < 3; c++) {
                double term = (double)half_bits_to_float(x[(((size_t)b * s.height + iy) * s.width + ix) * 3 + c]) *
                              half_bits_to_float(w[(((size_t)o * s.kernel + ky) * s.kernel + kx) * 3 + c]);
                sum += term, *magnitude += fabs(term);
            }
        }
    return sum;
}

// conv_small on a random batch (plus a spare image of output that must stay
// poisoned) against a direct convolution in double over the same fp16
// values: each output within one fp16 ulp plus fp32 accumulation error, a
// ReLU'd negative exactly 0. Every (out channels, kernel) it instantiates.
static void test_conv_small(int batch, int height, int width, int oc, int k, int pad, int relu) {
    conv_small_shape s = {batch, height, width, 3, oc, k, pad, height + 2 * pad - k + 1, width + 2 * pad - k + 1, relu};
    CHECK(conv_small_supports(s), "conv_small %dx%d oc=%d k=%d pad=%d: not supported", height, width, oc, k, pad);
    size_t x_halfs = (size_t)batch * height * width * 3, w_halfs = (size_t)oc * k * k * 3;
    size_t y_image = (size_t)s.out_height * s.out_width * oc, y_halfs = (size_t)(batch + 1) * y_image;
    uint16_t *x = host_alloc(x_halfs * 2), *w = host_alloc(w_halfs * 2), *bias = host_alloc(oc * 2);
    uint16_t *y = host_alloc(y_halfs * 2);
    for (size_t i = 0; i < x_halfs; i++) x[i] = random_half(12, 16); // |x| in [1/8, 8)
    for (size_t i = 0; i < w_halfs; i++) w[i] = random_half(9, 13);  // |w| in [1/64, 1)
    for (int o = 0; o < oc; o++) bias[o] = random_half(10, 14);
    uint16_t *d_x = dev_alloc(x_halfs * 2), *d_w = dev_alloc(w_halfs * 2), *d_bias = dev_alloc(oc * 2);
    uint16_t *d_y = dev_alloc(y_halfs * 2);
    upload(d_x, x, x_halfs * 2), upload(d_w, w, w_halfs * 2), upload(d_bias, bias, oc * 2);
    poison(d_y, y_halfs * 2);
    TCUDA(conv_small_launch(d_x, d_w, d_bias, d_y, s, stream));
    sync_stream();
    download(y, d_y, y_halfs * 2);

    long bad = 0, first_bad = -1;
    double first_want = 0;
    for (int b = 0; b < batch; b++)
        for (int oy = 0; oy < s.out_height; oy++)
            for (int ox = 0; ox < s.out_width; ox++)
                for (int o = 0; o < oc; o++) {
                    double magnitude, sum = conv_reference(x, w, bias, s, b, oy, ox, o, &magnitude);
                    double want = relu && sum < 0 ? 0 : sum;
                    size_t at = (size_t)b * y_image + ((size_t)oy * s.out_width + ox) * oc + o;
                    double got = half_bits_to_float(y[at]), slack = ldexp(fabs(want), -10) + 1e-5 * magnitude;
                    int negative = relu && sum < -1e-5 * magnitude; // ReLU'd: exactly zero
                    int ok = negative ? y[at] == 0 || y[at] == 0x8000 : fabs(got - want) <= slack;
                    if (!ok && first_bad < 0) first_bad = (long)at, first_want = want;
                    bad += !ok;
                }
    long touched = 0;
    for (size_t i = (size_t)batch * y_image; i < y_halfs; i++) touched += y[i] != 0xffff;
    CHECK(bad == 0, "conv_small %dx%d oc=%d k=%d pad=%d relu=%d: %ld outputs off the reference (first at %ld: "
          "%g vs %g)", height, width, oc, k, pad, relu, bad, first_bad,
          first_bad >= 0 ? half_bits_to_float(y[first_bad]) : 0.0, first_want);
    CHECK(touched == 0, "conv_small %dx%d oc=%d k=%d: wrote %ld halfs past the last image", height, width, oc, k,
          touched);
    printf("conv_small batch=%-3d %2dx%-2d oc=%-2d k=%d pad=%d relu=%d ok=%d\n", batch, height, width, oc, k, pad, relu,
           bad == 0 && touched == 0);
    cudaFree(d_x), cudaFree(d_w), cudaFree(d_bias), cudaFree(d_y);
    free(x), free(w), free(bias), free(y);
}

// Shapes conv_small must refuse (the network then keeps cuDNN's plan), and a launch it must refuse.
static void test_conv_small_refuses(void) {
    conv_small_shape lenet = {4, 32, 32, 3, 8, 5, 0, 28, 28, 1}, s;
    CHECK(conv_small_supports(lenet), "conv_small: lenet's first conv not supported");
    s = lenet, s.in_channels = 4;
    CHECK(!conv_small_supports(s), "conv_small: 4 input channels supported");
    s = lenet, s.out_channels = 12;
    CHECK(!conv_small_supports(s), "conv_small: 12 output channels supported");
    s = lenet, s.kernel = 4, s.out_height = s.out_width = 29;
    CHECK(!conv_small_supports(s), "conv_small: a 4x4 kernel supported");
    s = lenet, s.out_height = 27;
    CHECK(!conv_small_supports(s), "conv_small: a wrong output height supported");
    s = lenet, s.pad = 5, s.out_height = s.out_width = 38;
    CHECK(!conv_small_supports(s), "conv_small: padding as wide as the kernel supported");
    s = lenet, s.height = s.width = 200, s.out_height = s.out_width = 196;
    CHECK(!conv_small_supports(s), "conv_small: an image past its shared memory supported");
    void *d = dev_alloc(4096);
    CHECK(conv_small_launch(d, d, d, (char *)d + 2, lenet, stream) == cudaErrorInvalidValue,
          "conv_small: a launch onto an output off 16 bytes not refused");
    cudaFree(d);
    printf("conv_small refusals checked\n");
}

// ---- gather ----------------------------------------------------------------------

static void random_images(uint16_t *h, size_t images) {
    for (size_t i = 0; i < images * IMAGE_HALFS; i++) h[i] = (uint16_t)rnd();
}

// Gathers random images (ascending indices) of a chunk of m into a ring of
// `capacity` whose tail starts at `tail`; the device's deferred count reads
// `reported`, which the kernel takes as clamped to [0, m]. `misalign` offsets
// both buffers by one half (the kernel's halfword path).
static void test_gather(int m, int reported, long long capacity, long long tail, int misalign) {
    int count = reported < 0 ? 0 : reported > m ? m : reported;
    size_t chunk_halfs = (size_t)m * IMAGE_HALFS + misalign, ring_halfs = (size_t)capacity * IMAGE_HALFS + misalign;
    uint16_t *images = host_alloc(chunk_halfs * 2), *ring = host_alloc(ring_halfs * 2);
    images[0] = 0, random_images(images + misalign, (size_t)m); // (every half uploaded is set)
    int32_t *index = host_alloc((m + 1) * sizeof(int32_t));
    memset(index, 0, (m + 1) * sizeof(int32_t));
    for (int i = 0, k = 0; i < m && k < count; i++) // ascending, `count` of them
        if (rnd_int(m - i) < count - k) index[k++] = i;
    uint16_t *d_images = dev_alloc(chunk_halfs * 2), *d_ring = dev_alloc(ring_halfs * 2);
    int32_t *d_index = dev_alloc((m + 1) * sizeof(int32_t)), *d_count = dev_alloc(sizeof(int32_t));
    long long *d_tail = dev_alloc(sizeof(long long));
    upload(d_images, images, chunk_halfs * 2);
    upload(d_index, index, (m + 1) * sizeof(int32_t));
    upload(d_count, &reported, sizeof reported);
    upload(d_tail, &tail, sizeof tail);
    poison(d_ring, ring_halfs * 2);
    gather_params p = {.images = d_images + misalign, .deferred_index = d_index, .deferred_count = d_count,
                       .max_count = m, .queue = d_ring + misalign, .capacity = capacity, .queue_tail = d_tail};
    TCUDA(gather_launch(&p, stream));
    sync_stream();
    long long new_tail;
    download(ring, d_ring, ring_halfs * 2);
    download(&new_tail, d_tail, sizeof new_tail);

    uint8_t *written = calloc((size_t)capacity, 1);
    int wrong = 0, touched = 0;
    for (int j = 0; j < count; j++) {
        long long slot = (tail + j) % capacity;
        written[slot] = 1;
        wrong += memcmp(ring + misalign + slot * IMAGE_HALFS, images + misalign + (size_t)index[j] * IMAGE_HALFS,
                        IMAGE_HALFS * 2) != 0;
    }
    for (long long s = 0; s < capacity; s++)
        if (!written[s])
            for (int h = 0; h < IMAGE_HALFS; h++) touched += ring[misalign + s * IMAGE_HALFS + h] != 0xffff;
    CHECK(new_tail == tail + count, "gather: tail %lld, expected %lld", new_tail, tail + count);
    CHECK(wrong == 0, "gather m=%d count=%d: %d images wrong", m, count, wrong);
    CHECK(touched == 0, "gather m=%d count=%d: %d halfs written outside the appended slots", m, count, touched);
    printf("gather m=%-5d count=%-5d reported=%-5d capacity=%-5lld tail=%-6lld misalign=%d ok=%d\n", m, count, reported,
           capacity, tail, misalign, new_tail == tail + count && !wrong && !touched);
    cudaFree(d_images), cudaFree(d_ring), cudaFree(d_index), cudaFree(d_count), cudaFree(d_tail);
    free(images), free(ring), free(index), free(written);
}

// ---- queue take ------------------------------------------------------------------

static void test_take(long long capacity, long long head, int n, int misalign) {
    size_t ring_halfs = (size_t)capacity * IMAGE_HALFS + misalign, batch_halfs = (size_t)(n + 1) * IMAGE_HALFS + misalign;
    uint16_t *ring = host_alloc(ring_halfs * 2), *batch = host_alloc(batch_halfs * 2);
    ring[0] = 0, random_images(ring + misalign, (size_t)capacity); // (every half uploaded is set)
    uint16_t *d_ring = dev_alloc(ring_halfs * 2), *d_batch = dev_alloc(batch_halfs * 2);
    upload(d_ring, ring, ring_halfs * 2);
    poison(d_batch, batch_halfs * 2);
    queue_take_params p = {.queue = d_ring + misalign, .capacity = capacity, .head = head, .n = n,
                           .batch = d_batch + misalign};
    TCUDA(queue_take_launch(&p, stream));
    sync_stream();
    download(batch, d_batch, batch_halfs * 2);
    int wrong = 0, touched = 0;
    for (int j = 0; j < n; j++)
        wrong += memcmp(batch + misalign + (size_t)j * IMAGE_HALFS,
                        ring + misalign + (size_t)((head + j) % capacity) * IMAGE_HALFS, IMAGE_HALFS * 2) != 0;
    for (size_t h = misalign + (size_t)n * IMAGE_HALFS; h < batch_halfs; h++) touched += batch[h] != 0xffff;
    for (int h = 0; h < misalign; h++) touched += batch[h] != 0xffff;
    CHECK(wrong == 0, "take capacity=%lld head=%lld n=%d: %d images wrong", capacity, head, n, wrong);
    CHECK(touched == 0, "take n=%d: %d halfs written outside the batch", n, touched);
    printf("take capacity=%-5lld head=%-6lld n=%-5d misalign=%d ok=%d\n", capacity, head, n, misalign, !wrong && !touched);
    cudaFree(d_ring), cudaFree(d_batch);
    free(ring), free(batch);
}

// ---- scatter ---------------------------------------------------------------------

static void test_scatter(int n, int slots, int device_count) {
    int32_t *pred = host_alloc(n * sizeof(int32_t) + 4), *slot = host_alloc(n * sizeof(int32_t) + 4);
    float *conf = host_alloc(n * sizeof(float) + 4);
    int32_t *perm = host_alloc(slots * sizeof(int32_t));
    for (int i = 0; i < slots; i++) perm[i] = i;
    for (int i = slots - 1; i > 0; i--) {
        int j = rnd_int(i + 1), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    for (int i = 0; i < n; i++) pred[i] = rnd_int(10), conf[i] = (float)rnd_unit(), slot[i] = perm[i];
    int32_t *d_pred = dev_alloc(n * sizeof(int32_t)), *d_slot = dev_alloc(n * sizeof(int32_t));
    float *d_conf = dev_alloc(n * sizeof(float));
    int32_t *d_out_pred = dev_alloc(slots * sizeof(int32_t)), *d_count = dev_alloc(sizeof(int32_t));
    float *d_out_conf = dev_alloc(slots * sizeof(float));
    upload(d_pred, pred, n * sizeof(int32_t)), upload(d_slot, slot, n * sizeof(int32_t));
    upload(d_conf, conf, n * sizeof(float));
    upload(d_count, &device_count, sizeof device_count);
    poison(d_out_pred, slots * sizeof(int32_t)), poison(d_out_conf, slots * sizeof(float));
    scatter_params p = {.prediction = d_pred, .confidence = d_conf, .result_slot = d_slot, .n = n,
                        .device_count = device_count >= 0 ? d_count : NULL,
                        .slot_prediction = d_out_pred, .slot_confidence = d_out_conf};
    TCUDA(scatter_launch(&p, stream));
    sync_stream();
    int32_t *out_pred = host_alloc(slots * sizeof(int32_t));
    float *out_conf = host_alloc(slots * sizeof(float));
    download(out_pred, d_out_pred, slots * sizeof(int32_t)), download(out_conf, d_out_conf, slots * sizeof(float));
    int used = device_count >= 0 && device_count < n ? device_count : n;
    uint8_t *written = calloc((size_t)slots, 1);
    int wrong = 0, touched = 0;
    for (int i = 0; i < used; i++) {
        written[slot[i]] = 1;
        wrong += out_pred[slot[i]] != pred[i] || memcmp(&out_conf[slot[i]], &conf[i], sizeof(float)) != 0;
    }
    uint32_t poison_bits = 0xffffffffu;
    for (int s = 0; s < slots; s++)
        if (!written[s]) touched += out_pred[s] != -1 || memcmp(&out_conf[s], &poison_bits, 4) != 0;
    CHECK(wrong == 0, "scatter n=%d: %d results wrong", n, wrong);
    CHECK(touched == 0, "scatter n=%d device_count=%d: %d slots written that should not be", n, device_count, touched);
    printf("scatter n=%-6d slots=%-6d device_count=%-6d ok=%d\n", n, slots, device_count, !wrong && !touched);
    cudaFree(d_pred), cudaFree(d_slot), cudaFree(d_conf), cudaFree(d_out_pred), cudaFree(d_out_conf), cudaFree(d_count);
    free(pred), free(slot), free(conf), free(perm), free(out_pred), free(out_conf), free(written);
}

// ---- the queue over many chunks: confidence -> gather, takes, vs a host FIFO ---------

static void test_queue_sequence(void) {
    const int m = 40, classes = 10, rounds = 60;
    const long long capacity = 97; // not a multiple of anything used
    float threshold = 0.6f;
    int tiles = CONFIDENCE_SCRATCH_INTS(m);
    uint16_t *images = host_alloc((size_t)m * IMAGE_HALFS * 2), *batch = host_alloc((size_t)m * IMAGE_HALFS * 2);
    float *logits = host_alloc((size_t)m * classes * sizeof(float));
    uint16_t *fifo = host_alloc((size_t)capacity * 4 * IMAGE_HALFS * 2); // host model: every image ever appended
    long long appended = 0, taken = 0;
    uint16_t *d_images = dev_alloc((size_t)m * IMAGE_HALFS * 2), *d_ring = dev_alloc((size_t)capacity * IMAGE_HALFS * 2);
    uint16_t *d_batch = dev_alloc((size_t)m * IMAGE_HALFS * 2);
    float *d_logits = dev_alloc((size_t)m * classes * sizeof(float)), *d_conf = dev_alloc(m * sizeof(float));
    int32_t *d_pred = dev_alloc(m * sizeof(int32_t)), *d_index = dev_alloc(m * sizeof(int32_t));
    int32_t *d_count = dev_alloc(sizeof(int32_t)), *d_tiles = dev_alloc(tiles * sizeof(int32_t));
    uint8_t *d_deferred = dev_alloc(m), *deferred = host_alloc(m);
    long long *d_tail = dev_alloc(sizeof(long long)), zero = 0;
    upload(d_tail, &zero, sizeof zero);
    poison(d_ring, (size_t)capacity * IMAGE_HALFS * 2);
    int wrong = 0, takes = 0;
    for (int r = 0; r < rounds; r++) {
        random_images(images, (size_t)m);
        random_logits(logits, m, classes);
        upload(d_images, images, (size_t)m * IMAGE_HALFS * 2);
        upload(d_logits, logits, (size_t)m * classes * sizeof(float));
        confidence_params cp = {.logits = d_logits, .n = m, .classes = classes, .prediction = d_pred,
                                .confidence = d_conf, .deferred = d_deferred, .defer = 1, .threshold = threshold,
                                .deferred_index = d_index, .deferred_count = d_count, .tile_counts = d_tiles};
        gather_params gp = {.images = d_images, .deferred_index = d_index, .deferred_count = d_count, .max_count = m,
                            .queue = d_ring, .capacity = capacity, .queue_tail = d_tail};
        TCUDA(confidence_launch(&cp, stream));
        TCUDA(gather_launch(&gp, stream));
        sync_stream();
        download(deferred, d_deferred, m);
        for (int i = 0; i < m; i++)
            if (deferred[i]) {
                if (appended - taken >= capacity) { CHECK(0, "queue sequence: test overflowed its ring"); goto done; }
                memcpy(fifo + (size_t)(appended++ % (capacity * 4)) * IMAGE_HALFS, images + (size_t)i * IMAGE_HALFS,
                       IMAGE_HALFS * 2);
            }
        // Take a random number (up to m) whenever the ring could not hold another chunk.
        while (appended - taken > capacity - m) {
            int n = 1 + rnd_int(m);
            if (n > appended - taken) n = (int)(appended - taken);
            queue_take_params tp = {.queue = d_ring, .capacity = capacity, .head = taken, .n = n, .batch = d_batch};
            TCUDA(queue_take_launch(&tp, stream));
            sync_stream();
            download(batch, d_batch, (size_t)n * IMAGE_HALFS * 2);
            for (int j = 0; j < n; j++)
                wrong += memcmp(batch + (size_t)j * IMAGE_HALFS,
                                fifo + (size_t)((taken + j) % (capacity * 4)) * IMAGE_HALFS, IMAGE_HALFS * 2) != 0;
            taken += n;
            takes++;
        }
    }
    long long tail;
    download(&tail, d_tail, sizeof tail);
    CHECK(tail == appended, "queue sequence: device tail %lld, host appended %lld", tail, appended);
    CHECK(wrong == 0, "queue sequence: %d taken images differ from the host FIFO", wrong);
    CHECK(takes > 0 && appended > capacity, "queue sequence: %d takes of %lld appended: the ring never wrapped", takes,
          appended);
    printf("queue sequence: %d chunks of %d, %lld appended, %d takes, ring of %lld: ok=%d\n", rounds, m, appended,
           takes, capacity, tail == appended && !wrong);
done:
    cudaFree(d_images), cudaFree(d_ring), cudaFree(d_batch), cudaFree(d_logits), cudaFree(d_conf), cudaFree(d_pred);
    cudaFree(d_index), cudaFree(d_count), cudaFree(d_tiles), cudaFree(d_deferred), cudaFree(d_tail);
    free(images), free(batch), free(logits), free(fifo), free(deferred);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); // a run killed by a time limit still shows how far it got
    printf("device: %s\n", require_gpu_or_skip());
    TCUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

    const float zoo_mean[3] = {0.4914f, 0.4822f, 0.4465f}, zoo_std[3] = {0.2470f, 0.2435f, 0.2616f};
    const float other_mean[3] = {0.5f, 0.25f, 0.125f}, other_std[3] = {0.5f, 1.0f, 0.0625f};
    int preprocess_sizes[] = {1, 3, 1000};
    for (int i = 0; i < 3; i++) test_preprocess(preprocess_sizes[i], zoo_mean, zoo_std);
    test_preprocess(257, other_mean, other_std);

    int sizes[] = {1, 1000, 1024, 3000, 65536};
    float thresholds[] = {0.0f, 0.5f, 1.0f};
    for (int s = 0; s < 5; s++)
        for (int t = 0; t < 3; t++)
            test_confidence((confidence_case){sizes[s], 10, 1, 1, thresholds[t]});
    test_confidence((confidence_case){65536, 10, 1, 1, 0.9f});
    test_confidence((confidence_case){262145, 10, 1, 1, 0.9f}); // past 256 tiles: the prefix loop's second lap
    test_confidence((confidence_case){1 << 20, 10, 1, 1, 0.5f}); // the most the backend takes (a network may allow fewer)
    test_confidence((confidence_case){0, 10, 1, 1, 0.5f});       // an empty chunk: the count alone, 0
    test_confidence((confidence_case){4097, 16, 1, 1, 0.7f});
    test_confidence((confidence_case){5000, 2, 1, 1, 0.8f});
    test_confidence((confidence_case){5000, 10, 0, 1, 1.0f});  // no expensive network: nothing deferred
    test_confidence((confidence_case){5000, 10, 1, 0, 0.5f});  // flags only
    test_confidence((confidence_case){5000, 10, -1, 0, 0.5f}); // expensive batch: no deferral at all

    for (int oc = 8; oc <= 16; oc += 8)
        for (int k = 3; k <= 5; k += 2) {
            test_conv_small(3, 32, 32, oc, k, 0, 1);     // lenet's form
            test_conv_small(2, 13, 7, oc, k, k / 2, 0);  // padded, rows not a multiple of 4 pixels
            test_conv_small(1, k, k + 2, oc, k, 0, 1);   // one output row: fewer tasks than a warp
        }
    test_conv_small(6, 16, 16, 16, 3, 2, 1); // padding past the kernel's half (few images: racecheck runs it)
    test_conv_small_refuses();

    test_gather(1000, 300, 4000, 0, 0);
    test_gather(1000, 1000, 1500, 1200, 0); // wraps around the ring
    test_gather(64, 17, 50, 5LL * 50 + 40, 0); // tail past several laps
    test_gather(100, 0, 200, 7, 0);
    test_gather(100, 37, 120, 100, 1); // halfword path
    test_gather(5000, 4500, 6000, 5900, 0); // more images than blocks: the grid-stride loop's second lap
    test_gather(300, 307, 400, 10, 0);      // a count past the chunk: clamped to it
    test_gather(300, -3, 400, 10, 0);       // a negative count: nothing gathered, the tail kept
    test_take(4000, 0, 1000, 0);
    test_take(1500, 1200, 1000, 0); // wraps
    test_take(97, 97LL * 1000 + 90, 97, 0); // the whole ring, starting near its end
    test_take(300, 250, 123, 1);
    test_scatter(1, 1, -1);
    test_scatter(1000, 5000, -1);
    test_scatter(70000, 70000, -1);
    test_scatter(1000, 3000, 421);
    test_queue_sequence();

    cudaStreamDestroy(stream);
    return test_summary("gpu_kernels");
}
