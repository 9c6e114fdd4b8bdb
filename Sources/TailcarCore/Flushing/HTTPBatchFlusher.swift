// HTTPBatchFlusher.swift
//
// The delivery engine of flusher_otlp and flusher_clickhouse, with flusher_sls's rules: groups are cut into
// slices so no batch passes the policy's log or byte limit; a batch is sealed (encoded and compressed by
// its HTTPBatchFormat) when full, when its flush interval passed, or at stop; sealed batches are sent at
// most `maxConcurrentRequests` at a time (one after a failure) and retried as a whole with jittered
// exponential back-off (at least what Retry-After asks); a group is acknowledged to the pipeline once
// every slice of it was delivered (or rejected for good and counted), so checkpoints move only over
// delivered bytes. A format's setup requests (ClickHouse's CREATE ... IF NOT EXISTS) succeed before the
// first batch is sent. Owns batching and acknowledging; sending and retries are in
// HTTPBatchFlusher+Delivery.swift, the wire format and what answers mean in the formats (OTLPFormat.swift,
// ClickHouseFormat.swift).
//
//   submit ─▶ open batch ─full/interval/stop─▶ seal (format.encode) ─▶ ready ─▶ [setup] ─▶ send
//   answer: delivered ─▶ slices done ─▶ acknowledged │ retry ─▶ front of ready, back-off │ tooLarge ─▶ halves
//           rejected ─▶ counted, dropped, acknowledged

/// What an answer means for the batch it answers.
enum HTTPBatchVerdict: Equatable {
    /// Accepted; `rejected` records of it were refused for good by the sink (OTLP partial success).
    case delivered(rejected: Int, reason: String)
    /// Try again later; not before `afterMilliseconds` when the server said so (Retry-After).
    case retry(String, afterMilliseconds: UInt64?)
    /// A person must fix something (credentials, a missing table): retried slowly.
    case needsOperator(String)
    /// The body is too large: sent again as two halves.
    case tooLarge(String)
    /// The sink will never take this batch: its records are dropped and counted.
    case rejected(String)
}

/// One request that must succeed before batches are sent (it must be idempotent).
struct HTTPSetupRequest {
    var what: String
    var method: String
    var target: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]
}

/// One kind of HTTP batch flusher: its wire format and what its sink's answers mean.
protocol HTTPBatchFormat: AnyObject {
    /// Encodes and compresses `slices` (`observed[i]`: when `slices[i]`'s group was taken, ns since the epoch).
    func encode(_ slices: [RecordSlice], observed: [UInt64]) -> HTTPBatchBody
    /// The request for a batch body; Host, Content-Length and User-Agent are added.
    func request(body: HTTPBatchBody) -> (method: String, target: String, headers: [(name: String, value: String)])
    func verdict(_ response: HTTPResponse) -> HTTPBatchVerdict
    /// Requests sent, in order, before the first batch (and again after the sink said the table is missing).
    var setupRequests: [HTTPSetupRequest] { get }
    /// Whether a setup request's answer is a success.
    func setupSucceeded(_ response: HTTPResponse) -> Bool
}

extension HTTPBatchFormat {
    var setupRequests: [HTTPSetupRequest] { [] }
    func setupSucceeded(_ response: HTTPResponse) -> Bool { (200..<300).contains(response.status) }
}

/// An encoded, compressed batch, kept until the sink accepted it (or rejected it for good).
final class HTTPBatch {
    let slices: [RecordSlice]
    let observed: [UInt64]
    let logs: Int
    var body: HTTPBatchBody
    var failures = 0

    init(slices: [RecordSlice], observed: [UInt64], logs: Int, body: HTTPBatchBody) {
        self.slices = slices
        self.observed = observed
        self.logs = logs
        self.body = body
    }
}

final class HTTPBatchFlusher: Flusher {
    let name: String
    unowned var delegate: (any FlushDelegate)?

    let format: any HTTPBatchFormat
    let policy: SLSDeliveryPolicy
    let endpoint: HTTPEndpoint
    let client: HTTPClient
    let diagnostics: Diagnostics
    let clock: () -> UInt64
    let retryTimer: LoopTimer

    private var open: (slices: [RecordSlice], observed: [UInt64], logs: Int, bytes: Int, openedAt: UInt64)?
    var ready = FIFOQueue<HTTPBatch>()
    /// Bytes of the blocks of sealed batches waiting to be sent (bodies and their headroom).
    var readyBytes = 0
    var inFlight = 0
    var slicesLeft = SliceLedger()
    var consecutiveFailures = 0
    var backoffUntil: UInt64 = 0
    /// Setup requests not yet answered with success; batches wait until it is empty.
    var setupLeft: [HTTPSetupRequest]
    var isClosed = false
    var random = SystemRandomNumberGenerator()

    var pendingGroups: Int { slicesLeft.pendingGroups }
    var heldBytes: Int { readyBytes }

    /// Twice the request slots queued keeps the sink busy; past that a slow or failing sink would only fill
    /// memory with batches the files still hold, so reading waits (as for flusher_sls).
    var isSaturated: Bool { ready.count >= 2 * policy.maxConcurrentRequests }

    init(name: String, format: any HTTPBatchFormat, endpoint: HTTPEndpoint, policy: SLSDeliveryPolicy,
         client: HTTPClient, loop: EventLoop, diagnostics: Diagnostics,
         clock: @escaping () -> UInt64) throws(LoopError) {
        self.name = name
        self.format = format
        self.endpoint = endpoint
        self.policy = policy
        self.client = client
        self.diagnostics = diagnostics
        self.clock = clock
        setupLeft = format.setupRequests
        retryTimer = try LoopTimer(loop: loop)
        retryTimer.onFire = { [unowned self] in self.sendReady() }
    }

    // MARK: Batching

    func submit(_ group: EventGroup) {
        guard !group.isEmpty else {
            delegate?.flusher(self, acknowledged: group)
            return
        }
        let observed = wallClockNanoseconds()
        var batch = open ?? ([], [], 0, 0, clock())
        var sliceStart = 0
        var slices = 0
        for index in 0..<group.records.count {
            let size = recordSize(group.records[index], in: group)
            if batch.logs > 0, batch.logs + 1 > policy.maxLogs || batch.bytes + size > policy.maxBytes {
                if index > sliceStart {
                    batch.slices.append(RecordSlice(group: group, records: sliceStart..<index))
                    batch.observed.append(observed)
                    slices += 1
                }
                seal(batch.slices, observed: batch.observed, logs: batch.logs)
                batch = ([], [], 0, 0, clock())
                sliceStart = index
            }
            batch.logs += 1
            batch.bytes += size
        }
        batch.slices.append(RecordSlice(group: group, records: sliceStart..<group.records.count))
        batch.observed.append(observed)
        slices += 1
        slicesLeft.begin(group, slices: slices)
        if batch.logs >= policy.maxLogs || batch.bytes >= policy.maxBytes {
            seal(batch.slices, observed: batch.observed, logs: batch.logs)
            open = nil
        } else {
            open = batch
        }
        sendReady()
    }

    /// A record's share of a batch's byte limit: its field names and values, and a little framing.
    private func recordSize(_ record: EventRecord, in group: EventGroup) -> Int {
        var size = 24
        for fieldIndex in record.fields {
            let field = group.fields[fieldIndex]
            size += field.value.count + 8
            if case .arena(let key) = field.key { size += key.count } else { size += 8 }
        }
        return size
    }

    func flushPending() {
        if let batch = open, clock() &- batch.openedAt >= policy.flushIntervalMilliseconds {
            seal(batch.slices, observed: batch.observed, logs: batch.logs)
            open = nil
        }
        sendReady()
    }

    func flushAll() {
        if let batch = open { seal(batch.slices, observed: batch.observed, logs: batch.logs) }
        open = nil
        sendReady()
    }

    func close() {
        isClosed = true
        retryTimer.close()
    }

    private func seal(_ slices: [RecordSlice], observed: [UInt64], logs: Int) {
        guard logs > 0 else { return }
        enqueue(makeBatch(slices, observed: observed, logs: logs), atFront: false)
    }

    func makeBatch(_ slices: [RecordSlice], observed: [UInt64], logs: Int) -> HTTPBatch {
        HTTPBatch(slices: slices, observed: observed, logs: logs, body: format.encode(slices, observed: observed))
    }

    func enqueue(_ batch: HTTPBatch, atFront: Bool) {
        if atFront { ready.pushFront(batch) } else { ready.pushBack(batch) }
        readyBytes += batch.body.block.capacity
    }

    // MARK: Acknowledging

    /// A slice is done: the group is acknowledged with its last slice.
    func finish(_ slices: [RecordSlice]) {
        for group in slicesLeft.finish(slices) { delegate?.flusher(self, acknowledged: group) }
    }

    /// One slice of `group` became `extra + 1` (a batch split in two).
    func addSlices(_ extra: Int, for group: EventGroup) { slicesLeft.add(extra, for: group) }
}

