// HTTPBatchFlusher+Delivery.swift
//
// Sending HTTPBatchFlusher's sealed batches and acting on what its format makes of each answer: delivered
// (slices done; partial rejections counted), retried as a whole after back-off (at least Retry-After),
// retried slowly with the setup requests first (a person must act), split in two (too large), or dropped
// and counted. Setup requests go first, one at a time. After a failure one request at a time probes the
// endpoint; the first success restores concurrency.

import Glibc

extension HTTPBatchFlusher {
    func sendReady() {
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
        let wasSaturated = isSaturated
        while inFlight < limit, let batch = ready.popFront() {
            readyBytes -= batch.body.block.capacity
            send(batch)
        }
        if wasSaturated && !isSaturated { delegate?.flusherCanTakeMore(self) }
    }

    /// The request line and headers (Host, User-Agent and Content-Length first), without the body.
    private func requestHead(method: String, target: String, headers: [(name: String, value: String)],
                             contentLength: Int) -> [UInt8] {
        var all: [(name: String, value: String)] = [("Host", endpoint.authority), ("User-Agent", "tailcar"),
                                                     ("Content-Length", String(contentLength))]
        all += headers
        var writer = HTTPRequestWriter(initialCapacity: 1024)
        writer.write(method: method, target: target, headers: all, body: UnsafeRawBufferPointer(start: nil, count: 0))
        return writer.bytes
    }

    private func sendSetup(_ setup: HTTPSetupRequest) {
        let bytes = requestHead(method: setup.method, target: setup.target, headers: setup.headers,
                                contentLength: setup.body.count) + setup.body
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
        // A retry rewrites the head in place, unless an earlier write of the block is still queued on a
        // socket (a server that answered before reading the whole body): then it goes out from a copy.
        if !isKnownUniquelyReferenced(&batch.body.block) {
            batch.body = HTTPBatchBody(copying: batch.body.bytes, rawSize: batch.body.rawSize, isCompressed: batch.body.isCompressed)
        }
        let head = format.request(body: batch.body)
        let headBytes = requestHead(method: head.method, target: head.target, headers: head.headers,
                                    contentLength: batch.body.count)
        let outgoing = headBytes.withUnsafeBytes { batch.body.request(head: $0) }
        inFlight += 1
        let started = clock()
        client.send(outgoing, to: endpoint, serverName: endpoint.host) { [weak self] result in
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
                diagnostics.countSent(logs: batch.logs - rejected, rawBytes: batch.body.rawSize, bodyBytes: batch.body.count,
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
