// output_paths.c: outputs followed through their links, and kept off the
// inputs and each other (see output_paths.h).
#include "output_paths.h"
#include "assets.h"
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINK_HOPS 40 // as the kernel's own limit on a chain of links

// The descriptor that path names when it is one of this process's own
// (its folder is /proc/<our pid>/fd, which /proc/self/fd and /dev/fd are), else -1.
static int own_descriptor(const char *path) {
    char dir[PATH_MAX], real[PATH_MAX], ours[64];
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return -1;
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    snprintf(ours, sizeof ours, "/proc/%ld/fd", (long)getpid());
    if (!realpath(dir, real) || strcmp(real, ours)) return -1;
    char *end;
    long fd = strtol(slash + 1, &end, 10);
    return end != slash + 1 && !*end && fd >= 0 && fd <= INT_MAX ? (int)fd : -1;
}

int output_path_target(const char *path, char *out, size_t cap) {
    char cur[PATH_MAX], link[PATH_MAX], next[2 * PATH_MAX];
    snprintf(cur, sizeof cur, "%s", path);
    int fd = own_descriptor(cur);
    for (int hop = 0; hop < LINK_HOPS && fd < 0; hop++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) break;
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n <= 0) break;
        link[n] = 0;
        const char *slash = strrchr(cur, '/');
        if (link[0] == '/' || !slash) snprintf(next, sizeof next, "%s", link);
        else snprintf(next, sizeof next, "%.*s%s", (int)(slash - cur + 1), cur, link); // relative to the link's folder
        if (strlen(next) >= sizeof cur) break;
        snprintf(cur, sizeof cur, "%s", next);
        fd = own_descriptor(cur);
    }
    snprintf(out, cap, "%s", cur);
    return fd;
}

// A file yet to be made as "canonical folder/name"; 0 when its folder is not there.
static int planned_name(const char *path, char *out, size_t cap) {
    char target[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
    output_path_target(path, target, sizeof target);
    const char *slash = strrchr(target, '/'), *name = slash ? slash + 1 : target;
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == target) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - target), target);
    if (!realpath(dir, real)) return 0;
    snprintf(out, cap, "%s/%s", real, name);
    return 1;
}

int output_paths_same(const char *a, const char *b) {
    if (!strcmp(a, "-")) a = "/dev/stdout"; // as the outputs take it
    if (!strcmp(b, "-")) b = "/dev/stdout";
    struct stat sa, sb;
    int has_a = stat(a, &sa) == 0, has_b = stat(b, &sb) == 0;
    if (has_a && has_b) return S_ISREG(sa.st_mode) && S_ISREG(sb.st_mode) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (has_a || has_b) return 0;
    char pa[2 * PATH_MAX], pb[2 * PATH_MAX];
    return planned_name(a, pa, sizeof pa) && planned_name(b, pb, sizeof pb) && !strcmp(pa, pb);
}

// Whether output is one of the input's files (each model of a list, by its file).
static int lands_on(const char *output, const named_path *input) {
    if (!input->models) return output_paths_same(output, input->path);
    char item[1024], file[1024];
    const char *separators = input->models == 2 ? ",:" : ",";
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

static int on_stdout(const char *path) {
    char target[PATH_MAX];
    return !strcmp(path, "-") || output_path_target(path, target, sizeof target) == 1;
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
                                    (on_stdout(out) && on_stdout(outputs[j].path))))
                return cascade_fail(err, CASCADE_EINVAL, "%s %s is also the %s file: give each output its own",
                                    outputs[i].option, out, outputs[j].option);
    }
    return CASCADE_OK;
}
