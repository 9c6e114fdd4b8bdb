// SLSFlusher+Delivery.swift
//
// Sending sealed batches and deciding what an answer means, per the policy in README ("Delivery"):
//
//   200                                   → delivered: slices done, failures reset
//   network error, timeout, garbage, 5xx,
//   429, quota and busy codes             → back to the front of the queue; retry after 0.2 s·2^n (≤ 30 s)
//   Unauthorized, signature, missing
//   project or logstore, no credentials   → logged with code and request id; retry after ≥ 10 s (≤ 60 s)
//   PostBodyTooLarge                       → split in two and both halves sent
//   other invalid-body codes              → dropped, counted and logged: SLS will never take it as sent
//
// After a failure one request at a time probes the endpoint; the first success restores concurrency.
// The request is signed afresh for every attempt (the Date header must be current).

import Glibc

extension SLSFlusher {
    /// Sends queued batches while the concurrency limit and the back-off allow; arms the retry timer.
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
        let limit = consecutiveFailures > 0 ? 1 : policy.maxConcurrentRequests
        let wasSaturated = isSaturated
        while inFlight < limit, let batch = ready.popSealed() {
            send(batch)
        }
        if wasSaturated && !isSaturated { delegate?.flusherCanTakeMore(self) }
    }

    private func send(_ batch: SealedBatch) {
        let signing: Credentials
        do {
            signing = try credentials.current()
            lastCredentialProblem = nil
        } catch {
            if lastCredentialProblem != error.description {
                lastCredentialProblem = error.description
                diagnostics.record(.sendFailed(flusher: name, reason: error.description, attempt: batch.failures + 1,
                                               retryInMilliseconds: policy.operatorRetryMilliseconds))
            }
            retry(batch, operatorError: true, report: nil)
            return
        }
        guard var body = batch.body else { return }
        let request = PutLogsRequest(project: settings.project, endpoint: endpoint.authority,
                                     logstore: settings.logstore, credentials: signing, bodyCount: body.bodyCount,
                                     contentMD5: body.contentMD5, rawSize: body.rawSize,
                                     compression: body.compression, epochSeconds: time(nil))
        headWriter.write(method: request.method, target: request.path, headers: request.headers,
                         body: UnsafeRawBufferPointer(start: nil, count: 0))
        // A retry rewrites the head in place, unless an earlier write of the block is still queued on a
        // socket (a server that answered before reading the whole body): then it goes out from a copy.
        batch.body = nil
        if !isKnownUniquelyReferenced(&body.block) { body.block = SealedBody.block(copying: body.bytes) }
        batch.body = body
        let outgoing = body.request(head: headWriter.bytes)
        inFlight += 1
        let started = clock()
        let serverName = endpoint.hostIsIPLiteral ? endpoint.host : projectHost
        client.send(outgoing, to: endpoint, serverName: serverName) { [weak self] result in
            self?.completed(batch, result, started: started)
        }
    }

    private func completed(_ batch: SealedBatch, _ result: Result<HTTPResponse, HTTPClientError>, started: UInt64) {
        inFlight -= 1
        guard !isClosed else { return }
        let latency = clock() &- started
        switch result {
        case .failure(let error):
            retry(batch, operatorError: false, report: error.description)
        case .success(let response):
            guard let failure = SLSResponse.error(from: response) else {
                delivered(batch, latency: latency)
                break
            }
            switch failure.disposition {
            case .delivered: delivered(batch, latency: latency)
            case .retry: retry(batch, operatorError: false, report: failure.description)
            case .needsOperator: retry(batch, operatorError: true, report: failure.description)
            case .dataRejected: rejected(batch, failure)
            }
        }
        sendReady()
    }

    private func delivered(_ batch: SealedBatch, latency: UInt64) {
        if consecutiveFailures > 0 {
            diagnostics.record(.sendRecovered(flusher: name, failures: consecutiveFailures))
        }
        consecutiveFailures = 0
        diagnostics.countSent(logs: batch.logs, rawBytes: batch.body?.rawSize ?? 0, bodyBytes: batch.body?.bodyCount ?? 0,
                              latencyMilliseconds: latency)
        release(batch)
        finish(batch.slices)
    }

    /// Puts `batch` back at the front and backs off; `report` is logged when given.
    private func retry(_ batch: SealedBatch, operatorError: Bool, report: String?) {
        batch.failures += 1
        consecutiveFailures += 1
        let wait = policy.backoff(failures: consecutiveFailures, operatorError: operatorError, random: random.next())
        backoffUntil = clock() + wait
        if let report {
            diagnostics.record(.sendFailed(flusher: name, reason: report, attempt: batch.failures,
                                           retryInMilliseconds: wait))
        }
        enqueue(batch, atFront: true)
    }

    private func rejected(_ batch: SealedBatch, _ failure: SLSError) {
        var reason = failure.description
        if failure.code == "PostBodyTooLarge", let (first, second) = batch.halves() {
            let firstLogs = first.reduce(0) { $0 + $1.records.count }
            switch splitBody(of: batch, firstLogs: firstLogs) {
            case .success(let logGroups):
                // A group cut across the two halves now has one slice more.
                if let shared = first.last, let next = second.first, shared.group === next.group {
                    addSlices(1, for: shared.group)
                }
                release(batch)
                let firstHalf = SealedBatch(slices: first, meta: batch.meta, logs: firstLogs)
                let secondHalf = SealedBatch(slices: second, meta: batch.meta, logs: batch.logs - firstLogs)
                enqueue(secondHalf, atFront: true)
                enqueue(firstHalf, atFront: true)
                startSealing(firstHalf, from: .encoded(logGroups.first))
                startSealing(secondHalf, from: .encoded(logGroups.second))
                diagnostics.record(.sendFailed(flusher: name, reason: reason + "; split in two",
                                               attempt: batch.failures + 1, retryInMilliseconds: 0))
                return
            case .failure(let problem):
                reason += "; could not split the batch: \(problem)"
            }
        }
        diagnostics.record(.sendRejected(flusher: name, reason: reason, records: batch.logs))
        release(batch)
        finish(batch.slices)
    }

    /// The batch's LogGroup, decoded from the body that was sent, cut after `firstLogs` logs.
    private func splitBody(of batch: SealedBatch, firstLogs: Int) -> Result<(first: [UInt8], second: [UInt8]), SplitProblem> {
        guard let body = batch.body else { return .failure(.noBody) }
        let logGroup: [UInt8]
        do {
            logGroup = try decompressor.decompress(body.bytes, algorithm: body.compression, rawSize: body.rawSize)
        } catch {
            return .failure(.decode(error))
        }
        return logGroup.withUnsafeBytes { bytes in
            do throws(LogGroupSplitError) {
                return .success(try LogGroupSplitter.split(bytes, firstLogs: firstLogs, totalLogs: batch.logs))
            } catch {
                return .failure(.split(error))
            }
        }
    }
}

/// Why a batch SLS found too large could not be cut in two (never expected: the body is Tailcar's own).
enum SplitProblem: Error, CustomStringConvertible {
    case noBody
    case decode(CompressionError)
    case split(LogGroupSplitError)

    var description: String {
        switch self {
        case .noBody: return "the batch holds no body"
        case .decode(let error): return "decoding the body: \(error)"
        case .split(let error): return error.description
        }
    }
}
