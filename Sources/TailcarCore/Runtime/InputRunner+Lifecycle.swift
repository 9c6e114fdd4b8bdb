// InputRunner+Lifecycle.swift
//
// Keeps every tailer of an input true to the filesystem, once per poll tick and after inotify events:
//
//   path gone, file still linked      -> draining(rotated): read to its end, then finish
//   path gone, file unlinked          -> draining(deleted): read to its end, then finish, forget checkpoint
//   path names another inode          -> draining(rotated); discovery opens the new file from byte 0
//   size below the read offset        -> copytruncate: the unread rest drained from the copy (if any),
//                                        restart at 0 under a new key, counted
//   at end, untouched idleCloseAfter  -> released (descriptor closed); reopened by identity on growth
//   incomplete line older than timeout-> sent as it is
//
// Owns those transitions; reading belongs to PipelineRunner.

import Glibc

extension InputRunner {
    /// Checks every tailer. `stopping` drains instead of waiting for grace periods.
    func checkTailers(_ context: AgentContext, stopping: Bool) {
        for tailer in tailers {
            switch tailer.state {
            case .reading(let fd): checkReading(tailer, fd: fd, context)
            case .draining(let fd, let reason): checkDraining(tailer, fd: fd, reason: reason, context, stopping: stopping)
            case .released: checkReleased(tailer, context)
            case .finished(let deleted): checkFinished(tailer, deleted: deleted, context)
            }
            flushStaleRemainder(tailer, context, stopping: stopping)
        }
    }

    private func checkReading(_ tailer: FileTailer, fd: Int32, _ context: AgentContext) {
        var open = stat()
        guard fstat(fd, &open) == 0 else { return }
        let pathStatus = try? FileStatus.of(path: tailer.path)
        if pathStatus?.identity != tailer.identity {
            let deleted = open.st_nlink == 0
            if byPath[tailer.path] === tailer { byPath[tailer.path] = nil }
            tailer.state = .draining(fd: fd, reason: deleted ? .deleted : .rotated)
            tailer.mayHaveData = true
            context.diagnostics.record(deleted ? .fileDeleted(path: tailer.path, offset: tailer.readOffset)
                                               : .fileRotated(path: tailer.path, offset: tailer.readOffset))
            return
        }
        let size = UInt64(open.st_size)
        if size < tailer.readOffset {
            context.diagnostics.record(.fileTruncated(path: tailer.path, size: size, offset: tailer.readOffset))
            restartAfterTruncation(tailer, fd: fd, context)
            return
        }
        tailer.lastSeenSize = size
        if size > tailer.readOffset {
            // Truncated and refilled past the old offset before this check: the first bytes changed. Also when
            // nothing was read yet: the fingerprint taken at open names content only a copy may still hold.
            _ = restartIfRewritten(tailer, fd: fd, context)
            tailer.mayHaveData = true
            return
        }
        // The same size, but written since the last check: truncated and refilled to exactly the old offset.
        let modified = Int64(open.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(open.st_mtim.tv_nsec)
        if modified != tailer.lastSeenModified {
            tailer.lastSeenModified = modified
            if restartIfRewritten(tailer, fd: fd, context) {
                tailer.mayHaveData = true
                return
            }
        }
        let idleFor = context.now &- tailer.lastGrowth
        if tailer.atEnd, !tailer.hasBufferedInput, idleFor >= context.options.idleCloseAfter.milliseconds {
            tailer.closeDescriptor(then: .released)
            context.diagnostics.record(.fileReleased(path: tailer.path, offset: tailer.readOffset))
        }
    }

    /// Just before reading new bytes: a file that shrank below the read offset, or that grew but no longer
    /// starts with the bytes it was fingerprinted by, was truncated in place (copytruncate) and refilled.
    /// Reading restarts at 0 under a new key, so no byte of the new content is skipped.
    func verifyBeforeRead(_ tailer: FileTailer, _ context: AgentContext) {
        guard let fd = tailer.descriptor, tailer.readOffset > 0 || tailer.fingerprint.length > 0,
              let status = try? FileStatus.of(fd: fd, path: tailer.path) else { return }
        if status.size < tailer.readOffset {
            context.diagnostics.record(.fileTruncated(path: tailer.path, size: status.size, offset: tailer.readOffset))
            restartAfterTruncation(tailer, fd: fd, context)
        } else if status.size == tailer.readOffset || !restartIfRewritten(tailer, fd: fd, context) {
            tailer.lastSeenSize = status.size
        }
    }

    private func checkDraining(_ tailer: FileTailer, fd: Int32, reason: FileTailer.DrainReason,
                               _ context: AgentContext, stopping: Bool) {
        var open = stat()
        if fstat(fd, &open) == 0, UInt64(open.st_size) > tailer.readOffset {
            tailer.mayHaveData = true
            return
        }
        let quietFor = context.now &- tailer.lastGrowth
        guard tailer.atEnd, stopping || quietFor >= context.options.rotatedGrace.milliseconds else { return }
        pipeline.flushRemainder(tailer)
        tailer.closeDescriptor(then: .finished(deleted: reason == .deleted))
        context.diagnostics.record(.fileFinished(path: tailer.path, offset: tailer.readOffset))
    }

    private func checkReleased(_ tailer: FileTailer, _ context: AgentContext) {
        if let status = try? FileStatus.of(path: tailer.path), status.identity == tailer.identity {
            if status.size != tailer.readOffset { reopen(tailer, at: tailer.path, rotated: false, context) }
            return
        }
        // Renamed away while released: look for the same inode beside it and drain what it gained. A file
        // never seen with content has no first bytes to confirm it by, and its inode may be another file's now.
        if tailer.fingerprint.length > 0, let moved = findSibling(with: tailer.identity, near: tailer.path) {
            if let status = try? FileStatus.of(path: moved), status.size > tailer.readOffset {
                reopen(tailer, at: moved, rotated: true, context)
            } else {
                if byPath[tailer.path] === tailer { byPath[tailer.path] = nil }
                tailer.state = .finished(deleted: false)
            }
            return
        }
        if byPath[tailer.path] === tailer { byPath[tailer.path] = nil }
        tailer.state = .finished(deleted: true)
        context.diagnostics.record(.fileDeleted(path: tailer.path, offset: tailer.readOffset))
    }

    private func checkFinished(_ tailer: FileTailer, deleted: Bool, _ context: AgentContext) {
        guard !tailer.hasUnacknowledged else { return }
        if !deleted { context.checkpoints.retain(tailer.checkpointEntry(pipeline: pipeline.settings.name)) }
        remove(tailer)
    }

    /// Sends a carried incomplete line once the file has not grown for the flush timeout.
    private func flushStaleRemainder(_ tailer: FileTailer, _ context: AgentContext, stopping: Bool) {
        guard tailer.hasBufferedInput, tailer.atEnd, tailer.descriptor != nil else { return }
        let quietFor = context.now &- tailer.lastGrowth
        if stopping || quietFor >= settings.incompleteLineTimeout.milliseconds {
            pipeline.flushRemainder(tailer)
        }
    }

    private func reopen(_ tailer: FileTailer, at path: String, rotated: Bool, _ context: AgentContext) {
        guard let fd = try? systemCall("open", path: path, { Glibc.open(path, O_RDONLY | O_CLOEXEC) }) else { return }
        let status = try? FileStatus.of(fd: fd, path: path)
        let sameStart = (try? tailer.fingerprint.matches(fd: fd, path: path)) ?? false
        guard status?.identity == tailer.identity, sameStart else {
            Glibc.close(fd)
            if byPath[tailer.path] === tailer { byPath[tailer.path] = nil }
            tailer.state = .finished(deleted: false)
            context.diagnostics.record(.fileRewritten(path: path))
            return
        }
        tailer.path = path
        tailer.state = rotated ? .draining(fd: fd, reason: .rotated) : .reading(fd: fd)
        tailer.mayHaveData = true
        tailer.lastGrowth = context.now
        context.diagnostics.record(.fileReopened(path: path, offset: tailer.readOffset))
    }

    /// A file in the same directory as `path` with this identity (where rotation renamed it).
    private func findSibling(with identity: FileIdentity, near path: String) -> String? {
        parentDirectory(path).flatMap { findSibling(with: identity, in: $0) }
    }

    /// A file in `directory` with this identity.
    func findSibling(with identity: FileIdentity, in directory: String) -> String? {
        let entries = (try? directoryEntries(directory)) ?? []
        for entry in entries {
            let candidate = joinPath(directory, entry.name)
            if let status = try? FileStatus.of(path: candidate), status.identity == identity { return candidate }
        }
        return nil
    }

    func parentDirectory(_ path: String) -> String? {
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
