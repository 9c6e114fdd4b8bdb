// AgentEvent.swift
//
// Everything noteworthy the agent does, as typed values. Stage code reports an `AgentEvent`; the
// `Diagnostics` funnel turns it into counters and one structured log line. Stage code never formats logs.

public enum AgentEvent {
    case agentStarted(pipelines: Int, files: Int, watchedDirectories: Int)
    case agentStopping(reason: String, deadlineSeconds: Int?)
    case agentStopped(reason: String, unacknowledgedBytes: UInt64)
    case fileOpened(path: String, offset: UInt64, start: TailStart)
    case fileReopened(path: String, offset: UInt64)
    case fileReleased(path: String, offset: UInt64)
    case fileRotated(path: String, offset: UInt64)
    case fileTruncated(path: String, size: UInt64, offset: UInt64)
    case fileRewritten(path: String)
    /// A truncated file's unread rest (`bytes` from `offset`) is read from the copy logrotate made.
    case truncationRecovered(path: String, copy: String, offset: UInt64, bytes: UInt64)
    /// A truncated file's rest past `offset` could not be found (at least `bytes`, 0 when unknown).
    case truncationGap(path: String, offset: UInt64, bytes: UInt64, reason: String)
    case fileDeleted(path: String, offset: UInt64)
    case fileFinished(path: String, offset: UInt64)
    case lineSplit(path: String, offset: UInt64, limit: Int)
    case incompleteLineFlushed(path: String, bytes: Int)
    case readFailed(SystemError)
    case discoveryFailed(SystemError)
    case watchUnavailable(directory: String, reason: String)
    case checkpointLoaded(entries: Int)
    case checkpointFailed(String)
    /// Saves failed `failures` times in a row and the last one succeeded: the file is current again.
    case checkpointRecovered(failures: Int)
    case flushFailed(flusher: String, reason: String)
    /// A send failed and will be retried (SLS error code and request id are in `reason`).
    case sendFailed(flusher: String, reason: String, attempt: Int, retryInMilliseconds: UInt64)
    /// A send succeeded after `failures` failed attempts in a row.
    case sendRecovered(flusher: String, failures: Int)
    /// SLS will never accept this batch as sent: its records are dropped and counted.
    case sendRejected(flusher: String, reason: String, records: Int)
    case configWarning(String)
    case configNote(String)
    /// The cap on bytes held for delivery, all pipelines together, and where it came from.
    case inFlightCap(bytes: Int, source: String)
    case configReloaded(added: [String], changed: [String], removed: [String])
    case configReloadFailed(reason: String)
    /// `run --bootstrap`: one SLS resource created, found existing, or failed (`outcome` says which).
    case bootstrapStep(resource: String, outcome: String, failed: Bool)
    /// The SLS console: a discovery found `matched` of `groups` machine groups in `projects` projects.
    case consoleDiscovered(projects: Int, groups: Int, matched: [String])
    /// No machine group holds any of the sidecar's ids (repeated at every discovery while it lasts).
    case consoleNoGroup(ids: String, projects: Int, groups: Int)
    /// The console's configs for this sidecar changed (or were loaded first): the names now in force.
    case consoleConfigsChanged(configs: [String], requests: Int)
    /// A control-plane round failed (SLS error code and request id are in `reason`); retried after the wait.
    case consolePollFailed(reason: String, code: String, retryInMilliseconds: UInt64)
    /// A console poll succeeded after `failures` failed rounds in a row.
    case consolePollRecovered(failures: Int)
    /// The cached console configs were read at start (or could not be).
    case consoleCacheLoaded(path: String, configs: Int)
    case consoleCacheFailed(path: String, reason: String)
    case healthEndpointUnavailable(address: String, reason: String)
    case cornerstoneWritten(path: String)
    case cornerstoneFailed(SystemError)
    case tombstoneFound(path: String)
}

/// Why a file starts where it does.
public enum TailStart: String, Sendable {
    /// Created after the agent started: from byte 0.
    case newFile = "new_file"
    /// Existed at start: its last TailSizeKB, aligned to a line.
    case existingTail = "existing_tail"
    /// Existed at start with TailingAllMatchedFiles: from byte 0.
    case existingAll = "existing_all"
    /// A checkpoint matched its identity and fingerprint.
    case checkpoint = "checkpoint"
}

/// Counters the funnel keeps; metrics endpoints read them.
public struct AgentCounters: Sendable {
    public var filesOpened = 0
    public var filesRotated = 0
    public var filesTruncated = 0
    public var filesDeleted = 0
    public var linesSplit = 0
    public var incompleteLinesFlushed = 0
    public var readErrors = 0
    public var discoveryErrors = 0
    public var checkpointFailures = 0
    /// Truncations whose unread rest had no plain copy, and the bytes known to be lost with them.
    public var truncationGaps = 0
    public var bytesLost: UInt64 = 0
    /// The last checkpoint save failed: collection goes on, a crash now would resend more (gauge).
    public var checkpointFailing = false
    public var flushFailures = 0
    public var bytesRead: UInt64 = 0
    public var recordsRead: UInt64 = 0
    public var recordsDropped: UInt64 = 0
    /// Batches accepted by a remote sink, their logs, raw (uncompressed) and sent (body) bytes.
    public var batchesSent: UInt64 = 0
    public var logsSent: UInt64 = 0
    public var rawBytesSent: UInt64 = 0
    public var bodyBytesSent: UInt64 = 0
    /// Sum of send latencies of accepted batches (with `batchesSent`, the mean).
    public var sendLatencyMilliseconds: UInt64 = 0
    /// Failed attempts (each is retried).
    public var sendFailures = 0
    /// Records in batches the sink rejected for good.
    public var recordsRejected: UInt64 = 0
    /// SLS console rounds that ended with the configs, their requests, rounds that failed.
    public var consolePolls: UInt64 = 0
    public var consoleRequests: UInt64 = 0
    public var consolePollErrors: UInt64 = 0
    /// Unix time of the last successful console poll (0: none yet).
    public var consoleLastSuccessSeconds: UInt64 = 0
    /// Time the read-rate limit (--max-bytes-per-sec) held reading back.
    public var readThrottledMilliseconds: UInt64 = 0
    /// CPU time spent sealing SLS batches, on whichever thread sealed them: LogGroup encoding, compression
    /// (with the one copy of its output into the request block) and Content-MD5.
    public var encodeCPUNanoseconds: UInt64 = 0
    public var compressCPUNanoseconds: UInt64 = 0
    public var hashCPUNanoseconds: UInt64 = 0
}
