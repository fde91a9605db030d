// atomic_file.c: temporary file (unnamed where the file system can) + rename
// or exchange (see atomic_file.h).
#define _GNU_SOURCE // renameat2
#include "atomic_file.h"
#include "interrupt.h"
#include "output_paths.h"
#include "status_line.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

// The mode the output gets: an existing file's own (a private file stays
// private), else what open(2) would give a new one under the umask.
static mode_t output_mode(int exists, const struct stat *st) {
    static mode_t mask = (mode_t)-1; // read once: umask() can only be read by setting it
    if (mask == (mode_t)-1) umask(mask = umask(0));
    return exists ? st->st_mode & 0777 : 0666 & ~mask; // never a set-user-ID bit on new content
}

// A FIFO's open waits for its reader. It is tried without blocking every
// 10 ms until one comes, or a stop is requested (the stop signals restart
// calls they interrupt, interrupt.c, so a blocking open would wait on): NULL
// with *stopped set then, or NULL and errno for an error.
static FILE *open_fifo(const char *path, int *stopped) {
    *stopped = 0;
    for (int waited = 0;; waited = 1) {
        int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) {
            int flags = fcntl(fd, F_GETFL);
            FILE *f = flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 ? fdopen(fd, "w") : NULL;
            if (!f) {
                int e = errno;
                close(fd);
                errno = e;
            }
            return f;
        }
        if (errno != ENXIO) return NULL; // ENXIO: no reader yet
        if (!waited) // (the job does nothing until then: said, or it looked hung)
            status_line(2.0, "notice: %s is a FIFO: waiting for its reader before starting\n", path);
        if (command_stopped()) {
            *stopped = 1;
            return NULL;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
}

// An output on one of the process's descriptors (-, /dev/stdout, /dev/fd/N):
// written through a copy of it, sharing its offset with whatever else writes
// there. Standard output is then the output's alone: the command's own
// report goes to stderr from here on.
static cascade_status open_descriptor(atomic_file *f, const char *path, int descriptor, cascade_error *err) {
    snprintf(f->path, sizeof f->path, "%s", strcmp(path, "-") ? path : "standard output");
    fflush(stdout);
    int fd = fcntl(descriptor, F_DUPFD_CLOEXEC, 3); // past 0-2, which the dup2 below may change
    f->file = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f->file) {
        int e = errno;
        if (fd >= 0) close(fd);
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(e));
    }
    if (descriptor == STDOUT_FILENO && dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        int e = errno;
        atomic_file_abort(f);
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(e));
    }
    f->on_stdout = descriptor == STDOUT_FILENO;
    return CASCADE_OK;
}

// A direct output (no temporary file: nothing of it could be taken back)
// opened: what is written to it is held in a memory stream until its prepare.
static cascade_status hold(atomic_file *f, cascade_error *err) {
    FILE *held = open_memstream(&f->held, &f->held_size);
    if (!held) {
        int e = errno;
        atomic_file_abort(f);
        return cascade_fail(err, CASCADE_ENOMEM, "cannot write %s: %s", f->path, strerror(e));
    }
    f->held_for = f->file, f->file = held;
    return CASCADE_OK;
}

// A held output's content written to its own stream, which f->file is again.
// -1 with errno where the memory stream failed (for want of memory) or the write.
static int unhold(atomic_file *f) {
    int e = ferror(f->file) || fflush(f->file) != 0 ? (errno ? errno : ENOMEM) : 0;
    fclose(f->file); // (the buffer stays, ours to free)
    f->file = f->held_for, f->held_for = NULL;
    if (!e && f->held_size && fwrite(f->held, 1, f->held_size, f->file) != f->held_size) e = errno ? errno : EIO;
    free(f->held);
    f->held = NULL, f->held_size = 0;
    errno = e;
    return e ? -1 : 0;
}

// The temporary file beside target: "NAME.tmp.XXXXXX", NAME cut short where
// the whole would pass NAME_MAX (a 250-byte name is a valid output).
static void temp_name(char *out, size_t cap, const char *target) {
    const char *slash = strrchr(target, '/');
    size_t dir = slash ? (size_t)(slash - target) + 1 : 0, base = strlen(target + dir);
    size_t keep = NAME_MAX - strlen(".tmp.XXXXXX");
    snprintf(out, cap, "%.*s%.*s.tmp.XXXXXX", (int)dir, target, (int)(base < keep ? base : keep), target + dir);
}

// Six random letters for a temporary file's XXXXXX (getrandom; the clock
// and the pid where it has nothing to give).
static void random_suffix(char *out) {
    static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char bytes[6];
    if (getrandom(bytes, sizeof bytes, GRND_NONBLOCK) != (ssize_t)sizeof bytes) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        unsigned long long x = (unsigned long long)t.tv_nsec * 2654435761u ^ (unsigned long long)getpid() << 20;
        for (int i = 0; i < 6; i++, x = x * 6364136223846793005ull + 1442695040888963407ull) bytes[i] = x >> 56;
    }
    for (int i = 0; i < 6; i++) out[i] = letters[bytes[i] % 62];
}

static int same_folder(const char *a, const char *b) {
    char fa[sizeof ((atomic_file *)0)->path], fb[sizeof fa];
    output_path_folder(a, fa, sizeof fa), output_path_folder(b, fb, sizeof fb);
    return !strcmp(fa, fb);
}

// f's temporary name, which f no longer tracks (for a message: static).
static const char *temp_clear(atomic_file *f) {
    static char name[sizeof f->temp_path];
    snprintf(name, sizeof name, "%s", f->temp_path);
    f->temp_path[0] = 0;
    f->unnamed = 0;
    return name;
}

// err's message, and more after it (where it fits).
static void append_message(cascade_error *err, const char *what, const char *name, int e) {
    if (!err) return;
    size_t used = strlen(err->message);
    snprintf(err->message + used, sizeof err->message - used, "; %s%s is left (cannot remove it: %s)", what, name,
             strerror(e));
}

// Removes f's named temporary file, if any (an unnamed one goes with its
// descriptor), once f's failure is in err: where that fails too, the message
// says what is left.
static void remove_temp(atomic_file *f, cascade_error *err) {
    if (f->temp_path[0] && !f->unnamed && unlink(f->temp_path) != 0 && errno != ENOENT)
        append_message(err, "", f->temp_path, errno);
    f->temp_path[0] = 0;
    f->unnamed = 0;
}

// Gives the unnamed file fd the name path (through /proc/self/fd: linkat's
// AT_EMPTY_PATH needs a capability). -1 with errno on failure (EEXIST: taken).
static int link_unnamed(int fd, const char *path) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

// Names fd temp_path, NAME.tmp.XXXXXX with a fresh suffix (another while one
// is taken). -1 with errno on failure.
static int link_beside(int fd, char *temp_path) {
    char *suffix = temp_path + strlen(temp_path) - 6;
    for (int attempt = 0; attempt < 100; attempt++) {
        random_suffix(suffix);
        if (link_unnamed(fd, temp_path) == 0) return 0;
        if (errno != EEXIST) return -1;
    }
    return -1;
}

// Whether an unnamed file in folder can be given a name (through /proc, and
// no policy refuses the link), tried on a throwaway one (an unnamed file can
// be linked once only): so that a refusal shows at the open, not after the
// whole job. temp_path: a NAME.tmp.XXXXXX to use for the trial. -1 with
// errno where the trial's name cannot be removed (temp_path says which).
static int unnamed_files_work(const char *folder, char *temp_path) {
    int fd = open(folder, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    int linked = link_beside(fd, temp_path) == 0;
    close(fd);
    return linked && unlink(temp_path) != 0 ? -1 : linked;
}

// The temporary file beside the target: where the file system has O_TMPFILE,
// an unnamed file in the target's folder, so that nothing is left if the
// process is killed before the publish; else NAME.tmp.XXXXXX, made now. -1
// with errno on failure (*trial_left: the trial's name stays, at temp_path).
static int open_temp(atomic_file *f, const char *target, int *trial_left) {
    char folder[sizeof f->path];
    output_path_folder(target, folder, sizeof folder);
    temp_name(f->temp_path, sizeof f->temp_path, target);
    int works = unnamed_files_work(folder, f->temp_path);
    if ((*trial_left = works < 0)) return -1;
    int fd = works ? open(folder, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600) : -1; // (read too: a live log's old copy)
    temp_name(f->temp_path, sizeof f->temp_path, target);
    if (fd >= 0) {
        f->unnamed = 1;
        return fd;
    }
    return mkstemp(f->temp_path); // no O_TMPFILE here (or no link through /proc): its errors are the ones to give
}

// An unnamed file put in place at the publish, its descriptor closed: linked
// straight to the target where there is none yet (*placed = 1: no other name
// ever), else named NAME.tmp.XXXXXX beside it for the exchange or rename.
// -1 with errno on failure (nothing named then).
static int place_unnamed(atomic_file *f, int *placed) {
    struct stat st;
    int e = 0;
    *placed = 0;
    if (lstat(f->path, &st) != 0) {
        if (link_unnamed(fileno(f->file), f->path) == 0) *placed = 1;
        else if (errno != EEXIST) e = errno; // (EEXIST: one appeared meanwhile: as for an existing target)
    }
    if (!*placed && !e && link_beside(fileno(f->file), f->temp_path) != 0) e = errno;
    fclose(f->file); // (flushed and synced already)
    f->file = NULL;
    f->unnamed = 0;
    if (e || *placed) f->temp_path[0] = 0;
    errno = e;
    return e ? -1 : 0;
}

// The bytes of descriptor from into to, from the start of each (to cut to
// them); async-signal-safe (lseek, read, write, ftruncate). -1 on failure.
static int copy_whole(int from, int to) {
    if (lseek(from, 0, SEEK_SET) < 0 || lseek(to, 0, SEEK_SET) < 0 || ftruncate(to, 0) != 0) return -1;
    char buf[4096];
    for (;;) {
        ssize_t n = read(from, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0 && errno == EINTR) continue;
        for (ssize_t done = 0; n > 0 && done < n;) {
            ssize_t w = write(to, buf + done, (size_t)(n - done));
            if (w < 0 && errno != EINTR) return -1;
            if (w > 0) done += w;
        }
        if (n < 0) return -1;
    }
}

// A live output's target that exists, about to be written over in place (so
// that a reader following it, tail -f, goes on reading it): its content
// copied into f's temporary file first, which is kept as the old content
// (named NAME.tmp.XXXXXX where there is no O_TMPFILE) for the abort to put
// back. -1 with errno where it cannot be read or copied (then written over
// as before, the old content not kept).
static int keep_old(atomic_file *f) {
    int from = open(f->path, O_RDONLY | O_CLOEXEC);
    if (from < 0) return -1;
    int copied = copy_whole(from, fileno(f->file)) == 0 ? 0 : -1, e = errno;
    close(from);
    if (copied != 0) {
        errno = e;
        return -1;
    }
    snprintf(f->old_path, sizeof f->old_path, "%s", f->unnamed ? "" : f->temp_path);
    f->old_file = f->file, f->old_fd = fileno(f->file), f->file = NULL;
    __atomic_store_n(&f->kept_old, 1, __ATOMIC_SEQ_CST); // (a signal's abort puts it back from here on)
    return 0;
}

// The old content back in the target (opened anew: it may have been closed,
// or removed, since); async-signal-safe.
static void put_old_back(const atomic_file *f) {
    int to = open(f->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (to < 0) return;
    (void)copy_whole(f->old_fd, to);
    close(to);
}

// An output published all the same (exit 0) whose old content's name could not be removed.
static void say_old_left(const char *path, const char *old, int e) {
    status_line(2.0, "cascade: %s is published; its previous content is left as %s (cannot remove it: %s)\n", path,
                old, strerror(e));
}

// A live output's old content (keep_old) dropped once it is published.
static void drop_old(atomic_file *f) {
    if (!f->kept_old) return;
    __atomic_store_n(&f->kept_old, 0, __ATOMIC_SEQ_CST); // before its descriptor goes
    fclose(f->old_file);
    f->old_file = NULL;
    if (f->old_path[0] && unlink(f->old_path) != 0 && errno != ENOENT) say_old_left(f->path, f->old_path, errno);
    f->old_path[0] = 0;
}

cascade_status atomic_file_open(atomic_file *f, const char *path, cascade_error *err) {
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path) // (as assets.c says it of an input's)
        return cascade_fail(err, CASCADE_EINVAL, "output path longer than %zu bytes: %.48s...", sizeof f->path - 1,
                            path);
    char target[4096] = "";
    int descriptor = !strcmp(path, "-") ? STDOUT_FILENO : output_path_target(path, target, sizeof target);
    if (strlen(target) >= sizeof f->path)
        return cascade_fail(err, CASCADE_EINVAL, "output path %s leads to one longer than %zu bytes: %.48s...", path,
                            sizeof f->path - 1, target);
    if (descriptor >= 0 && output_path_closed_at_start(descriptor))
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s (closed when cascade started)",
                            strcmp(path, "-") ? path : "standard output", strerror(EBADF));
    if (descriptor >= 0) {
        cascade_status s = open_descriptor(f, path, descriptor, err);
        return s ? s : hold(f, err);
    }
    if (descriptor == OUTPUT_PATH_LOOP)
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(ELOOP));
    struct stat st;
    int exists = stat(target, &st) == 0;
    if (descriptor == OUTPUT_PATH_IN_PLACE || (exists && !S_ISREG(st.st_mode))) {
        strcpy(f->path, path);
        if (exists && S_ISDIR(st.st_mode)) return cascade_fail(err, CASCADE_EIO, "cannot write %s: is a directory", path);
        int stopped = 0;
        f->file = exists && S_ISFIFO(st.st_mode) ? open_fifo(path, &stopped) : fopen(path, "w");
        if (stopped) // a signal while a FIFO waited for its reader: a stop, not an error
            return cascade_fail(err, CASCADE_EINTERRUPTED, "stopped while %s waited for a reader; no output written",
                                path);
        if (!f->file) return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(errno));
        return hold(f, err);
    }
    // a write-protected file stays so (a rename would replace it regardless), as for `>` or cp
    if (exists && access(target, W_OK) != 0)
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(errno));
    strcpy(f->path, target); // through a link: its target is replaced, the link stays
    int trial_left = 0, fd = open_temp(f, target, &trial_left);
    if (fd < 0) {
        int e = errno;
        if (trial_left)
            return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s, a trial of its temporary file, is left "
                                "(cannot remove it: %s)", path, temp_clear(f), strerror(e));
        f->temp_path[0] = 0;
        if (e == EACCES && exists) // the file may be writable, its folder is not
            return cascade_fail(err, CASCADE_EIO, "cannot write %s: its folder is not writable (an output is written "
                                "whole, through a temporary file beside it)", path);
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(e));
    }
    int moded = fchmod(fd, output_mode(exists, &st)) == 0;
    f->file = moded ? fdopen(fd, "w") : NULL;
    if (!f->file) {
        int e = errno;
        close(fd);
        cascade_fail(err, CASCADE_EIO, "cannot write %s: %s%s", path, moded ? "" : "cannot set its mode: ",
                     strerror(e));
        remove_temp(f, err);
        return CASCADE_EIO;
    }
    return CASCADE_OK;
}

cascade_status atomic_file_prepare(atomic_file *f, cascade_error *err) {
    int failed = f->held_for && unhold(f) != 0;
    if (!failed) failed = ferror(f->file) || fflush(f->file) != 0;
    int e = errno;
    if (!failed && f->temp_path[0] && fsync(fileno(f->file)) != 0) failed = 1, e = errno;
    if (failed || !f->unnamed) { // (an unnamed file stays open: its descriptor is what names it at the publish)
        if (fclose(f->file) != 0 && !failed) failed = 1, e = errno;
        f->file = NULL;
    }
    if (failed) {
        cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(e ? e : EIO));
        remove_temp(f, err);
        return CASCADE_EIO;
    }
    return CASCADE_OK;
}

cascade_status atomic_file_publish(atomic_file *f, cascade_error *err) {
    int placed = 0;
    if (f->unnamed && place_unnamed(f, &placed) != 0)
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(errno));
    if (f->temp_path[0] && rename(f->temp_path, f->path) != 0) {
        cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(errno));
        remove_temp(f, err);
        return CASCADE_EIO;
    }
    f->temp_path[0] = 0;
    return CASCADE_OK;
}

// Makes the names just given in the outputs' folders durable: a rename or a
// link is an entry of the folder, which the file's own fsync does not write.
// Each folder once (paths[i] NULL: skipped); where that fails, one line on
// stderr: the outputs are in place, and only a crash could still lose them
// (EINVAL: a file system that syncs no folders; EACCES: a folder this user
// may write but not read, which cannot be opened to sync).
static void sync_folders(const char *const *paths, int n) {
    char folder[sizeof ((atomic_file *)0)->path];
    for (int i = 0; i < n; i++) {
        int seen = !paths[i];
        for (int j = 0; j < i && !seen; j++) seen = paths[j] && same_folder(paths[i], paths[j]);
        if (seen) continue;
        output_path_folder(paths[i], folder, sizeof folder);
        int fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int e = fd < 0 ? errno : fsync(fd) == 0 ? 0 : errno;
        if (fd >= 0) close(fd);
        if (e && e != EINVAL && e != EACCES)
            status_line(2.0, "cascade: %s is published, but its folder could not be synced (%s): a crash may "
                        "still lose it\n", paths[i], strerror(e));
    }
}

cascade_status atomic_file_commit(atomic_file *f, cascade_error *err) {
    cascade_status s = atomic_file_prepare(f, err);
    if (s) return s;
    int named = f->temp_path[0] != 0; // (not one written in place: a pipe, a device)
    interrupt_publishing(1);
    s = atomic_file_publish(f, err);
    if (!s) drop_old(f), interrupt_published();
    interrupt_publishing(0);
    const char *path = f->path;
    if (!s && named) sync_folders(&path, 1);
    return s;
}

// How a file of a set was published, for taking it back.
enum { PUBLISHED_NEW, PUBLISHED_OVER_OLD, PUBLISHED_DIRECT };

// Publishes f so that it can be taken back: over an existing file by an
// exchange, which leaves the old content under the temporary name (where the
// file system has no exchange, a plain rename: that one cannot be undone).
static cascade_status publish_undoably(atomic_file *f, int *how, cascade_error *err) {
    struct stat st;
    *how = PUBLISHED_DIRECT;
    if (!f->temp_path[0]) return CASCADE_OK; // written in place: nothing to rename
    if (!strcmp(f->temp_path, f->path)) { // live (go_live): already in place, whatever became of it since
        f->temp_path[0] = 0;
        return CASCADE_OK;
    }
    int placed = 0;
    if (f->unnamed && place_unnamed(f, &placed) != 0)
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(errno));
    if (placed) { // a new file under its own name: taken back by removing it
        *how = PUBLISHED_NEW;
        return CASCADE_OK;
    }
    if (lstat(f->path, &st) != 0) *how = PUBLISHED_NEW;
    else if (S_ISREG(st.st_mode)) {
        if (renameat2(AT_FDCWD, f->temp_path, AT_FDCWD, f->path, RENAME_EXCHANGE) == 0) {
            *how = PUBLISHED_OVER_OLD;
            return CASCADE_OK;
        }
        if (errno == ENOENT) *how = PUBLISHED_NEW; // the old one removed meanwhile: a new file, as above
        else if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) { // an exchange that failed, not none
            cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(errno)); // here: no rename for it
            remove_temp(f, err);
            return CASCADE_EIO;
        }
    }
    return atomic_file_publish(f, err); // a new file (taken back by removing it), or one that cannot be
}

// The old content (at temp_path after the exchange) renamed back over the new; where even that
// fails, it stays there and the message says where.
static void take_back(atomic_file *f, int how, cascade_error *err) {
    if (how == PUBLISHED_OVER_OLD && rename(f->temp_path, f->path) != 0 && err) {
        size_t used = strlen(err->message);
        snprintf(err->message + used, sizeof err->message - used, "; the previous %s is kept as %s", f->path,
                 f->temp_path);
    } else if (how == PUBLISHED_NEW && unlink(f->path) != 0 && errno != ENOENT)
        append_message(err, "the new ", f->path, errno);
    f->temp_path[0] = 0;
}

// The order of a set's prepares: its files (which can still be taken back),
// then its other direct outputs, then standard output.
static int prepare_rank(const atomic_file *f) {
    return f->temp_path[0] ? 0 : f->on_stdout ? 2 : 1;
}

cascade_status atomic_files_commit(atomic_file *const *files, int n, cascade_error *err) {
    cascade_status s = CASCADE_OK;
    for (int rank = 0; rank < 3; rank++)
        for (int i = 0; i < n && !s; i++)
            if (files[i] && prepare_rank(files[i]) == rank) s = atomic_file_prepare(files[i], err);
    if (s) return s;
    int how[n > 0 ? n : 1], done = 0;
    const char *named[n > 0 ? n : 1]; // the outputs given a name in their folder (not those written in place)
    for (int i = 0; i < n; i++) named[i] = files[i] && files[i]->temp_path[0] ? files[i]->path : NULL;
    interrupt_publishing(1); // a signal's exit waits for the set to be whole (or taken back)
    for (; done < n && !s; done++)
        if (files[done]) s = publish_undoably(files[done], &how[done], err);
    if (s) done--; // (the one that failed has removed its own temporary file)
    for (int i = 0; i < done; i++) { // all published: drop the old contents; else take every one back
        if (!files[i]) continue;
        if (s) take_back(files[i], how[i], err); // (a live log's old content: put back by the abort)
        else {
            if (how[i] == PUBLISHED_OVER_OLD && unlink(files[i]->temp_path) != 0)
                say_old_left(files[i]->path, files[i]->temp_path, errno);
            drop_old(files[i]);
        }
        files[i]->temp_path[0] = 0;
    }
    if (!s) interrupt_published();
    interrupt_publishing(0);
    if (!s) sync_folders(named, n);
    return s;
}

void atomic_file_abort(atomic_file *f) {
    if (f->held_for) { // what was held is dropped, unwritten
        fclose(f->file);
        free(f->held);
        f->file = f->held_for, f->held_for = NULL, f->held = NULL, f->held_size = 0;
    }
    if (f->file && f->kept_old) fflush(f->file); // (what the log holds goes before the old content is put back)
    atomic_file_abort_from_signal(f);
    if (f->file) fclose(f->file); // (an unnamed temporary file goes with its descriptor)
    f->file = NULL;
    if (f->kept_old) {
        f->kept_old = 0;
        fclose(f->old_file);
        f->old_file = NULL;
    }
    f->temp_path[0] = f->old_path[0] = 0;
    f->unnamed = 0;
}

// (a live log over an existing file: that file's content put back in place)
void atomic_file_abort_from_signal(const atomic_file *f) {
    if (__atomic_load_n(&f->kept_old, __ATOMIC_SEQ_CST)) {
        put_old_back(f);
        if (f->old_path[0]) unlink(f->old_path);
    } else if (f->temp_path[0] && !f->unnamed) unlink(f->temp_path);
}

cascade_status atomic_file_go_live(atomic_file *f, const char *path, cascade_error *err) {
    if (f->held_for && unhold(f) != 0) // a pipe or device: written as it goes from now on
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", f->path, strerror(errno));
    if (!f->temp_path[0] || !strcmp(f->temp_path, f->path)) return CASCADE_OK; // a pipe or device; or live already
    struct stat st;
    int kept = lstat(f->path, &st) == 0 && S_ISREG(st.st_mode) && keep_old(f) == 0;
    if (!kept && !f->unnamed && unlink(f->temp_path) != 0) { // write the target itself: rename(path, path) is then a no-op
        int e = errno;
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s is left (cannot remove it: %s)", path,
                            temp_clear(f), strerror(e));
    }
    if (!kept) fclose(f->file);
    f->unnamed = 0;
    snprintf(f->temp_path, sizeof f->temp_path, "%s", f->path); // the link's target, as for any output
    f->file = fopen(f->path, "w");
    if (!f->file) {
        f->temp_path[0] = 0;
        return cascade_fail(err, CASCADE_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    return CASCADE_OK;
}
