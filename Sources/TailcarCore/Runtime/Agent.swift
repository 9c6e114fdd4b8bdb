// Agent.swift
//
// A running Tailcar: builds the pipelines from settings, then drives them from one libuv loop: a poll
// tick (discovery, rotation checks, timeouts, checkpoints), inotify watches on every directory a pattern
// can reach and the read pump (Agent+Reading.swift), and SIGTERM/SIGINT. Agent+Stop.swift owns how it
// ends. Owns the loop and its handles; stage logic lives in InputRunner and PipelineRunner.

import CTailcarShim
import Glibc

public enum AgentError: Error, CustomStringConvertible {
    case loop(LoopError)
    case checkpoints(CheckpointError)
    case pattern(pipeline: String, GlobError)
    case flusher(pipeline: String, String)
    case processor(pipeline: String, index: Int, String)
    case input(pipeline: String, String)

    public var description: String {
        switch self {
        case .loop(let error): return "event loop: \(error)"
        case .checkpoints(let error): return "checkpoints: \(error)"
        case .pattern(let pipeline, let error): return "pipeline \(pipeline): \(error)"
        case .flusher(let pipeline, let what): return "pipeline \(pipeline): \(what)"
        case .processor(let pipeline, let index, let what): return "pipeline \(pipeline): processors[\(index)]: \(what)"
        case .input(let pipeline, let what): return "pipeline \(pipeline): input_file: \(what)"
        }
    }
}

public final class Agent {
    enum Phase {
        case running
        /// The tombstone appeared (Agent+Tombstone.swift): read every file to its end, then finish.
        case tombstoned
        /// SIGTERM: keep collecting until quiet or the deadline, then finish.
        case stopping(reason: String, deadline: UInt64)
        /// Everything read is handed to flushers; waiting for acknowledgements until the deadline.
        case finishing(reason: String, deadline: UInt64)
        case stopped
    }

    let loop: EventLoop
    let context: AgentContext
    var pipelines: [PipelineRunner] = []
    var phase = Phase.running
    private var tick: LoopTimer!
    var soon: LoopTimer!
    private var checkpointSoon: LoopTimer!
    private var checkpointScheduled = false
    var pump: LoopIdle!
    /// When the pump may run and how much it may read: the read delay and the read-rate limit.
    var scheduler: ReadScheduler!
    private var signals: [LoopSignal] = []
    /// inotify on every directory a pattern can reach; nil while polling alone.
    var watcher: DirectoryWatcher?
    var pollingOnly = false
    var rescanScheduled = false
    /// Loop time of the last change anything observed (growth, a new file, a rotation).
    var lastActivity: UInt64 = 0
    /// The local HTTP endpoint (Agent+Health.swift), when `options.httpPort` is set.
    var health: HealthEndpoint?
    /// Where the configuration came from and how to load it again (Agent+Reload.swift); nil: no reload.
    public var configReload: ConfigReload?
    /// The SLS console as a source of pipelines (Agent+Console.swift); nil: local files only.
    public var console: ConsoleControl?
    /// Pipelines a reload removed or replaced, waiting for their flushers' acknowledgements.
    var retiring: [Retirement] = []
    private var lastCheckpoint: UInt64 = 0
    /// The current spacing between checkpoint saves (see `checkpointSpacingPerSaveMillisecond`).
    private var checkpointSpacing = Agent.checkpointSpacingMilliseconds
    /// Shared by every flusher_sls; made with the first one.
    private var httpClient: HTTPClient?
    /// Seals the batches of every flusher_sls; made with the first one.
    private var sealer: BatchSealer?
    private var credentialSource: CredentialSource?
    private lazy var sourceAddress = context.options.sourceAddress ?? HostIdentity.primaryIPv4()
    private var pipelineCount = 1

    public init(settings: AgentSettings, options: AgentOptions, diagnostics: Diagnostics) throws(AgentError) {
        // Blocks of 256 KiB and more (group arenas, request bodies) are mapped on their own and unmapped when
        // freed, so a burst's memory leaves with it; glibc would otherwise raise the threshold after the first
        // such free and keep them in a heap that fragments.
        ctailcar_set_mmap_threshold(256 << 10)
        do {
            loop = try EventLoop()
        } catch { throw .loop(error) }
        let store: CheckpointStore
        do {
            store = try CheckpointStore(directory: options.checkpointDirectory)
        } catch { throw .checkpoints(error) }
        let maxLine = settings.pipelines.flatMap(\.inputs).map(\.maxLineBytes).max() ?? 512 << 10
        context = AgentContext(options: options, diagnostics: diagnostics,
                               checkpoints: CheckpointKeeper(store: store, diagnostics: diagnostics),
                               clock: { [loop] in loop.nowMilliseconds }, maxLineBytes: maxLine)
        pollingOnly = !options.useInotify
        pipelineCount = settings.pipelines.count
        for pipeline in settings.pipelines { pipelines.append(try makeRunner(pipeline)) }
        do {
            try makeHandles()
        } catch { throw .loop(error) }
        do {
            try startHealthEndpoint()
        } catch {
            guard options.httpPortIsDefault else { throw .loop(error) }
            report(.healthEndpointUnavailable(address: "127.0.0.1:\(options.httpPort ?? 0)", reason: error.description))
        }
    }

    /// Runs until stopped. Returns the process exit code.
    public func run() -> Int32 {
        start()
        loop.run()
        loop.close()
        return 0
    }

    /// The initial scan, then the pump and the poll tick; the loop runs them (tests step it by hand).
    func start() {
        lastActivity = context.now
        discoverAll()
        for pipeline in pipelines {
            for input in pipeline.inputs { input.recoverRotated(context) }
        }
        context.isInitialScan = false
        let files = pipelines.flatMap(\.inputs).map(\.tailers.count).reduce(0, +)
        context.diagnostics.record(.agentStarted(pipelines: pipelines.count, files: files,
                                                 watchedDirectories: watchedDirectories))
        writeCornerstone()
        startConsole()
        pump.start()
        let interval = context.options.pollInterval.milliseconds
        tick.start(afterMilliseconds: interval, repeatMilliseconds: interval)
    }

    /// A runner for `settings`, its flushers and processors built; it opens no file until discovery.
    func makeRunner(_ settings: PipelineSettings) throws(AgentError) -> PipelineRunner {
        var flushers: [any Flusher] = []
        for flusher in settings.flushers {
            switch flusher {
            case .stdout: flushers.append(JSONLinesFlusher(destination: .standardOutput, report: report))
            case .file(let path): flushers.append(JSONLinesFlusher(destination: .file(path: path), report: report))
            case .blackhole: flushers.append(BlackholeFlusher())
            case .sls(let sls): flushers.append(try makeSLSFlusher(sls, pipeline: settings.name))
            case .otlp(let otlp): flushers.append(try makeOTLPFlusher(otlp, pipeline: settings.name))
            case .clickhouse(let clickhouse): flushers.append(try makeClickHouseFlusher(clickhouse, pipeline: settings.name))
            }
        }
        let share = max(1 << 20, (context.options.maxInFlightBytes - reservedBytes) / max(1, pipelineCount))
        let runner = PipelineRunner(settings: settings, flushers: flushers, diagnostics: context.diagnostics,
                                    tags: context.options.tags, maxInFlightBytes: share)
        runner.topics = try ProcessorFactory.topics(settings.topic, pipeline: settings.name)
        for input in settings.inputs {
            let rules: MultilineRules?
            do {
                rules = try ProcessorFactory.multiline(input.multiline)
            } catch {
                throw .input(pipeline: settings.name, error.description)
            }
            do {
                runner.inputs.append(try InputRunner(settings: input, pipeline: runner, multiline: rules))
            } catch { throw .pattern(pipeline: settings.name, error) }
        }
        runner.processors = try ProcessorFactory.make(settings.processors, pipeline: settings.name, keys: runner.keys,
                                                      localZone: context.options.localTimeZone)
        runner.onResume = { [unowned self] in self.pump.start() }
        runner.onCheckpointDirty = { [unowned self] in self.scheduleCheckpointSave() }
        return runner
    }

    private func makeSLSFlusher(_ settings: SLSFlusherSettings, pipeline: String) throws(AgentError) -> SLSFlusher {
        let endpoint: HTTPEndpoint
        do { endpoint = try HTTPEndpoint(parsing: settings.endpoint) } catch {
            throw .flusher(pipeline: pipeline, "flusher_sls: \(error)")
        }
        guard let credentials = sharedCredentials() else {
            throw .flusher(pipeline: pipeline, "flusher_sls needs an AccessKey: set ALIBABA_CLOUD_ACCESS_KEY_ID and "
                           + "ALIBABA_CLOUD_ACCESS_KEY_SECRET, or ALIBABA_CLOUD_CREDENTIALS_FILE")
        }
        let client = sharedHTTPClient()
        do {
            return try SLSFlusher(settings: settings, endpoint: endpoint, policy: context.options.delivery,
                                  client: client, credentials: credentials, sourceAddress: sourceAddress,
                                  sealer: try sharedSealer(), loop: loop, diagnostics: context.diagnostics,
                                  clock: { [context] in context.now })
        } catch { throw .loop(error) }
    }

    private func makeOTLPFlusher(_ settings: OTLPFlusherSettings, pipeline: String) throws(AgentError) -> HTTPBatchFlusher {
        let endpoint: HTTPEndpoint
        do { endpoint = try HTTPEndpoint(parsing: settings.endpoint) } catch {
            throw .flusher(pipeline: pipeline, "flusher_otlp: \(error)")
        }
        let name = "flusher_otlp \(endpoint)\(settings.path)"
        let format: OTLPFormat
        do { format = try OTLPFormat(settings: settings, name: name, diagnostics: context.diagnostics) } catch {
            throw .flusher(pipeline: pipeline, "flusher_otlp: \(error)")
        }
        return try makeHTTPBatchFlusher(name: name, format: format, endpoint: endpoint)
    }

    private func makeClickHouseFlusher(_ settings: ClickHouseFlusherSettings,
                                       pipeline: String) throws(AgentError) -> HTTPBatchFlusher {
        let endpoint: HTTPEndpoint
        do { endpoint = try HTTPEndpoint(parsing: settings.endpoint) } catch {
            throw .flusher(pipeline: pipeline, "flusher_clickhouse: \(error)")
        }
        let name = "flusher_clickhouse \(endpoint) \(settings.database).\(settings.table)"
        let format: ClickHouseFormat
        do { format = try ClickHouseFormat(settings: settings, name: name, diagnostics: context.diagnostics) } catch {
            throw .flusher(pipeline: pipeline, "flusher_clickhouse: \(error)")
        }
        return try makeHTTPBatchFlusher(name: name, format: format, endpoint: endpoint)
    }

    private func makeHTTPBatchFlusher(name: String, format: any HTTPBatchFormat,
                                      endpoint: HTTPEndpoint) throws(AgentError) -> HTTPBatchFlusher {
        do {
            return try HTTPBatchFlusher(name: name, format: format, endpoint: endpoint, policy: context.options.delivery,
                                        client: sharedHTTPClient(), loop: loop, diagnostics: context.diagnostics,
                                        clock: { [context] in context.now })
        } catch { throw .loop(error) }
    }

    /// The HTTP client every HTTP flusher and the console poller share; made on first use.
    func sharedHTTPClient() -> HTTPClient {
        if let httpClient { return httpClient }
        let client = HTTPClient(loop: loop, maxConnections: context.options.delivery.maxConcurrentRequests,
                                caFile: context.options.caFile)
        httpClient = client
        return client
    }

    /// Gives memory back to the system once a burst drained: when some pipeline held at least 4 MiB in
    /// flight since the last time and none holds more than 1 MiB now, spare groups beyond two are freed
    /// and so is glibc's free heap (which it keeps otherwise, so a pod's RSS would stay at its peak).
    private func returnMemoryAfterBurst() {
        guard pipelines.contains(where: { $0.inFlightHighWater >= 4 << 20 }),
              pipelines.allSatisfy({ $0.bytesHeldForDelivery < 1 << 20 }) else { return }
        for pipeline in pipelines {
            pipeline.inFlightHighWater = 0
            pipeline.releaseSpares(keeping: 2)
        }
        _ = ctailcar_malloc_trim()
    }

    /// Buffers kept for reuse outside the pipelines, counted against the in-flight cap: the read buffer and
    /// what each sealing thread and the loop's own sealing keep at most (a full batch's LogGroup and its
    /// compression scratch).
    private var reservedBytes: Int {
        let batch = context.options.delivery.maxBytes + (64 << 10)
        return context.buffer.capacity + (sealer.map { $0.threads + 1 } ?? 0) * 2 * batch
    }

    /// The sealer every flusher_sls shares; made on first use with the threads the container's CPUs allow.
    private func sharedSealer() throws(LoopError) -> BatchSealer {
        if let sealer { return sealer }
        let quota = HostIdentity.cgroupCPUQuota()
        let threads = context.options.sealingThreads
            ?? HostIdentity.workerThreads(quota: quota?.cpus, availableCPUs: HostIdentity.availableCPUs())
        let made = try BatchSealer(loop: loop, threads: threads)
        sealer = made
        let origin = context.options.sealingThreads != nil ? "--sealing-threads"
            : quota.map { "a CPU quota of \($0.cpus) in \($0.file)" } ?? "\(HostIdentity.availableCPUs()) CPUs"
        context.diagnostics.record(.configNote(threads == 0 ? "SLS batches are sealed on the loop thread (\(origin))"
                                                 : "SLS batches are sealed on \(threads) threads while the loop is busy, "
                                                   + "on the loop thread otherwise (\(origin))"))
        return made
    }

    /// The AccessKey source every flusher_sls and the console poller share; nil without credentials.
    func sharedCredentials() -> CredentialSource? {
        if let credentialSource { return credentialSource }
        guard let origin = context.options.credentials else { return nil }
        credentialSource = CredentialSource(origin)
        return credentialSource
    }

    /// Starts the read pump (after a reload added files to read).
    func wakePump() { pump.start() }

    private func makeHandles() throws(LoopError) {
        tick = try LoopTimer(loop: loop)
        tick.onFire = { [unowned self] in self.onTick() }
        soon = try LoopTimer(loop: loop)
        soon.onFire = { [unowned self] in self.onFilesystemChange() }
        checkpointSoon = try LoopTimer(loop: loop)
        checkpointSoon.onFire = { [unowned self] in
            self.checkpointScheduled = false
            self.saveCheckpointsIfDue()
        }
        pump = try LoopIdle(loop: loop)
        pump.onIdle = { [unowned self] in self.onPump() }
        scheduler = try ReadScheduler(loop: loop, options: context.options, now: context.now)
        scheduler.onDelayElapsed = { [unowned self] in self.onReadDelayElapsed() }
        scheduler.onQuiet = { [unowned self] in self.watcher?.resume() }
        scheduler.onRefilled = { [unowned self] in self.pump.start() }
        for number in [SIGTERM, SIGINT] {
            let handle = try LoopSignal(loop: loop)
            handle.onSignal = { [unowned self] number in self.onSignal(number) }
            try handle.start(signal: number)
            signals.append(handle)
        }
        signal(SIGPIPE, SIG_IGN)
    }

    func report(_ event: AgentEvent) { context.diagnostics.record(event) }

    // MARK: Loop callbacks

    private func onTick() {
        returnMemoryAfterBurst()
        var stopping: Bool
        switch phase {
        case .running: stopping = false
        case .tombstoned, .stopping, .finishing: stopping = true
        case .stopped: return
        }
        if !stopping, tombstoneAppeared() {
            beginTombstoneDrain()
            stopping = true
        }
        checkAll(stopping: stopping)
        if case .running = phase {
            discoverAll()
            checkConfig()
        }
        finishRetirements(force: false)
        for pipeline in pipelines { pipeline.flushPending() }
        if anyRunnable() { pump.start() }
        saveCheckpointsIfDue()
        advancePhase()
    }

    private func onSignal(_ number: Int32) {
        beginStop(reason: number == SIGINT ? "SIGINT" : "SIGTERM")
    }

    /// Begins a graceful stop (SIGTERM, SIGINT, POST /quitquitquit); a second call stops waiting.
    func beginStop(reason: String) {
        switch phase {
        case .running:
            // Discovery ends here; one last pass finds every file created before the signal.
            checkAll(stopping: false)
            discoverAll()
            enterStopping(reason: reason)
            onTick()
        case .tombstoned:
            // The application is done and the pod is going away: collect for at most the stop delay.
            enterStopping(reason: reason)
            onTick()
        case .finishing(_, let deadline) where deadline == .max && context.options.fullDrainMode:
            // Full drain mode: waiting on acknowledgements stays without a deadline; the pod's grace period
            // (SIGKILL) is the bound.
            break
        case .finishing(let reason, let deadline) where deadline == .max:
            // Waiting on acknowledgements after the tombstone, without a deadline until now.
            phase = .finishing(reason: reason, deadline: context.now + context.options.stopDelay.milliseconds)
            onTick()
        case .stopping(let reason, _), .finishing(let reason, _):
            // A second signal: stop waiting.
            phase = .finishing(reason: reason, deadline: context.now)
            onTick()
        case .stopped:
            break
        }
    }

    /// The stop delay's deadline; none in full drain mode.
    private func enterStopping(reason: String) {
        let drain = context.options.fullDrainMode
        phase = .stopping(reason: reason, deadline: drain ? .max : context.now + context.options.stopDelay.milliseconds)
        report(.agentStopping(reason: reason, deadlineSeconds: drain ? nil : Int(context.options.stopDelay.components.seconds)))
    }

    // MARK: Discovery and watching

    func discoverAll() {
        var directories = Set<String>()
        var opened = false
        for pipeline in pipelines {
            for input in pipeline.inputs {
                let before = input.tailers.count
                directories.formUnion(input.discover(context))
                if input.tailers.count > before { opened = true }
            }
        }
        updateWatches(directories)
        guard opened else { return }
        lastActivity = context.now
        // Record new files at once: if the agent dies before its next checkpoint, a restart still knows
        // them and reads them from their checkpoint rather than as files that existed before it started.
        if !context.isInitialScan { saveCheckpointsIfDue(force: true) }
    }

    func checkAll(stopping: Bool) {
        for pipeline in pipelines {
            for input in pipeline.inputs { input.checkTailers(context, stopping: stopping) }
        }
    }

    func anyRunnable() -> Bool {
        pipelines.contains { pipeline in
            !pipeline.isPaused && pipeline.inputs.contains { input in
                input.tailers.contains { $0.mayHaveData && $0.descriptor != nil }
            }
        }
    }

    // MARK: Checkpoints

    /// Checkpoint saves are at least this far apart: an acknowledgement is on disk within this time (plus a
    /// write and two fsyncs), which bounds what a crash can send twice, at no more than 5 saves a second.
    static let checkpointSpacingMilliseconds: UInt64 = 200
    /// A save blocks the loop for its write and fsyncs; the spacing grows to this many times the last save's
    /// duration (at most 5 s), so a slow disk costs the loop no more than 5% of its time.
    static let checkpointSpacingPerSaveMillisecond: UInt64 = 20

    /// A pipeline's checkpoint became dirty: save once the spacing since the last save has passed.
    private func scheduleCheckpointSave() {
        guard !checkpointScheduled, checkpointSoon != nil else { return }
        checkpointScheduled = true
        let elapsed = context.now &- lastCheckpoint
        checkpointSoon.start(afterMilliseconds: elapsed >= checkpointSpacing ? 0 : checkpointSpacing - elapsed)
    }

    func saveCheckpointsIfDue(force: Bool = false) {
        let dirty = pipelines.contains(where: \.checkpointDirty)
        guard force || (dirty && context.now &- lastCheckpoint >= checkpointSpacing) else { return }
        var live: [CheckpointEntry] = []
        for pipeline in pipelines + retiring.map(\.runner) {
            for input in pipeline.inputs {
                for tailer in input.tailers {
                    live.append(tailer.checkpointEntry(pipeline: pipeline.settings.name))
                }
            }
        }
        let started = monotonicMilliseconds()
        if context.checkpoints.save(live: live, now: context.now) {
            for pipeline in pipelines { pipeline.checkpointDirty = false }
        }
        let took = monotonicMilliseconds() &- started
        checkpointSpacing = min(5000, max(Self.checkpointSpacingMilliseconds, took &* Self.checkpointSpacingPerSaveMillisecond))
        lastCheckpoint = context.now
    }

    private func monotonicMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1000 &+ UInt64(now.tv_nsec) / 1_000_000
    }

    // MARK: Shutdown plumbing (Agent+Stop.swift)

    func closeHandles() {
        tick.close()
        soon.close()
        checkpointSoon.close()
        pump.close()
        for handle in signals { handle.close() }
        health?.close()
        stopConsole()
        scheduler.close()
        watcher?.close()
        watcher = nil
        for pipeline in pipelines {
            for flusher in pipeline.flushers { flusher.close() }
            for input in pipeline.inputs {
                for tailer in input.tailers { tailer.closeDescriptor(then: .finished(deleted: false)) }
            }
        }
        httpClient?.shutDown()
        sealer?.shutDown()
    }
}
