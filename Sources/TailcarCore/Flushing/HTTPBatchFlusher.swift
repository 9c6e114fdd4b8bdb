// HTTPBatchFlusher.swift
//
// The delivery engine of flusher_otlp and flusher_clickhouse, with flusher_sls's rules: groups are cut into
// slices so no batch passes the policy's log or byte limit; a batch is sealed (encoded and compressed by
// its HTTPBatchFormat) when full, when its flush interval passed, or at stop; sealed batches are sent at
// most `maxConcurrentRequests` at a time (one after a failure) and retried as a whole with jittered
// exponential back-off (at least what Retry-After asks); a group is acknowledged to the pipeline once
// every slice of it was delivered (or rejected for good and counted), so checkpoints move only over
// delivered bytes. A format's setup requests (ClickHouse's CREATE ... IF NOT EXISTS) succeed before the
// first batch is sent. Owns batching, sending and retries; the wire format and what answers mean are the
// format's (OTLPFormat.swift, ClickHouseFormat.swift).
//
//   submit ─▶ open batch ─full/interval/stop─▶ seal (format.encode) ─▶ ready ─▶ [setup] ─▶ send
//   answer: delivered ─▶ slices done ─▶ acknowledged │ retry ─▶ front of ready, back-off │ tooLarge ─▶ halves
//           rejected ─▶ counted, dropped, acknowledged

import Glibc

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
    func encode(_ slices: [RecordSlice], observed: [UInt64]) -> (body: [UInt8], rawSize: Int)
    /// The request for a batch body; Host, Content-Length and User-Agent are added.
    func request(body: [UInt8]) -> (method: String, target: String, headers: [(name: String, value: String)])
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
    let rawSize: Int
    let body: [UInt8]
    var failures = 0

    init(slices: [RecordSlice], observed: [UInt64], logs: Int, rawSize: Int, body: [UInt8]) {
        self.slices = slices
        self.observed = observed
        self.logs = logs
        self.rawSize = rawSize
        self.body = body
    }
}

final class HTTPBatchFlusher: Flusher {
    let name: String
    unowned var delegate: (any FlushDelegate)?

    private let format: any HTTPBatchFormat
    private let policy: SLSDeliveryPolicy
    private let endpoint: HTTPEndpoint
    private let client: HTTPClient
    private let diagnostics: Diagnostics
    private let clock: () -> UInt64
    private let retryTimer: LoopTimer

    private var open: (slices: [RecordSlice], observed: [UInt64], logs: Int, bytes: Int, openedAt: UInt64)?
    private var ready = FIFOQueue<HTTPBatch>()
    private var readyBytes = 0
    private var inFlight = 0
    private var slicesLeft: [ObjectIdentifier: (group: EventGroup, count: Int)] = [:]
    private var consecutiveFailures = 0
    private var backoffUntil: UInt64 = 0
    /// Setup requests not yet answered with success; batches wait until it is empty.
    private var setupLeft: [HTTPSetupRequest]
    private var isClosed = false
    private var random = SystemRandomNumberGenerator()

    var pendingGroups: Int { slicesLeft.count }
    var heldBytes: Int { readyBytes }

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
        slicesLeft[ObjectIdentifier(group)] = (group, slices)
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

    private func makeBatch(_ slices: [RecordSlice], observed: [UInt64], logs: Int) -> HTTPBatch {
        let encoded = format.encode(slices, observed: observed)
        return HTTPBatch(slices: slices, observed: observed, logs: logs, rawSize: encoded.rawSize, body: encoded.body)
    }

    private func enqueue(_ batch: HTTPBatch, atFront: Bool) {
        if atFront { ready.pushFront(batch) } else { ready.pushBack(batch) }
        readyBytes += batch.body.count
    }

    // MARK: Sending

    private func sendReady() {
        guard !isClosed else { return }
        let now = clock()
        if now < backoffUntil {
            if !ready.isEmpty {
                retryTimer.stop()
                retryTimer.start(afterMilliseconds: backoffUntil - now)
            }
            return
        }
        if let setup = setupLeft.first {
            if inFlight == 0 && !ready.isEmpty { sendSetup(setup) }
            return
        }
        let limit = consecutiveFailures > 0 ? 1 : policy.maxConcurrentRequests
        while inFlight < limit, let batch = ready.popFront() {
            readyBytes -= batch.body.count
            send(batch)
        }
    }

    private func requestBytes(method: String, target: String, headers: [(name: String, value: String)],
                              body: [UInt8]) -> [UInt8] {
        var all: [(name: String, value: String)] = [("Host", endpoint.authority), ("User-Agent", "tailcar"),
                                                     ("Content-Length", String(body.count))]
        all += headers
        var writer = HTTPRequestWriter(initialCapacity: body.count + 512)
        body.withUnsafeBytes { writer.write(method: method, target: target, headers: all, body: $0) }
        return writer.bytes
    }

    private func sendSetup(_ setup: HTTPSetupRequest) {
        let bytes = requestBytes(method: setup.method, target: setup.target, headers: setup.headers, body: setup.body)
        inFlight += 1
        client.send(bytes, to: endpoint, serverName: endpoint.host) { [weak self] result in
            guard let self else { return }
            self.inFlight -= 1
            guard !self.isClosed else { return }
            switch result {
            case .success(let response) where self.format.setupSucceeded(response):
                self.setupLeft.removeFirst()
                self.diagnostics.record(.configNote("\(self.name): \(setup.what): done"))
                if self.consecutiveFailures > 0 { self.recovered() }
            case .success(let response):
                self.failed(attempt: 1, report: "\(setup.what): " + describe(response), operatorError: true, after: nil)
            case .failure(let error):
                self.failed(attempt: 1, report: "\(setup.what): \(error)", operatorError: false, after: nil)
            }
            self.sendReady()
        }
    }

    private func send(_ batch: HTTPBatch) {
        let head = format.request(body: batch.body)
        let bytes = requestBytes(method: head.method, target: head.target, headers: head.headers, body: batch.body)
        inFlight += 1
        let started = clock()
        client.send(bytes, to: endpoint, serverName: endpoint.host) { [weak self] result in
            self?.completed(batch, result, started: started)
        }
    }

    private func completed(_ batch: HTTPBatch, _ result: Result<HTTPResponse, HTTPClientError>, started: UInt64) {
        inFlight -= 1
        guard !isClosed else { return }
        switch result {
        case .failure(let error):
            retry(batch, report: error.description, operatorError: false, after: nil)
        case .success(let response):
            switch format.verdict(response) {
            case .delivered(let rejected, let reason):
                if consecutiveFailures > 0 { recovered() }
                diagnostics.countSent(logs: batch.logs - rejected, rawBytes: batch.rawSize, bodyBytes: batch.body.count,
                                      latencyMilliseconds: clock() &- started)
                if rejected > 0 {
                    diagnostics.record(.sendRejected(flusher: name, reason: "partial success: " + reason,
                                                     records: rejected))
                }
                finish(batch.slices)
            case .retry(let reason, let after):
                retry(batch, report: reason, operatorError: false, after: after)
            case .needsOperator(let reason):
                setupLeft = format.setupRequests
                retry(batch, report: reason, operatorError: true, after: nil)
            case .tooLarge(let reason):
                split(batch, reason: reason)
            case .rejected(let reason):
                diagnostics.record(.sendRejected(flusher: name, reason: reason, records: batch.logs))
                finish(batch.slices)
            }
        }
        sendReady()
    }

    private func recovered() {
        diagnostics.record(.sendRecovered(flusher: name, failures: consecutiveFailures))
        consecutiveFailures = 0
    }

    private func retry(_ batch: HTTPBatch, report: String, operatorError: Bool, after: UInt64?) {
        batch.failures += 1
        failed(attempt: batch.failures, report: report, operatorError: operatorError, after: after)
        enqueue(batch, atFront: true)
    }

    /// Backs off (at least `after`, at most five minutes) and logs `report`.
    private func failed(attempt: Int, report: String, operatorError: Bool, after: UInt64?) {
        consecutiveFailures += 1
        var wait = policy.backoff(failures: consecutiveFailures, operatorError: operatorError, random: random.next())
        if let after { wait = max(wait, min(after, 300_000)) }
        backoffUntil = clock() + wait
        diagnostics.record(.sendFailed(flusher: name, reason: report, attempt: attempt, retryInMilliseconds: wait))
    }

    /// Sends a too-large batch again as two halves; a batch of one record is rejected.
    private func split(_ batch: HTTPBatch, reason: String) {
        guard batch.logs > 1 else {
            diagnostics.record(.sendRejected(flusher: name, reason: reason, records: batch.logs))
            finish(batch.slices)
            return
        }
        var first: (slices: [RecordSlice], observed: [UInt64]) = ([], [])
        var second: (slices: [RecordSlice], observed: [UInt64]) = ([], [])
        var remaining = batch.logs / 2
        for (slice, observed) in zip(batch.slices, batch.observed) {
            if remaining >= slice.records.count {
                first.slices.append(slice)
                first.observed.append(observed)
                remaining -= slice.records.count
            } else if remaining > 0 {
                let cut = slice.records.lowerBound + remaining
                first.slices.append(RecordSlice(group: slice.group, records: slice.records.lowerBound..<cut))
                first.observed.append(observed)
                second.slices.append(RecordSlice(group: slice.group, records: cut..<slice.records.upperBound))
                second.observed.append(observed)
                addSlices(1, for: slice.group)
                remaining = 0
            } else {
                second.slices.append(slice)
                second.observed.append(observed)
            }
        }
        let firstLogs = first.slices.reduce(0) { $0 + $1.records.count }
        enqueue(makeBatch(second.slices, observed: second.observed, logs: batch.logs - firstLogs), atFront: true)
        enqueue(makeBatch(first.slices, observed: first.observed, logs: firstLogs), atFront: true)
        diagnostics.record(.sendFailed(flusher: name, reason: reason + "; split in two", attempt: batch.failures + 1,
                                       retryInMilliseconds: 0))
    }

    // MARK: Acknowledging

    /// A slice is done: the group is acknowledged with its last slice.
    private func finish(_ slices: [RecordSlice]) {
        for slice in slices {
            let id = ObjectIdentifier(slice.group)
            guard let entry = slicesLeft[id] else { continue }
            if entry.count > 1 {
                slicesLeft[id] = (entry.group, entry.count - 1)
            } else {
                slicesLeft[id] = nil
                delegate?.flusher(self, acknowledged: entry.group)
            }
        }
    }

    private func addSlices(_ extra: Int, for group: EventGroup) {
        let id = ObjectIdentifier(group)
        if let entry = slicesLeft[id] { slicesLeft[id] = (entry.group, entry.count + extra) }
    }
}

/// `HTTP 503 Service Unavailable: <the body's start, printable bytes only>` for messages. Bodies can echo
/// request data but never the request's headers, so no secret reaches a log through this.
func describe(_ response: HTTPResponse, message: String? = nil) -> String {
    var text = "HTTP \(response.status) \(response.reason)"
    let printable = response.body.prefix(300).map { (0x20..<0x7F).contains($0) ? $0 : 0x20 }
    let detail = message ?? String(String(decoding: printable, as: UTF8.self).trimmingWhitespace)
    if !detail.isEmpty { text += ": " + detail }
    return text
}

/// The wall clock in nanoseconds since the epoch (a LogRecord's observed time).
func wallClockNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}
