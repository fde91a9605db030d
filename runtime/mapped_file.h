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
void mapped_file_close(mapped_file *m);

#ifdef __cplusplus
}
#endif
