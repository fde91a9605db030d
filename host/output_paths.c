// output_paths.c: outputs followed through their links, and kept off the
// inputs and each other (see output_paths.h).
#include "output_paths.h"
#include "assets.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK_HOPS 40 // as the kernel's own limit on a chain of links

static int closed_at_start[3];

// (close-on-exec: blas_tune's re-exec starts without them again, and sees the same)
// Standard output is held read-only: what a command prints there fails as on
// the closed descriptor (EBADF, exit 1), not lost; stderr's messages are.
void output_paths_hold_standard(void) {
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int got = open("/dev/null", (fd == 2 ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
            closed_at_start[fd] = got == fd;
            if (got >= 0 && got != fd) close(got); // (not the lowest free: leave it)
        }
}

int output_path_closed_at_start(int fd) { return fd >= 0 && fd <= 2 && closed_at_start[fd]; }

void output_path_folder(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    snprintf(out, cap, "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1, slash ? path : ".");
}

// The canonical form of path's folder into real; 0 when it does not resolve.
static int folder_real(const char *path, char real[PATH_MAX]) {
    char dir[PATH_MAX];
    output_path_folder(path, dir, sizeof dir);
    return realpath(dir, real) != NULL;
}

// The descriptor that path names when it is one of this process's own
// (its folder is /proc/<our pid>/fd, which /proc/self/fd and /dev/fd are), else -1.
static int own_descriptor(const char *path, const char *folder) {
    char ours[64];
    const char *slash = strrchr(path, '/');
    snprintf(ours, sizeof ours, "/proc/%ld/fd", (long)getpid());
    if (!slash || strcmp(folder, ours)) return -1;
    char *end;
    long fd = strtol(slash + 1, &end, 10);
    return end != slash + 1 && !*end && fd >= 0 && fd <= INT_MAX ? (int)fd : -1;
}

int output_path_target(const char *path, char *out, size_t cap) {
    char cur[PATH_MAX], link[PATH_MAX], next[2 * PATH_MAX], folder[PATH_MAX];
    snprintf(cur, sizeof cur, "%s", path);
    snprintf(out, cap, "%s", cur);
    for (int hop = 0;; hop++) {
        struct stat st;
        int resolved = folder_real(cur, folder);
        int fd = resolved ? own_descriptor(cur, folder) : -1;
        if (fd >= 0) return fd;
        if (resolved && !strncmp(folder, "/proc/", 6)) return OUTPUT_PATH_IN_PLACE; // another's descriptor, a task's
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) break;
        if (hop == LINK_HOPS) return OUTPUT_PATH_LOOP;
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n <= 0) break;
        link[n] = 0;
        const char *slash = strrchr(cur, '/');
        if (link[0] == '/' || !slash) snprintf(next, sizeof next, "%s", link);
        else snprintf(next, sizeof next, "%.*s%s", (int)(slash - cur + 1), cur, link); // relative to the link's folder
        if (strlen(next) >= sizeof cur) return OUTPUT_PATH_LOOP; // longer than any path: never a file
        snprintf(cur, sizeof cur, "%s", next);
        snprintf(out, cap, "%s", cur);
    }
    return OUTPUT_PATH_FILE;
}

// A file yet to be made as "canonical folder/name"; 0 when its folder is not there.
static int planned_name(const char *path, char *out, size_t cap) {
    char target[PATH_MAX], real[PATH_MAX];
    if (output_path_target(path, target, sizeof target) != OUTPUT_PATH_FILE) return 0;
    const char *slash = strrchr(target, '/'), *name = slash ? slash + 1 : target;
    if (!folder_real(target, real)) return 0;
    snprintf(out, cap, "%s/%s", real, name);
    return 1;
}

// The process's descriptor an output is written through (- is standard output), else -1.
static int descriptor_of(const char *path) {
    char target[PATH_MAX];
    int fd = !strcmp(path, "-") ? 1 : output_path_target(path, target, sizeof target);
    return fd >= 0 ? fd : -1;
}

int output_paths_same(const char *a, const char *b) {
    if (!strcmp(a, "-")) a = "/dev/stdout"; // as the outputs take it
    if (!strcmp(b, "-")) b = "/dev/stdout";
    struct stat sa, sb;
    int has_a = stat(a, &sa) == 0, has_b = stat(b, &sb) == 0;
    // one file, or one named FIFO (its reader would get both streams mixed); devices such as /dev/null may
    // repeat, and so may the process's own descriptors on one pipe (2>&1: /dev/stdout and /dev/stderr)
    if (has_a && has_b) {
        int same = sa.st_mode == sb.st_mode && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
        if (S_ISFIFO(sa.st_mode)) return same && descriptor_of(a) < 0 && descriptor_of(b) < 0;
        return same && S_ISREG(sa.st_mode);
    }
    if (has_a || has_b) return 0;
    char pa[2 * PATH_MAX], pb[2 * PATH_MAX];
    return planned_name(a, pa, sizeof pa) && planned_name(b, pb, sizeof pb) && !strcmp(pa, pb);
}

// Whether output is one of the input's files (each model of a list, by its file).
static int lands_on(const char *output, const named_path *input) {
    if (!input->models) return output_paths_same(output, input->path);
    char item[1024], file[1024];
    const char *separators = input->models == 3 ? "" : input->models == 2 ? ",:" : ",";
    for (const char *p = input->path; *p;) {
        size_t n = strcspn(p, separators);
        snprintf(item, sizeof item, "%.*s", (int)n, p);
        cascade_error ignored;
        if (n && strcmp(item, "none") && !assets_model_path(item, file, sizeof file, &ignored) &&
            output_paths_same(output, file))
            return 1;
        p += n + (p[n] != 0);
    }
    return 0;
}

cascade_status output_paths_check(const named_path *outputs, int n_outputs, const named_path *inputs, int n_inputs,
                                  cascade_error *err) {
    for (int i = 0; i < n_outputs; i++) {
        const char *out = outputs[i].path;
        if (!out) continue;
        for (int k = 0; k < n_inputs; k++)
            if (inputs[k].path && lands_on(out, &inputs[k]))
                return cascade_fail(err, CASCADE_EINVAL, "%s %s is also the %s file: an output may not replace an input",
                                    outputs[i].option, out, inputs[k].option);
        for (int j = 0; j < i; j++)
            if (outputs[j].path && (output_paths_same(out, outputs[j].path) ||
                                    (descriptor_of(out) >= 0 && descriptor_of(out) == descriptor_of(outputs[j].path))))
                return cascade_fail(err, CASCADE_EINVAL, "%s %s is also the %s file: give each output its own",
                                    outputs[i].option, out, outputs[j].option);
    }
    return CASCADE_OK;
}
