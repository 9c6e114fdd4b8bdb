// CheckpointKeeper.swift
//
// Decides what the checkpoint file holds: the acknowledged offset of every live tailer, plus entries
// loaded at start that no tailer has claimed yet (a file that is idle or rotated away). Owns matching a
// newly opened file to its checkpoint by pipeline, identity and fingerprint, and the saving state: a
// checkpoint directory that is full, read-only or deleted makes saves fail while collection goes on; the
// first failure is logged, then one line a minute while it lasts, and the first save that works again
// catches up with everything acknowledged meanwhile (`checkpoint_recovered`). The file format and atomic
// write belong to CheckpointStore.

import Glibc

final class CheckpointKeeper {
    private let store: CheckpointStore
    private var unclaimed: [CheckpointEntry]
    private let diagnostics: Diagnostics
    /// Entries kept for files no tailer has; the oldest go first beyond this.
    private let maxUnclaimed = 10_000
    /// Whether the last save worked, and while it does not, since when the failure was last logged.
    private(set) var saving = SavingState.healthy
    /// While saves keep failing, one log line per this many milliseconds.
    static let failureLogSpacingMilliseconds: UInt64 = 60_000

    enum SavingState: Equatable {
        case healthy
        case failing(reason: String, failures: Int, loggedAt: UInt64)
    }

    init(store: CheckpointStore, diagnostics: Diagnostics) {
        self.store = store
        self.diagnostics = diagnostics
        do throws(CheckpointError) {
            unclaimed = try store.load()
            diagnostics.record(.checkpointLoaded(entries: unclaimed.count))
        } catch {
            unclaimed = []
            diagnostics.record(.checkpointFailed("\(error); starting without checkpoints"))
        }
    }

    /// What a checkpoint says of a file opened at start.
    enum Claim {
        /// The file still starts with the bytes the checkpoint fingerprinted: resume at its offset.
        case resume(CheckpointEntry)
        /// Same identity, other first bytes: truncated in place (copytruncate) and refilled since, or the
        /// inode was reused. The new content starts at 0; the old content's unread rest is in a copy, if any.
        case rewritten(CheckpointEntry)
        case none
    }

    /// The checkpoint of the open file `fd` for this pipeline and identity. A claimed entry leaves the
    /// unclaimed list.
    func claim(pipeline: String, identity: FileIdentity, fd: Int32, path: String) -> Claim {
        guard let index = unclaimed.firstIndex(where: { $0.pipeline == pipeline && $0.identity == identity })
        else { return .none }
        let entry = unclaimed.remove(at: index)
        let matches = (try? entry.fingerprint.matches(fd: fd, path: path)) ?? false
        return matches ? .resume(entry) : .rewritten(entry)
    }

    /// Entries of `pipeline` no tailer has claimed: files renamed away or idle when the agent stopped.
    func unclaimed(pipeline: String) -> [CheckpointEntry] {
        unclaimed.filter { $0.pipeline == pipeline }
    }

    /// Takes an unclaimed entry over for a tailer that reopened its file by identity.
    func take(_ entry: CheckpointEntry) {
        unclaimed.removeAll { $0.pipeline == entry.pipeline && $0.identity == entry.identity }
    }

    /// Keeps the entry of a tailer that stopped without its file being deleted (rotated away, idle at stop).
    func retain(_ entry: CheckpointEntry) {
        unclaimed.removeAll { $0.pipeline == entry.pipeline && $0.identity == entry.identity }
        unclaimed.append(entry)
        if unclaimed.count > maxUnclaimed { unclaimed.removeFirst(unclaimed.count - maxUnclaimed) }
    }

    /// Writes `live` plus the unclaimed entries at `now` (milliseconds, monotonic). Returns whether the write
    /// succeeded.
    @discardableResult
    func save(live: [CheckpointEntry], now: UInt64) -> Bool {
        do throws(CheckpointError) {
            try store.save(live + unclaimed)
            if case .failing(_, let failures, _) = saving { diagnostics.record(.checkpointRecovered(failures: failures)) }
            saving = .healthy
            return true
        } catch {
            noteFailure(error.description, now: now)
            return false
        }
    }

    private func noteFailure(_ reason: String, now: UInt64) {
        switch saving {
        case .healthy:
            diagnostics.record(.checkpointFailed(reason))
            saving = .failing(reason: reason, failures: 1, loggedAt: now)
        case let .failing(_, failures, loggedAt) where now &- loggedAt >= Self.failureLogSpacingMilliseconds:
            diagnostics.record(.checkpointFailed("\(reason) (\(failures + 1) saves failed in a row)"))
            saving = .failing(reason: reason, failures: failures + 1, loggedAt: now)
        case let .failing(_, failures, loggedAt):
            diagnostics.countCheckpointFailure()
            saving = .failing(reason: reason, failures: failures + 1, loggedAt: loggedAt)
        }
    }
}

extension FileTailer {
    func checkpointEntry(pipeline: String) -> CheckpointEntry {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return CheckpointEntry(pipeline: pipeline, identity: identity, fingerprint: fingerprint,
                               offset: ackedOffset, path: path, updatedSeconds: Int64(now.tv_sec))
    }
}
