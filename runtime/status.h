// status.h: the one error convention of the library.
// Every library function that can fail returns a cascade_status and, on
// failure, leaves a one-line message in a caller-owned cascade_error.
// Only host/ prints messages and chooses exit codes.
#pragma once

typedef enum {
    CASCADE_OK = 0,
    CASCADE_EINVAL,      // bad argument
    CASCADE_EIO,         // file could not be opened, read or written
    CASCADE_EFORMAT,     // file content is malformed
    CASCADE_ENOMEM,      // host or device memory exhausted
    CASCADE_ENODEV,      // no usable CUDA device / GPU backend not built
    CASCADE_EDEVICE,     // a CUDA, cuDNN or cuBLAS call failed
    CASCADE_EINTERRUPTED // stopped early on request
} cascade_status;

typedef struct {
    char message[512];
} cascade_error;

// On a function that returns a status: the compiler (-Werror=unused-result)
// refuses a call whose status is dropped (with GCC, a (void) cast does not
// silence it; clang, which builds the fuzzers, accepts one).
#define CASCADE_MUST_CHECK __attribute__((warn_unused_result))

#ifdef __cplusplus
extern "C" {
#endif

// Formats the message into err (when err is non-NULL) and returns code.
cascade_status cascade_fail(cascade_error *err, cascade_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const char *cascade_status_name(cascade_status s);

// Puts "prefix: " before the message (a file name, say), unless it already starts so.
void cascade_error_prefix(cascade_error *err, const char *prefix);

#ifdef __cplusplus
}
#endif
