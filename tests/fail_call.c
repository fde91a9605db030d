// fail_call.c: an LD_PRELOAD shim for resource_failures.py and
// run_early_stop.py. CASCADE_FAIL lists CALL:PART items (comma-separated): a
// call of CALL (unlink, renameat2, fchmod or fsync) fails with errno
// CASCADE_FAIL_ERRNO (a number, default EIO) where its path, or one of them
// (for fchmod and fsync, the file its descriptor names), contains PART
// (empty: any; PART$: ends with it); every other call is passed on. The errors it stands for (EIO from a
// failing disk or a network file system) cannot be made on demand.
// GOMP_parallel:PATH makes libgomp's entry to a parallel region exit the
// process once PATH exists, as libgomp does when an allocation fails
// ("libgomp: Out of memory allocating N bytes", exit 1).
// execv:PATH holds an execv (the re-exec, host/blas_tune.c) until PATH
// exists, having created PATH.held: a window in which a test can signal the
// image that is about to be replaced.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int contains(const char *path, const char *part, size_t n) {
    if (!path) return 0;
    size_t len = strlen(path);
    if (n && part[n - 1] == '$') return len >= n - 1 && !strncmp(path + len - (n - 1), part, n - 1);
    for (const char *p = path; *p; p++)
        if (!strncmp(p, part, n)) return 1;
    return n == 0;
}

// The PART of the first item of call after `from` (NULL: from the start), its length in *n; NULL when none.
static const char *item_of(const char *call, const char *from, size_t *n) {
    size_t len = strlen(call);
    for (const char *p = from ? from : getenv("CASCADE_FAIL"); p && *p;) {
        const char *end = strchr(p, ','), *colon = strchr(p, ':');
        if (!end) end = p + strlen(p);
        if (colon && colon < end && (size_t)(colon - p) == len && !strncmp(p, call, len)) {
            *n = (size_t)(end - colon - 1);
            return colon + 1;
        }
        p = *end ? end + 1 : end;
    }
    return NULL;
}

// Whether call, on one of the paths a and b (either may be NULL), is to fail (errno set then).
static int fails(const char *call, const char *a, const char *b) {
    const char *e = getenv("CASCADE_FAIL_ERRNO");
    size_t n;
    for (const char *part = item_of(call, NULL, &n); part; part = item_of(call, part + n, &n))
        if (contains(a, part, n) || contains(b, part, n)) {
            errno = e ? atoi(e) : EIO;
            return 1;
        }
    return 0;
}

int unlink(const char *path) {
    if (fails("unlink", path, NULL)) return -1;
    int (*real)(const char *) = (int (*)(const char *))dlsym(RTLD_NEXT, "unlink");
    return real ? real(path) : (errno = ENOSYS, -1);
}

int renameat2(int from_dir, const char *from, int to_dir, const char *to, unsigned flags) {
    if (fails("renameat2", from, to)) return -1;
    int (*real)(int, const char *, int, const char *, unsigned) =
        (int (*)(int, const char *, int, const char *, unsigned))dlsym(RTLD_NEXT, "renameat2");
    return real ? real(from_dir, from, to_dir, to, flags) : (errno = ENOSYS, -1);
}

// The file descriptor fd names, as /proc/self/fd gives it ("" when unknown).
static const char *fd_path(int fd, char *path, size_t cap) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, cap - 1);
    path[n > 0 ? n : 0] = 0;
    return path;
}

int fsync(int fd) {
    char path[4096];
    if (fails("fsync", fd_path(fd, path, sizeof path), NULL)) return -1;
    int (*real)(int) = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real ? real(fd) : (errno = ENOSYS, -1);
}

int fchmod(int fd, mode_t mode) {
    char path[4096];
    if (fails("fchmod", fd_path(fd, path, sizeof path), NULL)) return -1;
    int (*real)(int, mode_t) = (int (*)(int, mode_t))dlsym(RTLD_NEXT, "fchmod");
    return real ? real(fd, mode) : (errno = ENOSYS, -1);
}

void GOMP_parallel(void (*fn)(void *), void *data, unsigned threads, unsigned flags) {
    size_t n;
    const char *part = item_of("GOMP_parallel", NULL, &n);
    char path[4096];
    snprintf(path, sizeof path, "%.*s", (int)n, part ? part : "");
    if (part && access(path, F_OK) == 0) {
        fprintf(stderr, "libgomp: Out of memory allocating 192 bytes (the fail_call shim)\n");
        exit(1);
    }
    void (*real)(void (*)(void *), void *, unsigned, unsigned) =
        (void (*)(void (*)(void *), void *, unsigned, unsigned))dlsym(RTLD_NEXT, "GOMP_parallel");
    if (real) real(fn, data, threads, flags);
    else fn(data); // (no libgomp: the region on this thread alone)
}

int execv(const char *file, char *const argv[]) {
    size_t n;
    const char *part = item_of("execv", NULL, &n);
    char path[4096], held[sizeof path + 8];
    snprintf(path, sizeof path, "%.*s", (int)n, part ? part : "");
    if (part && n) {
        snprintf(held, sizeof held, "%s.held", path);
        int fd = open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
        for (int waited = 0; access(path, F_OK) != 0 && waited < 20000; waited++) // (20 s at most)
            nanosleep(&(struct timespec){.tv_nsec = 1000 * 1000}, NULL);
    }
    int (*real)(const char *, char *const[]) = (int (*)(const char *, char *const[]))dlsym(RTLD_NEXT, "execv");
    return real ? real(file, argv) : (errno = ENOSYS, -1);
}
