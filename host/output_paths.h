// output_paths.h: where an output really lands, and the check that no output
// lands on an input or on another output (`run --data x.bin --output x.bin`
// would replace the data with its own predictions, `--output r --json r` one
// output with the other). Symbolic links are followed to the file they name,
// so that writing through a link replaces its target, not the link.
#pragma once
#include <stddef.h>
#include "../runtime/status.h"

typedef struct {
    const char *option; // "--data", "--json", ... for the message
    const char *path;   // NULL: not given (skipped)
    int models;         // 1: a comma-separated list of zoo names or .safetensors paths;
                        // 2: a list of cheap:full pairs of them; 3: one of them, whole (a
                        // path may hold a comma) (inputs only)
} named_path;

#ifdef __cplusplus
extern "C" {
#endif

// Descriptors 0-2 are open from here on (/dev/null where the caller closed
// one; standard output's read-only, so that what is printed there fails with
// EBADF as it would have), so that no file the command opens becomes
// "standard output"; the ones that were closed are remembered
// (output_path_closed_at_start).
void output_paths_hold_standard(void);
// 1 for a descriptor 0-2 the process was started without: an output there
// (-, /dev/stdout) is refused, not sent to the /dev/null that holds its place.
int output_path_closed_at_start(int fd);

// The folder path is in, as written: "." for a bare name, "/" for one at the root.
void output_path_folder(const char *path, char *out, size_t cap);

#define OUTPUT_PATH_FILE (-1)     // out: the file the links lead to (it may not exist yet)
#define OUTPUT_PATH_IN_PLACE (-2) // a link into /proc that is not ours: written in place, never replaced
#define OUTPUT_PATH_LOOP (-3)     // links that never end (ELOOP)
// The path with its symbolic links followed into out. Returns the descriptor
// N where the path is one of this process's own (/dev/stdout, /dev/fd/N,
// /proc/self/fd/N: written through that descriptor, never replaced or
// reopened), else one of the OUTPUT_PATH_ values.
int output_path_target(const char *path, char *out, size_t cap);
// 1 when a and b name the same regular file, or the same file yet to be
// made; devices, FIFOs and directories are never the same (two outputs may
// both be /dev/null).
int output_paths_same(const char *a, const char *b);
// CASCADE_EINVAL "--output x is also the --data file" for the first output
// that is an input (a model list's files included) or an earlier output
// (a descriptor of the process, such as standard output as - or
// /dev/stdout, takes one output alone).
CASCADE_MUST_CHECK cascade_status output_paths_check(const named_path *outputs, int n_outputs,
                                                     const named_path *inputs, int n_inputs, cascade_error *err);

#ifdef __cplusplus
}
#endif
