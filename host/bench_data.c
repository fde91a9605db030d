// bench_data.c: replicated, shuffled benchmark input (see bench_data.h).
#include "bench_data.h"
#include "job.h"
#include <stdlib.h>
#include <string.h>

cascade_status bench_data_make(bench_data *d, const cifar_file *source, int64_t count, uint64_t seed,
                               cascade_error *err) {
    memset(d, 0, sizeof *d);
    int64_t copies = (count + source->count - 1) / source->count;
    int64_t replicated = copies * source->count;
    if (replicated > 0xffffffffll) return cascade_fail(err, CASCADE_EINVAL, "too many benchmark images");
    uint32_t *order = malloc((size_t)replicated * sizeof *order);
    size_t bytes = ((size_t)count * CIFAR_PIXELS + 4095) / 4096 * 4096; // whole pages: the GPU pins them
    if (posix_memalign((void **)&d->pixels, 4096, bytes)) d->pixels = NULL;
    d->labels = malloc((size_t)count);
    if (!order || !d->pixels || !d->labels) {
        free(order);
        bench_data_free(d);
        return cascade_fail(err, CASCADE_ENOMEM, "out of memory for %lld benchmark images (%.1f MB)",
                            (long long)count, count * 3072.0 / 1e6);
    }
    shuffled_order(order, replicated, seed); // a permutation of the replicated set
    for (int64_t i = 0; i < count; i++) {
        int record = (int)(order[i] % (uint32_t)source->count);
        int label = cifar_label(source, record);
        if (!cifar_label_ok(label)) { // checked as drawn: a few images of a huge file touch only those
            free(order);
            bench_data_free(d);
            return cifar_bad_label(record, label, err);
        }
        memcpy(d->pixels + i * CIFAR_PIXELS, cifar_pixels(source, record), CIFAR_PIXELS);
        d->labels[i] = (uint8_t)label;
    }
    free(order);
    d->count = count;
    return CASCADE_OK;
}

void bench_data_free(bench_data *d) {
    free(d->pixels);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

void bench_data_fill(void *data, int64_t first, int n, uint8_t *pixels) {
    const bench_data *d = data;
    memcpy(pixels, d->pixels + first * CIFAR_PIXELS, (size_t)n * CIFAR_PIXELS);
}

const uint8_t *bench_data_chunk(void *data, int64_t first, int n) {
    (void)n;
    return ((const bench_data *)data)->pixels + first * CIFAR_PIXELS;
}
