// no_tmpfile.c: an LD_PRELOAD shim for resource_failures.py. open(2) of an
// O_TMPFILE fails with EOPNOTSUPP, as on a file system without unnamed
// temporary files (NFS, vfat), so that host/atomic_file.c takes its named
// fallback (NAME.tmp.XXXXXX from the open on); every other open is passed on.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/types.h>

typedef int (*open_fn)(const char *, int, ...);

static int passed_on(const char *symbol, const char *path, int flags, va_list args) {
    mode_t mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(args, mode_t) : 0;
    if ((flags & O_TMPFILE) == O_TMPFILE) {
        errno = EOPNOTSUPP;
        return -1;
    }
    open_fn real = (open_fn)dlsym(RTLD_NEXT, symbol);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(path, flags, mode);
}

int open(const char *path, int flags, ...) {
    va_list args;
    va_start(args, flags);
    int fd = passed_on("open", path, flags, args);
    va_end(args);
    return fd;
}

// open64 is the same function (the real one is looked up as "open": glibc's two are one on 64-bit Linux)
int open64(const char *path, int flags, ...) __attribute__((alias("open")));
