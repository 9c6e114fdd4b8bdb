// Agent+Health.swift
//
// The agent's local HTTP surface, when `AgentOptions.httpPort` is set (127.0.0.1 only):
//
//   GET  /healthz       200 {"status":"ok","phase":"running","uptime_seconds":12.345} while running,
//                       503 with phase "stopping", "finishing" or "stopped" once a stop began; 200 with
//                       phase "tombstone" (or "finishing") while it delivers what the application wrote;
//                       200 {"status":"degraded",...,"checkpoint_error":"..."} while checkpoint saves fail
//                       (collection goes on, so liveness stays healthy)
//   GET  /metrics       Prometheus text (Observability/Metrics.swift)
//   POST /quitquitquit  begins a graceful stop exactly as SIGTERM does, answers 200
//
// Owns the routes and the metrics snapshot; the server is LocalHTTPServer, the stop is Agent.beginStop.

import CTailcarShim
import Glibc

/// The server and what its routes need; the agent keeps one while the endpoint is on.
final class HealthEndpoint {
    let server: LocalHTTPServer
    let startedAt: UInt64
    /// Fires on the next loop iteration so a stop never closes the connection it was asked on.
    let deferredStop: LoopTimer

    init(server: LocalHTTPServer, startedAt: UInt64, deferredStop: LoopTimer) {
        self.server = server
        self.startedAt = startedAt
        self.deferredStop = deferredStop
    }

    func close() {
        server.close()
        deferredStop.close()
    }
}

extension Agent {
    /// Starts listening when `options.httpPort` is set and not 0. Fails when the port cannot be bound.
    func startHealthEndpoint() throws(LoopError) {
        guard let port = context.options.httpPort, port != 0 else { return }
        let stopTimer = try LoopTimer(loop: loop)
        let server: LocalHTTPServer
        do {
            server = try LocalHTTPServer(loop: loop, port: port) { [unowned self] request in
                self.route(request)
            }
        } catch {
            stopTimer.close()
            throw error
        }
        stopTimer.onFire = { [unowned self] in self.beginStop(reason: "quitquitquit") }
        health = HealthEndpoint(server: server, startedAt: context.now, deferredStop: stopTimer)
    }

    /// The port the endpoint listens on, if it is on.
    public var healthPort: Int? { health?.server.port }

    func route(_ request: LocalHTTPRequest) -> LocalHTTPResponse {
        let isRead = request.method == "GET" || request.method == "HEAD"
        switch request.path {
        case "/healthz":
            guard isRead else { return notAllowed("GET, HEAD") }
            return healthResponse()
        case "/metrics":
            guard isRead else { return notAllowed("GET, HEAD") }
            return LocalHTTPResponse(status: 200, contentType: PrometheusText.contentType,
                                body: PrometheusText.render(metricsSnapshot()))
        case "/quitquitquit":
            guard request.method == "POST" else { return notAllowed("POST") }
            health?.deferredStop.start(afterMilliseconds: 0)
            return LocalHTTPResponse(status: 200, body: "stopping\n")
        default:
            return LocalHTTPResponse(status: 404, body: "not found\n")
        }
    }

    private func notAllowed(_ allow: String) -> LocalHTTPResponse {
        LocalHTTPResponse(status: 405, body: "method not allowed\n", headers: [("Allow", allow)])
    }

    private func healthResponse() -> LocalHTTPResponse {
        let name: String
        // Healthy while the agent works towards its end without a deadline (after the tombstone).
        var running = false
        switch phase {
        case .running: name = "running"; running = true
        case .tombstoned: name = "tombstone"; running = true
        case .stopping: name = "stopping"
        case .finishing(_, let deadline): name = "finishing"; running = deadline == .max
        case .stopped: name = "stopped"
        }
        var status = running ? "ok" : "stopping"
        var detail = ""
        if running, case .failing(let reason, _, _) = context.checkpoints.saving {
            status = "degraded"
            var quoted: [UInt8] = []
            RecordJSONWriter.appendString(reason, to: &quoted)
            detail = ",\"checkpoint_error\":" + String(decoding: quoted, as: UTF8.self)
        }
        let body = "{\"status\":\"\(status)\",\"phase\":\"\(name)\",\"uptime_seconds\":"
            + PrometheusText.seconds(uptimeMilliseconds) + detail + "}\n"
        return LocalHTTPResponse(status: running ? 200 : 503, contentType: "application/json", body: body)
    }

    private var uptimeMilliseconds: UInt64 { context.now &- (health?.startedAt ?? context.now) }

    /// Counters, per-pipeline flow and per-file positions, as of now.
    public func metricsSnapshot() -> MetricsSnapshot {
        var watched = 0
        var open = 0
        let flows = pipelines.map { pipeline in
            var files: [FileMetrics] = []
            for input in pipeline.inputs {
                for tailer in input.tailers {
                    if !tailer.isFinished { watched += 1 }
                    if tailer.descriptor != nil { open += 1 }
                    files.append(FileMetrics(path: tailer.path, readOffset: tailer.readOffset,
                                             acknowledgedOffset: tailer.ackedOffset, size: currentSize(of: tailer)))
                }
            }
            let multiline = pipeline.multilineCounts
            return PipelineMetrics(name: pipeline.settings.name, inFlightBytes: pipeline.inFlightBytes,
                                   pendingGroups: pipeline.pendingGroups, paused: pipeline.isPaused, files: files,
                                   parseFailures: pipeline.processors.reduce(0) {
                                       $0 + (($1 as? any CountingProcessor)?.unmatchedCount ?? 0)
                                   },
                                   multilineUnmatchedLines: multiline.unmatchedLines,
                                   multilineOversizedRecords: multiline.oversizedRecords)
        }
        var counters = context.diagnostics.counters
        counters.readThrottledMilliseconds = scheduler.throttledMilliseconds(now: context.now)
        var snapshot = MetricsSnapshot(counters: counters, pipelines: flows, filesWatched: watched,
                                       filesOpen: open, watchedDirectories: watchedDirectories, pollingOnly: pollingOnly,
                                       uptimeMilliseconds: uptimeMilliseconds)
        snapshot.heapInUseBytes = ctailcar_heap_in_use()
        for pipeline in pipelines {
            snapshot.pipelinesBySource[pipeline.settings.origin.hasPrefix("sls:") ? "sls" : "file", default: 0] += 1
        }
        return snapshot
    }

    /// Open: fstat. Released: the path's size if it still names the same file. Otherwise the read offset.
    private func currentSize(of tailer: FileTailer) -> UInt64 {
        if let fd = tailer.descriptor {
            var status = stat()
            if fstat(fd, &status) == 0 { return UInt64(status.st_size) }
        } else if case .released = tailer.state,
                  let status = try? FileStatus.of(path: tailer.path), status.identity == tailer.identity {
            return status.size
        }
        return tailer.readOffset
    }
}
