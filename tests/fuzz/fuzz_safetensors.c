// fuzz_safetensors.c: libFuzzer target for the safetensors reader (st_parse).
// Input: a whole .safetensors file. On success every tensor must lie inside
// the buffer and be findable by name, and the float ones must convert (or be
// refused for a NaN/Inf); on failure the message must be one clean line.
//   build: CC=clang cmake -S . -B build-fuzz -DCASCADE_FUZZ=ON -DCASCADE_WITH_CUDA=OFF
//   run:   tests/fuzz/run_fuzzers.sh SECONDS build-fuzz
#include "fuzz_util.h"
#include "models/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // A private copy, exactly `size` bytes long, so ASan sees any read past the end.
    uint8_t *bytes = malloc(size ? size : 1);
    if (!bytes) return 0;
    memcpy(bytes, data, size);
    st_file f;
    cascade_error err = {{0}};
    if (st_parse(&f, bytes, size, &err)) {
        fuzz_check_message(&err);
        FUZZ_ASSERT(f.tensors == NULL && f.metadata == NULL, "failed parse kept allocations");
        free(bytes);
        return 0;
    }
    for (int i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        FUZZ_ASSERT(memchr(t->name, 0, sizeof t->name) != NULL, "unterminated name");
        FUZZ_ASSERT(t->ndim >= 0 && t->ndim <= ST_MAX_DIMS, "ndim %d", t->ndim);
        FUZZ_ASSERT(t->begin <= t->end && t->data >= bytes && t->data + (t->end - t->begin) <= bytes + size,
                    "tensor '%s' outside the buffer", t->name);
        FUZZ_ASSERT((uint64_t)(t->end - t->begin) == (uint64_t)t->numel * st_dtype_size(t->dtype), "size mismatch");
        FUZZ_ASSERT(st_find(&f, t->name) == t, "st_find('%s') found another tensor", t->name);
        int is_float = t->dtype == ST_F16 || t->dtype == ST_BF16 || t->dtype == ST_F32 || t->dtype == ST_F64;
        if (t->numel > 1 << 20) continue;
        float *out = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
        if (!out) continue;
        cascade_status s = st_to_f32(t, out, &err);
        FUZZ_ASSERT(is_float || s, "st_to_f32 took dtype %s", st_dtype_name(t->dtype));
        if (s) fuzz_check_message(&err);
        free(out);
    }
    for (int i = 0; i < f.n_metadata; i++) {
        const st_metadata_entry *e = &f.metadata[i];
        FUZZ_ASSERT(e->key && e->value, "metadata without its key or value");
        FUZZ_ASSERT(st_metadata(&f, e->key) != NULL, "metadata key '%s' not found", e->key);
    }
    st_close(&f);
    free(bytes);
    return 0;
}
