// mapped_file.h: a whole input file mapped read-only, never read whole into
// memory (weights, datasets). Only regular files are accepted; the open does
// not block on a FIFO.
#pragma once
#include <stddef.h>
#include "status.h"

typedef struct {
    void *data;  // NULL for an empty file
    size_t size;
} mapped_file;

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status mapped_file_open(mapped_file *m, const char *path, cascade_error *err);
void mapped_file_close(mapped_file *m);

#ifdef __cplusplus
}
#endif
