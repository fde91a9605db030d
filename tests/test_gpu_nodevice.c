// test_gpu_nodevice.c: gpu_backend_create fails cleanly where it must.
// Runs everywhere. Bad sizes are CASCADE_EINVAL before any device call.
// Without a usable CUDA device (CI): CASCADE_ENODEV (or EDEVICE) with a
// message, the backend struct untouched, no crash. With one: the backend
// opens (named "gpu (<device>)") and closes. Also the plan memo's table and
// its cache file (runtime/gpu/plan_memo.c), which need no device.
#include "test_util.h"
#include "runtime/gpu/gpu_backend.h"
#include "runtime/gpu/gpu_probe.h"
#include "runtime/gpu/gpu_check.h"
#include "runtime/gpu/plan_memo.h"
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static cudnn_conv_shape memo_shape(int batch, int channels, int residual) {
    cudnn_conv_shape s;
    memset(&s, 0, sizeof s); // compared as bytes, as gpu_network fills them
    s.batch = batch, s.in_channels = s.out_channels = channels;
    s.in_height = s.in_width = s.out_height = s.out_width = 8;
    s.kernel = 3, s.stride = 1, s.pad = 1, s.fused = 1, s.residual = residual, s.relu = 1;
    s.heur_mode = CUDNN_HEUR_MODE_A;
    return s;
}

// Kept choices come back for exactly their shape, with their engine; a later
// choice replaces an earlier one; off with CASCADE_PLAN_MEMO=0; a full memo
// takes no new shapes but still replaces; clear forgets. Runs with the memo
// on whatever the caller's CASCADE_PLAN_MEMO, which is put back after.
static void check_plan_memo(void) {
    const char *caller = getenv("CASCADE_PLAN_MEMO");
    char *saved = caller ? strdup(caller) : NULL;
    unsetenv("CASCADE_PLAN_MEMO");
    setenv("CASCADE_PLAN_CACHE", "off", 1); // the table alone: no file read or written
    cudnn_conv_shape a = memo_shape(7777, 24, 0), a_residual = memo_shape(7777, 24, 1), b = memo_shape(7776, 24, 0);
    int engine = 0;
    plan_memo_clear();
    CHECK(plan_memo_find(&a, &engine) == -1 && engine == -1, "an empty memo found a config (engine %d)", engine);
    plan_memo_keep(&a, 5, 41);
    plan_memo_keep(&a, 3, 42);
    CHECK(plan_memo_find(&a, &engine) == 3 && engine == 42, "kept config 3 engine 42, found %d engine %d",
          plan_memo_find(&a, NULL), engine);
    CHECK(plan_memo_find(&a_residual, NULL) == -1 && plan_memo_find(&b, NULL) == -1, "another shape found a's config");
    plan_memo_keep(&b, -1, 7);
    CHECK(plan_memo_find(&b, NULL) == -1, "a negative config was kept");
    setenv("CASCADE_PLAN_MEMO", "0", 1);
    CHECK(!plan_memo_enabled() && plan_memo_find(&a, NULL) == -1, "CASCADE_PLAN_MEMO=0 still finds");
    plan_memo_keep(&b, 1, 7);
    unsetenv("CASCADE_PLAN_MEMO");
    CHECK(plan_memo_enabled() && plan_memo_find(&b, NULL) == -1, "kept while CASCADE_PLAN_MEMO=0");
    CHECK(plan_memo_find(&a, NULL) == 3, "lost a's config");
    for (int i = 1; i <= PLAN_MEMO_MAX; i++) {
        cudnn_conv_shape s = memo_shape(i, 40, 0);
        plan_memo_keep(&s, i % 7, i);
    }
    // a and shapes 1..PLAN_MEMO_MAX-1 fill it; the next one is not kept, a known one is still replaced
    cudnn_conv_shape first = memo_shape(1, 40, 0), fills = memo_shape(PLAN_MEMO_MAX - 1, 40, 0),
                     past = memo_shape(PLAN_MEMO_MAX, 40, 0);
    plan_memo_keep(&first, 6, 99);
    CHECK(plan_memo_find(&first, &engine) == 6 && engine == 99 && plan_memo_find(&fills, NULL) == (PLAN_MEMO_MAX - 1) % 7 &&
              plan_memo_find(&past, NULL) == -1 && plan_memo_find(&a, NULL) == 3,
          "a full memo: first %d (engine %d), last to fit %d, one past full %d, a %d", plan_memo_find(&first, NULL),
          engine, plan_memo_find(&fills, NULL), plan_memo_find(&past, NULL), plan_memo_find(&a, NULL));
    plan_memo_clear();
    CHECK(plan_memo_find(&a, NULL) == -1 && plan_memo_find(&first, NULL) == -1, "clear kept a config");
    if (saved) setenv("CASCADE_PLAN_MEMO", saved, 1);
    free(saved);
    printf("plan memo: keep, replace, find, off, full and clear checked\n");
}

static long file_lines(const char *path, const char *containing) {
    FILE *f = fopen(path, "r");
    char line[512];
    long n = 0;
    while (f && fgets(line, sizeof line, f)) n += !containing || strstr(line, containing) != NULL;
    if (f) fclose(f);
    return f ? n : -1;
}

static void append_line(const char *path, const char *text) {
    FILE *f = fopen(path, "a");
    if (f) fputs(text, f), fclose(f);
}

// A file full of another card's lines still leaves room for this process's
// choices (and a save copies those lines through); a line longer than the
// reader's buffer is no entry, nor is its tail; an unknown engine (-1) from the
// file is refused; a FIFO as the path is neither read (no hang) nor replaced.
static void check_plan_cache_limits(const char *dir, const char *path, const char *identity) {
    char line[1200], fifo[300];
    cudnn_conv_shape a = memo_shape(6000, 16, 0), b = memo_shape(6001, 16, 0), c = memo_shape(6002, 16, 0);
    FILE *f = fopen(path, "w");
    for (int i = 0; f && i < PLAN_MEMO_MAX + 100; i++)
        fprintf(f, "Another GPU|sm_80|cuDNN 1\t%d 16 8 8 16 8 8 3 1 1 1 0 1 %d \t1 1\n", 10000 + i, (int)CUDNN_HEUR_MODE_A);
    memset(line, 'x', 700), line[700] = 0; // an over-long line whose tail looks like an entry for b
    if (f) fprintf(f, "%s%s\t6001 16 8 8 16 8 8 3 1 1 1 0 1 %d \t4 4\n", line, identity, (int)CUDNN_HEUR_MODE_A);
    if (f) fprintf(f, "%s\t6002 16 8 8 16 8 8 3 1 1 1 0 1 %d \t4 -1\n", identity, (int)CUDNN_HEUR_MODE_A);
    if (f) fprintf(f, "Another GPU|sm_80|cuDNN 1\t9999 16 8 8 16 8 8 3 1 1 1 0 1 %d \t1 1", (int)CUDNN_HEUR_MODE_A);
    if (f) fclose(f); // its last line without a newline: copied through whole, not joined to the next
    plan_memo_clear();
    plan_memo_keep(&a, 3, 3);
    CHECK(plan_memo_find(&a, NULL) == 3, "a file of %d other-card lines crowded out this process's choice", PLAN_MEMO_MAX + 100);
    CHECK(plan_memo_find(&b, NULL) == -1 && plan_memo_find(&c, NULL) == -1,
          "an over-long line's tail (%d) or an unknown engine (%d) was taken", plan_memo_find(&b, NULL), plan_memo_find(&c, NULL));
    cascade_error err = {""};
    CHECK(plan_memo_save(&err) == CASCADE_OK, "save: %s", err.message);
    long others = file_lines(path, "Another GPU"), mine = file_lines(path, identity);
    CHECK(others == PLAN_MEMO_MAX + 101 && mine == 1, "after the save: %ld other-card lines, %ld of this device", others, mine);
    plan_memo_clear();
    CHECK(plan_memo_find(&a, NULL) == 3, "this process's choice did not survive the save as a line of its own");
    snprintf(fifo, sizeof fifo, "%s/fifo.tsv", dir);
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo %s", fifo);
    setenv("CASCADE_PLAN_CACHE", fifo, 1);
    plan_memo_clear();
    CHECK(plan_memo_find(&a, NULL) == -1, "a FIFO as the cache"); // returns: it did not block on the FIFO
    plan_memo_keep(&a, 3, 3);
    err.message[0] = 0;
    cascade_status s = plan_memo_save(&err);
    struct stat st;
    CHECK(s == CASCADE_EIO && strstr(err.message, "not a regular file") && stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode),
          "a FIFO as the cache: %s '%s'", cascade_status_name(s), err.message);
    setenv("CASCADE_PLAN_CACHE", path, 1);
}

// The cache file: choices saved are found by a process that has never kept
// them (the memo cleared stands for a new process), in a directory made for
// it; another device's lines and broken lines are not used; a save merges what
// another process wrote meanwhile; nothing is written when off, when nothing
// is new, and a path that cannot be written fails the save alone.
static void check_plan_cache(void) {
    char dir[] = "/tmp/cascade-plan-cache-XXXXXX", path[256], line[512], identity[160], tmp_pattern[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/made/for/it/plans.tsv", dir);
    unsetenv("CASCADE_PLAN_MEMO");
    setenv("CASCADE_PLAN_CACHE", path, 1);
    cudnn_conv_shape a = memo_shape(5000, 16, 0), b = memo_shape(5000, 16, 1), c = memo_shape(4999, 16, 0),
                     d = memo_shape(4998, 16, 0), e = memo_shape(4997, 16, 0);
    int engine = 0;
    char where[256];
    CHECK(plan_memo_cache_path(where, sizeof where) && !strcmp(where, path), "cache path '%s'", where);
    plan_memo_clear();
    cascade_error err = {""};
    CHECK(plan_memo_save(&err) == CASCADE_OK && file_lines(path, NULL) == -1, "nothing new, yet a file was written");
    plan_memo_keep(&a, 3, 42), plan_memo_keep(&b, 5, 7);
    CHECK(plan_memo_save(&err) == CASCADE_OK, "save: %s", err.message);
    CHECK(file_lines(path, NULL) == 2, "%ld lines written, expected 2", file_lines(path, NULL));
    snprintf(tmp_pattern, sizeof tmp_pattern, "ls %s/made/for/it | grep -q tmp", dir);
    CHECK(system(tmp_pattern) != 0, "a temporary file was left beside the cache");
    FILE *f = fopen(path, "r");
    identity[0] = 0;
    if (f && fgets(line, sizeof line, f)) snprintf(identity, sizeof identity, "%.*s", (int)strcspn(line, "\t"), line);
    if (f) fclose(f);
    // another process's choice for c on this device, one for d on another device, broken lines
    snprintf(line, sizeof line, "%s\t4999 16 8 8 16 8 8 3 1 1 1 0 1 %d \t2 11\n", identity, (int)CUDNN_HEUR_MODE_A);
    append_line(path, line);
    snprintf(line, sizeof line, "Another GPU|sm_80|cuDNN 1\t4998 16 8 8 16 8 8 3 1 1 1 0 1 %d \t4 9\n", (int)CUDNN_HEUR_MODE_A);
    append_line(path, line);
    append_line(path, "garbage\n\tno identity 1 2\nnone\t1 2 3\t4 5\n");
    snprintf(line, sizeof line, "%s\t4997 16 8 8 16 8 8 3 1 1 1 0 1 %d \t-1 3\n", identity, (int)CUDNN_HEUR_MODE_A);
    append_line(path, line); // a negative config
    plan_memo_clear(); // a new process
    CHECK(plan_memo_find(&a, &engine) == 3 && engine == 42, "a from the file: config %d engine %d",
          plan_memo_find(&a, NULL), engine);
    CHECK(plan_memo_find(&b, NULL) == 5 && plan_memo_find(&c, &engine) == 2 && engine == 11,
          "b %d, c (another process's) %d engine %d", plan_memo_find(&b, NULL), plan_memo_find(&c, NULL), engine);
    CHECK(plan_memo_find(&d, NULL) == -1 && plan_memo_find(&e, NULL) == -1,
          "another device's choice (%d) or a broken line (%d) was used", plan_memo_find(&d, NULL), plan_memo_find(&e, NULL));
    // meanwhile another process writes e; this one keeps d: the save holds both, and a, b, c
    snprintf(line, sizeof line, "%s\t4997 16 8 8 16 8 8 3 1 1 1 0 1 %d \t6 13\n", identity, (int)CUDNN_HEUR_MODE_A);
    append_line(path, line);
    plan_memo_keep(&d, 1, 1);
    CHECK(plan_memo_save(&err) == CASCADE_OK, "save: %s", err.message);
    long mine = file_lines(path, identity);
    CHECK(mine == 5 && file_lines(path, "garbage") == 0, "%ld lines of this device after the merge, expected 5 (a b c d e)", mine);
    plan_memo_clear();
    CHECK(plan_memo_find(&e, &engine) == 6 && engine == 13 && plan_memo_find(&d, NULL) == 1, "after the merge: e %d, d %d",
          plan_memo_find(&e, NULL), plan_memo_find(&d, NULL));
    // a path under a regular file: the save fails, the memo goes on
    snprintf(where, sizeof where, "%s/made/for/it/plans.tsv/under/a/file.tsv", dir);
    setenv("CASCADE_PLAN_CACHE", where, 1);
    plan_memo_clear();
    plan_memo_keep(&a, 2, 2);
    err.message[0] = 0;
    cascade_status s = plan_memo_save(&err);
    CHECK(s == CASCADE_EIO && strstr(err.message, "plan cache") && plan_memo_find(&a, NULL) == 2,
          "unwritable cache: %s '%s', a %d", cascade_status_name(s), err.message, plan_memo_find(&a, NULL));
    setenv("CASCADE_PLAN_CACHE", "off", 1);
    CHECK(!plan_memo_cache_path(where, sizeof where) && plan_memo_save(&err) == CASCADE_OK, "CASCADE_PLAN_CACHE=off");
    setenv("CASCADE_PLAN_CACHE", path, 1);
    setenv("CASCADE_CUDNN_PLANS", "1", 1); // untimed choices: the file is not theirs
    CHECK(!plan_memo_cache_path(where, sizeof where), "CASCADE_CUDNN_PLANS=1 still uses the cache file");
    unsetenv("CASCADE_CUDNN_PLANS");
    // gpu_network's conv_small decision for a's graph (config 0: cuDNN) beside a's cuDNN choice
    cudnn_conv_shape a_direct = a;
    a_direct.heur_mode = PLAN_MEMO_CONV_SMALL_MODE;
    plan_memo_clear();
    plan_memo_keep(&a_direct, 0, 0);
    CHECK(plan_memo_save(&err) == CASCADE_OK, "save: %s", err.message);
    plan_memo_clear();
    CHECK(plan_memo_find(&a_direct, &engine) == 0 && engine == 0 && plan_memo_find(&a, NULL) == 3,
          "a conv_small decision from the file: %d (engine %d), a's cuDNN choice %d", plan_memo_find(&a_direct, NULL),
          engine, plan_memo_find(&a, NULL));
    check_plan_cache_limits(dir, path, identity);
    plan_memo_clear();
    snprintf(tmp_pattern, sizeof tmp_pattern, "rm -rf %s", dir);
    CHECK(system(tmp_pattern) == 0, "%s", tmp_pattern);
    printf("plan cache: saved, found anew, merged, other devices and broken lines skipped, unwritable and off checked\n");
}

// Links planted beside the cache, as in a folder others can write to, are not
// followed: not at the name of an earlier temporary file (pid-based until
// 2026-12-04: the save overwrote the link's target), nor at the lock file's
// (a dangling one made its target). The save still writes the cache itself,
// with the umask's mode.
static void check_plan_cache_links(void) {
    char dir[] = "/tmp/cascade-plan-links-XXXXXX", path[256], planted[300], victim[300], dangling[300], rm[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/plans.tsv", dir);
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    snprintf(dangling, sizeof dangling, "%s/made-through-the-lock", dir);
    FILE *f = fopen(victim, "w");
    if (f) fputs("not a plan\n", f), fclose(f);
    snprintf(planted, sizeof planted, "%s.%ld.tmp", path, (long)getpid());
    CHECK(symlink(victim, planted) == 0, "symlink %s", planted);
    snprintf(planted, sizeof planted, "%s.lock", path);
    CHECK(symlink(dangling, planted) == 0, "symlink %s", planted);
    setenv("CASCADE_PLAN_CACHE", path, 1);
    unsetenv("CASCADE_PLAN_MEMO");
    plan_memo_clear();
    cudnn_conv_shape a = memo_shape(7000, 16, 0);
    plan_memo_keep(&a, 2, 2);
    cascade_error err = {""};
    cascade_status s = plan_memo_save(&err);
    struct stat st;
    CHECK(s == CASCADE_OK && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && file_lines(path, NULL) == 1,
          "save beside planted links: %s '%s', %ld lines", cascade_status_name(s), err.message, file_lines(path, NULL));
    CHECK(file_lines(victim, "not a plan") == 1 && file_lines(victim, NULL) == 1, "a planted link's target was written");
    CHECK(lstat(dangling, &st) != 0, "the lock file's dangling link made %s", dangling);
    snprintf(rm, sizeof rm, "ls %s | grep -v '^plans.tsv.%ld.tmp$' | grep -q '\\.tmp$'", dir, (long)getpid());
    CHECK(system(rm) != 0, "a temporary file was left beside the cache"); // (the planted link aside)
    mode_t mask = umask(0);
    umask(mask);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask), "the cache's mode %o, umask %o",
          (unsigned)(st.st_mode & 0777), (unsigned)mask); // as fopen's "w" made it, not mkstemp's 0600
    plan_memo_clear();
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    CHECK(system(rm) == 0, "%s", rm);
    printf("plan cache: links planted at the temporary and lock names not followed\n");
}

// Saves by many processes at once lose none of each other's choices: each of
// SAVERS processes (this program again, a fresh process each) keeps and saves
// SAVE_ROUNDS shapes of its own, one save per shape, all into one file.
#define SAVERS 8
#define SAVE_ROUNDS 40
static int save_plans_child(const char *which) {
    int k = atoi(which);
    cascade_error err = {""};
    for (int r = 0; r < SAVE_ROUNDS; r++) {
        cudnn_conv_shape s = memo_shape(20000 + k * SAVE_ROUNDS + r, 16, 0);
        plan_memo_keep(&s, 1 + r % 7, 1 + r % 7);
        if (plan_memo_save(&err)) {
            fprintf(stderr, "saver %d: %s\n", k, err.message);
            return 1;
        }
    }
    return 0;
}

static void check_concurrent_saves(const char *self) {
    char dir[] = "/tmp/cascade-plan-savers-XXXXXX", path[256], arg[16], rm[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/plans.tsv", dir);
    setenv("CASCADE_PLAN_CACHE", path, 1);
    unsetenv("CASCADE_PLAN_MEMO");
    pid_t pids[SAVERS];
    for (int k = 0; k < SAVERS; k++) {
        snprintf(arg, sizeof arg, "%d", k);
        pids[k] = fork();
        if (pids[k] == 0) {
            execl(self, self, "--save-plans", arg, (char *)NULL); // (argv[0]: valgrind's /proc/self/exe is valgrind)
            _exit(127);
        }
    }
    int failed = 0, missing = 0;
    for (int k = 0; k < SAVERS; k++) {
        int status = 0;
        if (pids[k] < 0 || waitpid(pids[k], &status, 0) != pids[k] || !WIFEXITED(status) || WEXITSTATUS(status)) failed++;
    }
    plan_memo_clear(); // a new process: what the file holds
    for (int i = 0; i < SAVERS * SAVE_ROUNDS; i++) {
        cudnn_conv_shape s = memo_shape(20000 + i, 16, 0);
        missing += plan_memo_find(&s, NULL) != 1 + (i % SAVE_ROUNDS) % 7;
    }
    CHECK(!failed && !missing, "%d savers at once: %d failed, %d of %d choices lost (%ld lines)", SAVERS, failed, missing,
          SAVERS * SAVE_ROUNDS, file_lines(path, NULL));
    printf("plan cache: %d processes saving at once, %d choices, %d lost\n", SAVERS, SAVERS * SAVE_ROUNDS, missing);
    plan_memo_clear();
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    CHECK(system(rm) == 0, "%s", rm);
}

static cascade_status through_cuda(cudaError_t st, cascade_error *err) { CUDA_CHECK(st); return CASCADE_OK; }
static cascade_status through_cudnn(cudnnStatus_t st, cascade_error *err) { CUDNN_CHECK(st); return CASCADE_OK; }
static cascade_status through_cublas(cublasStatus_t st, cascade_error *err) { CUBLAS_CHECK(st); return CASCADE_OK; }

// The checking macros: a library's allocation failure is CASCADE_ENOMEM (the
// host says "out of memory"), any other failure CASCADE_EDEVICE, with the call
// and the library's own name for the status in the message.
static void check_status_macros(void) {
    cascade_error err = {""};
    CHECK(through_cuda(cudaSuccess, &err) == CASCADE_OK && through_cudnn(CUDNN_STATUS_SUCCESS, &err) == CASCADE_OK &&
              through_cublas(CUBLAS_STATUS_SUCCESS, &err) == CASCADE_OK, "a success failed: %s", err.message);
    struct { cascade_status got, want; const char *what; } cases[] = {
        {through_cuda(cudaErrorMemoryAllocation, &err), CASCADE_ENOMEM, "cudaErrorMemoryAllocation"},
        {through_cuda(cudaErrorInvalidValue, &err), CASCADE_EDEVICE, "cudaErrorInvalidValue"},
        {through_cudnn(CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED, &err), CASCADE_ENOMEM, "cuDNN device allocation"},
        {through_cudnn(CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED, &err), CASCADE_ENOMEM, "cuDNN host allocation"},
        {through_cudnn(CUDNN_STATUS_BAD_PARAM, &err), CASCADE_EDEVICE, "CUDNN_STATUS_BAD_PARAM"},
        {through_cublas(CUBLAS_STATUS_ALLOC_FAILED, &err), CASCADE_ENOMEM, "CUBLAS_STATUS_ALLOC_FAILED"},
        {through_cublas(CUBLAS_STATUS_EXECUTION_FAILED, &err), CASCADE_EDEVICE, "CUBLAS_STATUS_EXECUTION_FAILED"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK(cases[i].got == cases[i].want, "%s: %s, expected %s", cases[i].what, cascade_status_name(cases[i].got),
              cascade_status_name(cases[i].want));
    cascade_status last = through_cublas(CUBLAS_STATUS_ALLOC_FAILED, &err);
    CHECK(last == CASCADE_ENOMEM && strstr(err.message, "through_cublas") && strstr(err.message, "CUBLAS_STATUS_ALLOC_FAILED"),
          "message '%s'", err.message);
    printf("status macros: allocation failures are out of memory, others device errors\n");
}

static void load(model *m, const char *name) {
    char path[1024];
    cascade_error err;
    if (assets_model_path(name, path, sizeof path, &err) || model_load(m, path, NULL, &err)) {
        fprintf(stderr, "%s: %s\n", name, err.message);
        exit(2);
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--save-plans")) return save_plans_child(argv[2]);
    model cheap, expensive;
    load(&cheap, "lenet");
    load(&expensive, "alexnet_shallower");
    cascade_backend be, untouched;
    memset(&untouched, 0x5a, sizeof untouched);
    cascade_error err;

    be = untouched, err.message[0] = 0;
    cascade_status s = gpu_backend_create(&be, &cheap, &expensive, 0, 64, &err);
    CHECK(s == CASCADE_EINVAL && err.message[0], "chunk 0: status %s, '%s'", cascade_status_name(s), err.message);
    CHECK(!memcmp(&be, &untouched, sizeof be), "a failed create (chunk 0) wrote into the backend");
    be = untouched, err.message[0] = 0;
    s = gpu_backend_create(&be, &cheap, &expensive, 512, -1, &err);
    CHECK(s == CASCADE_EINVAL && err.message[0], "batch -1: status %s, '%s'", cascade_status_name(s), err.message);
    CHECK(!memcmp(&be, &untouched, sizeof be), "a failed create (batch -1) wrote into the backend");

    char name[256];
    cascade_error why;
    int have_device = gpu_probe(name, sizeof name, &why) == CASCADE_OK;
    be = untouched, err.message[0] = 0;
    s = gpu_backend_create(&be, &cheap, &expensive, 512, 64, &err);
    if (!have_device) {
        printf("no device (%s): gpu_backend_create -> %s: %s\n", why.message, cascade_status_name(s), err.message);
        CHECK(s == CASCADE_ENODEV || s == CASCADE_EDEVICE, "status %s", cascade_status_name(s));
        CHECK(err.message[0] != 0, "no message");
        CHECK(!memcmp(&be, &untouched, sizeof be), "a failed create wrote into the backend");
    } else {
        printf("device %s: gpu_backend_create -> %s %s\n", name, cascade_status_name(s), s ? err.message : be.name);
        CHECK(s == CASCADE_OK, "%s", err.message);
        if (s == CASCADE_OK) {
            CHECK(!strncmp(be.name, "gpu (", 5), "backend name '%s'", be.name);
            CHECK(be.n_slots >= 2 && be.chunk_capacity == 512 && be.expensive_batch == 64, "geometry %d %d %d",
                  be.n_slots, be.chunk_capacity, be.expensive_batch);
            be.destroy(be.impl);
        }
    }
    model_free(&cheap), model_free(&expensive);
    check_status_macros();
    check_plan_memo();
    check_plan_cache();
    check_plan_cache_links();
    check_concurrent_saves(strchr(argv[0], '/') ? argv[0] : "/proc/self/exe");
    return test_summary("gpu_nodevice");
}
