// safetensors.h: a validating, mmap-based reader of .safetensors files.
// Format: u64 little-endian header length N, N bytes of JSON, then the data
// section. Nothing in the file is trusted until st_open has checked it:
// header inside the file, JSON well formed, known dtypes, shapes matching
// byte ranges, ranges inside the data section and not overlapping.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include "../runtime/mapped_file.h"
#include "../runtime/status.h"

typedef enum { ST_F16, ST_BF16, ST_F32, ST_F64, ST_U8, ST_I8, ST_I32, ST_I64 } st_dtype;

#define ST_MAX_DIMS 8
#define ST_MAX_NAME 160

typedef struct {
    char name[ST_MAX_NAME];
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    int64_t numel;
    size_t begin, end;   // byte range within the data section
    const uint8_t *data; // points into the mapping
} st_tensor;

typedef struct {
    char *key, *value; // NUL-terminated, any length the header holds (freed by st_close)
} st_metadata_entry;

typedef struct {
    mapped_file map; // the whole file, read-only (empty for a buffer parsed in memory)
    int n_tensors;
    st_tensor *tensors;
    int n_metadata;
    st_metadata_entry *metadata;
} st_file;

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status st_open(st_file *f, const char *path, cascade_error *err);
// Same checks over a buffer in memory (the buffer must outlive f); used by the fuzzers.
CASCADE_MUST_CHECK cascade_status st_parse(st_file *f, const uint8_t *bytes, size_t size, cascade_error *err);
void st_close(st_file *f);

const st_tensor *st_find(const st_file *f, const char *name);
const char *st_metadata(const st_file *f, const char *key); // NULL when absent
const char *st_dtype_name(st_dtype d);
size_t st_dtype_size(st_dtype d);

// Converts a floating-point tensor (F16, BF16, F32, F64) to fp32 into out[numel];
// fails on a non-float dtype or on a NaN/Inf value.
CASCADE_MUST_CHECK cascade_status st_to_f32(const st_tensor *t, float *out, cascade_error *err);

float st_half_to_float(uint16_t h);

#ifdef __cplusplus
}
#endif
