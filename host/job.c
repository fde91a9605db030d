// job.c: shared set-up of a cascade job (see job.h).
#include "job.h"
#include "assets.h"
#include "../runtime/cpu/cpu_backend.h"
#include <stdio.h>
#include <string.h>
#ifdef CASCADE_HAVE_CUDA
#include "../runtime/gpu/gpu_backend.h"
#include "../runtime/gpu/gpu_probe.h"
#endif

#define GPU_DEFAULT_CHUNK 8192
#define GPU_DEFAULT_BATCH 1024

uint64_t rng_next(seeded_rng *r) { // splitmix64
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void shuffled_order(uint32_t *order, int64_t n, uint64_t seed) {
    seeded_rng r = {seed};
    for (int64_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rng_next(&r) % (uint64_t)(i + 1));
        uint32_t t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

void image_source_fill(void *source, int64_t first, int n, uint8_t *pixels) {
    const image_source *src = source;
    for (int i = 0; i < n; i++)
        memcpy(pixels + (size_t)i * CIFAR_PIXELS, cifar_pixels(src->data, (int)src->order[first + i]), CIFAR_PIXELS);
}

cascade_status parse_device(const char *text, device_choice *out, cascade_error *err) {
    if (!strcmp(text, "auto")) *out = DEVICE_AUTO;
    else if (!strcmp(text, "cpu")) *out = DEVICE_CPU;
    else if (!strcmp(text, "gpu")) *out = DEVICE_GPU;
    else return cascade_fail(err, CASCADE_EINVAL, "--device: '%s' is not one of auto, cpu, gpu", text);
    return CASCADE_OK;
}

cascade_status gpu_usable(char *name, size_t cap, cascade_error *err) {
#ifdef CASCADE_HAVE_CUDA
    return gpu_probe(name, cap, err);
#else
    (void)name, (void)cap;
    return cascade_fail(err, CASCADE_ENODEV, "this build of cascade has no GPU backend (built without CUDA/cuDNN)");
#endif
}

cascade_status backend_open(cascade_backend *be, device_choice device, const model *cheap, const model *expensive,
                            int chunk, int batch, char *notice, size_t notice_cap, cascade_error *err) {
    if (notice_cap) notice[0] = 0;
    if (device != DEVICE_CPU) {
        char name[256];
        cascade_error why;
        cascade_status s = gpu_usable(name, sizeof name, &why);
        if (s && device == DEVICE_GPU) return cascade_fail(err, s, "--device gpu: %s", why.message);
        if (s) snprintf(notice, notice_cap, "notice: %s; running on the CPU backend", why.message);
#ifdef CASCADE_HAVE_CUDA
        if (!s)
            return gpu_backend_create(be, cheap, expensive, chunk > 0 ? chunk : GPU_DEFAULT_CHUNK,
                                      batch > 0 ? batch : GPU_DEFAULT_BATCH, err);
#endif
    }
    return cpu_backend_create(be, cheap, expensive, chunk > 0 ? chunk : cpu_backend_default_chunk(),
                              batch > 0 ? batch : cpu_backend_default_batch(), err);
}

void backend_close(cascade_backend *be) {
    if (be->destroy) be->destroy(be->impl);
    memset(be, 0, sizeof *be);
}

cascade_status load_named_model(model *m, const char *name, cascade_error *err) {
    char path[1024];
    cascade_status s = assets_model_path(name, path, sizeof path, err);
    return s ? s : model_load(m, path, NULL, err);
}
