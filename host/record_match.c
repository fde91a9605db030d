// record_match.c: images two runs of CIFAR records share (see record_match.h).
// The records of `among` are keyed by a hash of their pixels and sorted; each
// record of `of` is looked up, and a hash that matches is confirmed byte by
// byte, so a collision never counts. O((n + m) log n) time, 16 bytes per
// record of `among`; the pixels are read once more, from the mapping.
#include "record_match.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t hash;
    int64_t record;
} keyed_record;

static uint64_t pixels_hash(const uint8_t *pixels) {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < CIFAR_PIXELS; i += 8) {
        uint64_t word;
        memcpy(&word, pixels + i, sizeof word);
        h = (h ^ word) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

static int by_hash(const void *a, const void *b) {
    uint64_t x = ((const keyed_record *)a)->hash, y = ((const keyed_record *)b)->hash;
    return (x > y) - (x < y);
}

// Is there a record of keys (n, sorted) with these pixels?
static int has_pixels(const keyed_record *keys, int64_t n, const cifar_file *file, const uint8_t *pixels) {
    uint64_t h = pixels_hash(pixels);
    int64_t lo = 0, hi = n; // the first key with hash >= h
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (keys[mid].hash < h) lo = mid + 1;
        else hi = mid;
    }
    for (int64_t k = lo; k < n && keys[k].hash == h; k++)
        if (!memcmp(cifar_pixels(file, (int)keys[k].record), pixels, CIFAR_PIXELS)) return 1;
    return 0;
}

cascade_status records_in_common(record_run among, record_run of, int64_t *count, cascade_error *err) {
    *count = 0;
    if (among.n <= 0 || of.n <= 0) return CASCADE_OK;
    keyed_record *keys = malloc((size_t)among.n * sizeof *keys);
    if (!keys)
        return cascade_fail(err, CASCADE_ENOMEM, "out of memory comparing images with %lld others", (long long)among.n);
    for (int64_t i = 0; i < among.n; i++) {
        int64_t record = among.first + i;
        keys[i] = (keyed_record){pixels_hash(cifar_pixels(among.file, (int)record)), record};
    }
    qsort(keys, (size_t)among.n, sizeof *keys, by_hash);
    for (int64_t j = 0; j < of.n; j++)
        *count += has_pixels(keys, among.n, among.file, cifar_pixels(of.file, (int)(of.first + j)));
    free(keys);
    return CASCADE_OK;
}
