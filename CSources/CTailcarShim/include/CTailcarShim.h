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

#endif
