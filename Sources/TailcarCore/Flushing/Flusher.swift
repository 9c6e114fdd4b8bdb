// Flusher.swift
//
// The contract between a pipeline and its outputs. A flusher takes EventGroups and reports each one back
// through its delegate once the group is durable at the destination; only then may the pipeline commit
// the file offsets the group carries. A flusher that keeps groups long after it has read them (to encode
// a batch, then wait for the destination) may also say when it no longer reads a group's records, so the
// pipeline can reuse their memory before the acknowledgement. Owns no batching policy of its own beyond
// what a flusher needs.

/// Told when a submitted group is delivered (or, for a failure that data can never recover from, given up).
public protocol FlushDelegate: AnyObject {
    func flusher(_ flusher: any Flusher, acknowledged group: EventGroup)
    /// The flusher will not read the group's records again (it encoded them); the acknowledgement comes
    /// later. Sent only by flushers whose `reportsFinishedReading` is true, always before the acknowledgement.
    func flusher(_ flusher: any Flusher, finishedReading group: EventGroup)
    /// The flusher was saturated (`isSaturated`) and is not any more.
    func flusherCanTakeMore(_ flusher: any Flusher)
}

extension FlushDelegate {
    public func flusher(_ flusher: any Flusher, finishedReading group: EventGroup) {}
    public func flusherCanTakeMore(_ flusher: any Flusher) {}
}

public protocol Flusher: AnyObject {
    /// The plugin name and destination, for messages (`flusher_file /tmp/out.jsonl`).
    var name: String { get }
    /// The pipeline that owns the flusher, and outlives it. Held `unowned`, not `weak`: a weak
    /// reference would move the pipeline's reference count to a side table and slow every retain of it
    /// on the per-line path.
    var delegate: (any FlushDelegate)? { get set }
    /// Takes a group. May acknowledge it before returning.
    func submit(_ group: EventGroup)
    /// Sends what is due: batches past their flush interval, retries past their back-off (every tick).
    func flushPending()
    /// Sends everything buffered now, unfilled batches included (stop, and a pipeline at its cap).
    func flushAll()
    /// Groups submitted and not yet acknowledged.
    var pendingGroups: Int { get }
    /// Bytes held besides the groups themselves (encoded bodies waiting to be sent), for the in-flight cap.
    var heldBytes: Int { get }
    /// Whether the flusher tells its delegate `finishedReading` (for every group that
    /// `releasesStorageEarly`); for the others the acknowledgement says it.
    var reportsFinishedReading: Bool { get }
    /// Enough is queued to keep the destination busy: reading more now would only hold memory (the files
    /// are the buffer). The delegate hears `flusherCanTakeMore` when this turns false.
    var isSaturated: Bool { get }
    /// Releases descriptors and connections. Unacknowledged groups stay unacknowledged.
    func close()
}

extension Flusher {
    /// Flushers that do not batch have nothing beyond `flushPending` to send.
    public func flushAll() { flushPending() }

    /// Flushers that write groups out directly hold nothing besides them.
    public var heldBytes: Int { 0 }

    /// Flushers that read a group until they acknowledge it.
    public var reportsFinishedReading: Bool { false }

    /// Flushers without a queue of their own take what they are given.
    public var isSaturated: Bool { false }
}

/// Discards every group and acknowledges it at once: measures everything but the output.
public final class BlackholeFlusher: Flusher {
    public let name = "flusher_blackhole"
    public unowned var delegate: (any FlushDelegate)?
    public var pendingGroups: Int { 0 }

    public init() {}

    public func submit(_ group: EventGroup) { delegate?.flusher(self, acknowledged: group) }
    public func flushPending() {}
    public func close() {}
}
