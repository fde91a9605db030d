// fail_alloc.c: an LD_PRELOAD shim for resource_failures.py. The Nth
// allocation (malloc, calloc, realloc, posix_memalign, aligned_alloc) that
// cascade's own code makes (its return address inside the executable, not a
// library's) fails with ENOMEM, N from CASCADE_FAIL_ALLOC; every other one
// is passed on. CASCADE_ALLOC_COUNT names a file that gets the count of the
// executable's allocations at exit, to know the range of N. So every
// out-of-memory path of our code can be taken on demand.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uintptr_t code_lo, code_hi; // the executable's code: the first object dl_iterate_phdr lists
static void *(*real_malloc)(size_t), *(*real_calloc)(size_t, size_t), *(*real_realloc)(void *, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static int (*real_posix_memalign)(void **, size_t, size_t);
static long counted, fail_at = -1;
static char boot[1 << 16]; // dlsym's own allocations, before the real functions are known
static size_t boot_used;

static int first_object(struct dl_phdr_info *info, size_t size, void *ignored) {
    (void)size, (void)ignored;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (!code_lo || lo < code_lo) code_lo = lo;
        if (hi > code_hi) code_hi = hi;
    }
    return 1; // the executable only
}

static void find_real(void) {
    static int finding;
    if (real_malloc || finding) return;
    finding = 1;
    dl_iterate_phdr(first_object, NULL);
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    const char *at = getenv("CASCADE_FAIL_ALLOC");
    fail_at = at ? atol(at) : -1;
}

// 1 when this allocation, made from ra, is the one to fail.
static int fails(void *ra) {
    if ((uintptr_t)ra < code_lo || (uintptr_t)ra >= code_hi) return 0; // a library's
    return __atomic_add_fetch(&counted, 1, __ATOMIC_RELAXED) == fail_at;
}

static void *boot_alloc(size_t n) {
    n = (n + 63) & ~(size_t)63;
    if (boot_used + n > sizeof boot) return NULL;
    boot_used += n;
    return boot + boot_used - n; // (zeroed: never used before)
}

void *malloc(size_t n) {
    find_real();
    if (!real_malloc) return boot_alloc(n);
    if (fails(__builtin_return_address(0))) return errno = ENOMEM, NULL;
    return real_malloc(n);
}

void *calloc(size_t count, size_t size) {
    find_real();
    if (!real_calloc) return boot_alloc(count * size);
    if (fails(__builtin_return_address(0))) return errno = ENOMEM, NULL;
    return real_calloc(count, size);
}

void free(void *p) {
    static void (*real_free)(void *);
    if (!p || ((char *)p >= boot && (char *)p < boot + sizeof boot)) return;
    if (!real_free) real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_free(p);
}

void *realloc(void *p, size_t n) {
    find_real();
    if (fails(__builtin_return_address(0))) return errno = ENOMEM, NULL;
    return real_realloc(p, n); // (no boot block is ever grown: dlsym only mallocs and callocs)
}

int posix_memalign(void **out, size_t align, size_t n) {
    find_real();
    if (fails(__builtin_return_address(0))) return ENOMEM;
    return real_posix_memalign(out, align, n);
}

void *aligned_alloc(size_t align, size_t n) {
    find_real();
    if (fails(__builtin_return_address(0))) return errno = ENOMEM, NULL;
    return real_aligned_alloc(align, n);
}

__attribute__((destructor)) static void write_count(void) {
    const char *path = getenv("CASCADE_ALLOC_COUNT");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (f) fprintf(f, "%ld\n", counted), fclose(f);
}
