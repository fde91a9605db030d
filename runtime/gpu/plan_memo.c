// plan_memo.c: the memo of cuDNN plan choices, and its cache file (see
// plan_memo.h). A small table searched linearly: a network has at most a few
// dozen distinct conv shapes, and it is read only while networks are built.
// The file is text, one choice a line:
//   device identity \t 14 shape fields \t config \t engine
// read once (lazily, on the first find or keep) and written whole, through a
// temporary file and a rename, so a reader never sees half a file.
#include "plan_memo.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cuda_runtime.h>

#define IDENTITY_CAP 128

typedef struct {
    cudnn_conv_shape shape;
    char device[IDENTITY_CAP];
    int config, engine;
} memo_entry;

static memo_entry memo[PLAN_MEMO_MAX];
static int memo_count, memo_loaded, memo_dirty;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

int plan_memo_enabled(void) {
    const char *env = getenv("CASCADE_PLAN_MEMO");
    return !(env && !strcmp(env, "0"));
}

int plan_memo_cache_path(char *out, size_t cap) {
    const char *env = getenv("CASCADE_PLAN_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n = -1;
    if (env) n = !env[0] || !strcmp(env, "0") || !strcmp(env, "off") ? -1 : snprintf(out, cap, "%s", env);
    else if (xdg && xdg[0]) n = snprintf(out, cap, "%s/cascade/cudnn-plans.tsv", xdg);
    else if (home && home[0]) n = snprintf(out, cap, "%s/.cache/cascade/cudnn-plans.tsv", home);
    if (n < 0 || (size_t)n >= cap) {
        if (cap) out[0] = 0;
        return 0;
    }
    return 1;
}

// The current CUDA device as the file names it: "NVIDIA H200|sm_90|cuDNN 91900",
// or "none" where there is none (no network is built then, so that key is
// never used by one: it lets tests check the table anywhere).
static void current_device(char out[IDENTITY_CAP]) {
    int device = 0;
    struct cudaDeviceProp prop;
    if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
        (void)cudaGetLastError(); // not sticky; the caller's next check must not see it
        snprintf(out, IDENTITY_CAP, "none");
        return;
    }
    snprintf(out, IDENTITY_CAP, "%.80s|sm_%d%d|cuDNN %zu", prop.name, prop.major, prop.minor, cudnnGetVersion());
    for (char *c = out; *c; c++)
        if (*c == '\t' || *c == '\n' || *c == '\r') *c = ' ';
}

static int find_locked(const cudnn_conv_shape *shape, const char *device) {
    for (int i = 0; i < memo_count; i++)
        if (!strcmp(memo[i].device, device) && !memcmp(&memo[i].shape, shape, sizeof *shape)) return i;
    return -1;
}

// The shape's fields in the file's order.
#define SHAPE_FIELDS 14
_Static_assert(sizeof(cudnn_conv_shape) == SHAPE_FIELDS * sizeof(int), "a cudnn_conv_shape field the file lacks");
static void shape_fields(cudnn_conv_shape *s, int *f[SHAPE_FIELDS]) {
    int *all[SHAPE_FIELDS] = {&s->batch,  &s->in_channels, &s->in_height, &s->in_width, &s->out_channels,
                              &s->out_height, &s->out_width, &s->kernel,  &s->stride,   &s->pad,
                              &s->fused,  &s->residual,    &s->relu,      &s->heur_mode};
    memcpy(f, all, sizeof all);
}

// One line of the file into e; 0 for a line that is not one (skipped).
static int parse_line(char *line, memo_entry *e) {
    char *tab = strchr(line, '\t');
    if (!tab || tab == line || tab - line >= IDENTITY_CAP) return 0;
    memset(e, 0, sizeof *e);
    memcpy(e->device, line, (size_t)(tab - line));
    int *f[SHAPE_FIELDS], used = 0;
    shape_fields(&e->shape, f);
    char *p = tab + 1;
    for (int i = 0; i < SHAPE_FIELDS; i++, p += used)
        if (sscanf(p, "%d%n", f[i], &used) != 1) return 0;
    if (sscanf(p, " %d %d%n", &e->config, &e->engine, &used) != 2 || e->config < 0) return 0;
    for (p += used; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++) {}
    return *p == 0;
}

// Adds the file's choices for shapes the memo does not hold (its own, newer,
// stay). A missing or unreadable file adds nothing.
static void merge_file_locked(void) {
    char path[1024], line[512];
    if (!plan_memo_cache_path(path, sizeof path)) return;
    FILE *f = fopen(path, "r");
    if (!f) return;
    memo_entry e;
    while (fgets(line, sizeof line, f) && memo_count < PLAN_MEMO_MAX)
        if (parse_line(line, &e) && find_locked(&e.shape, e.device) < 0) memo[memo_count++] = e;
    fclose(f);
}

static void load_once_locked(void) {
    if (memo_loaded) return;
    memo_loaded = 1;
    merge_file_locked();
}

int plan_memo_find(const cudnn_conv_shape *shape, int *engine) {
    if (engine) *engine = -1;
    if (!shape || !plan_memo_enabled()) return -1;
    char device[IDENTITY_CAP];
    current_device(device);
    pthread_mutex_lock(&memo_lock);
    load_once_locked();
    int i = find_locked(shape, device), config = i >= 0 ? memo[i].config : -1;
    if (i >= 0 && engine) *engine = memo[i].engine;
    pthread_mutex_unlock(&memo_lock);
    return config;
}

void plan_memo_keep(const cudnn_conv_shape *shape, int config, int engine) {
    if (!shape || config < 0 || !plan_memo_enabled()) return;
    memo_entry e = {.shape = *shape, .config = config, .engine = engine};
    current_device(e.device);
    pthread_mutex_lock(&memo_lock);
    load_once_locked();
    int i = find_locked(shape, e.device);
    if (i < 0 && memo_count < PLAN_MEMO_MAX) i = memo_count++;
    if (i >= 0) memo[i] = e, memo_dirty = 1;
    pthread_mutex_unlock(&memo_lock);
}

// mkdir -p of path's directory.
static int make_parent(const char *path) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) return 0;
    *slash = 0;
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(dir, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(dir, 0755) && errno != EEXIST ? -1 : 0;
}

static cascade_status write_locked(const char *path, cascade_error *err) {
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (make_parent(path)) return cascade_fail(err, CASCADE_EIO, "plan cache %s: %s", path, strerror(errno));
    FILE *f = fopen(tmp, "w");
    if (!f) return cascade_fail(err, CASCADE_EIO, "plan cache %s: %s", tmp, strerror(errno));
    for (int i = 0; i < memo_count; i++) {
        int *fields[SHAPE_FIELDS];
        shape_fields(&memo[i].shape, fields);
        fprintf(f, "%s\t", memo[i].device);
        for (int k = 0; k < SHAPE_FIELDS; k++) fprintf(f, "%d ", *fields[k]);
        fprintf(f, "\t%d %d\n", memo[i].config, memo[i].engine);
    }
    int failed = ferror(f);
    failed |= fclose(f) != 0;
    if (failed || rename(tmp, path)) {
        int why = errno;
        unlink(tmp);
        return cascade_fail(err, CASCADE_EIO, "plan cache %s: %s", path, strerror(why ? why : EIO));
    }
    return CASCADE_OK;
}

cascade_status plan_memo_save(cascade_error *err) {
    char path[1024];
    if (!plan_memo_enabled() || !plan_memo_cache_path(path, sizeof path)) return CASCADE_OK;
    pthread_mutex_lock(&memo_lock);
    cascade_status s = CASCADE_OK;
    if (memo_dirty) {
        merge_file_locked(); // what other processes wrote since this one read it
        s = write_locked(path, err);
        memo_dirty = s != CASCADE_OK;
    }
    pthread_mutex_unlock(&memo_lock);
    return s;
}

void plan_memo_clear(void) {
    pthread_mutex_lock(&memo_lock);
    memo_count = memo_loaded = memo_dirty = 0;
    pthread_mutex_unlock(&memo_lock);
}
