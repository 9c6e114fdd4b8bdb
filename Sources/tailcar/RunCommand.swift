// RunCommand.swift
//
// `tailcar run`: reads options and the environment, loads and validates the configuration, then hands
// both to an Agent and returns its exit code. Owns the defaults of agent-wide options.

import Glibc
import TailcarCore

enum RunCommand {
    static let valued: Set<String> = ["config", "checkpoint-dir", "stop-delay", "exit-when-drained",
                                      "poll-interval", "idle-close", "max-in-flight-mb", "http-port",
                                      "task-dir", "cornerstone", "tombstone", "read-delay", "max-bytes-per-sec",
                                      "sealing-threads", "replace-inputs", "replace-flushers"]

    static func run(_ arguments: ArraySlice<String>, environment: Environment) -> Int32 {
        let diagnostics = Diagnostics()
        do throws(UsageError) {
            let parsed = try Arguments(arguments, valued: valued.union(ConsoleOptions.valued),
                                       flags: ["no-inotify", "no-reload", "bootstrap", "no-sls-configs", "no-task-files"])
            guard parsed.positional.isEmpty else {
                throw UsageError(description: "unexpected argument \"\(parsed.positional[0])\"")
            }
            let configPath = parsed.value("config") ?? environment.config ?? defaultConfigPath
            guard let vendor = vendorSettings(environment) else { return 2 }
            let options = try agentOptions(parsed, environment: environment, vendor: vendor)
            guard let context = sidecarContext(environment) else { return 2 }
            if let note = vendor.startupNote { diagnostics.record(.configNote(note)) }
            diagnostics.record(.inFlightCap(bytes: options.maxInFlightBytes, source: options.inFlightCapSource))
            let (consoleSettings, _) = try ConsoleOptions.settings(parsed, environment: environment, context: context,
                                                                   hasCredentials: options.credentials != nil)
            let localAbsent = parsed.value("config") == nil && environment.config == nil && access(defaultConfigPath, F_OK) != 0
            if localAbsent, consoleSettings == nil {
                throw UsageError(description: "no configuration: give --config PATH, set TAILCAR_CONFIG, or mount "
                                 + "pipelines or AliyunLogConfig resources at \(defaultConfigPath), or give the SLS "
                                 + "console's environment (user-defined id, ALIYUN_LOGTAIL_CONFIG, AccessKey)")
            }
            let overrides = try pipelineOverrides(parsed)
            // Stamped before the first load, so a change made while it loads is seen by the first check.
            let reload = parsed.flag("no-reload") || localAbsent ? nil : ConfigReload(path: configPath) {
                var result = ConfigLoader.load(path: configPath, context: context)
                result.settings = result.settings.map(overrides.apply)
                return result
            }
            var settings = AgentSettings(pipelines: [])
            if !localAbsent {
                guard let local = loadSettings(configPath, context: context, diagnostics: diagnostics) else { return 2 }
                settings = overrides.apply(to: local)
            }
            let console = consoleSettings.map {
                ConsoleControl(settings: $0, sidecar: context, checkpointDirectory: options.checkpointDirectory,
                               localPipelines: settings.pipelines)
            }
            if let console { settings.pipelines += console.loadCache(report: diagnostics.record) }
            guard !settings.pipelines.isEmpty || console != nil else {
                printError("tailcar run: no pipeline in \(configPath) applies to this sidecar: each has enable: false "
                           + "or is for other machine groups (user-defined ids \(context.userDefinedIDsDescription))")
                return 2
            }
            if parsed.flag("bootstrap") {
                BootstrapCommand.bootstrap(settings, credentials: options.credentials, diagnostics: diagnostics,
                                           caFile: options.caFile)
            }
            let agent: Agent
            do {
                agent = try Agent(settings: settings, options: options, diagnostics: diagnostics)
            } catch {
                printError("tailcar: \(error)")
                return 1
            }
            agent.configReload = reload
            agent.console = console
            return agent.run()
        } catch {
            printError("tailcar run: \(error)")
            return 2
        }
    }

    /// `--replace-inputs PATH` and `--replace-flushers blackhole|sls=URL` (what `tailcar bench` runs).
    static func pipelineOverrides(_ parsed: Arguments) throws(UsageError) -> PipelineOverrides {
        var overrides = PipelineOverrides(inputPath: parsed.value("replace-inputs"))
        if let text = parsed.value("replace-flushers") {
            guard let flusher = FlusherOverride(argument: text) else {
                throw UsageError(description: "--replace-flushers expects blackhole or sls=URL, got \"\(text)\"")
            }
            overrides.flusher = flusher
        }
        if let path = overrides.inputPath, !path.hasPrefix("/") {
            throw UsageError(description: "--replace-inputs expects an absolute path, got \"\(path)\"")
        }
        return overrides
    }

    /// `vendor`: the vendor agent's settings that Tailcar acts on (enable_full_drain_mode, mem_usage_limit).
    static func agentOptions(_ parsed: Arguments, environment: Environment,
                             vendor: VendorAgentSettings = VendorAgentSettings()) throws(UsageError) -> AgentOptions {
        var options = AgentOptions(checkpointDirectory: parsed.value("checkpoint-dir")
                                   ?? environment.checkpointDirectory ?? "/var/lib/tailcar")
        if let delay = try parsed.seconds("stop-delay") {
            options.stopDelay = delay
        } else if let text = environment.stopDelay {
            options.stopDelay = try parseSeconds(text, what: "TAILCAR_STOP_DELAY")
        }
        options.exitWhenDrained = try parsed.seconds("exit-when-drained")
        if let poll = try parsed.seconds("poll-interval") {
            guard poll >= .milliseconds(10) else { throw UsageError(description: "--poll-interval must be at least 0.01") }
            options.pollInterval = poll
        }
        if let idle = try parsed.seconds("idle-close") { options.idleCloseAfter = idle }
        if let text = parsed.value("max-in-flight-mb") {
            guard let mb = Int(text), mb > 0, mb < 1 << 20 else {
                throw UsageError(description: "--max-in-flight-mb expects a positive whole number, got \"\(text)\"")
            }
            options.maxInFlightBytes = mb << 20
            options.inFlightCapSource = "--max-in-flight-mb \(mb)"
        } else {
            // mem_usage_limit bounds it as a cgroup limit does; the smaller of the two counts.
            var limits: [(bytes: Int, source: String)] = []
            if let cgroup = HostIdentity.cgroupMemoryLimit() {
                limits.append((cgroup.bytes, "an eighth of the cgroup memory limit in \(cgroup.file)"))
            }
            if let vendorLimit = vendor.memoryLimitBytes {
                limits.append((vendorLimit, "an eighth of mem_usage_limit"))
            }
            let tightest = limits.min { $0.bytes < $1.bytes }
            options.maxInFlightBytes = HostIdentity.defaultInFlightBytes(memoryLimit: tightest?.bytes)
            options.inFlightCapSource = tightest.map { "\($0.source) (\($0.bytes >> 20) MiB), within 4 to 256 MiB" }
                ?? "the default: no memory limit found in /proc/self/cgroup or mem_usage_limit"
        }
        options.fullDrainMode = vendor.fullDrainMode
        options.localTimeZone = UTCOffset(seconds: environment.localTimeOffsetSeconds)
        options.useInotify = !parsed.flag("no-inotify")
        if let delay = try parsed.seconds("read-delay") {
            guard delay <= .seconds(10) else { throw UsageError(description: "--read-delay must be at most 10") }
            options.readDelay = delay
        }
        if let text = parsed.value("max-bytes-per-sec") {
            guard let rate = Int(text), rate > 0 else {
                throw UsageError(description: "--max-bytes-per-sec expects a positive whole number of bytes, got \"\(text)\"")
            }
            options.maxReadBytesPerSecond = rate
        } else if let rate = vendor.maxBytesPerSecond {
            options.maxReadBytesPerSecond = rate
        }
        if let text = parsed.value("sealing-threads") {
            guard let threads = Int(text), (0...64).contains(threads) else {
                throw UsageError(description: "--sealing-threads expects a whole number from 0 to 64, got \"\(text)\"")
            }
            options.sealingThreads = threads
        }
        if let text = parsed.value("http-port") {
            options.httpPort = try parsePort(text, what: "--http-port")
        } else if let text = environment.httpPort {
            options.httpPort = try parsePort(text, what: "TAILCAR_HTTP_PORT")
        } else {
            options.httpPort = defaultHTTPPort
            options.httpPortIsDefault = true
        }
        options.tags = environment.envTags
        options.sourceAddress = environment.podIP
        do {
            options.credentials = try CredentialSource.fromEnvironment(environment.lookup)?.origin
        } catch {
            throw UsageError(description: error.description)
        }
        try taskFiles(parsed, environment: environment, into: &options)
        return options
    }

    /// The Job handshake files: `--task-dir DIR` (or TAILCAR_TASK_DIR) names both, as the vendor's
    /// `/tasksite/cornerstone` and `/tasksite/tombstone`; `--cornerstone` and `--tombstone` (or
    /// TAILCAR_CORNERSTONE, TAILCAR_TOMBSTONE) name either one alone and win over the directory. With none
    /// of them, a mounted `/tasksite` directory (the vendor's examples) is the task directory.
    /// `--no-task-files` turns all of it off: the vendor's scripts (`ilogtaild start` ... `stop`) then own
    /// the handshake and the stop, and the agent must not exit on the tombstone before their `stop`.
    static func taskFiles(_ parsed: Arguments, environment: Environment, into options: inout AgentOptions) throws(UsageError) {
        if parsed.flag("no-task-files") {
            options.cornerstonePath = nil
            options.tombstonePath = nil
            return
        }
        let named = [parsed.value("task-dir"), parsed.value("cornerstone"), parsed.value("tombstone"),
                     environment.taskDirectory, environment.cornerstone, environment.tombstone]
        var vendorDirectory: String?
        if named.allSatisfy({ $0 == nil }), (try? FileStatus.of(path: vendorTaskDirectory))?.isDirectory == true {
            vendorDirectory = vendorTaskDirectory
        }
        let directory = parsed.value("task-dir") ?? environment.taskDirectory ?? vendorDirectory
        if let directory, directory.isEmpty { throw UsageError(description: "--task-dir (TAILCAR_TASK_DIR) is empty") }
        let base = directory.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        options.cornerstonePath = parsed.value("cornerstone") ?? environment.cornerstone ?? base.map { $0 + "/cornerstone" }
        options.tombstonePath = parsed.value("tombstone") ?? environment.tombstone ?? base.map { $0 + "/tombstone" }
        for (name, path) in [("cornerstone", options.cornerstonePath), ("tombstone", options.tombstonePath)] {
            if let path, path.isEmpty { throw UsageError(description: "--\(name) is empty") }
        }
    }

    /// Loads the configuration, printing notes and warnings as events and errors to stderr. Nil when it has
    /// errors.
    static func loadSettings(_ path: String, context: SidecarContext = SidecarContext(),
                             diagnostics: Diagnostics) -> AgentSettings? {
        let result = ConfigLoader.load(path: path, context: context)
        if let source = context.endpointSource, let endpoint = context.dataEndpoint {
            diagnostics.record(.configNote("SLS endpoint \(endpoint): \(source)"))
        }
        for note in result.notes { diagnostics.record(.configNote(note.description)) }
        for warning in result.warnings { diagnostics.record(.configWarning(warning.description)) }
        guard result.errors.isEmpty, let settings = result.settings else {
            for error in result.errors { printError(error.description) }
            return nil
        }
        return settings
    }
}

/// Where the vendor's Job examples mount the volume the cornerstone and tombstone are written to.
let vendorTaskDirectory = "/tasksite"

/// What `run` and `check-config` load when neither a path nor TAILCAR_CONFIG is given: a directory of
/// AliyunLogConfig resources, Logtail configs or iLogtail pipelines (a mounted ConfigMap).
let defaultConfigPath = "/etc/tailcar/conf.d"

/// The sidecar's identity and region from the environment; nil (and the error printed) when
/// ALIYUN_LOGTAIL_CONFIG cannot be used.
func sidecarContext(_ environment: Environment) -> SidecarContext? {
    do {
        var context = try SidecarContext.load(userDefinedID: environment.userDefinedID,
                                              logtailConfigPath: environment.logtailConfig,
                                              userDefinedIDFile: environment.userDefinedIDFile)
        context.allowsTestProcessors = environment.allowsTestProcessors
        return context
    } catch {
        printError(error.description)
        return nil
    }
}

/// The vendor agent's tuning from the environment and ALIYUN_LOGTAIL_CONFIG; nil (and the error printed)
/// when that file cannot be read.
func vendorSettings(_ environment: Environment) -> VendorAgentSettings? {
    do {
        return try VendorAgentSettings.load(variables: environment.vendorVariables,
                                            logtailConfigPath: environment.logtailConfig)
    } catch {
        printError(error.description)
        return nil
    }
}

/// Where `run` serves /healthz and /metrics and `status` asks, unless told otherwise: unusual enough not
/// to collide with the application container, which shares the pod's network namespace.
let defaultHTTPPort = 18765

/// "8080" -> 8080; "0" -> nil (no server); anything outside 0...65535 is a usage error naming `what`.
func parsePort(_ text: String, what: String) throws(UsageError) -> Int? {
    guard let port = Int(text), port >= 0, port <= 65535 else {
        throw UsageError(description: "\(what) expects a port number from 0 to 65535, got \"\(text)\"")
    }
    return port == 0 ? nil : port
}

func printError(_ message: String, newline: Bool = true) {
    var line = Array(message.utf8)
    if newline { line.append(0x0A) }
    line.withUnsafeBytes { _ = write(2, $0.baseAddress!, $0.count) }
}
