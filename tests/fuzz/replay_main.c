// replay_main.c: a main() for the fuzz targets without libFuzzer, so every
// build (gcc Release, the ASan build) can replay the seed corpus and the
// regression inputs: fuzz_X_replay FILE|DIR... feeds each file once to
// LLVMFuzzerTestOneInput. A broken invariant aborts; a sanitizer reports.
// An absent path is skipped, but no input at all fails (a replay of nothing).
#include "fuzz_util.h"
#include <dirent.h>
#include <sys/stat.h>

static int replayed = 0;

static int replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "replay: cannot open %s\n", path); return 1; }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            uint8_t *grown = realloc(buf, cap * 2);
            if (!grown) { free(buf); buf = NULL; break; }
            buf = grown, cap *= 2;
        }
    }
    fclose(f);
    if (!buf) { fprintf(stderr, "replay: out of memory reading %s\n", path); return 1; }
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    replayed++;
    return 0;
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int replay_path(const char *path) {
    struct stat st;
    if (stat(path, &st)) return 0; // an absent corpus folder is not an error
    if (!S_ISDIR(st.st_mode)) return replay_file(path);
    DIR *d = opendir(path);
    if (!d) { fprintf(stderr, "replay: cannot read %s\n", path); return 1; }
    char **names = NULL;
    size_t count = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char **grown = realloc(names, (count + 1) * sizeof *names);
        if (!grown) break;
        names = grown;
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        if (!(names[count] = malloc(len))) break;
        snprintf(names[count++], len, "%s/%s", path, e->d_name);
    }
    closedir(d);
    if (count) qsort(names, count, sizeof *names, compare_names); // (names is NULL for an empty folder)
    int failed = 0;
    for (size_t i = 0; i < count; i++) {
        struct stat fs;
        if (!stat(names[i], &fs) && S_ISREG(fs.st_mode)) failed |= replay_file(names[i]);
        free(names[i]);
    }
    free(names);
    return failed;
}

int main(int argc, char **argv) {
    int failed = 0;
    for (int i = 1; i < argc; i++) failed |= replay_path(argv[i]);
    printf("%s: replayed %d inputs\n", argv[0], replayed);
    if (!replayed) fprintf(stderr, "replay: no input found in the paths given (a corpus moved?)\n");
    return failed || !replayed;
}
