/* alloccount.c: an LD_PRELOAD library for bench/run.py that counts heap calls of a dynamically linked
 * process. It counts malloc, calloc, realloc (a fresh block, i.e. from NULL, counts as an allocation;
 * a resize counts as a reallocation), posix_memalign, aligned_alloc, memalign and free, forwards every
 * call to glibc's __libc_* entry points (no dlsym, so nothing to bootstrap), and at exit writes one line
 *   allocations=N reallocations=N frees=N bytes=N
 * to the file named by $ALLOCCOUNT_OUT. It does not see a statically linked binary's calls, nor memory
 * taken with mmap(2) directly. Build: cc -O2 -shared -fPIC -o alloccount.so alloccount.c */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static unsigned long long allocations, reallocations, frees, bytes;

static void count(unsigned long long *counter, size_t size) {
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&bytes, size, __ATOMIC_RELAXED);
}

void *malloc(size_t size) {
    count(&allocations, size);
    return __libc_malloc(size);
}

void *calloc(size_t count_, size_t size) {
    count(&allocations, count_ * size);
    return __libc_calloc(count_, size);
}

void *realloc(void *old, size_t size) {
    count(old == NULL ? &allocations : &reallocations, size);
    return __libc_realloc(old, size);
}

void *memalign(size_t alignment, size_t size) {
    count(&allocations, size);
    return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    count(&allocations, size);
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    count(&allocations, size);
    void *block = __libc_memalign(alignment, size);
    if (block == NULL) return ENOMEM;
    *out = block;
    return 0;
}

void free(void *block) {
    if (block != NULL) __atomic_fetch_add(&frees, 1, __ATOMIC_RELAXED);
    __libc_free(block);
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("ALLOCCOUNT_OUT");
    if (path == NULL) return;
    char line[160];
    int length = snprintf(line, sizeof line, "allocations=%llu reallocations=%llu frees=%llu bytes=%llu\n",
                          __atomic_load_n(&allocations, __ATOMIC_RELAXED),
                          __atomic_load_n(&reallocations, __ATOMIC_RELAXED),
                          __atomic_load_n(&frees, __ATOMIC_RELAXED), __atomic_load_n(&bytes, __ATOMIC_RELAXED));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    ssize_t ignored = write(fd, line, (size_t)length);
    (void)ignored;
    close(fd);
}
