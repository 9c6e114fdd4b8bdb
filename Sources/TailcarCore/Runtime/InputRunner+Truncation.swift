// InputRunner+Truncation.swift
//
// A file truncated in place (logrotate's copytruncate, or truncated and refilled) restarts at byte 0, and
// what had not gone downstream yet is taken from the copy logrotate made (TruncationCopy.swift):
//
//   app.log: handed downstream up to 4,000, truncated        app.log.1: the copy, 4,100 bytes
//     -> a tailer drains app.log.1 from 4,000 to its end      -> app.log restarts at 0 under a new key
//
// Without a plain copy the gap is reported with what is known of its size and counted, never skipped
// silently. Owns that recovery; detecting the truncation belongs to InputRunner+Lifecycle.swift.

import Glibc

extension InputRunner {
    /// Drains the unread rest of `tailer`'s file from its copy, then restarts it at 0 under a new key.
    func restartAfterTruncation(_ tailer: FileTailer, fd: Int32, _ context: AgentContext) {
        drainCopy(of: tailer.path, identity: tailer.identity, fingerprint: tailer.fingerprint,
                  from: tailer.handedOffset, seenSize: max(tailer.lastSeenSize, tailer.readOffset), context)
        let fingerprint = (try? Fingerprint.read(fd: fd, path: tailer.path)) ?? tailer.fingerprint
        rekey(tailer, to: context.makeKey(), fingerprint: fingerprint)
    }

    /// The open file no longer starts with the bytes it was fingerprinted by: it was truncated in place and
    /// refilled. Reports it and restarts the tailer as after a truncation; false when the start is unchanged
    /// (or there is no fingerprint to tell).
    func restartIfRewritten(_ tailer: FileTailer, fd: Int32, _ context: AgentContext) -> Bool {
        guard tailer.fingerprint.length > 0, let same = try? tailer.fingerprint.matches(fd: fd, path: tailer.path),
              !same else { return false }
        context.diagnostics.record(.fileRewritten(path: tailer.path))
        restartAfterTruncation(tailer, fd: fd, context)
        return true
    }

    /// The file at `path` (`identity`, fingerprinted `fingerprint`) lost its content past `from`; `seenSize`
    /// is the largest size it was seen to have. Opens a draining tailer on its copy from `from`, or reports
    /// the gap.
    func drainCopy(of path: String, identity: FileIdentity, fingerprint: Fingerprint, from: UInt64,
                   seenSize: UInt64, _ context: AgentContext) {
        // Nothing was seen of the file's content: no copy can be told from an older one.
        guard fingerprint.length > 0 else { return }
        let remembered = recentlyTailed
            + context.checkpoints.unclaimed(pipeline: pipeline.settings.name).map { ($0.identity, $0.fingerprint) }
        let found = TruncationCopy.find(path: path, identity: identity, fingerprint: fingerprint, reaching: from,
                                        alsoIn: settings.rotationDirectories) { [byIdentity] candidate, fd, candidatePath in
            let tracked = byIdentity[candidate].map { [($0.identity, $0.fingerprint)] } ?? []
            // An empty fingerprint names no content: a reused inode with bytes is another file.
            return (remembered + tracked).contains { entry in
                entry.identity == candidate && entry.fingerprint.length > 0
                    && (try? entry.fingerprint.matches(fd: fd, path: candidatePath)) == true
            }
        }
        switch found {
        case let .copy(copyPath, fd, status):
            guard status.size > from else {
                Glibc.close(fd)
                rememberTailed(status.identity, fingerprint)
                return
            }
            let drain = FileTailer(key: context.makeKey(), path: copyPath, identity: status.identity,
                                   fingerprint: fingerprint, fd: fd, offset: from,
                                   maxLineBytes: settings.maxLineBytes, now: context.now)
            drain.state = .draining(fd: fd, reason: .rotated)
            add(drain, indexPath: false)
            context.diagnostics.record(.truncationRecovered(path: path, copy: copyPath, offset: from,
                                                            bytes: status.size - from))
        case let .compressed(copyPath, originalSize):
            let size = max(seenSize, originalSize ?? 0)
            context.diagnostics.record(.truncationGap(path: path, offset: from, bytes: size > from ? size - from : 0,
                                                      reason: "the only copy, \(copyPath), is compressed"))
        case .none:
            guard seenSize > from else { return }
            context.diagnostics.record(.truncationGap(path: path, offset: from, bytes: seenSize - from,
                                                      reason: "no copy starting with its first bytes was found beside it"))
        }
    }
}
