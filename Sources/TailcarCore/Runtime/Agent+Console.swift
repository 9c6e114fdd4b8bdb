// Agent+Console.swift
//
// The SLS console as a second source of pipelines beside the local files. ConsoleControl holds what each
// source contributes; the agent runs both (a console config named like a local pipeline is skipped).
// A poll whose configs differ from the running ones goes through the reload path (Agent+Reload.swift):
//
//   poll --configs changed--> loaded (a broken config keeps its previous version) --> cache written
//        --> applied with the local pipelines as soon as no retirement is waiting (offsets kept, a
//            removed config finishes delivering what it read)
//   poll --failed--> logged with the SLS error code and request id; the running set stays
//
// Owns that merge and the events; does not own the calls (ConsolePoller) or the mapping (ConsoleConfigLoader).

import Glibc

/// What the console contributes to a running agent.
public final class ConsoleControl {
    public struct Settings: Sendable {
        public var endpoint: HTTPEndpoint
        public var projects: [String]?
        public var controlInterval: Duration
        public var discoveryInterval: Duration

        public init(endpoint: HTTPEndpoint, projects: [String]?, controlInterval: Duration = .seconds(10),
                    discoveryInterval: Duration = .seconds(300)) {
            self.endpoint = endpoint
            self.projects = projects
            self.controlInterval = controlInterval
            self.discoveryInterval = discoveryInterval
        }
    }

    let settings: Settings
    let sidecar: SidecarContext
    let cachePath: String
    /// The pipelines of the local files, as last loaded.
    var localPipelines: [PipelineSettings]
    /// The configs the last round (or the cache) brought, as fetched: a round that brings the same set
    /// changes nothing and is not logged.
    private(set) var fetched: [ConsoleConfig] = []
    /// The console's configs in force and the pipelines made of them.
    private(set) var configs: [ConsoleConfig] = []
    private(set) var pipelines: [PipelineSettings] = []
    var pendingApply = false
    var poller: ConsolePoller?

    public init(settings: Settings, sidecar: SidecarContext, checkpointDirectory: String, localPipelines: [PipelineSettings]) {
        self.settings = settings
        self.sidecar = sidecar
        cachePath = ConsoleCache.path(in: checkpointDirectory)
        self.localPipelines = localPipelines
    }

    /// The cached set (the last good one of an earlier run), loaded; reported through `report`.
    public func loadCache(report: (AgentEvent) -> Void) -> [PipelineSettings] {
        let cached: [ConsoleConfig]?
        do { cached = try ConsoleCache.read(cachePath) } catch {
            report(.consoleCacheFailed(path: cachePath, reason: error.description))
            return []
        }
        guard let cached else { return [] }
        report(.consoleCacheLoaded(path: cachePath, configs: cached.count))
        _ = take(cached, report: report)
        return pipelines
    }

    /// Makes `fetched` the configs in force; a config that does not load keeps its previous version.
    /// True when the pipelines changed.
    func take(_ fetched: [ConsoleConfig], report: (AgentEvent) -> Void) -> Bool {
        self.fetched = fetched
        let result = ConsoleConfigLoader.load(fetched, context: sidecar, localNames: Set(localPipelines.map(\.name)))
        for note in result.notes { report(.configNote(note.description)) }
        for warning in result.warnings { report(.configWarning(warning.description)) }
        var kept = fetched.filter { !result.failed.contains($0.name) }
        var loaded = result.pipelines
        if !result.errors.isEmpty {
            let first = result.errors.prefix(5).map(\.description).joined(separator: "; ")
            report(.configReloadFailed(reason: "console config(s) \(result.failed) have \(result.errors.count) error(s), "
                                       + "their previous versions stay: \(first)"))
        }
        for name in result.failed {
            if let previous = configs.first(where: { $0.name == name }) { kept.append(previous) }
            if let previous = pipelines.first(where: { $0.name == name }) { loaded.append(previous) }
        }
        configs = kept
        let changed = loaded != pipelines
        pipelines = loaded
        return changed
    }

    /// The local pipelines changed (a file reload): console configs are loaded again, so a name that became
    /// local is skipped and one that stopped being local runs.
    func takeLocal(_ local: [PipelineSettings], report: (AgentEvent) -> Void) {
        localPipelines = local
        _ = take(fetched, report: report)
    }

    var allPipelines: [PipelineSettings] { localPipelines + pipelines }
}

extension Agent {
    /// Starts following the console (agent start).
    func startConsole() {
        guard let console, let credentials = sharedCredentials() else {
            if console != nil { report(.consolePollFailed(reason: "no AccessKey for the SLS console", code: "", retryInMilliseconds: 0)) }
            return
        }
        let settings = ConsolePoller.Settings(endpoint: console.settings.endpoint, projects: console.settings.projects,
                                              ids: console.sidecar.userDefinedIDs,
                                              controlInterval: console.settings.controlInterval,
                                              discoveryInterval: console.settings.discoveryInterval)
        let poller: ConsolePoller
        do {
            poller = try ConsolePoller(loop: loop, client: sharedHTTPClient(), credentials: credentials, settings: settings)
        } catch {
            report(.consolePollFailed(reason: error.description, code: "", retryInMilliseconds: 0))
            return
        }
        poller.onDiscovery = { [unowned self] projects, groups, matched in
            self.report(.consoleDiscovered(projects: projects, groups: groups, matched: matched.map { "\($0.project)/\($0.name)" }))
            if matched.isEmpty {
                self.report(.consoleNoGroup(ids: console.sidecar.userDefinedIDsDescription, projects: projects, groups: groups))
            }
        }
        poller.onRound = { [unowned self] outcome in self.consoleRoundEnded(outcome) }
        console.poller = poller
        poller.start()
    }

    private func consoleRoundEnded(_ outcome: ConsolePoller.Outcome) {
        guard let console else { return }
        switch outcome {
        case let .failed(error, wait):
            report(.consolePollFailed(reason: error.description, code: error.code ?? "", retryInMilliseconds: wait))
        case let .configs(configs, _, requests, failures):
            context.diagnostics.countConsolePoll(requests: requests, epochSeconds: Int(time(nil)))
            if failures > 0 { report(.consolePollRecovered(failures: failures)) }
            guard configs != console.fetched else { return }
            let changed = console.take(configs, report: report)
            do { try ConsoleCache.write(console.configs, to: console.cachePath) } catch {
                report(.consoleCacheFailed(path: console.cachePath, reason: error.description))
            }
            report(.consoleConfigsChanged(configs: console.configs.map(\.origin), requests: requests))
            guard changed else { return }
            console.pendingApply = true
            applyConsoleIfReady()
        }
    }

    /// Applies a console change once no retirement is waiting (poll tick and each console round).
    func applyConsoleIfReady() {
        guard let console, console.pendingApply, retiring.isEmpty, case .running = phase else { return }
        console.pendingApply = false
        apply(AgentSettings(pipelines: console.allPipelines))
    }

    /// A file reload's settings with the console's pipelines added.
    func mergingConsole(_ settings: AgentSettings) -> AgentSettings {
        guard let console else { return settings }
        console.takeLocal(settings.pipelines, report: report)
        return AgentSettings(pipelines: console.allPipelines)
    }

    func stopConsole() {
        console?.poller?.stop()
        console?.poller = nil
    }
}
