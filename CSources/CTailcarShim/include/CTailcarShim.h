// CTailcarShim: the few C helpers Swift cannot express directly. Each declaration says why it exists.
#ifndef CTAILCAR_SHIM_H
#define CTAILCAR_SHIM_H

#include <stddef.h>
#include <stdint.h>

/// errno as a plain function: Glibc's errno is a thread-local macro that Swift cannot always reach.
int ctailcar_errno(void);

/// Clears errno before a call whose only failure report is errno (readdir).
void ctailcar_clear_errno(void);

/// The process arguments as the kernel passed them, saved by a constructor: Swift's CommandLine reads
/// /proc/self/cmdline, absent in an empty chroot.
int ctailcar_argc(void);
const char *ctailcar_argv(int index);

/// Bytes the allocator holds for a malloc'd block (malloc.h, which Swift's Glibc module leaves out): what
/// the in-flight cap counts for a request body.
size_t ctailcar_malloc_usable_size(void *block);

/// Gives freed heap memory back to the system (malloc_trim), after a burst drained. Returns 1 if any was.
int ctailcar_malloc_trim(void);

/// Fixes glibc's mmap threshold (mallopt M_MMAP_THRESHOLD), so blocks of at least `bytes` are mapped
/// on their own and unmapped when freed, instead of the threshold rising after the first free.
void ctailcar_set_mmap_threshold(int bytes);

/// Makes every thread allocate from glibc's main arena (mallopt M_ARENA_MAX 1): a worker's freed request
/// bodies then return to the one heap the loop allocates from and trims, instead of per-thread arenas
/// that each keep their own high-water mark.
void ctailcar_use_one_malloc_arena(void);

/// Bytes malloc has handed out and not had back, heap and mapped blocks together (mallinfo2): the
/// process's own view of what its allocations hold, for the metrics.
size_t ctailcar_heap_in_use(void);

/// Makes a libuv loop (`uv_loop_t *`) account the time it sits idle in its poll, for uv_metrics_idle_time:
/// uv_loop_configure is variadic, which Swift cannot call. Returns its status.
int ctailcar_loop_measure_idle_time(void *loop);

/// Names the calling thread (pthread_setname_np needs _GNU_SOURCE, which Swift's import does not set).
void ctailcar_name_thread(const char *name);

#endif
