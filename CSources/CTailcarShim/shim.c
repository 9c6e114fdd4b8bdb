// CTailcarShim: C helpers for Tailcar. A static Swift binary reads /proc/self/exe to find its runtime
// path and aborts before main when /proc is absent (an empty chroot); the constructor below sets
// SWIFT_ROOT first so the binary starts there too (see shared/docs/PLATFORM.md).
#define _GNU_SOURCE
#include "CTailcarShim.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <uv.h>
#include <unistd.h>

static int saved_argc;
static char **saved_argv;

// glibc passes argc, argv and envp to ELF constructors; keep them, because Swift's CommandLine reads
// /proc/self/cmdline, which an empty chroot does not have.
__attribute__((constructor(101)))
static void ctailcar_start(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
    if (access("/proc/self/exe", F_OK) != 0) {
        setenv("SWIFT_ROOT", "/", 0);
    }
}

int ctailcar_argc(void) { return saved_argc; }

const char *ctailcar_argv(int index) {
    return (index >= 0 && index < saved_argc) ? saved_argv[index] : 0;
}

int ctailcar_errno(void) { return errno; }

void ctailcar_clear_errno(void) { errno = 0; }

size_t ctailcar_malloc_usable_size(void *block) { return malloc_usable_size(block); }

int ctailcar_malloc_trim(void) { return malloc_trim(0); }

void ctailcar_set_mmap_threshold(int bytes) { mallopt(M_MMAP_THRESHOLD, bytes); }

void ctailcar_name_thread(const char *name) { pthread_setname_np(pthread_self(), name); }

void ctailcar_use_one_malloc_arena(void) { mallopt(M_ARENA_MAX, 1); }

size_t ctailcar_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

int ctailcar_loop_measure_idle_time(void *loop) { return uv_loop_configure(loop, UV_METRICS_IDLE_TIME); }
