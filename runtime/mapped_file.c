// mapped_file.c: read-only mapping of an input file (see mapped_file.h).
#include "mapped_file.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// fd moved above the standard descriptors (where a caller had closed one),
// so that 0 can mean "none" in a zeroed mapped_file; -1 with errno on failure.
static int above_standard(int fd) {
    if (fd > STDERR_FILENO) return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1), e = errno;
    close(fd);
    errno = e;
    return moved;
}

cascade_status mapped_file_open(mapped_file *m, const char *path, cascade_error *err) {
    memset(m, 0, sizeof *m);
    if (!strcmp(path, "-")) // (outputs take '-': an input is mapped, and standard input is no file)
        return cascade_fail(err, CASCADE_EIO, "- (standard input) cannot be an input: inputs are mapped; give the file");
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); // O_NONBLOCK: a FIFO must not hang the open
    if (fd >= 0) fd = above_standard(fd);
    if (fd < 0) return cascade_fail(err, CASCADE_EIO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return cascade_fail(err, CASCADE_EIO, "cannot read %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cascade_fail(err, CASCADE_EIO, "%s: not a regular file (inputs are mapped: a %s cannot be)", path,
                            S_ISDIR(st.st_mode) ? "folder" : S_ISFIFO(st.st_mode) ? "pipe or FIFO" : "device or socket");
    }
    size_t size = (size_t)st.st_size;
    void *data = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    if (size && data == MAP_FAILED) {
        int e = errno;
        close(fd);
        return cascade_fail(err, CASCADE_EIO, "cannot map %s: %s", path, strerror(e));
    }
    m->data = data;
    m->size = size;
    m->fd = fd;
    m->modified = st.st_mtim;
    return CASCADE_OK;
}

cascade_status mapped_file_unchanged(const mapped_file *m, const char *path, cascade_error *err) {
    if (!m->fd) return CASCADE_OK; // a buffer parsed in memory
    struct stat st;
    if (fstat(m->fd, &st) != 0) return cascade_fail(err, CASCADE_EIO, "cannot read %s: %s", path, strerror(errno));
    if ((size_t)st.st_size != m->size || st.st_mtim.tv_sec != m->modified.tv_sec ||
        st.st_mtim.tv_nsec != m->modified.tv_nsec)
        return cascade_fail(err, CASCADE_EIO, "%s was modified while in use (its %s changed): what was read of it "
                            "may mix two contents", path, (size_t)st.st_size != m->size ? "size" : "modification time");
    return CASCADE_OK;
}

void mapped_file_expect_random(const mapped_file *m) {
    if (m->data) (void)madvise(m->data, m->size, MADV_RANDOM); // (advice: a refusal changes no result)
}

void mapped_file_close(mapped_file *m) {
    if (m->data) munmap(m->data, m->size);
    if (m->fd) close(m->fd);
    memset(m, 0, sizeof *m);
}
