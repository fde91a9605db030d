// plan_memo.c: the memo of cuDNN plan choices, and its cache file (see
// plan_memo.h). A small table searched linearly: a network has at most a few
// dozen distinct conv shapes, and it is read only while networks are built.
// The file is text, one choice a line:
//   device identity \t 14 shape fields \t config \t engine
// Its lines for the current device are read once (lazily, on the first find
// or keep); the table holds no other device's, which a save copies through.
// It is written whole, through a new temporary file (a random name, O_EXCL:
// no link planted in a shared folder is followed) and a rename, so a reader
// never sees half a file; saves by several processes at once (the workers of
// one job on a many-GPU node) take turns through a lock file beside it
// (flock on FILE.lock), so that none loses the others' lines. A path that is
// not a regular file (a FIFO, a device) is neither read nor replaced.
#include "plan_memo.h"
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <cuda_runtime.h>

#define IDENTITY_CAP 160

#define OTHER_LINES_MAX (4 * PLAN_MEMO_MAX) // other devices' lines a save copies through
#define LINE_CAP 512

typedef struct {
    cudnn_conv_shape shape;
    char device[IDENTITY_CAP];
    int config, engine;
    int from_file; // read from the file, not chosen by this process: the first to give way
} memo_entry;

static memo_entry memo[PLAN_MEMO_MAX];
static int memo_count, memo_dirty;
static char loaded_device[IDENTITY_CAP]; // the device whose file lines are in the table ("": none yet)
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

int plan_memo_enabled(void) {
    const char *env = getenv("CASCADE_PLAN_MEMO");
    return !(env && !strcmp(env, "0"));
}

int plan_memo_cache_path(char *out, size_t cap) {
    const char *env = getenv("CASCADE_PLAN_CACHE"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n = -1;
    if (getenv("CASCADE_CUDNN_PLANS")) n = -1; // not the timed choices: never written, never taken for them
    else if (env) n = !env[0] || !strcmp(env, "0") || !strcmp(env, "off") ? -1 : snprintf(out, cap, "%s", env);
    else if (xdg && xdg[0]) n = snprintf(out, cap, "%s/cascade/cudnn-plans.tsv", xdg);
    else if (home && home[0]) n = snprintf(out, cap, "%s/.cache/cascade/cudnn-plans.tsv", home);
    if (n < 0 || (size_t)n >= cap) {
        if (cap) out[0] = 0;
        return 0;
    }
    return 1;
}

// The current CUDA device as the file names it, with what a heuristic's
// ranking of configs may depend on: "v2|NVIDIA H200|sm_90|132 SMs|driver 13000|cuDNN 91900"
// (a MIG slice has the card's name and fewer SMs; v2: the shape fields'
// order, for a later change of it), or "none" where there is none (no
// network is built then, so that key is never used by one: it lets tests
// check the table anywhere).
static void current_device(char out[IDENTITY_CAP]) {
    int device = 0, driver = 0;
    struct cudaDeviceProp prop;
    if (cudaGetDevice(&device) != cudaSuccess || cudaGetDeviceProperties(&prop, device) != cudaSuccess ||
        cudaDriverGetVersion(&driver) != cudaSuccess) {
        (void)cudaGetLastError(); // not sticky; the caller's next check must not see it
        snprintf(out, IDENTITY_CAP, "none");
        return;
    }
    snprintf(out, IDENTITY_CAP, "v2|%.80s|sm_%d%d|%d SMs|driver %d|cuDNN %zu", prop.name, prop.major, prop.minor,
             prop.multiProcessorCount, driver, cudnnGetVersion());
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

// The next integer of the line at *p (past blanks), within int's range.
static int next_int(const char **p, int *out) {
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (end == *p || errno || v < INT_MIN || v > INT_MAX) return 0;
    *out = (int)v, *p = end;
    return 1;
}

// One line of the file into e; 0 for a line that is not one (skipped).
static int parse_line(const char *line, memo_entry *e) {
    const char *tab = strchr(line, '\t');
    if (!tab || tab == line || tab - line >= IDENTITY_CAP) return 0;
    memset(e, 0, sizeof *e);
    memcpy(e->device, line, (size_t)(tab - line));
    int *f[SHAPE_FIELDS];
    shape_fields(&e->shape, f);
    const char *p = tab + 1;
    for (int i = 0; i < SHAPE_FIELDS; i++)
        if (!next_int(&p, f[i])) return 0;
    if (!next_int(&p, &e->config) || !next_int(&p, &e->engine) || e->config < 0 || e->engine < 0) return 0;
    for (; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++) {}
    e->from_file = 1;
    return *p == 0;
}

// The next line into line; one longer than the buffer is read to its end and
// comes back empty (no entry), so that its tail is not taken for one. 0 at the end.
static int read_line(FILE *f, char line[LINE_CAP]) {
    if (!fgets(line, LINE_CAP, f)) return 0;
    size_t n = strlen(line);
    if (n == LINE_CAP - 1 && line[n - 1] != '\n') {
        int c;
        while ((c = fgetc(f)) != EOF && c != '\n') {}
        line[0] = 0;
    }
    return 1;
}

// The cache file for reading or replacing: 1 and its path when it is on and
// the path is a regular file or nothing yet.
static int cache_file(char path[1024]) {
    struct stat st;
    return plan_memo_cache_path(path, 1024) && (stat(path, &st) != 0 || S_ISREG(st.st_mode));
}

// Adds the file's choices on device for shapes the table does not hold (its
// own, newer, stay). A missing or unreadable file adds nothing.
static void merge_file_locked(const char *device) {
    char path[1024], line[LINE_CAP];
    FILE *f = cache_file(path) ? fopen(path, "r") : NULL;
    if (!f) return;
    memo_entry e;
    while (memo_count < PLAN_MEMO_MAX && read_line(f, line))
        if (parse_line(line, &e) && !strcmp(e.device, device) && find_locked(&e.shape, e.device) < 0)
            memo[memo_count++] = e;
    fclose(f);
}

static void load_locked(const char *device) {
    if (!strcmp(loaded_device, device)) return;
    snprintf(loaded_device, sizeof loaded_device, "%s", device);
    merge_file_locked(device);
}

int plan_memo_find(const cudnn_conv_shape *shape, int *engine) {
    if (engine) *engine = -1;
    if (!shape || !plan_memo_enabled()) return -1;
    char device[IDENTITY_CAP];
    current_device(device);
    pthread_mutex_lock(&memo_lock);
    load_locked(device);
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
    load_locked(e.device);
    int i = find_locked(shape, e.device);
    if (i < 0 && memo_count < PLAN_MEMO_MAX) i = memo_count++;
    for (int j = 0; i < 0 && j < memo_count; j++) // full: this process's choice before one read from the file
        if (memo[j].from_file) i = j;
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

static int device_held(const char *device) {
    for (int i = 0; i < memo_count; i++)
        if (!strcmp(memo[i].device, device)) return 1;
    return 0;
}

// The file's lines of devices the table does not hold, as they are, then the
// table's choices whose engine is known.
static int write_lines(FILE *out, const char *path) {
    FILE *in = fopen(path, "r");
    char line[LINE_CAP];
    memo_entry e;
    for (int copied = 0; in && copied < OTHER_LINES_MAX && read_line(in, line);)
        if (parse_line(line, &e) && !device_held(e.device)) {
            fputs(line, out), copied++;
            if (line[strlen(line) - 1] != '\n') fputc('\n', out); // the file's last line had none
        }
    if (in) fclose(in);
    for (int i = 0; i < memo_count; i++) {
        if (memo[i].engine < 0) continue;
        int *fields[SHAPE_FIELDS];
        shape_fields(&memo[i].shape, fields);
        fprintf(out, "%s\t", memo[i].device);
        for (int k = 0; k < SHAPE_FIELDS; k++) fprintf(out, "%d ", *fields[k]);
        fprintf(out, "\t%d %d\n", memo[i].config, memo[i].engine);
    }
    return ferror(out) ? errno ? errno : EIO : 0;
}

// A new temporary file beside path, named into tmp: created, never an
// existing name or a link planted there (the cache's folder may be shared),
// with the mode fopen's "w" gives (0666 less the umask; mkstemp's is 0600).
static FILE *open_temporary(const char *path, char tmp[1100]) {
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char r[8];
        if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) { // no entropy yet: a guessable name, still O_EXCL
            struct timespec now;
            clock_gettime(CLOCK_REALTIME, &now);
            unsigned long long v = (unsigned long long)now.tv_nsec ^ (unsigned long long)getpid() << 32 ^ (unsigned)attempt;
            memcpy(r, &v, sizeof r);
        }
        char suffix[9];
        for (int i = 0; i < 8; i++) suffix[i] = digits[r[i] % 36];
        suffix[8] = 0;
        snprintf(tmp, 1100, "%s.%s.tmp", path, suffix);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            FILE *f = fdopen(fd, "w");
            if (!f) unlink(tmp), close(fd);
            return f;
        }
        if (errno != EEXIST) return NULL;
    }
    return NULL; // errno EEXIST
}

static cascade_status write_locked(const char *path, cascade_error *err) {
    char tmp[1100];
    if (make_parent(path)) return cascade_fail(err, CASCADE_EIO, "plan cache %s: %s", path, strerror(errno));
    FILE *f = open_temporary(path, tmp);
    if (!f) return cascade_fail(err, CASCADE_EIO, "plan cache %s: temporary file: %s", path, strerror(errno));
    int why = write_lines(f, path);
    if (fclose(f) && !why) why = errno ? errno : EIO;
    if (!why && rename(tmp, path)) why = errno;
    if (why) {
        unlink(tmp);
        return cascade_fail(err, CASCADE_EIO, "plan cache %s: %s", path, strerror(why));
    }
    return CASCADE_OK;
}

// Waits up to LOCK_WAIT_MS for the lock file beside path; its descriptor, or
// -1 when it cannot be had (a directory not writable, another process holding
// it too long, a link planted at its name): the save then goes on unlocked, at worst losing a line that
// a later run times again.
#define LOCK_WAIT_MS 5000
static int lock_file(const char *path) {
    char lock[1100];
    snprintf(lock, sizeof lock, "%s.lock", path);
    if (make_parent(path)) return -1;
    // read-only is enough for flock: another user's lock file too; a link there is not followed (none is made through it)
    int fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    for (int waited = 0; fd >= 0 && flock(fd, LOCK_EX | LOCK_NB); waited += 10) {
        if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= LOCK_WAIT_MS) {
            close(fd);
            return -1;
        }
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    return fd;
}

cascade_status plan_memo_save(cascade_error *err) {
    char path[1024];
    if (!plan_memo_enabled() || !plan_memo_cache_path(path, sizeof path)) return CASCADE_OK;
    if (!cache_file(path)) return cascade_fail(err, CASCADE_EIO, "plan cache %s: not a regular file", path);
    pthread_mutex_lock(&memo_lock);
    int dirty = memo_dirty;
    pthread_mutex_unlock(&memo_lock);
    if (!dirty) return CASCADE_OK;
    int lock = lock_file(path); // waited for without the table's mutex: other threads' finds go on
    pthread_mutex_lock(&memo_lock);
    cascade_status s = CASCADE_OK;
    if (memo_dirty) {
        if (loaded_device[0]) merge_file_locked(loaded_device); // what other processes wrote since
        s = write_locked(path, err);
        memo_dirty = s != CASCADE_OK;
    }
    pthread_mutex_unlock(&memo_lock);
    if (lock >= 0) close(lock); // and with it the lock
    return s;
}

void plan_memo_clear(void) {
    pthread_mutex_lock(&memo_lock);
    memo_count = memo_dirty = 0;
    loaded_device[0] = 0;
    pthread_mutex_unlock(&memo_lock);
}
