// mapped_file.c: read-only mapping of an input file (see mapped_file.h).
#include "mapped_file.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

cascade_status mapped_file_open(mapped_file *m, const char *path, cascade_error *err) {
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); // O_NONBLOCK: a FIFO must not hang the open
    if (fd < 0) return cascade_fail(err, CASCADE_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return cascade_fail(err, CASCADE_EIO, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    void *data = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (size && data == MAP_FAILED) return cascade_fail(err, CASCADE_EIO, "cannot map %s: %s", path, strerror(errno));
    m->data = data;
    m->size = size;
    return CASCADE_OK;
}

void mapped_file_close(mapped_file *m) {
    if (m->data) munmap(m->data, m->size);
    memset(m, 0, sizeof *m);
}
