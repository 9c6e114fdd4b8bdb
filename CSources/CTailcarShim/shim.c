// CTailcarShim: C helpers for Tailcar. A static Swift binary reads /proc/self/exe to find its runtime
// path and aborts before main when /proc is absent (an empty chroot); the constructor below sets
// SWIFT_ROOT first so the binary starts there too (see shared/docs/PLATFORM.md).
#include "CTailcarShim.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor(101)))
static void ctailcar_set_swift_root(void) {
    if (access("/proc/self/exe", F_OK) != 0) {
        setenv("SWIFT_ROOT", "/", 0);
    }
}

int ctailcar_errno(void) { return errno; }

void ctailcar_clear_errno(void) { errno = 0; }
