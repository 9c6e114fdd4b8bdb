// Controller.swift
//
// `tailcar controller`: keeps SLS in step with the cluster's AliyunLogConfig resources. One loop thread:
// the watch stream, the timers and the health endpoint live on the controller's loop; API calls (KubeAPI)
// and reconciles (Bootstrapper) run one at a time on private loops, so a reconcile is bounded by the SLS
// timeouts and the lease is renewed between reconciles. Owns the wiring, the resource table and the
// lifecycle (start, SIGTERM/SIGINT, release); the watch is in Controller+Watch.swift, reconciling and
// status in Controller+Reconcile.swift, leadership in LeaseElector.swift.
//
//   list -> resourceVersion -> watch (ADDED/MODIFIED/DELETED/BOOKMARK) -> table -> due resources
//     -> (leader only) Bootstrapper -> status patch -> next due, with back-off for failures

import Glibc

public struct ControllerOptions: Sendable {
    public var access: KubeAPIAccess
    /// The namespace watched; nil: all namespaces (a ClusterRole).
    public var watchNamespace: String?
    public var defaults: ControllerDefaults
    /// nil: no leader election (one replica only).
    public var lease: LeaseSettings?
    public var identity: String
    public var httpPort: Int?
    public var slsCAFile: String?
    public var slsTimeouts = HTTPClientTimeouts()
    public var apiTimeouts = HTTPClientTimeouts()
    /// A failed reconcile is retried after `retryMinimum`, doubling up to `retryMaximum` (milliseconds).
    public var retryMinimumMilliseconds: UInt64 = 1_000
    public var retryMaximumMilliseconds: UInt64 = 300_000
    /// A dropped watch or failed list is retried after 200 ms doubling up to this.
    public var watchRetryMaximumMilliseconds: UInt64 = 30_000
    /// What each watch request asks the server for (it ends the stream then; the controller watches again).
    public var watchTimeoutSeconds = 300
    /// A reconciled resource is reconciled again this often (what was deleted in SLS is made again); 0: never.
    public var resyncMilliseconds: UInt64 = 600_000

    public init(access: KubeAPIAccess, defaults: ControllerDefaults, identity: String) {
        self.access = access
        self.defaults = defaults
        self.identity = identity
        slsTimeouts.connectMilliseconds = 5_000
        slsTimeouts.responseMilliseconds = 10_000
        apiTimeouts.connectMilliseconds = 5_000
        apiTimeouts.responseMilliseconds = 15_000
    }
}

public enum ControllerError: Error, CustomStringConvertible {
    case setup(String)
    public var description: String { switch self { case .setup(let reason): reason } }
}

public final class Controller {
    struct Tracked {
        var object: LogConfigObject
        /// The generation last reconciled successfully (or found invalid) by this process.
        var doneGeneration: Int?
        var failures = 0
        /// Monotonic milliseconds when the next reconcile is due; nil: nothing to do.
        var dueAt: UInt64?
    }

    enum WatchPhase: Equatable {
        case listing, streaming, waiting
    }

    let options: ControllerOptions
    let log: ControllerLog
    let credentials: CredentialSource
    let loop: EventLoop
    let api: KubeAPI
    let elector: LeaseElector?
    var table: [ResourceKey: Tracked] = [:]
    var version = ""
    var watch: WatchStream?
    var watchPhase = WatchPhase.listing
    var watchFailures = 0
    private var signals: [LoopSignal] = []
    let watchTimer: LoopTimer
    let workTimer: LoopTimer
    private let leaseTimer: LoopTimer
    private var server: LocalHTTPServer?
    private let startedAt: UInt64
    private(set) var stopping = false

    public init(options: ControllerOptions, credentials: CredentialSource, log: ControllerLog) throws(ControllerError) {
        self.options = options
        self.credentials = credentials
        self.log = log
        do {
            loop = try EventLoop()
            watchTimer = try LoopTimer(loop: loop)
            workTimer = try LoopTimer(loop: loop)
            leaseTimer = try LoopTimer(loop: loop)
        } catch {
            throw .setup(error.description)
        }
        do { api = try KubeAPI(access: options.access, timeouts: options.apiTimeouts) } catch {
            throw .setup(error.description)
        }
        elector = options.lease.map { LeaseElector(settings: $0, epochClock: Controller.epochClock) }
        startedAt = Controller.monotonicMilliseconds()
        if let port = options.httpPort {
            do {
                server = try LocalHTTPServer(loop: loop, port: port) { [unowned self] request in self.route(request) }
            } catch {
                throw .setup("cannot serve 127.0.0.1:\(port): \(error)")
            }
        }
    }

    /// The health endpoint's port, when on.
    public var httpPort: Int? { server?.port }

    /// Runs until SIGTERM or SIGINT; returns the exit status.
    public func run() -> Int32 {
        for number in [SIGTERM, SIGINT] {
            guard let signal = try? LoopSignal(loop: loop) else { continue }
            signal.onSignal = { [unowned self] _ in self.stop(reason: number == SIGTERM ? "SIGTERM" : "SIGINT") }
            try? signal.start(signal: number)
            signals.append(signal)
        }
        log.record(.started(identity: options.identity, api: "\(options.access.endpoint) (\(options.access.source))",
                            namespace: options.watchNamespace))
        watchTimer.onFire = { [unowned self] in self.relist() }
        workTimer.onFire = { [unowned self] in self.work() }
        if let elector {
            leaseTimer.onFire = { [unowned self] in self.leaseRound() }
            leaseTimer.start(afterMilliseconds: 0, repeatMilliseconds: elector.settings.retryPeriodMilliseconds)
        } else {
            log.record(.leaderElected(lease: "(leader election off)"))
        }
        watchTimer.start(afterMilliseconds: 0)
        loop.run()
        loop.close()
        return 0
    }

    func stop(reason: String) {
        guard !stopping else { return }
        stopping = true
        log.record(.stopping(reason: reason))
        watch?.cancel()
        watch = nil
        elector?.release(api)
        for handle in [watchTimer, workTimer, leaseTimer] { handle.stop(); handle.close() }
        for signal in signals { signal.close() }
        server?.close()
        api.close()
        if options.access.caFileIsTemporary, let file = options.access.caFile { unlink(file) }
        loop.stop()
    }

    /// Whether this process may act now.
    var isLeader: Bool {
        guard let elector else { return true }
        return elector.isLeader(now: Self.monotonicMilliseconds())
    }

    private func leaseRound() {
        guard let elector, !stopping else { return }
        let problemBefore = elector.lastProblem
        switch elector.attempt(api, now: Self.monotonicMilliseconds()) {
        case .elected:
            log.record(.leaderElected(lease: elector.description))
            scheduleWork()
        case .lost(let reason):
            log.record(.leaderLost(lease: elector.description, reason: reason))
        case .none:
            if let problem = elector.lastProblem, problem != problemBefore { log.record(.leaseFailed(reason: problem)) }
        }
    }

    /// Renews the lease between reconciles when a retry period has passed since the last attempt.
    func renewIfDue() {
        guard let elector else { return }
        let now = Self.monotonicMilliseconds()
        if let last = elector.lastAttemptAt, now &- last < elector.settings.retryPeriodMilliseconds { return }
        leaseRound()
    }

    // MARK: Health

    private func route(_ request: LocalHTTPRequest) -> LocalHTTPResponse {
        guard request.method == "GET" || request.method == "HEAD" else {
            return LocalHTTPResponse(status: 405, body: "method not allowed\n", headers: [("Allow", "GET, HEAD")])
        }
        let failing = table.values.count { $0.failures > 0 }
        switch request.path {
        case "/healthz":
            let uptime = Double(Self.monotonicMilliseconds() &- startedAt) / 1000
            let body = JSONValue.object([
                JSONMember("status", .string(stopping ? "stopping" : "ok")), JSONMember("phase", .string("controller")),
                JSONMember("leader", .bool(isLeader)), JSONMember("watch", .string("\(watchPhase)")),
                JSONMember("resources", .int(table.count)), JSONMember("failing", .int(failing)),
                JSONMember("uptime_seconds", .number(String(uptime))),
            ]).text + "\n"
            return LocalHTTPResponse(status: stopping ? 503 : 200, contentType: "application/json", body: body)
        case "/metrics":
            let c = log.counters
            let lines = [
                ("tailcar_controller_resources", "gauge", "AliyunLogConfig resources known", table.count),
                ("tailcar_controller_resources_failing", "gauge", "resources whose last reconcile failed", failing),
                ("tailcar_controller_leader", "gauge", "1 while this replica holds the lease", isLeader ? 1 : 0),
                ("tailcar_controller_reconciles_total", "counter", "successful reconciles", Int(c.reconciles)),
                ("tailcar_controller_reconcile_failures_total", "counter", "failed reconciles", Int(c.reconcileFailures)),
                ("tailcar_controller_lists_total", "counter", "full lists of the resources", Int(c.lists)),
                ("tailcar_controller_watch_restarts_total", "counter", "watches that ended and were started again",
                 Int(c.watchRestarts)),
                ("tailcar_controller_status_write_failures_total", "counter", "status patches that failed",
                 Int(c.statusWriteFailures)),
                ("tailcar_controller_leader_transitions_total", "counter", "times this replica became leader",
                 Int(c.leaderTransitions)),
            ]
            let text = lines.map { "# HELP \($0.0) \($0.2)\n# TYPE \($0.0) \($0.1)\n\($0.0) \($0.3)\n" }.joined()
            return LocalHTTPResponse(status: 200, contentType: PrometheusText.contentType, body: text)
        default:
            return LocalHTTPResponse(status: 404, body: "not found\n")
        }
    }

    // MARK: Clocks

    static func monotonicMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec / 1_000_000)
    }

    static func epochClock() -> (seconds: Int, microseconds: Int) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return (Int(now.tv_sec), Int(now.tv_nsec / 1000))
    }
}
