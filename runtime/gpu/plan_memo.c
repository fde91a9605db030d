// plan_memo.c: the process-wide memo of cuDNN plan choices (see plan_memo.h).
// A small table searched linearly: a network has at most a few dozen distinct
// conv shapes, and it is read only while networks are built.
#include "plan_memo.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <cuda_runtime.h>

typedef struct {
    cudnn_conv_shape shape;
    int device, config, engine;
} memo_entry;

static memo_entry memo[PLAN_MEMO_MAX];
static int memo_count;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

int plan_memo_enabled(void) {
    const char *env = getenv("CASCADE_PLAN_MEMO");
    return !(env && !strcmp(env, "0"));
}

// The current CUDA device, or -1 where there is none: no network is built
// then, so that key is never used by one (it lets tests check the table anywhere).
static int current_device(void) {
    int device = 0;
    if (cudaGetDevice(&device) != cudaSuccess) {
        (void)cudaGetLastError(); // not sticky; the caller's next check must not see it
        return -1;
    }
    return device;
}

static int find_locked(const cudnn_conv_shape *shape, int device) {
    for (int i = 0; i < memo_count; i++)
        if (memo[i].device == device && !memcmp(&memo[i].shape, shape, sizeof *shape)) return i;
    return -1;
}

int plan_memo_find(const cudnn_conv_shape *shape, int *engine) {
    if (engine) *engine = -1;
    if (!shape || !plan_memo_enabled()) return -1;
    int device = current_device();
    pthread_mutex_lock(&memo_lock);
    int i = find_locked(shape, device), config = i >= 0 ? memo[i].config : -1;
    if (i >= 0 && engine) *engine = memo[i].engine;
    pthread_mutex_unlock(&memo_lock);
    return config;
}

void plan_memo_keep(const cudnn_conv_shape *shape, int config, int engine) {
    if (!shape || config < 0 || !plan_memo_enabled()) return;
    int device = current_device();
    pthread_mutex_lock(&memo_lock);
    int i = find_locked(shape, device);
    if (i < 0 && memo_count < PLAN_MEMO_MAX) i = memo_count++;
    if (i >= 0) memo[i] = (memo_entry){*shape, device, config, engine};
    pthread_mutex_unlock(&memo_lock);
}

void plan_memo_clear(void) {
    pthread_mutex_lock(&memo_lock);
    memo_count = 0;
    pthread_mutex_unlock(&memo_lock);
}
