// atomic_file.h: outputs that appear whole or not at all.
// Writes go to a temporary file next to the target, renamed over it on
// commit; abort (or an error) removes it. Where the file system can (Linux's
// O_TMPFILE: ext4, xfs, btrfs, tmpfs) that file has no name until it is
// published: a new target is linked to it directly, an existing one is
// exchanged with it through NAME.tmp.XXXXXX for that moment; so a process
// killed outright (SIGKILL, the OOM killer) leaves nothing behind.
// Elsewhere it is NAME.tmp.XXXXXX from the open on. A target that exists and is not a
// regular file (a pipe, /dev/full) is written directly; - (standard output),
// /dev/stdout or /dev/fd/N (the process's own descriptors) through a copy of
// the descriptor, and an output on standard output has it to itself: from
// its open on, what the command prints there goes to stderr instead. Such a
// direct output cannot be taken back, so what is written to it is held in
// memory until its commit (a CSV of predictions: ~25 bytes per image), and a
// set's direct outputs are written only once its files are (below); a live
// one (go_live) is written as it goes. Through a symbolic link
// the link's target is replaced, keeping the link; a file replaced keeps its
// permissions.
#pragma once
#include <stdio.h>
#include "../runtime/status.h"

typedef struct {
    FILE *file;
    char path[1024];
    char temp_path[1100]; // empty when writing directly; NAME.tmp.XXXXXX still to be named when unnamed
    int unnamed;          // 1: an O_TMPFILE not yet linked at temp_path (nothing there to remove)
    FILE *held_for;       // a direct output held: file is a memory stream, written to held_for at the prepare
    char *held;           // that stream's buffer
    size_t held_size;
    int on_stdout;        // 1: written to standard output (the last of a set's outputs)
    int kept_old;         // 1: a live output's target as it was is kept (old_fd) until the commit
    FILE *old_file;       // that copy: the temporary file
    int old_fd;
    char old_path[1100];  // its name, NAME.tmp.XXXXXX, where it has one (no O_TMPFILE), else empty
} atomic_file;

#ifdef __cplusplus
extern "C" {
#endif

CASCADE_MUST_CHECK cascade_status atomic_file_open(atomic_file *f, const char *path, cascade_error *err);
// A log that others may follow while it grows (--progress-json): opened as
// any output (the checks, a temporary file), it goes live once the work
// starts: from then on the target itself is written, and abort removes it,
// so a failed run leaves nothing behind; one that fails before (a model, the
// device) leaves an existing file as it was. An existing file is written
// over in place (a reader following it goes on), its content first copied
// into the temporary file, which abort puts back and the commit drops (a
// SIGKILL loses it, as before; with no O_TMPFILE it stays as NAME.tmp.XXXXXX).
CASCADE_MUST_CHECK cascade_status atomic_file_go_live(atomic_file *f, const char *path, cascade_error *err);
CASCADE_MUST_CHECK cascade_status atomic_file_commit(atomic_file *f, cascade_error *err);
// The two halves of commit, for outputs that must appear together: prepare
// flushes, syncs and closes (an unnamed file at the publish; write errors
// such as a full disk show here, and remove the temporary file); publish
// renames it over the target (or links it there).
CASCADE_MUST_CHECK cascade_status atomic_file_prepare(atomic_file *f, cascade_error *err);
CASCADE_MUST_CHECK cascade_status atomic_file_publish(atomic_file *f, cascade_error *err);
// Commits the n outputs together (NULL entries skipped): every one prepared
// (written, flushed, synced) before the first is published, so a full disk
// or a write error on any leaves none of them (atomic_file_abort then removes
// the prepared ones). The direct outputs (a pipe, a device, standard output,
// held until now) are written after every file is prepared, standard output
// last: a file that fails leaves nothing on any of them. A rename that fails once others are renamed takes them
// back: a file replaced gets its old content again (kept by an exchange,
// renameat2 RENAME_EXCHANGE, where the file system has one: one that fails
// there fails the set, not a rename that cannot be undone), a new one is
// removed. Only an output that is a pipe or standard output escapes that.
// A name that cannot be removed (a file system error) is named: in the
// error, or on stderr for a replaced output's previous content (published).
CASCADE_MUST_CHECK cascade_status atomic_files_commit(atomic_file *const *files, int n, cascade_error *err);
void atomic_file_abort(atomic_file *f);
// Async-signal-safe removal of the temporary file (for a second SIGINT).
void atomic_file_abort_from_signal(const atomic_file *f);

#ifdef __cplusplus
}
#endif
