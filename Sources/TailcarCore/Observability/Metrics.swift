// Metrics.swift
//
// A point-in-time view of a running agent (`MetricsSnapshot`) and its Prometheus text rendering
// (exposition format 0.0.4). Owns metric names, help texts and label escaping; does not own how the
// snapshot is taken (Agent+Health.swift). Every metric here has a real source.
//
//   tailcar_file_lag_bytes{pipeline="web",path="/l/a \"b\".log"} 120
//                                              ^ \ " and newline escaped as \\ \" \n

/// One tailed file of one pipeline.
public struct FileMetrics: Sendable, Equatable {
    public var path: String
    /// Next byte to read.
    public var readOffset: UInt64
    /// Everything before this is acknowledged by every flusher.
    public var acknowledgedOffset: UInt64
    /// The file's size now (its read offset when it is no longer open).
    public var size: UInt64

    public init(path: String, readOffset: UInt64, acknowledgedOffset: UInt64, size: UInt64) {
        self.path = path
        self.readOffset = readOffset
        self.acknowledgedOffset = acknowledgedOffset
        self.size = size
    }

    /// Bytes written to the file and not yet delivered.
    public var lagBytes: UInt64 { size > acknowledgedOffset ? size - acknowledgedOffset : 0 }
}

public struct PipelineMetrics: Sendable, Equatable {
    public var name: String
    /// Bytes handed to flushers and not yet acknowledged.
    public var inFlightBytes: Int
    /// Groups handed to flushers and not yet acknowledged by all of them.
    public var pendingGroups: Int
    /// Reading is paused because `inFlightBytes` reached the limit.
    public var paused: Bool
    public var files: [FileMetrics]
    /// Records a parser of this pipeline could not parse (kept under __raw_log__ or dropped, as configured).
    public var parseFailures: Int
    /// Lines outside any multi-line record (each sent alone, or dropped with discard).
    public var multilineUnmatchedLines: Int
    /// Multi-line records cut at the maximum record size.
    public var multilineOversizedRecords: Int

    public init(name: String, inFlightBytes: Int, pendingGroups: Int, paused: Bool, files: [FileMetrics],
                parseFailures: Int = 0, multilineUnmatchedLines: Int = 0, multilineOversizedRecords: Int = 0) {
        self.parseFailures = parseFailures
        self.multilineUnmatchedLines = multilineUnmatchedLines
        self.multilineOversizedRecords = multilineOversizedRecords
        self.name = name
        self.inFlightBytes = inFlightBytes
        self.pendingGroups = pendingGroups
        self.paused = paused
        self.files = files
    }
}

public struct MetricsSnapshot: Sendable {
    public var counters: AgentCounters
    public var pipelines: [PipelineMetrics]
    /// Files tracked (open, idle-released or draining after rotation).
    public var filesWatched: Int
    /// Files with an open descriptor.
    public var filesOpen: Int
    public var watchedDirectories: Int
    /// inotify is off or ran out of watches: changes are found by polling alone.
    public var pollingOnly: Bool
    public var uptimeMilliseconds: UInt64
    /// Running pipelines by origin: "file" (local files) and "sls" (the SLS console).
    public var pipelinesBySource: [String: Int] = [:]
    /// Bytes malloc has handed out and not had back, all threads (mallinfo2).
    public var heapInUseBytes = 0

    public init(counters: AgentCounters, pipelines: [PipelineMetrics], filesWatched: Int, filesOpen: Int,
                watchedDirectories: Int, pollingOnly: Bool, uptimeMilliseconds: UInt64) {
        self.counters = counters
        self.pipelines = pipelines
        self.filesWatched = filesWatched
        self.filesOpen = filesOpen
        self.watchedDirectories = watchedDirectories
        self.pollingOnly = pollingOnly
        self.uptimeMilliseconds = uptimeMilliseconds
    }
}

/// Renders a snapshot as Prometheus text.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    public static func render(_ snapshot: MetricsSnapshot) -> String {
        var out = ""
        let c = snapshot.counters
        let counters: [(String, String, UInt64)] = [
            ("bytes_read_total", "Bytes read from log files.", c.bytesRead),
            ("records_read_total", "Records framed from log files.", c.recordsRead),
            ("records_dropped_total", "Records dropped by processors.", c.recordsDropped),
            ("lines_split_total", "Lines longer than the limit, split into pieces.", UInt64(c.linesSplit)),
            ("incomplete_lines_flushed_total", "Last lines sent without their newline.",
             UInt64(c.incompleteLinesFlushed)),
            ("files_opened_total", "Files opened for tailing.", UInt64(c.filesOpened)),
            ("files_rotated_total", "Files seen renamed away or replaced.", UInt64(c.filesRotated)),
            ("files_truncated_total", "Files truncated or rewritten in place.", UInt64(c.filesTruncated)),
            ("files_deleted_total", "Files seen deleted.", UInt64(c.filesDeleted)),
            ("read_errors_total", "Failed reads and opens.", UInt64(c.readErrors)),
            ("discovery_errors_total", "Failed directory scans and watches.", UInt64(c.discoveryErrors)),
            ("checkpoint_failures_total", "Failed checkpoint writes.", UInt64(c.checkpointFailures)),
            ("truncation_gaps_total", "Truncated files whose unread rest had no plain copy.", UInt64(c.truncationGaps)),
            ("bytes_lost_total", "Bytes known lost with those truncations.", c.bytesLost),
            ("flush_failures_total", "Failed flusher writes.", UInt64(c.flushFailures)),
            ("batches_sent_total", "Batches accepted by a remote sink (SLS).", c.batchesSent),
            ("logs_sent_total", "Logs in accepted batches.", c.logsSent),
            ("raw_bytes_sent_total", "Uncompressed LogGroup bytes in accepted batches.", c.rawBytesSent),
            ("body_bytes_sent_total", "Request body bytes (compressed) in accepted batches.", c.bodyBytesSent),
            ("send_latency_milliseconds_total", "Summed send latency of accepted batches.", c.sendLatencyMilliseconds),
            ("send_failures_total", "Failed send attempts, each retried.", UInt64(c.sendFailures)),
            ("records_rejected_total", "Records in batches the sink rejected for good (dropped).", c.recordsRejected),
            ("sls_polls_total", "SLS console polls that fetched the applied configs.", c.consolePolls),
            ("sls_requests_total", "Requests made by successful SLS console polls (discoveries included).",
             c.consoleRequests),
            ("sls_poll_errors_total", "SLS console rounds that failed (retried with back-off).", c.consolePollErrors),
        ]
        for (name, help, value) in counters {
            header(&out, name, help, "counter")
            out += "tailcar_\(name) \(value)\n"
        }
        header(&out, "read_throttled_seconds_total", "Time the read-rate limit (--max-bytes-per-sec) held reading back.",
               "counter")
        out += "tailcar_read_throttled_seconds_total \(seconds(c.readThrottledMilliseconds))\n"
        // encode: LogGroup encoding; compress: compression and the copy into the request; hash: Content-MD5.
        for (stage, nanoseconds) in [("encode", c.encodeCPUNanoseconds), ("compress", c.compressCPUNanoseconds),
                                     ("hash", c.hashCPUNanoseconds)] {
            header(&out, "sls_\(stage)_cpu_seconds_total", "CPU time sealing SLS batches: \(stage).", "counter")
            out += "tailcar_sls_\(stage)_cpu_seconds_total \(Double(nanoseconds) / 1e9)\n"
        }
        let gauges: [(String, String, String)] = [
            ("heap_in_use_bytes", "Bytes malloc has handed out and not had back (mallinfo2), all threads.",
             "\(snapshot.heapInUseBytes)"),
            ("files_watched", "Files tracked: open, idle-released or draining.", "\(snapshot.filesWatched)"),
            ("files_open", "Files with an open descriptor.", "\(snapshot.filesOpen)"),
            ("watched_directories", "Directories watched with inotify.", "\(snapshot.watchedDirectories)"),
            ("polling_only", "1 when changes are found by polling alone.", snapshot.pollingOnly ? "1" : "0"),
            ("checkpoint_failing", "1 while checkpoint saves fail (collection goes on).",
             snapshot.counters.checkpointFailing ? "1" : "0"),
            ("uptime_seconds", "Seconds since the agent started.", seconds(snapshot.uptimeMilliseconds)),
            ("sls_last_success_timestamp_seconds", "Unix time of the last successful SLS console poll (0: none).",
             "\(c.consoleLastSuccessSeconds)"),
        ]
        for (name, help, value) in gauges {
            header(&out, name, help, "gauge")
            out += "tailcar_\(name) \(value)\n"
        }
        header(&out, "pipelines", "Pipelines running, by where their config came from (file or sls).", "gauge")
        for source in ["file", "sls"] {
            out += "tailcar_pipelines{source=\"\(source)\"} \(snapshot.pipelinesBySource[source] ?? 0)\n"
        }
        renderPipelines(snapshot.pipelines, into: &out)
        return out
    }

    private static func renderPipelines(_ pipelines: [PipelineMetrics], into out: inout String) {
        header(&out, "in_flight_bytes", "Bytes handed to flushers and not yet acknowledged.", "gauge")
        for p in pipelines { out += "tailcar_in_flight_bytes{pipeline=\"\(escapeLabel(p.name))\"} \(p.inFlightBytes)\n" }
        header(&out, "pending_groups", "Groups handed to flushers and not yet acknowledged.", "gauge")
        for p in pipelines { out += "tailcar_pending_groups{pipeline=\"\(escapeLabel(p.name))\"} \(p.pendingGroups)\n" }
        header(&out, "parse_failures_total", "Records a parser could not parse (kept raw or dropped).", "counter")
        for p in pipelines { out += "tailcar_parse_failures_total{pipeline=\"\(escapeLabel(p.name))\"} \(p.parseFailures)\n" }
        header(&out, "multiline_unmatched_lines_total",
               "Lines outside any multi-line record (each sent alone, or dropped with discard).", "counter")
        for p in pipelines {
            out += "tailcar_multiline_unmatched_lines_total{pipeline=\"\(escapeLabel(p.name))\"} \(p.multilineUnmatchedLines)\n"
        }
        header(&out, "multiline_oversized_records_total", "Multi-line records cut at the maximum record size.",
               "counter")
        for p in pipelines {
            out += "tailcar_multiline_oversized_records_total{pipeline=\"\(escapeLabel(p.name))\"} "
                + "\(p.multilineOversizedRecords)\n"
        }
        header(&out, "pipeline_paused", "1 while reading is paused by the in-flight limit.", "gauge")
        for p in pipelines {
            out += "tailcar_pipeline_paused{pipeline=\"\(escapeLabel(p.name))\"} \(p.paused ? 1 : 0)\n"
        }
        header(&out, "file_lag_bytes", "Bytes in the file not yet acknowledged by every flusher.", "gauge")
        for p in pipelines {
            for (path, lag) in lagByPath(p.files) {
                out += "tailcar_file_lag_bytes{pipeline=\"\(escapeLabel(p.name))\",path=\"\(escapeLabel(path))\"} \(lag)\n"
            }
        }
    }

    /// One series per path: a rotated file still draining under its old name and the new file that took
    /// the name are summed, since two series with the same labels are not allowed.
    private static func lagByPath(_ files: [FileMetrics]) -> [(String, UInt64)] {
        var order: [String] = []
        var lag: [String: UInt64] = [:]
        for file in files {
            if lag[file.path] == nil { order.append(file.path) }
            lag[file.path, default: 0] += file.lagBytes
        }
        return order.map { ($0, lag[$0]!) }
    }

    private static func header(_ out: inout String, _ name: String, _ help: String, _ type: String) {
        out += "# HELP tailcar_\(name) \(help)\n# TYPE tailcar_\(name) \(type)\n"
    }

    /// A label value as the text format wants it: backslash, double quote and line feed escaped.
    public static func escapeLabel(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Milliseconds as seconds with three decimals: 12345 -> "12.345".
    static func seconds(_ milliseconds: UInt64) -> String {
        let fraction = milliseconds % 1000
        let padded = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(milliseconds / 1000).\(padded)"
    }
}
