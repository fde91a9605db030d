// fuzz_util.h: what every fuzz target in tests/fuzz shares.
// FUZZ_ASSERT turns a broken invariant into an abort(), which libFuzzer (or
// the replay driver) reports as a crash with its input saved.
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/status.h"

#define FUZZ_ASSERT(cond, ...)                                                     \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "fuzz invariant broken at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                          \
            fprintf(stderr, "\n");                                                 \
            abort();                                                               \
        }                                                                          \
    } while (0)

// A failure must leave one clear line: non-empty, NUL-terminated, and free of
// control characters (no newline or terminal escape copied from the input).
static inline void fuzz_check_message(const cascade_error *err) {
    size_t n = strnlen(err->message, sizeof err->message);
    FUZZ_ASSERT(n > 0 && n < sizeof err->message, "empty or unterminated error message");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)err->message[i];
        FUZZ_ASSERT(c >= 0x20 && c != 0x7f, "control character 0x%02x at %zu in message '%s'", c, i, err->message);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
