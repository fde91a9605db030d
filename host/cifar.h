// cifar.h: reader of the CIFAR-10 binary format (records of 1 label byte +
// 3072 pixel bytes: 1024 R, 1024 G, 1024 B). The file is mapped, not read
// whole: opening checks its size only, so that a job over part of a huge
// file (--limit, --range, an early stop) touches only the records it uses.
// Each label is checked where the record is used: cifar_check_labels for a
// run of records, cifar_label_ok as a record is read.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "../runtime/mapped_file.h"
#include "../runtime/status.h"

#define CIFAR_RECORD 3073
#define CIFAR_PIXELS 3072

typedef struct {
    mapped_file map; // the whole file, read-only (empty for a buffer parsed in memory)
    const uint8_t *records; // count x CIFAR_RECORD
    int count;
    int first; // the file's number of records[0]: 0, or FIRST of a --range view (cifar_keep_range)
} cifar_file;

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status cifar_open(cifar_file *f, const char *path, cascade_error *err);
// Checks a buffer that holds whole records (the fuzzers' entry point); the buffer must outlive f.
CASCADE_MUST_CHECK cascade_status cifar_parse(cifar_file *f, const uint8_t *bytes, size_t size, cascade_error *err);
// Keeps records first..end-1 alone (0 <= first < end <= count): index i is then the
// file's record first + i, as the label messages say it.
void cifar_keep_range(cifar_file *f, int first, int end);
// CASCADE_EFORMAT "record R has label L (labels are 0..9)" for the first bad one of records first..first+n-1
// (R the file's number of the record).
CASCADE_MUST_CHECK cascade_status cifar_check_labels(const cifar_file *f, int first, int n, cascade_error *err);
CASCADE_MUST_CHECK cascade_status cifar_bad_label(int record, int label, cascade_error *err);
void cifar_close(cifar_file *f);

static inline int cifar_label(const cifar_file *f, int i) { return f->records[(size_t)i * CIFAR_RECORD]; }
static inline int cifar_label_ok(int label) { return label >= 0 && label <= 9; }
static inline const uint8_t *cifar_pixels(const cifar_file *f, int i) {
    return f->records + (size_t)i * CIFAR_RECORD + 1;
}

// Copies records first .. first+n-1 into pixels (n x 3072) and labels (n).
void cifar_copy(const cifar_file *f, int first, int n, uint8_t *pixels, uint8_t *labels);

#ifdef __cplusplus
}
#endif
