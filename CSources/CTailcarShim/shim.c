// CTailcarShim: C helpers for Tailcar. A static Swift binary reads /proc/self/exe to find its runtime
// path and aborts before main when /proc is absent (an empty chroot); the constructor below sets
// SWIFT_ROOT first so the binary starts there too (see shared/docs/PLATFORM.md).
#include "CTailcarShim.h"

#include <errno.h>
#include <stdlib.h>
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
