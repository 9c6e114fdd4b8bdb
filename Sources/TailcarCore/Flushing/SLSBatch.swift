// SLSBatch.swift
//
// The units of SLS delivery: a batch being filled for one (topic, source, tags) combination, and a sealed
// batch whose LogGroup is (being) encoded and compressed, to be signed and sent (again, after a failure).
// Owns batch limits and bookkeeping; does not own sending (SLSFlusher+Delivery.swift).

/// Batch shape and retry timing of one `flusher_sls`.
public struct SLSDeliveryPolicy: Sendable {
    /// A batch is sealed at this many logs (iLogtail: 4,000; SLS accepts up to 4,096 per request).
    public var maxLogs = 4000
    /// ...or at this many bytes of encoded, uncompressed LogGroup (iLogtail: 512 KiB).
    public var maxBytes = 512 << 10
    /// ...or this long after its first record arrived.
    public var flushIntervalMilliseconds: UInt64 = 1000
    /// Requests in flight at once while deliveries succeed; one at a time after a failure.
    public var maxConcurrentRequests = 4
    /// Back-off after network errors, 5xx, 429 and busy codes: base·2^(n−1), capped, with jitter.
    public var retryBaseMilliseconds: UInt64 = 200
    public var retryCapMilliseconds: UInt64 = 30_000
    /// Errors a person must fix (credentials, missing project) retry no faster than this, up to the cap.
    public var operatorRetryMilliseconds: UInt64 = 10_000
    public var operatorRetryCapMilliseconds: UInt64 = 60_000

    public init() {}

    /// The wait before attempt `failures + 1`, jittered to between half and all of the exponential step.
    func backoff(failures: Int, operatorError: Bool, random: UInt64) -> UInt64 {
        let base = operatorError ? operatorRetryMilliseconds : retryBaseMilliseconds
        let cap = operatorError ? operatorRetryCapMilliseconds : retryCapMilliseconds
        let exponent = min(max(failures - 1, 0), 20)
        let step = min(cap, base << UInt64(exponent))
        let jitter = step / 2 == 0 ? 0 : random % (step / 2 + 1)
        return max(operatorError ? base : 1, step - jitter)
    }
}

/// What makes two groups share a LogGroup: the topic, the file (its `__path__` tag) and the tags.
struct BatchKey: Hashable {
    var topic: String
    var path: String
    var tags: [String]

    init(_ source: EventSource) {
        topic = source.topic
        path = source.path
        tags = source.tags.flatMap { [$0.key, $0.value] }
    }
}

/// A batch being filled.
struct OpenBatch {
    let meta: LogGroupMeta
    let openedAt: UInt64
    var slices: [RecordSlice] = []
    var logs = 0
    var bytes = 0

    init(meta: LogGroupMeta, openedAt: UInt64) {
        self.meta = meta
        self.openedAt = openedAt
    }
}

/// A batch handed over for sealing, and then its encoded, compressed body. Kept until SLS accepted it (or
/// rejected it for good).
final class SealedBatch {
    let slices: [RecordSlice]
    let meta: LogGroupMeta
    let logs: Int
    /// Nil until the sealer finished it; a batch is sent only once sealed.
    var body: SealedBody?
    /// Bytes the flusher counted for the body when it was sealed (and takes back when the batch leaves).
    var heldBytes = 0
    /// Failed attempts so far.
    var failures = 0

    init(slices: [RecordSlice], meta: LogGroupMeta, logs: Int) {
        self.slices = slices
        self.meta = meta
        self.logs = logs
    }

    var isSealed: Bool { body != nil }

    /// Halves by log count (for PostBodyTooLarge); nil for a batch of one log.
    func halves() -> ([RecordSlice], [RecordSlice])? {
        guard logs > 1 else { return nil }
        var first: [RecordSlice] = []
        var second: [RecordSlice] = []
        var remaining = logs / 2
        for slice in slices {
            if remaining >= slice.records.count {
                first.append(slice)
                remaining -= slice.records.count
            } else if remaining > 0 {
                let cut = slice.records.lowerBound + remaining
                first.append(RecordSlice(group: slice.group, records: slice.records.lowerBound..<cut))
                second.append(RecordSlice(group: slice.group, records: cut..<slice.records.upperBound))
                remaining = 0
            } else {
                second.append(slice)
            }
        }
        return (first, second)
    }
}

/// Batches waiting to be sent, in the order they were sealed (so a file's batches go out in order); a
/// failed one goes back to the front. The front leaves only once sealed, even when later ones are.
struct BatchQueue {
    private var queue = FIFOQueue<SealedBatch>()

    var isEmpty: Bool { queue.isEmpty }

    /// Batches queued (sealed or being sealed).
    var count: Int { queue.count }

    mutating func pushBack(_ batch: SealedBatch) { queue.pushBack(batch) }

    mutating func pushFront(_ batch: SealedBatch) { queue.pushFront(batch) }

    /// The front batch when it is sealed.
    mutating func popSealed() -> SealedBatch? {
        guard let front = queue.first, front.isSealed else { return nil }
        return queue.popFront()
    }
}
