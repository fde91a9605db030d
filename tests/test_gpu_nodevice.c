// test_gpu_nodevice.c: gpu_backend_create fails cleanly where it must.
// Runs everywhere. Bad sizes are CASCADE_EINVAL before any device call.
// Without a usable CUDA device (CI): CASCADE_ENODEV (or EDEVICE) with a
// message, the backend struct untouched, no crash. With one: the backend
// opens (named "gpu (<device>)") and closes.
#include "test_util.h"
#include "runtime/gpu/gpu_backend.h"
#include "runtime/gpu/gpu_probe.h"

static void load(model *m, const char *name) {
    char path[1024];
    cascade_error err;
    if (assets_model_path(name, path, sizeof path, &err) || model_load(m, path, NULL, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.message);
        exit(2);
    }
}

int main(void) {
    model cheap, expensive;
    load(&cheap, "lenet");
    load(&expensive, "alexnet_shallower");
    cascade_backend be, untouched;
    memset(&untouched, 0x5a, sizeof untouched);
    cascade_error err;

    be = untouched, err.message[0] = 0;
    cascade_status s = gpu_backend_create(&be, &cheap, &expensive, 0, 64, &err);
    CHECK(s == CASCADE_EINVAL && err.message[0], "chunk 0: status %s, '%s'", cascade_status_name(s), err.message);
    be = untouched, err.message[0] = 0;
    s = gpu_backend_create(&be, &cheap, &expensive, 512, -1, &err);
    CHECK(s == CASCADE_EINVAL && err.message[0], "batch -1: status %s, '%s'", cascade_status_name(s), err.message);
    CHECK(!memcmp(&be, &untouched, sizeof be), "a failed create wrote into the backend");

    char name[256];
    cascade_error why;
    int have_device = gpu_probe(name, sizeof name, &why) == CASCADE_OK;
    be = untouched, err.message[0] = 0;
    s = gpu_backend_create(&be, &cheap, &expensive, 512, 64, &err);
    if (!have_device) {
        printf("no device (%s): gpu_backend_create -> %s: %s\n", why.message, cascade_status_name(s), err.message);
        CHECK(s == CASCADE_ENODEV || s == CASCADE_EDEVICE, "status %s", cascade_status_name(s));
        CHECK(err.message[0] != 0, "no message");
        CHECK(!memcmp(&be, &untouched, sizeof be), "a failed create wrote into the backend");
    } else {
        printf("device %s: gpu_backend_create -> %s %s\n", name, cascade_status_name(s), s ? err.message : be.name);
        CHECK(s == CASCADE_OK, "%s", err.message);
        if (s == CASCADE_OK) {
            CHECK(!strncmp(be.name, "gpu (", 5), "backend name '%s'", be.name);
            CHECK(be.n_slots >= 2 && be.chunk_capacity == 512 && be.expensive_batch == 64, "geometry %d %d %d",
                  be.n_slots, be.chunk_capacity, be.expensive_batch);
            be.destroy(be.impl);
        }
    }
    model_free(&cheap), model_free(&expensive);
    return test_summary("gpu_nodevice");
}
