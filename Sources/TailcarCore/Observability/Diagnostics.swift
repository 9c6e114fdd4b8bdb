// Diagnostics.swift
//
// The observability funnel: `record(_:)` updates `AgentCounters` and writes one JSON object per line to
// standard error, e.g. {"time":1732668000.123,"level":"info","event":"file_opened","path":"/l/a.log",...}.
// Owns the log format; never sees secrets because events carry none.

import Glibc

public final class Diagnostics {
    public private(set) var counters = AgentCounters()
    private let output: Int32
    private let quiet: Bool
    private var line: [UInt8] = []

    /// `quiet` keeps counters but writes nothing (tests and `parse`).
    public init(output: Int32 = 2, quiet: Bool = false) {
        self.output = output
        self.quiet = quiet
        line.reserveCapacity(512)
    }

    public func countRead(bytes: Int, records: Int) {
        counters.bytesRead &+= UInt64(bytes)
        counters.recordsRead &+= UInt64(records)
    }

    public func countDropped(records: Int) { counters.recordsDropped &+= UInt64(records) }

    /// A checkpoint save failed again while already failing: counted, logged only now and then by the caller.
    public func countCheckpointFailure() {
        counters.checkpointFailures += 1
        counters.checkpointFailing = true
    }

    /// A batch was accepted (counted, not logged: one line per batch would drown the log).
    public func countSent(logs: Int, rawBytes: Int, bodyBytes: Int, latencyMilliseconds: UInt64) {
        counters.batchesSent &+= 1
        counters.logsSent &+= UInt64(logs)
        counters.rawBytesSent &+= UInt64(rawBytes)
        counters.bodyBytesSent &+= UInt64(bodyBytes)
        counters.sendLatencyMilliseconds &+= latencyMilliseconds
    }

    /// A batch was sealed: the CPU time its encoding, compression and hashing took.
    public func countSealed(cpuNanoseconds: SealingCPUTime) {
        counters.encodeCPUNanoseconds &+= cpuNanoseconds.encode
        counters.compressCPUNanoseconds &+= cpuNanoseconds.compress
        counters.hashCPUNanoseconds &+= cpuNanoseconds.hash
    }

    /// A console poll ended with the configs (counted, not logged: one line every 10 s would drown the log).
    public func countConsolePoll(requests: Int, epochSeconds: Int) {
        counters.consolePolls &+= 1
        counters.consoleRequests &+= UInt64(requests)
        counters.consoleLastSuccessSeconds = UInt64(max(0, epochSeconds))
    }

    public func record(_ event: AgentEvent) {
        count(event)
        guard !quiet else { return }
        let (level, name, fields) = describe(event)
        line.removeAll(keepingCapacity: true)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        append("{\"time\":\(now.tv_sec).\(pad3(Int(now.tv_nsec) / 1_000_000)),\"level\":\"\(level)\",\"event\":\"\(name)\"")
        for (key, value) in fields {
            append(",\"\(key)\":")
            switch value {
            case .text(let text): appendQuoted(text)
            case .number(let number): append(number)
            }
        }
        append("}\n")
        line.withUnsafeBytes { bytes in
            var done = 0
            while done < bytes.count {
                let n = write(output, bytes.baseAddress! + done, bytes.count - done)
                if n <= 0 { if n < 0 && currentErrno == EINTR { continue }; return }
                done += n
            }
        }
    }

    private func count(_ event: AgentEvent) {
        switch event {
        case .fileOpened: counters.filesOpened += 1
        case .fileRotated: counters.filesRotated += 1
        case .fileTruncated, .fileRewritten: counters.filesTruncated += 1
        case .fileDeleted: counters.filesDeleted += 1
        case .lineSplit: counters.linesSplit += 1
        case .incompleteLineFlushed: counters.incompleteLinesFlushed += 1
        case .readFailed: counters.readErrors += 1
        case .discoveryFailed, .watchUnavailable: counters.discoveryErrors += 1
        case .checkpointFailed:
            counters.checkpointFailures += 1
            counters.checkpointFailing = true
        case .checkpointRecovered: counters.checkpointFailing = false
        case .truncationGap(_, _, let bytes, _):
            counters.truncationGaps += 1
            counters.bytesLost &+= bytes
        case .flushFailed: counters.flushFailures += 1
        case .sendFailed: counters.sendFailures += 1
        case .consolePollFailed: counters.consolePollErrors &+= 1
        case .sendRejected(_, _, let records): counters.recordsRejected &+= UInt64(records)
        default: break
        }
    }

    private func append(_ text: String) { line.append(contentsOf: text.utf8) }

    private func appendQuoted(_ text: String) { RecordJSONWriter.appendString(text, to: &line) }

    private func pad3(_ value: Int) -> String {
        value < 10 ? "00\(value)" : value < 100 ? "0\(value)" : "\(value)"
    }
}

enum LogValue {
    case text(String)
    case number(String)
}

private func num<T: BinaryInteger>(_ value: T) -> LogValue { .number("\(value)") }

private func describe(_ event: AgentEvent) -> (String, String, [(String, LogValue)]) {
    switch event {
    case let .inFlightCap(bytes, source):
        return ("info", "in_flight_cap", [("bytes", num(bytes)), ("source", .text(source))])
    case let .agentStarted(pipelines, files, dirs):
        return ("info", "agent_started", [("pipelines", num(pipelines)), ("files", num(files)),
                                          ("watched_directories", num(dirs))])
    case let .agentStopping(reason, deadline):
        // No deadline (full drain mode): `"drain":"full"` instead of deadline_seconds.
        let bound: (String, LogValue) = deadline.map { ("deadline_seconds", num($0)) } ?? ("drain", .text("full"))
        return ("info", "agent_stopping", [("reason", .text(reason)), bound])
    case let .agentStopped(reason, unacknowledged):
        return ("info", "agent_stopped", [("reason", .text(reason)), ("unacknowledged_bytes", num(unacknowledged))])
    case let .fileOpened(path, offset, start):
        return ("info", "file_opened", [("path", .text(path)), ("offset", num(offset)), ("start", .text(start.rawValue))])
    case let .fileReopened(path, offset):
        return ("info", "file_reopened", [("path", .text(path)), ("offset", num(offset))])
    case let .fileReleased(path, offset):
        return ("info", "file_released", [("path", .text(path)), ("offset", num(offset))])
    case let .fileRotated(path, offset):
        return ("info", "file_rotated", [("path", .text(path)), ("offset", num(offset))])
    case let .fileTruncated(path, size, offset):
        return ("warn", "file_truncated", [("path", .text(path)), ("size", num(size)), ("offset", num(offset))])
    case let .fileRewritten(path):
        return ("warn", "file_rewritten", [("path", .text(path))])
    case let .fileDeleted(path, offset):
        return ("info", "file_deleted", [("path", .text(path)), ("offset", num(offset))])
    case let .fileFinished(path, offset):
        return ("info", "file_finished", [("path", .text(path)), ("offset", num(offset))])
    case let .lineSplit(path, offset, limit):
        return ("warn", "line_split", [("path", .text(path)), ("offset", num(offset)), ("limit", num(limit))])
    case let .incompleteLineFlushed(path, bytes):
        return ("info", "incomplete_line_flushed", [("path", .text(path)), ("bytes", num(bytes))])
    case let .readFailed(error):
        return ("error", "read_failed", [("error", .text(error.description))])
    case let .discoveryFailed(error):
        return ("error", "discovery_failed", [("error", .text(error.description))])
    case let .watchUnavailable(directory, reason):
        return ("warn", "watch_unavailable", [("directory", .text(directory)), ("reason", .text(reason)),
                                              ("fallback", .text("polling"))])
    case let .checkpointLoaded(entries):
        return ("info", "checkpoint_loaded", [("entries", num(entries))])
    case let .checkpointFailed(reason):
        return ("error", "checkpoint_failed", [("error", .text(reason))])
    case let .truncationRecovered(path, copy, offset, bytes):
        return ("info", "truncation_recovered", [("path", .text(path)), ("copy", .text(copy)), ("offset", num(offset)),
                                                ("bytes", num(bytes))])
    case let .truncationGap(path, offset, bytes, reason):
        return ("warn", "truncation_gap", [("path", .text(path)), ("offset", num(offset)), ("bytes_lost", num(bytes)),
                                           ("reason", .text(reason))])
    case let .checkpointRecovered(failures):
        return ("info", "checkpoint_recovered", [("failed_saves", num(failures))])
    case let .flushFailed(flusher, reason):
        return ("error", "flush_failed", [("flusher", .text(flusher)), ("error", .text(reason))])
    case let .sendFailed(flusher, reason, attempt, wait):
        return ("warn", "send_failed", [("flusher", .text(flusher)), ("error", .text(reason)), ("attempt", num(attempt)),
                                        ("retry_in_ms", num(wait))])
    case let .sendRecovered(flusher, failures):
        return ("info", "send_recovered", [("flusher", .text(flusher)), ("failed_attempts", num(failures))])
    case let .sendRejected(flusher, reason, records):
        return ("error", "send_rejected", [("flusher", .text(flusher)), ("error", .text(reason)),
                                           ("records_dropped", num(records))])
    case let .configWarning(message):
        return ("warn", "config_warning", [("message", .text(message))])
    case let .configNote(message):
        return ("info", "config_note", [("message", .text(message))])
    case let .configReloaded(added, changed, removed):
        return ("info", "config_reloaded", [("added", .text(added.joined(separator: ","))),
                                            ("changed", .text(changed.joined(separator: ","))),
                                            ("removed", .text(removed.joined(separator: ",")))])
    case let .configReloadFailed(reason):
        return ("error", "config_reload_failed", [("error", .text(reason))])
    case let .bootstrapStep(resource, outcome, failed):
        return (failed ? "warn" : "info", "bootstrap", [("resource", .text(resource)), ("outcome", .text(outcome))])
    case let .consoleDiscovered(projects, groups, matched):
        return ("info", "sls_groups_discovered", [("projects", num(projects)), ("groups", num(groups)),
                                                  ("matched", .text(matched.joined(separator: ",")))])
    case let .consoleNoGroup(ids, projects, groups):
        return ("warn", "sls_no_group", [("ids", .text(ids)), ("projects", num(projects)), ("groups", num(groups))])
    case let .consoleConfigsChanged(configs, requests):
        return ("info", "sls_configs", [("configs", .text(configs.joined(separator: ","))), ("requests", num(requests))])
    case let .consolePollFailed(reason, code, wait):
        return ("warn", "sls_poll_failed", [("error", .text(reason)), ("code", .text(code)), ("retry_in_ms", num(wait))])
    case let .consolePollRecovered(failures):
        return ("info", "sls_poll_recovered", [("failed_rounds", num(failures))])
    case let .consoleCacheLoaded(path, configs):
        return ("info", "sls_cache_loaded", [("path", .text(path)), ("configs", num(configs))])
    case let .consoleCacheFailed(path, reason):
        return ("warn", "sls_cache_failed", [("path", .text(path)), ("error", .text(reason))])
    case let .healthEndpointUnavailable(address, reason):
        return ("warn", "health_endpoint_unavailable", [("address", .text(address)), ("reason", .text(reason))])
    case let .cornerstoneWritten(path):
        return ("info", "cornerstone_written", [("path", .text(path))])
    case let .cornerstoneFailed(error):
        return ("error", "cornerstone_failed", [("error", .text(error.description))])
    case let .tombstoneFound(path):
        return ("info", "tombstone_found", [("path", .text(path))])
    }
}
