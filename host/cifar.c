// cifar.c: CIFAR-10 binary reader (see cifar.h).
#include "cifar.h"
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

cascade_status cifar_parse(cifar_file *f, const uint8_t *bytes, size_t size, cascade_error *err) {
    memset(f, 0, sizeof *f);
    if (size == 0) return cascade_fail(err, CASCADE_EFORMAT, "file is empty: no CIFAR records");
    if (size % CIFAR_RECORD)
        return cascade_fail(err, CASCADE_EFORMAT,
                            "size %zu is not a whole number of %d-byte records (record %zu is truncated)", size,
                            CIFAR_RECORD, size / CIFAR_RECORD);
    if (size / CIFAR_RECORD > 0x7fffffff) return cascade_fail(err, CASCADE_EFORMAT, "too many records");
    int count = (int)(size / CIFAR_RECORD);
    for (int i = 0; i < count; i++)
        if (bytes[(size_t)i * CIFAR_RECORD] > 9)
            return cascade_fail(err, CASCADE_EFORMAT, "record %d has label %d (labels are 0..9)", i,
                                bytes[(size_t)i * CIFAR_RECORD]);
    f->records = bytes;
    f->count = count;
    return CASCADE_OK;
}

cascade_status cifar_open(cifar_file *f, const char *path, cascade_error *err) {
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); // O_NONBLOCK: a FIFO must not hang the open
    if (fd < 0) return cascade_fail(err, CASCADE_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return cascade_fail(err, CASCADE_EIO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (size && map == MAP_FAILED) return cascade_fail(err, CASCADE_EIO, "cannot map %s: %s", path, strerror(errno));
    cascade_status s = cifar_parse(f, map, size, err);
    if (s) {
        if (map) munmap(map, size);
        cascade_error_prefix(err, path);
        return s;
    }
    f->map = map;
    f->map_size = size;
    return CASCADE_OK;
}

void cifar_close(cifar_file *f) {
    if (f->map) munmap(f->map, f->map_size);
    memset(f, 0, sizeof *f);
}

void cifar_copy(const cifar_file *f, int first, int n, uint8_t *pixels, uint8_t *labels) {
    for (int i = 0; i < n; i++) {
        if (pixels) memcpy(pixels + (size_t)i * CIFAR_PIXELS, cifar_pixels(f, first + i), CIFAR_PIXELS);
        if (labels) labels[i] = (uint8_t)cifar_label(f, first + i);
    }
}
