// mapped_file.h: a whole input file mapped read-only, never read whole into
// memory (weights, datasets). Only regular files are accepted; the open does
// not block on a FIFO. The file stays open beside its mapping, so that a job
// can check before it publishes that the file was not changed under it: a
// file copied over or written in place shows through the mapping, and a
// truncation inside its last page reads as zeros rather than raising SIGBUS.
#pragma once
#include <stddef.h>
#include <time.h>
#include "status.h"

typedef struct {
    void *data;  // NULL for an empty file
    size_t size;
    int fd;                   // the file, above the standard descriptors (0 in a zeroed one: none)
    struct timespec modified; // its modification time at the open
} mapped_file;

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status mapped_file_open(mapped_file *m, const char *path, cascade_error *err);
// CASCADE_EIO "PATH was modified while in use" when the file's size or
// modification time is no longer what it was at the open.
CASCADE_MUST_CHECK cascade_status mapped_file_unchanged(const mapped_file *m, const char *path, cascade_error *err);
// Advice that the mapping will be read in a random order (a seeded order
// over a dataset): a page fault then reads its own pages, not the 128 KB
// around them that a sequential reader would use next. A cold 3 GB file, a
// random order, 2 cores, lenet: 1.6-3.4x the images in a 3 s budget; no
// change once the file is cached. Advice only: where the kernel refuses it,
// the file reads as before.
void mapped_file_expect_random(const mapped_file *m);
void mapped_file_close(mapped_file *m);

#ifdef __cplusplus
}
#endif
