// Agent+Tombstone.swift
//
// The Logtail sidecar's convention for Jobs, on a directory both containers mount (`/tasksite`):
//
//   sidecar      started, first scan done   -> writes `cornerstone`
//   application  waits for `cornerstone`, runs, logs, then writes `tombstone` and exits
//   sidecar      sees `tombstone`           -> one last scan, reads every file to its end, waits for every
//                                              acknowledgement, writes checkpoints, exits 0
//
// The vendor does this with a shell loop around its agent (`touch /tasksite/cornerstone; until [ -f
// /tasksite/tombstone ]; do sleep 1; done; sleep 10; stop`); here the wait is exact instead of a guess.
// Owns the two files; the phase transitions are in Agent+Stop.swift.

import Glibc

extension Agent {
    /// Creates the cornerstone (empty) once the first scan is done. A failure is reported, not fatal: the
    /// agent still collects, but an application waiting for the file would wait for ever, so it is an error.
    func writeCornerstone() {
        guard let path = context.options.cornerstonePath else { return }
        do throws(SystemError) {
            let fd = try systemCall("open", path: path) { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
            close(fd)
            report(.cornerstoneWritten(path: path))
        } catch {
            report(.cornerstoneFailed(error))
        }
    }

    /// Whether the tombstone exists (any kind of file; checked once per poll tick while running).
    func tombstoneAppeared() -> Bool {
        guard let path = context.options.tombstonePath else { return false }
        var status = stat()
        return stat(path, &status) == 0
    }

    /// Everything the application wrote is on disk: find files created since the last scan, reopen released
    /// ones that grew, and read them all to their end without waiting for quiet or grace periods. Called
    /// from the poll tick, which then goes on as a stopping tick.
    func beginTombstoneDrain() {
        guard case .running = phase else { return }
        report(.tombstoneFound(path: context.options.tombstonePath ?? ""))
        checkAll(stopping: false)
        discoverAll()
        for pipeline in pipelines {
            for input in pipeline.inputs {
                for tailer in input.tailers where tailer.descriptor != nil { tailer.mayHaveData = true }
            }
        }
        phase = .tombstoned
    }
}
