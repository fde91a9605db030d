// assets.h: where the weights, data and golden logits live.
// $CASCADE_ASSETS when set, else ../shared (from the working directory),
// else ../shared next to the source checkout. Zoo names resolve to
// <assets>/weights/<name>.safetensors; anything with a '/' or ending in
// .safetensors is taken as a path.
#pragma once
#include <stddef.h>
#include "../runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *assets_dir(void);
// Writes the file path of a model given by zoo name or path into out: a
// zoo name first, then a path (one with a '/' or ending .safetensors, or any
// name that exists: mylenet.bin in the working folder).
CASCADE_MUST_CHECK cascade_status assets_model_path(const char *name_or_path, char *out, size_t cap,
                                                    cascade_error *err);
// Fails (CASCADE_EIO, saying where it looked and what to set) where the
// assets folder has no such folder (weights, data): nothing was found there,
// which the one missing file an open would name does not tell. The two
// resolvers below call it for a zoo name and for the default data.
CASCADE_MUST_CHECK cascade_status assets_have(const char *folder, cascade_error *err);
// <assets>/<relative> into out.
CASCADE_MUST_CHECK cascade_status assets_path(const char *relative, char *out, size_t cap, cascade_error *err);
// The data file a --data option names (given), or the CIFAR-10 test set when it is NULL.
CASCADE_MUST_CHECK cascade_status assets_data_path(const char *given, char *out, size_t cap, cascade_error *err);
// Each of these fails (CASCADE_EINVAL) on a path longer than cap - 1 bytes:
// cut to fit, it would name another file.

#ifdef __cplusplus
}
#endif
