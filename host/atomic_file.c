// atomic_file.c: temporary file + rename (see atomic_file.h).
#include "atomic_file.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

cascade_status atomic_file_open(atomic_file *f, const char *path, cascade_error *err) {
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path) return cascade_fail(err, CASCADE_EINVAL, "output path too long");
    strcpy(f->path, path);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISDIR(st.st_mode)) return cascade_fail(err, CASCADE_EIO, "cannot write %s: is a directory", path);
        f->file = fopen(path, "w");
        if (!f->file) return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(errno));
        return CASCADE_OK;
    }
    snprintf(f->temp_path, sizeof f->temp_path, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(f->temp_path);
    if (fd < 0) {
        int e = errno;
        f->temp_path[0] = 0;
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    f->file = fdopen(fd, "w");
    if (!f->file) {
        close(fd);
        unlink(f->temp_path);
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    return CASCADE_OK;
}

cascade_status atomic_file_prepare(atomic_file *f, cascade_error *err) {
    int failed = ferror(f->file) || fflush(f->file) != 0;
    int e = errno;
    if (!failed && f->temp_path[0] && fsync(fileno(f->file)) != 0) failed = 1, e = errno;
    if (fclose(f->file) != 0 && !failed) failed = 1, e = errno;
    f->file = NULL;
    if (failed) {
        if (f->temp_path[0]) unlink(f->temp_path);
        f->temp_path[0] = 0;
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(e ? e : EIO));
    }
    return CASCADE_OK;
}

cascade_status atomic_file_publish(atomic_file *f, cascade_error *err) {
    if (f->temp_path[0] && rename(f->temp_path, f->path) != 0) {
        int e = errno;
        unlink(f->temp_path);
        f->temp_path[0] = 0;
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(e));
    }
    f->temp_path[0] = 0;
    return CASCADE_OK;
}

cascade_status atomic_file_commit(atomic_file *f, cascade_error *err) {
    cascade_status s = atomic_file_prepare(f, err);
    return s ? s : atomic_file_publish(f, err);
}

void atomic_file_abort(atomic_file *f) {
    if (f->file) fclose(f->file);
    f->file = NULL;
    if (f->temp_path[0]) unlink(f->temp_path);
    f->temp_path[0] = 0;
}

void atomic_file_abort_from_signal(const atomic_file *f) {
    if (f->temp_path[0]) unlink(f->temp_path);
}

cascade_status atomic_file_open_live(atomic_file *f, const char *path, cascade_error *err) {
    cascade_status s = atomic_file_open(f, path, err);
    if (s || !f->temp_path[0]) return s; // a pipe or device is written directly anyway
    unlink(f->temp_path);                // write the target itself: rename(path, path) is then a no-op
    fclose(f->file);
    snprintf(f->temp_path, sizeof f->temp_path, "%s", path);
    f->file = fopen(path, "w");
    if (!f->file) {
        f->temp_path[0] = 0;
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    return CASCADE_OK;
}
