// assets.c: locating weights, data and golden logits (see assets.h).
#include "assets.h"
#include "../models/model.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CASCADE_SOURCE_DIR
#define CASCADE_SOURCE_DIR "."
#endif

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *assets_dir(void) {
    const char *env = getenv("CASCADE_ASSETS");
    if (env && *env) return env;
    if (is_dir("../shared/weights")) return "../shared";
    return CASCADE_SOURCE_DIR "/../shared";
}

// The formatted path into out, or a failure where it does not fit (a path cut
// short names another file, one that may well exist).
static cascade_status put_path(char *out, size_t cap, cascade_error *err, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(out, cap, format, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return cascade_fail(err, CASCADE_EINVAL, "path longer than %zu bytes: %.48s...", cap - 1, out);
    return CASCADE_OK;
}

cascade_status assets_have(const char *folder, cascade_error *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", assets_dir(), folder); // (a longer one is refused by put_path first)
    if (is_dir(path)) return CASCADE_OK;
    const char *env = getenv("CASCADE_ASSETS");
    if (env && *env)
        return cascade_fail(err, CASCADE_EIO, "no assets: CASCADE_ASSETS=%s has no %s/ folder (set it to the folder "
                            "that holds weights/ and data/)", env, folder);
    if (strcmp(assets_dir(), "../shared")) // (the folder beside the sources: ../shared has no weights/)
        return cascade_fail(err, CASCADE_EIO, "no assets: CASCADE_ASSETS is unset, and neither ../shared nor %s/../shared "
                            "has a %s/ folder (set CASCADE_ASSETS to the folder that holds weights/ and data/)",
                            CASCADE_SOURCE_DIR, folder);
    // ../shared was taken for its weights/: the folder beside the sources is not looked at
    return cascade_fail(err, CASCADE_EIO, "no assets: CASCADE_ASSETS is unset, and ../shared (taken for its weights/) "
                        "has no %s/ folder (set CASCADE_ASSETS to the folder that holds weights/ and data/)", folder);
}

cascade_status assets_path(const char *relative, char *out, size_t cap, cascade_error *err) {
    return put_path(out, cap, err, "%s/%s", assets_dir(), relative);
}

cascade_status assets_data_path(const char *given, char *out, size_t cap, cascade_error *err) {
    if (given) return put_path(out, cap, err, "%s", given);
    cascade_status s = assets_path("data/cifar10/test_batch.bin", out, cap, err);
    return s ? s : assets_have("data", err);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

cascade_status assets_model_path(const char *name, char *out, size_t cap, cascade_error *err) {
    if (!name || !*name) return cascade_fail(err, CASCADE_EINVAL, "empty model name");
    if (strchr(name, '/') || ends_with(name, ".safetensors")) return put_path(out, cap, err, "%s", name);
    for (int i = 0; model_arch_names[i]; i++)
        if (!strcmp(name, model_arch_names[i])) {
            cascade_status s = put_path(out, cap, err, "%s/weights/%s.safetensors", assets_dir(), name);
            return s ? s : assets_have("weights", err);
        }
    struct stat st;
    if (stat(name, &st) == 0) return put_path(out, cap, err, "%s", name); // a file (or what is there: its error)
    return cascade_fail(err, CASCADE_EINVAL,
                        "unknown model '%s' (zoo: lenet, alexnet_shallower, alexnet_shallow, alexnet, resnet18, "
                        "resnet34; or a path to a .safetensors file)", name);
}
