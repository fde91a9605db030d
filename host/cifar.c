// cifar.c: CIFAR-10 binary reader (see cifar.h).
#include "cifar.h"
#include <stdio.h>
#include <string.h>

// What a file that is no CIFAR-10 binary file is, where its first bytes say so
// (each starts with a byte past the labels 0..9, so no CIFAR file is taken for
// one of them; its record 0 would be refused anyway, as "label 31" rather than
// for what it is), and what to give instead; 0 when none of these.
static int other_format(const uint8_t *b, size_t size, const char **what, const char **instead) {
    const char *extract = ": extract it and give one of its .bin files";
    *instead = "";
    if (size >= 2 && b[0] == 0x1f && b[1] == 0x8b) *what = "a gzip-compressed file", *instead = extract;
    else if (size >= 263 && b[0] > 9 && !memcmp(b + 257, "ustar", 5)) *what = "a tar archive", *instead = extract;
    else if (size >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
        *what = "a Python pickle", *instead = ": CIFAR-10's python version? give a .bin file of its binary version";
    else if (size >= 6 && !memcmp(b, "\x93NUMPY", 6)) *what = "a NumPy .npy array";
    else if (size >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) *what = "a PNG image";
    else if (size >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) *what = "a JPEG image";
    else return 0;
    return 1;
}

// Why a file of the wrong size is so, where it can be told: CIFAR-100's
// records, or a safetensors file (8-byte header length, then its JSON).
static const char *size_hint(const uint8_t *b, size_t size) {
    if (size % (CIFAR_RECORD + 1) == 0)
        return "; it is a whole number of 3074-byte records, CIFAR-100's format (two label bytes), "
               "which cascade does not read";
    uint64_t header = 0;
    for (int i = 7; i >= 0 && size > 9; i--) header = header << 8 | b[i];
    if (size > 9 && b[8] == '{' && header >= 2 && header <= size - 8)
        return "; it is a safetensors file (model weights?), not CIFAR-10 records";
    return "";
}

cascade_status cifar_parse(cifar_file *f, const uint8_t *bytes, size_t size, cascade_error *err) {
    memset(f, 0, sizeof *f);
    if (size == 0) return cascade_fail(err, CASCADE_EFORMAT, "file is empty: no CIFAR records");
    const char *what, *instead;
    if (other_format(bytes, size, &what, &instead))
        return cascade_fail(err, CASCADE_EFORMAT, "%s, not a CIFAR-10 binary file (records of a label byte and "
                            "3072 pixel bytes)%s", what, instead);
    if (size % CIFAR_RECORD)
        return cascade_fail(err, CASCADE_EFORMAT,
                            "size %zu is not a whole number of %d-byte records (record %zu is truncated)%s", size,
                            CIFAR_RECORD, size / CIFAR_RECORD, size_hint(bytes, size));
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
        if (!cifar_label_ok(cifar_label(f, i))) return cifar_bad_label(f->first + i, cifar_label(f, i), err);
    return CASCADE_OK;
}

void cifar_keep_range(cifar_file *f, int first, int end) {
    f->records += (size_t)first * CIFAR_RECORD;
    f->count = end - first;
    f->first += first;
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
