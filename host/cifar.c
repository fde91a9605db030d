// cifar.c: CIFAR-10 binary reader (see cifar.h).
#include "cifar.h"
#include <stdio.h>
#include <string.h>

cascade_status cifar_parse(cifar_file *f, const uint8_t *bytes, size_t size, cascade_error *err) {
    memset(f, 0, sizeof *f);
    if (size == 0) return cascade_fail(err, CASCADE_EFORMAT, "file is empty: no CIFAR records");
    if (size % CIFAR_RECORD)
        return cascade_fail(err, CASCADE_EFORMAT,
                            "size %zu is not a whole number of %d-byte records (record %zu is truncated)", size,
                            CIFAR_RECORD, size / CIFAR_RECORD);
    if (size / CIFAR_RECORD > 0x7fffffff) return cascade_fail(err, CASCADE_EFORMAT, "too many records");
    f->records = bytes;
    f->count = (int)(size / CIFAR_RECORD);
    return CASCADE_OK;
}

cascade_status cifar_bad_label(int record, int label, cascade_error *err) {
    return cascade_fail(err, CASCADE_EFORMAT, "record %d has label %d (labels are 0..9)", record, label);
}

cascade_status cifar_check_labels(const cifar_file *f, int first, int n, cascade_error *err) {
    for (int i = first; i < first + n; i++)
        if (!cifar_label_ok(cifar_label(f, i))) return cifar_bad_label(i, cifar_label(f, i), err);
    return CASCADE_OK;
}

cascade_status cifar_open(cifar_file *f, const char *path, cascade_error *err) {
    memset(f, 0, sizeof *f); // (a failed open leaves nothing for cifar_close to close)
    mapped_file m;
    cascade_status s = mapped_file_open(&m, path, err);
    if (s) return s;
    if ((s = cifar_parse(f, m.data, m.size, err))) {
        mapped_file_close(&m);
        cascade_error_prefix(err, path);
        return s;
    }
    f->map = m;
    return CASCADE_OK;
}

void cifar_close(cifar_file *f) {
    mapped_file_close(&f->map);
    memset(f, 0, sizeof *f);
}

void cifar_copy(const cifar_file *f, int first, int n, uint8_t *pixels, uint8_t *labels) {
    for (int i = 0; i < n; i++) {
        if (pixels) memcpy(pixels + (size_t)i * CIFAR_PIXELS, cifar_pixels(f, first + i), CIFAR_PIXELS);
        if (labels) labels[i] = (uint8_t)cifar_label(f, first + i);
    }
}
