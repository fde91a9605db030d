// fuzz_cifar.c: libFuzzer target for the CIFAR-10 binary reader (cifar_parse,
// then cifar_check_labels over every record). When both succeed the buffer must
// hold whole records with labels 0..9, and every record must copy out; on a
// failure the message must be one clean line.
#include "fuzz_util.h"
#include "host/cifar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *bytes = malloc(size ? size : 1);
    if (!bytes) return 0;
    memcpy(bytes, data, size);
    cifar_file f;
    cascade_error err = {{0}};
    if (cifar_parse(&f, bytes, size, &err)) {
        fuzz_check_message(&err);
        free(bytes);
        return 0;
    }
    FUZZ_ASSERT(f.count > 0 && (size_t)f.count * CIFAR_RECORD == size, "%d records in %zu bytes", f.count, size);
    if (cifar_check_labels(&f, 0, f.count, &err)) {
        fuzz_check_message(&err);
        cifar_close(&f);
        free(bytes);
        return 0;
    }
    uint8_t pixels[CIFAR_PIXELS], label;
    unsigned checksum = 0;
    for (int i = 0; i < f.count; i++) {
        FUZZ_ASSERT(cifar_label(&f, i) >= 0 && cifar_label(&f, i) <= 9, "record %d label %d", i, cifar_label(&f, i));
        cifar_copy(&f, i, 1, pixels, &label);
        FUZZ_ASSERT(label == cifar_label(&f, i), "copied label differs");
        checksum += pixels[0] + pixels[CIFAR_PIXELS - 1];
    }
    (void)checksum;
    cifar_close(&f); // a parsed buffer is not a mapping: close must not unmap it
    free(bytes);
    return 0;
}
